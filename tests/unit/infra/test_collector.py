from __future__ import annotations

import gc

from infra.local import collector


def test_full_collections_become_rare_and_young_ones_carry_on():
    before = gc.get_threshold()
    try:
        collector.fewer_full_collections()
        assert gc.get_threshold() == (before[0], before[1], collector.FULL_EVERY)
        assert gc.get_freeze_count() > 0  # what was loaded is no longer walked
        cycle: list = []
        cycle.append(cycle)
        del cycle
        assert gc.collect(0) >= 1  # a young cycle is still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
