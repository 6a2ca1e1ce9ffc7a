"""The incident service: findings in, incidents out; the one API every door and module uses."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, TypeVar

from mailwarden.clock import Clock
from mailwarden.detect.model import Finding
from mailwarden.incidents.book import Book
from mailwarden.incidents.desk import IncidentDesk
from mailwarden.incidents.model import Actor, Incident, TimelineEntry
from mailwarden.incidents.noise import NoisePolicy
from mailwarden.incidents.ports import (
    ConflictError,
    IncidentRepository,
    SampleLookup,
)
from mailwarden.incidents.records import OutboxMessage
from mailwarden.incidents.recovery import evaluate_hold
from mailwarden.incidents.severity import SeverityRules
from mailwarden.incidents.silences import SilenceDesk
from mailwarden.incidents.triage import Triage

log = logging.getLogger(__name__)
T = TypeVar("T")
_RETRIES: Final = 3
_SAMPLE_FIELDS: Final = ("sending_ip", "mailbox_provider", "sending_domain")


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick did."""

    at: datetime
    incidents_changed: int
    notifications: int


class IncidentService(IncidentDesk):
    """Turns findings into incidents and carries them through their lifecycle."""

    def __init__(
        self,
        repo: IncidentRepository,
        clock: Clock,
        rules: SeverityRules,
        *,
        policy: NoisePolicy | None = None,
        samples: SampleLookup | None = None,
        max_attachment_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        super().__init__(repo, clock, rules, max_attachment_bytes)
        self.policy = policy or NoisePolicy()
        self.silences = SilenceDesk(repo, clock)
        self._triage = Triage(rules, self.policy)
        self._samples = samples
        self._tickers: list[Callable[[datetime], object]] = []

    def on_tick(self, ticker: Callable[[datetime], object]) -> None:
        """Have ticker run on every tick (SLA clocks, escalations, task reminders)."""
        self._tickers.append(ticker)

    def on_findings(self, findings: Sequence[Finding]) -> list[str]:
        """Route a batch of findings through noise control; return what happened to each."""
        if not findings:
            return []
        enriched = [self._with_samples(finding) for finding in findings]
        return self._retry(lambda: self._route(enriched))

    def on_messages(self, messages: Sequence[Any]) -> None:
        """Bus handler for the "findings" topic: route the findings among the messages."""
        self.on_findings([message for message in messages if isinstance(message, Finding)])

    def tick(self, now: datetime | None = None) -> TickReport:
        """Evaluate hysteresis holds, auto-recovery and silence reminders at now."""
        at = now or self._clock.now()
        changed = self._retry(lambda: self._hold_all(at))
        sent = self.silences.notify(at)
        for ticker in self._tickers:
            try:
                ticker(at)
            except Exception:
                log.exception("incident ticker %r failed at %s", ticker, at)
        return TickReport(at, changed, len(sent))

    def outbox(self, *, unsent_only: bool = True) -> list[OutboxMessage]:
        """Notifications queued for delivery."""
        return self._repo.outbox(unsent_only=unsent_only)

    def record(
        self,
        ref: str,
        kind: str,
        note: str,
        actor: Actor,
        *,
        data: dict[str, Any] | None = None,
        source: str,
        outbox: Sequence[OutboxMessage] = (),
    ) -> TimelineEntry:
        """Add another module's entry (a task, a page, an SLA breach) to an incident's timeline,
        with the notifications it sends (queued in the outbox in the same transaction)."""
        holder: list[TimelineEntry] = []

        def change(incident: Incident, now: datetime) -> None:
            holder.append(incident.record(kind, actor, now, note, data, source=source))

        self._change(ref, change, outbox=outbox)
        return holder[0]

    def _route(self, findings: Sequence[Finding]) -> list[str]:
        now = self._clock.now()
        since = now - self.policy.reopen_window
        opened: list[tuple[Incident, list[TimelineEntry]]] = []
        book = Book(
            incidents=list(reversed(self._repo.open_incidents(since))),
            silences=self._repo.silences(now=now),
            persist=lambda incident: opened.extend(self._store([incident])),
            reopen_after=since,
        )
        # Findings already attached go first: one that reopens a recovered incident lets the
        # rest of the batch join it instead of opening a new incident to be merged at once.
        held = [book.holding(finding.kind, finding.scope) is not None for finding in findings]
        order = sorted(range(len(findings)), key=lambda index: not held[index])
        outcomes = [""] * len(findings)
        for index in order:
            outcomes[index] = self._triage.apply(findings[index], book, now)
        try:
            changed = self._store(book.changed, silences=book.changed_silences)
        except ConflictError:
            self._announce(opened)  # stored already; the retry will not open them again
            raise
        self._announce([*opened, *changed])  # observers hear of it once the batch is stored
        return outcomes

    def _hold_all(self, now: datetime) -> int:
        active = self._repo.find(states=("detected", "acknowledged", "contained", "eradicated"))
        changed = [incident for incident in active if evaluate_hold(incident, now, self.policy)]
        self._save(changed)
        return len(changed)

    def _with_samples(self, finding: Finding) -> Finding:
        """Add a breakdown of the sample events when a campaign finding does not say where."""
        if (
            self._samples is None
            or finding.scope.dimension != "campaign"
            or not finding.sample_event_ids
            or "breakdown" in finding.evidence
            or "sampled" in finding.evidence
        ):
            return finding
        events = self._samples(finding.sample_event_ids, finding.window_start, finding.window_end)
        if not events:
            return finding
        breakdown: dict[str, dict[str, int]] = {name: {} for name in _SAMPLE_FIELDS}
        for event in events:
            for name in _SAMPLE_FIELDS:
                value = getattr(event, name)
                if value:
                    breakdown[name][value] = breakdown[name].get(value, 0) + 1
        return replace(finding, evidence={**finding.evidence, "breakdown": breakdown})

    def _retry(self, work: Callable[[], T]) -> T:
        for attempt in range(1, _RETRIES + 1):
            try:
                return work()
            except ConflictError:
                if attempt == _RETRIES:
                    raise
                log.info("incident changed concurrently; retrying (attempt %d)", attempt)
        raise AssertionError("unreachable")
