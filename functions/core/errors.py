"""The one error type the domain raises. Handlers turn it into an error frame or a REST 4xx."""

from __future__ import annotations

import re

from chalice.app import ChaliceUnhandledError

# code -> HTTP status, for the REST side. WebSocket error frames carry the code itself.
HTTP_STATUS = {
    "bad_json": 400,
    "bad_request": 400,
    "too_long": 400,
    "url_not_allowed": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "mfa_required": 403,
    "origin_not_allowed": 403,
    "not_found": 404,
    "already_taken": 409,
    "conflict": 409,
    "name_taken": 409,
    "offline": 409,
    "mail_sandbox": 422,
    "rate_limited": 429,
    "queue_full": 429,
    "limit_reached": 429,
    "no_email": 409,
    "retry": 503,
}


# A message names the field at fault first, in backticks: "`wait_threshold_s` must be ...".
NAMED_FIELD = re.compile(r"`([A-Za-z_][\w.\[\]-]*)`")


class CharlaError(ChaliceUnhandledError):
    """Chalice lets this base class through to the app's middleware, which answers the 4xx.

    `field` is the request field at fault (a client shows it by its own label, in its own language);
    by default the one the message names first.
    """

    def __init__(self, code: str, message: str, *, retriable: bool = False, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retriable = retriable
        named = NAMED_FIELD.search(message)
        self.field = field or (named.group(1) if named else None)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 400)


def bad_request(message: str, *, field: str | None = None) -> CharlaError:
    return CharlaError("bad_request", message, field=field)


def not_found(what: str = "chat") -> CharlaError:
    # The same answer for "doesn't exist" and "not yours", so ids can't be probed.
    return CharlaError("not_found", f"No such {what}.")
