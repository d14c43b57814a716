"""moto's DynamoDB lane answers every call as moto's own server does, and serves DynamoDB alone."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.local.dynamodb_lane import DynamoDBLane
from infra.local.moto_server import MotoServer
from tests.support.tables import pk_sk_table


@pytest.fixture(scope="module")
def endpoints() -> Iterator[tuple[str, str]]:
    """moto's own server and a lane into the same moto (its backends are per process)."""
    server = MotoServer()
    server.start()
    lane = DynamoDBLane("127.0.0.1").start()
    try:
        yield server.url, f"http://127.0.0.1:{lane.port}"
    finally:
        lane.stop()
        server.stop()


def _client(url: str) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def _outcome(call: Any) -> Any:
    try:
        answer = call()
    except Exception as error:  # the comparison covers errors: botocore's class, code and message
        return (type(error).__name__, str(error))
    answer.pop("ResponseMetadata", None)
    answer.pop("TableDescription", None)  # holds the table's name and creation time
    return answer


def _story(client: Any, table: str) -> list[Any]:
    pk_sk_table(client, table, "N")
    key = {"pk": {"S": "chat"}, "sk": {"N": "1"}}
    text = {"S": 'héllo \u2028 "quoted" </script> ' + "x" * 5000}
    story = [
        _outcome(lambda: client.put_item(TableName=table, Item={**key, "text": text, "tags": {"SS": ["a", "b"]}})),
        _outcome(lambda: client.get_item(TableName=table, Key=key, ConsistentRead=True)),
        _outcome(
            lambda: client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="ADD #c :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            )
        ),
        _outcome(
            lambda: client.put_item(
                TableName=table,
                Item=key,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        ),
        _outcome(
            lambda: client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": "chat"}, "sk": {"N": "2"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": key,
                            "ConditionExpression": "#c > :c",
                            "ExpressionAttributeNames": {"#c": "count"},
                            "ExpressionAttributeValues": {":c": {"N": "5"}},
                        }
                    },
                ]
            )
        ),
        _outcome(
            lambda: client.query(
                TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "chat"}}
            )
        ),
        _outcome(lambda: client.get_item(TableName="absent", Key=key)),
        _outcome(lambda: client.get_item(TableName=table, Key={"pk": {"S": ""}, "sk": {"N": "1"}})),
    ]
    client.delete_table(TableName=table)
    return story


def test_the_lane_answers_every_call_and_error_as_moto_s_own_server(endpoints):
    server, lane = endpoints
    through_server = _story(_client(server), "t")
    through_lane = _story(_client(lane), "t")
    assert through_lane == through_server
    assert through_lane[1]["Item"]["text"] == {"S": 'héllo \u2028 "quoted" </script> ' + "x" * 5000}
    assert [o[0] for o in through_lane if isinstance(o, tuple)] == [
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
        "ResourceNotFoundException",
        "ClientError",
    ]


def test_the_lane_refuses_what_is_not_a_dynamodb_call(endpoints):
    _, lane = endpoints
    request = urllib.request.Request(lane + "/moto-api/reset", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 404


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"TableName": "\xed\xa0\x80"}'], ids=["truncated", "list", "bad-utf8"])
def test_a_body_that_is_not_a_json_object_is_a_serialization_error_not_a_crash(endpoints, body):
    _, lane = endpoints
    request = urllib.request.Request(
        lane + "/", data=body, method="POST", headers={"X-Amz-Target": "DynamoDB_20120810.GetItem"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["__type"].endswith("#SerializationException")
