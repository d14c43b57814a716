"""Cutting someone off at once: their live sockets close, and an agent's earlier sign-ins stop working.

API Gateway's Cognito authorizer accepts an ID token until it expires (up to an hour), whatever
happened in Cognito since. So revoking an agent also stamps `Agent.sessions_revoked_at`, and
`rest.agent()` refuses tokens from sign-ins at or before that second.

Token times are whole seconds on Cognito's clock; the stamp is taken on ours. A token signed in
earlier in the revoking second has the same `auth_time` as one signed in just after, so the whole
second is refused, and one more for the two clocks' skew; the revocation then waits until those
seconds are over before it answers, so that a sign-in after it is never refused. Connect tickets
carry no time at all: they keep the profile's `access_version`, which a revocation (and a role
change) moves on, and `$connect` refuses a ticket minted under an older one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from functions.core import clock, data
from functions.core.principals import Principal
from functions.models import Agent
from functions.realtime import connections, push, sockets
from functions.team import user_pool

log = logging.getLogger(__name__)

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

# Seconds after the revoking one whose sign-ins are refused too: the tokens' `auth_time` comes from
# Cognito's clock, the stamp from Lambda's, and the stamp is taken after Cognito has answered the
# global sign-out, so a token minted before the revocation passes only if Cognito's clock runs more
# than this (plus that round trip) ahead of Lambda's.
CLOCK_SKEW_S = 1


def close_connections(principal: Principal) -> list[str]:
    """Closes every live WebSocket of a visitor or agent; returns their ids."""
    ids = connections.connection_ids(principal)
    for connection_id in ids:
        close_connection(connection_id)
    return ids


def close_connection(connection_id: str) -> None:
    push.close(connection_id)
    # API Gateway sends $disconnect after a server-side close, but later and only best-effort.
    # Doing its work now makes the cut-off immediate; whichever runs second finds no row.
    sockets.disconnect(connection_id)


def revoke_agent(agent_id: str) -> None:
    """Signs the agent out everywhere: refresh tokens, earlier ID tokens, and open sockets."""
    cognito = user_pool.client()
    try:
        # By the sign-in name: Cognito accepts the sub too, but moto revokes only the tokens issued
        # under the name given here.
        username = Agent.get(agent_id, consistent_read=True).email or agent_id
    except Agent.DoesNotExist:
        username = agent_id
    try:
        cognito.admin_user_global_sign_out(UserPoolId=user_pool.pool_id(), Username=username)
    except cognito.exceptions.UserNotFoundException:
        pass  # removed from the pool already; the stamp below still refuses their tokens
    refused_through = clock.epoch() + CLOCK_SKEW_S
    # A conflict with an assignment on the agent is retried: taken for "no profile", it left tokens valid.
    stamped = data.conditional(
        lambda: Agent(agent_id).update(
            actions=[Agent.sessions_revoked_at.set(refused_through), Agent.access_version.add(1)],
            condition=Agent.agent_id.exists(),
        )
    )
    if not stamped:
        log.info("no agent profile %s to stamp", agent_id)
    close_connections(Principal("agent", agent_id))
    _wait_until_after(refused_through)
    # A `$connect` that passed its check just before the stamp may have written its row too late
    # for the index the first pass queried (GSIs are eventually consistent); this pass finds it.
    close_connections(Principal("agent", agent_id))


def role_changed(agent_id: str) -> None:
    """Sockets opened under the old role close; tickets minted under it are refused at `$connect`.

    The caller has set the new role and moved `access_version` on in one write. REST needs nothing
    more: `rest.agent()` reads the role from the profile on every request.
    """
    close_connections(Principal("agent", agent_id))


def _wait_until_after(second: int) -> None:
    """Answers once the clock is past `second`, so a sign-in after the revocation is accepted."""
    remaining = second + 1 - time.time()
    if remaining > 0:
        time.sleep(min(remaining, CLOCK_SKEW_S + 1))


def token_revoked(agent: Agent, claims: Mapping[str, Any]) -> bool:
    """True when the token comes from a sign-in at or before the second the sessions were revoked."""
    if agent.sessions_revoked_at is None:
        return False
    signed_in = claim_epoch(claims.get("auth_time")) or claim_epoch(claims.get("iat"))
    if signed_in is None:
        return True  # no way to tell when it was issued: refuse rather than let it through
    # Whole seconds: a sign-in in the revoking second may have come just before it, so it is refused.
    return signed_in <= int(agent.sessions_revoked_at)


def claim_epoch(value: object) -> int | None:
    """A time claim as epoch seconds, in any form it reaches Lambda in.

    The raw JWT has numbers; API Gateway's authorizer hands Lambda strings, and turns `iat` and
    `exp` into dates like "Tue Apr 04 18:39:39 UTC 2023".
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    parts = text.split()
    if len(parts) == 6 and parts[1] in _MONTHS and parts[4] == "UTC":
        try:
            hour, minute, second = (int(p) for p in parts[3].split(":"))
            moment = datetime(
                int(parts[5]), _MONTHS.index(parts[1]) + 1, int(parts[2]), hour, minute, second, tzinfo=UTC
            )
        except ValueError:
            return None
        return int(moment.timestamp())
    return None
