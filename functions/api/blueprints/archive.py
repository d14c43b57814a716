"""REST routes of the chat archive: one page of the filtered, searched list, and its CSV for admins."""

from typing import Any

from chalice import Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint
from functions.chat import archive
from functions.helpdesk.attachments import disposition

bp = Blueprint(__name__)


@bp.route("/agent/archive", authorizer=cognito)
def agent_archive() -> dict[str, Any]:
    request = bp.current_request
    return archive.search(rest.agent(request), rest.query(request))


@bp.route("/agent/archive/csv", authorizer=cognito)
def agent_archive_csv() -> Response:
    request = bp.current_request
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": disposition("charla-archive.csv"),
    }
    return Response(archive.to_csv(rest.admin(request), rest.query(request)), headers=headers)
