"""Team-wide notices (a visitor's line, a chat joining or leaving the queue, a ticket), coalesced.

Many of these are raised by anonymous requests: a page view, a chat start, the offline form, an
inbound mail. Posting each one to every agent socket at once would let one request cause as many
posts as there are agents. Instead the request only queues the notice: one SQS SendMessage, whatever
the number of agents. The drain (`app.drain_job_queue`, fed by Lambda's SQS event source with a
batching window of WINDOW_S; the queue is shared with webhook deliveries, functions/api/queued_jobs.py)
keeps the newest notice per subject, then posts ONE `notices` frame per
agent connection holding all of them. However many anonymous requests arrive, agents get at most one
frame per drain, and at most MAX_CONCURRENCY drains run at once.

AWS: with a batching window Lambda gathers up to BatchSize records (at most 10,000 for a standard
queue) for up to MaximumBatchingWindowInSeconds before invoking; FIFO queues have no batching window
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html). `ScalingConfig`'s
MaximumConcurrency is 2 at least
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-eventsourcemapping-scalingconfig.html).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from typing import Any

from functions.core import aws, clock
from functions.realtime import broadcast, connections, push

log = logging.getLogger(__name__)

# The job queue's event source is set from these three (app.py).
WINDOW_S = 2  # how long a notice may wait for others to share its frame
BATCH_SIZE = 1000  # records per drain; more than 10 needs a window of 1 s or more
MAX_CONCURRENCY = 2  # drains at once (Lambda's lowest maximum)
JOB_KIND = "notice"  # what the shared job queue's drain knows a notice by
# A notice older than this is dropped, not posted: the console has re-read its lists by then. (The
# queue keeps messages for days, for the webhook deliveries it also carries.)
STALE_AFTER_S = 300
# A frame to a connection stays well inside API Gateway's 128 KB message; notices that don't fit are
# left out (newest kept), and the console's periodic re-read of its lists shows them.
MAX_FRAME_BYTES = 96 * 1024


def queue_url() -> str | None:
    return os.environ.get("AGENT_NOTICE_QUEUE_URL") or None


def tell(subject: str, frame: dict[str, Any], *, exclude: Iterable[str] = ()) -> None:
    """Queues `frame` for every agent's console. `subject` names what it is about ("visitor:v_1"):
    a later notice on the same subject replaces an earlier one still waiting. `exclude`: connections
    that already heard it directly (the chat's own agents).

    Never raises: a notice is a courtesy, the change itself is stored (failures are logged).
    """
    url = queue_url()
    if url is None:
        log.warning("AGENT_NOTICE_QUEUE_URL is not set; the %s notice is not sent", subject)
        return
    body = {"kind": JOB_KIND, "subject": subject, "at": clock.now_iso(), "frame": frame}
    if exclude:
        body["exclude"] = sorted(set(exclude))
    try:
        aws.client("sqs").send_message(QueueUrl=url, MessageBody=push.encode(body).decode())
    except Exception:
        log.exception("could not queue the %s notice", subject)


def coalesce(bodies: Iterable[str]) -> list[dict[str, Any]]:
    """The newest notice per subject, oldest first. Unreadable records are dropped (and logged)."""
    newest: dict[str, dict[str, Any]] = {}
    for n, raw in enumerate(bodies):
        try:
            notice = json.loads(raw)
            subject, at, frame = notice["subject"], notice["at"], notice["frame"]
            if not isinstance(subject, str) or not isinstance(at, str) or not isinstance(frame, dict):
                raise TypeError("wrong types")
        except (ValueError, KeyError, TypeError):
            log.warning("dropping an unreadable notice: %.200r", raw)
            continue
        # A standard queue may deliver out of order: the newest by time wins, ties by arrival.
        order = (at, n)
        kept = newest.get(subject)
        if kept is None or order >= kept["_order"]:
            newest[subject] = {**notice, "_order": order}
    return sorted(newest.values(), key=lambda notice: notice["_order"])


def _fit(notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest notices whose frames fit in one post, oldest first."""
    kept: list[dict[str, Any]] = []
    size = 64  # the envelope
    for notice in reversed(notices):
        size += len(push.encode(notice["frame"])) + 1
        if size > MAX_FRAME_BYTES:
            log.warning("%d notices left out of a full frame", len(notices) - len(kept))
            break
        kept.append(notice)
    return kept[::-1]


def drain(bodies: Iterable[str]) -> dict[str, int]:
    """One batch of queued notices: one Query per shard of agent connections, one post per connection."""
    fresh_since = clock.iso_ago(STALE_AFTER_S)
    notices = _fit([notice for notice in coalesce(bodies) if notice["at"] >= fresh_since])
    if not notices:
        return {"notices": 0, "posts": 0}
    # Most connections hear every notice; a chat's own agents skip the ones they heard directly.
    groups: dict[tuple[int, ...], list[str]] = {}
    for connection_id in connections.agent_connection_ids():
        shown = tuple(i for i, n in enumerate(notices) if connection_id not in (n.get("exclude") or ()))
        if shown:
            groups.setdefault(shown, []).append(connection_id)
    for shown, ids in groups.items():
        broadcast.to_connections(ids, {"type": "notices", "frames": [notices[i]["frame"] for i in shown]})
    return {"notices": len(notices), "posts": sum(len(ids) for ids in groups.values())}
