"""Baselines: what a rate or a volume normally is for a key, robust to incidents in its history.

Rates: the pooled rate over the trailing week of hours (the last two hours left out, hours
with an open finding left out, and hours that are extreme against the pooled rate dropped),
shrunk towards the parent key's rate as a beta prior worth about ten events, so a new key
borrows its parent's rate (campaign -> sending domain -> overall; sending domain at a
mailbox provider -> that provider; overall -> a global default) and learns its own as data
comes in.

Volumes are in metrics/volume.py; engagement (delivery cohorts) is at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from mailwarden.metrics.counters import RATES, denominator
from mailwarden.metrics.rollup import (
    ALL_KEY,
    CAMPAIGN,
    DOMAIN_PROVIDER,
    MAILBOX_PROVIDER,
    OVERALL,
    SENDING_DOMAIN,
    ScopeKey,
)
from mailwarden.metrics.series import KeySeries, SeriesBook
from mailwarden.metrics.stats import log_binom_cdf, log_binom_sf

# Sane global rates for a sender with no history at all.
DEFAULT_RATES: Final = {
    "hard_bounce": 0.005,
    "block": 0.002,
    "deferral": 0.02,
    "delivery": 0.97,
    "complaint": 0.0005,
    "unsubscribe": 0.002,
}
HISTORY_HOURS: Final = 24 * 7
RECENT_HOURS_LEFT_OUT: Final = 2
ENGAGEMENT_HOURS_LEFT_OUT: Final = 3
PRIOR_EVENTS: Final = 10.0
_OUTLIER_LOG_P: Final = math.log(1e-4)
_LOW_LOG_P: Final = math.log(1e-3)

# key -> rate -> hours to leave out of its history (hours with an open finding)
Excluded = Callable[[ScopeKey], Mapping[str, set[int]]]
_NOTHING: Final[Mapping[str, set[int]]] = {}


@dataclass(frozen=True, slots=True)
class RateBaseline:
    """A key's expected rate, how much history it rests on, and where it came from."""

    rate: float
    history: int
    source: str
    events: int = 0  # numerator events in the history it rests on


def prior_weight(rate: float) -> float:
    """Pseudo-trials a parent's rate is worth as a prior: about ten events' worth."""
    tail = min(rate, 1.0 - rate)
    return min(200_000.0, max(500.0, PRIOR_EVENTS / max(tail, 1e-9)))


def parent_of(key: ScopeKey, parents: dict[str, str]) -> ScopeKey | None:
    """The key whose rate a key borrows when it has little history of its own."""
    dimension, name = key
    if dimension == OVERALL:
        return None
    if dimension == CAMPAIGN:
        domain = parents.get(name)
        return (SENDING_DOMAIN, domain) if domain else (OVERALL, ALL_KEY)
    if dimension == DOMAIN_PROVIDER:
        return (MAILBOX_PROVIDER, name.rsplit(":", 1)[-1])
    return (OVERALL, ALL_KEY)


def pooled(pairs: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Sum (numerator, denominator) pairs, dropping those extreme against the pooled rate."""
    kept = [(x, n) for x, n in pairs if n > 0]
    total_x = sum(x for x, _ in kept)
    total_n = sum(n for _, n in kept)
    if total_n == 0 or total_x == 0:
        return total_x, total_n
    ceiling = min(0.999, 3.0 * total_x / total_n)
    for x, n in kept:
        if x >= 5 and x > ceiling * n and log_binom_sf(x, n, ceiling) < _OUTLIER_LOG_P:
            total_x -= x
            total_n -= n
    return total_x, total_n


REFRESH_HOURS: Final = 3


class RateBaselines:
    """Per-key rate baselines, recomputed every few hours per key (rates move slowly)."""

    def __init__(self, book: SeriesBook, excluded: Excluded | None = None) -> None:
        self._book = book
        self._excluded = excluded or (lambda _key: _NOTHING)
        self._cache: dict[ScopeKey, tuple[int, dict[str, RateBaseline]]] = {}

    def get(self, key: ScopeKey, rate: str, hour: int) -> RateBaseline:
        """The baseline of one rate for one key as of an hour."""
        return self.all(key, hour)[rate]

    def all(self, key: ScopeKey, hour: int) -> dict[str, RateBaseline]:
        """Every rate's baseline for one key as of an hour."""
        hour -= hour % REFRESH_HOURS
        cached = self._cache.get(key)
        if cached is not None and cached[0] == hour:
            return cached[1]
        parent = parent_of(key, self._book.parents)
        priors = self.all(parent, hour) if parent is not None else None
        computed = self._compute(key, hour, priors)
        self._cache[key] = (hour, computed)
        return computed

    def _compute(
        self, key: ScopeKey, hour: int, priors: dict[str, RateBaseline] | None
    ) -> dict[str, RateBaseline]:
        series = self._book.get(key)
        history = _history(series, hour, self._excluded(key))
        out: dict[str, RateBaseline] = {}
        for rate in RATES:
            prior_rate = priors[rate].rate if priors else DEFAULT_RATES[rate]
            source = f"parent {priors[rate].source}" if priors else "global default"
            x, n = pooled(history[rate])
            weight = prior_weight(prior_rate)
            estimate = (x + weight * prior_rate) / (n + weight)
            label = f"{key[0]}={key[1]} ({n} trials)" if n else source
            out[rate] = RateBaseline(estimate, n, label if n >= weight else source)
        return out


def _history(
    series: KeySeries | None, hour: int, excluded: Mapping[str, set[int]]
) -> dict[str, list[tuple[int, int]]]:
    history: dict[str, list[tuple[int, int]]] = {rate: [] for rate in RATES}
    if series is None:
        return history
    specs = [(history[rate], slot, rate, excluded.get(rate)) for rate, (slot, _) in RATES.items()]
    for when, row in series.hour_rows(hour - HISTORY_HOURS, hour - RECENT_HOURS_LEFT_OUT):
        for pairs, slot, rate, skip in specs:
            if skip and when in skip:
                continue
            n = denominator(rate, row)
            if n:
                pairs.append((min(row[slot], n), n))
    return history


DEFAULT_ENGAGED: Final = 0.06


def engagement_baseline(
    hours: dict[int, list[int]],
    hour: int,
    prior_rate: float = DEFAULT_ENGAGED,
    excluded: set[int] | None = None,
) -> RateBaseline:
    """The engaged-within-lag share of delivered mail, from the trailing week of cohorts."""
    skip = excluded or set()
    pairs = [
        (row[1], row[0])
        for when, row in hours.items()
        if hour - HISTORY_HOURS <= when <= hour - ENGAGEMENT_HOURS_LEFT_OUT and when not in skip
    ]
    x, n = _pooled_low(pairs)
    weight = prior_weight(prior_rate)
    source = f"own cohorts ({n} delivered)" if n >= weight else "prior"
    return RateBaseline((x + weight * prior_rate) / (n + weight), n, source, x)


def _pooled_low(pairs: list[tuple[int, int]]) -> tuple[int, int]:
    """Pool (engaged, delivered) pairs, dropping hours far *below* the pooled rate."""
    total_x = sum(x for x, _ in pairs)
    total_n = sum(n for _, n in pairs)
    if total_n == 0:
        return 0, 0
    floor = 0.5 * total_x / total_n
    for x, n in pairs:
        if n >= 100 and x < floor * n and log_binom_cdf(x, n, floor) < _LOW_LOG_P:
            total_x -= x
            total_n -= n
    return total_x, total_n
