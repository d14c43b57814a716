"""The chat archive: what agents find, by words (accents, case, the last word as a prefix) and by filters."""

from __future__ import annotations

import pytest

from functions.chat import archive, chats
from functions.core.errors import CharlaError
from functions.models import ArchiveEntry, ArchivePosting, Chat
from tests.support.actors import Socket, a_chat, new_agent


def _say(socket: Socket, chat_id: str, text: str, n: list[int] = [0]) -> None:  # noqa: B006 - a counter
    n[0] += 1
    socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": f"m{n[0]}", "text": text})


def _found(caller: Socket, **params: str) -> list[dict]:
    return archive.search(caller.principal, params)["chats"]


@pytest.fixture
def closed_chat(aws):
    visitor, agent, chat_id = a_chat()
    _say(visitor, chat_id, "Hola, ¿dónde está mi ENVÍO número 4411?")
    _say(agent, chat_id, "Lo miro ahora mismo")
    visitor.send({"action": "close", "chat_id": chat_id})
    return agent, chat_id


def test_words_fold_case_and_accents():
    assert archive.words("ENVÍO envío Envio, ça") == ["envio", "ca"]
    assert archive.words("a_b x") == []  # one letter is no word


@pytest.mark.parametrize("q", ["envio", "ENVIO", "envío", "env", "número envi", "donde esta envio"])
def test_accents_case_and_a_prefix_last_word_find_the_chat_and_its_matching_line(closed_chat, q):
    agent, chat_id = closed_chat
    found = _found(agent, q=q)
    assert [c["chat_id"] for c in found] == [chat_id]
    assert found[0]["match"] == "Vera: Hola, ¿dónde está mi ENVÍO número 4411?"
    assert found[0]["status"] == "closed"


@pytest.mark.parametrize("q", ["envio paquete", "envios", "nvio", "envio 4412"])
def test_every_word_must_match_and_only_the_last_is_a_prefix(closed_chat, q):
    agent, _ = closed_chat
    assert _found(agent, q=q) == []


def test_a_whole_word_before_the_last_is_not_a_prefix(closed_chat):
    agent, _ = closed_chat
    assert _found(agent, q="env ahora") == []


def test_the_chat_reference_and_visitor_name_find_the_chat(closed_chat):
    agent, chat_id = closed_chat
    assert [c["chat_id"] for c in _found(agent, q=chat_id)] == [chat_id]
    chat = Chat.get(chat_id)
    chat.update(actions=[Chat.visitor_email.set("Vera.Lopez@Example.com")])
    archive.index_chat(Chat.get(chat_id))
    assert [c["chat_id"] for c in _found(agent, q="vera.lopez@example")] == [chat_id]


def test_open_chats_are_listed_marked_open_and_closed_ones_newest_first(aws):
    visitor, agent, first = a_chat()
    visitor.send({"action": "close", "chat_id": first})
    visitor2, _, second = a_chat()
    listed = _found(agent)
    assert [(c["chat_id"], c["status"]) for c in listed[:2]] == [(second, "open"), (first, "closed")]
    assert [c["chat_id"] for c in _found(agent, status="open")] == [second]
    assert [c["chat_id"] for c in _found(agent, status="closed")] == [first]


def test_filters_by_agent_rating_tag_and_date(closed_chat):
    agent, chat_id = closed_chat
    other = Socket(new_agent("Bo"))
    assert [c["chat_id"] for c in _found(agent, agent="me")] == [chat_id]
    assert _found(other, agent="me") == []
    assert _found(agent, rating="good") == []
    assert [c["chat_id"] for c in _found(agent, rating="none")] == [chat_id]
    Chat(chat_id).update(actions=[Chat.rating.set("good"), Chat.tags.set({"vip"})])
    archive.index_chat(Chat.get(chat_id))
    assert [c["chat_id"] for c in _found(agent, rating="good", tag="vip", q="envio")] == [chat_id]
    assert _found(agent, tag="other") == []
    day = Chat.get(chat_id).created_at[:10]
    assert [c["chat_id"] for c in _found(agent, **{"from": day, "to": day})] == [chat_id]
    assert _found(agent, **{"from": "2001-01-01", "to": "2001-01-02"}) == []


def test_reindexing_is_idempotent_and_drops_postings_no_longer_true(closed_chat):
    _, chat_id = closed_chat
    before = ArchiveEntry.get(chat_id).postings
    archive.index_chat(Chat.get(chat_id))
    assert ArchiveEntry.get(chat_id).postings == before
    Chat(chat_id).update(actions=[Chat.tags.set({"vip"})])
    archive.index_chat(Chat.get(chat_id))
    Chat(chat_id).update(actions=[Chat.tags.remove()])
    archive.index_chat(Chat.get(chat_id))
    assert ArchiveEntry.get(chat_id).postings == before
    assert list(ArchivePosting.query("tag:vip")) == []


def test_cursor_pages_go_on_newest_first_without_repeats(aws):
    visitor, agent, chat_id = a_chat()
    ids = [chat_id]
    visitor.send({"action": "close", "chat_id": chat_id})
    for _ in range(4):
        visitor, _, chat_id = a_chat()
        visitor.send({"action": "close", "chat_id": chat_id})
        ids.append(chat_id)
    seen, cursor = [], None
    while True:
        page = archive.search(agent.principal, {"limit": "2", **({"cursor": cursor} if cursor else {})})
        seen += [c["chat_id"] for c in page["chats"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "gone"}, "status"),
        ({"rating": "meh"}, "rating"),
        ({"agent": "a#b"}, "agent"),
        ({"tag": "x y"}, "tag"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"limit": "500"}, "limit"),
        ({"q": "x" * 201}, "q"),
        ({"q": "¿?"}, "q"),
    ],
)
def test_a_bad_filter_is_refused_naming_its_field(aws, params, field):
    with pytest.raises(CharlaError) as refused:
        archive.search(new_agent("Ana"), params)
    # Over a limit is `too_long` (docs/openapi.yaml); anything else malformed is `bad_request`.
    code = "too_long" if params.get("q") == "x" * 201 else "bad_request"
    assert refused.value.code == code and refused.value.field == field


def test_the_csv_keeps_formulas_as_text(closed_chat):
    agent, chat_id = closed_chat
    Chat(chat_id).update(actions=[Chat.visitor_name.set('=HYPERLINK("http://x")')])
    archive.index_chat(Chat.get(chat_id))
    out = archive.to_csv(agent.principal, {})
    assert "'=HYPERLINK" in out and chat_id in out.splitlines()[1]


def test_erasing_a_visitor_removes_their_chats_from_the_archive(closed_chat):
    agent, chat_id = closed_chat
    archive.forget_chat(chat_id)
    assert _found(agent, q="envio") == [] and list(ArchivePosting.query("all")) == []


def test_closing_indexes_even_when_the_chat_ended_by_a_sweep(aws):
    visitor, agent, chat_id = a_chat()
    _say(visitor, chat_id, "pedido retrasado")
    chats.end(Chat.get(chat_id), closed_by="system", note=chats.lines.line("agent_closed"))
    assert [(c["chat_id"], c["status"]) for c in _found(agent, q="pedido retras")] == [(chat_id, "closed")]


def test_a_rating_given_after_the_end_reaches_the_rating_filter(aws):
    visitor, agent, chat_id = a_chat()
    visitor.send({"action": "close", "chat_id": chat_id})
    assert _found(agent, rating="good") == []
    visitor.send({"action": "rate", "chat_id": chat_id, "rating": "good"})
    assert [c["chat_id"] for c in _found(agent, rating="good")] == [chat_id]
    assert _found(agent, rating="none") == []


def test_messages_are_not_indexed_until_the_chat_ends(aws):
    visitor, agent, chat_id = a_chat()
    _say(visitor, chat_id, "factura pendiente")
    assert _found(agent, q="factura") == []  # nothing is written on the message path
    visitor.send({"action": "close", "chat_id": chat_id})
    assert [c["chat_id"] for c in _found(agent, q="factura")] == [chat_id]
