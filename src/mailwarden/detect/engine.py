"""The detection engine: rolls events up as they arrive, evaluates what is due on each tick,
keeps findings deduplicated, stores them and publishes them on the "findings" topic.

Hot path (`on_events`, a subscriber of the "events" topic): aggregate the batch by cell
(minute and keys) into the in-memory series, exposure, samples and cohorts, and into the
rollup counters pending for the store. A tick writes them in one executemany once they are
FLUSH_SECONDS old in wall time, or before it publishes a finding (whoever reads the store
on a finding sees every count behind it): live, that is every tick; a replay, whose
simulated minutes pass far faster, writes many minutes in one transaction.
`tick(now)` evaluates the minutes closed by `now`
minus a settle delay, plus the past hours late events re-opened. Time is always the
injected clock's. Findings are saved as they open, change or close (quiet updates of
last_seen every few minutes) and published on the "findings" topic when they change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailwarden.bus.port import Bus
from mailwarden.clock import Clock
from mailwarden.detect import evaluate
from mailwarden.detect.lifecycle import Changes, FindingTracker
from mailwarden.detect.model import FINDINGS_TOPIC, Finding
from mailwarden.detect.policy import METRIC_RATES, Policy, confidence, default_policy
from mailwarden.detect.providers import reading
from mailwarden.detect.samples import KIND_FAMILIES, SampleBook, breakdown, sample_ids
from mailwarden.events.model import Event
from mailwarden.metrics.baseline import RateBaselines
from mailwarden.metrics.cohorts import CohortBook
from mailwarden.metrics.counters import ANY_RISE, SLOTS
from mailwarden.metrics.rollup import PendingCounts, ScopeKey, aggregate, by_key
from mailwarden.metrics.series import SeriesBook
from mailwarden.store.findings_repo import FindingStore
from mailwarden.store.rollups_repo import RollupStore

log = logging.getLogger(__name__)

KIND_RATES = {
    "hard_bounce_rate": "hard_bounce",
    "block_rate": "block",
    "deferral_rate": "deferral",
    "complaint_rate": "complaint",
    "unsubscribe_rate": "unsubscribe",
    "delivery_drop": "delivery",
    "engagement_drop": "engagement",
}
_NO_FLAGS: dict[str, set[int]] = {}
DETAIL_PREFIXES = ("by_", "dominant_", "sample", "sampled", "rate_ci95")
_PROVIDER_KINDS = frozenset({"block_rate", "deferral_rate", "delivery_drop"})
FLUSH_ROWS = 8_000  # pending (key, minute) rows that force a write before the next tick
FLUSH_SECONDS = 1.0  # wall time the stored rollups may lag the counts in memory
QUIET_SAVE_MINUTES = 5  # how often an open finding's unpublished updates are saved
RECENT_MINUTES = 26 * 60  # loaded minute by minute at warm-up; older history by the hour


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """Timing and thresholds of the engine."""

    settle_seconds: int = 60
    hold_minutes: int = 60
    republish_minutes: int = 30
    early_sends: int = 1000
    cohort_lag_minutes: int = 60
    history_days: int = 8


class DetectionEngine:
    """Turns the event stream into findings."""

    def __init__(
        self,
        clock: Clock,
        *,
        rollups: RollupStore | None = None,
        findings: FindingStore | None = None,
        bus: Bus | None = None,
        policy: Policy | None = None,
        config: DetectionConfig | None = None,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or DetectionConfig()
        self._clock = clock
        self._wall = wall
        self._flushed_at = wall()
        self._rollups = rollups
        self._findings = findings
        self._bus = bus
        self._lock = threading.RLock()
        self._pending = PendingCounts()
        book = SeriesBook(hour_horizon=24 * self.config.history_days)
        self.state = evaluate.State(
            book=book,
            cohorts=CohortBook(self.config.cohort_lag_minutes),
            rates=RateBaselines(book, self._is_flagged),
        )
        self._flagged = self.state.flagged
        self.settings = evaluate.Settings(
            policy=policy or default_policy(), early_sends=self.config.early_sends
        )
        self.samples = SampleBook()
        self.tracker = FindingTracker(
            hold=timedelta(minutes=self.config.hold_minutes),
            republish=timedelta(minutes=self.config.republish_minutes),
        )

    def subscribe(self, bus: Bus) -> None:
        """Listen to newly stored events on the bus."""
        bus.subscribe("events", self.on_events)

    def on_events(self, events: Sequence[Event]) -> None:
        """Roll a batch of new events up into the store and into memory."""
        batch = aggregate(events)
        if not batch:
            return
        rows = by_key(batch)
        with self._lock:
            if self.state.started is None:
                self.state.started = batch.first_minute - 1
            self.state.book.add(batch, rows)
            self.state.exposure.add(rows)
            self.samples.add(events)
            self.state.cohorts.add(events)
            if self._rollups is not None:  # last: the pending counts keep (and grow) the rows
                self._pending.add(batch, rows)
                if len(self._pending) >= FLUSH_ROWS:
                    self.flush()

    def tick(self, now: datetime | None = None) -> Changes:
        """Evaluate every window closed by now (less the settle delay); emit what changed."""
        now = now or self._clock.now()
        through = int(now.timestamp() - self.config.settle_seconds) // 60 - 1
        with self._lock:
            changes = self._tick_through(through, now)
            if changes.published or self._wall() - self._flushed_at >= FLUSH_SECONDS:
                self._write_pending()
        self._persist(changes, now)
        return changes

    def _write_pending(self) -> None:
        """Flush; a failed write leaves the counts pending for the next try (and the tick's
        findings still go out)."""
        try:
            self.flush()
        except Exception:
            log.exception("writing rollup counts failed; they stay pending for the next tick")

    def _tick_through(self, through: int, now: datetime) -> Changes:
        book = self.state.book
        if book.evaluated_through is not None and through <= book.evaluated_through:
            if not book.late_hours:
                return Changes()
            through = book.evaluated_through
        return self.tracker.apply(self._evaluate(through, now), now)

    def flush(self) -> None:
        """Write the rollup counters gathered since the last flush (one transaction)."""
        with self._lock:
            if self._pending and self._rollups is not None:
                pending = self._pending
                self._rollups.add_vectors(SLOTS, pending.vectors(), pending.reason_rows())
            self._pending = PendingCounts()
            self._flushed_at = self._wall()

    def _evaluate(self, through: int, now: datetime) -> list[Finding]:
        state, settings = self.state, self.settings
        book = state.book
        book.advance(through)
        state.cohorts.mature(through)
        touched, alarmed = book.take_touched()
        late = book.take_late_hours()
        state.exposure.advance(through)
        open_keys = {(f.scope.dimension, f.scope.key) for f in self.tracker.open_findings()}
        found: list[Finding] = []
        evaluated = touched | open_keys
        for key in sorted(evaluated):
            rising = ANY_RISE if key in open_keys else alarmed.get(key, 0)
            found.extend(evaluate.evaluate_key(state, settings, key, through, now, rising))
        found.extend(evaluate.evaluate_settled(state, settings, evaluated, through, now))
        evaluate.schedule_silence(state, settings, touched, through)
        if through % 5 == 0:
            found.extend(evaluate.evaluate_volume_drops(state, settings, book.series, through, now))
        found.extend(evaluate.evaluate_engagement(state, now))
        found.extend(evaluate.evaluate_early(state, settings, touched, through, now))
        found.extend(evaluate.evaluate_late(state, late, now))
        if through % 60 == 0:
            state.cohorts.prune(through)
            state.volumes = {k: v for k, v in state.volumes.items() if k[1] >= through // 60}
        for item in found:
            self._flag(item)
            self._carry(item)
            if self._needs_detail(item, now):
                self._detail(item)
        return found

    def _needs_detail(self, item: Finding, now: datetime) -> bool:
        return not self.tracker.is_open(item.kind, item.scope) or now.minute % 10 == 0

    def _detail(self, item: Finding) -> None:
        families = KIND_FAMILIES.get(item.kind)
        if item.kind == "policy_threshold":
            rate = METRIC_RATES.get(str(item.evidence.get("metric")), "")
            families = KIND_FAMILIES.get(f"{rate}_rate")
            if not self.tracker.is_open(item.kind, item.scope):  # once: bisection is dear
                item.evidence["rate_ci95"] = confidence(item.evidence)
        if not families:
            return
        first = int(item.window_start.timestamp()) // 60
        last = int(item.window_end.timestamp()) // 60
        samples = self.samples.recent(families, first, last, item.scope)
        item.sample_event_ids = sample_ids(samples)
        if item.kind in ("volume_surge", "event_silence"):
            return
        item.evidence.update(breakdown(samples))
        if item.kind in _PROVIDER_KINDS:
            item.evidence.update(reading(samples))

    def _carry(self, item: Finding) -> None:
        """Keep the open finding's sample detail on an update that did not recompute it."""
        current = self.tracker.get(item.kind, item.scope)
        if current is None:
            return
        item.sample_event_ids = current.sample_event_ids
        for key, value in current.evidence.items():
            if key.startswith(DETAIL_PREFIXES) and key not in item.evidence:
                item.evidence[key] = value

    def _flag(self, item: Finding) -> None:
        rate = KIND_RATES.get(item.kind)
        if item.kind == "policy_threshold":
            rate = METRIC_RATES.get(str(item.evidence.get("metric")))
        if rate is None:
            return
        hours = self._flagged.setdefault((item.scope.dimension, item.scope.key), {})
        first = int(item.window_start.timestamp()) // 3600
        last = int(item.window_end.timestamp()) // 3600
        hours.setdefault(rate, set()).update(range(first, last + 1))

    def _is_flagged(self, key: ScopeKey) -> Mapping[str, set[int]]:
        return self._flagged.get(key, _NO_FLAGS)

    def _persist(self, changes: Changes, now: datetime) -> None:
        if not changes:
            return
        if self._findings is not None:
            quiet = changes.updated if now.minute % QUIET_SAVE_MINUTES == 0 else []
            self._findings.save(_unique(changes.published + quiet))
        if self._bus is not None and changes.published:
            self._bus.publish_messages(FINDINGS_TOPIC, changes.published)

    def list_findings(self, *, kind: str | None = None, status: str | None = None) -> list[Finding]:
        """Stored findings in the order first seen (those in memory when nothing is stored)."""
        if self._findings is not None:
            return self._findings.find(kind=kind, status=status)
        return [
            f
            for f in self.tracker.open_findings()
            if (kind is None or f.kind == kind) and (status is None or f.status == status)
        ]

    def warm_up(self) -> None:
        """Load recent rollups and the findings still open, so a restart keeps its baselines:
        minutes for the last day (windows, exposure), hours before that (baselines)."""
        if self._findings is not None:
            self.tracker.restore(self._findings.find(status="open"))
        if self._rollups is None:
            return
        now_minute = int(self._clock.now().timestamp()) // 60
        recent = now_minute - RECENT_MINUTES
        since = now_minute - self.config.history_days * 1440
        with self._lock:
            loaded = self.state.book.load_hours(self._rollups.hours(since, recent))
            rows = list(self._rollups.rows(recent))
            loaded += self.state.book.load(rows)
            self.state.exposure.load(rows)
            self.state.started = now_minute
        log.info("detection warmed up with %d rollup rows", loaded)


def _unique(items: Iterable[Finding]) -> list[Finding]:
    seen: dict[int, Finding] = {}
    for item in items:
        seen[id(item)] = item
    return list(seen.values())
