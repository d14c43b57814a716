"""The organisation's settings: one item, cached per Lambda instance for at most a minute."""

from __future__ import annotations

from typing import Any

from functions.core import aws, clock
from functions.core.instance_cache import InstanceCache
from functions.models import Settings

_ITEM = "org"

DEFAULTS: dict[str, Any] = {
    "prechat": "anonymous",  # anonymous | name_email
    "max_chats_per_agent": 3,
    "wait_threshold_s": 60,
    "unanswered_timeout_s": 120,
    "queue_timeout_min": 5,
    "idle_timeout_min": 30,
    # A chat whose visitor left (no socket) and where nothing was said since closes after this long.
    "visitor_left_timeout_min": 10,
    "sneak_peek": True,
    # The widget's pre-chat step offers a choice of group (functions/team/groups.py).
    "group_choice": False,
    "allowed_origins": [],  # empty: any origin (documented in docs/operations.md)
    "color": "#2563eb",
    "position": "right",
    "welcome": "Hi! How can we help?",
    "language": "en",
    # The welcome text and the offline form's labels in the other languages the widget speaks; `welcome`
    # and each field's `label` are the English (functions/admin/settings_checks.py checks this).
    "translations": {
        "es": {
            "welcome": "¡Hola! ¿En qué podemos ayudarte?",
            "labels": {"name": "Nombre", "email": "Correo electrónico", "message": "Mensaje"},
        },
    },
    "summary_hour": 8,
    "summary_timezone": "UTC",
    "support_email": "support@example.com",
    # The offline form the widget shows when nobody is accepting chats (functions/helpdesk/offline_form.py).
    "offline_form_fields": [
        {"name": "name", "label": "Name", "type": "text", "required": True},
        {"name": "email", "label": "Email", "type": "email", "required": True},
        {"name": "message", "label": "Message", "type": "textarea", "required": True},
    ],
    # Proactive greetings for the widget: [{url_contains, after_seconds, message, max_times}]
    # (checked by functions/admin/settings_checks.py).
    "greetings": [],
    # Visitor tracking (functions/visitors/tracking.py); what is kept of IP addresses (functions/visitors/privacy.py).
    "tracking": True,
    "ip_mode": "truncate",  # truncate | none | full
    # Every agent must sign in with TOTP (functions/team/mfa.py); those without it set it up first.
    "require_mfa": False,
    # Query parameters kept in tracked URLs (functions/visitors/privacy.py); everything else in a query goes.
    "tracked_url_params": [],
    # Days an anonymous visitor is kept after their last page view (DynamoDB TTL; functions/visitors/privacy.py).
    "retention_days": 30,
    # Files in chats (functions/chat/files.py): whether visitors may send them, and the size limit for both sides.
    "visitor_uploads": True,
    "chat_file_max_mb": 10,
}


def _load() -> dict[str, Any]:
    try:
        stored = Settings.get(_ITEM).values.as_dict()
    except Settings.DoesNotExist:
        stored = {}
    return {**DEFAULTS, **stored}


_cache = InstanceCache(_load)


def get_settings() -> dict[str, Any]:
    return dict(_cache.get())


def get_fresh() -> dict[str, Any]:
    """The stored settings by a consistent read, for the few checks a minute's lag would weaken."""
    try:
        stored = Settings.get(_ITEM, consistent_read=True).values.as_dict()
    except Settings.DoesNotExist:
        stored = {}
    return {**DEFAULTS, **stored}


def save_settings(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"Unknown settings: {', '.join(sorted(unknown))}")
    try:
        item = Settings.get(_ITEM)
        values = item.values.as_dict()
    except Settings.DoesNotExist:
        item, values = Settings(_ITEM), {}
    values.update(changes)
    item.values = values
    item.updated_at = clock.now_iso()
    item.save()
    forget()
    return {**DEFAULTS, **values}


@aws.on_reset
def forget() -> None:
    _cache.forget()


def origin_allowed(origin: str | None) -> bool:
    """Browsers always send Origin on WebSocket upgrades and cross-origin calls; other clients may not."""
    allowed = get_settings()["allowed_origins"]
    if not allowed or origin is None:
        return True
    return origin.rstrip("/") in {o.rstrip("/") for o in allowed}
