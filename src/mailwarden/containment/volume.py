"""Normal sending volume for warm-up plans, from the detection engineer's per-minute rollups.

Normal is the median sends per minute over the minutes the scope was sending in the week
before (bursty campaigns are judged by their sending rate, not their weekly average). Per
mailbox provider: a sending domain has its own per-provider rollups; other scopes take the
providers' share of all sends in the same week.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final, Protocol

from mailwarden.actions.gate_records import ALL

SEND_METRICS: Final = ("queued", "delivered")
_DIMENSION: Final = {
    "all": "overall",
    "campaign": "campaign",
    "sending_domain": "sending_domain",
    "mailbox_provider": "mailbox_provider",
    "sending_ip": "sending_ip",
}


class SendCounts(Protocol):
    """Non-zero per-minute counters by key of one dimension over a minute range."""

    def by_key(
        self, dimension: str, metric: str, since_minute: int, until_minute: int
    ) -> dict[str, list[int]]:
        """Per key: the non-zero per-minute counts."""
        ...


class RollupVolume:
    """NormalVolume over the rollups: median sends/minute while sending, per provider."""

    def __init__(self, counts: SendCounts, window: timedelta = timedelta(days=7)) -> None:
        self._counts = counts
        self._minutes = int(window.total_seconds() // 60)

    def per_minute(self, scope: str, key: str, before: datetime) -> Mapping[str, float] | None:
        """Sends per minute by provider (ALL for the scope); None without history."""
        dimension = _DIMENSION.get(scope)
        if dimension is None:
            return None
        until = int(before.timestamp()) // 60
        since = until - self._minutes
        for metric in SEND_METRICS:
            minutes = self._counts.by_key(dimension, metric, since, until).get(
                "*" if scope == "all" else key, []
            )
            if minutes:
                overall = float(statistics.median(minutes))
                split = self._split(scope, key, overall, metric, since, until)
                return {ALL: overall, **split}
        return None

    def _split(
        self, scope: str, key: str, overall: float, metric: str, since: int, until: int
    ) -> dict[str, float]:
        if scope == "mailbox_provider":
            return {key: overall}
        if scope == "sending_domain":
            rows = self._counts.by_key("sending_domain:mailbox_provider", metric, since, until)
            prefix = f"{key}:"
            return {
                name.removeprefix(prefix): float(statistics.median(values))
                for name, values in rows.items()
                if name.startswith(prefix) and values
            }
        totals = {
            name: sum(values)
            for name, values in self._counts.by_key(
                "mailbox_provider", metric, since, until
            ).items()
        }
        whole = sum(totals.values())
        if not whole:
            return {}
        return {name: overall * count / whole for name, count in totals.items() if count}
