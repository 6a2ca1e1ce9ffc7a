"""Engagement by delivery cohort: of the messages delivered in a minute, how many were opened
(by a person) or clicked within a fixed lag of their delivery.

Opens trail deliveries by minutes to days, so "opens per delivered" in the same window
compares unlike things (after a blast, deliveries are in and opens are not). A cohort is
compared only once it is `lag` minutes old, and only with engagement that came within
`lag` of delivery: like with like, whatever the sending pattern. Apple machine opens are
not engagement. A message's first engagement counts; its pending entry is then dropped.
Cohorts are kept in memory per (sending_domain:mailbox_provider) and mailbox provider.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from mailwarden.events.model import Event
from mailwarden.metrics.rollup import DOMAIN_PROVIDER, MAILBOX_PROVIDER, ScopeKey, is_machine_open

DELIVERED, ENGAGED = 0, 1
CohortRow = list[int]
Cell = tuple[str | None, str]  # (sending domain, mailbox provider)
WINDOWS: Final = (60, 240)
# a delivery's pending entry (minute, cell) and its fresh cohort row (None: judged already)
_Delivered = tuple[tuple[int, Cell], CohortRow | None]


class CohortKey:
    """The matured cohorts of one key: per delivery minute and hour, with window sums."""

    __slots__ = ("first_hour", "hours", "minutes", "sums")

    def __init__(self) -> None:
        self.minutes: dict[int, CohortRow] = {}
        self.hours: dict[int, CohortRow] = {}
        self.sums: dict[int, CohortRow] = {w: [0, 0] for w in WINDOWS}
        self.first_hour: int | None = None  # the earliest cohort this process has seen


class CohortBook:
    """Tracks delivered messages until they engage or age past the lag; matures cohorts."""

    def __init__(self, lag_minutes: int = 60, hour_horizon: int = 24 * 8) -> None:
        self.lag = lag_minutes
        # message -> (delivery minute, cell); an entry delivered before _expired_before is
        # gone (its cohort has matured), and swept out of the dict once an hour
        self._pending: dict[str, tuple[int, Cell]] = {}
        self._expired_before: int | None = None
        # delivery minute -> cell -> [delivered, engaged], not yet matured
        self._fresh: dict[int, dict[Cell, CohortRow]] = {}
        self.keys: dict[ScopeKey, CohortKey] = {}
        self.matured_through: int | None = None
        self._hour_horizon = hour_horizon

    def add(self, events: Iterable[Event]) -> None:
        """Note deliveries, and first opens or clicks that came within the lag."""
        pending, lag = self._pending, self.lag
        minutes: dict[datetime, int] = {}  # a batch shares few distinct times
        # (time, domain, provider) -> the pending entry and fresh row its deliveries share
        cohorts: dict[tuple[datetime, str | None, str], _Delivered] = {}
        for event in events:
            kind = event.type
            if kind == "delivered":
                message = event.message_id
                if message is None:
                    continue
                probe = (event.occurred_at, event.sending_domain, event.mailbox_provider)
                entry, row = cohorts.get(probe) or self._cohort(probe, minutes, cohorts)
                if row is not None:  # None: reported after its cohort was judged, left out
                    pending[message] = entry
                    row[DELIVERED] += 1
            elif kind == "opened" or kind == "clicked":
                message = event.message_id
                found = pending.get(message) if message is not None else None
                if found is None or (kind == "opened" and is_machine_open(event)):
                    continue
                del pending[message]  # type: ignore[arg-type]
                if self._expired_before is not None and found[0] < self._expired_before:
                    continue  # its cohort has matured: too late to count
                if _minute(event.occurred_at, minutes) - found[0] <= lag:
                    _row(self._fresh, found[0], found[1])[ENGAGED] += 1

    def _cohort(
        self,
        probe: tuple[datetime, str | None, str],
        minutes: dict[datetime, int],
        cohorts: dict[tuple[datetime, str | None, str], _Delivered],
    ) -> _Delivered:
        at, domain, provider = probe
        minute = _minute(at, minutes)
        expired = self._expired_before
        cell = (domain, provider)
        if expired is not None and minute < expired:
            found: _Delivered = ((minute, cell), None)
        else:
            found = ((minute, cell), _row(self._fresh, minute, cell))
        cohorts[probe] = found
        return found

    def mature(self, through: int) -> int | None:
        """Fold cohorts at least `lag` minutes old by `through` into the keys; return the last."""
        last = through - self.lag
        old = self.matured_through
        if old is not None and last <= old:
            return old
        self._expired_before = last - 1
        for minute in sorted(m for m in self._fresh if m <= last):
            self._fold(minute, self._fresh.pop(minute), old)
        self.matured_through = last
        for cohort in self.keys.values():
            _slide(cohort, old, last)
        return last

    def _fold(self, minute: int, cells: dict[Cell, CohortRow], old: int | None) -> None:
        for (domain, provider), row in cells.items():
            for key in _keys(domain, provider):
                for slot in (DELIVERED, ENGAGED):
                    if row[slot]:
                        self._add(key, minute, slot, row[slot], old)

    def _add(self, key: ScopeKey, minute: int, slot: int, count: int, old: int | None) -> None:
        cohort = self.keys.get(key)
        if cohort is None:
            cohort = self.keys[key] = CohortKey()
        cohort.minutes.setdefault(minute, [0, 0])[slot] += count
        cohort.hours.setdefault(minute // 60, [0, 0])[slot] += count
        if cohort.first_hour is None or minute // 60 < cohort.first_hour:
            cohort.first_hour = minute // 60
        if old is not None and minute <= old:  # a straggler: already-slid window
            for window, sums in cohort.sums.items():
                if minute > old - window:
                    sums[slot] += count

    def waiting(self) -> int:
        """Deliveries held in memory, waiting for a first open or click."""
        return len(self._pending)

    def prune(self, through: int) -> None:
        """Forget expired deliveries, and cohort minutes and hours that no window or baseline
        needs any more."""
        expired = self._expired_before
        if expired is not None:
            _forget_expired(self._pending, expired)
        oldest_minute = through - self.lag - max(WINDOWS) - 1
        oldest_hour = through // 60 - self._hour_horizon
        for cohort in self.keys.values():
            for minute in [m for m in cohort.minutes if m < oldest_minute]:
                del cohort.minutes[minute]
            for hour in [h for h in cohort.hours if h < oldest_hour]:
                del cohort.hours[hour]


def _forget_expired(pending: dict[str, tuple[int, Cell]], expired: int) -> None:
    """Drop deliveries older than `expired` from the front of the arrival order, up to the
    first that is not: a late delivery behind it waits for a later prune (harmless, as the
    minute is checked on open), and a prune costs what it drops, not what is held."""
    stale = []
    for message, (minute, _cell) in pending.items():
        if minute >= expired:
            break
        stale.append(message)
    for message in stale:
        del pending[message]


def _minute(at: datetime, minutes: dict[datetime, int]) -> int:
    minute = minutes.get(at)
    if minute is None:
        minute = minutes[at] = int(at.timestamp()) // 60
    return minute


def _row(fresh: dict[int, dict[Cell, CohortRow]], minute: int, cell: Cell) -> CohortRow:
    cells = fresh.get(minute)
    if cells is None:
        cells = fresh[minute] = {}
    row = cells.get(cell)
    if row is None:
        row = cells[cell] = [0, 0]
    return row


def _keys(domain: str | None, provider: str) -> list[ScopeKey]:
    keys: list[ScopeKey] = [(MAILBOX_PROVIDER, provider)]
    if domain:
        keys.append((DOMAIN_PROVIDER, f"{domain}:{provider}"))
    return keys


def _slide(cohort: CohortKey, old: int | None, last: int) -> None:
    minutes = cohort.minutes
    if old is None or last - old > max(WINDOWS):
        for window in WINDOWS:
            rows = [minutes[m] for m in range(last - window + 1, last + 1) if m in minutes]
            cohort.sums[window] = [sum(r[0] for r in rows), sum(r[1] for r in rows)]
        return
    for minute in range(old + 1, last + 1):
        entering = minutes.get(minute)
        for window, sums in cohort.sums.items():
            leaving = minutes.get(minute - window)
            if entering is not None:
                sums[0] += entering[0]
                sums[1] += entering[1]
            if leaving is not None:
                sums[0] -= leaving[0]
                sums[1] -= leaving[1]
