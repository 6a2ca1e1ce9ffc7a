"""One evaluation pass: build each key's view from the in-memory state and run the detectors.

Pure of I/O: it reads the series, cohort and baseline state handed to it and returns
candidate findings; the engine decides what becomes of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from mailwarden.detect.early import early_check, ready
from mailwarden.detect.engagement import (
    ENGAGEMENT_SPEC,
    WARM_UP_HOURS,
    WARM_UP_SPEC,
    detect_engagement,
)
from mailwarden.detect.model import Finding, Scope
from mailwarden.detect.policy import Policy, detect_policy
from mailwarden.detect.providers import detect_provider
from mailwarden.detect.rates import DAY, RATE_RULES, detect_rate, detect_rates
from mailwarden.detect.silence import SilenceSpec, detect_silence
from mailwarden.detect.view import KeyView
from mailwarden.detect.volume import VolumeSpec, can_drop, detect_drop, detect_surge
from mailwarden.metrics.baseline import (
    DEFAULT_ENGAGED,
    RateBaseline,
    RateBaselines,
    engagement_baseline,
    parent_of,
)
from mailwarden.metrics.cohorts import CohortBook
from mailwarden.metrics.counters import QUEUED, attempts
from mailwarden.metrics.exposure import ExposureBook, PastExposure
from mailwarden.metrics.rollup import CAMPAIGN, DOMAIN_PROVIDER, MAILBOX_PROVIDER, ScopeKey
from mailwarden.metrics.series import KeySeries, SeriesBook, Windows
from mailwarden.metrics.volume import VolumeBaseline, volume_baseline

VOLUME_DIMENSIONS: Final = frozenset({"overall", "sending_domain", "sending_ip", "campaign"})
SURGE_DIMENSIONS: Final = frozenset({"overall", "sending_domain"})
SILENCE_DIMENSIONS: Final = frozenset({"overall", "sending_domain", "mailbox_provider"})
WATCHED_DIMENSIONS: Final = SILENCE_DIMENSIONS | SURGE_DIMENSIONS  # watched without bad events
LATE_KINDS: Final = frozenset({"complaint_rate", "unsubscribe_rate"})
NEW_CAMPAIGN_MINUTES: Final = 60
MIN_COHORT: Final = 100
MIN_ENGAGED_HISTORY: Final = 30


@dataclass(slots=True)
class Settings:
    """The knobs of an evaluation."""

    policy: Policy
    early_sends: int = 1000
    silence: SilenceSpec = field(default_factory=SilenceSpec)
    volume: VolumeSpec = field(default_factory=VolumeSpec)


@dataclass(slots=True)
class State:
    """Everything an evaluation reads: counters, cohorts, baselines, and per-key memory."""

    book: SeriesBook
    cohorts: CohortBook
    rates: RateBaselines
    exposure: ExposureBook = field(default_factory=ExposureBook)
    volumes: dict[tuple[ScopeKey, int], VolumeBaseline | None] = field(default_factory=dict)
    early_done: set[str] = field(default_factory=set)
    engagement: dict[ScopeKey, tuple[int, RateBaseline]] = field(default_factory=dict)
    # key -> rate -> hours with an open finding, left out of that rate's baseline
    flagged: dict[ScopeKey, dict[str, set[int]]] = field(default_factory=dict)
    started: int | None = None  # first minute this process saw; older campaigns are not new
    # evaluated-through minute -> keys to look at again for silence, once their sends settle
    silence_due: dict[int, set[ScopeKey]] = field(default_factory=dict)


def _scope(key: ScopeKey) -> Scope:
    return Scope(key[0], key[1])


def view_of(
    state: State, key: ScopeKey, series: KeySeries, through: int, *, rates: bool = True
) -> KeyView:
    """The view of one key as of the evaluated minute (rate baselines only when asked)."""
    hour = through // 60
    volume = _volume(state, key, series, hour) if key[0] in VOLUME_DIMENSIONS else None
    windows = Windows(series, through)
    return KeyView(
        scope=_scope(key),
        through=through,
        windows=windows,
        usual_per_hour=_per_hour(series, windows, through) if rates else 0.0,
        baselines=state.rates.all(key, hour) if rates else {},
        volume=volume,
        first_minute=series.first_minute,
        exposure=state.exposure.get(key),
        minutes=series.minutes,
    )


def _volume(state: State, key: ScopeKey, series: KeySeries, hour: int) -> VolumeBaseline | None:
    """The key's volume baseline at this hour of the week (computed once an hour)."""
    cached = (key, hour)
    if cached not in state.volumes:
        state.volumes[cached] = volume_baseline(series, hour)
    return state.volumes[cached]


def _per_hour(series: KeySeries, windows: Windows, through: int) -> float:
    """Attempts an hour over the last day (or over the key's life, if younger)."""
    first = series.first_minute if series.first_minute is not None else through
    hours = min(24.0, max(1.0, (through - first + 1) / 60.0))
    return attempts(windows[DAY]) / hours


def new_campaigns(state: State, through: int) -> dict[str, int]:
    """Campaigns first seen within the last hour, with their sends in the last 15 minutes."""
    found: dict[str, int] = {}
    for (dimension, name), series in state.book.series.items():
        first = series.first_minute
        if dimension != CAMPAIGN or first is None or through - first > NEW_CAMPAIGN_MINUTES:
            continue
        if state.started is not None and first <= state.started:
            continue
        sends = series.sync(through)[15][QUEUED]
        if sends:
            found[name] = sends
    return found


def evaluate_key(
    state: State, settings: Settings, key: ScopeKey, through: int, now: datetime, rising: int
) -> Iterator[Finding]:
    """The detectors that watch this key's counters; of the rates, those whose RISES_WITH
    counters are in `rising` (a mask: new events since the last tick, or ANY_RISE for a key
    with an open finding). A rate cannot newly rise without a new event of its own."""
    series = state.book.get(key)
    if series is None or not (rising or key[0] in WATCHED_DIMENSIONS):
        return
    view = view_of(state, key, series, through, rates=bool(rising))
    if rising:
        yield from detect_rates(view, now, rising)
        yield from detect_provider(view, now, rising)
        policy = detect_policy(view, settings.policy, now, rising)
        if policy is not None:
            yield policy
    if key[0] in SILENCE_DIMENSIONS:
        silence = detect_silence(view, now, settings.silence)
        if silence is not None:
            yield silence
    if view.volume is not None and key[0] in SURGE_DIMENSIONS:
        surge = detect_surge(view, now, lambda: new_campaigns(state, through), settings.volume)
        if surge is not None:
            yield surge


def schedule_silence(
    state: State, settings: Settings, touched: Iterable[ScopeKey], through: int
) -> None:
    """Look at touched keys again for silence once their newest sends have settled: at low
    volume a key is touched only while its latest sends are too recent to count."""
    settle = settings.silence.settle
    for key in touched:
        series = state.book.get(key)
        if key[0] not in SILENCE_DIMENSIONS or series is None:
            continue
        last = series.last_minute if series.last_minute is not None else through
        state.silence_due.setdefault(max(last, through) + settle, set()).add(key)


def evaluate_settled(
    state: State, settings: Settings, evaluated: set[ScopeKey], through: int, now: datetime
) -> Iterator[Finding]:
    """Silence on the keys whose sends have settled since (unless evaluated this tick)."""
    due = state.silence_due
    keys: set[ScopeKey] = set()
    for minute in [minute for minute in due if minute <= through]:
        keys |= due.pop(minute)
    for key in sorted(keys - evaluated):
        series = state.book.get(key)
        if series is None:
            continue
        view = view_of(state, key, series, through, rates=False)
        silence = detect_silence(view, now, settings.silence)
        if silence is not None:
            yield silence


def evaluate_volume_drops(
    state: State, settings: Settings, keys: Iterable[ScopeKey], through: int, now: datetime
) -> Iterator[Finding]:
    """Volume drops on every key with a volume history (a drop may leave no data at all)."""
    for key in keys:
        series = state.book.get(key)
        if series is None or key[0] not in VOLUME_DIMENSIONS:
            continue
        if not can_drop(_volume(state, key, series, through // 60), settings.volume):
            continue
        view = view_of(state, key, series, through, rates=False)
        drop = detect_drop(view, now, settings.volume)
        if drop is not None:
            yield drop


def _engagement_baseline(state: State, key: ScopeKey, hour: int, prior: float) -> RateBaseline:
    cached = state.engagement.get(key)
    if cached is None or cached[0] != hour:
        cohort = state.cohorts.keys[key]
        skip = state.flagged.get(key, {}).get("engagement")
        baseline = engagement_baseline(cohort.hours, hour, prior, skip)
        cached = state.engagement[key] = (hour, baseline)
    return cached[1]


def evaluate_engagement(state: State, now: datetime) -> Iterator[Finding]:
    """Engagement of the matured cohorts on every provider and domain:provider key."""
    cohorts = state.cohorts
    last = cohorts.matured_through
    if last is None:
        return
    hour = last // 60
    keys = sorted(cohorts.keys, key=lambda item: item[0] == DOMAIN_PROVIDER)
    for key in keys:
        cohort = cohorts.keys[key]
        if max(sums[0] for sums in cohort.sums.values()) < MIN_COHORT:
            continue
        prior = DEFAULT_ENGAGED
        if key[0] == DOMAIN_PROVIDER:
            parent = (MAILBOX_PROVIDER, key[1].rsplit(":", 1)[-1])
            if parent in cohorts.keys:
                prior = _engagement_baseline(state, parent, hour, DEFAULT_ENGAGED).rate
        baseline = _engagement_baseline(state, key, hour, prior)
        if baseline.events < MIN_ENGAGED_HISTORY:
            continue  # opens not tracked here (or not yet): nothing to compare with
        warming_up = cohort.first_hour is None or hour - cohort.first_hour < WARM_UP_HOURS
        spec = WARM_UP_SPEC if warming_up else ENGAGEMENT_SPEC
        found = detect_engagement(_scope(key), cohort.sums, baseline, last, cohorts.lag, now, spec)
        if found is not None:
            yield found


def evaluate_early(
    state: State, settings: Settings, touched: Iterable[ScopeKey], through: int, now: datetime
) -> Iterator[Finding]:
    """The early bad-list check of each new campaign whose first sends have settled."""
    book = state.book
    for dimension, name in touched:
        if dimension != CAMPAIGN or name in state.early_done:
            continue
        series = book.get((dimension, name))
        if series is None or series.first_minute is None:
            continue
        if state.started is not None and series.first_minute < state.started:
            state.early_done.add(name)
            continue
        total = series.total
        if not ready(total, settings.early_sends):
            continue
        state.early_done.add(name)
        parent = parent_of((CAMPAIGN, name), book.parents)
        assert parent is not None
        baseline = state.rates.get(parent, "hard_bounce", through // 60)
        found = early_check(
            Scope(CAMPAIGN, name), total, baseline, series.first_minute, through, now
        )
        if found is not None:
            yield found


def evaluate_late(
    state: State, late: Iterable[tuple[ScopeKey, int]], now: datetime
) -> Iterator[Finding]:
    """Re-open the hour windows that late events (complaints, unsubscribes) changed."""
    rules = [rule for rule in RATE_RULES if rule.kind in LATE_KINDS]
    for key, hour in sorted(late):
        series = state.book.get(key)
        if series is None or hour not in series.hours:
            continue
        through = hour * 60 + 59
        exposure = state.exposure.get(key)
        view = KeyView(
            scope=_scope(key),
            through=through,
            windows={60: series.hours[hour]},
            baselines=state.rates.all(key, hour),
            exposure=PastExposure(exposure, through) if exposure is not None else None,
        )
        for rule in rules:
            found = detect_rate(rule, view, now)
            if found is not None:
                found.evidence["reopened"] = "late events changed this past window"
                yield found
