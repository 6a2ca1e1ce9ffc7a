"""The names of the counters the rollups keep as columns (no database code: the domain's
counter slots take their order from here)."""

from __future__ import annotations

from typing import Final

# The counters every event adds to (its type, bounce class, ...), in the order detection
# keeps them (metrics/counters.py): one column each in rollup_counts, a metric's dots
# written as underscores. Adding one takes a migration.
COUNTER_METRICS: Final = (
    "queued",
    "delivered",
    "deferred",
    "deferred.first",
    "bounced",
    "bounced.hard",
    "bounced.soft",
    "bounced.block",
    "bounced.undetermined",
    "dropped",
    "complained",
    "unsubscribed",
    "opened",
    "opened.machine",
    "clicked",
)


def counter_column(metric: str) -> str:
    """The rollup_counts column of a counter metric."""
    return metric.replace(".", "_")
