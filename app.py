"""Charla's Chalice app: a routing table. Each handler parses its input and calls one function."""

import os

from chalice import Chalice, CognitoUserPoolAuthorizer, Rate, Response

from functions import (
    auth,
    canned,
    chats,
    connect_tickets,
    messages,
    reports,
    rest,
    sessions,
    summaries,
    sweeps,
    visitors,
    ws_actions,
)
from functions import settings as org_settings
from functions.agents import get as get_agent
from functions.agents import team
from functions.agents import view as agent_view
from functions.errors import CharlaError
from functions.routing import queued, routable_agents

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
    public = ("prechat", "sneak_peek", "welcome", "color", "position", "language")
    return {"online": bool(routable_agents()), **{k: values[k] for k in public}}


# --- visitors --------------------------------------------------------------------------------


@app.route("/visitor/identity", methods=["POST"], cors=True)
def visitor_identity():
    rest.check_origin(app.current_request)
    return Response(visitors.create_identity(), status_code=201)


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
    return auth.login(rest.json_body(app.current_request))


@app.route("/auth/refresh", methods=["POST"])
def refresh():
    return auth.refresh(rest.json_body(app.current_request))


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
    return reports.report(rest.agent(request), params.get("from"), params.get("to"), params.get("agent"))


@app.route("/agent/reports/csv", authorizer=cognito)
def agent_report_csv():
    request = app.current_request
    params = request.query_params or {}
    data = reports.report(rest.agent(request), params.get("from"), params.get("to"), params.get("agent"))
    filename = f"charla-{data['subject']}-{data['from']}-{data['to']}.csv"
    headers = {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(reports.to_csv(data), headers=headers)


# --- WebSocket -------------------------------------------------------------------------------


@app.on_ws_connect()
def ws_connect(event):
    status = sessions.connect(event.to_dict())
    if status != 200:
        return Response({"message": "Forbidden"}, status_code=status)
    return None


@app.on_ws_message()
def ws_message(event):
    ws_actions.handle(event.connection_id, event.body)


@app.on_ws_disconnect()
def ws_disconnect(event):
    sessions.disconnect(event.connection_id)


# --- schedules -------------------------------------------------------------------------------


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep(event):
    return sweeps.run()


@app.schedule(Rate(1, unit=Rate.HOURS))
def daily_summary(event):
    return {"sent": summaries.send_if_due()}
