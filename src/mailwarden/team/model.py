"""People, roles, rotas with overrides, and escalation policies: plain records, no framework."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Final

CHANNELS: Final = ("email", "slack", "phone", "webhook")
ROTATIONS: Final = {"daily": 1, "weekly": 7}
TARGET_KINDS: Final = ("rota", "person")
HANDLE: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_REPEAT: Final = 10


class TeamInputError(ValueError):
    """The request makes no sense; the message says what was wrong."""


class UnknownTeamItemError(LookupError):
    """No person, rota or policy has this name."""


@dataclass(frozen=True, slots=True)
class Contact:
    """One way to reach a person: a channel (email, slack, phone, webhook) and an address."""

    channel: str
    address: str


@dataclass(frozen=True, slots=True)
class Person:
    """Someone on the team, by handle, with the channels that reach them."""

    handle: str
    name: str
    contacts: tuple[Contact, ...] = ()
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class RoleDef:
    """A response role a person can hold on an incident."""

    name: str
    description: str
    custom: bool = False


@dataclass(frozen=True, slots=True)
class Override:
    """Someone covers a rota for a time range (holiday swaps, sick days)."""

    rota: str
    person: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""
    created_by: str = ""
    pk: int | None = None

    def covers(self, at: datetime) -> bool:
        """True while the override is in force."""
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True, slots=True)
class Rota:
    """Members take turns in order; a shift lasts a day or a week and ends at the handoff.

    Shift 0 starts at `handoff` (local time in `timezone`) on `starts_on`; a weekly rota hands
    off on that date's weekday. Before `starts_on` the turns run backwards in the same order.
    """

    name: str
    rotation: str
    handoff: time
    timezone: str
    starts_on: date
    members: tuple[str, ...]
    description: str = ""
    overrides: tuple[Override, ...] = ()

    @property
    def period_days(self) -> int:
        """Days per shift."""
        return ROTATIONS[self.rotation]


@dataclass(frozen=True, slots=True)
class Shift:
    """Who is on call for a rota from start to end, and whether an override put them there."""

    rota: str
    person: str
    start: datetime
    end: datetime
    override: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """Whom an escalation level notifies: the on-call of a rota, or a person."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Level:
    """One escalation level: who to notify, and how long to wait for an acknowledgement."""

    targets: tuple[Target, ...]
    after_minutes: int


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Levels notified in turn until someone acknowledges; then repeat or stop.

    `incident_types` and `severities` choose which incidents it covers (empty: all).
    """

    name: str
    levels: tuple[Level, ...]
    repeat: int = 0
    description: str = ""
    incident_types: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()

    def covers(self, incident_type: str, severity: str) -> bool:
        """True when this policy applies to incidents of this type and severity."""
        return (not self.incident_types or incident_type in self.incident_types) and (
            not self.severities or severity in self.severities
        )

    @property
    def cycle_minutes(self) -> int:
        """Minutes from level 1 of one round to level 1 of the next."""
        return sum(level.after_minutes for level in self.levels)


@dataclass(slots=True)
class Roster:
    """Everything the team directory knows at once (for resolving whom to notify)."""

    people: dict[str, Person] = field(default_factory=dict)
    rotas: dict[str, Rota] = field(default_factory=dict)
    policies: dict[str, EscalationPolicy] = field(default_factory=dict)
