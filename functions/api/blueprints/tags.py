"""REST routes of tags: the list (every agent reads it, admins change it) and tagging chats and tickets."""

from typing import Any

from chalice import Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint
from functions.helpdesk import tickets
from functions.tags import catalog, tagging

bp = Blueprint(__name__)


@bp.route("/agent/tags", authorizer=cognito)
def agent_tags() -> dict[str, Any]:
    rest.agent(bp.current_request)
    return catalog.list_view()


@bp.route("/admin/tags", methods=["POST"], authorizer=cognito)
def admin_tags_add() -> Response:
    request = bp.current_request
    rest.admin(request)
    return Response(catalog.create(rest.json_body(request)), status_code=201)


@bp.route("/admin/tags/{tag_id}", methods=["PATCH"], authorizer=cognito)
def admin_tags_edit(tag_id: str) -> dict[str, Any]:
    request = bp.current_request
    rest.admin(request)
    return catalog.update(tag_id, rest.json_body(request))


@bp.route("/admin/tags/{tag_id}", methods=["DELETE"], authorizer=cognito)
def admin_tags_remove(tag_id: str) -> Response:
    rest.admin(bp.current_request)
    catalog.delete(tag_id)
    return Response("", status_code=204)


@bp.route("/agent/chats/{chat_id}/tags", methods=["PATCH"], authorizer=cognito)
def agent_chat_tags(chat_id: str) -> dict[str, Any]:
    request = bp.current_request
    chat = tagging.tag_chat(rest.agent(request), chat_id, rest.json_body(request))
    return {"chat_id": chat.chat_id, "tags": sorted(chat.tags or ())}


@bp.route("/agent/tickets/{ticket_id}/tags", methods=["PATCH"], authorizer=cognito)
def agent_ticket_tags(ticket_id: str) -> dict[str, Any]:
    request = bp.current_request
    return tickets.view(tagging.tag_ticket(rest.agent(request), ticket_id, rest.json_body(request)))
