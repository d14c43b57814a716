"""The local DynamoDB keeps DynamoDB's promise: a failed transaction changes nothing, and only it."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local import moto_isolation


@pytest.fixture
def table():
    moto_isolation.install()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield ddb


def _items(ddb) -> dict[str, str]:
    return {i["pk"]["S"]: i["v"]["S"] for i in ddb.scan(TableName="t")["Items"]}


def test_a_failed_transaction_undoes_its_own_writes_and_keeps_everyone_elses(table):
    table.put_item(TableName="t", Item={"pk": {"S": "a"}, "v": {"S": "original"}})
    table.put_item(TableName="t", Item={"pk": {"S": "other"}, "v": {"S": "untouched"}})
    with pytest.raises(ClientError) as cancelled:
        table.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}, "v": {"S": "x"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "changed"}},
                    }
                },
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {"pk": {"S": "other"}, "v": {"S": "y"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _items(table) == {"a": "original", "other": "untouched"}


def test_a_successful_transaction_applies_every_write(table):
    table.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "x"}, "v": {"S": "1"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "y"}, "v": {"S": "2"}}}},
        ]
    )
    assert _items(table) == {"x": "1", "y": "2"}


def test_the_moto_pinned_for_development_is_the_one_whose_internals_the_stack_patches():
    import re
    from pathlib import Path

    import moto

    from infra.local import PATCHED_MOTO_VERSION

    requirements = (Path(__file__).resolve().parents[3] / "requirements-dev.txt").read_text()
    pinned = re.search(r"^moto\[server\]==(\S+)$", requirements, re.M)
    assert pinned and pinned.group(1) == PATCHED_MOTO_VERSION
    assert moto.__version__ == PATCHED_MOTO_VERSION
