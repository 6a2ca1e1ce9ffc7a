"""Rates computed from simulated NDJSON, the way a detector would see them."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mailwarden.detect.model import DIMENSIONS, FINDING_KINDS
from mailwarden.events.model import MAILBOX_PROVIDERS, parse_time
from mailwarden.simulate.engine import Simulation
from mailwarden.simulate.model import (
    DEFAULT_START,
    MARKETING_DOMAIN,
    MARKETING_IPS,
    SENDING_IPS,
    TRANSACTIONAL_DOMAIN,
    Audience,
    Campaign,
    Config,
    Rates,
    Send,
    seeded,
    to_seconds,
)
from mailwarden.simulate.outcomes import Detail
from mailwarden.simulate.scenarios import NAMES
from mailwarden.simulate.traffic import MAIN_DOMAINS, make_mix

Row = dict[str, Any]
T0 = to_seconds(DEFAULT_START)


def rows(data: bytes) -> list[Row]:
    """Parse NDJSON, dropping webhook re-deliveries (same id)."""
    seen: set[str] = set()
    found = []
    for line in data.splitlines():
        row = orjson.loads(line)
        if row["id"] in seen:
            continue
        seen.add(row["id"])
        found.append(row)
    return found


@dataclass
class Observed:
    """Counts of one slice of traffic and the usual rates over them."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, row: Row) -> None:
        kind = row["type"]
        self.counts[kind] += 1
        if kind == "bounced":
            self.counts["bounced:" + row["bounce"]["class"]] += 1
        if kind == "opened" and row["extra"].get("machine_open"):
            self.counts["machine_open"] += 1

    def per_send(self, key: str) -> float:
        return self.counts[key] / max(1, self.counts["queued"])

    def per_delivered(self, key: str) -> float:
        return self.counts[key] / max(1, self.counts["delivered"])

    @property
    def hard(self) -> float:
        return self.per_send("bounced:hard")

    @property
    def block(self) -> float:
        return self.per_send("bounced:block")

    @property
    def deferral(self) -> float:
        return self.per_send("deferred")

    @property
    def complaint(self) -> float:
        return self.per_delivered("complained")

    @property
    def unsub(self) -> float:
        return self.per_delivered("unsubscribed")

    @property
    def open(self) -> float:
        return self.per_delivered("opened")

    @property
    def click(self) -> float:
        return self.per_delivered("clicked")


def observe(found: Iterable[Row], keep: Callable[[Row], bool] = lambda row: True) -> Observed:
    """Counts and rates over the rows that keep accepts."""
    result = Observed()
    for row in found:
        if keep(row):
            result.add(row)
    return result


def received(row: Row) -> str:
    """When the event reached us."""
    value: str = row["extra"]["received_at"]
    return value


def between(low: str, high: str, at: Callable[[Row], str] = received) -> Callable[[Row], bool]:
    """A filter: the row's time (received_at by default) is in [low, high)."""
    return lambda row: low <= at(row) < high


@dataclass
class Run:
    """One simulated scenario held in memory."""

    data: bytes
    rows: list[Row]
    truth: dict[str, Any]

    def incident(self) -> dict[str, Any]:
        """The one incident of a single-incident scenario."""
        (found,) = self.truth["incidents"]
        assert isinstance(found, dict)
        return found


def simulate(
    scenario: str, *, seed: int = 3, days: int = 7, scale: float = 0.02, start: int = T0
) -> Run:
    """Run a scenario (from the default Monday) and keep its lines, rows and truth."""
    config = Config(seed=seed, start=start, days=days, scale=scale)
    simulation = Simulation(scenario, config)
    data = b"".join(simulation.lines())
    return Run(data, rows(data), simulation.truth())


def occurred(row: Row) -> str:
    """When the event happened."""
    value: str = row["occurred_at"]
    return value


def delivered_at(found: Iterable[Row]) -> dict[str, str]:
    """message_id -> when it was delivered."""
    return {row["message_id"]: row["occurred_at"] for row in found if row["type"] == "delivered"}


def complaint_rate(found: list[Row], keep: Callable[[str], bool]) -> tuple[int, int]:
    """(complaints, deliveries) over messages whose delivery time keep accepts."""
    delivered = {mid: at for mid, at in delivered_at(found).items() if keep(at)}
    complaints = sum(
        1 for row in found if row["type"] == "complained" and row["message_id"] in delivered
    )
    return complaints, len(delivered)


class RecordingSink:
    """Keeps what Fates emits: (send, kind, occurred, arrival)."""

    def __init__(self) -> None:
        self.events: list[tuple[Send, str, int, int]] = []

    def emit(self, send: Send, kind: str, occurred: int, arrival: int, detail: Detail) -> None:
        self.events.append((send, kind, occurred, arrival))


def one_send(rates: Rates, *, provider: str = "gmail", seed: int = 1, at: int = T0) -> Send:
    """A single marketing send with the given true rates."""
    campaign = Campaign(
        name="test-2026-11-02-a",
        kind="marketing",
        domain=MARKETING_DOMAIN,
        ips=MARKETING_IPS,
        start=at,
        duration=3_600,
        size=1,
        rates=rates,
        tags=["promo"],
        audience=Audience(0, 1, 0, 1, make_mix(MAIN_DOMAINS)),
    )
    domain = {"gmail": "gmail.com", "microsoft": "outlook.com", "yahoo": "yahoo.com"}
    recipient = (
        f"r{seed}@{domain.get(provider, 'icloud.com' if provider == 'apple' else 'example.com')}"
    )
    return Send(at, campaign, recipient, provider, MARKETING_IPS[0], f"m{seed}", seeded(seed))


def plausibly_below(count: int, total: int, rate: float) -> bool:
    """count is no more than rate * total allows, with three standard deviations of noise."""
    expected = rate * total
    return count <= expected + 3 * math.sqrt(expected) + 1


def plausibly_above(count: int, total: int, rate: float) -> bool:
    """count is no less than rate * total allows, with three standard deviations of noise."""
    expected = rate * total
    return count >= expected - 3 * math.sqrt(expected) - 1


def sent_at(found: Iterable[Row]) -> dict[str, str]:
    """message_id -> when it was queued."""
    return {row["message_id"]: row["occurred_at"] for row in found if row["type"] == "queued"}


TRUTH_KEYS = {"scenario", "seed", "start", "end", "events", "incidents"}
INCIDENT_KEYS = {"name", "kinds", "scopes", "start", "end", "step", "notes"}


def check_truth(truth: dict[str, Any], lines: int) -> None:
    """Assert that a truth document follows the format the detection benchmark reads."""
    assert set(truth) == TRUTH_KEYS
    assert truth["scenario"] in NAMES
    assert isinstance(truth["seed"], int)
    assert truth["events"] == lines
    assert parse_time(truth["start"]) < parse_time(truth["end"])
    assert truth["start"].endswith("Z") and truth["end"].endswith("Z")
    for incident in truth["incidents"]:
        extra = {"crosses"} if incident["name"] == "complaint_creep" else set()
        assert set(incident) == INCIDENT_KEYS | extra
        assert isinstance(incident["name"], str) and incident["name"]
        assert incident["kinds"] and set(incident["kinds"]) <= FINDING_KINDS
        assert isinstance(incident["step"], bool)
        assert isinstance(incident["notes"], str) and incident["notes"]
        assert truth["start"] <= incident["start"] <= incident["end"] <= truth["end"]
        assert incident["scopes"]
        for scope in incident["scopes"]:
            assert set(scope) == {"dimension", "key"}
            check_scope(scope["dimension"], scope["key"])
        if extra:
            assert set(incident["crosses"]) == {"0.1%", "0.3%"}
            for at in incident["crosses"].values():
                assert at is None or incident["start"] <= at <= truth["end"]


def check_scope(dimension: str, key: str) -> None:
    """Assert that a scope names a dimension and a key that exists in it."""
    domains = (MARKETING_DOMAIN, TRANSACTIONAL_DOMAIN)
    assert dimension in DIMENSIONS
    if dimension == "overall":
        assert key == "*"
    elif dimension == "sending_domain":
        assert key in domains
    elif dimension == "mailbox_provider":
        assert key in MAILBOX_PROVIDERS
    elif dimension == "sending_ip":
        assert key in SENDING_IPS
    elif dimension == "sending_domain:mailbox_provider":
        domain, _, provider = key.rpartition(":")
        assert domain in domains and provider in MAILBOX_PROVIDERS
    else:
        assert key
