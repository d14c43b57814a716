"""REST routes of the team: signing in, an agent's own profile, and the admin's management of agents."""

from typing import Any

from chalice import Blueprint, Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.team import agents, members, sign_in

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
