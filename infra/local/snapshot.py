"""moto's state kept on disk, so `make run` keeps its data across restarts.

moto has no persistence of its own (its `moto_api` recorder replays requests, which would re-run
every side effect and mint new ids and signing times), but its backends are plain Python objects. The
services the stack uses are pickled whole into `moto.pickle` in the data folder: DynamoDB's tables,
Cognito's pools, users, passwords and clients (ids unchanged, and moto signs every pool's tokens with
the one key it ships, so tokens issued before a restart still verify), S3's buckets and objects, the
mail SES accepted, and SQS's queues with their messages.

A snapshot is written atomically (a temporary file renamed over the last one), every `INTERVAL_S`
while moto serves and once more when it stops, and loaded before moto serves its first request.
Locks and conditions don't pickle; fresh ones are made on loading, which is all they need to be.
Signing keys wrap OpenSSL objects and are pickled as their JWK.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import moto
from joserfc import jwk
from moto.backends import get_backend
from moto.core.base_backend import backend_lock

from infra.local import moto_isolation

log = logging.getLogger("charla.local.snapshot")

FILE_NAME = "moto.pickle"
INTERVAL_S = 30.0
# moto's service names (moto/backend_index.py). SESv2's backend refers to SES's, where the mail is;
# one pickle keeps that one object.
SERVICES = ("dynamodb", "cognito-idp", "s3", "ses", "sesv2", "sqs")
# A snapshot taken while another thread adds an item to a dict raises; the next try usually doesn't.
ATTEMPTS = 5

_FRESH = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


class SnapshotError(RuntimeError):
    """A snapshot that exists but can't be loaded; nothing is overwritten."""


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        if isinstance(obj, jwk.RSAKey):  # a Cognito pool's signing key, which wraps an OpenSSL object
            return jwk.RSAKey.import_key, (obj.as_dict(private=True),)
        fresh = _FRESH.get(type(obj))
        if fresh is not None:
            return fresh, ()
        return NotImplemented


def _backends(service: str) -> Any:
    return get_backend(service)  # type: ignore[call-overload]


def _state() -> dict[str, dict[str, dict[str, Any]]]:
    """{service: {account: {region: backend}}}: the backends, without moto's lazily-made containers."""
    return {
        service: {account: dict(regions) for account, regions in dict(_backends(service)).items()}
        for service in SERVICES
    }


def dumps() -> bytes:
    last: Exception | None = None
    for _ in range(ATTEMPTS):
        buffer = io.BytesIO()
        try:
            # DynamoDB's lock: no write is half-seen; moto's own: no backend appears mid-pickle.
            with moto_isolation._LOCK, backend_lock:
                _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
                    {"moto": moto.__version__, "backends": _state()}
                )
            return buffer.getvalue()
        except RuntimeError as error:  # "dictionary changed size during iteration"
            last = error
            time.sleep(0.05)
    raise RuntimeError(f"could not snapshot moto's state: {last}")


def save(folder: Path) -> None:
    data = dumps()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds password hashes and tokens
    handle, temporary = tempfile.mkstemp(prefix=".moto-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, folder / FILE_NAME)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(folder: Path) -> bool:
    """Installs the snapshot in `folder` into moto's backends; False if there is none."""
    path = folder / FILE_NAME
    if not path.exists():
        return False
    try:
        snapshot = pickle.loads(path.read_bytes())
    except Exception as error:
        raise SnapshotError(
            f"cannot read {path} ({error.__class__.__name__}: {error}); start fresh to replace it"
        ) from error
    if snapshot.get("moto") != moto.__version__:
        log.warning("%s was written by moto %s; this is moto %s", path, snapshot.get("moto"), moto.__version__)
    with backend_lock:
        for service, accounts in snapshot["backends"].items():
            backends = _backends(service)
            for account, regions in accounts.items():
                account_backends = backends[account]
                for region, backend in regions.items():
                    dict.__setitem__(account_backends, region, backend)
    return True


class Saver:
    """Saves a snapshot every `interval` seconds on a thread of its own, and once more on `stop()`."""

    def __init__(self, folder: Path, interval: float = INTERVAL_S) -> None:
        self._folder = folder
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moto-snapshot", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self._save()

    def _save(self) -> None:
        try:
            save(self._folder)
        except Exception:
            log.exception("could not save moto's state to %s", self._folder)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        self._save()
