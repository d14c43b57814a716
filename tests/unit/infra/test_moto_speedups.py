"""The local stack's faster moto answers exactly as moto's own serializer does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from infra.local import moto_speedups

ITEM = {
    "pk": "a",
    "sk": 1,
    "text": 'héllo \u2028 "quoted" </script>',
    "number": Decimal("12.50"),
    "flag": True,
    "nothing": None,
    "blob": b"\x00\xffbytes",
    "strings": {"x", "y"},
    "numbers": {Decimal(1), Decimal(2)},
    "blobs": {b"\x01", b"\x02"},
    "list": ["s", Decimal(3), {"nested": [b"\x03", None, False]}],
    "map": {"inner": {"deeper": "v", "n": Decimal("-0.5")}, "empty": {}},
}


def _calls(table: Any) -> dict[str, Any]:
    """Every item operation the app uses, and the answers boto3 parsed from them."""
    table.put_item(Item=ITEM)
    table.put_item(Item={**ITEM, "sk": 2})
    client = table.meta.client
    return {
        "get": table.get_item(Key={"pk": "a", "sk": 1}, ConsistentRead=True)["Item"],
        "missing": "Item" in table.get_item(Key={"pk": "zzz", "sk": 1}),
        "update": table.update_item(
            Key={"pk": "a", "sk": 1},
            UpdateExpression="ADD #c :one REMOVE #n",
            ExpressionAttributeNames={"#c": "count", "#n": "nothing"},
            ExpressionAttributeValues={":one": 1},
            ReturnValues="ALL_NEW",
        )["Attributes"],
        "query": {
            k: v
            for k, v in table.query(
                KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "a"}, Limit=1
            ).items()
            if k != "ResponseMetadata"
        },
        "batch": client.batch_get_item(RequestItems={table.name: {"Keys": [{"pk": "a", "sk": 2}]}})["Responses"],
        "delete": table.delete_item(Key={"pk": "a", "sk": 2}, ReturnValues="ALL_OLD")["Attributes"],
        "transact": {
            k: v
            for k, v in client.transact_write_items(
                TransactItems=[{"Put": {"TableName": table.name, "Item": {"pk": "t", "sk": 1}}}]
            ).items()
            if k != "ResponseMetadata"
        },
    }


def _answers() -> dict[str, Any]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        table = dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        return _calls(table)


def test_item_operations_answer_as_moto_itself_does(monkeypatch):
    moto_speedups.install()
    assert getattr(DynamoHandler.serialized, "_charla_fast", False)
    fast = _answers()
    monkeypatch.setattr(DynamoHandler, "serialized", DynamoHandler.serialized.__wrapped__)
    assert fast == _answers()
    assert fast["get"]["blob"].value == b"\x00\xffbytes" and fast["missing"] is False


def test_errors_still_go_through_moto():
    moto_speedups.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_item(TableName="absent", Key={"pk": {"S": "a"}})
