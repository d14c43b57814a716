"""Charla's domain, in capability packages. `app.py` only routes to these.

- `core/`: what every capability uses: AWS clients (`aws`), the clock, the one error type (`errors`), who is
  calling (`principals`), the organisation's settings (`settings`, cached per instance by `instance_cache`),
  outgoing mail (`mail`), creating the tables (`tables`), the rules for untrusted JSON, text and ids
  (`untrusted`: nesting, lone surrogates, text limits, ids checked against DynamoDB's key limits).
- `api/`: turning requests into calls: REST parsing (`rest`) and the WebSocket frame dispatcher (`frames`).
- `realtime/`: live sockets: connection rows (`connections`), connect tickets (`connect_tickets`),
  `$connect`/`$disconnect` (`sockets`), who receives a frame (`broadcast`) and pushing it through API Gateway
  (`push`).
- `chat/`: a chat's life: start, accept, close (`chats`); who gets it (`routing`); its transcript and sending
  a message (`messages`); typing indicators and sneak peek (`typing`); what a socket's `hello` is told
  (`welcome`); transfer and invite (`handoffs`); who may touch it (`access`); `#shortcuts` (`canned`); mailed
  transcripts (`transcripts`); the every-minute sweep (`sweeps`); every chat listed and searched (`archive`).
- `team/`: agents: profiles and accepting status (`agents`), the admin's team management (`members`), sign-in
  and logout (`sign_in`), two-step sign-in (`mfa`), an agent's own address change (`email_change`), the
  Cognito pool (`user_pool`), cutting someone off (`revocation`).
- `visitors/`: visitor identities (`identity`), site-verified identities (`verified`), page views (`tracking`),
  proactive greetings (`greetings`), what is kept about them (`privacy`), data export and erasure
  (`data_requests`), what anonymous callers may do per address (`limits`), and what an anonymous visitor is
  called ("Visitor 4821", `names`).
- `helpdesk/`: tickets (`tickets`), what agents and requesters do to them (`agent_actions`), the ticket list
  (`lists`) and its subject search (`search_terms`), reply mail (`reply_mail`), inbound mail (`inbound_mail`),
  the offline form (`offline_form`), a chat made a ticket (`from_chat`), attachments (`attachments`).
- `admin/`: checking a settings change (`settings_checks`), the ban list (`bans`) and cutting a banned visitor
  off (`ban_enforcement`), webhooks (`webhooks`) and their delivery (`webhook_delivery`).
- `reports/`: per-day counters (`stats`), reports over a range of days (`ranges`), the daily summary mail
  (`daily_summary`).
- `tags/`: the admins' tag list (`catalog`) and agents tagging chats and tickets (`tagging`, which has the
  archive re-index a chat whose tags changed).
- `models.py`: every table and index (PynamoDB); `docs/data-model.md` lists the access patterns.

Where the most-asked features live:

- the accept race (two agents click Accept): `chat/routing.py` `accept`, one conditional transaction
- a visitor's queue position: `chat/routing.py` (the queue), `chat/chats.py` `send_queue_positions`, and
  `chat/welcome.py` for a socket that says hello
- sneak peek (agents see what the visitor is typing): `chat/typing.py`, gated by the `sneak_peek` setting
- a ticket going Pending → Open when the customer replies: `helpdesk/agent_actions.py` `visitor_reply`, and
  `helpdesk/inbound_mail.py` for replies by mail
- webhook signing: `admin/webhook_delivery.py`
- the daily summary mail: `reports/daily_summary.py`
- a ban by IP range (CIDR): `admin/bans.py`
- per-address limits on new identities, new chats, queued chats and the offline form: `visitors/limits.py`
- hostile input (deep JSON, lone surrogates, over-long ids): `core/untrusted.py`, applied to every REST request
  by `api/rest.py` `check_request` (from `app.py`'s middleware) and to every frame by `api/frames.py` `handle`
- the offline form's fields: `helpdesk/offline_form.py`
- the widget resuming after a reconnect: `chat/messages.py` (messages after a seq), `api/frames.py` `_resume`,
  and `ui-common/transcript.js` on the client
- telling anonymous visitors apart ("Visitor 4821"): `visitors/names.py`, shown by `agent-ui/src/chatlist.js`
  `visitorLabel` / `visitorName`
- a chat turning red (waiting too long): `agent-ui/src/chatlist.js`, with the admin's `wait_threshold_s`; the
  unanswered-chat timeout that moves it on is `chat/sweeps.py` `unanswered_chats`
"""
