"""Webhook registrations, and `emit()`: one SQS message per webhook that wants an event.

Delivery happens elsewhere (functions/admin/webhook_delivery.py, the queue's consumer), so emitting costs
the chat path one SQS call when someone listens and nothing at all when nobody does: the list of
webhooks is cached for at most 60 s per Lambda instance, like the settings.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from typing import Any

from functions.admin import outbound
from functions.core import aws, clock, data, text
from functions.core.errors import CharlaError, bad_request
from functions.core.instance_cache import InstanceCache
from functions.core.principals import Principal
from functions.models import WEBHOOK, Webhook, WebhookDelivery
from functions.tags import catalog

log = logging.getLogger(__name__)

EVENTS = ("chat.started", "chat.ended", "chat.rated", "message.created", "ticket.created", "ticket.updated")
MAX_WEBHOOKS = 20
MAX_URL = 2000
PAGE = 50

_cache: InstanceCache[list[Webhook]] = InstanceCache(lambda: list(Webhook.query(WEBHOOK)))


@aws.on_reset
def forget() -> None:
    _cache.forget()


def _all() -> list[Webhook]:
    return list(_cache.get())


# --- registrations -------------------------------------------------------------------------------


def check_url(value: object) -> str:
    """The URL as given, if Charla may call it (functions/admin/outbound.py has the rule)."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        raise bad_request(f"`url` must be a URL of at most {MAX_URL} characters.")
    outbound.target(value)
    return value


def check_events(value: object) -> list[str]:
    if not isinstance(value, list) or not value or any(e not in EVENTS for e in value):
        raise bad_request(f"`events` must be a non-empty list of: {', '.join(EVENTS)}.")
    return sorted(set(value))


def view(hook: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": hook.webhook_id,
        "url": hook.url,
        "events": sorted(hook.events or ()),
        "active": bool(hook.active),
        "created_at": hook.created_at,
        "created_by": hook.created_by,
    }
    if with_secret:
        out["secret"] = hook.secret
    return out


def create(admin: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Registers a webhook; the response is the only time its signing secret is shown."""
    text.reject_unknown_fields(body, {"url", "events"})
    url, events = check_url(body.get("url")), check_events(body.get("events"))
    forget()
    if len(_all()) >= MAX_WEBHOOKS:
        raise CharlaError("conflict", f"At most {MAX_WEBHOOKS} webhooks; delete one first.")
    hook = Webhook(
        WEBHOOK,
        "wh_" + secrets.token_urlsafe(12),
        url=url,
        events=set(events),
        secret="whsec_" + secrets.token_urlsafe(32),
        created_at=clock.now_iso(),
        created_by=admin.id,
        active=True,
    )
    hook.save(condition=Webhook.webhook_id.does_not_exist())
    forget()
    return view(hook, with_secret=True)


def list_view() -> list[dict[str, Any]]:
    forget()
    return [view(h) for h in _all()]


def delete(webhook_id: str) -> None:
    """Stops deliveries: queued retries find no webhook and are dropped. The log expires by TTL."""
    if not isinstance(webhook_id, str) or not webhook_id or len(webhook_id) > 64:
        raise CharlaError("not_found", "No such webhook.")
    try:
        if not data.conditional(lambda: Webhook(WEBHOOK, webhook_id).delete(condition=Webhook.webhook_id.exists())):
            raise CharlaError("not_found", "No such webhook.")
    finally:
        forget()


def deliveries(webhook_id: str, before: str | None) -> dict[str, Any]:
    """The delivery log, newest first, a page at a time (`before` = the previous page's `next`)."""
    if not isinstance(webhook_id, str) or not webhook_id or len(webhook_id) > 64:
        raise CharlaError("not_found", "No such webhook.")
    try:
        Webhook.get(WEBHOOK, webhook_id)
    except Webhook.DoesNotExist:
        raise CharlaError("not_found", "No such webhook.") from None
    if before is not None and (not isinstance(before, str) or len(before) > 200):
        raise bad_request("`before` must be the `next` value of the previous page.")
    condition = WebhookDelivery.sort_key < before if before else None
    rows = list(WebhookDelivery.query(webhook_id, condition, scan_index_forward=False, limit=PAGE))
    return {
        "deliveries": [
            {
                "delivery_id": r.delivery_id,
                "event": r.event,
                "attempt": int(r.attempt),
                "status_code": int(r.status_code) if r.status_code is not None else None,
                "outcome": r.outcome,
                "error": _category(r.error, r.status_code),
                "duration_ms": int(r.duration_ms),
                "ts": r.ts,
            }
            for r in rows
        ],
        "next": rows[-1].sort_key if len(rows) == PAGE else None,
    }


def _category(error: str | None, status: float | None) -> str | None:
    """The log shows why an attempt failed as a category; rows written before that held raw text."""
    if error is None or error in outbound.CATEGORIES:
        return error
    return outbound.HTTP_STATUS if status is not None else outbound.CONNECT_FAILED


# --- emitting ------------------------------------------------------------------------------------


def _tags_named(data: dict[str, Any]) -> dict[str, Any]:
    """A chat or ticket payload carries its tags by id and name (`[{id, name, color}]`), not bare ids,
    so a receiver needs no second call; read only when some webhook listens."""
    if "tags" not in data:
        return data
    return {**data, "tags": catalog.named(data["tags"])}


JOB_KIND = "webhook"  # what the job queue's drain knows a delivery by (functions/api/queued_jobs.py)


def queue_url() -> str | None:
    """Where deliveries are queued: on AWS the job queue they share with the agents' notices."""
    return os.environ.get("WEBHOOK_QUEUE_URL") or None


def emit(event: str, data: dict[str, Any]) -> int:
    """Queues one delivery per active webhook subscribed to `event`; returns how many.

    Never raises: a webhook must not fail the chat action that caused it (failures are logged).
    With no subscriber it makes no AWS call at all, once the cached list is warm.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")  # a programming error, not a runtime one
    try:
        hooks = [h for h in _all() if h.active and event in (h.events or ())]
        if not hooks:
            return 0
        data = _tags_named(data)
        url = queue_url()
        if url is None:
            log.warning("WEBHOOK_QUEUE_URL is not set; %s not delivered to %d webhooks", event, len(hooks))
            return 0
        body = json.dumps(
            {"id": "evt_" + secrets.token_urlsafe(12), "event": event, "created_at": clock.now_iso(), "data": data},
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        entries = [
            {
                "Id": str(n),
                "MessageBody": json.dumps(
                    {
                        "kind": JOB_KIND,
                        "webhook_id": hook.webhook_id,
                        "delivery_id": "dlv_" + secrets.token_urlsafe(12),
                        "event": event,
                        "attempt": 1,
                        # The exact bytes that are signed and sent, the same for every attempt.
                        "body": body,
                    }
                ),
            }
            for n, hook in enumerate(hooks)
        ]
        sqs = aws.client("sqs")
        for start in range(0, len(entries), 10):  # SQS batches hold at most 10 messages
            answer = sqs.send_message_batch(QueueUrl=url, Entries=entries[start : start + 10])
            for failed in answer.get("Failed", []):
                log.error("webhook %s not queued: %s", event, failed.get("Message"))
        return len(entries)
    except Exception:
        log.exception("webhook event %s not queued", event)
        return 0
