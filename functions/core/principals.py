"""Who is calling: a visitor or an agent, as established by credentials, never by ids in a request."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.models import Agent


@dataclass(frozen=True)
class Principal:
    kind: str  # visitor | agent
    id: str
    name: str | None = None
    role: str | None = None  # admin | agent, for agents: always as the profile says (see with_profile)
    # For agents: the profile's `access_version` this principal was read under. A connect ticket
    # keeps it, and `$connect` refuses the ticket once a revocation or role change has moved it on.
    access_version: int | None = None

    @property
    def key(self) -> str:
        return ("v:" if self.kind == "visitor" else "a:") + self.id

    @property
    def is_agent(self) -> bool:
        return self.kind == "agent"

    @property
    def is_admin(self) -> bool:
        return self.kind == "agent" and self.role == "admin"


def agent_from_claims(claims: dict) -> Principal:
    """Claims come from API Gateway's Cognito authorizer, which already checked the token.

    The role here is what the token's groups said at sign-in. It only seeds the profile of a first
    sign-in: a token outlives a demotion by up to an hour, so callers take the role from the
    profile (`with_profile`), never from this.
    """
    groups = claims.get("cognito:groups") or ""
    if isinstance(groups, str):
        # API Gateway hands list claims to Lambda as one string, e.g. "[admin agent]" or "admin,agent".
        groups = groups.strip("[]").replace(",", " ").split()
    role = "admin" if "admin" in groups else "agent"
    name = claims.get("name") or claims.get("email") or "Agent"
    return Principal(kind="agent", id=claims["sub"], name=name, role=role)


def with_profile(principal: Principal, profile: Agent) -> Principal:
    """The agent as their profile says now: name, role and access version."""
    return replace(
        principal,
        name=profile.name or principal.name,
        role=profile.role if profile.role in ("admin", "agent") else "agent",
        access_version=int(profile.access_version or 0),
    )
