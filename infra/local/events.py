"""Event payloads shaped like the ones AWS sends, so handlers see locally what they see in Lambda."""

from __future__ import annotations

import secrets
import string
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

ACCOUNT_ID = "123456789012"
_ID_ALPHABET = string.ascii_letters + string.digits


def aws_id() -> str:
    """A connection or request id in API Gateway's look (16 characters ending in "=").

    Real ids are base64 and may contain "+" or "/"; these stay alphanumeric so they survive any
    URL path unescaped, which is all a caller may rely on.
    """
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def epoch_ms(seconds: float | None = None) -> int:
    return int((time.time() if seconds is None else seconds) * 1000)


def _request_time(seconds: float) -> str:
    # API Gateway's CLF-style requestTime; strftime's %b/%a would follow the locale.
    moment = datetime.fromtimestamp(seconds, UTC)
    month = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[moment.month - 1]
    return f"{moment.day:02d}/{month}/{moment.year}:{moment:%H:%M:%S} +0000"


def _multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def ws_request_context(
    *,
    route_key: str,
    event_type: str,
    connection_id: str,
    connected_at: float,
    domain_name: str,
    stage: str,
    source_ip: str,
    user_agent: str,
) -> dict[str, Any]:
    now = time.time()
    request_id = aws_id()
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": _request_time(now),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": epoch_ms(connected_at),
        "requestTimeEpoch": epoch_ms(now),
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        "requestId": request_id,
        "domainName": domain_name,
        "connectionId": connection_id,
        "apiId": "local",
    }


def ws_connect_event(
    context: dict[str, Any],
    headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
) -> dict[str, Any]:
    single_headers, multi_headers = _multi(headers)
    event: dict[str, Any] = {
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    single_query, multi_query = _multi(query)
    # API Gateway leaves both keys out when the URL has no query string.
    if single_query:
        event["queryStringParameters"] = single_query
        event["multiValueQueryStringParameters"] = multi_query
    return event


def ws_message_event(context: dict[str, Any], body: str) -> dict[str, Any]:
    context = {**context, "messageId": aws_id()}
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def ws_disconnect_event(
    context: dict[str, Any], host: str, source_ip: str, status_code: int, reason: str
) -> dict[str, Any]:
    # $disconnect carries only the few headers API Gateway synthesises, not the client's.
    headers = {"Host": host, "x-api-key": "", "X-Forwarded-For": source_ip, "x-restapi": ""}
    context = {**context, "disconnectStatusCode": status_code, "disconnectReason": reason}
    return {
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def scheduled_event(rule_name: str, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


def api_gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as a REST API's Cognito authorizer hands them to Lambda: every value a string.

    Lists become comma-separated (`cognito:groups` = "admin,agent") and `exp`/`iat` become
    dates like "Tue Apr 04 18:39:39 UTC 2023", so code that only works on the raw JWT types
    fails here just as it would on AWS.
    """
    out: dict[str, str] = {}
    for key, value in claims.items():
        if key in ("exp", "iat") and isinstance(value, (int, float)):
            out[key] = _java_date(value)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            out[key] = ",".join(str(item) for item in value)
        else:
            out[key] = str(value)
    return out


def _java_date(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    day = "Mon Tue Wed Thu Fri Sat Sun".split()[moment.weekday()]
    month = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[moment.month - 1]
    return f"{day} {month} {moment.day:02d} {moment:%H:%M:%S} UTC {moment.year}"


def s3_object_created_event(bucket: str, key: str, *, size: int, etag: str, region: str) -> dict[str, Any]:
    """An S3 event notification for one new object, as a bucket's notification sends it to Lambda."""
    now = time.time()
    moment = datetime.fromtimestamp(now, UTC)
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:LOCAL"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": aws_id()[:16], "x-amz-id-2": aws_id()},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "inbound-mail",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "LOCAL"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    # Keys arrive URL-encoded, spaces as "+": handlers must unquote_plus them.
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag,
                        "sequencer": f"{int(now * 1_000_000):016X}",
                    },
                },
            }
        ]
    }
