"""REST routes of the team: signing in, an agent's own profile, and the admin's management of agents."""

from typing import Any

from chalice import Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint
from functions.team import agents, email_change, members, mfa, sign_in

bp = Blueprint(__name__)


@bp.route("/auth/login", methods=["POST"])
def login() -> dict[str, Any]:
    return sign_in.login(rest.json_body(bp.current_request))


@bp.route("/auth/refresh", methods=["POST"])
def refresh() -> dict[str, Any]:
    return sign_in.refresh(rest.json_body(bp.current_request))


@bp.route("/auth/challenge", methods=["POST"])
def auth_challenge() -> dict[str, Any]:
    return sign_in.answer_challenge(rest.json_body(bp.current_request))


@bp.route("/agent/me", authorizer=cognito)
def agent_me() -> dict[str, Any]:
    return agents.view(agents.get(rest.agent(bp.current_request).id))


@bp.route("/agent/me", methods=["PATCH"], authorizer=cognito)
def agent_me_update() -> dict[str, Any]:
    request = bp.current_request
    return members.update_me(rest.agent(request), rest.json_body(request))


@bp.route("/agent/me/password", methods=["POST"], authorizer=cognito)
def agent_me_password() -> Response:
    request = bp.current_request
    members.change_password(rest.agent(request), rest.json_body(request))
    return Response("", status_code=204)


@bp.route("/auth/logout", methods=["POST"])
def auth_logout() -> Response:
    sign_in.logout(rest.json_body(bp.current_request))
    return Response("", status_code=204)


@bp.route("/agent/me/mfa", authorizer=cognito)
def agent_me_mfa() -> dict[str, Any]:
    return mfa.status(agents.get(rest.agent(bp.current_request, mfa_setup=True).id))


@bp.route("/agent/me/mfa/setup", methods=["POST"], authorizer=cognito)
def agent_me_mfa_setup() -> dict[str, Any]:
    request = bp.current_request
    return mfa.setup(rest.agent(request, mfa_setup=True), rest.json_body(request))


@bp.route("/agent/me/mfa/verify", methods=["POST"], authorizer=cognito)
def agent_me_mfa_verify() -> dict[str, Any]:
    request = bp.current_request
    return mfa.verify(rest.agent(request, mfa_setup=True), rest.json_body(request))


@bp.route("/agent/me/mfa/disable", methods=["POST"], authorizer=cognito)
def agent_me_mfa_disable() -> dict[str, Any]:
    request = bp.current_request
    return mfa.disable(rest.agent(request), rest.json_body(request))


@bp.route("/agent/me/email", methods=["POST"], authorizer=cognito)
def agent_me_email() -> Response:
    request = bp.current_request
    return Response(email_change.request(rest.agent(request), rest.json_body(request)), status_code=202)


@bp.route("/agent/me/email/verify", methods=["POST"], authorizer=cognito)
def agent_me_email_verify() -> dict[str, Any]:
    request = bp.current_request
    return email_change.confirm(rest.agent(request), rest.json_body(request))


@bp.route("/agent/me/signout-all", methods=["POST"], authorizer=cognito)
def agent_me_signout_all() -> Response:
    members.sign_out_everywhere(rest.agent(bp.current_request))
    return Response("", status_code=204)


@bp.route("/agent/team", authorizer=cognito)
def agent_team() -> dict[str, Any]:
    rest.agent(bp.current_request)
    return {"agents": agents.team()}


@bp.route("/admin/agents", authorizer=cognito)
def admin_agents() -> dict[str, Any]:
    rest.admin(bp.current_request)
    return {"agents": members.list_agents()}


@bp.route("/admin/agents", methods=["POST"], authorizer=cognito)
def admin_agents_invite() -> Response:
    request = bp.current_request
    admin = rest.admin(request)
    console = members.console_url(request.headers.get("origin"))
    return Response(members.invite(admin, rest.json_body(request), console), status_code=201)


@bp.route("/admin/agents/{agent_id}", methods=["PATCH"], authorizer=cognito)
def admin_agent_update(agent_id: str) -> dict[str, Any]:
    request = bp.current_request
    return members.update(rest.admin(request), agent_id, rest.json_body(request))


@bp.route("/admin/agents/{agent_id}", methods=["DELETE"], authorizer=cognito)
def admin_agent_remove(agent_id: str) -> Response:
    members.remove(rest.admin(bp.current_request), agent_id)
    return Response("", status_code=204)


@bp.route("/admin/agents/{agent_id}/reinvite", methods=["POST"], authorizer=cognito)
def admin_agent_reinvite(agent_id: str) -> dict[str, Any]:
    request = bp.current_request
    return members.reinvite(rest.admin(request), agent_id, members.console_url(request.headers.get("origin")))
