"""The simulator's vocabulary: settings, campaigns, sends and the odds of each outcome.

Times are whole Unix seconds (int) throughout; ``iso`` turns them into canonical text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from random import Random
from typing import Final

from mailwarden.simulate.replies import Reply

DAY: Final = 86_400
HOUR: Final = 3_600
MINUTE: Final = 60
DEFAULT_START: Final = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
PROVIDER_NAME: Final = "sendgrid"
MARKETING_DOMAIN: Final = "news.example.org"
TRANSACTIONAL_DOMAIN: Final = "mail.example.org"
MARKETING_IPS: Final = ("203.0.113.5", "203.0.113.6", "203.0.113.7")
TRANSACTIONAL_IP: Final = "203.0.113.10"
SENDING_IPS: Final = (*MARKETING_IPS, TRANSACTIONAL_IP)
PROVIDERS: Final = ("gmail", "microsoft", "yahoo", "apple", "other")


@dataclass(frozen=True, slots=True)
class Config:
    """What to simulate: seed, first instant (Unix seconds), length in days and volume scale."""

    seed: int
    start: int
    days: int
    scale: float = 1.0

    @property
    def end(self) -> int:
        """The first second after the simulated window."""
        return self.start + self.days * DAY


@dataclass(frozen=True, slots=True)
class Rates:
    """A stream's true healthy rates (hard..drop per send, the rest per delivered message)."""

    hard: float
    block: float
    defer: float
    drop: float
    complaint: float
    unsub: float
    open: float
    click: float
    apple_open: float


@dataclass(frozen=True, slots=True)
class Mix:
    """Recipient domains by weight: 1000 slots of (domain, mailbox provider)."""

    slots: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a campaign goes to: indices offset + j*stride (mod size) in a namespace of addresses."""

    namespace: int
    size: int
    offset: int
    stride: int
    mix: Mix


@dataclass(slots=True, eq=False)
class Campaign:
    """A named stream of sends from one domain over some IPs: a campaign or a steady stream."""

    name: str
    kind: str  # marketing | automation | transactional | attack
    domain: str
    ips: tuple[str, ...]
    start: int
    duration: int
    size: int
    rates: Rates
    tags: list[str]
    audience: Audience
    serial: int = 0
    injected: bool = False  # part of an incident: never an anchor for another one

    @property
    def end(self) -> int:
        """When the last send goes out."""
        return self.start + self.duration


@dataclass(slots=True, eq=False)
class Send:
    """One message to one recipient; rng decides everything that then happens to it."""

    t: int
    campaign: Campaign
    recipient: str
    provider: str
    ip: str
    message_id: str
    rng: Random


@dataclass(slots=True)
class Attempt:
    """The odds of one delivery attempt, before and after the injectors had their say."""

    hard: float
    block: float
    defer: float
    hard_reply: Reply
    block_reply: Reply
    defer_reply: Reply


@dataclass(slots=True)
class Engagement:
    """The odds of what a recipient does with a delivered message."""

    open: float
    click: float
    unsub: float
    complaint: float
    machine: bool
    fast_complaint: bool = False


@dataclass(slots=True)
class Plan:
    """The campaigns of a run, which injectors may inspect and add to."""

    config: Config
    campaigns: list[Campaign]
    pool: int
    marketing_ips: tuple[str, ...] = MARKETING_IPS
    next_serial: int = field(default=0x8000)

    def add(self, campaign: Campaign) -> Campaign:
        """Add a campaign with a fresh serial (so base campaigns keep theirs) and return it."""
        campaign.serial = self.next_serial
        self.next_serial += 1
        self.campaigns.append(campaign)
        return campaign


def scopes_of(send: Send) -> tuple[tuple[str, str], ...]:
    """Every (dimension, key) scope a send counts in."""
    campaign = send.campaign
    return (
        ("overall", "*"),
        ("sending_domain", campaign.domain),
        ("campaign", campaign.name),
        ("mailbox_provider", send.provider),
        ("sending_ip", send.ip),
        ("sending_domain:mailbox_provider", f"{campaign.domain}:{send.provider}"),
    )


@lru_cache(maxsize=1 << 16)
def iso(seconds: int) -> str:
    """Canonical UTC text of a Unix time in whole seconds, e.g. 2026-11-02T08:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def seeded(*parts: object) -> Random:
    """A private random stream named by its parts (a simulation, not cryptography)."""
    return Random(":".join(str(part) for part in parts))  # noqa: S311


def to_seconds(when: datetime) -> int:
    """Unix seconds of an aware datetime."""
    return int(when.timestamp())
