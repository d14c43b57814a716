"""The offline form: what the widget shows when nobody accepts chats, and the ticket it becomes.

Admins configure the fields (settings `offline_form_fields`): rename them, mark them required, add
some. A submission is checked against that configuration field by field, so a crafted request can't
store anything the form doesn't ask for. Sent from the queue-timeout offer, it names the visitor's
queued chat, which it replaces (chats.leave_queue_for_ticket).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pynamodb.exceptions import UpdateError

from functions.chat import access, chats
from functions.core import clock, lines, settings, text
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.helpdesk import tickets
from functions.helpdesk.tickets import Entry
from functions.models import Chat, Ticket, Visitor
from functions.reports import stats
from functions.team import groups
from functions.visitors import limits

log = logging.getLogger(__name__)

TYPES = ("text", "email", "textarea")
LIMITS = {"text": 200, "email": 254, "textarea": 4000}
MAX_FIELDS = 10
MAX_LABEL = 60
SUBJECT_CHARS = 80  # the ticket's subject: the message's first line, cut at a word
PER_HOUR = 5  # offline tickets one visitor may leave in an hour
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def fields(lang: object = None) -> list[dict[str, Any]]:
    """The form's fields; with a `lang` the widget speaks, their labels in it where the admin gave one."""
    labels = _labels(lang)
    return [{**f, "label": labels.get(f["name"]) or f["label"]} for f in _fields()]


def _labels(lang: object) -> dict[str, str]:
    if not isinstance(lang, str) or lang == "en":
        return {}
    found = (settings.get_settings().get("translations") or {}).get(lines.language(lang)) or {}
    return found.get("labels") or {}


def _fields() -> list[dict[str, Any]]:
    configured = settings.get_settings()["offline_form_fields"]
    try:
        return validate_config(configured)
    except CharlaError:
        log.error("offline_form_fields is invalid; the default form is shown")
        return validate_config(settings.DEFAULTS["offline_form_fields"])


def validate_config(value: object) -> list[dict[str, Any]]:
    """An admin's field list: 1-10 fields with unique names, known types, short labels, at most one email."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_FIELDS:
        raise bad_request(f"`fields` must be a list of 1 to {MAX_FIELDS} fields.")
    clean: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("Each field must be an object with name, label, type and required.")
        name, label, kind, required = item.get("name"), item.get("label"), item.get("type"), item.get("required")
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            raise bad_request("A field's `name` must be 1-32 lowercase letters, digits or _, starting with a letter.")
        if not isinstance(label, str) or not text.one_line(label, MAX_LABEL) or len(label) > MAX_LABEL:
            raise bad_request(f"Field {name}: `label` must be text of 1 to {MAX_LABEL} characters.")
        if kind not in TYPES:
            raise bad_request(f"Field {name}: `type` must be one of {', '.join(TYPES)}.")
        if not isinstance(required, bool):
            raise bad_request(f"Field {name}: `required` must be true or false.")
        clean.append({"name": name, "label": text.one_line(label, MAX_LABEL), "type": kind, "required": required})
    if len({f["name"] for f in clean}) != len(clean):
        raise bad_request("Field names must be unique.")
    if sum(f["type"] == "email" for f in clean) > 1:
        raise bad_request("At most one field may be of type email: it is where replies go.")
    return clean


def save_config(principal: Principal, body: dict[str, Any]) -> list[dict[str, Any]]:
    if not principal.is_admin:
        raise CharlaError("forbidden", "Only admins change the offline form.")
    clean = validate_config(body.get("fields"))
    settings.save_settings({"offline_form_fields": clean})
    return clean


def submit(principal: Principal, body: dict[str, Any], address: str | None = None) -> Ticket:
    if principal.kind != "visitor":
        raise CharlaError("forbidden", "Only visitors send the offline form.")
    values = body.get("fields")
    if not isinstance(values, dict):
        raise bad_request("`fields` must be an object of field name to value.")
    form = fields()
    text.reject_unknown_fields(values, {f["name"] for f in form})
    answers = [(f, _value(f, values.get(f["name"]))) for f in form]
    chat = _chat_it_replaces(principal, body.get("chat_id"))
    # The group the visitor meant to chat with (nobody in it was accepting), or the queued chat's.
    group = groups.find(body.get("group")) if body.get("group") is not None else None
    group_id = chat.group_id if chat and chat.group_id else group.group_id if group else None
    group_name = chat.group_name if chat and chat.group_id else group.name if group else None
    _check_rate(principal)
    limits.hit("offline_form", address)  # identities are free: the form is limited per address too
    ticket = tickets.new_ticket(
        subject=_subject(answers),
        source="offline_form",
        requester_email=next((v for f, v in answers if f["type"] == "email" and v), None),
        requester_name=_name(answers),
        visitor_id=principal.id,
        chat_id=chat.chat_id if chat else None,
    )
    ticket.group_id, ticket.group_name = group_id, group_name
    entry = Entry(
        kind="message",
        author="requester",
        author_id=principal.id,
        author_name=ticket.requester_name,
        body=_body(answers),
        data={"fields": [{"name": f["name"], "label": f["label"], "value": v} for f, v in answers if v]},
    )
    tickets.create(ticket, [entry])
    if chat:
        chats.leave_queue_for_ticket(principal, chat, ticket.ticket_id)
    # A visitor who wrote is kept with their ticket, not expired with anonymous ones (functions/visitors/privacy.py).
    try:
        Visitor(principal.id).update(actions=[Visitor.expires_at.remove()], condition=Visitor.visitor_id.exists())
    except UpdateError:
        log.warning("visitor %s went before their offline ticket was filed", principal.id)
    try:
        stats.offline_message(group_id)
    except Exception:
        log.exception("could not count the offline message")
    return ticket


def _chat_it_replaces(principal: Principal, chat_id: object) -> Chat | None:
    """`chat_id`: the visitor's queued chat the message replaces (the queue-timeout offer's "Leave a message")."""
    if chat_id is None:
        return None
    if not isinstance(chat_id, str):
        raise bad_request("`chat_id` must be the id of your queued chat.")
    try:
        return access.chat_for_write(principal, chat_id)
    except CharlaError:
        raise CharlaError("not_found", "`chat_id` is not one of your chats.") from None


def _value(field: dict[str, Any], value: object) -> str:
    label = field["label"]
    if value is None or (isinstance(value, str) and not value.strip()):
        if field["required"]:
            raise bad_request(f"{label} is required.")
        return ""
    if not isinstance(value, str):
        raise bad_request(f"{label} must be text.")
    limit = LIMITS[field["type"]]
    if len(value) > limit:
        raise CharlaError("too_long", f"{label} is limited to {limit} characters.")
    if field["type"] == "email":
        value = value.strip()
        if not text.is_email(value):
            raise bad_request(f"{label} is not a valid email address.")
        return value
    if field["type"] == "text":
        return text.one_line(value, limit)  # names and the like may end up in mail headers
    return tickets.clean_text(value, label)


def _name(answers: list[tuple[dict[str, Any], str]]) -> str | None:
    named = [v for f, v in answers if f["name"] == "name" and v]
    texts = [v for f, v in answers if f["type"] == "text" and v]
    return (named or texts)[0] if named or texts else None


def _subject(answers: list[tuple[dict[str, Any], str]]) -> str:
    for field, value in answers:
        if field["type"] == "textarea" and value:
            first = text.excerpt(value.strip().splitlines()[0], SUBJECT_CHARS)
            if first:
                return first
    return "Offline message"


def _body(answers: list[tuple[dict[str, Any], str]]) -> str:
    text = "\n\n".join(v for f, v in answers if f["type"] == "textarea" and v)
    others = [f"{f['label']}: {v}" for f, v in answers if f["type"] == "text" and v and f["name"] != "name"]
    return "\n\n".join(p for p in (text, "\n".join(others)) if p) or "(no message)"


def _check_rate(principal: Principal) -> None:
    recent = Ticket.visitor_index.query(
        principal.id, Ticket.created_at > clock.iso_ago(3600), scan_index_forward=False, limit=PER_HOUR
    )
    if sum(1 for _ in recent) >= PER_HOUR:
        raise CharlaError("rate_limited", "You have sent several messages already; we'll answer soon.")
