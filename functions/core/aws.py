"""Lazily cached AWS clients.

Clients are never created at import time: a cold Lambda pays only for the clients its route uses,
and tests can point everything at a new endpoint by calling `reset()`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from pynamodb.connection import Connection

_resets: list[Callable[[], None]] = []


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


@cache
def client(service: str, endpoint_url: str | None = None) -> Any:
    # Fan-out posts run in parallel, so the pool must be wider than botocore's default of 10.
    config = Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 4})
    if service == "s3":
        # Buckets created after 24 June 2020 accept only Signature Version 4, yet boto3 still signs presigned
        # POSTs with version 2 unless told (https://docs.aws.amazon.com/AmazonS3/latest/API/Appendix-Sigv2.html).
        config = config.merge(Config(signature_version="s3v4"))
    return boto3.session.Session().client(service, region_name=region(), endpoint_url=endpoint_url, config=config)


@cache
def dynamodb_connection() -> Connection:
    """The connection PynamoDB transactions use; it honours AWS_ENDPOINT_URL_DYNAMODB like models do."""
    return Connection(region=region())


def on_reset(func: Callable[[], None]) -> Callable[[], None]:
    """Register a cache that must be dropped when the AWS endpoints change (tests, local stack)."""
    _resets.append(func)
    return func


def reset() -> None:
    client.cache_clear()
    dynamodb_connection.cache_clear()
    for func in _resets:
        func()
