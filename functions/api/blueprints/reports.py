"""REST routes of reports: figures over a range of days, as JSON or as a CSV download."""

from typing import Any

from chalice import Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint
from functions.helpdesk.attachments import disposition
from functions.reports import ranges

bp = Blueprint(__name__)


@bp.route("/agent/reports", authorizer=cognito)
def agent_report() -> dict[str, Any]:
    request = bp.current_request
    params = rest.query(request)
    return ranges.report(
        rest.agent(request),
        params.get("from"),
        params.get("to"),
        params.get("agent"),
        params.get("tag"),
        params.get("group"),
    )


@bp.route("/agent/reports/csv", authorizer=cognito)
def agent_report_csv() -> Response:
    request = bp.current_request
    params = rest.query(request)
    data = ranges.report(
        rest.agent(request),
        params.get("from"),
        params.get("to"),
        params.get("agent"),
        params.get("tag"),
        params.get("group"),
    )
    subject = f"{data['subject']}-{data['tag']}" if data["tag"] else data["subject"]
    name = f"charla-{subject}-{data['from']}-{data['to']}.csv"
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": disposition(name),
    }
    return Response(ranges.to_csv(data), headers=headers)
