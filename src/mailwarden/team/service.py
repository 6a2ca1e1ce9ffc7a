"""The team directory: people, roles, rotas, overrides, escalation policies; all validated."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Final, TypeVar

from mailwarden.team.calendar import parse_clock_time, zone
from mailwarden.team.escalation import select_policy
from mailwarden.team.model import (
    CHANNELS,
    HANDLE,
    MAX_REPEAT,
    ROTATIONS,
    TARGET_KINDS,
    Contact,
    EscalationPolicy,
    Level,
    Override,
    Person,
    RoleDef,
    Roster,
    Rota,
    Shift,
    Target,
    TeamInputError,
    UnknownTeamItemError,
)
from mailwarden.team.oncall import current_shift
from mailwarden.team.ports import TeamRepository
from mailwarden.team.roles import STANDARD_NAMES, STANDARD_ROLES, is_role_name

_PHONE: Final = re.compile(r"^\+[1-9]\d{6,14}$")
_SLACK: Final = re.compile(r"^[@#]?[A-Za-z0-9._-]{1,80}$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
T = TypeVar("T")


class TeamService:
    """Keeps the team's people, roles, rotas and escalation policies, and answers who is on."""

    def __init__(
        self,
        repo: TeamRepository,
        *,
        incident_types: Collection[str] = (),
        severities: Collection[str] = (),
    ) -> None:
        self._repo = repo
        self._types = frozenset(incident_types)
        self._severities = frozenset(severities)

    def roster(self) -> Roster:
        """Everything at once (people, rotas with overrides, policies)."""
        return self._repo.roster()

    def add_person(
        self,
        handle: str,
        name: str,
        contacts: Sequence[tuple[str, str]] = (),
        timezone: str | None = None,
    ) -> Person:
        """Add or update a person; TeamInputError says what is wrong with the input."""
        handle = handle.strip().lower()
        if not HANDLE.match(handle):
            raise TeamInputError(f"handle {handle!r} must be lower-case letters, digits, . _ -")
        if timezone is not None:
            _check(lambda: zone(timezone))
        person = Person(
            handle, name.strip() or handle, tuple(_contact(c, a) for c, a in contacts), timezone
        )
        self._repo.save_person(person)
        return person

    def people(self) -> list[Person]:
        """Everyone, by handle."""
        return sorted(self.roster().people.values(), key=lambda p: p.handle)

    def person(self, handle: str) -> Person:
        """One person; UnknownTeamItemError if nobody has the handle."""
        found = self.roster().people.get(handle.strip().lower())
        if found is None:
            raise UnknownTeamItemError(f"no person {handle!r}")
        return found

    def roles(self) -> list[RoleDef]:
        """The standard roles, then the team's own."""
        return [*STANDARD_ROLES, *self._repo.custom_roles()]

    def add_role(self, name: str, description: str) -> RoleDef:
        """Add a custom role (snake_case, not a standard name)."""
        name = name.strip()
        if name in STANDARD_NAMES or not is_role_name(name):
            raise TeamInputError(f"role {name!r} must be a new snake_case name")
        role = RoleDef(name, description.strip(), custom=True)
        self._repo.save_role(role)
        return role

    def add_rota(
        self,
        name: str,
        *,
        rotation: str,
        handoff: str,
        timezone: str,
        starts_on: date,
        members: Sequence[str],
        description: str = "",
    ) -> Rota:
        """Add or replace a rota; members must be people already on the team."""
        name = name.strip()
        if not HANDLE.match(name):
            raise TeamInputError(f"rota name {name!r} must be lower-case letters, digits, . _ -")
        if rotation not in ROTATIONS:
            raise TeamInputError(f"rotation {rotation!r} is not one of {', '.join(ROTATIONS)}")
        if not members:
            raise TeamInputError("a rota needs at least one member")
        roster = self.roster()
        _known_people(roster, members)
        rota = Rota(
            name,
            rotation,
            _check(lambda: parse_clock_time(handoff)),
            timezone,
            starts_on,
            tuple(members),
            description,
        )
        _check(lambda: zone(timezone))
        self._repo.save_rota(rota)
        existing = roster.rotas.get(name)
        return replace(rota, overrides=existing.overrides if existing else ())

    def rota(self, name: str) -> Rota:
        """One rota with its overrides; UnknownTeamItemError if there is none."""
        found = self.roster().rotas.get(name)
        if found is None:
            raise UnknownTeamItemError(f"no rota {name!r}")
        return found

    def rotas(self) -> list[Rota]:
        """Every rota, by name."""
        return sorted(self.roster().rotas.values(), key=lambda r: r.name)

    def add_override(
        self,
        rota: str,
        person: str,
        starts_at: datetime,
        ends_at: datetime,
        *,
        reason: str = "",
        actor: str = "",
    ) -> Override:
        """Put person on call for a rota from starts_at to ends_at."""
        roster = self.roster()
        if rota not in roster.rotas:
            raise UnknownTeamItemError(f"no rota {rota!r}")
        _known_people(roster, [person])
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise TeamInputError("override times need a time zone (e.g. 2026-12-24T18:00Z)")
        if ends_at <= starts_at:
            raise TeamInputError("an override must end after it starts")
        override = Override(rota, person, starts_at, ends_at, reason.strip(), actor)
        return self._repo.add_override(override)

    def on_call(self, at: datetime, rota: str | None = None) -> list[Shift]:
        """The shift in force at `at` for each rota (or the one named)."""
        chosen = [self.rota(rota)] if rota else self.rotas()
        return [shift for item in chosen if (shift := current_shift(item, at)) is not None]

    def set_policy(
        self,
        name: str,
        levels: Sequence[tuple[Sequence[str], int]],
        *,
        repeat: int = 0,
        description: str = "",
        incident_types: Sequence[str] = (),
        severities: Sequence[str] = (),
    ) -> EscalationPolicy:
        """Add or replace an escalation policy; levels are (["rota:x", "person:y"], minutes)."""
        roster = self.roster()
        if not HANDLE.match(name.strip()):
            raise TeamInputError(f"policy name {name!r} must be lower-case letters, digits, . _ -")
        if not levels:
            raise TeamInputError("a policy needs at least one level")
        if not 0 <= repeat <= MAX_REPEAT:
            raise TeamInputError(f"repeat must be between 0 and {MAX_REPEAT}")
        built = tuple(_level(roster, number, spec) for number, spec in enumerate(levels, 1))
        self._check_filters(incident_types, severities)
        policy = EscalationPolicy(
            name.strip(), built, repeat, description, tuple(incident_types), tuple(severities)
        )
        if repeat and policy.cycle_minutes == 0:
            raise TeamInputError("a repeating policy needs levels that wait (after > 0)")
        self._repo.save_policy(policy)
        return policy

    def policy(self, name: str) -> EscalationPolicy:
        """One policy; UnknownTeamItemError if there is none."""
        found = self.roster().policies.get(name)
        if found is None:
            raise UnknownTeamItemError(f"no escalation policy {name!r}")
        return found

    def policies(self) -> list[EscalationPolicy]:
        """Every escalation policy, by name."""
        return sorted(self.roster().policies.values(), key=lambda p: p.name)

    def policy_for(self, incident_type: str, severity: str) -> EscalationPolicy | None:
        """The policy that covers incidents of this type and severity, if any."""
        return select_policy(self.roster().policies.values(), incident_type, severity)

    def _check_filters(self, types: Sequence[str], severities: Sequence[str]) -> None:
        for value in types:
            if self._types and value not in self._types:
                raise TeamInputError(
                    f"type {value!r} is not one of {', '.join(sorted(self._types))}"
                )
        for value in severities:
            if self._severities and value not in self._severities:
                known = ", ".join(sorted(self._severities))
                raise TeamInputError(f"severity {value!r} is not one of {known}")


def _check(work: Callable[[], T]) -> T:
    try:
        return work()
    except ValueError as exc:
        raise TeamInputError(str(exc)) from None


def _contact(channel: str, address: str) -> Contact:
    channel, address = channel.strip().lower(), address.strip()
    valid = {
        "email": _EMAIL.match(address) is not None,
        "slack": _SLACK.match(address) is not None,
        "phone": _PHONE.match(address) is not None,
        "webhook": address.startswith(("https://", "http://")) and " " not in address,
    }
    if channel not in CHANNELS:
        raise TeamInputError(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    if not valid[channel]:
        hints = {
            "email": "an email address",
            "slack": "a Slack handle like @alex or #channel",
            "phone": "a phone number in E.164 form like +4930123456",
            "webhook": "an http(s) URL",
        }
        raise TeamInputError(f"{channel} contact {address!r} is not {hints[channel]}")
    return Contact(channel, address)


def _known_people(roster: Roster, handles: Sequence[str]) -> None:
    unknown = [handle for handle in handles if handle not in roster.people]
    if unknown:
        raise TeamInputError(f"not on the team (add them first): {', '.join(unknown)}")


def _level(roster: Roster, number: int, spec: tuple[Sequence[str], int]) -> Level:
    texts, minutes = spec
    if minutes < 0:
        raise TeamInputError(f"level {number}: the wait cannot be negative")
    if not texts:
        raise TeamInputError(f"level {number}: name at least one rota:NAME or person:HANDLE")
    targets = []
    for text in texts:
        kind, _, name = text.strip().partition(":")
        if kind not in TARGET_KINDS or not name:
            raise TeamInputError(f"level {number}: {text!r} is not rota:NAME or person:HANDLE")
        known = roster.rotas if kind == "rota" else roster.people
        if name not in known:
            raise TeamInputError(f"level {number}: no {kind} {name!r}")
        targets.append(Target(kind, name))
    return Level(tuple(targets), minutes)
