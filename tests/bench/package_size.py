"""package_zip_bytes: the Lambda zip from `make package`, whole and without the AWS SDK.

The Lambda runtime brings boto3 and its dependencies, but PynamoDB pulls them into the zip
anyway; the budget is about what Charla adds. The zip is rebuilt first when it is missing or
older than any source that goes into it.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

from tests.bench.report import MB, Check, Figure

ROOT = Path(__file__).resolve().parents[2]
ZIP = ROOT / "build" / "deployment.zip"
# Top-level names in the zip that belong to the SDK the runtime provides, and their dist-info.
SDK = ("botocore", "boto3", "s3transfer", "urllib3", "jmespath", "dateutil", "six")
_SDK_DISTS = ("botocore", "boto3", "s3transfer", "urllib3", "jmespath", "python_dateutil", "six")


def is_sdk(name: str) -> bool:
    top = name.split("/", 1)[0]
    if top in SDK or top == "six.py":
        return True
    dist = re.match(r"^([A-Za-z0-9_.]+?)-[^/]*\.(dist-info|egg-info|data)$", top)
    return dist is not None and dist.group(1).replace("-", "_").lower() in _SDK_DISTS


def _sources() -> list[Path]:
    found = [ROOT / "app.py", ROOT / "requirements.txt", ROOT / ".chalice" / "config.json"]
    for folder in ("functions", "vendor", "chalicelib", "infra/aws"):
        found += [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return [p for p in found if p.exists()]


def stale() -> bool:
    if not ZIP.exists():
        return True
    built = ZIP.stat().st_mtime
    return any(p.stat().st_mtime > built for p in _sources())


def run() -> list[Figure]:
    rebuilt = stale()
    if rebuilt:
        result = subprocess.run(["make", "package"], cwd=ROOT, capture_output=True, text=True, timeout=600)
        if result.returncode != 0 or not ZIP.exists():
            raise RuntimeError(f"make package failed:\n{(result.stdout + result.stderr)[-3000:]}")
    with zipfile.ZipFile(ZIP) as archive:
        entries = archive.infolist()
    own = sum(e.compress_size for e in entries if not is_sdk(e.filename))
    total = ZIP.stat().st_size
    return [
        Figure(
            "package_zip_bytes",
            {"total": total, "without_sdk": own},
            checks=[Check("without_sdk bytes", own, MB)],
            details=[
                f"{'rebuilt with make package' if rebuilt else 'build/deployment.zip was up to date'}; "
                f"{len(entries)} entries, {sum(not is_sdk(e.filename) for e in entries)} outside the SDK",
            ],
        )
    ]
