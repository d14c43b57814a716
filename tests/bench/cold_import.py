"""cold_import_ms: importing app.py in a fresh interpreter, against a bare Chalice + PynamoDB + boto3 app.

Each sample is a new Python process that times only the `import app` statement (interpreter start-up
is the same for both and would dilute the ratio). Runs alternate A/B so that whatever else this
machine is doing lands on both sides; the figure is the median of the per-pair ratios. One
discarded run of each first leaves both with warm bytecode caches, so neither pays for compiling.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from tests.bench.report import Check, Figure

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).resolve().parent / "baseline_app"
RUNS = 21
_PROBE = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); import app; "
    "print((time.perf_counter() - t) * 1000)"
)


def _env() -> dict[str, str]:
    # What a Lambda has: a region, no endpoint overrides, nothing pointing at a local stack.
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1")
    return env


def import_ms(folder: Path) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(folder)],
        cwd=folder,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing {folder.name}/app.py failed:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def run() -> list[Figure]:
    import_ms(ROOT)
    import_ms(BASELINE)
    app_ms, base_ms, ratios = [], [], []
    for n in range(RUNS):
        # Alternate which goes first too, so neither always follows the other.
        if n % 2:
            b, a = import_ms(BASELINE), import_ms(ROOT)
        else:
            a, b = import_ms(ROOT), import_ms(BASELINE)
        app_ms.append(a)
        base_ms.append(b)
        ratios.append(a / b)
    ratio = round(statistics.median(ratios), 3)
    value = {
        "app": round(statistics.median(app_ms), 1),
        "baseline": round(statistics.median(base_ms), 1),
        "ratio": ratio,
    }
    spread = f"ratio min {min(ratios):.2f}, max {max(ratios):.2f}"
    return [
        Figure(
            "cold_import_ms",
            value,
            checks=[Check("median ratio", ratio, 1.2)],
            details=[f"{RUNS} runs each, alternating; {spread}"],
        )
    ]
