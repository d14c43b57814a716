"""Shared by the administration tests: moto's Cognito pool, real tokens, and REST calls as a user."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.server
import json
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

import app as charla
from functions.core import aws as charla_aws
from functions.realtime import push
from functions.team import agents
from infra.local import cognito, moto_cognito
from tests.support.accounts import PASSWORD


@pytest.fixture
def api(aws):
    with Client(charla.app) as client:
        yield client.http


@pytest.fixture
def pool(aws, monkeypatch) -> cognito.UserPool:
    """The local stack's pool layout (email usernames, admin and agent groups), with mail that works."""
    moto_cognito.install()  # Cognito as strict as AWS where moto is not (as the local stack has it)
    created = cognito.create_pool(idp())
    monkeypatch.setenv("COGNITO_USER_POOL_ID", created.pool_id)
    monkeypatch.setenv("COGNITO_CLIENT_ID", created.client_id)
    # moto's SES refuses unverified senders; the default support address is support@example.com.
    charla_aws.client("ses").verify_domain_identity(Domain="example.com")
    return created


@pytest.fixture
def closed(monkeypatch) -> list[str]:
    """Connection ids the app closed through the management API."""
    seen: list[str] = []
    original = push.close

    def record(connection_id: str) -> None:
        seen.append(connection_id)
        original(connection_id)

    monkeypatch.setattr(push, "close", record)
    return seen


def idp() -> Any:
    # The app's cached client: a new boto3 session per call would parse Cognito's API model each time.
    return charla_aws.client("cognito-idp")


def add_user(
    pool: cognito.UserPool, email: str, name: str = "Ana", role: str = "agent", *, accepting: bool = True
) -> str:
    """A confirmed Cognito user in group `role` with a profile, as after their first sign-in."""
    sub = cognito.create_user(idp(), pool, email=email, password=PASSWORD, name=name, group=role)
    agents.ensure_profile(sub, email, name, role=role, accepting=accepting)
    return sub


def signed_in(api: Any, pool: cognito.UserPool, email: str, name: str, role: str = "agent") -> str:
    """The ID token of a new user in group `role` who has signed in, with the profile a first sign-in
    makes (not accepting chats)."""
    add_user(pool, email, name, role, accepting=False)
    return str(login(api, email)["id_token"])


def body(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def call(api: Any, method: str, path: str, token: str | None = None, payload: Any = None, **headers: str) -> Any:
    """The one caller of the app in this process (Chalice's test client): the answer as it stands.
    `payload` goes as JSON, or as it is if it is already a string (a malformed body)."""
    all_headers = {"content-type": "application/json", **headers}
    if token:
        all_headers["authorization"] = token
    kwargs: dict[str, Any] = {"headers": all_headers}
    if payload is not None:
        kwargs["body"] = payload if isinstance(payload, str) else json.dumps(payload)
    return getattr(api, method.lower())(path, **kwargs)


def status(api: Any, method: str, path: str, token: str | None = None, payload: Any = None) -> int:
    return int(call(api, method, path, token, payload).status_code)


def login_status(api: Any, email: str, password: str = PASSWORD) -> int:
    return status(api, "POST", "/auth/login", payload={"email": email, "password": password})


def refresh_status(api: Any, refresh_token: str) -> int:
    return status(api, "POST", "/auth/refresh", payload={"refresh_token": refresh_token})


def login(api: Any, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = call(api, "POST", "/auth/login", payload={"email": email, "password": password})
    assert response.status_code == 200, response.body
    return body(response)


class Receiver:
    """A webhook endpoint on 127.0.0.1 (a free port) answering with the next status of a script.

    With `tls` (a server context, see `certificates`) it speaks https and records the name each
    client asked for in its TLS hello (SNI).
    """

    def __init__(self, *statuses: int, tls: ssl.SSLContext | None = None) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.server_names: list[str | None] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, data))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self._server.server_address[1]
        self.port = port
        self.url = f"http://127.0.0.1:{port}/hook"
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _context: receiver.server_names.append(name)
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.url = f"https://127.0.0.1:{port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def certificates(directory: Path, *names: str) -> tuple[Path, ssl.SSLContext]:
    """A throwaway certificate authority (its PEM file, for SSL_CERT_FILE) and a server context
    whose certificate, signed by it, is valid for `names` only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Charla test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return ca_file, server


def signature_ok(secret: str, headers: dict[str, str], data: bytes) -> bool:
    """What a receiver does: recompute the HMAC of the raw body and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("x-charla-signature", ""))
