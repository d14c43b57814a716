"""The job queue's drain: one SQS queue and one event source carry both kinds of background work.

An SQS event source costs requests even while its queue is empty: Lambda long-polls it, starting
with five concurrent batches and "as few as 2" when traffic is low, but not below five when the
source has a maximum concurrency, as this one has
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). Five pollers, each
receive waiting 20 s (about 15 empty receives a minute, as operators measure them:
https://github.com/getlift/lift/issues/132), make about 650,000 receives a month; two event
sources would make 1.3 million, over SQS's free million (https://aws.amazon.com/sqs/pricing/). So
the agents' notices and the webhook deliveries share one queue and one event source, and each
message's body names its kind.

The event source is shaped for the notices (a batching window, a large batch, at most two drains at
once: functions/realtime/agent_notices.py); webhook deliveries ride along, at most
`webhook_delivery.PER_DRAIN` of them per drain, the rest put back on the queue untried.

A batch is retried whole when the drain raises, so only the webhooks may raise (a delivery that
could not be requeued: functions/admin/webhook_delivery.py), never the notices: a notice is a
courtesy, and failing the batch for it would deliver its webhooks again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from functions.admin import webhook_delivery, webhooks
from functions.realtime import agent_notices

log = logging.getLogger(__name__)


def kind_of(raw: str) -> str | None:
    try:
        kind = json.loads(raw).get("kind")
    except (ValueError, AttributeError):
        return None
    return kind if isinstance(kind, str) else None


def drain(bodies: Iterable[str]) -> dict[str, Any]:
    """One batch of the job queue: the notices first (agents are waiting on them), then the webhooks."""
    notices: list[str] = []
    deliveries: list[str] = []
    for raw in bodies:
        kind = kind_of(raw)
        if kind == agent_notices.JOB_KIND:
            notices.append(raw)
        elif kind == webhooks.JOB_KIND:
            deliveries.append(raw)
        else:
            log.warning("dropping a queued job of unknown kind: %.200r", raw)
    counts: dict[str, Any] = {"notices": 0, "posts": 0}
    if notices:
        try:
            counts = agent_notices.drain(notices)
        except Exception:
            log.exception("%d agent notices not posted", len(notices))
    outcomes = webhook_delivery.deliver_batch(deliveries) if deliveries else []
    return {**counts, "webhooks": outcomes}
