"""Files in chats through the local stack: API Gateway's REST and WebSocket, and an S3 that holds a presigned
POST to its policy. A `file` message whose ack was lost with the socket is resent on a new socket and stored
once; `resume` brings it back."""

from __future__ import annotations

import requests

from tests.support import stack_http, ws_client

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_file_message_survives_a_dropped_socket_and_a_resend(stack):
    identity = stack_http.ok(stack, "POST", "/visitor/identity")
    auth = f"Visitor {identity['visitor_id']}:{identity['secret']}"

    def connect() -> ws_client.Client:
        ticket = stack_http.ok(stack, "POST", "/visitor/ws-ticket", token=auth)["ticket"]
        client = ws_client.Client(stack.ws_url, ticket, stack.base_url)
        client.send({"action": "hello"})
        client.wait_for("welcome")
        return client

    agent = ws_client.agent(stack, stack.demo_email, stack.demo_password)  # someone online to chat with
    first = connect()
    first.send({"action": "start_chat"})
    chat_id = first.wait_for("chat")["chat"]["chat_id"]
    body = {"name": "part.png", "content_type": "image/png", "size": len(PNG)}
    granted = stack_http.ok(stack, "POST", f"/visitor/chats/{chat_id}/files", body, token=auth)
    upload = granted["upload"]
    # The policy pins the type: another one is refused by S3 itself.
    refused = requests.post(
        upload["url"], data={**upload["fields"], "Content-Type": "text/html"}, files={"file": PNG}, timeout=10
    )
    assert refused.status_code == 403
    assert (
        requests.post(upload["url"], data=upload["fields"], files={"file": ("part.png", PNG)}, timeout=10).status_code
        == 204
    )

    frame = {"action": "send", "chat_id": chat_id, "client_msg_id": "photo-1", "file_id": granted["file"]["file_id"]}
    first.send(frame)
    first.close()  # whether or not the ack was on its way, this client never saw it

    second = connect()
    second.send(frame)
    ack = second.wait_for("ack", lambda f: f["client_msg_id"] == "photo-1")
    second.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})
    page = second.wait_for("messages", lambda f: f["chat_id"] == chat_id)
    files = [m for m in page["messages"] if m["kind"] == "file"]
    assert [(m["seq"], m["file"]["name"], m["text"]) for m in files] == [(ack["seq"], "part.png", "part.png")]

    link = stack_http.ok(stack, "GET", f"/visitor/chats/{chat_id}/files/{granted['file']['file_id']}", token=auth)
    assert requests.get(link["url"], timeout=10).content == PNG
    assert agent.wait_for("message", lambda f: f["message"]["kind"] == "file")["message"]["seq"] == ack["seq"]
    second.close()
    agent.close()
