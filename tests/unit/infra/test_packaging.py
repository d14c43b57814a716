"""`chalice package` ships app.py and all of functions/, and the app imports from the zip alone."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[3]
# What the Lambda Python runtime provides besides the standard library.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run(
        [str(chalice), "package", "--stage", "dev", str(out)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return out / "deployment.zip"


def test_the_zip_holds_app_py_and_every_module_of_functions(package):
    names = set(zipfile.ZipFile(package).namelist())
    expected = {f"functions/{p.relative_to(ROOT / 'functions').as_posix()}" for p in (ROOT / "functions").rglob("*.py")}
    assert "app.py" in names
    assert expected <= names, expected - names


def test_the_packaged_app_imports_with_only_the_zip_and_the_runtime_sdk(package, tmp_path):
    unpacked = tmp_path / "task"
    zipfile.ZipFile(package).extractall(unpacked)
    sdk = tmp_path / "runtime"
    sdk.mkdir()
    site = Path(boto3.__file__).resolve().parents[1]
    for name in RUNTIME_SDK:
        (sdk / name).symlink_to(site / name)
    probe = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import app; "
        "assert app.app.app_name == 'charla'; "
        "assert set(app.app.websocket_handlers) == {'$connect', '$default', '$disconnect'}; "
        "import functions.chat.chats; assert functions.chat.chats.__file__.startswith(sys.argv[1]); print('ok')"
    )
    # -I -S: no user site, no site-packages: only the standard library, the zip, and the SDK.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, str(unpacked), str(sdk)],
        capture_output=True,
        text=True,
        env={"AWS_REGION": "us-east-1", "PATH": os.environ["PATH"]},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
