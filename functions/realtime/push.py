"""Pushes frames to WebSocket connections through API Gateway's management API.

The endpoint comes from WS_MANAGEMENT_URL in every handler, so a scheduled or REST handler pushes
exactly like a WebSocket one (Chalice's own client only works after a WebSocket event configured it).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from functions.core import aws

log = logging.getLogger(__name__)

_pool: dict[str, ThreadPoolExecutor] = {}


def _client() -> Any:
    return aws.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_MANAGEMENT_URL"])


def encode(frame: dict[str, Any]) -> bytes:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()


def send(connection_id: str, frame: dict[str, Any]) -> bool:
    """Posts one frame. False means the connection is gone and should be forgotten."""
    client = _client()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=encode(frame))
        return True
    except client.exceptions.GoneException:  # a ClientError subclass, so it must come first
        return False
    except ClientError as error:
        log.warning("post_to_connection %s failed: %s", connection_id, error)
        return True


def send_many(connection_ids: Iterable[str], frame: dict[str, Any]) -> list[str]:
    """Posts to every connection in parallel; returns the ones that are gone."""
    ids = list(dict.fromkeys(connection_ids))
    if len(ids) <= 1:
        return [c for c in ids if not send(c, frame)]
    pool = _pool.get("pool") or _pool.setdefault("pool", ThreadPoolExecutor(max_workers=32))
    results = pool.map(lambda c: (c, send(c, frame)), ids)
    return [c for c, alive in results if not alive]


def close(connection_id: str) -> None:
    client = _client()
    try:
        client.delete_connection(ConnectionId=connection_id)
    except client.exceptions.GoneException:
        pass
