"""Baselines: what a rate or a volume normally is for a key, robust to incidents in its history.

Rates: the pooled rate over the trailing week of hours (the last two hours left out, hours
with an open finding left out, and hours that are extreme against the pooled rate dropped),
shrunk towards the parent key's rate as a beta prior worth about ten events, so a new key
borrows its parent's rate (campaign -> sending domain -> overall; sending domain at a
mailbox provider -> that provider; overall -> a global default) and learns its own as data
comes in.

Volumes: sends per hour at this hour of the week (median over earlier weeks); without that,
at this hour of the day (median over earlier days); without that, the median of the
trailing hours.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from mailwarden.metrics.counters import ATTEMPTS, DELIVERED, RATES, Row, attempts, sends
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
PRIOR_EVENTS: Final = 10.0
_OUTLIER_LOG_P: Final = math.log(1e-4)
_WEEK_HOURS: Final = 24 * 7
WIDE_HOURS: Final = 3

# key -> rate -> hours to leave out of its history (hours with an open finding)
Excluded = Callable[[ScopeKey], Mapping[str, set[int]]]
_NOTHING: Final[Mapping[str, set[int]]] = {}


@dataclass(frozen=True, slots=True)
class RateBaseline:
    """A key's expected rate, how much history it rests on, and where it came from."""

    rate: float
    history: int
    source: str

    @property
    def prior_strength(self) -> float:
        """Pseudo-trials the estimate is worth (history plus the prior's weight)."""
        return self.history + prior_weight(self.rate)


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


class RateBaselines:
    """Per-key rate baselines, recomputed at most once per hour per key."""

    def __init__(self, book: SeriesBook, excluded: Excluded | None = None) -> None:
        self._book = book
        self._excluded = excluded or (lambda _key: _NOTHING)
        self._cache: dict[ScopeKey, tuple[int, dict[str, RateBaseline]]] = {}

    def get(self, key: ScopeKey, rate: str, hour: int) -> RateBaseline:
        """The baseline of one rate for one key as of an hour."""
        return self.all(key, hour)[rate]

    def all(self, key: ScopeKey, hour: int) -> dict[str, RateBaseline]:
        """Every rate's baseline for one key as of an hour."""
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
    specs = [
        (history[rate], slot, denominator == ATTEMPTS, excluded.get(rate))
        for rate, (slot, denominator) in RATES.items()
    ]
    for when, row in series.hour_rows(hour - HISTORY_HOURS, hour - RECENT_HOURS_LEFT_OUT):
        tried = attempts(row)
        got = row[DELIVERED]
        for pairs, slot, by_attempts, skip in specs:
            if skip and when in skip:
                continue
            n = tried if by_attempts else got
            if n:
                pairs.append((min(row[slot], n), n))
    return history


@dataclass(frozen=True, slots=True)
class VolumeBaseline:
    """Sends per hour usually seen around this hour: median, a robust high and a robust low."""

    median: float
    high: float
    low: float
    source: str
    samples: int


def volume_baseline(series: KeySeries, hour: int, min_samples: int = 3) -> VolumeBaseline | None:
    """Sends per hour at this hour of the week (earlier weeks) or of the day (earlier days).

    The same hour and its neighbours (one hour either side) on earlier days or weeks make
    the history of the median and the low (second smallest); the high (second largest) looks
    three hours either side, since scheduled blasts move by hours from day to day. Second
    largest and smallest, so one past incident in the history does not move them.
    """
    if series.first_minute is None:
        return None
    age_days = (hour - series.first_minute // 60) // 24
    if age_days >= 14:
        period, count, source = _WEEK_HOURS, min(age_days // 7, 4), "hour of week"
    else:
        period, count, source = 24, min(age_days, 7), "hour of day"
    values = [
        float(_sent_in(series, hour - period * k + shift))
        for k in range(1, count + 1)
        for shift in (-1, 0, 1)
    ]
    if len(values) < min_samples:
        return None
    wide = sorted(
        float(_sent_in(series, hour - period * k + shift))
        for k in range(1, count + 1)
        for shift in range(-WIDE_HOURS, WIDE_HOURS + 1)
    )
    values.sort()
    low = values[1] if len(values) >= 4 else values[0]
    high = wide[-2] if len(wide) >= 4 else wide[-1]
    return VolumeBaseline(statistics.median(values), high, low, source, len(values))


def _sent_in(series: KeySeries, hour: int) -> int:
    row: Row | None = series.hours.get(hour)
    return sends(row) if row is not None else 0


DEFAULT_ENGAGED: Final = 0.04


def engagement_baseline(
    hours: dict[int, list[int]], hour: int, prior_rate: float = DEFAULT_ENGAGED
) -> RateBaseline:
    """The engaged-within-lag share of delivered mail, from the trailing week of cohorts."""
    pairs = [
        (row[1], row[0])
        for when, row in hours.items()
        if hour - HISTORY_HOURS <= when <= hour - RECENT_HOURS_LEFT_OUT
    ]
    x, n = _pooled_low(pairs)
    weight = prior_weight(prior_rate)
    source = f"own cohorts ({n} delivered)" if n >= weight else "prior"
    return RateBaseline((x + weight * prior_rate) / (n + weight), n, source)


def _pooled_low(pairs: list[tuple[int, int]]) -> tuple[int, int]:
    """Pool (engaged, delivered) pairs, dropping hours far *below* the pooled rate."""
    total_x = sum(x for x, _ in pairs)
    total_n = sum(n for _, n in pairs)
    if total_n == 0:
        return 0, 0
    floor = 0.3 * total_x / total_n
    for x, n in pairs:
        if n >= 200 and x < floor * n and log_binom_cdf(x, n, floor) < _OUTLIER_LOG_P:
            total_x -= x
            total_n -= n
    return total_x, total_n
