"""`python -m infra.local [--fresh]`: serve the local stack until Ctrl-C.

Its data is kept in CHARLA_DATA_DIR (default `.local/data`) across restarts; `--fresh` (`make run
FRESH=1`) forgets it first.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from infra.local import collector, ses_sandbox
from infra.local.stack import REPO_ROOT, LocalStack

DATA_FOLDER = REPO_ROOT / ".local" / "data"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("pynamodb", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    data = Path(os.environ.get("CHARLA_DATA_DIR") or DATA_FOLDER)
    fresh = "--fresh" in sys.argv[1:]
    # moto gets a core of its own (infra/local/moto_process.py)
    stack = LocalStack(moto_process=True, data=data, fresh=fresh)
    print("Starting Charla's local stack ...", flush=True)
    try:
        stack.start()
    except OSError as error:
        print(f"{error}\nSet PORT to serve elsewhere (PORT=8001 make run).", file=sys.stderr)
        return 1
    except RuntimeError as error:  # a data folder that can't be read, among others
        print(f"{error}\n`make run FRESH=1` starts with no data.", file=sys.stderr)
        return 1
    collector.fewer_full_collections()  # every Lambda's objects share this one heap
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    ses_mode = (
        "production access: mail goes to any address"
        if ses_sandbox.production_access()
        else "sandbox, as a new AWS account: mail only to verified addresses (@charla.local);\n"
        f"                 {ses_sandbox.PRODUCTION_ACCESS_VARIABLE}=1 make run lifts it"
    )
    print(
        "\n"
        f"  Demo website   {stack.demo_url}/   (its own origin, as a customer's site; {stack.base_url}/ leads there)\n"
        f"  Agent console  {stack.console_url}\n"
        f"  REST API       {stack.api_url}\n"
        f"  WebSocket      {stack.ws_url}\n"
        f"  Inbound mail   SMTP {stack.host}:{stack.smtp_port} (to support@charla.local)\n"
        f"  Sent mail      {stack.base_url}/_local/outbox\n"
        f"  SES            {ses_mode}\n"
        f"  (moto          {stack.moto_url})\n"
        f"  Data           {stack.data} ({'kept from the last run' if stack.restored else 'new'}; "
        "make run FRESH=1 starts fresh)\n"
        "\n"
        f"  Sign in as     {stack.demo_email}\n"
        f"  Password       {stack.demo_password}\n"
        "\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        print("Stopping ...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
