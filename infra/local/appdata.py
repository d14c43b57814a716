"""The app-side setup the stack does through the app's own code: tables, agent profiles, settings.

Going through `functions/` (not writing items directly) keeps the stack free of any knowledge of
the data model. Tests that serve a stand-in app pass their own object with these methods.
"""

from __future__ import annotations

from typing import Any, Protocol


class AppData(Protocol):
    def create_tables(self) -> None: ...

    def ensure_profile(self, *, agent_id: str, email: str, name: str, role: str, accepting: bool) -> None: ...

    def save_settings(self, settings: dict[str, Any]) -> None: ...

    def reset_clients(self) -> None: ...


class CharlaAppData:
    """Charla's own functions, imported only once the stack has set the environment."""

    def create_tables(self) -> None:
        from functions.core import tables

        tables.create_all()

    def ensure_profile(self, *, agent_id: str, email: str, name: str, role: str, accepting: bool) -> None:
        from functions.team import agents

        agents.ensure_profile(agent_id=agent_id, email=email, name=name, role=role, accepting=accepting)

    def save_settings(self, settings: dict[str, Any]) -> None:
        from functions.core import settings as app_settings

        app_settings.save_settings(settings)

    def reset_clients(self) -> None:
        # Cached clients would otherwise keep pointing at this stack's moto after it stops.
        try:
            from functions.core import aws
        except ImportError:
            return
        aws.reset()
