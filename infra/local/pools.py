"""Connection pools as wide as the Lambda invocations that share them here.

On AWS a Lambda instance runs one invocation at a time, so PynamoDB's default pool of 10 HTTP
connections per client is never short. The local stack runs up to LambdaInvoker.concurrency
invocations at once in one process, and Charla's models share one DynamoDB client
(functions/core/data.py: share_client): with a pool of 10, every call past the tenth concurrent one
opened a TCP connection to moto and dropped it afterwards (urllib3 discards what the full pool can't
keep), which cost a connect, a thread in moto's server and a close per DynamoDB call under load. A
pool as wide as the invoker gives each concurrent invocation a kept-alive connection, as each
Lambda instance has its own.
"""

from __future__ import annotations

from pynamodb import settings as pynamodb_settings

_KEY = "max_pool_connections"


def widen_dynamodb_pool(concurrency: int) -> int:
    """Makes PynamoDB's default pool at least `concurrency` wide; returns the previous default.

    Clients made afterwards get it: the caller drops the app's cached clients (`aws.reset()`).
    """
    previous = pynamodb_settings.default_settings_dict[_KEY]
    assert isinstance(previous, int), previous
    pynamodb_settings.default_settings_dict[_KEY] = max(previous, concurrency)
    return previous


def restore_dynamodb_pool(previous: int) -> None:
    pynamodb_settings.default_settings_dict[_KEY] = previous
