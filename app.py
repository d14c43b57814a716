"""Charla's Chalice app: a routing table. Each handler parses its input and calls one function."""

import os
import time

from chalice import Chalice, CognitoUserPoolAuthorizer, Rate, Response

from functions.admin import ban_enforcement, bans, settings_checks, webhook_delivery, webhooks
from functions.api import frames, rest
from functions.chat import canned, chats, messages, sweeps
from functions.chat.routing import queued, routable_agents
from functions.core import settings as org_settings
from functions.core.errors import CharlaError
from functions.helpdesk import agent_actions, attachments, from_chat, lists, offline_form, tickets
from functions.realtime import connect_tickets, sockets
from functions.reports import daily_summary as summary_mail
from functions.reports import ranges
from functions.team import members, sign_in
from functions.team.agents import get as get_agent
from functions.team.agents import team
from functions.team.agents import view as agent_view
from functions.visitors import data_requests, greetings, identity, tracking, verified

app = Chalice(app_name="charla")
app.experimental_feature_flags.update(["WEBSOCKETS"])

cognito = CognitoUserPoolAuthorizer(
    "charla-agents",
    provider_arns=[
        os.environ.get(
            "COGNITO_USER_POOL_ARN", "arn:aws:cognito-idp:us-east-1:000000000000:userpool/unset"
        )
    ],
)


@app.middleware("http")
def charla_errors(event, get_response):
    try:
        return get_response(event)
    except CharlaError as error:
        return Response({"Code": error.code, "Message": error.message}, status_code=error.http_status)


# --- public ----------------------------------------------------------------------------------


@app.route("/health")
def health():
    return {"ok": True}


@app.route("/widget/settings", cors=True)
def widget_settings():
    rest.check_origin(app.current_request)
    values = org_settings.get_settings()
    public = ("prechat", "sneak_peek", "welcome", "color", "position", "language", "tracking")
    # `greetings`: the automatic greeting rules, each with its id (visitors issue).
    return {"online": bool(routable_agents()), **{k: values[k] for k in public}, "greetings": greetings.rules()}


# --- visitors --------------------------------------------------------------------------------


@app.route("/visitor/identity", methods=["POST"], cors=True)
def visitor_identity():
    rest.check_origin(app.current_request)
    return Response(identity.create_identity(), status_code=201)


@app.route("/visitor/ws-ticket", methods=["POST"], cors=True)
def visitor_ws_ticket():
    return Response(connect_tickets.mint(rest.visitor(app.current_request)), status_code=201)


@app.route("/visitor/chats/{chat_id}/messages", cors=True)
def visitor_messages(chat_id):
    request = app.current_request
    return messages.page(rest.visitor(request), chat_id, rest.after_param(request))


# --- agents ----------------------------------------------------------------------------------


@app.route("/auth/login", methods=["POST"])
def login():
    return sign_in.login(rest.json_body(app.current_request))


@app.route("/auth/refresh", methods=["POST"])
def refresh():
    return sign_in.refresh(rest.json_body(app.current_request))


@app.route("/agent/me", authorizer=cognito)
def agent_me():
    return agent_view(get_agent(rest.agent(app.current_request).id))


@app.route("/agent/ws-ticket", methods=["POST"], authorizer=cognito)
def agent_ws_ticket():
    return Response(connect_tickets.mint(rest.agent(app.current_request)), status_code=201)


@app.route("/agent/chats", authorizer=cognito)
def agent_chats():
    agent = get_agent(rest.agent(app.current_request).id)
    return {
        "chats": [chats.view(c) for c in chats.chats_of_agent(agent)],
        "queue": [chats.view(c) for c in queued()],
    }


@app.route("/agent/chats/{chat_id}/messages", authorizer=cognito)
def agent_messages(chat_id):
    request = app.current_request
    return messages.page(rest.agent(request), chat_id, rest.after_param(request))


@app.route("/agent/team", authorizer=cognito)
def agent_team():
    rest.agent(app.current_request)
    return {"agents": team()}


@app.route("/agent/visitors/{visitor_id}", authorizer=cognito)
def agent_visitor(visitor_id):
    rest.agent(app.current_request)
    return chats.visitor_profile(visitor_id)


@app.route("/agent/canned", authorizer=cognito)
def canned_list():
    return {"canned": canned.list_for(rest.agent(app.current_request))}


@app.route("/agent/canned/{shortcut}", methods=["PUT"], authorizer=cognito)
def canned_save(shortcut):
    request = app.current_request
    return canned.save(rest.agent(request), shortcut, rest.json_body(request))


@app.route("/agent/canned/{shortcut}", methods=["DELETE"], authorizer=cognito)
def canned_delete(shortcut):
    request = app.current_request
    shared = (request.query_params or {}).get("shared") == "true"
    canned.delete(rest.agent(request), shortcut, shared)
    return Response("", status_code=204)


@app.route("/agent/reports", authorizer=cognito)
def agent_report():
    request = app.current_request
    params = request.query_params or {}
    return ranges.report(rest.agent(request), params.get("from"), params.get("to"), params.get("agent"))


@app.route("/agent/reports/csv", authorizer=cognito)
def agent_report_csv():
    request = app.current_request
    params = request.query_params or {}
    data = ranges.report(rest.agent(request), params.get("from"), params.get("to"), params.get("agent"))
    disposition = attachments.disposition(f"charla-{data['subject']}-{data['from']}-{data['to']}.csv")
    headers = {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": disposition}
    return Response(ranges.to_csv(data), headers=headers)


# --- WebSocket -------------------------------------------------------------------------------


@app.on_ws_connect()
def ws_connect(event):
    status = sockets.connect(event.to_dict())
    if status != 200:
        return Response({"message": "Forbidden"}, status_code=status)
    return None


@app.on_ws_message()
def ws_message(event):
    frames.handle(event.connection_id, event.body)


@app.on_ws_disconnect()
def ws_disconnect(event):
    sockets.disconnect(event.connection_id)


# --- schedules -------------------------------------------------------------------------------


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep(event):
    return sweeps.run()


@app.schedule(Rate(1, unit=Rate.HOURS))
def daily_summary(event):
    return {"sent": summary_mail.send_if_due()}


# --- tickets ---------------------------------------------------------------------------------


@app.route("/widget/offline-form", cors=True)
def widget_offline_form():
    rest.check_origin(app.current_request)
    return {"fields": offline_form.fields()}


@app.route("/visitor/offline", methods=["POST"], cors=True)
def visitor_offline():
    request = app.current_request
    ticket = offline_form.submit(rest.visitor(request), rest.json_body(request))
    return Response(tickets.view(ticket, for_visitor=True), status_code=201)


@app.route("/visitor/tickets", cors=True)
def visitor_tickets():
    return {"tickets": tickets.visitor_tickets(rest.visitor(app.current_request))}


@app.route("/visitor/tickets/{ticket_id}", cors=True)
def visitor_ticket(ticket_id):
    request = app.current_request
    ticket = tickets.for_visitor(rest.visitor(request), ticket_id)
    return tickets.timeline(ticket, rest.after_param(request), for_visitor=True)


@app.route("/visitor/tickets/{ticket_id}/replies", methods=["POST"], cors=True)
def visitor_ticket_reply(ticket_id):
    request = app.current_request
    return Response(
        agent_actions.visitor_reply(rest.visitor(request), ticket_id, rest.json_body(request)), status_code=201
    )


@app.route("/visitor/tickets/{ticket_id}/attachments/{attachment_id}", cors=True)
def visitor_ticket_attachment(ticket_id, attachment_id):
    ticket = tickets.for_visitor(rest.visitor(app.current_request), ticket_id)
    return attachments.download(ticket, attachment_id, for_visitor=True)


@app.route("/agent/tickets", authorizer=cognito)
def agent_tickets():
    request = app.current_request
    return lists.list_tickets(rest.agent(request), dict(request.query_params or {}))


@app.route("/agent/tickets/{ticket_id}", authorizer=cognito)
def agent_ticket(ticket_id):
    request = app.current_request
    return tickets.timeline(tickets.for_agent(rest.agent(request), ticket_id), rest.after_param(request))


@app.route("/agent/tickets/{ticket_id}", methods=["PATCH"], authorizer=cognito)
def agent_ticket_edit(ticket_id):
    request = app.current_request
    return tickets.view(agent_actions.edit(rest.agent(request), ticket_id, rest.json_body(request)))


@app.route("/agent/tickets/{ticket_id}/replies", methods=["POST"], authorizer=cognito)
def agent_ticket_reply(ticket_id):
    request = app.current_request
    return Response(agent_actions.reply(rest.agent(request), ticket_id, rest.json_body(request)), status_code=201)


@app.route("/agent/tickets/{ticket_id}/notes", methods=["POST"], authorizer=cognito)
def agent_ticket_note(ticket_id):
    request = app.current_request
    return Response(agent_actions.note(rest.agent(request), ticket_id, rest.json_body(request)), status_code=201)


@app.route("/agent/tickets/{ticket_id}/attachments", methods=["POST"], authorizer=cognito)
def agent_ticket_upload(ticket_id):
    request = app.current_request
    principal = rest.agent(request)
    ticket = tickets.for_agent(principal, ticket_id)
    return Response(attachments.start_upload(principal, ticket, rest.json_body(request)), status_code=201)


@app.route("/agent/tickets/{ticket_id}/attachments/{attachment_id}/complete", methods=["POST"], authorizer=cognito)
def agent_ticket_upload_done(ticket_id, attachment_id):
    ticket = tickets.for_agent(rest.agent(app.current_request), ticket_id)
    return attachments.complete(ticket, attachment_id)


@app.route("/agent/tickets/{ticket_id}/attachments/{attachment_id}", authorizer=cognito)
def agent_ticket_attachment(ticket_id, attachment_id):
    ticket = tickets.for_agent(rest.agent(app.current_request), ticket_id)
    return attachments.download(ticket, attachment_id)


@app.route("/agent/chats/{chat_id}/ticket", methods=["POST"], authorizer=cognito)
def agent_chat_ticket(chat_id):
    request = app.current_request
    body = rest.json_body(request) if request.raw_body else {}
    ticket, created = from_chat.create(rest.agent(request), chat_id, body)
    return Response(tickets.view(ticket), status_code=201 if created else 200)


@app.route("/agent/offline-form", authorizer=cognito)
def agent_offline_form():
    rest.agent(app.current_request)
    return {"fields": offline_form.fields()}


@app.route("/agent/offline-form", methods=["PUT"], authorizer=cognito)
def agent_offline_form_save():
    request = app.current_request
    return {"fields": offline_form.save_config(rest.agent(request), rest.json_body(request))}


# Mail to the support address: SES stores it in the mail bucket, whose notification invokes this
# function with the S3 event. (`@app.on_s3_event` would be the natural decorator, but `chalice
# package` refuses it for buckets of the CloudFormation template, so infra/aws wires the notification.)
@app.lambda_function(name="inbound_mail")
def inbound_mail_received(event, context):
    # Imported here: MIME parsing is only this Lambda's work, not every cold start's.
    from functions.helpdesk import inbound_mail

    return inbound_mail.handle(event)


# --- administration --------------------------------------------------------------------------


def _admin(request):
    principal = rest.agent(request)
    members.require_admin(principal)
    return principal


@app.route("/auth/challenge", methods=["POST"])
def auth_challenge():
    return sign_in.answer_challenge(rest.json_body(app.current_request))


@app.route("/agent/me", methods=["PATCH"], authorizer=cognito)
def agent_me_update():
    request = app.current_request
    return members.update_me(rest.agent(request), rest.json_body(request))


@app.route("/agent/me/password", methods=["POST"], authorizer=cognito)
def agent_me_password():
    request = app.current_request
    members.change_password(rest.agent(request), rest.json_body(request))
    return Response("", status_code=204)


@app.route("/agent/me/signout-all", methods=["POST"], authorizer=cognito)
def agent_me_signout_all():
    members.sign_out_everywhere(rest.agent(app.current_request))
    return Response("", status_code=204)


@app.route("/agent/chats/{chat_id}/ban", methods=["POST"], authorizer=cognito)
def agent_chat_ban(chat_id):
    request = app.current_request
    ban = ban_enforcement.ban_from_chat(rest.agent(request), chat_id, rest.json_body(request))
    return Response(ban, status_code=201)


@app.route("/admin/agents", authorizer=cognito)
def admin_agents():
    _admin(app.current_request)
    return {"agents": members.list_agents()}


@app.route("/admin/agents", methods=["POST"], authorizer=cognito)
def admin_agents_invite():
    request = app.current_request
    admin = _admin(request)
    console = members.console_url(request.headers.get("origin"))
    return Response(members.invite(admin, rest.json_body(request), console), status_code=201)


@app.route("/admin/agents/{agent_id}", methods=["PATCH"], authorizer=cognito)
def admin_agent_update(agent_id):
    request = app.current_request
    return members.update(_admin(request), agent_id, rest.json_body(request))


@app.route("/admin/agents/{agent_id}", methods=["DELETE"], authorizer=cognito)
def admin_agent_remove(agent_id):
    members.remove(_admin(app.current_request), agent_id)
    return Response("", status_code=204)


@app.route("/admin/agents/{agent_id}/reinvite", methods=["POST"], authorizer=cognito)
def admin_agent_reinvite(agent_id):
    request = app.current_request
    return members.reinvite(_admin(request), agent_id, members.console_url(request.headers.get("origin")))


@app.route("/admin/settings", authorizer=cognito)
def admin_settings():
    _admin(app.current_request)
    return settings_checks.read()


@app.route("/admin/settings", methods=["PATCH"], authorizer=cognito)
def admin_settings_update():
    request = app.current_request
    _admin(request)
    return settings_checks.update(rest.json_body(request))


@app.route("/admin/bans", authorizer=cognito)
def admin_bans():
    _admin(app.current_request)
    return {"bans": bans.list_view()}


@app.route("/admin/bans", methods=["POST"], authorizer=cognito)
def admin_bans_add():
    request = app.current_request
    return Response(ban_enforcement.ban(_admin(request), rest.json_body(request)), status_code=201)


@app.route("/admin/bans/{ban_id}", methods=["DELETE"], authorizer=cognito)
def admin_bans_remove(ban_id):
    _admin(app.current_request)
    bans.remove(ban_id)
    return Response("", status_code=204)


@app.route("/admin/webhooks", authorizer=cognito)
def admin_webhooks():
    _admin(app.current_request)
    return {"webhooks": webhooks.list_view(), "events": list(webhooks.EVENTS)}


@app.route("/admin/webhooks", methods=["POST"], authorizer=cognito)
def admin_webhooks_add():
    request = app.current_request
    return Response(webhooks.create(_admin(request), rest.json_body(request)), status_code=201)


@app.route("/admin/webhooks/{webhook_id}", methods=["DELETE"], authorizer=cognito)
def admin_webhooks_remove(webhook_id):
    _admin(app.current_request)
    webhooks.delete(webhook_id)
    return Response("", status_code=204)


@app.route("/admin/webhooks/{webhook_id}/deliveries", authorizer=cognito)
def admin_webhook_deliveries(webhook_id):
    request = app.current_request
    _admin(request)
    return webhooks.deliveries(webhook_id, (request.query_params or {}).get("before"))


# Webhook deliveries, retried through the queue (functions/admin/webhook_delivery.py). The queue name is
# read when Chalice packages the app; infra/aws points the event source at its own queue.
@app.on_sqs_message(queue=os.environ.get("WEBHOOK_QUEUE_NAME", "charla-webhooks"), batch_size=10)
def deliver_webhooks(event):
    return webhook_delivery.deliver_batch(record.body for record in event)


# --- visitors --------------------------------------------------------------------------------
# Tracking, greetings, identified visitors and their data (functions/visitors/tracking.py, greetings.py,
# verified.py, data_requests.py).


@app.route("/visitor/pageview", methods=["POST"], cors=True, content_types=["text/plain", "application/json"])
def visitor_pageview():
    request = app.current_request
    rest.check_origin(request)
    answer = tracking.page_view(
        tracking.beacon_body(request.raw_body),
        user_agent=request.headers.get("user-agent"),
        country=request.headers.get("cloudfront-viewer-country"),
        ip=rest.source_ip(request),
    )
    # 204: tracking is off, and nothing was written.
    return Response("", status_code=204) if answer is None else answer


@app.route("/visitor/identify", methods=["POST"], cors=True)
def visitor_identify():
    request = app.current_request
    return verified.identify(rest.visitor(request), rest.json_body(request))


@app.route("/visitor/greetings/{rule_id}/shown", methods=["POST"], cors=True)
def visitor_greeting_shown(rule_id):
    return greetings.shown(rest.visitor(app.current_request), rule_id)


@app.route("/agent/visitors/online", authorizer=cognito)
def agent_visitors_online():
    rest.agent(app.current_request)
    return {"visitors": tracking.online(), "now": int(time.time())}


@app.route("/agent/visitors/{visitor_id}/greeting", methods=["POST"], authorizer=cognito)
def agent_visitor_greeting(visitor_id):
    request = app.current_request
    return Response(greetings.send(rest.agent(request), visitor_id, rest.json_body(request)), status_code=201)


@app.route("/admin/identity-secret", authorizer=cognito)
def admin_identity_secret():
    _admin(app.current_request)
    return {"secret": verified.secret()}


@app.route("/admin/visitors/{visitor_id}/export", authorizer=cognito)
def admin_visitor_export(visitor_id):
    _admin(app.current_request)
    data = data_requests.export(visitor_id)
    disposition = f'attachment; filename="charla-visitor-{data["visitor_id"]}.json"'
    return Response(data, headers={"Content-Type": "application/json", "Content-Disposition": disposition})


@app.route("/admin/visitors/{visitor_id}", methods=["DELETE"], authorizer=cognito)
def admin_visitor_erase(visitor_id):
    return {"deleted": data_requests.erase(_admin(app.current_request), visitor_id)}
