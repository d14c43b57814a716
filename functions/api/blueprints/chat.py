"""REST routes of chats: transcripts and files for both sides, an agent's lists, the chats an admin may
supervise, and canned responses."""

from typing import Any

from chalice import Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint
from functions.chat import canned, chats, files, messages, supervision
from functions.realtime import visitor_frames

bp = Blueprint(__name__)


@bp.route("/visitor/chats/{chat_id}/messages", cors=True)
def visitor_messages(chat_id: str) -> dict[str, Any]:
    request = bp.current_request
    return visitor_frames.page(messages.page(rest.visitor(request), chat_id, rest.after_param(request)))


@bp.route("/visitor/chats/{chat_id}/files", methods=["POST"], cors=True)
def visitor_file_grant(chat_id: str) -> Response:
    request = bp.current_request
    return Response(files.grant(rest.visitor(request), chat_id, rest.json_body(request)), status_code=201)


@bp.route("/visitor/chats/{chat_id}/files/{file_id}", cors=True)
def visitor_file(chat_id: str, file_id: str) -> dict[str, Any]:
    return files.download(rest.visitor(bp.current_request), chat_id, file_id)


@bp.route("/agent/chats/{chat_id}/files", methods=["POST"], authorizer=cognito)
def agent_file_grant(chat_id: str) -> Response:
    request = bp.current_request
    return Response(files.grant(rest.agent(request), chat_id, rest.json_body(request)), status_code=201)


@bp.route("/agent/chats/{chat_id}/files/{file_id}", authorizer=cognito)
def agent_file(chat_id: str, file_id: str) -> dict[str, Any]:
    return files.download(rest.agent(bp.current_request), chat_id, file_id)


@bp.route("/agent/chats", authorizer=cognito)
def agent_chats() -> dict[str, Any]:
    return chats.lists_of_agent(rest.agent(bp.current_request))


@bp.route("/admin/chats/active", authorizer=cognito)
def admin_active_chats() -> dict[str, Any]:
    rest.admin(bp.current_request)
    return {"chats": supervision.active_chats()}


@bp.route("/agent/chats/{chat_id}/messages", authorizer=cognito)
def agent_messages(chat_id: str) -> dict[str, Any]:
    request = bp.current_request
    return messages.page(rest.agent(request), chat_id, rest.after_param(request))


@bp.route("/agent/canned", authorizer=cognito)
def canned_list() -> dict[str, Any]:
    return {"canned": canned.list_for(rest.agent(bp.current_request))}


@bp.route("/agent/canned/{shortcut}", methods=["PUT"], authorizer=cognito)
def canned_save(shortcut: str) -> dict[str, Any]:
    request = bp.current_request
    return canned.save(rest.agent(request), shortcut, rest.json_body(request))


@bp.route("/agent/canned/{shortcut}", methods=["DELETE"], authorizer=cognito)
def canned_delete(shortcut: str) -> Response:
    request = bp.current_request
    shared = rest.query(request).get("shared") == "true"
    canned.delete(rest.agent(request), shortcut, shared)
    return Response("", status_code=204)
