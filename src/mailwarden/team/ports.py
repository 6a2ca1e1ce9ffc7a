"""What the team directory needs from storage."""

from __future__ import annotations

from typing import Protocol

from mailwarden.team.model import EscalationPolicy, Override, Person, RoleDef, Roster, Rota


class TeamRepository(Protocol):
    """Stores people, custom roles, rotas with their overrides, and escalation policies."""

    def save_person(self, person: Person) -> None:
        """Insert or replace a person (by handle)."""
        ...

    def people(self) -> list[Person]:
        """Everyone, by handle."""
        ...

    def save_role(self, role: RoleDef) -> None:
        """Insert or replace a custom role."""
        ...

    def custom_roles(self) -> list[RoleDef]:
        """The team's own roles, by name."""
        ...

    def save_rota(self, rota: Rota) -> None:
        """Insert or replace a rota (its overrides are kept)."""
        ...

    def add_override(self, override: Override) -> Override:
        """Store an override; return it with its pk."""
        ...

    def save_policy(self, policy: EscalationPolicy) -> None:
        """Insert or replace an escalation policy."""
        ...

    def roster(self) -> Roster:
        """People, rotas (with overrides, oldest first) and policies, read together."""
        ...
