"""Reminders on tick(now): forgotten pauses, expiring suppressions, slow delistings, ramp days.

Each reminder has a subject (what it is about) and a kind (why now); the reminder log keeps
which (subject, kind) pairs went out, so each goes out once however often tick runs.
Repeating reminders carry a period number in their kind ("forgotten:2" on the second day).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from mailwarden.actions.delisting import REQUESTED, DelistingStore
from mailwarden.actions.gate_records import (
    Pause,
    PauseStore,
    Quarantine,
    QuarantineStore,
    WarmupStore,
)
from mailwarden.actions.records import Suppression
from mailwarden.actions.warmup import describe_ramp

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reminder:
    """Something a person should look at: about what, why now, for which incident."""

    subject: str
    kind: str
    text: str
    at: datetime
    incident_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {
            "subject": self.subject,
            "kind": self.kind,
            "text": self.text,
            "at": self.at.isoformat(),
            "incident_id": self.incident_id,
            "data": dict(self.data),
        }


class ReminderLog(Protocol):
    """Remembers which reminders went out."""

    def first(self, reminder: Reminder) -> bool:
        """Record the reminder unless its (subject, kind) was recorded; True when new."""
        ...

    def forget(self, reminder: Reminder) -> None:
        """Drop the record (delivery failed: the next tick tries again)."""
        ...


class ExpiringSuppressions(Protocol):
    """Suppressions whose expiry falls in a window."""

    def expiring(self, after: datetime, until: datetime) -> list[Suppression]:
        """Suppressions expiring in (after, until]."""
        ...


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When to remind."""

    forgotten_after: timedelta = timedelta(hours=24)
    expiry_notice: timedelta = timedelta(hours=24)
    delisting_after: timedelta = timedelta(hours=48)
    every: timedelta = timedelta(minutes=5)  # look at most this often, however often tick runs


class Reminders:
    """Finds what needs a reminder at now and hands each new one to the sink once."""

    def __init__(
        self,
        log_: ReminderLog,
        sink: Callable[[Reminder], None],
        *,
        pauses: PauseStore | None = None,
        quarantines: QuarantineStore | None = None,
        suppressions: ExpiringSuppressions | None = None,
        delistings: DelistingStore | None = None,
        warmups: WarmupStore | None = None,
        policy: ReminderPolicy | None = None,
    ) -> None:
        self._log = log_
        self._sink = sink
        self._pauses = pauses
        self._quarantines = quarantines
        self._suppressions = suppressions
        self._delistings = delistings
        self._warmups = warmups
        self.policy = policy or ReminderPolicy()
        self._looked: datetime | None = None

    def tick(self, now: datetime) -> list[Reminder]:
        """Send the reminders due at now (looking at most every policy.every); return them."""
        if self._looked is not None and timedelta(0) <= now - self._looked < self.policy.every:
            return []
        self._looked = now
        sent = []
        for reminder in self.due(now):
            if self._log.first(reminder):
                try:
                    self._sink(reminder)
                except Exception:
                    log.exception("reminder %s/%s could not be delivered", *_ids(reminder))
                    self._log.forget(reminder)
                    continue
                sent.append(reminder)
        return sent

    def due(self, now: datetime) -> list[Reminder]:
        """Every reminder that applies at now (sent or not)."""
        found: list[Reminder] = []
        if self._pauses is not None:
            found += self._held(self._pauses.listed(active_at=now), "pause", now)
        if self._quarantines is not None:
            found += self._held(self._quarantines.listed(active_at=now), "quarantine", now)
        if self._suppressions is not None:
            found += self._expiring_suppressions(now)
        if self._delistings is not None:
            found += self._slow_delistings(now)
        if self._warmups is not None:
            found += self._ramp_days(now)
        return found

    def _held(
        self, rows: Iterable[Pause | Quarantine], noun: str, now: datetime
    ) -> Iterable[Reminder]:
        period = self.policy.forgotten_after
        for row in rows:
            subject = f"{noun}:{row.run_key}"
            data = row.to_dict()
            if row.expires_at is not None and row.expires_at - self.policy.expiry_notice <= now:
                text = f"{noun} of {row.target} expires at {row.expires_at.isoformat()}"
                yield Reminder(subject, "expiring", text, now, row.incident_id, data)
            elif row.expires_at is None and now - row.created_at >= period:
                periods = int((now - row.created_at) / period)
                hours = int((now - row.created_at).total_seconds() // 3600)
                text = (
                    f"{noun} of {row.target} has been on for {hours} h with no expiry "
                    f"({row.reason}); resume it or set an expiry"
                )
                yield Reminder(subject, f"forgotten:{periods}", text, now, row.incident_id, data)

    def _expiring_suppressions(self, now: datetime) -> Iterable[Reminder]:
        assert self._suppressions is not None
        groups: dict[tuple[str | None, str], list[Suppression]] = defaultdict(list)
        for entry in self._suppressions.expiring(now, now + self.policy.expiry_notice):
            assert entry.expires_at is not None
            groups[(entry.source_incident, entry.expires_at.date().isoformat())].append(entry)
        for (incident, day), entries in sorted(groups.items(), key=lambda g: str(g[0])):
            soonest = min(e.expires_at for e in entries if e.expires_at is not None)
            text = (
                f"{len(entries)} suppression(s) expire on {day} (first at {soonest.isoformat()}); "
                "extend them if these recipients must stay suppressed"
            )
            data = {"count": len(entries), "sample": [e.address for e in entries[:5]]}
            yield Reminder(
                f"suppressions:{incident or '-'}:{day}", "expiring", text, now, incident, data
            )

    def _slow_delistings(self, now: datetime) -> Iterable[Reminder]:
        assert self._delistings is not None
        period = self.policy.delisting_after
        for request in self._delistings.listed(status=REQUESTED):
            waited = now - request.requested_at
            if waited < period:
                continue
            hours = int(waited.total_seconds() // 3600)
            text = (
                f"delisting of {request.listed_item} on {request.blocklist} pending for "
                f"{hours} h; follow up with the blocklist"
            )
            kind = f"pending:{int(waited / period)}"
            data = request.to_dict(now)
            yield Reminder(f"delisting:{request.id}", kind, text, now, request.incident_id, data)

    def _ramp_days(self, now: datetime) -> Iterable[Reminder]:
        assert self._warmups is not None
        for plan in self._warmups.listed():
            if plan.cancelled_at is not None or now < plan.started_at:
                continue
            subject = f"warmup:{plan.id}"
            if not plan.active(now):
                if now - plan.ends_at() < timedelta(days=2):
                    text = f"warm-up of {plan.target} finished: back to full volume"
                    yield Reminder(subject, "finished", text, now, plan.incident_id, {})
                continue
            day = plan.day(now)
            today = plan.schedule(None)[min(day, len(plan.schedule(None))) - 1]
            text = (
                f"warm-up of {plan.target}: day {day} at {today:.0%} of normal volume "
                f"({describe_ramp(plan)}); watch bounces and complaints per provider"
            )
            data = plan.to_dict(now)
            yield Reminder(subject, f"day:{day}", text, now, plan.incident_id, data)


def _ids(reminder: Reminder) -> tuple[str, str]:
    return reminder.subject, reminder.kind
