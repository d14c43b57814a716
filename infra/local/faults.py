"""Fault mode: the errors AWS answers under contention and load, which moto never does.

Off by default. `CHARLA_FAULTS="ddb_conflict=0.1,ddb_throttle=0.05,post_429=0.05,post_500=0.05,ses_throttle=0.05"`
(read by the local stack at start, and by the unit tests' `faults` fixture) injects each fault at its rate:

- `ddb_conflict`: a `TransactWriteItems` is cancelled with a `TransactionConflict` reason on one of its
  items; a single write (PutItem, UpdateItem, DeleteItem) to a table that transactions write fails with
  `TransactionConflictException`. On AWS the single write fails only when an in-flight transaction holds
  that very item; the table is the approximation (items of tables no transaction writes are never held,
  nor is an item a conditional put is creating).
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling
- `ddb_throttle`: any DynamoDB call answers `ProvisionedThroughputExceededException` or
  `ThrottlingException`; a transaction is, half the time, cancelled with a `ThrottlingError` reason instead.
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html#API_TransactWriteItems_Errors
- `post_429`, `post_500`: `post_to_connection` answers 429 `LimitExceededException` ("more than the allowed
  number of requests per unit of time or the WebSocket client side buffer is full") or a 500.
  https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-connections-connectionid.html
- `ses_throttle`: `SendEmail`/`SendRawEmail` answer `Throttling` "Maximum sending rate exceeded."
  https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html

The fault is an HTTP response handed to botocore from a `before-send` hook, so botocore parses it and
applies its real retry policy, as it would to AWS's answer. In standard mode (what Charla's clients use)
it retries the throttling codes and 429/500 (botocore/retries/standard.py; the Boto3 guide
https://docs.aws.amazon.com/boto3/latest/guide/retries.html), and does NOT retry
`TransactionConflictException` or a `TransactionCanceledException`: those reach the app.

The hook is installed into botocore's built-in handlers, so every client created afterwards carries it, and
the app's code never knows. With moto in-process (unit tests) the hook takes the place of moto's own
`before-send` stubber and calls it when it injects nothing: botocore calls every `before-send` handler, so a
fault beside moto would still let moto apply the write.
"""

from __future__ import annotations

import contextvars
import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore import handlers
from botocore.awsrequest import AWSResponse

KINDS = ("ddb_conflict", "ddb_throttle", "post_429", "post_500", "ses_throttle")
ENV = "CHARLA_FAULTS"

_SINGLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
_TX_KEYS = ("Put", "Update", "Delete", "ConditionCheck")
_CONFLICT_MESSAGE = "Transaction is ongoing for the item"
_THROTTLE_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)


class RawBody:
    """The raw body botocore reads an HTTP response from."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self.data


def parse(spec: str) -> dict[str, float]:
    """`"ddb_conflict=0.1,post_429=0.05"` -> rates; unknown names and rates outside 0..1 are refused."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if name not in KINDS or not sep:
            raise ValueError(f"{ENV}: unknown fault {name!r}; known: {', '.join(KINDS)}")
        rate = float(value)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{ENV}: the rate of {name} must be between 0 and 1, not {value}")
        rates[name] = rate
    return rates


class Faults:
    """Decides, per request, whether to answer with a fault. Thread-safe; counts what it injected."""

    def __init__(self, rates: dict[str, float] | None = None, *, seed: int | None = None) -> None:
        self.rates = dict(rates or {})
        self.injected: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._scripted: list[tuple[str, str | None, str | None, int | None]] = []  # kind, operation, table, item
        self._tx_tables: set[str] = set()

    @classmethod
    def from_spec(cls, spec: str, *, seed: int | None = None) -> Faults:
        return cls(parse(spec), seed=seed)

    def once(
        self,
        kind: str,
        *,
        operation: str | None = None,
        table: str | None = None,
        item: int | None = None,
        times: int = 1,
    ) -> None:
        """Injects `kind` on the next `times` matching requests, whatever the rates (deterministic tests).

        `item` names the transaction item a cancellation blames (in the order PynamoDB sends them)."""
        if kind not in KINDS:
            raise ValueError(kind)
        with self._lock:
            self._scripted.extend([(kind, operation, table, item)] * times)

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()
            self.rates.clear()

    # --- deciding -------------------------------------------------------------------------------

    def answer(self, service: str, operation: str, request: Any) -> AWSResponse | None:
        if _paused.get():
            return None
        if service == "dynamodb":
            return self._dynamodb(operation, request)
        if service == "apigatewaymanagementapi" and operation == "PostToConnection":
            kind, _ = self._pick(("post_429", "post_500"), operation, None)
            if kind == "post_429":
                return _rest_json(request, 429, "LimitExceededException", "Too Many Requests")
            if kind == "post_500":
                return _rest_json(request, 500, "InternalServerErrorException", "Internal server error")
        if service == "ses" and operation in ("SendEmail", "SendRawEmail"):
            if self._pick(("ses_throttle",), operation, None)[0]:
                return _ses_throttling(request)
        return None

    def _dynamodb(self, operation: str, request: Any) -> AWSResponse | None:
        body = json.loads(request.body or b"{}")
        if operation == "TransactWriteItems":
            items = body.get("TransactItems") or []
            tables = [next((i[k]["TableName"] for k in _TX_KEYS if k in i), "") for i in items]
            with self._lock:
                self._tx_tables.update(tables)
            kind, item = self._pick(("ddb_conflict", "ddb_throttle"), operation, tables)
            culprit = self._random.randrange(max(len(items), 1)) if item is None else item
            if kind == "ddb_conflict":
                return _cancelled(request, len(items), culprit, "TransactionConflict", _CONFLICT_MESSAGE)
            if kind == "ddb_throttle":
                if item is not None or self._random.random() < 0.5:
                    return _cancelled(
                        request,
                        len(items),
                        culprit,
                        "ThrottlingError",
                        "Throughput exceeds the current capacity of your table or index.",
                    )
                return _dynamodb_error(
                    request, "ThrottlingException", "Throughput exceeds the current capacity of your table or index."
                )
            return None
        table = str(body.get("TableName", ""))
        kinds: tuple[str, ...] = ("ddb_conflict", "ddb_throttle") if operation in _SINGLE_WRITES else ("ddb_throttle",)
        # A put that creates an item (attribute_not_exists) can't meet a transaction holding it.
        creating = operation == "PutItem" and "attribute_not_exists" in str(body.get("ConditionExpression", ""))
        with self._lock:
            held = table in self._tx_tables and not creating
        # At random, only items a transaction could hold conflict: those of tables transactions write.
        kind, _ = self._pick(kinds, operation, [table], rated=kinds if held else ("ddb_throttle",))
        if kind == "ddb_conflict":
            return _dynamodb_error(request, "TransactionConflictException", _CONFLICT_MESSAGE)
        if kind == "ddb_throttle":
            code = self._random.choice(("ProvisionedThroughputExceededException", "ThrottlingException"))
            return _dynamodb_error(request, code, _THROTTLE_MESSAGE)
        return None

    def _pick(
        self, kinds: tuple[str, ...], operation: str, tables: list[str] | None, *, rated: tuple[str, ...] | None = None
    ) -> tuple[str | None, int | None]:
        with self._lock:
            for index, (kind, op, table, item) in enumerate(self._scripted):
                if kind in kinds and op in (None, operation) and (table is None or table in (tables or [])):
                    del self._scripted[index]
                    self.injected[kind] += 1
                    return kind, item
            for kind in kinds if rated is None else rated:
                if self._random.random() < self.rates.get(kind, 0.0):
                    self.injected[kind] += 1
                    return kind, None
        return None, None


# --- the botocore hook -------------------------------------------------------------------------------

_active: Faults | None = None
_paused: contextvars.ContextVar[bool] = contextvars.ContextVar("charla_faults_paused", default=False)
_moto_stubber: Any = None


def _before_send(event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
    faults = _active
    if faults is not None:
        _, service, operation = (event_name.split(".") + ["", ""])[:3]
        response = faults.answer(service, operation, request)
        if response is not None:
            return response
    if _moto_stubber is not None:
        return _moto_stubber(event_name=event_name, request=request, **kwargs)
    return None


def install() -> None:
    """Adds the hook to every botocore session created from now on (idempotent)."""
    global _moto_stubber
    specs = handlers.BUILTIN_HANDLERS
    if any(spec[1] is _before_send for spec in specs):
        return
    for index, spec in enumerate(specs):
        if spec[0] == "before-send" and type(spec[1]).__name__ == "BotocoreStubber":
            _moto_stubber = spec[1]
            specs[index] = ("before-send", _before_send)
            return
    specs.append(("before-send", _before_send, handlers.REGISTER_FIRST))


def uninstall() -> None:
    """Gives botocore's built-in handlers back as they were; clients created meanwhile keep the hook."""
    global _active
    _active = None
    specs = handlers.BUILTIN_HANDLERS
    for index, spec in enumerate(list(specs)):
        if spec[1] is _before_send:
            if _moto_stubber is not None and len(spec) == 2:
                specs[index] = ("before-send", _moto_stubber)
            else:
                specs.remove(spec)


def activate(faults: Faults | None) -> None:
    """Starts (or, with None, stops) injecting. Clients must have been created after `install()`."""
    global _active
    _active = faults


def active() -> Faults | None:
    return _active


def from_environment(environ: dict[str, str] | Any) -> Faults | None:
    spec = environ.get(ENV, "").strip()
    seed = environ.get("CHARLA_FAULTS_SEED")
    return Faults.from_spec(spec, seed=int(seed) if seed else None) if spec else None


@contextmanager
def paused() -> Iterator[None]:
    """No faults for calls made inside (a harness's own setup and checks), on this thread or task."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


# --- AWS-shaped answers ----------------------------------------------------------------------------


def _headers(content_type: str, **extra: str) -> dict[str, str]:
    return {"x-amzn-RequestId": "charla-fault", "Content-Type": content_type, **extra}


def _dynamodb_error(request: Any, code: str, message: str, **extra: Any) -> AWSResponse:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra}
    return AWSResponse(request.url, 400, _headers("application/x-amz-json-1.0"), RawBody(json.dumps(body).encode()))


def _cancelled(request: Any, count: int, culprit: int, code: str, message: str) -> AWSResponse:
    reasons = [{"Code": code, "Message": message} if i == culprit else {"Code": "None"} for i in range(count)]
    listed = ", ".join(r["Code"] for r in reasons)
    return _dynamodb_error(
        request,
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{listed}]",
        CancellationReasons=reasons,
    )


def _rest_json(request: Any, status: int, code: str, message: str) -> AWSResponse:
    headers = _headers("application/json", **{"x-amzn-ErrorType": code})
    return AWSResponse(request.url, status, headers, RawBody(json.dumps({"message": message}).encode()))


def _ses_throttling(request: Any) -> AWSResponse:
    body = (
        '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type>'
        "<Code>Throttling</Code><Message>Maximum sending rate exceeded.</Message></Error>"
        "<RequestId>charla-fault</RequestId></ErrorResponse>"
    )
    return AWSResponse(request.url, 400, _headers("text/xml"), RawBody(body.encode()))
