"""The local stack's DynamoDB client keeps a connection per concurrent invocation, as Lambda instances do."""

from __future__ import annotations

from infra.local.stack import LocalStack


def test_the_shared_dynamodb_client_pools_as_many_connections_as_invocations_run_at_once(stack: LocalStack) -> None:
    from functions.core import aws

    client = aws.dynamodb_connection().client
    assert stack._invoker is not None
    assert client.meta.config.max_pool_connections >= stack._invoker.concurrency
