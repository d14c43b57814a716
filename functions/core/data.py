"""Data-access patterns every module shares: conditional writes, transaction outcomes, the one bounded
retry loop, and the few PynamoDB internals Charla reaches into.

What DynamoDB does that the emulators don't, and this module handles:

- A single write to an item an in-flight transaction holds fails with `TransactionConflictException`
  ("Operation was rejected because there is an ongoing transaction for the item",
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#API_UpdateItem_Errors),
  and contended transactions are cancelled with a `TransactionConflict` reason
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling).
- botocore's standard retry mode retries neither: it retries throttling codes (`ThrottlingException`,
  `ProvisionedThroughputExceededException`, `LimitExceededException`, `Throttling`, ...) and 500/502/503/504
  (botocore/retries/standard.py, `ThrottledRetryableChecker` and `TransientRetryableChecker`;
  https://docs.aws.amazon.com/boto3/latest/guide/retries.html), and a `TransactionCanceledException` is a
  400 with its own code. So Charla retries conflicts itself, a bounded number of times with jitter, and
  when they persist answers a retryable error: never a silent drop.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError

from functions.core import aws
from functions.core.errors import CharlaError

T = TypeVar("T")

CONDITION_FAILED = "ConditionalCheckFailedException"
CONFLICT = "TransactionConflictException"
# Cancellation reason codes (TransactWriteItems' CancellationReasons).
CHECK_FAILED = "ConditionalCheckFailed"
TX_CONFLICT = "TransactionConflict"
# DynamoDB cancels a throttled transaction with one of these; botocore does not retry a cancellation.
TX_THROTTLED = ("ThrottlingError", "ProvisionedThroughputExceeded")

ATTEMPTS = 6
_BASE_PAUSE_S = 0.01
_MAX_PAUSE_S = 0.2

SingleWriteError = (PutError, UpdateError, DeleteError)


def busy(message: str = "Someone else is changing this right now; try again.") -> CharlaError:
    """What a client hears when a write still conflicts after the retries: retry it, nothing was half-done."""
    return CharlaError("retry", message, retriable=True)


def pause(attempt: int) -> None:
    """Full-jitter exponential backoff, so writers that collided don't collide again."""
    time.sleep(random.uniform(0, min(_MAX_PAUSE_S, _BASE_PAUSE_S * 2**attempt)))


def attempts(count: int = ATTEMPTS, *, busy_message: str | None = None) -> Iterator[int]:
    """The one bounded retry loop: yields attempt numbers, pausing with jitter between them.

    The loop body `return`s on success and `continue`s to try again; when the attempts run out, the
    caller gets the retryable `busy` error.
    """
    for attempt in range(count):
        if attempt:
            pause(attempt)
        yield attempt
    raise busy(busy_message) if busy_message else busy()


def write(operation: Callable[[], T], *, busy_message: str | None = None) -> T:
    """Runs a single write, retrying a conflict with an in-flight transaction; other errors pass through."""
    for _attempt in attempts(busy_message=busy_message):
        try:
            return operation()
        except SingleWriteError as error:
            if error.cause_response_code != CONFLICT:
                raise
    raise AssertionError("unreachable")  # attempts() raises when exhausted


def conditional(operation: Callable[[], object], *, busy_message: str | None = None) -> bool:
    """Runs a conditional write: True if it was applied, False if its condition failed.

    Conflicts are retried (see `write`); throttling that outlasted botocore's retries, and any other
    error, is raised: only a failed condition means "not applied".
    """
    try:
        write(operation, busy_message=busy_message)
    except SingleWriteError as error:
        if error.cause_response_code == CONDITION_FAILED:
            return False
        raise
    return True


def reasons(error: TransactWriteError) -> list[str | None]:
    """A cancelled transaction's reason codes, one per item in the order PynamoDB sent them (None: no reason)."""
    return [r.code if r else None for r in error.cancellation_reasons]


def throttled(codes: list[str | None]) -> bool:
    return any(code in TX_THROTTLED for code in codes)


_BUSY_CODES = {CONFLICT, "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def as_busy(error: Exception) -> CharlaError | None:
    """A DynamoDB conflict or throttle that outlasted every retry, as the retryable answer a client gets.

    A write a module didn't wrap in `write`/`conditional` (a plain save, say) may still meet one; the
    request then answers `retry` (503 on REST), never a 500. None for any other error.
    """
    if isinstance(error, TransactWriteError):
        codes = reasons(error)
        if throttled(codes) or TX_CONFLICT in codes:
            return busy()
        return None
    cause = getattr(error, "cause_response_code", None)
    if cause in _BUSY_CODES:
        return busy()
    return None


# --- PynamoDB internals ----------------------------------------------------------------------------
# Kept here, so a PynamoDB upgrade is checked against one file.


def table(model: type[Any]) -> Any:
    """The model's low-level table connection, for the calls the model API lacks (ReturnValues)."""
    return model._get_connection()


def hash_key(model: type[Any]) -> Any:
    """The model's hash key attribute, for a generic `does_not_exist` condition."""
    return model._hash_key_attribute()


def share_client(table_connection: Any) -> Any:
    """Points a table connection at the one shared botocore DynamoDB client (no per-model client)."""
    if table_connection.connection._client is None:
        table_connection.connection._client = aws.dynamodb_connection().client
    return table_connection
