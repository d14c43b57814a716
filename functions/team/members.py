"""The team: admins invite, change, disable and remove agents; agents change their own name and password.

Identity lives in Cognito (users, passwords, the `admin` and `agent` groups); the `agents` table keeps
the profile, which is what counts: roles are read from it, never from a token's groups. Disabling
or removing an agent cuts them off at once, and a role change closes their sockets (functions/team/revocation.py).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from functions.chat import chats, handoffs, routing
from functions.core import lines, mail, text
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Agent, Chat
from functions.team import agents, revocation, user_pool

log = logging.getLogger(__name__)

ROLES = ("admin", "agent")
MAX_NAME = 100
MAX_PASSWORD = 256
# A removed agent's profile moves to this team_pk: out of the team list, still refusing old tokens.
REMOVED = "removed"


# --- who may do this ---------------------------------------------------------------------------


def require_admin(principal: Principal) -> None:
    """Admin routes need the admin role, which `rest.agent()` took from the profile just now.

    Never from the token's groups: they outlive a demotion until the token expires. So a demotion
    and a promotion both take effect on the next request.
    """
    if not principal.is_admin:
        raise CharlaError("forbidden", "Only admins can do this.")


# --- validation --------------------------------------------------------------------------------


def email_field(body: dict[str, Any]) -> str:
    value = body.get("email")
    if not isinstance(value, str) or not text.is_email(value.strip()):
        raise bad_request("`email` must be a valid email address.")
    return value.strip().lower()


def clean_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise bad_request(f"`name` must be text of 1 to {MAX_NAME} characters.")
    # Names go into mail headers, tokens and notifications: no control characters.
    return text.one_line(value)


def _role(value: object) -> str:
    if value not in ROLES:
        raise bad_request('`role` must be "admin" or "agent".')
    return str(value)


def _password(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_PASSWORD:
        raise bad_request(f"`{name}` must be a non-empty string.")
    return value


# --- views -------------------------------------------------------------------------------------


def admin_view(agent: Agent, cognito_status: str | None = None) -> dict[str, Any]:
    if agent.disabled:
        status = "disabled"
    elif cognito_status == "FORCE_CHANGE_PASSWORD":
        status = "invited"  # has not chosen a password yet
    else:
        status = "active"
    return {**agents.view(agent), "disabled": bool(agent.disabled), "status": status}


def _cognito_statuses() -> dict[str, str]:
    """sub -> UserStatus for the whole pool: one call per 60 users, however many there are."""
    statuses: dict[str, str] = {}
    paginator = user_pool.client().get_paginator("list_users")
    for page in paginator.paginate(UserPoolId=user_pool.pool_id(), AttributesToGet=["sub"]):
        for user in page.get("Users", []):
            attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
            statuses[attributes.get("sub") or user["Username"]] = user.get("UserStatus", "")
    return statuses


def list_agents() -> list[dict[str, Any]]:
    statuses = _cognito_statuses()
    return [admin_view(a, statuses.get(a.agent_id)) for a in agents.members()]


def _member(agent_id: str) -> Agent:
    """A current member of the team; removed agents are kept only as tombstones (see remove())."""
    if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 128:
        raise CharlaError("not_found", "No such agent.")
    try:
        agent = Agent.get(agent_id, consistent_read=True)
    except DoesNotExist:
        raise CharlaError("not_found", "No such agent.") from None
    if not agents.is_member(agent):
        raise CharlaError("not_found", "No such agent.")
    return agent


# --- invitation ---------------------------------------------------------------------------------


def invite(admin: Principal, body: dict[str, Any], console_url: str | None) -> dict[str, Any]:
    """Creates the Cognito user with a temporary password, its profile, and mails the password."""
    text.reject_unknown_fields(body, {"email", "name", "role"})
    email, name, role = email_field(body), clean_name(body.get("name")), _role(body.get("role", "agent"))
    cognito, pool = user_pool.client(), user_pool.pool_id()
    password = user_pool.temporary_password()
    try:
        user = user_pool.create_invited_user(cognito, pool, email, name, password)
    except cognito.exceptions.UsernameExistsException:
        raise CharlaError("conflict", "An agent with this email already exists.", field="email") from None
    except cognito.exceptions.InvalidParameterException as error:
        raise bad_request(str(error.response["Error"].get("Message") or "Cognito refused the user.")) from None
    attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
    agent_id = attributes.get("sub") or user["Username"]
    try:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=agent_id, GroupName=role)
        agent = agents.ensure_profile(agent_id, email, name, role=role, accepting=False)
        _mail_invitation(email, name, admin.name, role, password, console_url)
    except Exception as error:
        # All or nothing: a user who never got their password would block re-inviting the address.
        cognito.admin_delete_user(UserPoolId=pool, Username=agent_id)
        Agent(agent_id).delete()
        if isinstance(error, ClientError) and error.operation_name == "SendEmail":
            raise CharlaError(
                "retry",
                "The invitation email could not be sent; check the support email address in the settings.",
                retriable=True,
            ) from error
        raise
    return admin_view(agent, "FORCE_CHANGE_PASSWORD")


def reinvite(admin: Principal, agent_id: str, console_url: str | None) -> dict[str, Any]:
    """A new temporary password for someone who has not signed in yet (the first one expires)."""
    agent = _member(agent_id)
    cognito, pool = user_pool.client(), user_pool.pool_id()
    user = cognito.admin_get_user(UserPoolId=pool, Username=agent.agent_id)
    if user.get("UserStatus") != "FORCE_CHANGE_PASSWORD":
        raise CharlaError("conflict", f"{agent.name} has already chosen a password.")
    password = user_pool.temporary_password()
    cognito.admin_set_user_password(UserPoolId=pool, Username=agent.agent_id, Password=password, Permanent=False)
    _mail_invitation(agent.email, agent.name, admin.name, agent.role, password, console_url)
    return admin_view(agent, "FORCE_CHANGE_PASSWORD")


def _mail_invitation(
    email: str, name: str, inviter: str | None, role: str, password: str, console_url: str | None
) -> None:
    where = f"Sign in at {console_url}" if console_url else "Sign in to the Charla console"
    body = (
        f"Hello {name},\n\n"
        f"{inviter or 'An admin'} invited you to answer chats and tickets on Charla as {role}.\n\n"
        f"{where} with\n\n"
        f"  email:              {email}\n"
        f"  temporary password: {password}\n\n"
        "You will choose your own password when you first sign in. The temporary password works\n"
        "for 7 days; after that, ask an admin to invite you again.\n"
    )
    mail.send(email, "You are invited to Charla", body)


def console_url(origin: str | None) -> str | None:
    """Where the console is: the admin calls from it, so its Origin is the right address."""
    if not origin or not re.match(r"^https?://[A-Za-z0-9.\-:\[\]]+$", origin):
        return None
    return origin.rstrip("/") + "/agent/"


# --- changes ------------------------------------------------------------------------------------


def update(admin: Principal, agent_id: str, body: dict[str, Any]) -> dict[str, Any]:
    text.reject_unknown_fields(body, {"role", "disabled"})
    if not body:
        raise bad_request("Give `role` and/or `disabled`.")
    agent = _member(agent_id)
    role = _role(body["role"]) if "role" in body else agent.role
    disabled = body.get("disabled", bool(agent.disabled))
    if not isinstance(disabled, bool):
        raise bad_request("`disabled` must be true or false.")
    if agent.agent_id == admin.id and (disabled or role != "admin"):
        raise bad_request("You can't disable or demote yourself; ask another admin.")
    if role != agent.role:
        _set_role(agent, role)
    if disabled and not agent.disabled:
        disable(agent)
    elif not disabled and agent.disabled:
        _enable(agent)
    agent = Agent.get(agent.agent_id, consistent_read=True)
    return admin_view(agent)


def _set_role(agent: Agent, role: str) -> None:
    cognito, pool = user_pool.client(), user_pool.pool_id()
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=agent.agent_id, GroupName=role)
    for other in ROLES:
        if other != role:
            try:
                cognito.admin_remove_user_from_group(UserPoolId=pool, Username=agent.agent_id, GroupName=other)
            except cognito.exceptions.ResourceNotFoundException:
                pass
    # One write: REST reads the role from here on the next request, and tickets minted under the
    # old role stop opening sockets; the sockets opened under it close now.
    agent.update(actions=[Agent.role.set(role), Agent.access_version.add(1)])
    revocation.role_changed(agent.agent_id)


def disable(agent: Agent) -> None:
    """Refused from now on: no sign-in, no REST call, no socket; their chats go to someone else."""
    cognito = user_pool.client()
    try:
        cognito.admin_disable_user(UserPoolId=user_pool.pool_id(), Username=agent.agent_id)
    except cognito.exceptions.UserNotFoundException:
        pass
    # The flag first: from here on rest.agent() and $connect refuse them, whatever else happens.
    agent.update(actions=[Agent.disabled.set(True)])
    agents.sync_routable(agent)
    revocation.revoke_agent(agent.agent_id)
    _hand_over_chats(agent.agent_id)


def _enable(agent: Agent) -> None:
    user_pool.client().admin_enable_user(UserPoolId=user_pool.pool_id(), Username=agent.agent_id)
    agent.update(actions=[Agent.disabled.set(False)])
    agents.sync_routable(agent)


def _hand_over_chats(agent_id: str) -> None:
    """Moves the agent's active chats to whoever is free; with nobody free they wait for the sweeps."""
    agent = Agent.get(agent_id, consistent_read=True)
    for chat in chats.chats_of_agent(agent):
        chat = Chat.get(chat.chat_id, consistent_read=True)
        if chat.status != "active" or agent_id not in (chat.agent_ids or set()):
            continue
        target = routing.pick_agent(routing.routable_agents(chat.group_id), frozenset(chat.agent_ids or ()))
        if target is None:
            log.info("chat %s stays with disabled agent %s: nobody is free", chat.chat_id, agent_id)
            continue
        try:
            handoffs.move(chat, agent_id, target, lines.line("handed_over", previous=agent.name, name=target.name))
        except CharlaError as error:
            log.info("chat %s not handed over: %s", chat.chat_id, error.message)


def remove(admin: Principal, agent_id: str) -> None:
    """Deletes the Cognito user; the profile stays as a disabled tombstone outside the team list.

    The tombstone is what refuses the removed agent's still-unexpired ID token: without a profile,
    rest.agent() would create a fresh one from the token.
    """
    agent = _member(agent_id)
    if agent.agent_id == admin.id:
        raise bad_request("You can't remove yourself; ask another admin.")
    if not agent.disabled:
        disable(agent)
    cognito = user_pool.client()
    try:
        cognito.admin_delete_user(UserPoolId=user_pool.pool_id(), Username=agent.agent_id)
    except cognito.exceptions.UserNotFoundException:
        pass
    Agent(agent.agent_id).update(actions=[Agent.team_pk.set(REMOVED), Agent.accepting.set(False)])


# --- self-service ------------------------------------------------------------------------------


def update_me(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """The agent's display name and/or language (the console sends the language it switches to)."""
    text.reject_unknown_fields(body, {"name", "language"})
    if "name" not in body and "language" not in body:
        raise bad_request("Give `name` and/or `language`.")
    actions: list[Action] = []
    if "language" in body:
        if body["language"] not in lines.LANGUAGES:
            raise bad_request(f"`language` must be one of {', '.join(lines.LANGUAGES)}.")
        actions.append(Agent.language.set(body["language"]))
    if "name" in body:
        name = clean_name(body.get("name"))
        user_pool.client().admin_update_user_attributes(
            UserPoolId=user_pool.pool_id(), Username=principal.id, UserAttributes=[{"Name": "name", "Value": name}]
        )
        actions.append(Agent.name.set(name))
    Agent(principal.id).update(actions=actions, condition=Agent.agent_id.exists())
    return agents.view(agents.get(principal.id))


def change_password(principal: Principal, body: dict[str, Any]) -> None:
    """Cognito wants the caller's access token for this (the ID token authorised the route)."""
    text.reject_unknown_fields(body, {"old_password", "new_password", "access_token"})
    old, new = _password(body, "old_password"), _password(body, "new_password")
    token = own_access_token(body, principal)
    cognito = user_pool.client()
    try:
        cognito.change_password(PreviousPassword=old, ProposedPassword=new, AccessToken=token)
    except cognito.exceptions.NotAuthorizedException:
        # Not a 401: the console must not take a wrong current password for an ended session.
        raise bad_request("The current password is wrong, or this sign-in has ended.") from None
    except cognito.exceptions.InvalidPasswordException as error:
        raise user_pool.password_refused(error) from None
    except cognito.exceptions.InvalidParameterException as error:
        raise user_pool.password_refused(error) from None
    except cognito.exceptions.LimitExceededException:
        raise CharlaError("rate_limited", "Too many attempts; wait a while.") from None


def own_access_token(body: dict[str, Any], principal: Principal) -> str:
    """The caller's Cognito access token, for the self-service calls Cognito authorises with it."""
    token = body.get("access_token")
    if not isinstance(token, str) or not token or len(token) > 8192:
        raise bad_request("`access_token` (from sign-in) is required.")
    if unverified_claim(token, "sub") != principal.id:
        raise bad_request("`access_token` belongs to another sign-in.")
    return token


def unverified_claim(token: str, name: str) -> str | None:
    """A claim of a Cognito token, unchecked: to catch a mix-up of two accounts' tokens (Cognito itself
    verifies the token), or to read a token Cognito has just handed Charla."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    value = claims.get(name) if isinstance(claims, dict) else None
    return value if isinstance(value, str) else None


def sign_out_everywhere(principal: Principal) -> None:
    revocation.revoke_agent(principal.id)
