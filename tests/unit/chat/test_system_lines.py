"""System lines are stored as codes with parameters, so each reader reads them in their own language."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest

from functions.core import lines, settings
from functions.models import Message
from tests.support.actors import Socket, new_agent, new_visitor, start_chat

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def spanish_chat(aws):
    ana, ben = Socket(new_agent("Ana")), Socket(new_agent("Ben", accepting=False))
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor, email="vera@example.com", context={"language": "es-AR"})["chat_id"]
    return visitor, ana, ben, chat_id


def test_a_transfer_line_reaches_agents_as_a_code_and_the_visitor_only_as_its_seq(spanish_chat):
    visitor, ana, ben, chat_id = spanish_chat
    visitor.clear()
    ana.send({"action": "transfer", "chat_id": chat_id, "to_agent_id": ben.principal.id})
    [seen] = [f["message"] for f in visitor.of_type("message")]
    assert seen["kind"] == "hidden" and "text" not in seen  # routing lines are agents-only
    [told] = [f["message"] for f in ben.of_type("message")]
    assert (told["code"], told["params"]) == ("transferred", {"by": "Ana", "to": "Ben"})
    assert told["text"] == "Ana transferred the chat to Ben."  # for webhooks, exports and old clients
    # A visitor reading the transcript again (resume) gets the seq and nothing of the line.
    page = visitor.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    assert [(m["kind"], m.get("text")) for m in page["messages"]] == [("hidden", None)]


def test_closing_says_who_closed_in_each_readers_language_and_the_mailed_transcript_is_spanish(spanish_chat):
    settings.save_settings({"support_email": "support@charla.test"})
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="charla.test")
    visitor, ana, _ben, chat_id = spanish_chat
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "a", "text": "hola"})
    visitor.clear()
    ana.send({"action": "close", "chat_id": chat_id})
    [seen] = [f["message"]["text"] for f in visitor.of_type("message")]
    assert seen == "Ana ha cerrado el chat."
    visitor.send({"action": "transcript", "chat_id": chat_id})
    from moto.ses.models import ses_backends

    [sent] = ses_backends["123456789012"]["us-east-1"].sent_messages[-1:]
    assert sent.subject == "La transcripción de tu chat"
    assert "iniciado el" in sent.body and "Vera: hola" in sent.body and "Ana ha cerrado el chat." in sent.body


def test_a_line_stored_before_codes_existed_is_still_read_as_its_text(aws):
    visitor = Socket(new_visitor("Vera"))
    Socket(new_agent("Ana"))
    chat_id = start_chat(visitor)["chat_id"]
    Message(
        chat_id, 99, kind="system", sender="system", text="Ana joined the chat.", ts="2026-01-01T00:00:00.000Z"
    ).save()
    from functions.chat import messages

    [old] = [m for m in messages.page(visitor.principal, chat_id, 0)["messages"] if m["seq"] == 99]
    assert old["text"] == "Ana joined the chat." and "code" not in old


def test_every_code_has_every_language_here_and_in_the_console():
    for lang in lines.LANGUAGES:
        assert set(lines.CATALOGUE["en"]) == set(lines.CATALOGUE[lang]), lang
    for lang in ("en", "es"):
        source = (ROOT / "agent-ui" / "src" / "lang" / f"{lang}.js").read_text()
        for code in lines.CODES:
            match = re.search(rf"^\s*sys_{code}: '([^']*)',$", source, re.M)
            assert match, (lang, code)
            # The same placeholders, so the console fills what the server stored.
            assert set(re.findall(r"\{(\w+)\}", match.group(1))) == set(
                re.findall(r"\{(\w+)\}", lines.CATALOGUE[lang][code])
            ), (lang, code)
        assert lines.language("es-AR") == "es" and lines.language("fr") == "en" and lines.language(None) == "en"
