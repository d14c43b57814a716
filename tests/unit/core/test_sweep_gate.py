"""The sweep gate's bookkeeping: announcements, and when the sweep may record the installation idle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from functions.core import sweep_gate
from functions.core.instance_cache import as_instance

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def at(minutes: float) -> time_machine.travel:
    return time_machine.travel(START + timedelta(minutes=minutes), tick=False)


def test_an_instance_announces_at_most_once_a_minute_and_every_instance_for_itself(aws):
    with at(0):
        sweep_gate.work_coming()
        sweep_gate.work_coming()
        with as_instance(object()):
            sweep_gate.work_coming()
    assert sweep_gate.read().count == 2
    with at(1):
        sweep_gate.work_coming()
    with at(0.5):  # a clock that went back: announced again, never skipped
        sweep_gate.work_coming()
    assert sweep_gate.read().count == 4


def test_idle_is_recorded_only_once_the_last_announcement_is_five_minutes_old(aws):
    with at(0):
        sweep_gate.work_coming()
    with at(4.9):
        gate = sweep_gate.read()
        assert not gate.idle and not gate.quiet
        assert not sweep_gate.record_idle(gate)
    with at(5):
        assert sweep_gate.record_idle(sweep_gate.read())
        assert sweep_gate.read().idle


def test_work_announced_after_the_sweep_read_the_gate_makes_its_record_fail(aws):
    with at(0):
        sweep_gate.work_coming()
    with at(10):
        gate = sweep_gate.read()
        with as_instance(object()):
            sweep_gate.work_coming()
        assert not sweep_gate.record_idle(gate)
        assert not sweep_gate.read().idle


def test_a_new_installation_is_swept_until_a_sweep_records_it_idle(aws):
    gate = sweep_gate.read()
    assert not gate.idle and gate.quiet
    assert sweep_gate.record_idle(gate)
    assert sweep_gate.read().idle
    with as_instance(object()):
        sweep_gate.work_coming()
    assert not sweep_gate.read().idle
