"""The user pool, app client, groups and users the console signs in with (moto's Cognito)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import boto3

GROUPS = ("admin", "agent")
WRITE_ATTRIBUTES = ("name", "locale")
CLIENT_NAME = "charla-console"


@dataclass(frozen=True)
class UserPool:
    pool_id: str
    pool_arn: str
    client_id: str


def client(region: str) -> Any:
    # A fresh session each time: the endpoint comes from the environment the stack just set.
    return boto3.session.Session().client("cognito-idp", region_name=region)


def ensure_pool(idp: Any, name: str = "charla-local") -> UserPool:
    """The pool named `name` with its app client and groups, made if missing (restored data has them)."""
    pools = idp.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((pool["Id"] for pool in pools if pool["Name"] == name), None)
    if pool_id is None:
        return create_pool(idp, name)
    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == CLIENT_NAME), None)
    if client_id is None:
        client_id = _create_client(idp, pool_id)
    present = {group["GroupName"] for group in idp.list_groups(UserPoolId=pool_id)["Groups"]}
    for group in GROUPS:
        if group not in present:
            idp.create_group(UserPoolId=pool_id, GroupName=group)
    return UserPool(pool_id=pool_id, pool_arn=pool["Arn"], client_id=client_id)


def _create_client(idp: Any, pool_id: str) -> str:
    return str(
        idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=CLIENT_NAME,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            EnableTokenRevocation=True,
            # What an agent may change with their own access token, straight against Cognito. Not the
            # email: that changes only through Charla, after a code mailed to the new address.
            WriteAttributes=list(WRITE_ATTRIBUTES),
        )["UserPoolClient"]["ClientId"]
    )


def create_pool(idp: Any, name: str = "charla-local") -> UserPool:
    pool = idp.create_user_pool(
        PoolName=name,
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "name", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]
    # As infra/aws/resources.yaml: TOTP is each agent's choice in Cognito (Charla can require it).
    idp.set_user_pool_mfa_config(
        UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    client_id = _create_client(idp, pool["Id"])
    for group in GROUPS:
        idp.create_group(UserPoolId=pool["Id"], GroupName=group)
    return UserPool(pool_id=pool["Id"], pool_arn=pool["Arn"], client_id=client_id)


def new_password() -> str:
    # Cognito's default policy wants upper, lower, digit and symbol; the random part adds entropy.
    return f"Ch-{secrets.token_urlsafe(12)}-7a"


def create_user(idp: Any, pool: UserPool, *, email: str, password: str, name: str, group: str) -> str:
    """Create a confirmed user with a permanent password in `group`; returns the user's sub."""
    user = idp.admin_create_user(
        UserPoolId=pool.pool_id,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": name},
        ],
        MessageAction="SUPPRESS",
    )["User"]
    idp.admin_set_user_password(UserPoolId=pool.pool_id, Username=email, Password=password, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=email, GroupName=group)
    attributes = {item["Name"]: item["Value"] for item in user.get("Attributes", [])}
    return attributes.get("sub") or user["Username"]


def find_user(idp: Any, pool: UserPool, email: str) -> str | None:
    """The sub of the user signing in as `email`, or None if there is none."""
    try:
        user = idp.admin_get_user(UserPoolId=pool.pool_id, Username=email)
    except idp.exceptions.UserNotFoundException:
        return None
    attributes = {item["Name"]: item["Value"] for item in user.get("UserAttributes", [])}
    return attributes.get("sub") or user["Username"]


def sign_in(idp: Any, pool: UserPool, email: str, password: str) -> dict[str, Any]:
    """The AuthenticationResult (IdToken, AccessToken, RefreshToken) the console would get."""
    answer = idp.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return dict(answer["AuthenticationResult"])
