"""LocalStack: the whole local stack in one process, startable from tests or `python -m infra.local`."""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import boto3
from aiohttp import web
from chalice.app import Chalice, SQSEventConfig

from infra.local import buckets, cognito, faults, management, pools, queues, ses_sandbox, smtp, snapshot
from infra.local.appdata import AppData, CharlaAppData
from infra.local.env import EnvOverlay
from infra.local.invoker import LambdaInvoker
from infra.local.jwt_verify import CognitoJwtVerifier
from infra.local.loopback import loopback_only
from infra.local.management import PREFIX as MANAGEMENT_PREFIX
from infra.local.management import ManagementApi
from infra.local.moto_process import SENT_MAIL_PATH
from infra.local.moto_server import MotoServer
from infra.local.outbox import Outbox
from infra.local.rest import PREFIX as API_PREFIX
from infra.local.rest import RestGateway
from infra.local.scheduler import Scheduler, schedules
from infra.local.static import StaticSite
from infra.local.websocket import STAGE, WebSocketGateway

log = logging.getLogger("charla.local")

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
DEMO_EMAIL = "admin@charla.local"
DEMO_NAME = "Demo Admin"
# The sender domain the app's mail goes out from; moto SES refuses unverified senders.
MAIL_DOMAIN = "charla.local"
SUPPORT_EMAIL = f"support@{MAIL_DOMAIN}"
# The job queue, as on AWS one for webhook deliveries (WEBHOOK_QUEUE_URL) and the agents' coalesced
# notices (AGENT_NOTICE_QUEUE_URL), consumed by the app's one SQS event source (JOB_QUEUE_NAME). Tests
# may set CHARLA_WEBHOOK_BACKOFF_SCALE (e.g. 0.01) to shorten the retry delays (functions/admin/webhook_delivery.py).
JOB_QUEUE = "charla-local-jobs"
SMTP_PORT = 2525
# Beside moto's snapshot in a stack's data folder (infra/local/snapshot.py).
DEMO_PASSWORD_FILE = "demo-password"


class LocalStack:
    """Moto, Cognito, the REST and WebSocket gateways, the scheduler and static files.

    `start()` returns once everything serves; `stop()` undoes it all, environment included.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        app_module: str = "app",
        app_data: AppData | None = None,
        root: Path | None = None,
        idle_seconds: float | None = None,
        max_seconds: float | None = None,
        smtp_port: int | None = None,
        moto_process: bool = False,
        ses_production_access: bool | None = None,
        data: Path | None = None,
        fresh: bool = False,
    ) -> None:
        self._requested_port = int(os.environ.get("PORT", "8000")) if port is None else port
        # A stack on a free port (tests) takes a free SMTP port too, never `make run`'s.
        default_smtp = 0 if self._requested_port == 0 else int(os.environ.get("CHARLA_SMTP_PORT", str(SMTP_PORT)))
        self._requested_smtp_port = default_smtp if smtp_port is None else smtp_port
        self._smtp: smtp.SmtpListener | None = None
        self.host = host
        self._app_module_name = app_module
        self._app_data: AppData = app_data if app_data is not None else CharlaAppData()
        self.root = root or REPO_ROOT
        self._idle_seconds = idle_seconds or float(os.environ.get("CHARLA_WS_IDLE_SECONDS", "600"))
        self._max_seconds = max_seconds or float(os.environ.get("CHARLA_WS_MAX_SECONDS", "7200"))
        self._env = EnvOverlay()
        # SES starts in the sandbox, as a new AWS account's does (infra/local/ses_sandbox.py); None keeps
        # what the environment says (`CHARLA_SES_PRODUCTION_ACCESS=1 make run`).
        self._ses_production_access = ses_production_access
        # Where moto's state and the demo password are kept across restarts; None keeps nothing.
        self.data = data.resolve() if data is not None else None
        self._fresh = fresh
        # moto on a thread of this process (tests look into its backends) or in its own process.
        self._moto = MotoServer(host, own_process=moto_process, data=self.data)
        self._pool: cognito.UserPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._management: ManagementApi | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._invoker: LambdaInvoker | None = None
        self._pynamodb_pool: int | None = None  # PynamoDB's default pool before start() widened it
        self._rest: RestGateway | None = None
        self._ws: WebSocketGateway | None = None
        self._scheduler: Scheduler | None = None
        self._pollers: list[queues.SqsPoller] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self.demo_port = 0
        self._demo_listener: socket.socket | None = None
        self._demo_runner: web.AppRunner | None = None
        self.smtp_port = 0
        # The SPF/DKIM/DMARC verdicts the SMTP listener stamps on mail, as SES would (infra/local/smtp.py).
        self.mail_verdicts: dict[str, str] = smtp.verdicts_from(os.environ.get("CHARLA_SMTP_VERDICTS"))
        self.demo_email = DEMO_EMAIL
        self.demo_password = ""
        self.demo_agent_id = ""
        self.app: ModuleType | None = None
        # Fault mode (infra/local/faults.py): off unless CHARLA_FAULTS names rates at start.
        self.faults: faults.Faults | None = None

    # --- addresses -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def demo_url(self) -> str:
        """The demo site, on an origin of its own: a customer's site embedding the widget."""
        return f"http://{self.host}:{self.demo_port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def console_url(self) -> str:
        return self.base_url + "/agent/"

    @property
    def management_url(self) -> str:
        return self.base_url + MANAGEMENT_PREFIX

    @property
    def moto_url(self) -> str:
        return self._moto.url

    @property
    def user_pool_id(self) -> str:
        return self._user_pool().pool_id

    @property
    def user_pool_arn(self) -> str:
        return self._user_pool().pool_arn

    @property
    def client_id(self) -> str:
        return self._user_pool().client_id

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        # Bound first: the app's environment must name the port before it is imported, and a busy
        # port should fail before anything else starts.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self._requested_port))
        except OSError as error:
            listener.close()
            raise OSError(f"cannot listen on {self.host}:{self._requested_port}: {error}") from error
        listener.listen(128)
        self._listener = listener
        self.port = listener.getsockname()[1]
        # The demo site's origin: the next port (a free one when the stack's port is), so that the
        # widget runs cross-origin, as on a customer's site.
        self._demo_listener = _listen(self.host, self.port + 1 if self._requested_port else 0)
        self.demo_port = self._demo_listener.getsockname()[1]

        self._env.set(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                # Anything that could lead the SDK to a real account or away from moto.
                "AWS_SESSION_TOKEN": None,
                "AWS_SECURITY_TOKEN": None,
                "AWS_PROFILE": None,
                "AWS_DEFAULT_PROFILE": None,
                "AWS_ENDPOINT_URL": None,
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": None,
            }
        )
        if self._ses_production_access is not None:
            # Set before moto starts: moto in a process of its own reads the environment it inherits.
            self._env.set({ses_sandbox.PRODUCTION_ACCESS_VARIABLE: "1" if self._ses_production_access else "0"})
        if self.data is not None and self._fresh:
            self._forget_data()
        self._moto.start()
        self._env.set(self._moto.endpoint_environment())

        idp = cognito.client(REGION)
        self._pool = cognito.ensure_pool(idp)
        self._env.set(
            {
                "CHARLA_TABLE_PREFIX": "charla-local",
                "CHARLA_STAGE": "local",
                "COGNITO_USER_POOL_ID": self._pool.pool_id,
                "COGNITO_CLIENT_ID": self._pool.client_id,
                "COGNITO_USER_POOL_ARN": self._pool.pool_arn,
                "WS_MANAGEMENT_URL": self.management_url,
            }
        )
        # The support address's domain is verified, as an operator does before a deploy
        # (docs/operations.md): in the sandbox, mail still reaches only verified recipients.
        boto3.session.Session().client("ses", region_name=REGION).verify_domain_identity(Domain=MAIL_DOMAIN)
        job_queue_url, _ = queues.ensure_queue(queues.client(REGION), JOB_QUEUE)
        self._env.set(
            {"JOB_QUEUE_NAME": JOB_QUEUE, "WEBHOOK_QUEUE_URL": job_queue_url, "AGENT_NOTICE_QUEUE_URL": job_queue_url}
        )
        # Webhook receivers on this machine (127.0.0.1, localhost, plain http): a deployment's setting
        # (functions/admin/outbound.py), on here only; AWS deployments never set it.
        self._env.set({"CHARLA_WEBHOOK_ALLOW_LOOPBACK": "1"})
        self._env.set(buckets.create(REGION, [self.base_url, f"http://localhost:{self.port}", self.demo_url]))

        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))
        self.faults = faults.from_environment(os.environ)
        if self.faults is not None:
            faults.install()  # before the app's clients are made: they carry the hook
        self._app_data.reset_clients()
        self._app_data.create_tables()
        self.demo_password, self.demo_agent_id = self._demo_admin()
        localhost = f"http://localhost:{self.port}"
        origins = [self.demo_url, f"http://localhost:{self.demo_port}", self.base_url, localhost]
        self._app_data.save_settings({"allowed_origins": origins, "support_email": SUPPORT_EMAIL})

        self.app = self._import_app()
        chalice_app = self.app.app
        self._invoker = LambdaInvoker(chalice_app.app_name, STAGE)
        self._pynamodb_pool = pools.widen_dynamodb_pool(self._invoker.concurrency)
        self._app_data.reset_clients()  # the shared DynamoDB client is made again, with the wider pool
        verifier = CognitoJwtVerifier(
            region=REGION,
            pool_id=self._pool.pool_id,
            client_id=self._pool.client_id,
            jwks_url=f"{self.moto_url}/{self._pool.pool_id}/.well-known/jwks.json",
        )
        domain = f"{self.host}:{self.port}"
        self._rest = RestGateway(chalice_app, verifier, domain)
        ws_handlers = {
            route_key: (config.name, chalice_app.handler_map[config.name])
            for route_key, config in chalice_app.websocket_handlers.items()
        }
        self._ws = WebSocketGateway(ws_handlers, self._invoker, domain, self._idle_seconds, self._max_seconds)
        self._scheduler = Scheduler(
            schedules(chalice_app, self.app),
            self._invoker,
            rule_prefix=f"{chalice_app.app_name}-{STAGE}",
            region=REGION,
        )

        mail_handler = chalice_app.handler_map.get(smtp.HANDLER)
        if mail_handler is not None:
            s3 = boto3.session.Session().client("s3", region_name=REGION)
            drop = smtp.MailDrop(MAIL_DOMAIN, buckets.MAIL_BUCKET, s3, mail_handler, self._invoker, REGION)
            drop.verdicts = self.mail_verdicts
            self._smtp = smtp.SmtpListener(self.host, self._requested_smtp_port, drop)

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="charla-local", daemon=True)
        self._thread.start()
        self._call(self._serve(listener))
        assert self._management is not None
        management.serve_in_process(self.management_url, self._management, self._loop)
        self._app_data.reset_clients()  # so the app's clients carry the in-process management API
        self._pollers = self._sqs_pollers(chalice_app)
        for poller in self._pollers:
            poller.start()
        if self.faults is not None:  # the deploy-time setup above ran without faults, as on AWS
            faults.activate(self.faults)
            log.warning("fault mode on: %s", self.faults.rates)

    def _sqs_pollers(self, chalice_app: Chalice) -> list[queues.SqsPoller]:
        """Lambda's SQS event source mappings: one poller per `@app.on_sqs_message`."""
        invoker = self._invoker
        assert invoker is not None
        sqs = queues.client(REGION)
        pollers = []
        for source in chalice_app.event_sources:
            if not isinstance(source, SQSEventConfig):
                continue
            name = source.queue or str(source.queue_arn).rsplit(":", 1)[-1]
            url, arn = queues.ensure_queue(sqs, name)
            pollers.append(
                queues.SqsPoller(
                    queue_url=url,
                    queue_arn=arn,
                    handler=chalice_app.handler_map[source.name],
                    context=functools.partial(invoker.context, source.name),
                    batch_size=source.batch_size,
                    region=REGION,
                    batching_window_s=source.maximum_batching_window_in_seconds or 0,
                )
            )
        return pollers

    def _import_app(self) -> ModuleType:
        # Every Chalice() appends itself to AWS_EXECUTION_ENV (its user agent).
        self._env.remember("AWS_EXECUTION_ENV")
        # Reloaded on every start: module-level setup (the authorizer's pool ARN, for one) must
        # see this stack's environment, as a cold Lambda would.
        # Chalice registers a blueprint's routes on the app once per blueprint object, so the blueprints are
        # reloaded before the app that registers them, and the authorizer (whose pool ARN comes from this
        # stack's environment) before the blueprints that name it.
        blueprints = sorted(name for name in sys.modules if name.startswith("functions.api.blueprints."))
        shared = ["functions.api.authorizer", *blueprints]
        for name in shared:
            if name in sys.modules:
                importlib.reload(sys.modules[name])
        existing = sys.modules.get(self._app_module_name)
        if existing is not None:
            return importlib.reload(existing)
        return importlib.import_module(self._app_module_name)

    async def _serve(self, listener: socket.socket) -> None:
        assert self._rest and self._ws and self._scheduler
        app = web.Application(client_max_size=10 * 1024 * 1024, middlewares=[loopback_only])
        static = StaticSite(self.root, self.base_url, self.ws_url, storage_origin=self.moto_url, demo_url=self.demo_url)
        app.add_routes(static.routes())
        self._management = ManagementApi(self._ws)
        app.add_routes(self._management.routes())
        sent_mail = f"{self.moto_url}{SENT_MAIL_PATH}" if self._moto.own_process else None
        app.add_routes(Outbox(REGION, sent_mail_url=sent_mail).routes())
        app.add_routes(
            [
                web.get("/ws", self._ws.handle),
                web.route("*", API_PREFIX, self._rest.handle),
                # [\s\S], not .: a %0A in a path parameter is still a path under /api.
                web.route("*", API_PREFIX + r"/{tail:[\s\S]*}", self._rest.handle),
                web.get("/_local/connections", self._local_connections),
                web.post("/_local/connections/{connection_id}/drop", self._local_drop),
                web.post("/_local/schedules/{name}", self._local_schedule),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()
        demo = web.Application()
        demo.add_routes(static.demo_routes())
        self._demo_runner = web.AppRunner(demo, access_log=None, handle_signals=False)
        await self._demo_runner.setup()
        assert self._demo_listener is not None
        await web.SockSite(self._demo_runner, self._demo_listener).start()
        if self._smtp is not None:
            self.smtp_port = await self._smtp.start()
        self._scheduler.start()

    def stop(self) -> None:
        """Stop serving, close sockets (firing $disconnect), stop moto and restore os.environ."""
        for poller in self._pollers:  # first: a handler may still post through the gateway
            poller.stop()
        self._pollers = []
        management.stop_serving_in_process(self.management_url)
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            try:
                self._call(self._shutdown(), timeout=30)
            except Exception:
                # Still stop moto and restore the environment below.
                log.exception("the local stack did not shut down cleanly")
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=10)
        if self._loop is not None and not self._loop.is_running():
            self._loop.close()
        self._loop = self._thread = None
        for part in (self._invoker, self._rest):
            if part is not None:
                part.shutdown()
        self._invoker = self._rest = None
        for listening in (self._listener, self._demo_listener):
            if listening is not None:
                listening.close()
        self._listener = self._demo_listener = None
        self._moto.stop()
        if self._pynamodb_pool is not None:
            pools.restore_dynamodb_pool(self._pynamodb_pool)
            self._pynamodb_pool = None
        if self.faults is not None:
            faults.uninstall()
        try:
            self._app_data.reset_clients()
        finally:
            self._env.restore()

    async def _shutdown(self) -> None:
        if self._smtp is not None:
            await self._smtp.stop()
            self._smtp = None
        if self._scheduler is not None:
            await self._scheduler.stop()
        if self._ws is not None:
            await self._ws.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._demo_runner is not None:
            await self._demo_runner.cleanup()
            self._demo_runner = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- helpers for tests and the console -------------------------------------------------------

    def create_agent(self, email: str, password: str, name: str, role: str = "agent", accepting: bool = True) -> str:
        """A Cognito user in group `role` with an agent profile; returns the agent id (sub)."""
        pool = self._user_pool()
        agent_id = cognito.create_user(
            cognito.client(REGION), pool, email=email, password=password, name=name, group=role
        )
        self._app_data.ensure_profile(agent_id=agent_id, email=email, name=name, role=role, accepting=accepting)
        return agent_id

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        """Cognito's AuthenticationResult for a user, as the console receives it."""
        return cognito.sign_in(cognito.client(REGION), self._user_pool(), email, password)

    def id_token(self, email: str, password: str) -> str:
        return str(self.sign_in(email, password)["IdToken"])

    def connection_ids(self) -> list[str]:
        return self._call(self._connection_ids())

    def drop_connection(self, connection_id: str) -> bool:
        """Cut a live WebSocket abruptly (no close handshake); False if it isn't live."""
        return self._call(self._drop(connection_id))

    def busy_rest_instance(self) -> Any:
        """A context manager keeping one REST instance busy, as a slow request would: requests
        meanwhile go to another instance, with its own caches."""
        assert self._rest is not None, "start() first"
        return self._rest.instances.busy()

    def schedule_names(self) -> list[str]:
        return self._scheduler.names() if self._scheduler else []

    def run_schedule(self, name: str) -> Any:
        """Run a scheduled function now instead of waiting for its rate."""
        assert self._scheduler is not None, "start() first"
        return self._call(self._scheduler.run(name), timeout=120)

    # --- internals -----------------------------------------------------------------------------

    @property
    def restored(self) -> bool:
        """Whether this start loaded the data a previous one kept."""
        return self._moto.restored

    def _demo_admin(self) -> tuple[str, str]:
        """(password, agent id) of the demo admin: the kept ones if there are, else new ones."""
        password_file = self.data / DEMO_PASSWORD_FILE if self.data is not None else None
        kept = password_file.read_text().strip() if password_file and password_file.exists() else ""
        password = kept or cognito.new_password()
        if password_file is not None and not kept:
            password_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with os.fdopen(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
                file.write(password + "\n")
        idp, pool = cognito.client(REGION), self._user_pool()
        agent_id = cognito.find_user(idp, pool, DEMO_EMAIL)
        if agent_id is None:
            return password, self.create_agent(DEMO_EMAIL, password, DEMO_NAME, role="admin", accepting=True)
        if not kept:  # the kept data has the admin but the password file is gone: a new one works
            idp.admin_set_user_password(UserPoolId=pool.pool_id, Username=DEMO_EMAIL, Password=password, Permanent=True)
        self._app_data.ensure_profile(agent_id=agent_id, email=DEMO_EMAIL, name=DEMO_NAME, role="admin", accepting=True)
        return password, agent_id

    def _forget_data(self) -> None:
        assert self.data is not None
        for name in (snapshot.FILE_NAME, DEMO_PASSWORD_FILE):
            (self.data / name).unlink(missing_ok=True)

    def _user_pool(self) -> cognito.UserPool:
        if self._pool is None:
            raise RuntimeError("the stack is not started")
        return self._pool

    def _call(self, coro: Any, timeout: float = 30) -> Any:
        assert self._loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _connection_ids(self) -> list[str]:
        return self._ws.ids() if self._ws else []

    async def _drop(self, connection_id: str) -> bool:
        conn = self._ws.get(connection_id) if self._ws else None
        if conn is None:
            return False
        assert self._ws is not None
        self._ws.drop(conn)
        return True

    async def _local_connections(self, request: web.Request) -> web.Response:
        return web.json_response(await self._connection_ids())

    async def _local_drop(self, request: web.Request) -> web.Response:
        dropped = await self._drop(request.match_info["connection_id"])
        return web.Response(status=204 if dropped else 404)

    async def _local_schedule(self, request: web.Request) -> web.Response:
        assert self._scheduler is not None
        name = request.match_info["name"]
        if name not in self._scheduler.names():
            return web.json_response({"message": f"no schedule {name}"}, status=404)
        await self._scheduler.run(name)
        return web.Response(status=204)


def _listen(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise OSError(f"cannot listen on {host}:{port}: {error}") from error
    listener.listen(128)
    return listener
