"""REST routes that open a WebSocket: the single-use connect tickets for visitors and agents."""

from chalice import Response

from functions.api import rest
from functions.api.authorizer import cognito
from functions.api.blueprints import Blueprint
from functions.realtime import connect_tickets

bp = Blueprint(__name__)


@bp.route("/visitor/ws-ticket", methods=["POST"], cors=True)
def visitor_ws_ticket() -> Response:
    return Response(connect_tickets.mint(rest.visitor(bp.current_request)), status_code=201)


@bp.route("/agent/ws-ticket", methods=["POST"], authorizer=cognito)
def agent_ws_ticket() -> Response:
    return Response(connect_tickets.mint(rest.agent(bp.current_request)), status_code=201)
