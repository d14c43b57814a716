"""moto in a process of its own: `python -m infra.local.moto_process HOST [DATA_FOLDER]`.

moto holds the GIL for most of each call it serves. Sharing one interpreter with the gateways and
the Lambda handlers, it took about 60 % of the local stack's CPU and was the first thing to
saturate; in its own process it has the machine's other core.

The process prints one JSON line, `{"port": n, "dynamodb_port": m}`, once it serves (DynamoDB's calls
go to the second port, `infra/local/dynamodb_lane.py`), and stops when its stdin closes (so
it also stops when its parent dies). Beside moto's own routes it answers `GET SENT_MAIL_PATH` with the
mail moto's SES has accepted, described as the outbox shows it, since that list lives in this process.

Given a data folder, it loads moto's state from there before serving and keeps saving it
(`infra/local/snapshot.py`). It ignores Ctrl-C, which the terminal sends the parent too: the parent
first closes its WebSockets, whose `$disconnect` handlers still write here, and then closes stdin.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from infra.local import collector, moto_server, outbox, sampler, snapshot
from infra.local.dynamodb_lane import DynamoDBLane

SENT_MAIL_PATH = "/_charla/sent-mail.json"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class WithSentMail:
    """moto's WSGI app, plus the one route the stack's outbox reads."""

    def __init__(self, moto_app: Any) -> None:
        self._moto_app = moto_app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != SENT_MAIL_PATH:
            return self._moto_app(environ, start_response)  # type: ignore[no-any-return]
        region = environ.get("HTTP_X_CHARLA_REGION", "us-east-1")
        body = json.dumps({"messages": outbox.Outbox(region).messages()}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    moto_server.install_patches()
    data = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    restored = False
    if data is not None:
        try:
            restored = snapshot.load(data)
        except snapshot.SnapshotError as error:
            print(json.dumps({"error": str(error)}), flush=True)
            sys.exit(1)
    app = WithSentMail(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, 0, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    lane = DynamoDBLane(host).start()
    collector.fewer_full_collections()
    sampler.start_from_environment("moto")  # off unless CHARLA_PROFILE_DIR is set
    saver = snapshot.Saver(data) if data is not None else None
    if saver is not None:
        saver.start()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))  # saved below
    ready = {"port": server.server_address[1], "dynamodb_port": lane.port, "restored": restored}
    print(json.dumps(ready), flush=True)
    try:
        sys.stdin.read()
    finally:
        lane.stop()
        server.shutdown()
        if saver is not None:
            saver.stop()


if __name__ == "__main__":
    main()
