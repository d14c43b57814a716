"""Charla's real code on moto, in this process: the same setup the unit tests use.

Every in-process benchmark runs inside `charla_on_moto()`, so each one starts from empty tables,
fresh clients and an empty settings cache, whatever ran before it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from infra.local.events import scheduled_event
from tests.bench.ddb import DynamoCounter

# Moto's fake account; the management API's URL only has to look like API Gateway's.
MANAGEMENT_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/test"
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "WS_MANAGEMENT_URL": MANAGEMENT_URL,
    # The session mails its agents' example.com addresses, which SES's sandbox would refuse.
    "CHARLA_SES_PRODUCTION_ACCESS": "1",
}
SCHEDULED_EVENT = scheduled_event("charla-dev-sweep", "us-east-1")  # as EventBridge sends it


@contextmanager
def charla_on_moto() -> Iterator[DynamoCounter]:
    """Moto with every Charla table, and a counter hooked into every client created inside."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE":
            del os.environ[name]
    os.environ.update(_ENV)
    # Imported here: the models read the table prefix and region from the environment at import.
    from functions.core import aws, tables

    counter = DynamoCounter()
    try:
        with mock_aws(), counter:
            aws.reset()  # drop clients made before the hook, so every client is a hooked one
            tables.create_all()
            # The agents' notices (functions/realtime/agent_notices.py) wait here for a drain.
            queue = aws.client("sqs").create_queue(QueueName="charla-agent-notices")
            os.environ["AGENT_NOTICE_QUEUE_URL"] = queue["QueueUrl"]
            yield counter
    finally:
        aws.reset()
        os.environ.clear()
        os.environ.update(saved)


def dynamodb_client() -> Any:
    """A plain low-level client, for seeding tables in bulk (BatchWriteItem) outside any window."""
    import boto3
    from botocore.config import Config

    # No client-side validation, as PynamoDB does: the items come from the models already.
    config = Config(parameter_validation=False)
    return boto3.session.Session().client("dynamodb", region_name=_ENV["AWS_REGION"], config=config)


def batch_put(table: str, items: list[dict[str, Any]]) -> None:
    """Writes raw items 25 at a time (BatchWriteItem's limit), retrying anything unprocessed."""
    client = dynamodb_client()
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
