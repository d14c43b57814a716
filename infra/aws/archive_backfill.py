"""Indexes in the archive the chats a stack held before it had one: an operator's one-off command.

    CHARLA_TABLE_PREFIX=charla-prod AWS_REGION=eu-west-1 python -m infra.aws.archive_backfill

There is no way to list every chat without reading the whole chats table, so this is the one Scan in
Charla, and it runs here, on the operator's machine with the operator's credentials, never in a
Lambda (whose role has no `dynamodb:Scan`). It reads keys only, a page at a time, and indexes each chat
the archive lacks with `functions.chat.archive.index_chat`, the same call a chat's end makes; running
it again skips what is indexed, so an interrupted run is simply started again.
"""

from __future__ import annotations

import sys

from functions.chat import archive
from functions.core import aws
from functions.models import ArchiveEntry, Chat


def run() -> int:
    client = aws.client("dynamodb")
    indexed = 0
    pages = client.get_paginator("scan").paginate(
        TableName=Chat.Meta.table_name, ProjectionExpression="chat_id", PaginationConfig={"PageSize": 100}
    )
    for page in pages:
        ids = [item["chat_id"]["S"] for item in page.get("Items", [])]
        known = {e.chat_id for e in ArchiveEntry.batch_get(ids, attributes_to_get=["chat_id"])} if ids else set()
        for chat in Chat.batch_get([i for i in ids if i not in known]):
            archive.index_chat(chat)
            indexed += 1
        print(f"indexed {indexed} chats so far", file=sys.stderr, flush=True)
    return indexed


if __name__ == "__main__":
    print(f"indexed {run()} chats")
