"""The sending gate: what a team's sending code asks before each batch.

Answers come from an in-memory snapshot of the gate's rules (pauses, quarantines,
suppressions, warm-up plans), so a request costs a few dict lookups and no database query.
The snapshot is rebuilt when an action changes a rule in this process (`invalidate`) and,
for changes made elsewhere, when a cheap fingerprint of the rule tables moves; the
fingerprint is read at most every `refresh_seconds`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol, TypeVar

from mailwarden.actions.gate_records import ALL, Pause, Quarantine, WarmupPlan
from mailwarden.actions.sending import normalise_key
from mailwarden.clock import Clock

log = logging.getLogger(__name__)
ALLOW: Final = "allow"
DENY: Final = "deny"
THROTTLE: Final = "throttle"
_QUERY_SCOPES: Final = ("campaign", "sending_domain", "mailbox_provider", "sending_ip")
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class GateQuery:
    """One batch about to be sent: what it is, where it goes."""

    campaign: str | None = None
    sending_domain: str | None = None
    mailbox_provider: str | None = None
    sending_ip: str | None = None
    recipient: str | None = None
    segment: str | None = None
    batch: str | None = None

    def scope_keys(self) -> list[tuple[str, str]]:
        """(scope, key) pairs a pause or warm-up plan may match, 'all' included."""
        pairs = [("all", ALL)]
        for scope in _QUERY_SCOPES:
            value = getattr(self, scope)
            if value:
                try:
                    pairs.append((scope, normalise_key(scope, value)))
                except ValueError:
                    continue
        return pairs


@dataclass(frozen=True, slots=True)
class GateDecision:
    """allow, deny or throttle (with a rate), why, and how long the answer may be cached."""

    decision: str
    rate_per_minute: int | None
    reasons: tuple[str, ...]
    ttl_seconds: int

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object the API answers."""
        return {
            "decision": self.decision,
            "rate_per_minute": self.rate_per_minute,
            "reasons": list(self.reasons),
            "ttl_seconds": self.ttl_seconds,
        }


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A suppressed recipient as the gate keeps it."""

    reason: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GateRules:
    """The snapshot: rules indexed for lookups by a request's fields."""

    built_at: datetime
    pauses: Mapping[tuple[str, str], tuple[Pause, ...]] = field(default_factory=dict)
    quarantines: Mapping[tuple[str, str], tuple[Quarantine, ...]] = field(default_factory=dict)
    suppressed: Mapping[str, Suppressed] = field(default_factory=dict)
    warmups: Mapping[tuple[str, str], tuple[WarmupPlan, ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        built_at: datetime,
        pauses: Iterable[Pause] = (),
        quarantines: Iterable[Quarantine] = (),
        suppressed: Mapping[str, Suppressed] | None = None,
        warmups: Iterable[WarmupPlan] = (),
    ) -> GateRules:
        """Index rules that are (or will become) active."""
        return cls(
            built_at,
            _index(((p.scope, p.key), p) for p in pauses if p.resumed_at is None),
            _index(((q.kind, q.name), q) for q in quarantines if q.released_at is None),
            dict(suppressed or {}),
            _index(((w.scope, w.key), w) for w in warmups if w.active(built_at)),
        )

    def counts(self) -> dict[str, int]:
        """How many rules of each kind the snapshot holds."""
        return {
            "pauses": sum(len(v) for v in self.pauses.values()),
            "quarantines": sum(len(v) for v in self.quarantines.values()),
            "suppressed": len(self.suppressed),
            "warmups": sum(len(v) for v in self.warmups.values()),
        }


def decide(rules: GateRules, query: GateQuery, now: datetime, ttl_seconds: int) -> GateDecision:
    """The gate's answer for one batch at now (pure: no I/O)."""
    expiries: list[datetime] = []
    reasons = _denials(rules, query, now, expiries)
    if reasons:
        return GateDecision(DENY, None, tuple(reasons), _ttl(ttl_seconds, now, expiries))
    rate, why = _throttle(rules, query, now, expiries)
    ttl = _ttl(ttl_seconds, now, expiries)
    if rate is not None:
        return GateDecision(THROTTLE, rate, tuple(why), ttl)
    return GateDecision(ALLOW, None, (), ttl)


def _denials(
    rules: GateRules, query: GateQuery, now: datetime, expiries: list[datetime]
) -> list[str]:
    reasons: list[str] = []
    for pair in query.scope_keys():
        for pause in rules.pauses.get(pair, ()):
            if pause.active(now):
                reasons.append(f"paused: {pause.target} ({_because(pause.reason, pause)})")
                _until(expiries, pause.expires_at)
    for kind, name in (("segment", query.segment), ("batch", query.batch)):
        for row in rules.quarantines.get((kind, (name or "").strip()), ()):
            if row.active(now):
                reasons.append(f"quarantined: {row.target} ({_because(row.reason, row)})")
                _until(expiries, row.expires_at)
    recipient = (query.recipient or "").strip().lower()
    entry = rules.suppressed.get(recipient) if recipient else None
    if entry is not None and (entry.expires_at is None or entry.expires_at > now):
        reasons.append(f"suppressed: {recipient} ({entry.reason})")
        _until(expiries, entry.expires_at)
    return reasons


def _throttle(
    rules: GateRules, query: GateQuery, now: datetime, expiries: list[datetime]
) -> tuple[int | None, list[str]]:
    best: int | None = None
    reasons: list[str] = []
    provider = (query.mailbox_provider or "").strip().lower() or None
    for pair in query.scope_keys():
        for plan in rules.warmups.get(pair, ()):
            rate = plan.rate_per_minute(provider, now)
            expiries.append(plan.next_change(now))
            if rate is None:
                continue
            fraction = plan.fraction(provider, now) or 0.0
            days = len(plan.schedule(provider))
            reasons.append(
                f"warm-up {plan.id}: {plan.target} day {plan.day(now)} of {days} at "
                f"{provider or 'any provider'}: {fraction:.0%} of normal, {rate}/min"
            )
            best = rate if best is None else min(best, rate)
    return best, reasons


def _because(reason: str, row: Pause | Quarantine) -> str:
    return f"{reason}, {row.incident_id}" if row.incident_id else reason


def _until(expiries: list[datetime], when: datetime | None) -> None:
    if when is not None:
        expiries.append(when)


def _ttl(default: int, now: datetime, expiries: list[datetime]) -> int:
    soonest = min((when for when in expiries if when > now), default=None)
    if soonest is None:
        return default
    return max(1, min(default, int((soonest - now).total_seconds())))


def _index(pairs: Iterable[tuple[K, V]]) -> dict[K, tuple[V, ...]]:
    out: dict[K, list[V]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return {key: tuple(values) for key, values in out.items()}


class GateSource(Protocol):
    """Where the gate's rules live (the database, or memory)."""

    def fingerprint(self) -> str:
        """A cheap value that changes whenever any rule changes."""
        ...

    def load(self, now: datetime) -> GateRules:
        """Read every rule that matters at now into a snapshot."""
        ...


class SendingGate:
    """Answers gate requests from the snapshot; refreshes it on change or when it moved.

    A request never waits for the database once the first snapshot exists: when the
    snapshot is due for a check, one background thread reads the fingerprint (and reloads
    if it moved) while requests keep using the current snapshot. A change made through
    this process (`invalidate`) reloads at once, in the changing thread.
    """

    def __init__(
        self,
        source: GateSource,
        clock: Clock,
        *,
        refresh_seconds: float = 5.0,
        ttl_seconds: int = 5,
        monotonic: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self._source = source
        self._clock = clock
        self.refresh_seconds = refresh_seconds
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._background = background
        self._rules: GateRules | None = None
        self._fingerprint: str | None = None
        self._checked = 0.0
        self._polling = False
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """True once the first snapshot exists (answers no longer touch the database)."""
        return self._rules is not None

    def check(self, query: GateQuery) -> GateDecision:
        """The answer for one batch."""
        return decide(self.rules(), query, self._clock.now(), self.ttl_seconds)

    def rules(self) -> GateRules:
        """The current snapshot (the first call loads it; later ones never wait)."""
        rules = self._rules
        if rules is None:
            return self.refresh()
        if self._monotonic() - self._checked >= self.refresh_seconds and not self._polling:
            self._polling = True
            self._checked = self._monotonic()
            if self._background:
                threading.Thread(target=self._poll, name="gate-refresh", daemon=True).start()
            else:
                self._poll()
        return self._rules or rules

    def invalidate(self) -> None:
        """A rule changed in this process: reload now."""
        try:
            self.refresh()
        except Exception:
            log.exception("gate reload after a change failed; the next check retries")
            self._checked = float("-inf")

    def refresh(self) -> GateRules:
        """Reload the snapshot now."""
        with self._lock:
            return self._load(self._source.fingerprint())

    def _poll(self) -> None:
        try:
            with self._lock:
                fingerprint = self._source.fingerprint()
                if fingerprint != self._fingerprint or self._rules is None:
                    self._load(fingerprint)
        except Exception:
            log.exception("gate refresh failed; answering from the previous snapshot")
        finally:
            self._polling = False

    def _load(self, fingerprint: str) -> GateRules:
        rules = self._source.load(self._clock.now())
        self._rules, self._fingerprint = rules, fingerprint
        self._checked = self._monotonic()
        return rules
