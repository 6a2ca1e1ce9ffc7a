"""The counters kept per minute and dimension, and the one place that defines the denominators.

Every rollup row is a vector of core counters (by slot index below; in the store, a column
each) plus, stored apart, one counter per bounce/deferral reason. Rates divide a numerator
counter by a denominator:

* ``sends``: queued events, where the provider reports sends. What volume detection counts
  and what event silence compares outcomes with.
* ``attempts``: first delivery attempts with a known result: delivered + hard, block and
  undetermined bounces + first deferrals (a deferral whose ``extra.attempt`` is 1 or
  absent) + dropped. Soft bounces are left out: they end a retry chain whose first attempt
  already counted as a deferral. The denominator of hard-bounce, block, deferral and
  delivery rates ("per sent"): unlike queued events it is not minutes ahead of its
  numerators, exists for providers that report no sends, and is not inflated by the
  retries of earlier sends.
* ``reachable``: attempts less hard bounces and drops, i.e. attempts at addresses that
  exist. The delivery rate is delivered / reachable: whether receivers accept our mail
  (hard bounces are a list problem and have their own detector).
* ``delivered``: delivered events. The denominator of complaints, unsubscribes, opens and
  clicks (what recipients could act on); for complaints and unsubscribes, which come hours
  or days after delivery, detection weighs deliveries by that lag (metrics/exposure.py).
* ``engaged``: a delivered message opened by a person or clicked, within a lag of its
  delivery (metrics/cohorts.py). Machine opens (Apple Mail Privacy Protection's prefetch:
  SendGrid's ``sg_machine_open`` or ``extra.machine_open``) are counted apart and say
  nothing about where the mail landed.
* ``outcomes``: delivered + bounced + deferred + dropped; what the provider tells us back.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import add
from typing import Final

from mailwarden.store.rollup_metrics import COUNTER_METRICS

SLOTS: Final = COUNTER_METRICS  # a stored column each (store/rollup_metrics.py)
(
    QUEUED,
    DELIVERED,
    DEFERRED,
    DEFERRED_FIRST,
    BOUNCED,
    HARD,
    SOFT,
    BLOCK,
    UNDETERMINED,
    DROPPED,
    COMPLAINED,
    UNSUBSCRIBED,
    OPENED,
    MACHINE_OPENED,
    CLICKED,
) = range(len(SLOTS))
WIDTH: Final = len(SLOTS)
SLOT_OF: Final = {name: index for index, name in enumerate(SLOTS)}

Row = list[int]


def empty_row() -> Row:
    """A vector of zero counters."""
    return [0] * WIDTH


def sends(row: Sequence[int]) -> int:
    """Messages handed to the provider (queued events)."""
    return row[QUEUED]


def attempts(row: Sequence[int]) -> int:
    """First delivery attempts with a result (see the module docstring)."""
    return (
        row[DELIVERED]
        + row[HARD]
        + row[BLOCK]
        + row[UNDETERMINED]
        + row[DEFERRED_FIRST]
        + row[DROPPED]
    )


def reachable(row: Sequence[int]) -> int:
    """Attempts at addresses that exist: attempts less hard bounces and drops."""
    return row[DELIVERED] + row[BLOCK] + row[UNDETERMINED] + row[DEFERRED_FIRST]


def delivered(row: Sequence[int]) -> int:
    """Messages delivered."""
    return row[DELIVERED]


def outcomes(row: Sequence[int]) -> int:
    """Events that report what became of a send (delivered, bounced, deferred, dropped)."""
    return row[DELIVERED] + row[BOUNCED] + row[DEFERRED] + row[DROPPED]


def add_into(total: Row, row: Sequence[int]) -> None:
    """Add row into total, in place."""
    total[:] = map(add, total, row)


ATTEMPTS: Final = "attempts"
REACHABLE: Final = "reachable"
DELIVERIES: Final = "delivered"
_DENOMINATORS: Final = {ATTEMPTS: attempts, REACHABLE: reachable, DELIVERIES: delivered}
# rate name -> (numerator slot, denominator). The one definition every detector uses.
RATES: Final[dict[str, tuple[int, str]]] = {
    "hard_bounce": (HARD, ATTEMPTS),
    "block": (BLOCK, ATTEMPTS),
    "deferral": (DEFERRED_FIRST, ATTEMPTS),
    "delivery": (DELIVERED, REACHABLE),
    "complaint": (COMPLAINED, DELIVERIES),
    "unsubscribe": (UNSUBSCRIBED, DELIVERIES),
}


# rate name -> the counters whose new events can raise it (for delivery, down: the reachable
# attempts that were not delivered). A rate is tested again when one of them moves.
RISES_WITH: Final[dict[str, tuple[int, ...]]] = {
    "hard_bounce": (HARD,),
    "block": (BLOCK,),
    "deferral": (DEFERRED_FIRST,),
    "delivery": (BLOCK, UNDETERMINED, DEFERRED_FIRST),
    "complaint": (COMPLAINED,),
    "unsubscribe": (UNSUBSCRIBED,),
}
RISING_SLOTS: Final = tuple(sorted({slot for slots in RISES_WITH.values() for slot in slots}))
# rate name -> a bit mask of its RISES_WITH slots (bit `slot`); every bit set: any rate
RISING_MASKS: Final = {rate: sum(1 << slot for slot in slots) for rate, slots in RISES_WITH.items()}
ANY_RISE: Final = sum(1 << slot for slot in RISING_SLOTS)


def rising_mask(row: Sequence[int]) -> int:
    """The bits (1 << slot) of the RISING_SLOTS counters that are non-zero in a row."""
    mask = 0
    for slot in RISING_SLOTS:
        if row[slot]:
            mask |= 1 << slot
    return mask


def rate_counts(name: str, row: Sequence[int]) -> tuple[int, int]:
    """The (numerator, denominator) of a named rate in a row; the numerator never exceeds it."""
    slot, denominator = RATES[name]
    n = _DENOMINATORS[denominator](row)
    return min(row[slot], n), n


def denominator(name: str, row: Sequence[int]) -> int:
    """The denominator of a named rate in a row."""
    return _DENOMINATORS[RATES[name][1]](row)


def numerator(name: str, row: Sequence[int]) -> int:
    """The numerator of a named rate in a row."""
    return row[RATES[name][0]]
