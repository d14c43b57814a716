"""A DynamoDB table with a string `pk` and a range key `sk`, as the moto tests make it."""

from __future__ import annotations

from typing import Any


def pk_sk_table(dynamodb: Any, name: str, sk_type: str) -> Any:
    """`dynamodb` is a boto3 client or resource: each answers `create_table` in its own form."""
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": sk_type},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
