"""A fresh moto account for every unit test, without paying again for what comes out the same each time.

Each test still starts its own `mock_aws()`, whose reset gives every service (Cognito, SES, S3, SQS, the
management API, DynamoDB's backups and settings) the state a new account has: resetting services by hand
would be the risky part, and moto's own reset costs a few milliseconds. Three costs are taken out:

- Charla's tables. `tables.create_all()` makes them with about 40 requests; it runs once per process and
  region, and later accounts get deep copies of the empty tables it made, so no test sees another's items
  or table settings.
- Parsing botocore's service descriptions. The `aws` fixture drops the app's clients between tests (their
  cached state and any hooks a test registered must not outlive it), and every new client's session
  parsed the same JSON again: about 0.2 s per client on this machine. Sessions share one loader here, as
  clients made from boto3's default session do anyway; the loaded descriptions are read-only to botocore.
- moto's Cognito importing the one RSA key it signs every pool's tokens with, again for each new pool:
  about 0.3 s of checking the key's numbers in every test that makes a pool. It is imported once.
"""

from __future__ import annotations

import copy
import functools
import json
from types import SimpleNamespace
from typing import Any

import botocore.loaders
import botocore.session
from joserfc import jwk
from moto.cognitoidp import models as cognito_models
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from functions.core import aws as charla_aws
from functions.core import tables
from functions.models import ALL_MODELS

# Per region, every Charla table as create_all() left it in a new account: empty.
_EMPTY_TABLES: dict[str, dict[str, Any]] = {}


def create_tables() -> None:
    """Every Charla table, empty, in the current mock account, and the models' connections that
    create_all() leaves cached (a test starts with the same caches whichever way the tables came)."""
    region = charla_aws.region()
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
    if region not in _EMPTY_TABLES:
        tables.create_all()
        assert backend.tables, "create_all() made the tables in another moto account"
        _EMPTY_TABLES[region] = copy.deepcopy(backend.tables)
        return
    backend.tables.update(copy.deepcopy(_EMPTY_TABLES[region]))
    for model in ALL_MODELS:
        model._get_connection()


class _SearchPaths(list[str]):
    """boto3 appends its own data folder to its session's loader; a shared loader needs it once."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def share_service_descriptions() -> None:
    """Every botocore session made from now on in this process uses one loader (one per data path)."""
    if isinstance(botocore.session.create_loader, functools._lru_cache_wrapper):
        return
    create_loader = botocore.loaders.create_loader

    @functools.cache
    def shared(search_path_string: str | None = None) -> botocore.loaders.Loader:
        loader = create_loader(search_path_string)
        loader._search_paths = _SearchPaths(loader.search_paths)
        return loader

    botocore.session.create_loader = shared  # type: ignore[assignment]


def share_cognito_signing_key() -> None:
    """moto's Cognito imports its key (the dict of one file it ships) through this stand-in for joserfc's
    `jwk`, which imports each distinct key once per process; the key objects are not changed by signing."""
    if isinstance(cognito_models.jwk, SimpleNamespace):
        return
    imported = functools.cache(lambda text: jwk.RSAKey.import_key(json.loads(text)))

    def import_key(value: dict[str, Any]) -> jwk.RSAKey:
        return imported(json.dumps(value, sort_keys=True))

    cognito_models.jwk = SimpleNamespace(RSAKey=SimpleNamespace(import_key=import_key))  # type: ignore[assignment]
