"""Build canonical events and traffic for detection tests, on explicit (fake) times."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from mailwarden.clock import FakeClock
from mailwarden.detect.engine import DetectionConfig, DetectionEngine
from mailwarden.detect.lifecycle import Changes
from mailwarden.events.model import Bounce, Event

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # a Monday
_ids = itertools.count()

HARD = Bounce("hard", "userunknown", 550, "5.1.1", "550 5.1.1 unknown recipient")
GMAIL_DMARC = Bounce(
    "block", "authfailure", 550, "5.7.26", "550 5.7.26 Unauthenticated email is not accepted"
)
SPAMHAUS = Bounce(
    "block", "blocked", 554, "5.7.1", "554 5.7.1 Client host blocked using zen.spamhaus.org"
)
RATE_LIMIT = Bounce("block", "speeding", 421, "4.7.28", "421 4.7.28 rate limited, try later")


def event(
    kind: str,
    at: datetime,
    *,
    campaign: str | None = "news-1",
    domain: str | None = "news.example.org",
    provider: str = "gmail",
    ip: str | None = "203.0.113.5",
    message: str | None = None,
    bounce: Bounce | None = None,
    **extra: Any,
) -> Event:
    """One event of the given type at a time, with sensible attributes."""
    number = next(_ids)
    return Event(
        id=f"t:{number}",
        type=kind,
        occurred_at=at,
        provider="sendgrid",
        message_id=message or f"m{number}",
        recipient=f"r{number}@example.com",
        mailbox_provider=provider,
        sending_domain=domain,
        sending_ip=ip,
        campaign=campaign,
        bounce=bounce,
        extra=dict(extra),
    )


def minute_of_traffic(
    at: datetime,
    sends: int,
    *,
    hard: int = 0,
    blocks: int = 0,
    block: Bounce = GMAIL_DMARC,
    deferrals: int = 0,
    complaints: int = 0,
    **attrs: Any,
) -> list[Event]:
    """`sends` queued messages in one minute: delivered unless bounced/blocked/deferred."""
    out: list[Event] = []
    failed = hard + blocks + deferrals
    for index in range(sends):
        message = f"msg-{next(_ids)}"
        out.append(event("queued", at, message=message, **attrs))
        when = at + timedelta(seconds=20)
        if index < hard:
            out.append(event("bounced", when, message=message, bounce=HARD, **attrs))
        elif index < hard + blocks:
            out.append(event("bounced", when, message=message, bounce=block, **attrs))
        elif index < failed:
            out.append(
                event("deferred", when, message=message, bounce=RATE_LIMIT, attempt=1, **attrs)
            )
        else:
            out.append(event("delivered", when, message=message, **attrs))
    for _ in range(complaints):
        out.append(event("complained", at + timedelta(seconds=30), **attrs))
    return out


def minutes(start: datetime, count: int) -> Iterator[datetime]:
    """`count` consecutive minute starts from start."""
    for index in range(count):
        yield start + timedelta(minutes=index)


class Harness:
    """An engine on a fake clock, fed minute by minute, remembering what it opened."""

    def __init__(self, start: datetime = T0, **config: Any) -> None:
        self.clock = FakeClock(start)
        self.engine = DetectionEngine(self.clock, config=DetectionConfig(**config))
        self.opened: list[Any] = []
        self.closed: list[Any] = []

    def feed(self, events: list[Event], now: datetime | None = None) -> Changes:
        """Hand events to the engine, move the clock to now (or past them), and tick."""
        if events:
            self.engine.on_events(events)
        latest = max((e.occurred_at for e in events), default=self.clock.now())
        target = now or latest + timedelta(minutes=3)
        if target > self.clock.now():
            self.clock.set(target)
        changes = self.engine.tick()
        self.opened.extend(changes.opened)
        self.closed.extend(changes.closed)
        return changes

    def tick_until(self, end: datetime) -> None:
        """Tick every minute up to end, with no new events."""
        while self.clock.now() < end:
            self.clock.advance(timedelta(minutes=1))
            changes = self.engine.tick()
            self.opened.extend(changes.opened)
            self.closed.extend(changes.closed)

    def kinds(self) -> set[tuple[str, str, str]]:
        """(kind, dimension, key) of everything opened so far."""
        return {(f.kind, f.scope.dimension, f.scope.key) for f in self.opened}


def row(**counts: int) -> list[int]:
    """A counter row from slot names (queued=..., delivered=..., hard=..., ...)."""
    from mailwarden.metrics.counters import SLOT_OF, empty_row

    names = {
        "hard": "bounced.hard",
        "block": "bounced.block",
        "soft": "bounced.soft",
        "first_deferred": "deferred.first",
        "machine": "opened.machine",
    }
    out = empty_row()
    for name, value in counts.items():
        out[SLOT_OF[names.get(name, name)]] = value
    bounced = counts.get("hard", 0) + counts.get("block", 0) + counts.get("soft", 0)
    out[SLOT_OF["bounced"]] = max(out[SLOT_OF["bounced"]], bounced)
    return out


def view(
    windows: dict[int, list[int]],
    *,
    scope: tuple[str, str] = ("overall", "*"),
    rates: dict[str, float] | None = None,
    through: datetime = T0,
    **more: Any,
) -> Any:
    """A KeyView over hand-made window rows, with baselines at the given (or default) rates."""
    from mailwarden.detect.model import Scope
    from mailwarden.detect.view import KeyView
    from mailwarden.metrics.baseline import DEFAULT_RATES, RateBaseline

    merged = {**DEFAULT_RATES, **(rates or {})}
    baselines = {name: RateBaseline(rate, 100_000, "test") for name, rate in merged.items()}
    return KeyView(
        scope=Scope(*scope),
        through=int(through.timestamp()) // 60,
        windows=windows,
        baselines=baselines,
        **more,
    )
