"""The operator's backfill indexes the chats the archive lacks, and running it again indexes nothing."""

from __future__ import annotations

from functions.chat import archive
from functions.models import ArchiveEntry, Chat
from infra.aws import archive_backfill
from tests.support.actors import a_chat


def test_chats_from_before_the_archive_are_indexed_once(aws):
    visitor, agent, chat_id = a_chat()
    visitor.send({"action": "close", "chat_id": chat_id})
    archive.forget_chat(chat_id)  # as if it had closed before the archive existed
    assert archive.search(agent.principal, {})["chats"] == []

    assert archive_backfill.run() == 1
    assert [c["chat_id"] for c in archive.search(agent.principal, {"status": "closed"})["chats"]] == [chat_id]
    assert ArchiveEntry.get(chat_id).status == "closed" and Chat.get(chat_id).status == "closed"
    assert archive_backfill.run() == 0
