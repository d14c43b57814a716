"""Who is calling: a visitor or an agent, as established by credentials, never by ids in a request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    kind: str  # visitor | agent
    id: str
    name: str | None = None
    role: str | None = None  # admin | agent, for agents

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
    """Claims come from API Gateway's Cognito authorizer, which already checked the token."""
    groups = claims.get("cognito:groups") or ""
    if isinstance(groups, str):
        # API Gateway hands list claims to Lambda as one string, e.g. "[admin agent]" or "admin,agent".
        groups = groups.strip("[]").replace(",", " ").split()
    role = "admin" if "admin" in groups else "agent"
    name = claims.get("name") or claims.get("email") or "Agent"
    return Principal(kind="agent", id=claims["sub"], name=name, role=role)
