"""Makes moto's DynamoDB refuse over-long keys on every call, as DynamoDB does.

A partition key value is at most 2,048 bytes and a sort key value at most 1,024 ("Partition keys
and sort keys", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html).
DynamoDB enforces it on reads and key lookups too: GetItem, BatchGetItem, DeleteItem, UpdateItem
and Query with a longer key answer `ValidationException` ("Size of hashkey has exceeded the maximum
size limit of2048 bytes"; AWS CLI captures in ExtendDB/extenddb#194, and a Query in
facebook/ThreatExchange#1324). moto checks only items it stores and answers a miss otherwise, so an
unchecked id is a 404 locally and a 500 on AWS. Here every key moto is handed is checked first.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.dynamodb.exceptions import HashKeyTooLong, MockValidationException, RangeKeyTooLong
from moto.dynamodb.limits import HASH_KEY_MAX_LENGTH, RANGE_KEY_MAX_LENGTH
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType


def _size(value: Any) -> int:
    try:
        return DynamoType(value).size() if isinstance(value, dict) else value.size()
    except UnicodeEncodeError:
        # A lone surrogate: not a string DynamoDB can hold.
        raise MockValidationException("One or more parameter values were invalid: invalid UTF-8 in a key") from None


def check_hash(value: Any) -> None:
    if value is not None and _size(value) > HASH_KEY_MAX_LENGTH:
        raise HashKeyTooLong


def check_range(value: Any) -> None:
    if value is not None and _size(value) > RANGE_KEY_MAX_LENGTH:
        raise RangeKeyTooLong


def _check_key(table: Any, key: Any) -> None:
    if not isinstance(key, dict):
        return
    check_hash(key.get(table.hash_key_attr))
    if table.range_key_attr:
        check_range(key.get(table.range_key_attr))


def _get_keys_value(original: Any) -> Any:
    @functools.wraps(original)
    def call(self: DynamoDBBackend, table: Any, keys: dict[str, Any]) -> Any:
        _check_key(table, keys)
        return original(self, table, keys)

    return call


def _update_item(original: Any) -> Any:
    @functools.wraps(original)
    def call(self: DynamoDBBackend, table_name: str, key: Any, *args: Any, **kwargs: Any) -> Any:
        _check_key(self.get_table(table_name), key)
        return original(self, table_name, key, *args, **kwargs)

    return call


def _query(original: Any) -> Any:
    @functools.wraps(original)
    def call(
        self: DynamoDBBackend,
        table_name: str,
        hash_key_dict: Any,
        range_comparison: Any,
        range_value_dicts: list[Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        check_hash(hash_key_dict)
        for value in range_value_dicts or ():
            check_range(value)
        for _name, value in kwargs.get("hash_key_conditions") or ():
            check_hash(value)
        for _name, _comparison, values in kwargs.get("range_key_conditions") or ():
            for value in values:
                check_range(value)
        return original(self, table_name, hash_key_dict, range_comparison, range_value_dicts, *args, **kwargs)

    return call


def install() -> None:
    if getattr(DynamoDBBackend.get_keys_value, "_charla_key_limits", False):
        return
    for name, wrap in (("get_keys_value", _get_keys_value), ("update_item", _update_item), ("query", _query)):
        wrapped = wrap(getattr(DynamoDBBackend, name))
        wrapped._charla_key_limits = True
        setattr(DynamoDBBackend, name, wrapped)
