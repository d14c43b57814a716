"""REST routes of the helpdesk: the offline form, tickets for requesters and agents, attachments, and
turning a chat into a ticket."""

from typing import Any

from chalice import Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint
from functions.helpdesk import agent_actions, attachments, from_chat, lists, offline_form, tickets

bp = Blueprint(__name__)


@bp.route("/widget/offline-form", cors=True)
def widget_offline_form() -> dict[str, Any]:
    rest.check_origin(bp.current_request)
    # `?lang=es`: the labels in the language the widget speaks (English, or an unknown code, as configured).
    return {"fields": offline_form.fields(rest.query(bp.current_request).get("lang"))}


@bp.route("/visitor/offline", methods=["POST"], cors=True)
def visitor_offline() -> Response:
    request = bp.current_request
    ticket = offline_form.submit(rest.visitor(request), rest.json_body(request), rest.source_ip(request))
    return Response(tickets.view(ticket, for_visitor=True), status_code=201)


@bp.route("/visitor/tickets", cors=True)
def visitor_tickets() -> dict[str, Any]:
    return {"tickets": tickets.visitor_tickets(rest.visitor(bp.current_request))}


@bp.route("/visitor/tickets/{ticket_id}", cors=True)
def visitor_ticket(ticket_id: str) -> dict[str, Any]:
    request = bp.current_request
    ticket = tickets.for_visitor(rest.visitor(request), ticket_id)
    return tickets.timeline(ticket, rest.after_param(request), for_visitor=True)


@bp.route("/visitor/tickets/{ticket_id}/replies", methods=["POST"], cors=True)
def visitor_ticket_reply(ticket_id: str) -> Response:
    request = bp.current_request
    reply = agent_actions.visitor_reply(rest.visitor(request), ticket_id, rest.json_body(request))
    return Response(reply, status_code=201)


@bp.route("/visitor/tickets/{ticket_id}/attachments/{attachment_id}", cors=True)
def visitor_ticket_attachment(ticket_id: str, attachment_id: str) -> dict[str, Any]:
    ticket = tickets.for_visitor(rest.visitor(bp.current_request), ticket_id)
    return attachments.download(ticket, attachment_id, for_visitor=True)


@bp.route("/agent/tickets", authorizer=cognito)
def agent_tickets() -> dict[str, Any]:
    request = bp.current_request
    return lists.list_tickets(rest.agent(request), rest.query(request))


@bp.route("/agent/tickets/{ticket_id}", authorizer=cognito)
def agent_ticket(ticket_id: str) -> dict[str, Any]:
    request = bp.current_request
    return tickets.timeline(tickets.for_agent(rest.agent(request), ticket_id), rest.after_param(request))


@bp.route("/agent/tickets/{ticket_id}", methods=["PATCH"], authorizer=cognito)
def agent_ticket_edit(ticket_id: str) -> dict[str, Any]:
    request = bp.current_request
    return tickets.view(agent_actions.edit(rest.agent(request), ticket_id, rest.json_body(request)))


@bp.route("/agent/tickets/{ticket_id}/replies", methods=["POST"], authorizer=cognito)
def agent_ticket_reply(ticket_id: str) -> Response:
    request = bp.current_request
    return Response(agent_actions.reply(rest.agent(request), ticket_id, rest.json_body(request)), status_code=201)


@bp.route("/agent/tickets/{ticket_id}/notes", methods=["POST"], authorizer=cognito)
def agent_ticket_note(ticket_id: str) -> Response:
    request = bp.current_request
    return Response(agent_actions.note(rest.agent(request), ticket_id, rest.json_body(request)), status_code=201)


@bp.route("/agent/tickets/{ticket_id}/attachments", methods=["POST"], authorizer=cognito)
def agent_ticket_upload(ticket_id: str) -> Response:
    request = bp.current_request
    principal = rest.agent(request)
    ticket = tickets.for_agent(principal, ticket_id)
    return Response(attachments.start_upload(principal, ticket, rest.json_body(request)), status_code=201)


@bp.route("/agent/tickets/{ticket_id}/attachments/{attachment_id}/complete", methods=["POST"], authorizer=cognito)
def agent_ticket_upload_done(ticket_id: str, attachment_id: str) -> dict[str, Any]:
    ticket = tickets.for_agent(rest.agent(bp.current_request), ticket_id)
    return attachments.complete(ticket, attachment_id)


@bp.route("/agent/tickets/{ticket_id}/attachments/{attachment_id}", authorizer=cognito)
def agent_ticket_attachment(ticket_id: str, attachment_id: str) -> dict[str, Any]:
    ticket = tickets.for_agent(rest.agent(bp.current_request), ticket_id)
    return attachments.download(ticket, attachment_id)


@bp.route("/agent/chats/{chat_id}/ticket", methods=["POST"], authorizer=cognito)
def agent_chat_ticket(chat_id: str) -> Response:
    request = bp.current_request
    body = rest.json_body(request) if request.raw_body else {}
    ticket, created = from_chat.create(rest.agent(request), chat_id, body)
    return Response(tickets.view(ticket), status_code=201 if created else 200)


@bp.route("/agent/offline-form", authorizer=cognito)
def agent_offline_form() -> dict[str, Any]:
    rest.agent(bp.current_request)
    return {"fields": offline_form.fields()}


@bp.route("/agent/offline-form", methods=["PUT"], authorizer=cognito)
def agent_offline_form_save() -> dict[str, Any]:
    request = bp.current_request
    return {"fields": offline_form.save_config(rest.agent(request), rest.json_body(request))}
