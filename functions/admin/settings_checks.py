"""Checking an admin's settings change, key by key, before functions/core/settings.py stores it.

Every stored value is read on hot paths (routing, sweeps, the widget, `$connect`), so nothing is
stored that those readers would have to second-guess: types, ranges and shapes are checked here,
and values are normalised (origins without a trailing slash, colours in lower case).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from functions.core import clock, lines, settings, text
from functions.core.errors import CharlaError, bad_request
from functions.helpdesk import offline_form

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LANGUAGES = lines.LANGUAGES
MAX_ORIGINS = 50
MAX_GREETINGS = 20
MAX_URL_PARAMS = 20
URL_PARAM = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")


def _integer(low: int, high: int) -> Callable[[str, object], int]:
    def check(key: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad_request(f"`{key}` must be a whole number from {low} to {high}.")
        return value

    return check


def _choice(*options: str) -> Callable[[str, object], str]:
    def check(key: str, value: object) -> str:
        if value not in options:
            raise bad_request(f"`{key}` must be one of: {', '.join(options)}.")
        return str(value)

    return check


def _boolean(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"`{key}` must be true or false.")
    return value


def _text(limit: int, *, empty: bool = False) -> Callable[[str, object], str]:
    def check(key: str, value: object) -> str:
        if not isinstance(value, str) or len(value) > limit or (not empty and not value.strip()):
            raise bad_request(f"`{key}` must be text of {0 if empty else 1} to {limit} characters.")
        return text.free_text(value)

    return check


def origin(value: object) -> str:
    """`https://shop.example` or `http://localhost:8000`: a scheme, a host, maybe a port; nothing else."""
    problem = bad_request(
        f"{str(value)[:80]!r} is not a website origin such as https://shop.example (no path, no query)."
    )
    if not isinstance(value, str) or len(value) > 300:
        raise problem
    text = value.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises for a port that is not a number
    except ValueError:
        raise problem from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or any(c.isspace() for c in text)
    ):
        raise problem
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    # Written the way browsers send Origin: lower-case host, no default port.
    if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def _origins(key: str, value: object) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_ORIGINS:
        raise bad_request(f"`{key}` must be a list of at most {MAX_ORIGINS} origins (empty: any website).")
    try:
        return list(dict.fromkeys(origin(item) for item in value))
    except CharlaError as error:
        raise bad_request(f"`{key}`: {error.message}") from None


def _colour(key: str, value: object) -> str:
    if not isinstance(value, str) or not COLOUR.match(value):
        raise bad_request(f"`{key}` must be a colour like #2563eb.")
    return value.lower()


def _timezone(key: str, value: object) -> str:
    if not isinstance(value, str) or not clock.ZONE_NAME.fullmatch(value) or len(value) > 64:
        raise bad_request(f"`{key}` must be a time zone such as Europe/Madrid.")
    if clock.zone(value) is None:
        raise bad_request(f"`{key}`: unknown time zone {value!r}.")
    return value


def _translations(key: str, value: object) -> dict[str, dict[str, Any]]:
    """`{"es": {"welcome": "...", "labels": {"name": "Nombre"}}}`: each part optional, English is the base."""
    if not isinstance(value, dict):
        raise bad_request(f'`{key}` must be an object of languages, e.g. {{"es": {{"welcome": "¡Hola!"}}}}.')
    clean: dict[str, dict[str, Any]] = {}
    for lang, parts in value.items():
        if lang not in LANGUAGES or lang == "en":
            raise bad_request(f"`{key}`: {str(lang)[:8]!r} is not a language the widget speaks besides English.")
        if not isinstance(parts, dict) or set(parts) - {"welcome", "labels"}:
            raise bad_request(f"`{key}.{lang}` may hold `welcome` and `labels` only.")
        out: dict[str, Any] = {}
        if "welcome" in parts:
            out["welcome"] = _text(300, empty=True)(f"{key}.{lang}.welcome", parts["welcome"])
        labels = parts.get("labels", {})
        if not isinstance(labels, dict) or len(labels) > offline_form.MAX_FIELDS:
            raise bad_request(f"`{key}.{lang}.labels` must map field names to labels.")
        out["labels"] = {}
        for name, label in labels.items():
            where = f"{key}.{lang}.labels.{str(name)[:32]}"
            if not isinstance(name, str) or not offline_form.FIELD_NAME.match(name):
                raise bad_request(f"`{where}`: a field name is 1-32 lowercase letters, digits or _.")
            if (
                not isinstance(label, str)
                or not text.one_line(label, offline_form.MAX_LABEL)
                or len(label) > offline_form.MAX_LABEL
            ):
                raise bad_request(f"`{where}` must be text of 1 to {offline_form.MAX_LABEL} characters.")
            out["labels"][name] = text.one_line(label, offline_form.MAX_LABEL)
        clean[lang] = out
    return clean


def _email(key: str, value: object) -> str:
    if not isinstance(value, str) or not text.is_email(value.strip()):
        raise bad_request(f"`{key}` must be an email address.")
    return value.strip()


def _offline_fields(key: str, value: object) -> list[dict[str, Any]]:
    try:
        return offline_form.validate_config(value)  # the form's own rules, kept with the form
    except CharlaError as error:
        raise bad_request(f"`{key}`: {error.message}") from None


def _greetings(key: str, value: object) -> list[dict[str, Any]]:
    """Proactive greetings: after N s on a page whose URL contains a text, show a message, at most M times."""
    if not isinstance(value, list) or len(value) > MAX_GREETINGS:
        raise bad_request(f"`{key}` must be a list of at most {MAX_GREETINGS} rules.")
    rules = []
    for n, rule in enumerate(value, start=1):
        where = f"{key}[{n}]"
        if not isinstance(rule, dict) or set(rule) != {"url_contains", "after_seconds", "message", "max_times"}:
            raise bad_request(f"`{where}` must have exactly url_contains, after_seconds, message and max_times.")
        rules.append(
            {
                "url_contains": _text(200, empty=True)(f"{where}.url_contains", rule["url_contains"]),
                "after_seconds": _integer(0, 3600)(f"{where}.after_seconds", rule["after_seconds"]),
                "message": _text(500)(f"{where}.message", rule["message"]),
                "max_times": _integer(1, 10)(f"{where}.max_times", rule["max_times"]),
            }
        )
    return rules


def _url_params(key: str, value: object) -> list[str]:
    """Query parameter names that tracked URLs may keep (functions/visitors/privacy.py): exact names, no patterns."""
    if not isinstance(value, list) or len(value) > MAX_URL_PARAMS:
        raise bad_request(f"`{key}` must be a list of at most {MAX_URL_PARAMS} query parameter names.")
    for item in value:
        if not isinstance(item, str) or not URL_PARAM.match(item):
            raise bad_request(f"`{key}`: {str(item)[:80]!r} is not a parameter name (1-64 letters, digits, _ . - [ ]).")
    return list(dict.fromkeys(value))


# One checker per setting. A setting added to settings.DEFAULTS without one here can't be changed
# through the API (and tests/unit/admin/test_settings_checks.py says so), rather than being stored unchecked.
CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "prechat": _choice("anonymous", "name_email"),
    "max_chats_per_agent": _integer(1, 50),
    "wait_threshold_s": _integer(1, 3600),
    "unanswered_timeout_s": _integer(10, 3600),
    "queue_timeout_min": _integer(1, 240),
    "idle_timeout_min": _integer(1, 1440),
    "visitor_left_timeout_min": _integer(1, 1440),
    "sneak_peek": _boolean,
    # The widget's pre-chat step offers the groups to choose from (functions/team/groups.py).
    "group_choice": _boolean,
    "allowed_origins": _origins,
    "color": _colour,
    "position": _choice("left", "right"),
    "welcome": _text(300, empty=True),
    "language": _choice(*LANGUAGES),
    "summary_hour": _integer(0, 23),
    "summary_timezone": _timezone,
    "support_email": _email,
    "offline_form_fields": _offline_fields,
    "translations": _translations,
    "greetings": _greetings,
    # Tracking and privacy (functions/visitors/tracking.py, functions/visitors/privacy.py).
    "tracking": _boolean,
    "ip_mode": _choice("truncate", "none", "full"),
    "require_mfa": _boolean,
    "tracked_url_params": _url_params,
    "retention_days": _integer(1, 3650),
    # Files in chats (functions/chat/files.py); the limit can't pass the ticket attachments' own.
    "visitor_uploads": _boolean,
    "chat_file_max_mb": _integer(1, 10),
}


def validate(changes: dict[str, Any]) -> dict[str, Any]:
    if not changes:
        raise bad_request("Give at least one setting to change.")
    unknown = sorted(set(changes) - (set(CHECKS) & set(settings.DEFAULTS)))
    if unknown:
        raise bad_request(f"Unknown settings: {', '.join(unknown)}.")
    return {key: CHECKS[key](key, value) for key, value in changes.items()}


def read() -> dict[str, Any]:
    settings.forget()  # what the admin sees is what is stored, not this instance's cached copy
    return settings.get_settings()


def update(changes: dict[str, Any]) -> dict[str, Any]:
    return settings.save_settings(validate(changes))
