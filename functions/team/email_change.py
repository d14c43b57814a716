"""An agent's own sign-in address: changed only after a code mailed to the new address comes back.

The console's app client may not write `email` at all (infra/aws/resources.yaml: WriteAttributes),
so an agent can't set it with their access token straight against Cognito. Charla mails a code to
the new address and, when the agent gives it back, sets the address in Cognito (as verified) and on
the profile. Until then the old address stays: sign-in, mail and password recovery keep using it.
That matters because the pool recovers passwords through the verified email: an address nobody
proved to own would be an account takeover.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from functions.core import clock, data, mail, text
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Agent
from functions.team import agents, user_pool
from functions.team.members import email_field

CODE_SECONDS = 3600  # how long a code works
MAX_TRIES = 5  # wrong codes before the change must be asked for again
RESEND_SECONDS = 60  # between two code mails of one agent: the form mails an address the agent typed


def _hash(agent_id: str, code: str) -> str:
    return hashlib.sha256(f"{agent_id}:{code}".encode()).hexdigest()


def _taken(email: str) -> bool:
    answer = user_pool.client().list_users(UserPoolId=user_pool.pool_id(), Filter=f'email = "{email}"', Limit=1)
    return bool(answer.get("Users"))


def request(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Mails a 6-digit code to the new address; nothing changes until it comes back."""
    text.reject_unknown_fields(body, {"email"})
    email = email_field(body)
    if '"' in email or "\\" in email:  # it goes into a ListUsers filter between quotes
        raise bad_request("`email` must be a valid email address.")
    agent = agents.get(principal.id)
    if email == agent.email.lower():
        raise bad_request("`email` is already your sign-in address.")
    if _taken(email):
        raise CharlaError("conflict", "Another account uses this email address.")
    code, now = f"{secrets.randbelow(1_000_000):06d}", clock.epoch()
    # Conditional, so parallel requests can't each mail a code inside the minute.
    stored = data.conditional(
        lambda: agent.update(
            actions=[
                Agent.pending_email.set(email),
                Agent.email_code_hash.set(_hash(agent.agent_id, code)),
                Agent.email_code_expires.set(now + CODE_SECONDS),
                Agent.email_code_tries.set(0),
            ],
            condition=Agent.email_code_expires.does_not_exist()
            | (Agent.email_code_expires <= now + CODE_SECONDS - RESEND_SECONDS),
        )
    )
    if not stored:
        raise CharlaError("rate_limited", "A code was mailed less than a minute ago; wait a moment.")
    mail.send(
        email,
        "Confirm your new Charla sign-in address",
        f"Hello {agent.name},\n\n"
        f"Someone signed in as {agent.email} asked to make this address their Charla sign-in address.\n"
        f"If that was you, enter this code in the console's Account section:\n\n    {code}\n\n"
        f"The code works for {CODE_SECONDS // 60} minutes. If it wasn't you, ignore this mail: nothing changes.\n",
    )
    return {**agents.view(agent), "pending_email": email}


def confirm(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    text.reject_unknown_fields(body, {"code"})
    code = body.get("code")
    if not isinstance(code, str) or len(code) != 6 or not code.isdigit():
        raise bad_request("`code` must be the 6-digit code mailed to the new address.")
    agent = agents.get(principal.id)
    if not agent.pending_email or not agent.email_code_hash:
        raise CharlaError("conflict", "No change of address is waiting; ask for a new code.")
    if (agent.email_code_expires or 0) < clock.epoch() or (agent.email_code_tries or 0) >= MAX_TRIES:
        _forget(agent)
        raise bad_request("`code` has expired; ask for a new one.")
    if not hmac.compare_digest(_hash(agent.agent_id, code), agent.email_code_hash):
        # Counted conditionally, so parallel guesses can't all pass under the limit.
        data.conditional(
            lambda: agent.update(actions=[Agent.email_code_tries.add(1)], condition=Agent.email_code_tries < MAX_TRIES)
        )
        raise bad_request("`code` is wrong.")
    old, new = agent.email, agent.pending_email
    cognito = user_pool.client()
    try:
        cognito.admin_update_user_attributes(
            UserPoolId=user_pool.pool_id(),
            Username=agent.agent_id,
            # email_verified with it: Cognito then changes the address at once, as Charla verified it.
            UserAttributes=[{"Name": "email", "Value": new}, {"Name": "email_verified", "Value": "true"}],
        )
    except cognito.exceptions.AliasExistsException:
        _forget(agent)
        raise CharlaError("conflict", "Another account uses this email address.") from None
    agent.update(
        actions=[
            Agent.email.set(new),
            Agent.pending_email.remove(),
            Agent.email_code_hash.remove(),
            Agent.email_code_expires.remove(),
            Agent.email_code_tries.remove(),
        ]
    )
    mail.send(
        old,
        "Your Charla sign-in address was changed",
        f"Hello {agent.name},\n\nYour Charla sign-in address is now {new}; this address no longer signs in.\n"
        "If you did not change it, tell an admin at once.\n",
    )
    return agents.view(agent)


def _forget(agent: Agent) -> None:
    agent.update(
        actions=[
            Agent.pending_email.remove(),
            Agent.email_code_hash.remove(),
            Agent.email_code_expires.remove(),
            Agent.email_code_tries.remove(),
        ]
    )
