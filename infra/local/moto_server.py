"""The embedded moto server that stands in for DynamoDB, Cognito, S3, SES and SQS."""

from __future__ import annotations

import logging
import urllib.request

from moto.server import ThreadedMotoServer

from infra.local import moto_isolation

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


class MotoServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._server: ThreadedMotoServer | None = None
        self.url = ""

    def start(self) -> str:
        # werkzeug logs every request at INFO; the app's own logs are what a developer reads.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # Lambda handlers run concurrently here, as on AWS, so moto needs DynamoDB's isolation.
        moto_isolation.install()
        self._server = ThreadedMotoServer(ip_address=self._host, port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        # moto's backends are process-global: a second stack in the same test run would
        # otherwise inherit the first one's tables and users.
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        return self.url

    def endpoint_environment(self) -> dict[str, str | None]:
        return {name: self.url for name in ENDPOINT_VARIABLES}

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
