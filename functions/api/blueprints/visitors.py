"""REST routes about visitors: identities, page views, greetings, and the admin's data requests."""

import time
from typing import Any

from chalice import Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint
from functions.chat import chats
from functions.helpdesk.attachments import disposition
from functions.visitors import data_requests, greetings, identity, tracking, verified, widget_config

bp = Blueprint(__name__)


@bp.route("/widget/settings", cors=True)
def widget_settings() -> dict[str, Any]:
    rest.check_origin(bp.current_request)
    return widget_config.widget_settings()


@bp.route("/visitor/identity", methods=["POST"], cors=True)
def visitor_identity() -> Response:
    request = bp.current_request
    rest.check_origin(request)
    return Response(identity.new_identity(rest.source_ip(request)), status_code=201)


@bp.route("/visitor/pageview", methods=["POST"], cors=True, content_types=["text/plain", "application/json"])
def visitor_pageview() -> Response | dict[str, Any]:
    request = bp.current_request
    rest.check_origin(request)
    answer = tracking.page_view(
        tracking.beacon_body(request.raw_body),
        user_agent=request.headers.get("user-agent"),
        country=rest.viewer_country(request),
        ip=rest.source_ip(request),
    )
    # 204: tracking is off, and nothing was written.
    return Response("", status_code=204) if answer is None else answer


@bp.route("/visitor/identify", methods=["POST"], cors=True)
def visitor_identify() -> dict[str, Any]:
    request = bp.current_request
    return verified.identify(rest.visitor(request), rest.json_body(request))


@bp.route("/visitor/greetings/{rule_id}/shown", methods=["POST"], cors=True)
def visitor_greeting_shown(rule_id: str) -> dict[str, Any]:
    return greetings.shown(rest.visitor(bp.current_request), rule_id)


@bp.route("/agent/visitors/online", authorizer=cognito)
def agent_visitors_online() -> dict[str, Any]:
    rest.agent(bp.current_request)
    return {"visitors": tracking.online(), "now": int(time.time())}


@bp.route("/agent/visitors/{visitor_id}", authorizer=cognito)
def agent_visitor(visitor_id: str) -> dict[str, Any]:
    rest.agent(bp.current_request)
    return chats.visitor_profile(visitor_id)


@bp.route("/agent/visitors/{visitor_id}/greeting", methods=["POST"], authorizer=cognito)
def agent_visitor_greeting(visitor_id: str) -> Response:
    request = bp.current_request
    return Response(greetings.send(rest.agent(request), visitor_id, rest.json_body(request)), status_code=201)


@bp.route("/visitor/tickets/{ticket_id}/email-confirmation", methods=["POST"], cors=True)
def visitor_ticket_email_confirmation(ticket_id: str) -> dict[str, Any]:
    return verified.send_confirmation(rest.visitor(bp.current_request), ticket_id)


@bp.route("/visitor/email-confirmation", methods=["POST"], cors=True)
def visitor_email_confirm() -> dict[str, Any]:
    request = bp.current_request
    return verified.confirm_email(rest.visitor(request), rest.json_body(request))


@bp.route("/admin/identity-secret", authorizer=cognito)
def admin_identity_secret() -> dict[str, Any]:
    rest.admin(bp.current_request)
    return {"secret": verified.secret()}


@bp.route("/admin/visitors/{visitor_id}/export", authorizer=cognito)
def admin_visitor_export(visitor_id: str) -> Response:
    rest.admin(bp.current_request)
    data = data_requests.export(visitor_id)
    headers: dict[str, str | list[str]] = {
        "Content-Type": "application/json",
        "Content-Disposition": disposition(f"charla-visitor-{data['visitor_id']}.json"),
    }
    return Response(data, headers=headers)


@bp.route("/admin/visitors/{visitor_id}", methods=["DELETE"], authorizer=cognito)
def admin_visitor_erase(visitor_id: str) -> dict[str, Any]:
    return {"deleted": data_requests.erase(rest.admin(bp.current_request), visitor_id)}


@bp.route("/admin/email-erasures", methods=["POST"], authorizer=cognito)
def admin_email_erase() -> dict[str, Any]:
    request = bp.current_request
    return {"deleted": data_requests.erase_email(rest.admin(request), rest.json_body(request))}
