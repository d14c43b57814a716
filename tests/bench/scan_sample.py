"""The comparison: aws-samples/simple-websockets-chat-app's way of sending a message.

Its `sendmessage` Lambda (Node.js) scans the whole connections table, projecting `connectionId`,
and posts the message to every connection at once (`Promise.all`), deleting any that answers 410.
This is that handler, line for line, in Python against a moto table; it reads no pages beyond the
first, as the sample doesn't (2,000 ids fit easily in one 1 MB page).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

TABLE = "simplechat_connections"


def create_table(ddb: Any, connection_ids: list[str]) -> None:
    """The sample's ConnectionsTable: hash key `connectionId`; its onconnect puts one item per socket."""
    ddb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, len(connection_ids), 25):
        batch = connection_ids[start : start + 25]
        ddb.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": {"connectionId": {"S": c}}}} for c in batch]}
        )


def send_message(event: dict[str, Any]) -> dict[str, Any]:
    """sendmessage/app.js's handler. Returns its response plus the Scan's item counts."""
    session = boto3.session.Session()
    ddb = session.client("dynamodb")
    connection_data = ddb.scan(TableName=TABLE, ProjectionExpression="connectionId")
    management = session.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_MANAGEMENT_URL"])
    post_data = json.loads(event["body"])["data"]

    def post(connection_id: str) -> None:
        try:
            management.post_to_connection(ConnectionId=connection_id, Data=post_data.encode())
        except management.exceptions.GoneException:
            ddb.delete_item(TableName=TABLE, Key={"connectionId": {"S": connection_id}})

    ids = [item["connectionId"]["S"] for item in connection_data["Items"]]
    with ThreadPoolExecutor(max_workers=32) as pool:  # Promise.all: every post at once
        list(pool.map(post, ids))
    return {
        "statusCode": 200,
        "body": "Data sent.",
        "scanned": connection_data["ScannedCount"],
        "posted": len(ids),
    }
