"""Attachments: up through a presigned POST, checked in S3, down through a short presigned GET."""

from __future__ import annotations

import boto3
import pytest
import requests

from functions.core.errors import CharlaError
from functions.helpdesk import agent_actions, attachments, offline_form, tickets
from functions.models import TicketAttachment
from tests.support import desk, outbox
from tests.support.actors import new_visitor

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"1" * 64
ANA = desk.agent_principal("ana", "Ana")


@pytest.fixture
def helpdesk(aws, monkeypatch):
    desk.prepare(monkeypatch)


@pytest.fixture
def ticket(helpdesk):
    visitor = new_visitor()
    made = offline_form.submit(
        visitor, {"fields": {"name": "Vera", "email": "vera@example.com", "message": "See the file"}}
    )
    made.visitor = visitor  # type: ignore[attr-defined]
    return made


def upload(ticket, name: str, content_type: str, data: bytes) -> str:
    """Announce, then POST the file to S3 as a browser would; returns the attachment id."""
    started = attachments.start_upload(ANA, ticket, {"name": name, "content_type": content_type, "size": len(data)})
    fields = dict(started["upload"]["fields"])
    response = requests.post(started["upload"]["url"], data=fields, files={"file": (name, data)}, timeout=10)
    assert response.status_code in (200, 204), response.text
    return str(started["attachment"]["attachment_id"])


def test_an_upload_goes_up_by_presigned_post_and_comes_down_as_an_attachment(ticket):
    started = attachments.start_upload(ANA, ticket, {"name": "scan.png", "content_type": "image/png", "size": 72})
    fields = started["upload"]["fields"]
    assert fields["key"] == f"tickets/{ticket.ticket_id}/{started['attachment']['attachment_id']}"
    assert fields["Content-Type"] == "image/png" and "policy" in fields
    assert started["attachment"]["state"] == "pending" and started["max_bytes"] == attachments.MAX_BYTES
    response = requests.post(started["upload"]["url"], data=fields, files={"file": ("scan.png", PNG)}, timeout=10)
    assert response.status_code == 204
    done = attachments.complete(ticket, started["attachment"]["attachment_id"])
    assert (done["state"], done["size"]) == ("stored", len(PNG))
    link = attachments.download(ticket, done["attachment_id"])
    assert link["expires_in"] == attachments.DOWNLOAD_SECONDS
    got = requests.get(link["url"], timeout=10)
    assert got.content == PNG
    assert got.headers["Content-Disposition"] == "attachment; filename=\"scan.png\"; filename*=UTF-8''scan.png"
    assert got.headers["Content-Type"] == "image/png"


def test_unicode_and_hostile_names_are_kept_as_plain_text():
    assert attachments.clean_name("../../etc/\u202epasswd\r\n.txt") == "passwd.txt"
    assert attachments.clean_name("C:\\Users\\me\\.report.pdf") == "report.pdf"
    assert attachments.disposition('факт "1".pdf') == (
        "attachment; filename=\"____ _1_.pdf\"; filename*=UTF-8''%D1%84%D0%B0%D0%BA%D1%82%20%221%22.pdf"
    )


REFUSED = [
    ({"name": "page.html", "content_type": "text/html", "size": 10}, "attachment_refused"),
    ({"name": "logo.svg", "content_type": "image/svg+xml", "size": 10}, "attachment_refused"),
    ({"name": "run.exe", "content_type": "application/octet-stream", "size": 10}, "attachment_refused"),
    ({"name": "photo.html", "content_type": "image/png", "size": 10}, "attachment_refused"),
    ({"name": "huge.pdf", "content_type": "application/pdf", "size": 10 * 1024 * 1024 + 1}, "attachment_too_large"),
    ({"name": "empty.txt", "content_type": "text/plain", "size": 0}, "attachment_refused"),
    ({"name": "x.pdf", "content_type": "application/pdf", "size": "10"}, "bad_request"),
    ({"name": "", "content_type": "application/pdf", "size": 10}, "attachment_refused"),
]


def test_refused_types_names_and_sizes_get_a_clear_error_before_any_upload(ticket):
    for body, code in REFUSED:
        with pytest.raises(CharlaError) as refused:
            attachments.start_upload(ANA, ticket, body)
        assert (refused.value.code, refused.value.http_status) == (code, 400), body
    assert not list(TicketAttachment.query(ticket.ticket_id))


def test_complete_checks_what_really_arrived_and_deletes_what_is_refused(ticket, monkeypatch):
    s3 = boto3.client("s3", region_name="us-east-1")
    pending = attachments.start_upload(ANA, ticket, {"name": "a.png", "content_type": "image/png", "size": 72})
    with pytest.raises(CharlaError) as early:
        attachments.complete(ticket, pending["attachment"]["attachment_id"])
    assert early.value.http_status == 409
    cases = [
        ("swapped.png", "image/png", PNG, "text/html", "type is not the one announced"),
        ("fake.png", "image/png", b"<html><script>alert(1)</script>", None, "content is not image/png"),
        ("big.pdf", "application/pdf", PDF + b"0" * 200, None, "limited to"),
    ]
    for name, content_type, data, sent_type, reason in cases:
        monkeypatch.setattr(attachments, "MAX_BYTES", 100 if name == "big.pdf" else 10 * 1024 * 1024)
        attachment_id = upload(ticket, name, content_type, data[:99] if name != "big.pdf" else data[:90])
        if sent_type or name == "big.pdf":  # a writer that isn't held to the POST policy's type and size
            s3.put_object(
                Bucket=desk.ATTACHMENTS_BUCKET,
                Key=attachments.key(ticket.ticket_id, attachment_id),
                Body=data,
                ContentType=sent_type or content_type,
            )
        with pytest.raises(CharlaError) as refused:
            attachments.complete(ticket, attachment_id)
        assert reason in refused.value.message, (name, refused.value.message)
        prefix = attachments.key(ticket.ticket_id, attachment_id)
        listed = s3.list_objects_v2(Bucket=desk.ATTACHMENTS_BUCKET, Prefix=prefix)
        assert listed.get("KeyCount", 0) == 0
        with pytest.raises(CharlaError):
            attachments.download(ticket, attachment_id)


def test_reply_attachments_are_emailed_and_the_requester_may_download_them_but_not_note_ones(ticket):
    for_reply = upload(ticket, "invoice.pdf", "application/pdf", PDF)
    for_note = upload(ticket, "internal.pdf", "application/pdf", PDF)
    for attachment_id in (for_reply, for_note):
        attachments.complete(ticket, attachment_id)
    note = agent_actions.note(ANA, ticket.ticket_id, {"body": "see file", "attachment_ids": [for_note]})
    reply = agent_actions.reply(ANA, ticket.ticket_id, {"body": "Your invoice", "attachment_ids": [for_reply]})
    assert [a["name"] for a in reply["event"]["data"]["attachments"]] == ["invoice.pdf"]
    assert [a["name"] for a in note["event"]["data"]["attachments"]] == ["internal.pdf"]
    [mail] = outbox.sent_mail()
    assert [(p.get_filename(), p.get_content()) for p in mail.iter_attachments()] == [("invoice.pdf", PDF)]
    visitor = ticket.visitor
    mine = tickets.for_visitor(visitor, ticket.ticket_id)
    assert attachments.download(mine, for_reply, for_visitor=True)["name"] == "invoice.pdf"
    with pytest.raises(CharlaError) as hidden:
        attachments.download(mine, for_note, for_visitor=True)
    assert hidden.value.http_status == 404
    assert attachments.download(ticket, for_note)["name"] == "internal.pdf"  # agents see everything
    with pytest.raises(CharlaError) as reused:
        agent_actions.reply(ANA, ticket.ticket_id, {"body": "again", "attachment_ids": [for_reply]})
    assert reused.value.http_status == 409


def test_unfinished_or_unknown_attachments_cannot_be_sent(ticket):
    pending = attachments.start_upload(ANA, ticket, {"name": "a.pdf", "content_type": "application/pdf", "size": 9})
    for ids, status in (([pending["attachment"]["attachment_id"]], 409), (["a_unknown12345"], 404), ("a_x", 400)):
        with pytest.raises(CharlaError) as refused:
            agent_actions.reply(ANA, ticket.ticket_id, {"body": "x", "attachment_ids": ids})
        assert refused.value.http_status == status
    assert outbox.sent_mail() == [] and len(list(tickets.timeline(ticket, 0)["events"])) == 1
