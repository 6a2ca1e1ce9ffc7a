"""The team directory in SQL: people, custom roles, rotas with overrides, escalation policies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, insert, select, update

from mailwarden.clock import Clock
from mailwarden.store.rows import from_ms, to_ms
from mailwarden.store.team_tables import (
    team_escalation_policies,
    team_people,
    team_roles,
    team_rota_overrides,
    team_rotas,
)
from mailwarden.team.calendar import parse_clock_time
from mailwarden.team.model import (
    Contact,
    EscalationPolicy,
    Level,
    Override,
    Person,
    RoleDef,
    Roster,
    Rota,
    Target,
)

Row = Mapping[Any, Any]


class SqlTeamRepository:
    """Stores the team behind an engine; `clock` stamps updated_ms."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def save_person(self, person: Person) -> None:
        """Insert or replace a person."""
        contacts = [{"channel": c.channel, "address": c.address} for c in person.contacts]
        values = {
            "handle": person.handle,
            "name": person.name,
            "timezone": person.timezone,
            "contacts": _dumps(contacts),
        }
        self._upsert(team_people, "handle", values)

    def people(self) -> list[Person]:
        """Everyone, by handle."""
        with self._engine.connect() as conn:
            return _people(conn)

    def save_role(self, role: RoleDef) -> None:
        """Insert or replace a custom role."""
        self._upsert(team_roles, "name", {"name": role.name, "description": role.description})

    def custom_roles(self) -> list[RoleDef]:
        """The team's own roles, by name."""
        with self._engine.connect() as conn:
            found = conn.execute(select(team_roles).order_by(team_roles.c.name)).mappings()
            return [RoleDef(row["name"], row["description"], custom=True) for row in found]

    def save_rota(self, rota: Rota) -> None:
        """Insert or replace a rota (its overrides stay)."""
        values = {
            "name": rota.name,
            "rotation": rota.rotation,
            "handoff": rota.handoff.strftime("%H:%M"),
            "timezone": rota.timezone,
            "starts_on": rota.starts_on.isoformat(),
            "members": _dumps(list(rota.members)),
            "description": rota.description,
        }
        self._upsert(team_rotas, "name", values)

    def add_override(self, override: Override) -> Override:
        """Store an override and return it with its pk."""
        values = {
            "rota": override.rota,
            "person": override.person,
            "starts_ms": to_ms(override.starts_at),
            "ends_ms": to_ms(override.ends_at),
            "reason": override.reason,
            "created_by": override.created_by,
            "created_ms": to_ms(self._clock.now()),
        }
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(team_rota_overrides).values(**values).returning(team_rota_overrides.c.id)
            )
            pk = int(result.scalar_one())
        return Override(**{**_override_fields(override), "pk": pk})

    def save_policy(self, policy: EscalationPolicy) -> None:
        """Insert or replace an escalation policy."""
        levels = [
            {"targets": [str(t) for t in level.targets], "after_minutes": level.after_minutes}
            for level in policy.levels
        ]
        values = {
            "name": policy.name,
            "levels": _dumps(levels),
            "repeat_count": policy.repeat,
            "description": policy.description,
            "incident_types": _dumps(list(policy.incident_types)),
            "severities": _dumps(list(policy.severities)),
        }
        self._upsert(team_escalation_policies, "name", values)

    def roster(self) -> Roster:
        """People, rotas with their overrides, and policies, in one read transaction."""
        with self._engine.connect() as conn:
            people = {person.handle: person for person in _people(conn)}
            overrides: dict[str, list[Override]] = {}
            query = select(team_rota_overrides).order_by(team_rota_overrides.c.id)
            for row in conn.execute(query).mappings():
                overrides.setdefault(row["rota"], []).append(_override_of(row))
            rotas = {
                row["name"]: _rota_of(row, overrides.get(row["name"], []))
                for row in conn.execute(select(team_rotas)).mappings()
            }
            policies = {
                row["name"]: _policy_of(row)
                for row in conn.execute(select(team_escalation_policies)).mappings()
            }
        return Roster(people, rotas, policies)

    def _upsert(self, table: Table, key: str, values: dict[str, Any]) -> None:
        values = {**values, "updated_ms": to_ms(self._clock.now())}
        with self._engine.begin() as conn:
            result = conn.execute(update(table).where(table.c[key] == values[key]).values(values))
            if result.rowcount == 0:
                conn.execute(insert(table).values(values))


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _people(conn: Connection) -> list[Person]:
    query = select(team_people).order_by(team_people.c.handle)
    return [
        Person(
            row["handle"],
            row["name"],
            tuple(Contact(c["channel"], c["address"]) for c in orjson.loads(row["contacts"])),
            row["timezone"],
        )
        for row in conn.execute(query).mappings()
    ]


def _override_fields(override: Override) -> dict[str, Any]:
    return {name: getattr(override, name) for name in Override.__slots__}


def _override_of(row: Row) -> Override:
    return Override(
        row["rota"],
        row["person"],
        from_ms(row["starts_ms"]),
        from_ms(row["ends_ms"]),
        row["reason"],
        row["created_by"],
        row["id"],
    )


def _rota_of(row: Row, overrides: list[Override]) -> Rota:
    return Rota(
        name=row["name"],
        rotation=row["rotation"],
        handoff=parse_clock_time(row["handoff"]),
        timezone=row["timezone"],
        starts_on=date.fromisoformat(row["starts_on"]),
        members=tuple(orjson.loads(row["members"])),
        description=row["description"],
        overrides=tuple(overrides),
    )


def _policy_of(row: Row) -> EscalationPolicy:
    levels = tuple(
        Level(
            tuple(Target(*text.split(":", 1)) for text in level["targets"]),
            int(level["after_minutes"]),
        )
        for level in orjson.loads(row["levels"])
    )
    return EscalationPolicy(
        name=row["name"],
        levels=levels,
        repeat=row["repeat_count"],
        description=row["description"],
        incident_types=tuple(orjson.loads(row["incident_types"])),
        severities=tuple(orjson.loads(row["severities"])),
    )
