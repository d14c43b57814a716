"""REST routes of administration: settings, bans and webhooks; and the health check operators probe."""

from typing import Any

from chalice import Response

from functions.admin import ban_enforcement, bans, settings_checks, webhooks
from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint

bp = Blueprint(__name__)


@bp.route("/health")
def health() -> dict[str, Any]:
    return {"ok": True}


@bp.route("/admin/settings", authorizer=cognito)
def admin_settings() -> dict[str, Any]:
    rest.admin(bp.current_request)
    return settings_checks.read()


@bp.route("/admin/settings", methods=["PATCH"], authorizer=cognito)
def admin_settings_update() -> dict[str, Any]:
    request = bp.current_request
    rest.admin(request)
    return settings_checks.update(rest.json_body(request))


@bp.route("/admin/bans", authorizer=cognito)
def admin_bans() -> dict[str, Any]:
    rest.admin(bp.current_request)
    return {"bans": bans.list_view()}


@bp.route("/admin/bans", methods=["POST"], authorizer=cognito)
def admin_bans_add() -> Response:
    request = bp.current_request
    return Response(ban_enforcement.ban(rest.admin(request), rest.json_body(request)), status_code=201)


@bp.route("/admin/bans/{ban_id}", methods=["DELETE"], authorizer=cognito)
def admin_bans_remove(ban_id: str) -> Response:
    rest.admin(bp.current_request)
    bans.remove(ban_id)
    return Response("", status_code=204)


@bp.route("/agent/chats/{chat_id}/ban", methods=["POST"], authorizer=cognito)
def agent_chat_ban(chat_id: str) -> Response:
    request = bp.current_request
    ban = ban_enforcement.ban_from_chat(rest.agent(request), chat_id, rest.json_body(request))
    return Response(ban, status_code=201)


@bp.route("/admin/webhooks", authorizer=cognito)
def admin_webhooks() -> dict[str, Any]:
    rest.admin(bp.current_request)
    return {"webhooks": webhooks.list_view(), "events": list(webhooks.EVENTS)}


@bp.route("/admin/webhooks", methods=["POST"], authorizer=cognito)
def admin_webhooks_add() -> Response:
    request = bp.current_request
    return Response(webhooks.create(rest.admin(request), rest.json_body(request)), status_code=201)


@bp.route("/admin/webhooks/{webhook_id}", methods=["DELETE"], authorizer=cognito)
def admin_webhooks_remove(webhook_id: str) -> Response:
    rest.admin(bp.current_request)
    webhooks.delete(webhook_id)
    return Response("", status_code=204)


@bp.route("/admin/webhooks/{webhook_id}/deliveries", authorizer=cognito)
def admin_webhook_deliveries(webhook_id: str) -> dict[str, Any]:
    request = bp.current_request
    rest.admin(request)
    return webhooks.deliveries(webhook_id, rest.query(request).get("before"))
