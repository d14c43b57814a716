"""Files in chats: a grant over REST, the bytes straight to S3, a `file` message over the socket with every
guarantee a text message has, and downloads authorised like the chat."""

from __future__ import annotations

import boto3
import pytest
import requests

from functions.chat import files
from functions.core import settings
from functions.models import Message
from functions.visitors import identity
from tests.support import desk
from tests.support.actors import Socket, new_agent, start_chat
from tests.support.admin import add_user, body, call, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"1" * 64


@pytest.fixture
def buckets(aws, monkeypatch):
    desk.prepare(monkeypatch)


class Visitor:
    """A visitor with REST credentials and an open socket."""

    def __init__(self, name: str = "Vera") -> None:
        minted = identity.create_identity()
        self.headers = {"authorization": f"Visitor {minted['visitor_id']}:{minted['secret']}"}
        from functions.core.principals import Principal

        self.socket = Socket(Principal("visitor", minted["visitor_id"], name))


@pytest.fixture
def scene(buckets, api, pool):
    ana_id = add_user(pool, "ana@example.com", "Ana")
    token = login(api, "ana@example.com")["id_token"]
    from functions.core.principals import Principal

    agent = Socket(Principal("agent", ana_id, "Ana", "agent"))
    vera = Visitor()
    chat_id = start_chat(vera.socket)["chat_id"]
    agent.clear()
    vera.socket.clear()
    return api, token, agent, vera, chat_id


def grant(api, chat_id, body_, *, headers=None, token=None, side="visitor"):
    response = call(api, "POST", f"/{side}/chats/{chat_id}/files", token, body_, **(headers or {}))
    return response.status_code, body(response)


def upload(granted: dict, data: bytes) -> None:
    fields = dict(granted["upload"]["fields"])
    response = requests.post(granted["upload"]["url"], data=fields, files={"file": ("f", data)}, timeout=10)
    assert response.status_code == 204, response.text


def test_a_visitor_sends_a_file_and_the_agent_downloads_it_as_an_attachment(scene):
    api, token, agent, vera, chat_id = scene
    status, granted = grant(
        api, chat_id, {"name": "../bróken part.png", "content_type": "image/png", "size": 72}, headers=vera.headers
    )
    assert status == 201 and granted["file"]["name"] == "bróken part.png"
    assert granted["upload"]["fields"]["key"] == files.key(chat_id, granted["file"]["file_id"])
    upload(granted, PNG)
    file_id = granted["file"]["file_id"]
    replies = vera.socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": "f1", "file_id": file_id})
    ack = next(f for f in replies if f["type"] == "ack")
    [shown] = [m["message"] for m in agent.of_type("message")]
    assert (shown["seq"], shown["kind"], shown["text"]) == (ack["seq"], "file", "bróken part.png")
    assert shown["file"] == {"file_id": file_id, "name": "bróken part.png", "content_type": "image/png", "size": 72}
    link = body(call(api, "GET", f"/agent/chats/{chat_id}/files/{file_id}", token))
    got = requests.get(link["url"], timeout=10)
    assert got.content == PNG and got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["Content-Type"] == "image/png"


def test_an_agent_sends_a_file_and_the_visitor_downloads_it(scene):
    api, token, agent, vera, chat_id = scene
    status, granted = grant(
        api, chat_id, {"name": "invoice.pdf", "content_type": "application/pdf", "size": 73}, token=token, side="agent"
    )
    assert status == 201
    upload(granted, PDF)
    file_id = granted["file"]["file_id"]
    agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": "a1", "file_id": file_id})
    [shown] = [m["message"] for m in vera.socket.of_type("message")]
    assert shown["kind"] == "file" and shown["file"]["name"] == "invoice.pdf"
    link = body(call(api, "GET", f"/visitor/chats/{chat_id}/files/{file_id}", **vera.headers))
    assert requests.get(link["url"], timeout=10).content == PDF


@pytest.mark.parametrize(
    ("sent", "code", "field"),
    [
        ({"name": "page.html", "content_type": "text/html", "size": 10}, "attachment_refused", "content_type"),
        ({"name": "logo.svg", "content_type": "image/svg+xml", "size": 10}, "attachment_refused", "content_type"),
        ({"name": "photo.html", "content_type": "image/png", "size": 10}, "attachment_refused", "name"),
        (
            {"name": "big.pdf", "content_type": "application/pdf", "size": 11 * 1024 * 1024},
            "attachment_too_large",
            "size",
        ),
        ({"name": "x.pdf", "content_type": "application/pdf", "size": "10"}, "bad_request", "size"),
        ({"name": "", "content_type": "application/pdf", "size": 10}, "attachment_refused", "name"),
    ],
)
def test_a_refused_file_gets_a_400_naming_the_field_before_any_upload(scene, sent, code, field):
    api, _token, _agent, vera, chat_id = scene
    status, refused = grant(api, chat_id, sent, headers=vera.headers)
    assert (status, refused["Code"], refused["Field"]) == (400, code, field), refused


def test_the_admin_turns_visitor_uploads_off_and_sets_the_size_limit(scene):
    api, token, _agent, vera, chat_id = scene
    settings.save_settings({"visitor_uploads": False, "chat_file_max_mb": 1})
    status, refused = grant(
        api, chat_id, {"name": "a.png", "content_type": "image/png", "size": 72}, headers=vera.headers
    )
    assert status == 403 and "turned off" in refused["Message"]
    status, refused = grant(
        api, chat_id, {"name": "a.pdf", "content_type": "application/pdf", "size": 2 << 20}, token=token, side="agent"
    )
    assert (status, refused["Field"]) == (400, "size") and "1 MB" in refused["Message"]
    status, granted = grant(
        api, chat_id, {"name": "a.pdf", "content_type": "application/pdf", "size": 73}, token=token, side="agent"
    )
    assert status == 201 and granted["max_bytes"] == 1 << 20


def test_a_file_message_survives_a_lost_ack_and_is_stored_once_on_resend(scene):
    api, _token, agent, vera, chat_id = scene
    _, granted = grant(api, chat_id, {"name": "a.png", "content_type": "image/png", "size": 72}, headers=vera.headers)
    upload(granted, PNG)
    frame = {"action": "send", "chat_id": chat_id, "client_msg_id": "same", "file_id": granted["file"]["file_id"]}
    first = next(f for f in vera.socket.send(frame) if f["type"] == "ack")
    vera.socket.close()  # the socket drops before the ack is seen; the widget reconnects and resends
    again = Socket(vera.socket.principal)
    second = next(f for f in again.send(frame) if f["type"] == "ack")
    assert (second["seq"], second["duplicate"]) == (first["seq"], True)
    assert [m.kind for m in Message.query(chat_id) if m.kind == "file"] == ["file"]
    resumed = again.send({"action": "resume", "chat_id": chat_id, "after_seq": first["seq"] - 1})
    [page] = [f for f in resumed if f["type"] == "messages"]
    assert [(m["seq"], m["file"]["name"]) for m in page["messages"]] == [(first["seq"], "a.png")]
    assert len([m for m in agent.of_type("message") if m["message"]["kind"] == "file"]) == 1


def test_a_file_that_is_not_what_it_claims_is_refused_at_send_and_deleted(scene):
    api, _token, agent, vera, chat_id = scene
    _, granted = grant(api, chat_id, {"name": "a.png", "content_type": "image/png", "size": 40}, headers=vera.headers)
    upload(granted, b"<html><script>alert(1)</script></html>")
    file_id = granted["file"]["file_id"]
    replies = vera.socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": "x", "file_id": file_id})
    [error] = [f for f in replies if f["type"] == "error"]
    assert error["code"] == "attachment_refused" and "`file_id`" in error["message"]
    assert agent.of_type("message") == []
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.list_objects_v2(Bucket=desk.ATTACHMENTS_BUCKET, Prefix=files.key(chat_id, "")).get("KeyCount") == 0
    missing = vera.socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": "y", "file_id": "f_" + "a" * 16})
    assert [f["code"] for f in missing if f["type"] == "error"] == ["not_found"]


def test_a_download_is_refused_across_chats_and_to_an_agent_without_access(scene, pool):
    api, _token, _agent, vera, chat_id = scene
    _, granted = grant(api, chat_id, {"name": "a.png", "content_type": "image/png", "size": 72}, headers=vera.headers)
    upload(granted, PNG)
    file_id = granted["file"]["file_id"]
    vera.socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": "f", "file_id": file_id})
    ivan = Visitor("Ivan")
    ivans_chat = start_chat(ivan.socket)["chat_id"]
    assert call(api, "GET", f"/visitor/chats/{chat_id}/files/{file_id}", **ivan.headers).status_code == 404
    # The file id with his own chat: the key is the chat's, so nothing is found.
    assert call(api, "GET", f"/visitor/chats/{ivans_chat}/files/{file_id}", **ivan.headers).status_code == 404
    # Agents read every chat (the shared archive), so Bob may download; he sends only where he takes part,
    # and once an admin disables him he reads nothing.
    bob_id = add_user(pool, "bob@example.com", "Bob")
    bob = login(api, "bob@example.com")["id_token"]
    assert call(api, "GET", f"/agent/chats/{chat_id}/files/{file_id}", bob).status_code == 200
    status, _ = grant(api, chat_id, {"name": "a.png", "content_type": "image/png", "size": 72}, token=bob, side="agent")
    assert status == 404
    add_user(pool, "boss@example.com", "Boss", role="admin")
    boss = login(api, "boss@example.com")["id_token"]
    assert call(api, "PATCH", f"/admin/agents/{bob_id}", boss, {"disabled": True}).status_code == 200
    assert call(api, "GET", f"/agent/chats/{chat_id}/files/{file_id}", bob).status_code in (401, 403)
    assert call(api, "GET", f"/agent/chats/{chat_id}/files/{file_id}").status_code == 401
    # Another chat's file can't be sent into Ivan's chat either.
    refused = ivan.socket.send({"action": "send", "chat_id": ivans_chat, "client_msg_id": "s", "file_id": file_id})
    assert [f["code"] for f in refused if f["type"] == "error"] == ["not_found"]


def test_a_file_message_costs_the_dynamodb_calls_of_a_text_message(scene, monkeypatch):
    api, _token, _agent, vera, chat_id = scene
    _, granted = grant(api, chat_id, {"name": "a.png", "content_type": "image/png", "size": 72}, headers=vera.headers)
    upload(granted, PNG)
    new_agent("Bo")
    import botocore.client

    calls: list[str] = []
    real = botocore.client.BaseClient._make_api_call

    def count(client, operation, params):
        if client.meta.service_model.service_name == "dynamodb":
            calls.append(operation)
        return real(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", count)
    vera.socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": "t", "text": "hi"})
    text_calls, calls[:] = list(calls), []
    vera.socket.send(
        {"action": "send", "chat_id": chat_id, "client_msg_id": "f", "file_id": granted["file"]["file_id"]}
    )
    assert calls == text_calls and len(calls) <= 3, calls


def test_a_visitors_export_holds_their_files_and_erasure_deletes_them(scene):
    from functions.visitors import data_requests

    api, _token, _agent, vera, chat_id = scene
    _, granted = grant(api, chat_id, {"name": "a.png", "content_type": "image/png", "size": 72}, headers=vera.headers)
    upload(granted, PNG)
    vera.socket.send(
        {"action": "send", "chat_id": chat_id, "client_msg_id": "f", "file_id": granted["file"]["file_id"]}
    )
    visitor_id = vera.socket.principal.id
    [chat] = data_requests.export(visitor_id)["chats"]
    [exported] = chat["files"]
    assert exported["name"] == "a.png" and requests.get(exported["url"], timeout=10).content == PNG
    assert [m["file"]["name"] for m in chat["messages"] if m["kind"] == "file"] == ["a.png"]
    counts = data_requests.erase(new_agent("Root", role="admin"), visitor_id)
    assert counts["files"] == 1
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.list_objects_v2(Bucket=desk.ATTACHMENTS_BUCKET, Prefix=files.key(chat_id, "")).get("KeyCount") == 0


def sent_file(api, vera, chat_id, name="a.png", data=PNG, content_type="image/png", cmid="f"):
    _, granted = grant(
        api, chat_id, {"name": name, "content_type": content_type, "size": len(data)}, headers=vera.headers
    )
    upload(granted, data)
    vera.socket.send(
        {"action": "send", "chat_id": chat_id, "client_msg_id": cmid, "file_id": granted["file"]["file_id"]}
    )
    return granted["file"]["file_id"]


def test_a_ticket_made_from_the_chat_carries_its_files_as_attachments(scene):
    api, token, _agent, vera, chat_id = scene
    sent_file(api, vera, chat_id, "broken part.png")
    made = body(call(api, "POST", f"/agent/chats/{chat_id}/ticket", token, {}))
    ticket = body(call(api, "GET", f"/agent/tickets/{made['ticket_id']}", token))
    [entry] = [e for e in ticket["events"] if (e.get("data") or {}).get("attachments")]
    [attachment] = entry["data"]["attachments"]
    assert (entry["body"], attachment["name"], attachment["state"]) == ("broken part.png", "broken part.png", "stored")
    link = body(
        call(api, "GET", f"/agent/tickets/{made['ticket_id']}/attachments/{attachment['attachment_id']}", token)
    )
    assert requests.get(link["url"], timeout=10).content == PNG


def test_the_mailed_transcript_names_the_file(scene):
    from functions.chat import transcripts
    from functions.models import Chat

    api, _token, _agent, vera, chat_id = scene
    sent_file(api, vera, chat_id, "receipt.pdf", PDF, "application/pdf")
    text = transcripts.render(Chat.get(chat_id))
    assert "Vera: [file] receipt.pdf" in text and "http" not in text


@pytest.mark.parametrize("file_id", [{}, 5, True, "", "f_" + "a" * 200, "f_\ud800aaaaaaaaaaaaaaa", "../" * 10])
def test_a_malformed_file_id_is_refused_naming_the_field_and_nothing_is_stored(scene, file_id):
    _api, _token, agent, vera, chat_id = scene
    replies = vera.socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": "bad", "file_id": file_id})
    [error] = [f for f in replies if f["type"] == "error"]
    assert error["code"] == "bad_request" and "`file_id`" in error["message"]
    assert agent.of_type("message") == [] and list(Message.query(chat_id, Message.seq > 1)) == []
