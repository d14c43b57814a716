"""Charla's Chalice app, as a table of contents.

- REST: one blueprint per capability in `functions/api/blueprints/`, all registered below.
- WebSocket: `$connect` and `$disconnect` (`functions/realtime/sockets.py`) and every frame
  (`functions/api/frames.py`).
- Schedules: the every-minute sweep (`functions/chat/sweeps.py`) and the daily summary
  (`functions/reports/daily_summary.py`).
- Queues and mail: one job queue for webhook deliveries (`functions/admin/webhook_delivery.py`) and the
  agents' coalesced notices (`functions/realtime/agent_notices.py`), drained by `functions/api/queued_jobs.py`;
  and inbound mail (`functions/helpdesk/inbound_mail.py`).

Every handler parses its input, calls one function and shapes the answer.
"""

import os
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Rate, Response
from chalice.app import CloudWatchEvent, Request, SQSEvent, WebsocketEvent

from functions.api import cors, frames, queued_jobs, rest
from functions.api.blueprints import admin, archive, chat, groups, helpdesk, realtime, reports, tags, team, visitors
from functions.chat import sweeps
from functions.core.errors import CharlaError
from functions.realtime import agent_notices, sockets
from functions.reports import daily_summary as summary_mail

app = Chalice(app_name="charla")
app.experimental_feature_flags.update(["WEBSOCKETS"])

for blueprint in (admin, archive, chat, groups, helpdesk, realtime, reports, tags, team, visitors):
    app.register_blueprint(blueprint.bp)


@app.middleware("http")
def charla_errors(event: Request, get_response: Callable[[Request], Response]) -> Response:
    try:
        rest.check_request(event)
        return get_response(event)
    except CharlaError as error:
        # Chalice adds a route's CORS headers only to the answers its views return.
        headers = cors.route_headers(app.routes, event)
        body = {"Code": error.code, "Message": error.message}
        if error.field:
            body["Field"] = error.field
        return Response(body, status_code=error.http_status, headers=headers)


# --- WebSocket -------------------------------------------------------------------------------


@app.on_ws_connect()
def ws_connect(event: WebsocketEvent) -> Response | None:
    status = sockets.connect(event.to_dict())
    if status != 200:
        return Response({"message": "Forbidden"}, status_code=status)
    return None


@app.on_ws_message()
def ws_message(event: WebsocketEvent) -> None:
    identity = event.to_dict()["requestContext"].get("identity") or {}
    frames.handle(event.connection_id, event.body, identity.get("sourceIp"))


@app.on_ws_disconnect()
def ws_disconnect(event: WebsocketEvent) -> None:
    sockets.disconnect(event.connection_id)


# --- schedules -------------------------------------------------------------------------------


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep(event: CloudWatchEvent) -> dict[str, int]:
    return sweeps.run()


@app.schedule(Rate(1, unit=Rate.HOURS))
def daily_summary(event: CloudWatchEvent) -> dict[str, int]:
    return {"sent": summary_mail.send_if_due()}


# --- queues and mail -------------------------------------------------------------------------


# Webhook deliveries and team-wide notices, one queue and one event source for both (an idle event
# source still polls: see functions/api/queued_jobs.py). The event source gathers notices for a few
# seconds so that each agent connection gets one frame for all of them. The queue name is read when
# Chalice packages the app; infra/aws points the event source at its own queue.
@app.on_sqs_message(
    queue=os.environ.get("JOB_QUEUE_NAME", "charla-jobs"),
    batch_size=agent_notices.BATCH_SIZE,
    maximum_batching_window_in_seconds=agent_notices.WINDOW_S,
    maximum_concurrency=agent_notices.MAX_CONCURRENCY,
)
def drain_job_queue(event: SQSEvent) -> dict[str, Any]:
    return queued_jobs.drain(record.body for record in event)


# Mail to the support address: SES stores it in the mail bucket, whose notification invokes this
# function with the S3 event. (`@app.on_s3_event` would be the natural decorator, but `chalice
# package` refuses it for buckets of the CloudFormation template, so infra/aws wires the notification.)
@app.lambda_function(name="inbound_mail")
def inbound_mail_received(event: dict[str, Any], context: Any) -> Any:
    # Imported here: MIME parsing is only this Lambda's work, not every cold start's.
    from functions.helpdesk import inbound_mail

    return inbound_mail.handle(event)
