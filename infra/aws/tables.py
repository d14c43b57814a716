"""The DynamoDB tables of the stack, generated from the PynamoDB models so the two cannot drift.

The schema comes from `Model._get_schema()`, the same description PynamoDB's `create_table` sends,
which is how the local stack and the tests create their tables (functions/core/tables.py).
"""

from __future__ import annotations

from typing import Any, cast

from pynamodb.models import Model

from functions import models

# Tables hold the organisation's chats, tickets and agents: a deleted stack keeps them, and so
# does a change that would replace one. `destroy --delete-data` is the only way they go.
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def suffix(model: type[Model]) -> str:
    """`chats` for `<prefix>-chats`: the part of the table name that is the same in every stage."""
    prefix = models._table("")
    name = model.Meta.table_name
    if not name.startswith(prefix):
        raise ValueError(f"{name} does not start with {prefix}: CHARLA_TABLE_PREFIX changed after import")
    return name[len(prefix) :]


def logical_id(model: type[Model]) -> str:
    """`message-keys` -> `MessageKeysTable`."""
    return "".join(part.capitalize() for part in suffix(model).split("-")) + "Table"


def _keys(key_schema: list[dict[str, str]]) -> list[dict[str, str]]:
    # CloudFormation wants HASH before RANGE; PynamoDB lists them in attribute order.
    ordered = sorted(key_schema, key=lambda key: key["KeyType"] != "HASH")
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in ordered]


def _index(schema: dict[str, Any]) -> dict[str, Any]:
    projection = {"ProjectionType": schema["projection"]["ProjectionType"]}
    if schema["projection"].get("NonKeyAttributes"):
        projection["NonKeyAttributes"] = sorted(schema["projection"]["NonKeyAttributes"])
    keys = _keys(schema["key_schema"])
    return {"IndexName": schema["index_name"], "KeySchema": keys, "Projection": projection}


def table(model: type[Model], prefix: str) -> dict[str, Any]:
    schema = cast(dict[str, Any], model._get_schema())
    definitions = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    properties: dict[str, Any] = {
        "TableName": f"{prefix}-{suffix(model)}",
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in sorted(definitions.items())
        ],
        "KeySchema": _keys(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        # A console click cannot delete a table either; destroy --delete-data lifts this first.
        "DeletionProtectionEnabled": True,
    }
    indexes = sorted(schema["global_secondary_indexes"], key=lambda index: index["index_name"])
    if indexes:
        properties["GlobalSecondaryIndexes"] = [_index(index) for index in indexes]
    local = sorted(schema["local_secondary_indexes"], key=lambda index: index["index_name"])
    if local:
        properties["LocalSecondaryIndexes"] = [_index(index) for index in local]
    ttl = model._ttl_attribute()
    if ttl is not None:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", **RETAIN, "Properties": properties}


def resources(prefix: str) -> dict[str, dict[str, Any]]:
    """Every table of `functions.models.ALL_MODELS`, by logical id."""
    return {logical_id(model): table(model, prefix) for model in models.ALL_MODELS}
