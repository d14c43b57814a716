"""API Gateway for the REST API: chalice's LocalGateway, with real Cognito token checks."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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

from functions.core import instance_cache
from infra.local.events import api_gateway_claims
from infra.local.jwt_verify import CognitoJwtVerifier, TokenRejected

log = logging.getLogger("charla.local.rest")

PREFIX = "/api"
STAGE = "api"  # chalice's default API Gateway stage, which is why the API lives under /api


# What the deployed API's GatewayResponses add to API Gateway's own answers (the authorizer's 401,
# an unknown route's 403, a crash's 502): infra/aws/template.py, GATEWAY_RESPONSES.
GATEWAY_CORS = (("Access-Control-Allow-Origin", "*"),)


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
        self._per_call = threading.local()  # the caller's address, set per call on the thread serving it

    @property
    def source_ip(self) -> str:
        return getattr(self._per_call, "source_ip", "127.0.0.1")

    @source_ip.setter
    def source_ip(self, value: str) -> None:
        self._per_call.source_ip = value

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


def edge_headers(received: Iterable[tuple[str, str]], viewer_ip: str, viewer_port: int) -> dict[str, str]:
    """The headers CloudFront sends on to API Gateway for a viewer's request.

    CloudFront adds CloudFront-Viewer-Address itself ("IP:port" of the viewer's connection) when the
    origin request policy includes it, and appends the viewer's address to X-Forwarded-For after
    whatever the viewer sent there (CloudFront Developer Guide: "Add CloudFront request headers";
    "Request and response behavior for custom origins"). A CloudFront-* header the viewer sends is
    not what reaches the origin. Geolocation headers are left out: there is no viewer country for
    an address on this machine.
    """
    headers: dict[str, str] = {}
    for key, value in received:
        if key.lower().startswith("cloudfront-"):
            continue
        headers[key] = value
    forwarded = next((key for key in headers if key.lower() == "x-forwarded-for"), None)
    if forwarded is not None:
        headers[forwarded] = f"{headers[forwarded]}, {viewer_ip}"
    else:
        headers["X-Forwarded-For"] = viewer_ip
    headers["CloudFront-Viewer-Address"] = f"{viewer_ip}:{viewer_port}"
    return headers


def _peer_port(request: web.Request) -> int:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return int(peer[1]) if peer and len(peer) > 1 else 0


class Instance:
    """One Lambda execution environment of the REST function: one request at a time, its own caches."""

    def __init__(self, number: int) -> None:
        self.number = number


class InstancePool:
    """The REST function's instances, as Lambda keeps them: a request goes to a free warm instance
    (the lowest-numbered, so tests can tell which), a new one starts when all are busy, up to `size`,
    and beyond that a request waits.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._instances: list[Instance] = []
        self._busy: set[int] = set()
        self._free = threading.Condition()

    def acquire(self) -> Instance:
        with self._free:
            while True:
                for instance in self._instances:
                    if instance.number not in self._busy:
                        self._busy.add(instance.number)
                        return instance
                if len(self._instances) < self.size:
                    instance = Instance(len(self._instances))
                    self._instances.append(instance)
                    self._busy.add(instance.number)
                    return instance
                self._free.wait()

    def release(self, instance: Instance) -> None:
        with self._free:
            self._busy.discard(instance.number)
            self._free.notify()

    @contextmanager
    def busy(self) -> Iterator[Instance]:
        """Keep an instance busy, as a slow request would, so requests meanwhile go to others."""
        instance = self.acquire()
        try:
            yield instance
        finally:
            self.release(instance)


class RestGateway:
    """Serves /api/... by invoking the Chalice app, several requests at once, as API Gateway does.

    Each request runs on a worker thread as one of the pool's instances, whose module-level caches
    (functions/core/instance_cache.py) are its own. Chalice keeps `app.current_request` on the app
    object, which on AWS serves one request per process: here it is kept per thread instead.
    """

    def __init__(
        self, app: Chalice, verifier: CognitoJwtVerifier, domain_name: str, concurrency: int | None = None
    ) -> None:
        _per_thread_request(app)
        self._gateway = _Gateway(app, verifier, domain_name)
        size = concurrency or int(os.environ.get("CHARLA_REST_CONCURRENCY", "10"))
        self.instances = InstancePool(size)
        self._worker = ThreadPoolExecutor(max_workers=size + 1, thread_name_prefix="rest")

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
        source_ip = request.remote or "127.0.0.1"
        headers = edge_headers(request.headers.items(), source_ip, _peer_port(request))
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
        instance = self.instances.acquire()
        try:
            with instance_cache.as_instance(instance):
                result = self._gateway.handle_request(method, path, headers, body)
        except LocalGatewayException as error:
            return error.CODE, [*error.headers.items(), *GATEWAY_CORS], error.body or b""
        except Exception:
            # A crash outside the app's own error handling: Lambda reports it as a 502.
            log.exception("REST %s %s failed", method, path)
            return 502, list(GATEWAY_CORS), b'{"message": "Internal server error"}'
        finally:
            self.instances.release(instance)
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


def _per_thread_request(app: Chalice) -> None:
    """Give `app` a current_request and lambda_context per thread (each thread serves one request)."""
    if getattr(type(app), "_charla_per_thread", False):
        return
    state = threading.local()

    def attribute(name: str) -> property:
        return property(lambda self: getattr(state, name, None), lambda self, value: setattr(state, name, value))

    app.__class__ = type(
        type(app).__name__,
        (type(app),),
        {"_charla_per_thread": True, "current_request": attribute("request"), "lambda_context": attribute("context")},
    )
