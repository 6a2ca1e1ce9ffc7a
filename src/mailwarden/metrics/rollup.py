"""Roll a batch of events up into per-minute counters per dimension and key.

A batch is first aggregated by the event's *cell*: (minute, sending domain, campaign,
mailbox provider, sending IP) -> a row of core counters, one dict lookup and one or two
increments per event; bounce and deferral reasons, rare, are counted beside it. Only the
distinct cells are then expanded into the six dimensions, which keeps the per-event cost of
detection small.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import add
from typing import Final

from mailwarden.events.model import Event
from mailwarden.metrics.counters import (
    BLOCK,
    BOUNCED,
    CLICKED,
    COMPLAINED,
    DEFERRED,
    DEFERRED_FIRST,
    DELIVERED,
    DROPPED,
    HARD,
    MACHINE_OPENED,
    OPENED,
    QUEUED,
    SOFT,
    UNDETERMINED,
    UNSUBSCRIBED,
    WIDTH,
    Row,
)

OVERALL: Final = "overall"
SENDING_DOMAIN: Final = "sending_domain"
CAMPAIGN: Final = "campaign"
MAILBOX_PROVIDER: Final = "mailbox_provider"
SENDING_IP: Final = "sending_ip"
DOMAIN_PROVIDER: Final = "sending_domain:mailbox_provider"
ALL_KEY: Final = "*"

# (minute, sending_domain, campaign, mailbox_provider, sending_ip)
Cell = tuple[int, str | None, str | None, str, str | None]
ScopeKey = tuple[str, str]

_PLAIN: Final = {
    "queued": QUEUED,
    "delivered": DELIVERED,
    "dropped": DROPPED,
    "complained": COMPLAINED,
    "unsubscribed": UNSUBSCRIBED,
    "clicked": CLICKED,
}
_CLASS_SLOT: Final = {"hard": HARD, "soft": SOFT, "block": BLOCK, "undetermined": UNDETERMINED}
_TRUE: Final = (True, "true", "True", 1, "1")
_FIRST: Final = (None, 0, 1, "0", "1")


def is_machine_open(event: Event) -> bool:
    """True for an open that a machine made (Apple MPP prefetch), not a person."""
    extra = event.extra
    if not extra:
        return False
    return extra.get("machine_open") in _TRUE or extra.get("sg_machine_open") in _TRUE


@dataclass(slots=True)
class RollupBatch:
    """A batch aggregated by cell: core counters per cell, reason counters beside them."""

    cells: dict[Cell, Row] = field(default_factory=dict)
    reasons: Counter[tuple[Cell, str]] = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return bool(self.cells)

    @property
    def first_minute(self) -> int:
        """The earliest minute in the batch."""
        return min(cell[0] for cell in self.cells)


def aggregate(events: Iterable[Event]) -> RollupBatch:
    """Count a batch's events by cell (their minute and keys)."""
    batch = RollupBatch()
    cells = batch.cells
    plain = _PLAIN
    minutes: dict[datetime, int] = {}  # a batch shares few distinct times
    for event in events:
        kind = event.type
        slot = plain.get(kind)
        if slot is None and kind not in ("bounced", "deferred", "opened"):
            continue
        at = event.occurred_at
        minute = minutes.get(at)
        if minute is None:
            minute = minutes[at] = int(at.timestamp()) // 60
        cell = (
            minute,
            event.sending_domain,
            event.campaign,
            event.mailbox_provider,
            event.sending_ip,
        )
        row = cells.get(cell)
        if row is None:
            row = cells[cell] = [0] * WIDTH
        if slot is not None:
            row[slot] += 1
        elif kind == "opened":
            row[OPENED] += 1
            if event.extra and is_machine_open(event):
                row[MACHINE_OPENED] += 1
        else:
            _bounce(event, kind, cell, row, batch.reasons)
    return batch


def _bounce(
    event: Event, kind: str, cell: Cell, row: Row, reasons: Counter[tuple[Cell, str]]
) -> None:
    bounce = event.bounce
    reason = bounce.reason if bounce is not None else "undefined"
    if kind == "bounced":
        row[BOUNCED] += 1
        bounce_class = bounce.bounce_class if bounce is not None else "undetermined"
        row[_CLASS_SLOT.get(bounce_class, UNDETERMINED)] += 1
        reasons[(cell, "bounced.reason." + reason)] += 1
        return
    row[DEFERRED] += 1
    if not event.extra or event.extra.get("attempt", 1) in _FIRST:
        row[DEFERRED_FIRST] += 1
    reasons[(cell, "deferred.reason." + reason)] += 1


@lru_cache(maxsize=8192)
def scope_keys(
    domain: str | None, campaign: str | None, provider: str, ip: str | None
) -> tuple[ScopeKey, ...]:
    """The (dimension, key) pairs an event with these attributes belongs to."""
    keys: list[ScopeKey] = [(OVERALL, ALL_KEY), (MAILBOX_PROVIDER, provider)]
    if domain:
        keys.append((SENDING_DOMAIN, domain))
        keys.append((DOMAIN_PROVIDER, f"{domain}:{provider}"))
    if campaign:
        keys.append((CAMPAIGN, campaign))
    if ip:
        keys.append((SENDING_IP, ip))
    return tuple(keys)


def by_key(batch: RollupBatch) -> dict[tuple[ScopeKey, int], Row]:
    """The batch's rows summed per (key, minute)."""
    out: dict[tuple[ScopeKey, int], Row] = {}
    for (minute, domain, campaign, provider, ip), row in batch.cells.items():
        counts = [(slot, count) for slot, count in enumerate(row) if count]
        for key in scope_keys(domain, campaign, provider, ip):
            total = out.get((key, minute))
            if total is None:
                out[(key, minute)] = list(row)
            else:
                for slot, count in counts:
                    total[slot] += count
    return out


class PendingCounts:
    """Rollup counts not yet written: summed rows per (key, minute), reason counts beside."""

    __slots__ = ("reasons", "rows")

    def __init__(self) -> None:
        self.rows: dict[tuple[ScopeKey, int], Row] = {}
        self.reasons: Counter[tuple[ScopeKey, int, str]] = Counter()

    def __len__(self) -> int:
        return len(self.rows) + len(self.reasons)

    def add(self, batch: RollupBatch, rows: dict[tuple[ScopeKey, int], Row]) -> None:
        """Add a batch's rows per key and minute (kept, not copied: `rows` must be the
        caller's to give away) and its reason counts."""
        pending = self.rows
        for at, row in rows.items():
            total = pending.get(at)
            if total is None:
                pending[at] = row
            else:
                total[:] = map(add, total, row)
        reasons = self.reasons
        for ((minute, domain, campaign, provider, ip), metric), count in batch.reasons.items():
            for key in scope_keys(domain, campaign, provider, ip):
                reasons[(key, minute, metric)] += count

    def vectors(self) -> list[tuple[int | str, ...]]:
        """Every (key, minute) as a (minute, dimension, key, count per slot) store vector."""
        return [
            (minute, dimension, key, *row) for ((dimension, key), minute), row in self.rows.items()
        ]

    def reason_rows(self) -> list[tuple[int, str, str, str, int]]:
        """Every reason count as a (minute, dimension, key, metric, count) store row."""
        return [
            (minute, dimension, key, metric, count)
            for ((dimension, key), minute, metric), count in self.reasons.items()
        ]
