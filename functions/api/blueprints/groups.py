"""REST routes of groups: every agent reads them (transfers, the queue's filter, reports); admins manage them."""

from typing import Any

from chalice import Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint
from functions.team import groups

bp = Blueprint(__name__)


@bp.route("/agent/groups", authorizer=cognito)
def agent_groups() -> dict[str, Any]:
    rest.agent(bp.current_request)
    return {"groups": [g.view() for g in groups.all_groups()]}


@bp.route("/admin/groups", methods=["POST"], authorizer=cognito)
def admin_groups_add() -> Response:
    request = bp.current_request
    return Response(groups.create(rest.admin(request), rest.json_body(request)), status_code=201)


@bp.route("/admin/groups/{group_id}", methods=["PATCH"], authorizer=cognito)
def admin_groups_update(group_id: str) -> dict[str, Any]:
    request = bp.current_request
    return groups.update(rest.admin(request), group_id, rest.json_body(request))


@bp.route("/admin/groups/{group_id}", methods=["DELETE"], authorizer=cognito)
def admin_groups_remove(group_id: str) -> Response:
    groups.delete(rest.admin(bp.current_request), group_id)
    return Response("", status_code=204)
