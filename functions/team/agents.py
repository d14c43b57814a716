"""Agent profiles and presence: the accepting status (kept across logins) and live connection count."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from functions.core import data, shards
from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.models import ROUTABLE, TEAM, Agent


def load_key(active_count: int, last_assigned_at: str) -> str:
    # Least busy first; among equals, whoever was assigned longest ago (round-robin).
    return f"{max(active_count, 0):04d}#{last_assigned_at}"


def ensure_profile(agent_id: str, email: str, name: str, role: str = "agent", accepting: bool = False) -> Agent:
    try:
        agent = Agent.get(agent_id)
    except DoesNotExist:
        agent = Agent(
            agent_id, email=email, name=name, role=role, accepting=accepting, team_pk=shards.key(TEAM, agent_id)
        )
        agent.save(condition=Agent.agent_id.does_not_exist())
        return agent
    if (agent.email, agent.name, agent.role) != (email, name, role):
        agent.update(actions=[Agent.email.set(email), Agent.name.set(name), Agent.role.set(role)])
    return agent


def ensure_from_principal(principal: Principal, email: str | None) -> Agent:
    """The caller's profile, read strongly: a demotion or revocation a moment ago applies already."""
    try:
        agent = Agent.get(principal.id, consistent_read=True)
    except DoesNotExist:
        return ensure_profile(principal.id, email or "", principal.name or "Agent", principal.role or "agent")
    if agent.disabled:
        raise CharlaError("unauthorized", "This account is disabled.")
    return agent


def get(agent_id: str) -> Agent:
    try:
        return Agent.get(agent_id, consistent_read=True)
    except DoesNotExist:
        raise CharlaError("not_found", "No such agent.") from None


def still_admin(principal: Principal) -> bool:
    """For a socket's principal, whose role was read at `$connect`: is it still an admin now?

    A role change closes the agent's sockets, but what only admins may do over a socket is checked
    against the profile as well, at one GetItem for the rare action that needs it.
    """
    if not principal.is_admin:
        return False
    try:
        agent = Agent.get(principal.id, consistent_read=True)
    except DoesNotExist:
        return False
    return agent.role == "admin" and not agent.disabled


def view(agent: Agent) -> dict[str, object]:
    return {
        "id": agent.agent_id,
        "email": agent.email,
        "name": agent.name,
        "role": agent.role,
        "language": agent.language,
        "accepting": bool(agent.accepting),
        "online": agent.online_conns > 0,
    }


def team() -> list[dict[str, object]]:
    """Everyone an agent can transfer to or invite, with who is online right now."""
    return [view(a) for a in members() if not a.disabled]


def members() -> list[Agent]:
    """Every profile in the team (removed agents are not), by email: a Query per shard of `team_index`."""
    return shards.merged(lambda key, _page: Agent.team_index.query(key), TEAM, lambda agent: agent.email)


def is_member(agent: Agent) -> bool:
    return shards.is_key(TEAM, agent.team_pk)


def set_accepting(agent_id: str, accepting: bool) -> Agent:
    agent = Agent(agent_id)
    data.write(lambda: agent.update(actions=[Agent.accepting.set(accepting)], condition=Agent.agent_id.exists()))
    return sync_routable(agent)


def connected(agent_id: str, access_version: int | None = None) -> Agent | None:
    """Counts a new connection; with `access_version`, only while the profile is still at it.

    `$connect` passes the version it checked the ticket against, so a revocation or role change
    landing between that check and here refuses the socket (None) instead of missing it.
    """
    agent = Agent(agent_id)
    condition = Agent.agent_id.exists()
    if access_version is not None:
        same = Agent.access_version == access_version
        condition &= (same | Agent.access_version.does_not_exist()) if access_version == 0 else same
    if not data.conditional(lambda: agent.update(actions=[Agent.online_conns.add(1)], condition=condition)):
        if access_version is None:
            raise CharlaError("not_found", "No such agent.")
        return None
    return sync_routable(agent)


def disconnected(agent_id: str, count: int = 1) -> Agent | None:
    """Counts a socket gone; None if the agent no longer exists. A conflict with a transaction on the
    agent (an assignment) is retried, never taken for "no such agent": that left agents routable with
    no socket."""
    agent = Agent(agent_id)
    if not data.conditional(
        lambda: agent.update(actions=[Agent.online_conns.add(-count)], condition=Agent.agent_id.exists())
    ):
        return None
    if agent.online_conns < 0:
        data.write(lambda: agent.update(actions=[Agent.online_conns.set(0)]))
    return sync_routable(agent)


def sync_routable(agent: Agent) -> Agent:
    """Keeps the agent in the routing index exactly while accepting, enabled and connected."""
    routable = bool(agent.accepting) and not agent.disabled and agent.online_conns > 0
    if routable and not shards.is_key(ROUTABLE, agent.routable_pk):
        data.write(
            lambda: agent.update(
                actions=[
                    Agent.routable_pk.set(shards.key(ROUTABLE, agent.agent_id)),
                    Agent.load_key.set(load_key(int(agent.active_count), agent.last_assigned_at)),
                ]
            )
        )
    elif not routable and agent.routable_pk is not None:
        data.write(lambda: agent.update(actions=[Agent.routable_pk.remove(), Agent.load_key.remove()]))
    return agent
