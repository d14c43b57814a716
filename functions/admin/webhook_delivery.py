"""The webhook deliveries' consumer: POSTs each delivery, signed, logs it, and retries failures through SQS.

A failed attempt (no answer, or a status outside 2xx) goes back on the queue with a growing
`DelaySeconds` (10 s, 1 min, 5 min, 15 min): SQS holds the waiting, not a sleeping Lambda. After
the fifth attempt the delivery is logged as given up. If this function itself crashes, Lambda
retries the batch and the queue's redrive policy moves a message that keeps failing to the DLQ.

Deliveries share the job queue and its event source with the agents' notices (functions/api/queued_jobs.py),
whose batches are large: a drain delivers at most PER_DRAIN of them, PARALLEL at a time, so it ends
well within the function's timeout even when every receiver times out, and puts the rest back on
the queue as they were (not an attempt).

The log records why an attempt failed as a category (functions/admin/outbound.py: refused_address,
dns_failure, timeout, connect_failed, tls_error, http_status), never the error's text.

Receivers verify `X-Charla-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact request body
under the webhook's secret, and may de-duplicate on `X-Charla-Delivery`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from functions.admin import outbound, webhooks
from functions.core import aws, clock
from functions.models import WEBHOOK, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

BACKOFF_S = (10, 60, 300, 900)  # before attempts 2, 3, 4 and 5; 900 s is SQS's longest delay
MAX_ATTEMPTS = len(BACKOFF_S) + 1
TIMEOUT_S = 5
PER_DRAIN = 40  # at most 2 rounds of PARALLEL: ~10 s if every receiver times out, in a 30 s function
PARALLEL = 20
LOG_TTL = timedelta(days=30)
# Only for tests through the local stack: CHARLA_WEBHOOK_BACKOFF_SCALE=0.01 turns the delays into
# 0 s, 1 s, 3 s, 9 s. Values above 1 are ignored, so it can only make retries come sooner.
SCALE_VARIABLE = "CHARLA_WEBHOOK_BACKOFF_SCALE"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delay_before(attempt: int) -> int:
    """Seconds to wait before `attempt` (2 and up)."""
    try:
        scale = min(max(float(os.environ.get(SCALE_VARIABLE, "1")), 0.0), 1.0)
    except ValueError:
        scale = 1.0
    return min(900, round(BACKOFF_S[min(attempt, MAX_ATTEMPTS) - 2] * scale))


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    """(status code or None, failure category or None), through functions/admin/outbound.py: resolved
    once, every address checked, connected to a checked address, no redirect followed."""
    answer = outbound.post(url, body, headers, TIMEOUT_S)
    return answer.status, answer.category


def deliver_batch(bodies: Iterable[str]) -> list[str]:
    """Handles one batch of queued deliveries; returns each one's outcome. The first PER_DRAIN run in
    parallel; the rest are put back on the queue untried (`deferred`), before any is delivered, so a
    failure to put them back fails the batch with nothing sent twice."""
    items = list(bodies)
    now, later = items[:PER_DRAIN], items[PER_DRAIN:]
    if later:
        _defer(later)
    if len(now) <= 1:
        outcomes = [deliver(b) for b in now]
    else:
        with ThreadPoolExecutor(max_workers=min(len(now), PARALLEL)) as pool:
            outcomes = list(pool.map(deliver, now))
    return outcomes + ["deferred"] * len(later)


def _defer(bodies: list[str]) -> None:
    url = _queue_url()
    sqs = aws.client("sqs")
    for start in range(0, len(bodies), 10):  # SQS batches hold at most 10 messages
        entries = [{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies[start : start + 10])]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
        if failed:
            raise RuntimeError(f"{len(failed)} deferred webhook deliveries not queued: {failed[0].get('Message')}")


def deliver(raw: str) -> str:
    """One attempt of one delivery: delivered, retrying, gave_up or dropped."""
    try:
        job = json.loads(raw)
        webhook_id, delivery_id, event = job["webhook_id"], job["delivery_id"], job["event"]
        attempt, body = int(job["attempt"]), str(job["body"]).encode()
    except (ValueError, KeyError, TypeError):
        log.error("dropping a malformed webhook job: %.200s", raw)
        return "dropped"
    try:
        hook = Webhook.get(WEBHOOK, webhook_id)
    except Webhook.DoesNotExist:
        return "dropped"  # deleted since: its queued deliveries die quietly
    if not hook.active:
        return "dropped"
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Charla-Webhooks/1",
        "X-Charla-Event": event,
        "X-Charla-Delivery": delivery_id,
        "X-Charla-Attempt": str(attempt),
        "X-Charla-Signature": signature(hook.secret, body),
    }
    started = time.monotonic()
    status, error = post(hook.url, body, headers)
    elapsed_ms = int((time.monotonic() - started) * 1000)
    if error is None:
        outcome = "delivered"
    elif attempt < MAX_ATTEMPTS:
        outcome = "retrying"
        _requeue({**job, "attempt": attempt + 1}, delay_before(attempt + 1))
    else:
        outcome = "gave_up"
    _record(webhook_id, delivery_id, event, attempt, status, error, outcome, elapsed_ms)
    return outcome


def _queue_url() -> str:
    url = webhooks.queue_url()
    if url is None:
        raise RuntimeError("WEBHOOK_QUEUE_URL is not set")
    return url


def _requeue(job: dict[str, Any], delay: int) -> None:
    # A failure here raises out of the handler: Lambda retries the batch, which is the right thing.
    aws.client("sqs").send_message(QueueUrl=_queue_url(), MessageBody=json.dumps(job), DelaySeconds=delay)


def _record(
    webhook_id: str,
    delivery_id: str,
    event: str,
    attempt: int,
    status: int | None,
    error: str | None,
    outcome: str,
    elapsed_ms: int,
) -> None:
    now = clock.now()
    ts = clock.iso(now)
    WebhookDelivery(
        webhook_id,
        f"{ts}#{delivery_id}#{attempt}#{secrets.token_hex(2)}",
        delivery_id=delivery_id,
        event=event,
        attempt=attempt,
        status_code=status,
        outcome=outcome,
        error=error,
        duration_ms=elapsed_ms,
        ts=ts,
        expires_at=now + LOG_TTL,
    ).save()
