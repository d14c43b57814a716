"""PynamoDB models: every table and index Charla uses. `docs/data-model.md` lists the access patterns.

Index key attributes are nullable and set only while an item belongs in the index, which keeps
every index sparse: a sweep or a queue read touches what is due, never history.
"""

from __future__ import annotations

import os

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from functions.core import aws, data


def _table(name: str) -> str:
    return f"{os.environ.get('CHARLA_TABLE_PREFIX', 'charla-dev')}-{name}"


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class _Meta:
    billing_mode = "PAY_PER_REQUEST"
    region = _region()


class CharlaModel(Model):
    """Shares one botocore client among all tables.

    PynamoDB otherwise builds a session and client per model, each parsing the DynamoDB service
    description again: tens of milliseconds per table touched on every cold start.
    """

    @classmethod
    def _get_connection(cls):  # type: ignore[no-untyped-def]
        return data.share_client(super()._get_connection())


# Hash key names of the indexes that would otherwise hold one constant key. Each is spread over shards
# (`queue`, `queue#1`, ...; functions/core/shards.py), chosen from the item's own id, so no partition of
# an index grows with traffic. Shard 0 is the bare name: a model default of one of these is shard 0.
QUEUE = "queue"
OFFER = "offer"
OPEN = "open"
UNANSWERED = "unanswered"
ROUTABLE = "routable"
TEAM = "team"
LIVE = "live"
AGENT = "agent"
ONLINE = "online"


# --- chats ---------------------------------------------------------------------------------


class QueueIndex(GlobalSecondaryIndex["Chat"]):
    class Meta:
        index_name = "queue_index"
        projection = AllProjection()

    queue_pk = UnicodeAttribute(hash_key=True)
    queued_at = UnicodeAttribute(range_key=True)


class OfferIndex(GlobalSecondaryIndex["Chat"]):
    class Meta:
        index_name = "offer_index"
        projection = KeysOnlyProjection()

    offer_pk = UnicodeAttribute(hash_key=True)
    queued_at = UnicodeAttribute(range_key=True)


class OpenIndex(GlobalSecondaryIndex["Chat"]):
    class Meta:
        index_name = "open_index"
        projection = KeysOnlyProjection()

    open_pk = UnicodeAttribute(hash_key=True)
    last_activity_at = UnicodeAttribute(range_key=True)


class UnansweredIndex(GlobalSecondaryIndex["Chat"]):
    class Meta:
        index_name = "unanswered_index"
        projection = KeysOnlyProjection()

    unanswered_pk = UnicodeAttribute(hash_key=True)
    assigned_at = UnicodeAttribute(range_key=True)


class VisitorChatsIndex(GlobalSecondaryIndex["Chat"]):
    class Meta:
        index_name = "visitor_index"
        projection = AllProjection()

    visitor_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Chat(CharlaModel):
    class Meta(_Meta):
        table_name = _table("chats")

    chat_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()  # queued | active | closed
    visitor_id = UnicodeAttribute()
    visitor_name = UnicodeAttribute(null=True)
    visitor_email = UnicodeAttribute(null=True)
    visitor_lang = UnicodeAttribute(null=True)  # what system lines and mails to the visitor speak (lines.LANGUAGES)
    visitor_country = UnicodeAttribute(null=True)  # the visitor's, when the chat started: part of how it is named
    agent_ids = UnicodeSetAttribute(null=True)
    # agent id -> display name. A raw map, so one entry can be set in an update.
    agent_names: MapAttribute = MapAttribute(default=dict)
    assignee_id = UnicodeAttribute(null=True)
    invited_ids = UnicodeSetAttribute(null=True)
    visitor_conns = UnicodeSetAttribute(null=True)  # the visitor's live connection ids (every tab)
    agent_conns = UnicodeSetAttribute(null=True)  # live connection ids of every participating agent
    # Live connection ids of admins watching the chat without taking part (functions/chat/supervision.py):
    # on the item the fan-out already reads, so watching costs a visitor's message no extra call.
    supervisor_conns = UnicodeSetAttribute(null=True)
    last_seq = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    last_activity_at = UnicodeAttribute()
    awaiting_reply_since = UnicodeAttribute(null=True)
    first_response_at = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    closed_by = UnicodeAttribute(null=True)
    rating = UnicodeAttribute(null=True)
    rating_comment = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    offline_offered_at = UnicodeAttribute(null=True)
    # When the visitor's last socket closed; unset while any is open (functions/chat/presence.py).
    visitor_left_at = UnicodeAttribute(null=True)
    # For the queue card: the visitor's first message (its start) and the page they started from.
    first_message = UnicodeAttribute(null=True)
    page_url = UnicodeAttribute(null=True)
    page_title = UnicodeAttribute(null=True)
    # The visitor's messages in the current rate window, across all their tabs (functions/chat/messages.py).
    visitor_window = NumberAttribute(null=True)
    visitor_sent = NumberAttribute(null=True)
    transcripts_sent = NumberAttribute(null=True)  # transcripts mailed for this chat (functions/chat/transcripts.py)
    # Tag ids (functions/tags/catalog.py), set by agents (functions/tags/tagging.py); the archive filters by them.
    tags = UnicodeSetAttribute(null=True)
    # The group whose members take the chat (functions/team/groups.py), and its name then: the message
    # path and the views read them here, never the groups item.
    group_id = UnicodeAttribute(null=True)
    group_name = UnicodeAttribute(null=True)
    # Sparse index keys.
    queue_pk = UnicodeAttribute(null=True)
    queued_at = UnicodeAttribute(null=True)
    offer_pk = UnicodeAttribute(null=True)  # queued and not yet offered the offline form
    open_pk = UnicodeAttribute(null=True)
    unanswered_pk = UnicodeAttribute(null=True)
    assigned_at = UnicodeAttribute(null=True)

    queue_index = QueueIndex()
    offer_index = OfferIndex()
    open_index = OpenIndex()
    unanswered_index = UnansweredIndex()
    visitor_index = VisitorChatsIndex()


class Message(CharlaModel):
    class Meta(_Meta):
        table_name = _table("messages")

    chat_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    client_msg_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(default="text")  # text | system | file | whisper (an agents-only note, audience "agents")
    sender = UnicodeAttribute()  # visitor | agent | system
    sender_id = UnicodeAttribute(null=True)
    sender_name = UnicodeAttribute(null=True)
    text = UnicodeAttribute()  # a system line's English, for whatever reads text only
    ts = UnicodeAttribute()
    # A system line (functions/core/lines.py): its code and parameters, and its text in the chat's
    # visitor language when that is not English. Lines stored before codes existed have text only.
    code = UnicodeAttribute(null=True)
    params: MapAttribute = MapAttribute(null=True)
    visitor_text = UnicodeAttribute(null=True)
    # "agents" for what only agents see (a routing line, a whisper): the visitor's copy
    # keeps its seq, so their transcript has no gap, and nothing else (functions/realtime/visitor_frames.py).
    audience = UnicodeAttribute(null=True)
    # A `file` message's file: {file_id, name, content_type, size}; its `text` is the file's name, for
    # whatever reads text only (previews, transcripts, search). The bytes are in S3 (functions/chat/files.py).
    file: MapAttribute = MapAttribute(null=True)


class MessageKey(CharlaModel):
    """The idempotency record of one `client_msg_id`, written in the same transaction as its message."""

    class Meta(_Meta):
        table_name = _table("message-keys")

    chat_id = UnicodeAttribute(hash_key=True)
    client_msg_id = UnicodeAttribute(range_key=True)
    seq = NumberAttribute()
    ts = UnicodeAttribute()


# --- presence ------------------------------------------------------------------------------


class PrincipalIndex(GlobalSecondaryIndex["Connection"]):
    class Meta:
        index_name = "principal_index"
        projection = KeysOnlyProjection()

    principal_id = UnicodeAttribute(hash_key=True)
    connected_at = UnicodeAttribute(range_key=True)


class LiveIndex(GlobalSecondaryIndex["Connection"]):
    class Meta:
        index_name = "live_index"
        projection = KeysOnlyProjection()

    live_pk = UnicodeAttribute(hash_key=True)
    last_seen = UnicodeAttribute(range_key=True)


class AgentConnectionsIndex(GlobalSecondaryIndex["Connection"]):
    class Meta:
        index_name = "agent_index"
        projection = KeysOnlyProjection()

    agent_pk = UnicodeAttribute(hash_key=True)
    connected_at = UnicodeAttribute(range_key=True)


class Connection(CharlaModel):
    """One live WebSocket connection and the identity bound to it at `$connect`."""

    class Meta(_Meta):
        table_name = _table("connections")

    connection_id = UnicodeAttribute(hash_key=True)
    principal_id = UnicodeAttribute()  # "v:<visitor id>" or "a:<agent id>"
    kind = UnicodeAttribute()  # visitor | agent
    subject_id = UnicodeAttribute()  # the visitor or agent id alone
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)  # admin | agent, for agents
    source_ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)  # from CloudFront-Viewer-Country, where the edge adds it
    connected_at = UnicodeAttribute()
    last_seen = UnicodeAttribute()
    live_pk = UnicodeAttribute(default=LIVE)
    agent_pk = UnicodeAttribute(null=True)
    supervising = UnicodeAttribute(
        null=True
    )  # the chat an admin watches on this connection, to leave it at $disconnect
    expires_at = TTLAttribute()

    principal_index = PrincipalIndex()
    live_index = LiveIndex()
    agent_index = AgentConnectionsIndex()


class ConnectTicket(CharlaModel):
    """A single-use `$connect` ticket. Only its SHA-256 is stored."""

    class Meta(_Meta):
        table_name = _table("connect-tickets")

    ticket_hash = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    access_version = NumberAttribute(null=True)  # an agent's, when minted (functions/core/principals.py)
    expires_at = TTLAttribute()


class RoutingIndex(GlobalSecondaryIndex["Agent"]):
    class Meta:
        index_name = "routing_index"
        projection = AllProjection()

    routable_pk = UnicodeAttribute(hash_key=True)
    load_key = UnicodeAttribute(range_key=True)


class TeamIndex(GlobalSecondaryIndex["Agent"]):
    class Meta:
        index_name = "team_index"
        projection = AllProjection()

    team_pk = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class Agent(CharlaModel):
    """An agent's profile and presence. Identity and passwords live in Cognito, never here."""

    class Meta(_Meta):
        table_name = _table("agents")

    agent_id = UnicodeAttribute(hash_key=True)  # Cognito sub
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    language = UnicodeAttribute(null=True)  # the console's language, which their mails speak too (lines.LANGUAGES)
    role = UnicodeAttribute(default="agent")  # admin | agent
    accepting = BooleanAttribute(default=False)
    disabled = BooleanAttribute(default=False)
    # Set by "sign out everywhere", a disable or a removal (functions/team/revocation.py): ID tokens from
    # sign-ins at or before this epoch second are refused, since API Gateway accepts them until expiry.
    sessions_revoked_at = NumberAttribute(null=True)
    # Moves on with every revocation and role change; connect tickets minted before are refused.
    access_version = NumberAttribute(default=0)
    online_conns = NumberAttribute(default=0)
    active_count = NumberAttribute(default=0)
    chat_ids = UnicodeSetAttribute(null=True)
    invite_ids = UnicodeSetAttribute(null=True)  # chats this agent is invited into
    last_assigned_at = UnicodeAttribute(default="")
    team_pk = UnicodeAttribute(default=TEAM)
    routable_pk = UnicodeAttribute(null=True)
    load_key = UnicodeAttribute(null=True)
    # TOTP as Cognito last reported it to Charla (functions/team/mfa.py): what the admin's "require MFA"
    # is checked against on every request, without asking Cognito each time.
    mfa_enabled = BooleanAttribute(default=False)
    # A sign-in address change waiting for the code mailed to the new address (functions/team/email_change.py).
    pending_email = UnicodeAttribute(null=True)
    email_code_hash = UnicodeAttribute(null=True)
    email_code_expires = NumberAttribute(null=True)
    email_code_tries = NumberAttribute(null=True)

    routing_index = RoutingIndex()
    team_index = TeamIndex()


# --- visitors ------------------------------------------------------------------------------


class OnlineVisitorsIndex(GlobalSecondaryIndex["Visitor"]):
    class Meta:
        index_name = "online_index"
        projection = AllProjection()

    online_pk = UnicodeAttribute(hash_key=True)
    last_seen = UnicodeAttribute(range_key=True)


class VerifiedVisitorsIndex(GlobalSecondaryIndex["Visitor"]):
    """Visitors whose identity the site signed (functions/visitors/verified.py); sparse: verified ones only."""

    class Meta:
        index_name = "verified_index"
        projection = KeysOnlyProjection()

    verified_email = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Visitor(CharlaModel):
    class Meta(_Meta):
        table_name = _table("visitors")

    visitor_id = UnicodeAttribute(hash_key=True)
    secret_hash = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    visits = NumberAttribute(default=1)
    open_chat_id = UnicodeAttribute(null=True)
    current_url = UnicodeAttribute(null=True)
    current_title = UnicodeAttribute(null=True)
    referrer = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    online_pk = UnicodeAttribute(null=True)
    last_seen = UnicodeAttribute(null=True)
    # --- tracking, greetings, identity (functions/visitors/tracking.py, greetings.py, identity.py).
    # When presence ends, in epoch seconds. Not the table's TTL attribute: DynamoDB would delete the
    # whole item, identity included. Reads of the online index filter on it (docs/data-model.md).
    online_until = NumberAttribute(null=True)
    page_view_id = UnicodeAttribute(null=True)  # the loader's id for the page being viewed
    page_started_at = UnicodeAttribute(null=True)
    page_seconds = NumberAttribute(null=True)  # time on the previous page, reported when it was left
    visit_started_at = UnicodeAttribute(null=True)  # a visit ends after 30 min without a page view
    ip = UnicodeAttribute(null=True)  # as the `ip_mode` setting allows: truncated, full, or absent
    identified_at = UnicodeAttribute(null=True)  # the site passed a name/email (Charla.setIdentity)
    verified_email = UnicodeAttribute(null=True)  # lower-cased; set only when the site's HMAC matched
    # Lower-cased addresses this visitor proved they receive mail at, with a mailed confirmation code
    # (functions/visitors/verified.py): mail-borne ticket entries to those addresses are shown to this visitor.
    confirmed_emails = UnicodeSetAttribute(null=True)
    # A manual greeting waiting for an answer: {greeting_id, agent_id, agent_name, text, expires_at}.
    greeting: MapAttribute = MapAttribute(null=True)
    greetings_shown: MapAttribute = MapAttribute(default=dict)  # rule id -> times shown
    # Transcripts mailed on one UTC day, across the visitor's chats (functions/chat/transcripts.py).
    transcript_day = UnicodeAttribute(null=True)
    transcripts_today = NumberAttribute(null=True)
    # Pushes of this visitor's Visitors-list row to agents: the window's start (epoch) and the count
    # in it (functions/visitors/tracking.py).
    announced_at = NumberAttribute(null=True)
    announced_count = NumberAttribute(null=True)
    # The table's TTL: set while the visitor is anonymous (no chat, no ticket) and pushed back by each
    # page view, per the `retention_days` setting; removed once they chat or write (functions/visitors/privacy.py).
    expires_at = TTLAttribute(null=True)

    online_index = OnlineVisitorsIndex()
    verified_index = VerifiedVisitorsIndex()


# --- tickets -------------------------------------------------------------------------------


class TicketStatusIndex(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "status_index"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class TicketAssigneeIndex(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "assignee_status_index"
        projection = AllProjection()

    assignee_status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class TicketRequesterIndex(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "requester_index"
        projection = AllProjection()

    requester_email = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class TicketVisitorIndex(GlobalSecondaryIndex["Ticket"]):
    """A visitor's own tickets (the widget); sparse: only tickets that came from a visitor."""

    class Meta:
        index_name = "visitor_index"
        projection = AllProjection()

    visitor_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Ticket(CharlaModel):
    class Meta(_Meta):
        table_name = _table("tickets")

    ticket_id = UnicodeAttribute(hash_key=True)
    subject = UnicodeAttribute()
    status = UnicodeAttribute(default="open")  # open | pending | solved | spam
    source = UnicodeAttribute()  # chat | offline_form | email
    # Lower-cased. Absent for a ticket made from an anonymous chat (the requester reads it in the widget).
    requester_email = UnicodeAttribute(null=True)
    requester_name = UnicodeAttribute(null=True)
    visitor_id = UnicodeAttribute(null=True)
    chat_id = UnicodeAttribute(null=True)
    assignee_id = UnicodeAttribute(null=True)
    assignee_status = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    last_seq = NumberAttribute(default=0)
    version = NumberAttribute(default=1)
    # The requester's latest Message-ID, so replies carry In-Reply-To and thread in their mail client.
    last_inbound_message_id = UnicodeAttribute(null=True)
    # For a ticket made from mail: did SES's SPF/DKIM/DMARC verdicts vouch for the From address?
    # False: anyone could have written it (functions/helpdesk/inbound_mail.py). None: not made from mail.
    sender_verified = BooleanAttribute(null=True)
    # Confirmation codes mailed to the requester at the visitor's request (functions/visitors/verified.py): capped.
    confirmations_sent = NumberAttribute(null=True)
    tags = UnicodeSetAttribute(
        null=True
    )  # tag ids (functions/tags/catalog.py), set by agents (functions/tags/tagging.py)
    # The group an offline form was left for, or the group of the chat it came from (functions/team/groups.py).
    group_id = UnicodeAttribute(null=True)
    group_name = UnicodeAttribute(null=True)

    status_index = TicketStatusIndex()
    assignee_status_index = TicketAssigneeIndex()
    requester_index = TicketRequesterIndex()
    visitor_index = TicketVisitorIndex()


class TicketEvent(CharlaModel):
    """One entry of a ticket's timeline: a message, an internal note, a status change."""

    class Meta(_Meta):
        table_name = _table("ticket-events")

    ticket_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    kind = UnicodeAttribute()  # message | note | status | attachment
    author = UnicodeAttribute()  # requester | agent | system
    author_id = UnicodeAttribute(null=True)
    author_name = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    data: MapAttribute = MapAttribute(null=True)
    ts = UnicodeAttribute()


# --- canned responses ----------------------------------------------------------------------

SHARED = "shared"


class CannedResponse(CharlaModel):
    class Meta(_Meta):
        table_name = _table("canned-responses")

    owner_id = UnicodeAttribute(hash_key=True)  # "shared" or an agent id
    shortcut = UnicodeAttribute(range_key=True)
    text = UnicodeAttribute()
    updated_at = UnicodeAttribute()


# --- reports -------------------------------------------------------------------------------


class DailyStat(CharlaModel):
    """Counters for one day (in the organisation's timezone), for the team or one agent.

    Updated with ADD when a chat ends, so a report over N days reads at most N items per row key.
    """

    class Meta(_Meta):
        table_name = _table("stats")

    day = UnicodeAttribute(hash_key=True)  # YYYY-MM-DD
    key = UnicodeAttribute(range_key=True)  # "team", "agent#<id>", "group#<id>", or "summary-sent"
    chats = NumberAttribute(default=0)
    missed = NumberAttribute(default=0)
    offline_messages = NumberAttribute(default=0)
    first_responses = ListAttribute(of=NumberAttribute, null=True)  # seconds, for the median
    duration_sum = NumberAttribute(default=0)
    duration_count = NumberAttribute(default=0)
    good = NumberAttribute(default=0)
    bad = NumberAttribute(default=0)
    by_hour: MapAttribute = MapAttribute(null=True)  # "00".."23" -> chats started that hour (team row)


# --- settings ------------------------------------------------------------------------------


class Settings(CharlaModel):
    class Meta(_Meta):
        table_name = _table("settings")

    name = UnicodeAttribute(hash_key=True)
    values: MapAttribute = MapAttribute(default=dict)  # raw map; functions.core.settings owns the defaults
    updated_at = UnicodeAttribute(null=True)
    # Only on the sweep gate's item (functions/core/sweep_gate.py): how many times work was announced,
    # and that count as it was when the sweep last found nothing to sweep.
    work_count = NumberAttribute(null=True)
    idle_at_count = NumberAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    Chat,
    Message,
    MessageKey,
    Connection,
    ConnectTicket,
    Agent,
    Visitor,
    Ticket,
    TicketEvent,
    CannedResponse,
    DailyStat,
    Settings,
)


def _drop_cached_connections() -> None:
    for model in ALL_MODELS:
        model._connection = None


aws.on_reset(_drop_cached_connections)


# --- tickets: search terms, mail threading, attachments ------------------------------------


class TicketTerm(CharlaModel):
    """Inverted index of subject words: ticket search by subject is a Query, newest first."""

    class Meta(_Meta):
        table_name = _table("ticket-terms")

    term = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # "<created_at>#<ticket_id>"
    ticket_id = UnicodeAttribute()


class MailId(CharlaModel):
    """Mail threading and idempotency: `ses:<SES message id>` and `msg:<Message-ID>` name a ticket;
    `obj:<bucket>/<key>` marks an inbound mail object as processed (S3 may deliver an event twice)."""

    class Meta(_Meta):
        table_name = _table("mail-ids")

    mail_id = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class TicketAttachment(CharlaModel):
    """A file in the attachments bucket at `tickets/<ticket_id>/<attachment_id>`.

    `pending` until the upload is checked (HeadObject); `seq` is set once a timeline entry uses it, and
    `internal` when that entry is a note, which keeps it from the requester.
    """

    class Meta(_Meta):
        table_name = _table("ticket-attachments")

    ticket_id = UnicodeAttribute(hash_key=True)
    attachment_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    state = UnicodeAttribute()  # pending | stored
    source = UnicodeAttribute()  # upload | email | chat (a file sent in the chat the ticket was made from)
    internal = BooleanAttribute(default=False)
    seq = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)


ALL_MODELS = (*ALL_MODELS, TicketTerm, MailId, TicketAttachment)


# --- administration (bans, webhooks) ---------------------------------------------------------
# Appended after ALL_MODELS, like the tickets models above, so concurrent additions merge trivially.

BAN = "ban"
WEBHOOK = "webhook"


class Ban(CharlaModel):
    """One ban. The whole list is one small partition, read by a single Query and cached."""

    class Meta(_Meta):
        table_name = _table("bans")

    ban_pk = UnicodeAttribute(hash_key=True)  # always "ban"
    ban_id = UnicodeAttribute(range_key=True)  # "visitor#<visitor id>" or "ip#<network in CIDR form>"
    kind = UnicodeAttribute()  # visitor | ip
    target = UnicodeAttribute()  # the visitor id, or the network
    reason = UnicodeAttribute()
    created_by = UnicodeAttribute()  # agent id
    created_by_name = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    chat_id = UnicodeAttribute(null=True)  # the chat it was issued from, if any
    expires_at = TTLAttribute(null=True)  # None: until unbanned


class Webhook(CharlaModel):
    class Meta(_Meta):
        table_name = _table("webhooks")

    webhook_pk = UnicodeAttribute(hash_key=True)  # always "webhook"
    webhook_id = UnicodeAttribute(range_key=True)
    url = UnicodeAttribute()
    events = UnicodeSetAttribute()
    secret = UnicodeAttribute()  # HMAC key; shown to the admin once, at creation
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    active = BooleanAttribute(default=True)


class WebhookDelivery(CharlaModel):
    """One delivery attempt, for the console's delivery log."""

    class Meta(_Meta):
        table_name = _table("webhook-deliveries")

    webhook_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # "<ts>#<delivery id>#<attempt>": newest last
    delivery_id = UnicodeAttribute()
    event = UnicodeAttribute()
    attempt = NumberAttribute()
    status_code = NumberAttribute(null=True)  # None: no HTTP answer (timeout, refused, DNS)
    outcome = UnicodeAttribute()  # delivered | retrying | gave_up
    error = UnicodeAttribute(null=True)  # a category (functions/admin/outbound.py), never the error's text
    duration_ms = NumberAttribute(default=0)
    ts = UnicodeAttribute()
    expires_at = TTLAttribute()  # 30 days


ALL_MODELS = (*ALL_MODELS, Ban, Webhook, WebhookDelivery)


# --- per-address limits (functions/visitors/limits.py) --------------------------------------------------


class RateCounter(CharlaModel):
    """A fixed-window counter of one anonymous action from one address, or an address's queued chats."""

    class Meta(_Meta):
        table_name = _table("rate-counters")

    # "<rule>#<address key>#<window number>", or "queued#<address key>". The address key is a
    # keyed hash, never the address itself.
    counter_key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(null=True)  # ADDed one per allowed action
    chat_ids = UnicodeSetAttribute(null=True)  # the "queued" item: chats that may still be waiting
    expires_at = TTLAttribute()  # two windows; a day for the "queued" item


ALL_MODELS = (*ALL_MODELS, RateCounter)


# --- read positions (functions/chat/reads.py) ------------------------------------------------------


class ReadMark(CharlaModel):
    """How far one agent has read one chat: the console's unread counts, the same after a reload and on
    every device."""

    class Meta(_Meta):
        table_name = _table("read-marks")

    agent_id = UnicodeAttribute(hash_key=True)
    chat_id = UnicodeAttribute(range_key=True)
    seq = NumberAttribute()  # only ever moves forward (a conditional write)
    expires_at = TTLAttribute()  # 30 days after the last move: an old chat's unread state no longer matters


ALL_MODELS = (*ALL_MODELS, ReadMark)


# --- tags (functions/tags/) ------------------------------------------------------------------------

TAG_LIST = "tags"


class TagList(CharlaModel):
    """The organisation's tags, all in one small item: one GetItem reads the list, and one write
    conditional on `version` keeps names unique however many admins edit it at once."""

    class Meta(_Meta):
        table_name = _table("tags")

    list_id = UnicodeAttribute(hash_key=True)  # always "tags"
    # tag id -> {"name", "color", "created_at"}. A raw map, read whole.
    tags: MapAttribute = MapAttribute(default=dict)
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)


ALL_MODELS = (*ALL_MODELS, TagList)
# --- the chat archive (functions/chat/archive.py) ---------------------------------------------------


class ArchiveEntry(CharlaModel):
    """One chat as the archive sees it: what a result shows, the words it holds, and the postings written for
    it (so re-indexing writes and deletes only the difference)."""

    class Meta(_Meta):
        table_name = _table("archive")

    chat_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute()  # "<created_at>#<chat_id>", the postings' sort key
    status = UnicodeAttribute()  # open | closed
    created_at = UnicodeAttribute()
    closed_at = UnicodeAttribute(null=True)
    visitor_id = UnicodeAttribute()
    visitor_name = UnicodeAttribute(null=True)
    visitor_email = UnicodeAttribute(null=True)
    agent_names: MapAttribute = MapAttribute(default=dict)  # agent id -> display name
    rating = UnicodeAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)
    words = UnicodeSetAttribute(null=True)  # normalised words of the transcript, name, email and reference
    lines = ListAttribute(of=UnicodeAttribute, default=list)  # "<who>: <text>", for the matching line
    messages = NumberAttribute(default=0)
    postings = UnicodeSetAttribute(null=True)  # the posting terms written for this chat


class ArchivePosting(CharlaModel):
    """Inverted index of the archive: one item per (term, chat). Terms are `all`, `status:<s>`, `agent:<id>`,
    `rating:<r>`, `tag:<id>`, `w:<word>` and `p:<prefix>`; each lists its chats newest first."""

    class Meta(_Meta):
        table_name = _table("archive-postings")

    term = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # "<created_at>#<chat_id>"
    chat_id = UnicodeAttribute()


ALL_MODELS = (*ALL_MODELS, ArchiveEntry, ArchivePosting)
