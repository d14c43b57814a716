"""The embedded moto server that stands in for DynamoDB, Cognito, S3, SES and SQS.

It runs either on a thread of this process, which tests prefer (they can look into moto's
backends directly), or in a process of its own (`infra/local/moto_process.py`), which `make run`
and the e2e benchmark use so that moto and the Lambda handlers don't share one GIL.

Given a data folder, moto's state is loaded from it at start and saved to it while it runs and at
stop (`infra/local/snapshot.py`); `restored` says whether there was a state to load.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from moto.server import ThreadedMotoServer

from infra.local import (
    moto_cognito,
    moto_isolation,
    moto_key_limits,
    moto_speedups,
    s3_post_policy,
    ses_sandbox,
    snapshot,
)

# Environment the AWS SDKs read. Service endpoints are keyed by botocore's service id, so
# Cognito's is ..._COGNITO_IDENTITY_PROVIDER; "..._COGNITO_IDP" would be silently ignored.
ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SES",
    "AWS_ENDPOINT_URL_SESV2",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
)
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", *, own_process: bool = False, data: Path | None = None) -> None:
        self._host = host
        self.own_process = own_process
        self._data = data
        self._saver: snapshot.Saver | None = None
        self.restored = False
        self._server: ThreadedMotoServer | None = None
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.dynamodb_url = ""  # where DynamoDB's calls go: moto's own port, or its DynamoDB lane

    def start(self) -> str:
        if self.own_process:
            self.url = self._start_process()
            return self.url
        install_patches()
        self._server = ThreadedMotoServer(ip_address=self._host, port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = self.dynamodb_url = f"http://{host}:{port}"
        # moto's backends are process-global: a second stack in the same test run would
        # otherwise inherit the first one's tables and users.
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        if self._data is not None:
            self.restored = snapshot.load(self._data)
            self._saver = snapshot.Saver(self._data)
            self._saver.start()
        return self.url

    def _start_process(self) -> str:
        data = [str(self._data)] if self._data is not None else []
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.moto_process", self._host, *data],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._process = process
        assert process.stdout is not None
        line: list[str] = []
        # readline() on a thread: a child that hangs while starting must not hang the stack.
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(START_TIMEOUT_S)
        started = json.loads(line[0]) if line and line[0].strip() else {}
        if "port" not in started:
            self.stop()
            raise RuntimeError(started.get("error") or "moto did not start in its own process")
        self.restored = bool(started.get("restored"))
        self.dynamodb_url = f"http://{self._host}:{started['dynamodb_port']}"
        return f"http://{self._host}:{started['port']}"

    def endpoint_environment(self) -> dict[str, str | None]:
        endpoints: dict[str, str | None] = {name: self.url for name in ENDPOINT_VARIABLES}
        endpoints["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_url
        return endpoints

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._saver is not None:
            saver, self._saver = self._saver, None
            saver.stop()
        if self._process is not None:
            process, self._process = self._process, None
            if process.stdin is not None:
                process.stdin.close()  # the child stops when its stdin closes
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def install_patches() -> None:
    """Makes the moto served from this process as strict as AWS, and quiet."""
    # werkzeug logs every request at INFO; the app's own logs are what a developer reads.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Lambda handlers run concurrently here, as on AWS, so moto needs DynamoDB's isolation.
    moto_isolation.install()
    moto_speedups.install()
    s3_post_policy.install()
    moto_cognito.install()
    moto_key_limits.install()  # DynamoDB's key limits on every call, not only on writes
    ses_sandbox.install()
