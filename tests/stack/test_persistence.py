"""`make run` keeps its data across restarts: a stack started on the folder another one left behind
finds its agents, passwords, tokens, chats, tickets, attachments, settings and sent mail; a fresh start
finds none of it.

The restart runs moto in its own process, as `make run` does; each step goes over HTTP, SMTP or a
WebSocket as the console, a visitor or a mail client would. After a crash, the last periodic snapshot
is what there is, with rows for sockets that died with the process.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import requests

from infra.local import snapshot
from infra.local.stack import LocalStack
from tests.support import outbox, ws_client
from tests.support.stack_http import call

PDF = b"%PDF-1.4\n" + b"7" * 300
VERA = ("vera@example.com", "Vera-s3cret-Pass!", "Vera")


def ticket_with_an_attachment_and_a_reply(stack: LocalStack, auth: dict[str, str]) -> tuple[str, str]:
    outbox.send_mail(stack, "Invoice 77", "Please check invoice 77.")
    status, found = call(stack, "GET", "/agent/tickets?requester=rex@example.com", headers=auth)
    assert status == 200 and len(found["tickets"]) == 1, found
    ref = found["tickets"][0]["ticket_id"]
    announce = {"name": "invoice.pdf", "content_type": "application/pdf", "size": len(PDF)}
    status, started = call(stack, "POST", f"/agent/tickets/{ref}/attachments", announce, auth)
    assert status == 201, started
    upload = started["upload"]
    posted = requests.post(upload["url"], data=upload["fields"], files={"file": ("f.pdf", PDF)}, timeout=10)
    assert posted.status_code == 204, posted.text
    attachment_id = started["attachment"]["attachment_id"]
    status, done = call(stack, "POST", f"/agent/tickets/{ref}/attachments/{attachment_id}/complete", {}, auth)
    assert status == 200 and done["state"] == "stored", done
    status, replied = call(stack, "POST", f"/agent/tickets/{ref}/replies", {"body": "Line 3 is fixed."}, auth)
    assert status == 201, replied
    return ref, attachment_id


def test_a_restart_on_the_same_folder_keeps_everything_and_a_fresh_start_keeps_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalStack(port=0, moto_process=True, data=data, ses_production_access=True) as first:
        assert not first.restored
        admin = {"Authorization": first.id_token(first.demo_email, first.demo_password)}
        first.create_agent(*VERA)
        vera_token = first.id_token(VERA[0], VERA[1])
        refresh = first.sign_in(first.demo_email, first.demo_password)["RefreshToken"]
        chat_id = ws_client.chat_with_a_message(first, admin, "Still there?")
        ref, attachment_id = ticket_with_an_attachment_and_a_reply(first, admin)
        status, changed = call(first, "PATCH", "/admin/settings", {"welcome": "Kept across restarts"}, admin)
        assert status == 200, changed
        password, admin_id, pool_id = first.demo_password, first.demo_agent_id, first.user_pool_id
        console = ws_client.agent(first, first.demo_email, first.demo_password)
    # Stopping tells open sockets the service restarts, so they try again within seconds (ui-common/socket.js).
    console.wait_closed()
    assert console.close_code == 1012
    ws_client.close_all()

    with LocalStack(port=0, moto_process=True, data=data, ses_production_access=True) as second:
        assert second.restored
        # The same printed password, the same admin, and the console's tokens still verify.
        assert (second.demo_password, second.demo_agent_id, second.user_pool_id) == (password, admin_id, pool_id)
        status, me = call(second, "GET", "/agent/me", headers={"Authorization": vera_token})
        assert status == 200 and me["email"] == VERA[0], me
        assert call(second, "GET", "/agent/me", headers=admin)[0] == 200
        renewed = boto3.client("cognito-idp", region_name="us-east-1").initiate_auth(
            ClientId=second.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh}
        )
        renewed_token = renewed["AuthenticationResult"]["IdToken"]
        assert call(second, "GET", "/agent/me", headers={"Authorization": renewed_token})[0] == 200
        assert second.id_token(VERA[0], VERA[1])  # her password signs in
        status, page = call(second, "GET", f"/agent/chats/{chat_id}/messages", headers=admin)
        assert status == 200 and "Still there?" in [m.get("text") for m in page["messages"]], page
        status, opened = call(second, "GET", f"/agent/tickets/{ref}", headers=admin)
        assert status == 200 and opened["ticket"]["subject"] == "Invoice 77", opened
        status, link = call(second, "GET", f"/agent/tickets/{ref}/attachments/{attachment_id}", headers=admin)
        assert status == 200, link
        assert requests.get(link["url"], timeout=10).content == PDF
        status, widget = call(second, "GET", "/widget/settings")
        assert status == 200 and widget["welcome"] == "Kept across restarts", widget
        assert any("Line 3 is fixed." in m["body"] for m in outbox.of_stack(second) if f"[#{ref}]" in m["subject"])
        # The console reconnects with the token it had, and takes a new visitor's chat.
        assert ws_client.chat_with_a_message(second, admin, "Still there?") != chat_id

    with LocalStack(port=0, data=data, fresh=True, ses_production_access=True) as fresh:
        assert not fresh.restored and fresh.demo_password != password
        assert call(fresh, "GET", "/agent/me", headers={"Authorization": vera_token})[0] == 401
        assert fresh.id_token(fresh.demo_email, fresh.demo_password)
        auth = {"Authorization": fresh.id_token(fresh.demo_email, fresh.demo_password)}
        assert call(fresh, "GET", f"/agent/tickets/{ref}", headers=auth)[0] == 404
        assert call(fresh, "GET", "/widget/settings")[1]["welcome"] != "Kept across restarts"
        assert outbox.of_stack(fresh) == []


def test_after_a_crash_the_last_periodic_snapshot_serves_and_its_stale_sockets_break_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalStack(port=0, data=data, ses_production_access=True) as first:
        console = ws_client.agent(first, first.demo_email, first.demo_password)
        snapshot.save(data)  # what the periodic save wrote while the console was connected
        crashed = (data / snapshot.FILE_NAME).read_bytes()
        password = first.demo_password
    ws_client.close_all()
    (data / snapshot.FILE_NAME).write_bytes(crashed)  # the process died: no clean $disconnect was saved

    with LocalStack(port=0, data=data, ses_production_access=True) as second:
        assert second.restored and second.demo_password == password
        visitor = ws_client.visitor(second)
        visitor.send({"action": "start_chat", "name": "Carl"})
        chat = visitor.wait_for("chat")["chat"]
        # The console comes back and gets the visitor's message; nothing was lost on the dead socket.
        console = ws_client.agent(second, second.demo_email, password)
        visitor.send({"action": "send", "chat_id": chat["chat_id"], "client_msg_id": "m1", "text": "hello?"})
        assert (
            console.wait_for("message", lambda f: f["message"]["text"] == "hello?")["message"]["chat_id"]
            == chat["chat_id"]
        )
        ws_client.close_all()
