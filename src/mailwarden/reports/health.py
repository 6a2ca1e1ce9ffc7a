"""Sending health for the console: each sending domain at each mailbox provider, its rates over
the last hour and day against its baseline and the policy lines, with an hourly sparkline.

Rates use the one definition in metrics/counters.py (RATES). The baseline is the pooled
median of the daily rates over the trailing week, the last two hours left out, so an
incident earlier in the week does not make its own rates look normal.
Everything is read from the rollups through HourlyRollups; nothing scans events.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final

from mailwarden.detect.policy import METRIC_RATES, Policy
from mailwarden.metrics.counters import (
    DELIVERED,
    MACHINE_OPENED,
    OPENED,
    Row,
    add_into,
    attempts,
    empty_row,
    rate_counts,
)
from mailwarden.metrics.rollup import DOMAIN_PROVIDER, OVERALL, SENDING_DOMAIN
from mailwarden.reports.hourly import HOUR, HourlyRollups, HourRows, ScopeKey

# (rate name, label, True when a higher value is worse)
OVERVIEW_RATES: Final = (
    ("delivery", "Delivered", False),
    ("hard_bounce", "Hard bounce", True),
    ("block", "Blocked", True),
    ("deferral", "Deferred", True),
    ("complaint", "Complaints", True),
    ("open", "Opens", False),
)
SPARK_HOURS: Final = 24
BASELINE_HOURS: Final = 7 * 24
LEFT_OUT_HOURS: Final = 2
FINE_SPAN_MINUTES: Final = 8 * 60
FINE_BUCKET: Final = 5
MIN_TRIALS: Final = 50
DEVIATION_MIN_TRIALS: Final = 200
DEVIATION_MIN_COUNT: Final = 5
SPARK_MIN_TRIALS: Final = 10  # fewer trials than this: the rate is shown but not judged
DELIVERY_DROP: Final = 0.05
LAGGING: Final = frozenset({"open"})


@dataclass(frozen=True, slots=True)
class RateCell:
    """One rate of one scope: last hour, last day, baseline, policy lines and a verdict."""

    name: str
    label: str
    hour: float | None
    day: float | None
    baseline: float | None
    warning: float | None
    critical: float | None
    status: str  # ok, warning, critical, quiet
    spark: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class ScopeHealth:
    """The health of one scope (the whole of a domain, or a domain at one provider)."""

    dimension: str
    key: str
    domain: str
    provider: str | None
    sent_hour: int
    sent_day: int
    cells: tuple[RateCell, ...]

    @property
    def status(self) -> str:
        """The worst verdict among its rates."""
        return worst(cell.status for cell in self.cells)


@dataclass(frozen=True, slots=True)
class DomainHealth:
    """A sending domain's total and its mailbox providers."""

    total: ScopeHealth
    providers: tuple[ScopeHealth, ...]


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The overview's sending-health table."""

    at: datetime
    spark_hours: tuple[datetime, ...]
    domains: tuple[DomainHealth, ...]
    overall: ScopeHealth | None

    @property
    def empty(self) -> bool:
        """True when no mail was seen in the last day."""
        return not self.domains and (self.overall is None or not self.overall.sent_day)


def worst(statuses: Iterable[str]) -> str:
    """The most serious of some verdicts."""
    order = ("critical", "warning", "ok", "quiet")
    found = set(statuses)
    return next((status for status in order if status in found), "quiet")


Reading = tuple[float | None, int]  # a rate and its denominator


def rate(name: str, row: Sequence[int] | None) -> Reading:
    """A named rate of a row and its denominator (None when there is none)."""
    if row is None:
        return None, 0
    if name == "open":  # opens by people (not Apple's prefetch) per delivered, at most all
        trials = row[DELIVERED]
        numerator = min(trials, max(0, row[OPENED] - row[MACHINE_OPENED]))
    else:
        numerator, trials = rate_counts(name, row)
    return (numerator / trials if trials else None), trials


@dataclass(frozen=True, slots=True)
class Lines:
    """The policy's lines for one rate on one kind of scope, and the evidence they need."""

    warning: float | None
    critical: float | None
    min_volume: int
    min_count: int


def policy_lines(policy: Policy, dimension: str, provider: str | None) -> dict[str, Lines]:
    """The lines per rate that the policy draws for such a scope (lowest of each severity)."""
    watched = {dimension}
    if dimension == DOMAIN_PROVIDER:  # a provider's slice of a domain keeps the domain's lines
        watched |= {SENDING_DOMAIN}
    lines: dict[str, Lines] = {}
    for rule in policy.active():
        if not watched & set(rule.dimensions):
            continue
        if rule.mailbox_provider is not None and rule.mailbox_provider != provider:
            continue
        name = METRIC_RATES[rule.metric]
        found = lines.get(name, Lines(None, None, rule.min_volume, rule.min_count))
        for level in rule.levels:
            if level.severity == "critical":
                found = replace(found, critical=_lowest(found.critical, level.rate))
            else:
                found = replace(found, warning=_lowest(found.warning, level.rate))
        lines[name] = replace(
            found,
            min_volume=min(found.min_volume, rule.min_volume),
            min_count=min(found.min_count, rule.min_count),
        )
    return lines


def judge(
    name: str,
    worse_high: bool,
    readings: Sequence[Reading],
    baseline: float | None,
    lines: Lines | None,
) -> str:
    """The verdict on a rate from its (value, trials) readings, baseline and policy lines.

    A policy line counts only with the volume and count its rule asks for; "far from normal"
    needs DEVIATION_MIN_TRIALS trials (and DEVIATION_MIN_COUNT events when rising), so a
    single bounce in a quiet hour is not a warning.
    """
    known = [(v, n) for v, n in readings if v is not None and n >= MIN_TRIALS]
    if not known:
        return "quiet"
    if lines is not None and worse_high:
        credible = [v for v, n in known if n >= lines.min_volume and v * n >= lines.min_count]
        if lines.critical is not None and any(v >= lines.critical for v in credible):
            return "critical"
        if lines.warning is not None and any(v >= lines.warning for v in credible):
            return "warning"
    big = [(v, n) for v, n in known if n >= DEVIATION_MIN_TRIALS]
    if baseline is None or not big:
        return "ok"
    if worse_high:  # well above normal: three times the baseline (and not a hair's breadth)
        high = max(3 * baseline, baseline + 0.002)
        off = any(v > high and v * n >= DEVIATION_MIN_COUNT for v, n in big)
    elif name == "delivery":  # five points below normal
        off = any(v < baseline - DELIVERY_DROP for v, _ in big)
    else:  # opens: half of normal
        off = any(v < baseline / 2 for v, _ in big)
    return "warning" if off else "ok"


def _lowest(current: float | None, candidate: float) -> float:
    return candidate if current is None else min(current, candidate)


@dataclass(frozen=True, slots=True)
class ScopeSeries:
    """One scope's core counters per time bucket (bucket starts are epoch minutes)."""

    bucket_minutes: int
    starts: tuple[int, ...]
    rows: tuple[Row | None, ...]

    def rates(self, name: str) -> list[float | None]:
        """A named rate per bucket (None where nothing was attempted or delivered)."""
        return [rate(name, row)[0] for row in self.rows]


def _sparse(reading: tuple[float | None, int]) -> float | None:
    """A sparkline point, or None for an hour with too little mail to mean anything."""
    value, trials = reading
    return value if trials >= SPARK_MIN_TRIALS else None


class HealthBoard:
    """Builds the sending-health table from hourly rollups and the detection policy."""

    def __init__(self, hourly: HourlyRollups, policy: Policy) -> None:
        self.hourly = hourly
        self.policy = policy

    def report(self, now: datetime) -> HealthReport:
        """The table as of now."""
        now_minute = int(now.timestamp()) // 60
        current = now_minute // HOUR
        first = current - BASELINE_HOURS - LEFT_OUT_HOURS
        hours = self.hourly.hours(first, current, now_minute)
        last_hour = self.hourly.trailing(HOUR, now_minute)
        view = _View(hours, last_hour, current, self.policy)
        domains = tuple(
            sorted(
                (
                    DomainHealth(view.scope(SENDING_DOMAIN, domain), view.providers_of(domain))
                    for domain in view.domains()
                ),
                key=lambda d: (-d.total.sent_day, d.total.key),
            )
        )
        spark = tuple(
            datetime.fromtimestamp(h * 3600, UTC)
            for h in range(current - SPARK_HOURS + 1, current + 1)
        )
        overall = view.scope(OVERALL, "*") if view.has((OVERALL, "*")) else None
        return HealthReport(now, spark, domains, overall)

    def series(self, scope: ScopeKey, start: datetime, end: datetime, now: datetime) -> ScopeSeries:
        """A scope's counters from start to end: 5-minute buckets up to FINE_SPAN, else hourly."""
        first = int(start.timestamp()) // 60
        last = int(end.timestamp()) // 60
        if last - first <= FINE_SPAN_MINUTES:
            bucket = FINE_BUCKET
            found = self.hourly.minutes(first - first % bucket, last + 1, bucket, scope)
            numbers = range(first // bucket, last // bucket + 1)
            rows = tuple(found.get(n) for n in numbers)
        else:
            bucket = HOUR
            numbers = range(first // HOUR, last // HOUR + 1)
            hours = self.hourly.hours(numbers.start, numbers.stop - 1, int(now.timestamp()) // 60)
            rows = tuple(hours.get(n, {}).get(scope) for n in numbers)
        return ScopeSeries(bucket, tuple(n * bucket for n in numbers), rows)


class _View:
    """The hourly rows of one report, read per scope."""

    def __init__(
        self, hours: dict[int, HourRows], last_hour: HourRows, current: int, policy: Policy
    ) -> None:
        self.hours = hours
        self.last_hour = last_hour
        self.current = current
        self.policy = policy
        self.day_hours = range(current - SPARK_HOURS + 1, current + 1)
        self._days: dict[ScopeKey, list[Row]] = {}
        self.base_hours = range(current - BASELINE_HOURS - LEFT_OUT_HOURS, current - LEFT_OUT_HOURS)

    def has(self, scope: ScopeKey) -> bool:
        """True when the scope had mail in the last day."""
        return any(scope in self.hours.get(h, {}) for h in self.day_hours)

    def domains(self) -> list[str]:
        """The sending domains with mail in the last day."""
        found = {
            key
            for h in self.day_hours
            for (dim, key) in self.hours.get(h, {})
            if dim == SENDING_DOMAIN
        }
        return sorted(found)

    def providers_of(self, domain: str) -> tuple[ScopeHealth, ...]:
        """A domain's mailbox providers, busiest first."""
        keys = {
            key
            for h in self.day_hours
            for (dim, key) in self.hours.get(h, {})
            if dim == DOMAIN_PROVIDER and key.rsplit(":", 1)[0] == domain
        }
        found = (self.scope(DOMAIN_PROVIDER, key) for key in keys)
        return tuple(sorted(found, key=lambda s: (-s.sent_day, s.key)))

    def scope(self, dimension: str, key: str) -> ScopeHealth:
        """The health of one scope."""
        scope = (dimension, key)
        provider = key.rsplit(":", 1)[1] if dimension == DOMAIN_PROVIDER else None
        domain = key.rsplit(":", 1)[0] if dimension == DOMAIN_PROVIDER else key
        hour_row = self.last_hour.get(scope)
        day_row = self._sum(scope, self.day_hours)
        lines = policy_lines(self.policy, dimension, provider)
        cells = tuple(
            self._cell(name, label, high, hour_row, day_row, scope, lines.get(name))
            for name, label, high in OVERVIEW_RATES
        )
        sent_hour = attempts(hour_row) if hour_row else 0
        return ScopeHealth(dimension, key, domain, provider, sent_hour, attempts(day_row), cells)

    def _cell(
        self,
        name: str,
        label: str,
        worse_high: bool,
        hour_row: Row | None,
        day_row: Row,
        scope: ScopeKey,
        lines: Lines | None,
    ) -> RateCell:
        hour = rate(name, hour_row)
        day = rate(name, day_row)
        baseline = self._baseline(name, scope)
        spark = tuple(_sparse(rate(name, self.hours.get(h, {}).get(scope))) for h in self.day_hours)
        # Opens trail deliveries by hours: the last hour always looks low, so judge the day.
        readings = (day,) if name in LAGGING else (hour, day)
        status = judge(name, worse_high, readings, baseline, lines)
        warning = lines.warning if lines else None
        critical = lines.critical if lines else None
        return RateCell(name, label, hour[0], day[0], baseline, warning, critical, status, spark)

    def _baseline(self, name: str, scope: ScopeKey) -> float | None:
        """The median of the daily rates over the baseline week: one bad day does not move it."""
        days = self._days.get(scope)
        if days is None:
            days = self._days[scope] = [
                self._sum(scope, self.base_hours[start : start + 24])
                for start in range(0, len(self.base_hours), 24)
            ]
        rates = sorted(
            value
            for value, trials in (rate(name, row) for row in days)
            if value is not None and trials >= MIN_TRIALS
        )
        return statistics.median(rates) if rates else None

    def _sum(self, scope: ScopeKey, hours: range) -> Row:
        total = empty_row()
        for hour in hours:
            row = self.hours.get(hour, {}).get(scope)
            if row is not None:
                add_into(total, row)
        return total
