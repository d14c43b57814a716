"""A scheduled handler pushes to WebSocket clients in a process where no WebSocket handler has run.

Chalice's own client is configured only by a WebSocket event, so in-process tests hide this bug;
this one runs the sweep in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = r"""
import json, os
from datetime import timedelta
from urllib.parse import quote
import time_machine
from moto import mock_aws
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

with mock_aws():
    from functions.team import agents
    from functions.chat import chats
    from functions.realtime import connections
    from functions.core import tables
    from functions.visitors import identity
    from functions.core.principals import Principal
    tables.create_all()
    agents.ensure_profile("a1", "ana@example.com", "Ana", accepting=True)
    ana = Principal("agent", "a1", "Ana", "agent")
    connections.register("agent-conn=", ana, "203.0.113.1")
    agents.connected("a1")
    visitor = Principal("visitor", identity.create_identity()["visitor_id"])
    connections.register("visitor-conn=", visitor, "203.0.113.2")
    chats.start(visitor, None, None)
    import app  # the Lambda's module, as a scheduled invocation would load it
    with time_machine.travel(timedelta(minutes=31)):
        for conn in ("agent-conn=", "visitor-conn="):
            connections.touch(conn)  # keep both sockets alive: only the chat is idle
        result = app.sweep({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
                            "account": "123456789012", "time": "2026-11-22T12:00:00Z", "region": "us-east-1",
                            "resources": [], "detail": {}}, None)
    backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
    received = backend.connections[quote("visitor-conn=", safe="")].data.decode()
    print(json.dumps({"result": result, "visitor_received": received}))
"""


def test_the_sweep_pushes_without_any_websocket_handler_having_run():
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "WS_MANAGEMENT_URL": "https://abc123.execute-api.us-east-1.amazonaws.com",
        "PYTHONPATH": str(ROOT),
    }
    env = {k: v for k, v in env.items() if not k.startswith("AWS_ENDPOINT_URL")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout.strip().splitlines()[-1])
    assert output["result"]["idle_chats"] == 1
    assert "The chat closed after 30 minutes without messages." in output["visitor_received"]
