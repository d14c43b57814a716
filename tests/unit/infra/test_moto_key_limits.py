"""The tests' and the local stack's moto refuses over-long keys on every call, as DynamoDB does.

DynamoDB: a partition key value is at most 2,048 bytes and a sort key value at most 1,024, on reads
as well as writes (infra/local/moto_key_limits.py cites the sources). moto alone checks only the
items it stores, so an id a handler forgot to check passed as a 404 here and is a 500 on AWS.
"""

from __future__ import annotations

import pytest
from pynamodb.exceptions import DeleteError, GetError, QueryError, UpdateError

from functions.models import Chat, Message, Visitor

LONG_PARTITION = "é" * 1025  # 2,050 bytes in UTF-8: over 2,048 in only 1,025 characters
LONG_SORT = "x" * 1025


def _validation(error: pytest.ExceptionInfo) -> str:
    return str(error.value.cause_response_code)


def test_a_get_with_an_over_long_partition_key_is_a_validation_error(aws):
    with pytest.raises(GetError) as error:
        Visitor.get(LONG_PARTITION)
    assert _validation(error) == "ValidationException"


def test_a_key_at_the_limit_is_simply_missing(aws):
    with pytest.raises(Visitor.DoesNotExist):
        Visitor.get("x" * 2048)


def test_updates_deletes_and_queries_refuse_over_long_keys(aws):
    with pytest.raises(UpdateError) as updated:
        Visitor(LONG_PARTITION).update(actions=[Visitor.name.set("Eve")])
    with pytest.raises(DeleteError) as deleted:
        Chat(LONG_PARTITION).delete()
    with pytest.raises(QueryError) as queried:
        list(Message.query(LONG_PARTITION))
    assert {_validation(e) for e in (updated, deleted, queried)} == {"ValidationException"}


def test_a_sort_key_over_1024_bytes_is_refused_in_a_query(aws):
    with pytest.raises(QueryError) as queried:
        list(Chat.visitor_index.query("v_1", Chat.created_at < LONG_SORT))
    assert _validation(queried) == "ValidationException"
