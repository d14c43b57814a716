"""API Gateway for the REST API: chalice's LocalGateway, with real Cognito token checks."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, unquote

from aiohttp import web
from chalice.app import Chalice, CognitoUserPoolAuthorizer, RouteEntry
from chalice.config import Config
from chalice.local import (
    LambdaContext,
    LambdaEventConverter,
    LocalGateway,
    LocalGatewayAuthorizer,
    LocalGatewayException,
    MatchResult,
    NotAuthorizedError,
    RouteMatcher,
)

from infra.local.events import api_gateway_claims
from infra.local.jwt_verify import CognitoJwtVerifier, TokenRejected

log = logging.getLogger("charla.local.rest")

PREFIX = "/api"
STAGE = "api"  # chalice's default API Gateway stage, which is why the API lives under /api


def _pool_id_from_arn(arn: str) -> str:
    # arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>
    return arn.rsplit("/", 1)[-1]


class VerifyingAuthorizer(LocalGatewayAuthorizer):
    """Checks Cognito tokens like API Gateway; other authorizers keep chalice's local behaviour."""

    def __init__(self, app: Chalice, verifier: CognitoJwtVerifier) -> None:
        super().__init__(app)
        self._app = app
        self._verifier = verifier

    def authorize(
        self, raw_path: str, lambda_event: dict[str, Any], lambda_context: LambdaContext
    ) -> tuple[dict[str, Any], LambdaContext]:
        route = self._route(lambda_event)
        authorizer = route.authorizer if route else None
        if not isinstance(authorizer, CognitoUserPoolAuthorizer):
            return super().authorize(raw_path, lambda_event, lambda_context)
        unauthorized = NotAuthorizedError(
            {
                "x-amzn-RequestId": lambda_context.aws_request_id,
                "x-amzn-ErrorType": "UnauthorizedException",
            },
            # The body the stack's GatewayResponse sets in AWS (infra/aws/resources.yaml).
            b'{"Code":"unauthorized","Message":"Unauthorized"}',
        )
        trusted = {_pool_id_from_arn(arn) for arn in authorizer._provider_arns}
        if self._verifier.pool_id not in trusted:
            log.warning(
                "authorizer %r trusts pools %s, not the local pool %s: every call is 401",
                authorizer.name,
                sorted(trusted),
                self._verifier.pool_id,
            )
            raise unauthorized
        header = (authorizer._header or "Authorization").lower()
        token = lambda_event.get("headers", {}).get(header)
        if not token:
            raise unauthorized
        try:
            claims = self._verifier.verify(token, scopes=authorizer.scopes)
        except TokenRejected as error:
            log.info("401 for %s: %s", raw_path, error)
            raise unauthorized from error
        lambda_event["requestContext"]["authorizer"] = {"claims": api_gateway_claims(claims)}
        return lambda_event, lambda_context

    def _route(self, lambda_event: dict[str, Any]) -> RouteEntry | None:
        context = lambda_event.get("requestContext", {})
        methods = self._app.routes.get(context.get("resourcePath"), {})
        return methods.get(context.get("httpMethod"))


class RawPathMatcher(RouteMatcher):
    """chalice's route matcher for a path still percent-encoded, as API Gateway routes it.

    chalice's own parses what it is given as a URL, so given a decoded path, a ? or # from inside
    a parameter starts a query or fragment, a ; starts URL params and a / adds a segment. This
    one splits the raw path on its real slashes only, and decodes each segment on its own: a path
    parameter reaches the handler decoded and whole, as API Gateway's pathParameters do.
    """

    def match_route(self, url: str) -> MatchResult:
        path, _, query = url.partition("?")
        # API Gateway drops a trailing slash, except from the root path.
        if path != "/" and path.endswith("/"):
            path = path[:-1]
        parts = [unquote(part) for part in path.split("/")]
        query_params = parse_qs(query, keep_blank_values=True)
        for route_url in self.route_urls:  # sorted: /foo/bar is tried before /foo/{name}
            route_parts = route_url.split("/")
            if len(route_parts) != len(parts):
                continue
            captured: dict[str, str] = {}
            for part, route_part in zip(parts, route_parts, strict=True):
                if route_part.startswith("{") and route_part.endswith("}"):
                    captured[route_part[1:-1]] = part
                elif part != route_part:
                    break
            else:
                return MatchResult(route_url, captured, query_params)
        raise ValueError(f"No matching route found for: {url}")


class _Gateway(LocalGateway):
    def __init__(self, app: Chalice, verifier: CognitoJwtVerifier, domain_name: str) -> None:
        super().__init__(app, Config())
        self.event_converter = LambdaEventConverter(RawPathMatcher(list(app.routes)), app.api.binary_types)
        self._authorizer = VerifyingAuthorizer(app, verifier)
        self._domain_name = domain_name
        # Set per call; safe because calls run one at a time (see RestGateway).
        self.source_ip = "127.0.0.1"

    def _generate_lambda_event(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, Any]:
        event = super()._generate_lambda_event(method, path, headers, body)
        context = event["requestContext"]
        context.update(
            stage=STAGE,
            requestId=str(uuid.uuid4()),
            apiId="local",
            domainName=self._domain_name,
            requestTimeEpoch=int(time.time() * 1000),
            resourceId="local",
        )
        context["identity"] = {
            "sourceIp": self.source_ip,
            "userAgent": event["headers"].get("user-agent", ""),
        }
        multi = event.get("multiValueQueryStringParameters")
        event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()} if multi else None
        return event


class RestGateway:
    """Serves /api/... by invoking the Chalice app.

    Chalice keeps `app.current_request` on the app object, so two requests at once would see
    each other's request: they run one at a time, on a worker thread, never on the loop.
    """

    def __init__(self, app: Chalice, verifier: CognitoJwtVerifier, domain_name: str) -> None:
        self._gateway = _Gateway(app, verifier, domain_name)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rest")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # Routed on the path as sent, still percent-encoded (see RawPathMatcher); the query string
        # too, decoded once, by the matcher.
        raw = request.rel_url.raw_path
        if raw != PREFIX and not raw.startswith(PREFIX + "/"):
            raise web.HTTPNotFound()  # /ap%69/...: aiohttp matched the decoded path, no stage does
        path = raw[len(PREFIX) :] or "/"
        query = request.rel_url.raw_query_string
        if query:
            path = f"{path}?{query}"
        body = await request.read()
        headers = {key: value for key, value in request.headers.items()}
        source_ip = request.remote or "127.0.0.1"
        loop = asyncio.get_running_loop()
        status, out_headers, out_body = await loop.run_in_executor(
            self._worker, self._call, request.method, path, headers, body or None, source_ip
        )
        response = web.Response(status=status, body=out_body)
        for key, value in out_headers:
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                response.headers.add(key, value)
        if "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "application/json"
        return response

    def _call(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        self._gateway.source_ip = source_ip
        try:
            result = self._gateway.handle_request(method, path, headers, body)
        except LocalGatewayException as error:
            return error.CODE, list(error.headers.items()), error.body or b""
        except Exception:
            # A crash outside the app's own error handling: Lambda reports it as a 502.
            log.exception("REST %s %s failed", method, path)
            return 502, [], b'{"message": "Internal server error"}'
        pairs: list[tuple[str, str]] = list((result.get("headers") or {}).items())
        for key, values in (result.get("multiValueHeaders") or {}).items():
            pairs.extend((key, str(value)) for value in values)
        raw = result.get("body")
        if raw is None:
            data = b""
        elif result.get("isBase64Encoded"):
            data = base64.b64decode(raw)
        else:
            data = raw.encode() if isinstance(raw, str) else bytes(raw)
        return int(result.get("statusCode", 200)), pairs, data

    def shutdown(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
