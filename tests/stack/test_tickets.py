"""Tickets through the local stack: each source makes a ticket, mail threads, attachments go up and down.

One stack for the module; every request goes over HTTP, SMTP or a WebSocket, as a browser, a mail
client or the console would send it.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request

import pytest
import requests

from infra.local.stack import LocalStack
from tests.support import outbox, ws_client
from tests.support.stack_http import call

PDF = b"%PDF-1.4\n" + b"2" * 300


@pytest.fixture(scope="module")
def token(stack: LocalStack) -> str:
    return stack.id_token(stack.demo_email, stack.demo_password)


def visitor(stack: LocalStack) -> dict[str, str]:
    status, identity = call(stack, "POST", "/visitor/identity")
    assert status == 201
    return {"Authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}


def test_the_offline_form_makes_a_ticket_the_agents_see(stack: LocalStack, token: str) -> None:
    status, form = call(stack, "GET", "/widget/offline-form")
    assert status == 200 and [f["name"] for f in form["fields"]] == ["name", "email", "message"]
    headers = visitor(stack)
    fields = {"name": "Olga", "email": "olga@example.com", "message": "Nobody was online.\nCall me back?"}
    status, made = call(stack, "POST", "/visitor/offline", {"fields": fields}, headers)
    assert status == 201, made
    status, listed = call(stack, "GET", "/agent/tickets?requester=olga@example.com", headers={"Authorization": token})
    assert status == 200 and [t["ticket_id"] for t in listed["tickets"]] == [made["ticket_id"]]
    assert listed["tickets"][0]["source"] == "offline_form"
    status, mine = call(stack, "GET", f"/visitor/tickets/{made['ticket_id']}", headers=headers)
    assert status == 200 and "Call me back?" in mine["events"][0]["body"]
    assert call(stack, "GET", f"/visitor/tickets/{made['ticket_id']}", headers=visitor(stack))[0] == 404


def test_a_chat_becomes_a_ticket_with_its_transcript(stack: LocalStack, token: str) -> None:
    auth = {"Authorization": token}
    chat_id = ws_client.chat_with_a_message(stack, auth, "The app crashes on login")
    # Type errors and over-long text are refused, naming the field, and leave no ticket behind: the
    # valid request after them is the one that creates it (201).
    for body, code in (
        ({"subject": 12345}, "bad_request"),
        ({"subject": "x" * 201}, "too_long"),
        ({"subject": ["Login"]}, "bad_request"),
        ({"email": 7}, "bad_request"),
    ):
        status, refused = call(stack, "POST", f"/agent/chats/{chat_id}/ticket", body, auth)
        field = next(iter(body))
        assert (status, refused["Code"]) == (400, code) and f"`{field}`" in refused["Message"], (body, refused)
    status, made = call(stack, "POST", f"/agent/chats/{chat_id}/ticket", {"subject": "Login crash"}, auth)
    assert status == 201, made
    assert (made["source"], made["chat_id"], made["requester"]["email"]) == ("chat", chat_id, "carl@example.com")
    status, again = call(stack, "POST", f"/agent/chats/{chat_id}/ticket", None, auth)
    assert (status, again["ticket_id"]) == (200, made["ticket_id"])
    status, opened = call(stack, "GET", f"/agent/tickets/{made['ticket_id']}", headers=auth)
    bodies = [(e["author"], e["body"]) for e in opened["events"]]
    assert ("requester", "The app crashes on login") in bodies and opened["events"][-1]["kind"] == "update"


def test_mail_makes_a_ticket_a_reply_goes_out_and_the_answer_threads_in_and_reopens(
    stack: LocalStack, token: str
) -> None:
    auth = {"Authorization": token}
    outbox.send_mail(stack, "Invoice 42 is wrong", "Please check invoice 42.")
    status, found = call(stack, "GET", "/agent/tickets?q=invoice&requester=rex@example.com", headers=auth)
    assert status == 200 and len(found["tickets"]) == 1, found
    ticket = found["tickets"][0]
    ref = ticket["ticket_id"]
    assert (ticket["source"], ticket["status"], ticket["subject"]) == ("email", "open", "Invoice 42 is wrong")

    call(stack, "POST", f"/agent/tickets/{ref}/notes", {"body": "INTERNAL: check with billing"}, auth)
    status, replied = call(stack, "POST", f"/agent/tickets/{ref}/replies", {"body": "Which line is wrong?"}, auth)
    assert status == 201 and replied["ticket"]["status"] == "pending"
    [sent] = [m for m in outbox.of_stack(stack) if f"[#{ref}]" in m["subject"]]
    assert sent["to"] == ["Rex <rex@example.com>"] and sent["reply_to"] == [f"support+{ref}@charla.local"]
    assert "Which line is wrong?" in sent["body"] and "INTERNAL" not in json.dumps(outbox.of_stack(stack))

    outbox.send_mail(stack, f"Re: {sent['subject']}", "Line 3.\n\n> ##- Please type your reply above this line -##")
    status, opened = call(stack, "GET", f"/agent/tickets/{ref}", headers=auth)
    assert opened["ticket"]["status"] == "open"
    assert [e["body"] for e in opened["events"] if e["kind"] == "message"][-1] == "Line 3."

    browser = urllib.request.Request(stack.base_url + "/_local/outbox", headers={"Accept": "text/html"})
    page = urllib.request.urlopen(browser, timeout=10)
    html = page.read().decode()
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'") and "<script" not in html
    assert f"[#{ref}]" in html


def test_smtp_refuses_other_domains(stack: LocalStack) -> None:
    with smtplib.SMTP(stack.host, stack.smtp_port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("rex@example.com", ["someone@example.org"], b"Subject: x\r\n\r\nx")


def test_attachments_go_up_and_come_down_through_presigned_urls(stack: LocalStack, token: str) -> None:
    auth = {"Authorization": token}
    outbox.send_mail(stack, "Attachment test", "See below.", sender="ada@example.com")
    ref = call(stack, "GET", "/agent/tickets?requester=ada@example.com", headers=auth)[1]["tickets"][0]["ticket_id"]
    announce = {"name": "Facture été.pdf", "content_type": "application/pdf", "size": len(PDF)}
    status, started = call(stack, "POST", f"/agent/tickets/{ref}/attachments", announce, auth)
    assert status == 201, started
    upload = started["upload"]
    posted = requests.post(upload["url"], data=upload["fields"], files={"file": ("f.pdf", PDF)}, timeout=10)
    assert posted.status_code == 204, posted.text
    attachment_id = started["attachment"]["attachment_id"]
    status, done = call(stack, "POST", f"/agent/tickets/{ref}/attachments/{attachment_id}/complete", {}, auth)
    assert status == 200 and done["state"] == "stored"
    status, link = call(stack, "GET", f"/agent/tickets/{ref}/attachments/{attachment_id}", headers=auth)
    assert status == 200 and link["expires_in"] == 60
    got = requests.get(link["url"], timeout=10)
    assert got.content == PDF and got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"] == (
        "attachment; filename=\"Facture _t_.pdf\"; filename*=UTF-8''Facture%20%C3%A9t%C3%A9.pdf"
    )
    status, replied = call(
        stack, "POST", f"/agent/tickets/{ref}/replies", {"body": "Attached", "attachment_ids": [attachment_id]}, auth
    )
    assert status == 201 and replied["event"]["data"]["delivery"] == "sent"
    [sent] = [m for m in outbox.of_stack(stack) if f"[#{ref}]" in m["subject"]]
    assert sent["attachments"] == [{"name": "Facture été.pdf", "content_type": "application/pdf", "size": len(PDF)}]
    status, refused = call(
        stack,
        "POST",
        f"/agent/tickets/{ref}/attachments",
        {"name": "x.svg", "content_type": "image/svg+xml", "size": 10},
        auth,
    )
    assert status == 400 and refused["Code"] == "attachment_refused"


def test_a_forged_mail_through_smtp_starts_an_unverified_ticket(stack: LocalStack, token: str) -> None:
    auth = {"Authorization": token}
    outbox.send_mail(stack, "Delivery 9 is late", "Where is delivery 9?", sender="olive@example.com")
    status, found = call(stack, "GET", "/agent/tickets?requester=olive@example.com", headers=auth)
    [genuine] = found["tickets"]
    assert genuine["sender_verified"] is True
    stack.mail_verdicts.update(spf="fail", dkim="fail", dmarc="fail")  # what SES says of a forged From
    try:
        subject = f"Re: Delivery 9 [#{genuine['ticket_id']}]"
        outbox.send_mail(stack, subject, "Wire the refund to me", sender="olive@example.com")
    finally:
        stack.mail_verdicts.update(spf="pass", dkim="pass", dmarc="pass")
    status, found = call(stack, "GET", "/agent/tickets?requester=olive@example.com", headers=auth)
    assert len(found["tickets"]) == 2
    forged = next(t for t in found["tickets"] if t["ticket_id"] != genuine["ticket_id"])
    assert forged["sender_verified"] is False
    status, opened = call(stack, "GET", f"/agent/tickets/{genuine['ticket_id']}", headers=auth)
    assert "refund" not in json.dumps(opened)
