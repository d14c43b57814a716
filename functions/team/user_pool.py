"""The agents' Cognito user pool, for what admins and agents change there: users, groups, sign-outs."""

from __future__ import annotations

import os
from typing import Any

from functions.core import aws


def client() -> Any:
    return aws.client("cognito-idp")


def pool_id() -> str:
    return os.environ["COGNITO_USER_POOL_ID"]
