"""Inbound mail: an S3 event for a stored raw mail makes a ticket, or threads into the one it answers."""

from __future__ import annotations

import hashlib
import json
from email.message import EmailMessage
from urllib.parse import unquote

import boto3
import pytest

import app as charla
from functions.helpdesk import agent_actions, attachments, inbound_mail, tickets
from functions.models import MailId, Ticket, TicketEvent
from functions.visitors import verified as identity_module
from infra.local.events import s3_object_created_event
from infra.local.smtp import ses_headers, verdicts_from
from tests.support import desk, outbox
from tests.support.actors import Socket, drain_notices, new_agent
from tests.support.admin import add_user, api, body, call, login, pool  # noqa: F401 (fixtures)

PDF = b"%PDF-1.4\n" + b"0" * 200


@pytest.fixture
def helpdesk(aws, monkeypatch):
    desk.prepare(monkeypatch)


def mail(
    subject: str = "Printer on fire",
    sender: str = "Rex <rex@example.com>",
    body: str = "It smokes.",
    to: str = desk.SUPPORT,
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{hashlib.sha1((subject + body + sender).encode()).hexdigest()}@mail.example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def deliver(raw: bytes | EmailMessage, key: str | None = None, verdicts: str = "", stamp: bool = True) -> dict:
    """What SES + S3 do: stamp SES's verdicts on top, store the object, invoke the app's function with the S3 event.

    `verdicts` as CHARLA_SMTP_VERDICTS takes them (`spf=fail,dmarc=fail`); pass by default.
    """
    data = raw.as_bytes() if isinstance(raw, EmailMessage) else raw
    if stamp:
        sender = str(raw["From"]) if isinstance(raw, EmailMessage) else "rex@example.com"
        envelope = sender.rpartition("<")[2].rstrip(">") or sender
        data = ses_headers(data, envelope, verdicts_from(verdicts), "192.0.2.7")
    key = key or "inbound/" + hashlib.sha1(data).hexdigest()
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=desk.MAIL_BUCKET, Key=key, Body=data)
    event = s3_object_created_event(desk.MAIL_BUCKET, key, size=len(data), etag="e", region="us-east-1")
    [outcome] = charla.inbound_mail_received(event, None)
    return outcome


def tags(key: str) -> dict[str, str]:
    response = boto3.client("s3", region_name="us-east-1").get_object_tagging(Bucket=desk.MAIL_BUCKET, Key=key)
    return {t["Key"]: t["Value"] for t in response["TagSet"]}


def events(ticket_id: str) -> list[TicketEvent]:
    return list(TicketEvent.query(ticket_id, consistent_read=True))


def test_a_mail_to_the_support_address_becomes_an_open_ticket(helpdesk):
    outcome = deliver(mail())
    assert outcome["result"] == "created"
    ticket = tickets.load(outcome["ticket_id"])
    assert (ticket.source, ticket.status, ticket.subject, ticket.requester_email, ticket.requester_name) == (
        "email",
        "open",
        "Printer on fire",
        "rex@example.com",
        "Rex",
    )
    [entry] = events(ticket.ticket_id)
    assert (entry.kind, entry.author, entry.body) == ("message", "requester", "It smokes.")
    assert ticket.last_inbound_message_id and ticket.last_inbound_message_id.startswith("<")
    assert tags(outcome["key"]) == {"charla": "created", "ticket": ticket.ticket_id}


def test_a_reply_with_the_reference_threads_in_and_reopens_pending_then_solved(helpdesk):
    ticket_id = deliver(mail())["ticket_id"]
    ana = desk.agent_principal("ana", "Ana")
    agent_actions.reply(ana, ticket_id, {"body": "Which model?"})
    assert tickets.load(ticket_id).status == "pending"
    answer = mail(subject=f"Re: Printer on fire [#{ticket_id}]", body="Model 7.")
    outcome = deliver(answer)
    assert (outcome["result"], outcome["ticket_id"]) == ("threaded", ticket_id)
    assert tickets.load(ticket_id).status == "open"
    assert [e.body for e in events(ticket_id) if e.kind == "message"][-1] == "Model 7."
    agent_actions.reply(ana, ticket_id, {"body": "Fixed.", "status": "solved"})
    deliver(mail(subject="Thanks", body="It burns again.", to=f"support+{ticket_id}@charla.test"))
    assert tickets.load(ticket_id).status == "open"
    statuses = [(e.data.as_dict()["from"], e.data.as_dict()["to"]) for e in events(ticket_id) if e.kind == "status"]
    assert statuses == [("open", "pending"), ("pending", "open"), ("open", "solved"), ("solved", "open")]


def test_in_reply_to_our_sent_mail_threads_without_a_reference_in_the_subject(helpdesk):
    ticket_id = deliver(mail())["ticket_id"]
    result = agent_actions.reply(desk.agent_principal("ana", "Ana"), ticket_id, {"body": "Hello"})
    ses_id = result["event"]["data"]["mail_id"]
    answer = mail(subject="About that", body="Answer", In_Reply_To=f"<{ses_id}@email.amazonses.com>")
    outcome = deliver(answer)
    assert (outcome["result"], outcome["ticket_id"]) == ("threaded", ticket_id)
    assert tickets.load(ticket_id).last_inbound_message_id == answer["Message-ID"]


def test_a_reference_used_by_someone_else_starts_a_new_ticket(helpdesk):
    ticket_id = deliver(mail())["ticket_id"]
    intruder = deliver(mail(subject=f"Re: [#{ticket_id}]", sender="mallory@example.net", body="Let me in"))
    assert intruder["result"] == "created" and intruder["ticket_id"] != ticket_id
    assert [e.body for e in events(ticket_id)] == ["It smokes."]


def test_the_same_s3_event_twice_makes_one_entry(helpdesk):
    message = mail()
    first = deliver(message, key="inbound/same")
    again = deliver(message, key="inbound/same")
    assert (first["result"], again["result"]) == ("created", "duplicate")
    assert len(events(first["ticket_id"])) == 1
    reply = mail(subject=f"Re: [#{first['ticket_id']}]", body="More")
    assert deliver(reply, key="inbound/r")["result"] == "threaded"
    assert deliver(reply, key="inbound/r")["result"] == "duplicate"
    assert len(events(first["ticket_id"])) == 2


def test_an_oversized_mail_is_rejected_tagged_and_makes_nothing(helpdesk):
    big = mail(body="x" * 10).as_bytes() + b"y" * (inbound_mail.MAX_MAIL_BYTES + 1)
    outcome = deliver(big, key="inbound/big")
    assert outcome["result"] == "rejected" and outcome["reason"].startswith("too_large")
    assert tags("inbound/big") == {"charla": "rejected", "reason": "too_large"}
    assert not list(Ticket.requester_index.query("rex@example.com"))


BROKEN = {
    "garbage": b"\x00\x01\x02 this is not mail at all",
    "empty": b"   \r\n",
    "no sender": b"To: support@charla.test\r\nSubject: hi\r\n\r\nbody\r\n",
    "two senders": b"From: a@example.com, b@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
    "no boundary": (
        b"From: rex@example.com\r\nSubject: hi\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n"
    ),
    "boundary never starts": (
        b"From: rex@example.com\r\nSubject: hi\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="zzz"\r\n\r\nno parts here\r\n'
    ),
}


def test_malformed_mime_makes_no_ticket_and_says_why(helpdesk, caplog):
    for name, raw in BROKEN.items():
        outcome = deliver(raw, key=f"inbound/{name.replace(' ', '-')}")
        assert outcome["result"] == "rejected" and outcome["reason"].startswith("malformed"), (name, outcome)
        assert tags(outcome["key"])["reason"] == "malformed"
        assert f"inbound/{name.replace(' ', '-')} rejected (malformed)" in caplog.text
    assert not list(Ticket.status_index.query("open"))


def test_bounces_and_auto_replies_make_no_ticket_and_spam_is_filed_as_spam_without_a_notice(helpdesk):
    console = Socket(new_agent("Ana"))
    console.clear()
    assert deliver(mail(Auto_Submitted="auto-replied"))["reason"].startswith("automatic")
    assert deliver(mail(sender="MAILER-DAEMON@example.com", body="bounce"))["reason"].startswith("automatic")
    assert deliver(mail(sender=desk.SUPPORT, body="loop"))["reason"].startswith("from_self")
    assert deliver(mail(body="virus"), verdicts="virus=FAIL")["reason"].startswith("virus")
    spam = deliver(mail(body="cheap pills"), verdicts="spam=FAIL")
    assert tickets.load(spam["ticket_id"]).status == "spam"
    deliver(mail(subject=f"Re: [#{spam['ticket_id']}]", body="more pills"))
    drain_notices()
    assert tickets.load(spam["ticket_id"]).status == "spam" and console.frames() == []
    real = deliver(mail(body="A real question"))
    drain_notices()
    [notice] = console.notified("ticket")
    assert (notice["change"], notice["ticket"]["ticket_id"]) == ("created", real["ticket_id"])


def test_attachments_are_stored_within_the_rules_and_refused_ones_are_listed(helpdesk, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_BYTES", 1000)
    message = mail()
    message.add_attachment(PDF, maintype="application", subtype="octet-stream", filename="invoice.pdf")
    message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename="x.html")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 2000, maintype="image", subtype="png", filename="big.png")
    message.add_attachment(b"MZ\x90\x00", maintype="application", subtype="pdf", filename="fake.pdf")
    ticket_id = deliver(message)["ticket_id"]
    data = events(ticket_id)[0].data.as_dict()
    assert [(a["name"], a["content_type"]) for a in data["attachments"]] == [("invoice.pdf", "application/pdf")]
    assert [r["name"] for r in data["refused_attachments"]] == ["x.html", "big.png", "fake.pdf"]
    assert "limited to" in data["refused_attachments"][1]["reason"]
    stored = data["attachments"][0]["attachment_id"]
    download = attachments.download(tickets.load(ticket_id), stored, for_visitor=False)
    assert "response-content-disposition=attachment" in download["url"] and "invoice.pdf" in unquote(download["url"])


def test_html_only_mail_is_kept_as_text_and_quoted_history_is_cut(helpdesk):
    html = mail(body="ignored")
    html.set_content("<p>Hello <b>there</b></p><script>alert(1)</script><p>Line two</p>", subtype="html")
    created = deliver(html)
    assert events(created["ticket_id"])[0].body == "Hello there\nLine two"
    quoted = (
        "New answer\n\nOn Mon, Support <support@charla.test> wrote:\n> ##- Please type your reply above this "
        "line -##\n> old text"
    )
    threaded = deliver(mail(subject=f"Re [#{created['ticket_id']}]", body=quoted))
    assert events(threaded["ticket_id"])[-1].body == "New answer"


def test_an_encoded_subject_with_cr_lf_is_stored_on_one_line(helpdesk):
    raw = (
        b"From: rex@example.com\r\nTo: support@charla.test\r\n"
        b"Subject: =?utf-8?q?Hi=0D=0ABcc=3A_victim=40example=2Ecom?=\r\n\r\nbody\r\n"
    )
    ticket = tickets.load(deliver(raw)["ticket_id"])
    assert ticket.subject == "Hi Bcc: victim@example.com"


def test_keys_arrive_url_encoded_in_s3_events(helpdesk):
    outcome = deliver(mail(), key="inbound/with space+plus")
    assert outcome["result"] == "created" and outcome["key"] == "inbound/with space+plus"
    assert MailId.get(f"obj:{desk.MAIL_BUCKET}/inbound/with space+plus").ticket_id == outcome["ticket_id"]
    stray = s3_object_created_event("someone-elses-bucket", "x", size=1, etag="e", region="us-east-1")
    assert inbound_mail.handle(stray) == []


# --- SES's verdicts: a forged From never threads --------------------------------------------------


def test_a_forged_from_naming_a_ticket_starts_a_new_unverified_ticket_and_reopens_nothing(helpdesk, api, pool):  # noqa: F811
    ticket_id = deliver(mail())["ticket_id"]
    agent_actions.reply(desk.agent_principal("ana", "Ana"), ticket_id, {"body": "Fixed.", "status": "solved"})
    forged = mail(subject=f"Re: Printer on fire [#{ticket_id}]", body="Send the invoice to my new IBAN")
    outcome = deliver(forged, verdicts="spf=fail,dkim=fail,dmarc=fail")
    assert outcome["result"] == "created" and outcome["ticket_id"] != ticket_id
    assert tickets.load(ticket_id).status == "solved"
    assert "IBAN" not in str([e.body for e in events(ticket_id)])
    add_user(pool, "ana@example.com", "Ana")
    token = login(api, "ana@example.com")["id_token"]
    shown = body(call(api, "GET", f"/agent/tickets/{outcome['ticket_id']}", token))
    assert shown["ticket"]["sender_verified"] is False and shown["events"][0]["data"]["sender_verified"] is False
    genuine = body(call(api, "GET", f"/agent/tickets/{ticket_id}", token))
    assert genuine["ticket"]["sender_verified"] is True


def test_the_senders_own_authentication_results_count_for_nothing(helpdesk):
    ticket_id = deliver(mail())["ticket_id"]
    forged = mail(
        subject=f"Re: [#{ticket_id}]",
        body="Trust me",
        Authentication_Results="amazonses.com; spf=pass envelope-from=rex@example.com; dkim=pass "
        "header.i=@example.com; dmarc=pass header.from=example.com",
    )
    outcome = deliver(forged, verdicts="spf=fail,dkim=none,dmarc=fail")
    assert outcome["ticket_id"] != ticket_id and tickets.load(outcome["ticket_id"]).sender_verified is False
    # With no SES header at all (not through SES), the sender's header is the topmost: still not SES's word.
    unstamped = deliver(
        mail(
            subject=f"Re: [#{ticket_id}]",
            body="Me again",
            Authentication_Results="x.example; dmarc=pass header.from=example.com",
        ),
        stamp=False,
    )
    assert unstamped["ticket_id"] != ticket_id


@pytest.mark.parametrize(
    ("verdicts", "threads"),
    [
        ("spf=fail,dkim=fail,dmarc=pass", True),  # DMARC pass is enough
        ("spf=pass,dkim=none,dmarc=none", True),  # no DMARC record: an aligned SPF pass
        ("spf=fail,dkim=pass,dmarc=none", True),  # no DMARC record: an aligned DKIM pass
        ("spf=pass,dkim=pass,dmarc=fail", False),  # DMARC fail decides
        ("spf=softfail,dkim=none,dmarc=none", False),
        ("spf=pass,dkim=none,dmarc=none,envelope=bounce@attacker.example", False),  # SPF pass, but not aligned
    ],
)
def test_threading_follows_the_alignment_rule(helpdesk, verdicts, threads):
    ticket_id = deliver(mail())["ticket_id"]
    answer = mail(subject=f"Re: [#{ticket_id}]", body=f"Answer {verdicts}")
    envelope = verdicts.partition("envelope=")[2]
    data = answer.as_bytes()
    if envelope:
        data = ses_headers(data, envelope, verdicts_from(verdicts), "192.0.2.7")
    outcome = deliver(data, stamp=not envelope, verdicts=verdicts)
    assert (outcome["ticket_id"] == ticket_id) is threads


def test_a_message_id_once_seen_keeps_naming_its_ticket(helpdesk):
    first = mail()
    ticket_id = deliver(first)["ticket_id"]
    # Mallory (passing every check for her own domain) reuses Rex's Message-ID.
    copycat = mail(subject="Hello", sender="mallory@attacker.example", body="Mine now")
    copycat.replace_header("Message-ID", first["Message-ID"])
    other = deliver(copycat)
    assert other["result"] == "created" and other["ticket_id"] != ticket_id
    assert MailId.get(f"msg:{first['Message-ID'].strip('<>')}").ticket_id == ticket_id
    # Rex's own answer to his first mail, without a reference in the subject, still threads into his ticket.
    answer = mail(subject="Also", body="And the tray jams", In_Reply_To=first["Message-ID"])
    assert deliver(answer)["ticket_id"] == ticket_id


# --- an address typed into a form proves nothing --------------------------------------------------


def codes_mailed() -> list[tuple[list[str], str]]:
    """(recipients, confirmation code) of every simple mail moto's SES accepted, oldest first."""
    found = []
    for message in outbox.sent():
        if hasattr(message, "body") and "confirmation code" in message.body:
            code = next(line for line in message.body.splitlines() if "." in line and " " not in line)
            found.append((message.destinations["ToAddresses"], code))
    return found


def _withheld(timeline: dict) -> list[dict]:
    return [e for e in timeline["events"] if (e.get("data") or {}).get("withheld")]


def test_a_visitor_who_typed_someone_elses_address_never_reads_their_mail(helpdesk, api):  # noqa: F811
    rest = desk.Rest(api)
    mallory = desk.visitor_headers(rest.call("POST", "/visitor/identity")[1])
    fields = {"name": "Mallory", "email": "victim@example.com", "message": "Please send me my invoice"}
    status, made = rest.call("POST", "/visitor/offline", {"fields": fields}, mallory)
    assert status == 201
    ref = made["ticket_id"]
    # The real owner of the address answers the acknowledgement, with their invoice attached.
    answer = mail(subject=f"Re: [#{ref}]", sender="Victor <victim@example.com>", body="Invoice: IBAN DE02 1234")
    answer.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")
    assert deliver(answer)["ticket_id"] == ref
    status, timeline = rest.call("GET", f"/visitor/tickets/{ref}", headers=mallory)
    assert status == 200 and "IBAN" not in json.dumps(timeline) and "Victor" not in json.dumps(timeline)
    assert timeline["email_confirmed"] is False
    [hidden] = _withheld(timeline)
    assert (hidden["author"], hidden["body"], hidden["data"]) == ("requester", None, {"withheld": "email_unconfirmed"})
    [file] = events(ref)[-1].data.as_dict()["attachments"]
    path = f"/visitor/tickets/{ref}/attachments/{file['attachment_id']}"
    assert rest.call("GET", path, headers=mallory)[0] == 404

    # A confirmation code goes to the address, never to the visitor.
    status, sent = rest.call("POST", f"/visitor/tickets/{ref}/email-confirmation", {}, mallory)
    assert status == 200 and sent["sent"] is True
    [(to, code)] = codes_mailed()
    assert to == ["victim@example.com"] and code not in json.dumps(sent)
    # Guesses and forgeries are refused.
    for token in ("x", code[:-1] + ("0" if code[-1] != "0" else "1"), "A" * 2000, 12):
        status, refused = rest.call("POST", "/visitor/email-confirmation", {"token": token}, mallory)
        assert status == 400 and "`token`" in refused["Message"]
    # The code is bound to the visitor who asked: Mallory's accomplice can't use a leaked one either.
    accomplice = desk.visitor_headers(rest.call("POST", "/visitor/identity")[1])
    assert rest.call("POST", "/visitor/email-confirmation", {"token": code}, accomplice)[0] == 400
    assert _withheld(rest.call("GET", f"/visitor/tickets/{ref}", headers=mallory)[1])


def test_a_confirmed_or_signed_address_shows_the_mail_and_its_files(helpdesk, api):  # noqa: F811
    rest = desk.Rest(api)
    vera = desk.visitor_headers(rest.call("POST", "/visitor/identity")[1])
    fields = {"name": "Vera", "email": "vera@example.com", "message": "Where is my parcel?"}
    ref = rest.call("POST", "/visitor/offline", {"fields": fields}, vera)[1]["ticket_id"]
    answer = mail(subject=f"Re: [#{ref}]", sender="vera@example.com", body="Tracking number 42")
    answer.add_attachment(PDF, maintype="application", subtype="pdf", filename="label.pdf")
    deliver(answer)
    assert rest.call("POST", f"/visitor/tickets/{ref}/email-confirmation", {}, vera)[0] == 200
    [(_, code)] = codes_mailed()
    status, confirmed = rest.call("POST", "/visitor/email-confirmation", {"token": code}, vera)
    assert status == 200 and confirmed == {"email": "vera@example.com", "email_confirmed": True}
    timeline = rest.call("GET", f"/visitor/tickets/{ref}", headers=vera)[1]
    assert timeline["email_confirmed"] and not _withheld(timeline)
    assert "Tracking number 42" in [e["body"] for e in timeline["events"]]
    [file] = events(ref)[-1].data.as_dict()["attachments"]
    assert rest.call("GET", f"/visitor/tickets/{ref}/attachments/{file['attachment_id']}", headers=vera)[0] == 200
    # Once confirmed, nothing more is mailed.
    assert rest.call("POST", f"/visitor/tickets/{ref}/email-confirmation", {}, vera)[1]["sent"] is False

    # A site-signed identity proves the address as well.
    identity = rest.call("POST", "/visitor/identity")[1]
    signed = desk.visitor_headers(identity)
    ref2 = rest.call("POST", "/visitor/offline", {"fields": {**fields, "email": "sam@example.com"}}, signed)[1][
        "ticket_id"
    ]
    deliver(mail(subject=f"Re: [#{ref2}]", sender="sam@example.com", body="Sam's answer"))
    assert _withheld(rest.call("GET", f"/visitor/tickets/{ref2}", headers=signed)[1])
    proof = {"email": "sam@example.com", "signature": identity_module.sign("sam@example.com")}
    assert rest.call("POST", "/visitor/identify", proof, signed)[0] == 200
    assert not _withheld(rest.call("GET", f"/visitor/tickets/{ref2}", headers=signed)[1])


def test_confirmation_codes_are_mailed_a_few_times_per_ticket_at_most(helpdesk, api):  # noqa: F811
    rest = desk.Rest(api)
    visitor = desk.visitor_headers(rest.call("POST", "/visitor/identity")[1])
    fields = {"name": "M", "email": "someone@example.com", "message": "Hi"}
    ref = rest.call("POST", "/visitor/offline", {"fields": fields}, visitor)[1]["ticket_id"]
    answers = [rest.call("POST", f"/visitor/tickets/{ref}/email-confirmation", {}, visitor) for _ in range(6)]
    assert [status for status, _ in answers] == [200, 200, 200, 429, 429, 429]
    assert len(codes_mailed()) == identity_module.MAX_CONFIRMATIONS
    other = desk.visitor_headers(rest.call("POST", "/visitor/identity")[1])
    assert rest.call("POST", f"/visitor/tickets/{ref}/email-confirmation", {}, other)[0] == 404
