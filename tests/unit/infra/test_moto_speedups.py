"""The local stack's faster moto answers exactly as moto's own serializer does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from infra.local import moto_speedups
from tests.support.tables import pk_sk_table

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
        table = pk_sk_table(dynamodb, "t", "N")
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


def _outcome(call: Any) -> Any:
    try:
        return call()
    except Exception as error:  # the comparison covers errors too: type and message
        return (type(error).__name__, str(error))


def _update_story() -> list[Any]:
    """Updates and conditions of every shape the app uses, each repeated (a remembered parse must give
    the same answer as a first one), and the errors moto raises for bad ones."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        pk_sk_table(client, "t", "S")
        key = {"pk": {"S": "a"}, "sk": {"S": "1"}}

        def update(expression: str, names: dict[str, str], values: dict[str, Any] | None = None, **extra: Any) -> Any:
            arguments: dict[str, Any] = {
                "TableName": "t",
                "Key": key,
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ReturnValues": "ALL_NEW",
                **extra,
            }
            if values:
                arguments["ExpressionAttributeValues"] = values
            return _outcome(lambda: client.update_item(**arguments).get("Attributes"))

        story = []
        for round_ in range(2):
            n = {"N": str(round_ + 1)}
            story += [
                update(
                    "SET #a = :v, #b = if_not_exists(#b, :zero) + :v",
                    {"#a": "a", "#b": "b"},
                    {":v": n, ":zero": {"N": "0"}},
                ),
                update("SET #m = :m", {"#m": "map"}, {":m": {"M": {"inner": {"S": "x"}}}}),
                update(
                    "SET #l = list_append(if_not_exists(#l, :empty), :items), #m.#k = :v",
                    {"#l": "list", "#m": "map", "#k": "inner"},
                    {":empty": {"L": []}, ":items": {"L": [n]}, ":v": n},
                ),
                update("ADD #c :one, #s :set", {"#c": "count", "#s": "tags"}, {":one": n, ":set": {"SS": ["x", "y"]}}),
                update("DELETE #s :gone", {"#s": "tags"}, {":gone": {"SS": ["x"]}}),
                update("REMOVE #a, #l[0]", {"#a": "a", "#l": "list"}),
                update(
                    "SET #a = :v",
                    {"#a": "a", "#b": "b"},
                    {":v": n, ":max": {"N": "100"}},
                    ConditionExpression="attribute_exists(#b) AND #b < :max",
                ),
                update(
                    "SET #a = :v",
                    {"#a": "a", "#b": "b"},
                    {":v": n, ":max": {"N": "0"}},
                    ConditionExpression="attribute_exists(#b) AND #b < :max",
                ),
                # The same text as a passing update above, with names that make it refer to one
                # attribute twice, or to the key: refused every time, however often it passed before.
                update(
                    "SET #a = :v, #b = if_not_exists(#b, :zero) + :v",
                    {"#a": "a", "#b": "a"},
                    {":v": n, ":zero": {"N": "0"}},
                ),
                update(
                    "SET #a = :v, #b = if_not_exists(#b, :zero) + :v",
                    {"#a": "pk", "#b": "b"},
                    {":v": n, ":zero": {"S": "0"}},
                ),
                update("SET #a = :v SET #b = :v", {"#a": "a", "#b": "b"}, {":v": n}),
                update("SET #a = :v,, #b = :v", {"#a": "a", "#b": "b"}, {":v": n}),
                _outcome(
                    lambda: client.query(
                        TableName="t",
                        KeyConditionExpression="#p = :p AND begins_with(#s, :s)",
                        FilterExpression="#c > :c OR attribute_not_exists(#c)",
                        ExpressionAttributeNames={"#p": "pk", "#s": "sk", "#c": "count"},
                        ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"S": "1"}, ":c": {"N": "0"}},
                    )["Items"]
                ),
            ]
        return story


def test_updates_conditions_and_their_errors_answer_as_moto_itself_does(monkeypatch):
    moto_speedups.install()
    fast = _update_story()
    for owner, name, before in reversed(moto_speedups.PATCHED):
        if before is moto_speedups._ABSENT:
            monkeypatch.delattr(owner, name)
        else:
            monkeypatch.setattr(owner, name, before)
    assert not getattr(DynamoHandler.serialized, "_charla_fast", False)
    assert fast == _update_story()
    refused = [outcome for outcome in fast if isinstance(outcome, tuple)]
    assert len(refused) == 2 * 5  # the failed condition and the four bad updates, in both rounds
    assert any("part of the key" in message for _, message in refused)
