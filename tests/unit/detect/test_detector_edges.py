"""Every detector on the edge cases: small counts, zero baselines, a brand-new key, no traffic.

The rate-like detectors (hard bounces, blocks, deferrals, deliveries, complaints,
unsubscribes) share one table of "a clear step" and "a handful" rows, so each is held to the
same four specifications; volume, silence, engagement, policy and the early check have
their own. Late and out-of-order events and clock jumps, which need the engine's state,
are in test_engine_edges.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.detect.factory import T0, row, view

from mailwarden.detect.early import early_check
from mailwarden.detect.engagement import detect_engagement
from mailwarden.detect.model import Scope
from mailwarden.detect.policy import default_policy, detect_policy
from mailwarden.detect.providers import PROVIDER_RULES
from mailwarden.detect.rates import RATE_RULES, RateRule, detect_rate
from mailwarden.detect.silence import detect_silence
from mailwarden.detect.volume import detect_drop, detect_surge
from mailwarden.metrics.baseline import RateBaseline
from mailwarden.metrics.volume import VolumeBaseline

RULES = {rule.kind: rule for rule in (*RATE_RULES, *PROVIDER_RULES)}
WINDOWS = (5, 15, 60, 240)


@dataclass(frozen=True)
class Exposed:
    """A fixed exposure: the deliveries the complaint/unsubscribe window is judged on."""

    deliveries: float

    def window(self, rate: str, minutes: int) -> float:
        """The same exposure for every window."""
        return self.deliveries


def _rows(**counts: int) -> dict[int, list[int]]:
    return {minutes: row(**counts) for minutes in WINDOWS}


# kind -> (a clear step on a few thousand sends, a handful of sends at an alarming rate)
STEP: dict[str, tuple[dict[str, int], dict[str, int]]] = {
    "hard_bounce_rate": ({"delivered": 1800, "hard": 200}, {"delivered": 2, "hard": 3}),
    "block_rate": ({"delivered": 1800, "block": 200}, {"delivered": 2, "block": 3}),
    "deferral_rate": (
        {"delivered": 1400, "first_deferred": 600},
        {"delivered": 2, "first_deferred": 3},
    ),
    "delivery_drop": ({"delivered": 900, "block": 1100}, {"delivered": 1, "block": 4}),
    "complaint_rate": ({"delivered": 4000, "complained": 40}, {"delivered": 50, "complained": 1}),
    "unsubscribe_rate": (
        {"delivered": 4000, "unsubscribed": 200},
        {"delivered": 50, "unsubscribed": 3},
    ),
}


def _view_for(kind: str, counts: dict[str, int], rates: dict[str, float] | None = None) -> Any:
    exposure = Exposed(counts.get("delivered", 0)) if RULES[kind].exposure else None
    return view(_rows(**counts), rates=rates, exposure=exposure)


def _fires(rule: RateRule, counts: dict[str, int], rates: dict[str, float] | None = None) -> bool:
    return detect_rate(rule, _view_for(rule.kind, counts, rates), T0) is not None


@pytest.mark.parametrize("kind", sorted(STEP))
def test_every_rate_detector_fires_on_a_clear_step(kind: str) -> None:
    assert _fires(RULES[kind], STEP[kind][0])


@pytest.mark.parametrize("kind", sorted(STEP))
def test_every_rate_detector_ignores_a_handful_of_sends_however_bad(kind: str) -> None:
    assert not _fires(RULES[kind], STEP[kind][1])


@pytest.mark.parametrize("kind", sorted(STEP))
def test_every_rate_detector_is_silent_on_a_day_with_no_traffic(kind: str) -> None:
    assert not _fires(RULES[kind], {})


@pytest.mark.parametrize("kind", sorted(STEP))
def test_a_zero_baseline_still_needs_a_material_count(kind: str) -> None:
    rule = RULES[kind]
    zero = {rule.rate: 1.0 if rule.complement else 0.0}
    assert not _fires(rule, STEP[kind][1], zero)
    assert _fires(rule, STEP[kind][0], zero)


@pytest.mark.parametrize("kind", sorted(STEP))
def test_a_brand_new_key_is_judged_against_the_borrowed_parent_rate(kind: str) -> None:
    rule = RULES[kind]
    found = detect_rate(rule, _view_for(kind, STEP[kind][0]), T0)
    assert found is not None
    assert found.evidence["baseline_source"] == "test"  # the parent's rate, as handed down


@settings(max_examples=80, deadline=None)
@given(
    kind=st.sampled_from(sorted(STEP)),
    trials=st.integers(min_value=0, max_value=5000),
    bad=st.integers(min_value=0, max_value=30),
)
def test_no_rate_detector_fires_on_fewer_events_than_its_minimum_count(
    kind: str, trials: int, bad: int
) -> None:
    rule = RULES[kind]
    bad = min(bad, rule.spec.min_count - 1, trials)
    slot = {"hard_bounce_rate": "hard", "block_rate": "block", "deferral_rate": "first_deferred",
            "delivery_drop": "delivered", "complaint_rate": "complained",
            "unsubscribe_rate": "unsubscribed"}[kind]  # fmt: skip
    if kind == "delivery_drop":  # its "events" are the undelivered sends
        counts = {"delivered": trials - bad, "block": bad}
    elif rule.exposure:
        counts = {"delivered": trials, slot: bad}
    else:
        counts = {"delivered": trials - bad, slot: bad}
    assert not _fires(rule, counts)


# --- volume ------------------------------------------------------------------------------


def _volume(median: float, *, days: int = 7, busy: bool = False) -> VolumeBaseline:
    return VolumeBaseline(
        median=median,
        high=median * 1.5,
        low=median * 0.8,
        peak=median * 2,
        busy=busy,
        bursty=busy,
        source="hour of day",
        samples=21,
        days=days,
    )


def _sends(per_hour: float) -> dict[int, list[int]]:
    return {m: row(queued=round(per_hour * m / 60)) for m in (15, 60, 240)}


def test_a_surge_from_a_zero_baseline_needs_a_material_number_of_sends() -> None:
    quiet = _volume(0.0)
    assert detect_surge(view(_sends(40), volume=quiet), T0, dict) is None  # 10 in 15 min
    assert detect_surge(view(_sends(4000), volume=quiet), T0, dict) is not None


def test_a_brand_new_key_has_no_volume_to_surge_or_drop_from() -> None:
    young = _volume(100.0, days=1)
    assert detect_surge(view(_sends(100_000), volume=young), T0, dict) is None
    assert detect_drop(view(_sends(0), volume=young), T0) is None
    assert detect_surge(view(_sends(100_000), volume=None), T0, dict) is None


def test_small_volumes_never_drop_and_a_day_without_traffic_drops_only_a_steady_key() -> None:
    assert detect_drop(view(_sends(0), volume=_volume(20.0)), T0) is None  # 20 an hour
    steady = detect_drop(view(_sends(0), volume=_volume(2000.0)), T0)
    assert steady is not None and steady.severity == "critical"
    assert detect_drop(view(_sends(0), volume=_volume(2000.0, busy=True)), T0) is None


# --- silence -----------------------------------------------------------------------------


def _silence_rows(queued: int, delivered: int, recent: int = 0) -> dict[int, list[int]]:
    """Sends spread evenly (per 15 minutes), plus `recent` more in the last five minutes."""
    rows = {
        m: row(queued=queued * m // 15 + recent, delivered=delivered * m // 15)
        for m in (15, 30, 60)
    }
    rows[5] = row(queued=queued // 3 + recent)
    return rows


def test_a_handful_of_sends_without_outcomes_is_not_silence() -> None:
    assert detect_silence(view(_silence_rows(1, 0)), T0) is None  # 4 sends an hour


def test_silence_with_a_zero_delivery_baseline_still_expects_outcomes() -> None:
    found = detect_silence(view(_silence_rows(300, 0), rates={"delivery": 0.0}), T0)
    assert found is not None  # expecting an outcome for at least half the settled sends
    assert found.evidence["expected_outcomes"] >= 100


def test_a_campaign_that_started_minutes_ago_is_not_a_silence_yet() -> None:
    assert detect_silence(view(_silence_rows(0, 0, recent=40)), T0) is None
    assert detect_silence(view(_silence_rows(300, 0, recent=40)), T0) is not None


def test_a_day_with_no_traffic_is_not_silence() -> None:
    assert detect_silence(view(_silence_rows(0, 0)), T0) is None


# --- engagement --------------------------------------------------------------------------

YAHOO = Scope("mailbox_provider", "yahoo")


def _engagement(delivered: int, engaged: int, rate: float = 0.2) -> Any:
    baseline = RateBaseline(rate, 50_000, "test", 10_000)
    return detect_engagement(YAHOO, {60: [delivered, engaged]}, baseline, 1000, 60, T0)


def test_engagement_ignores_small_cohorts_however_dull() -> None:
    assert _engagement(300, 0) is None


def test_engagement_cannot_fall_from_a_zero_baseline() -> None:
    assert _engagement(5000, 0, rate=0.0) is None


def test_engagement_on_a_day_with_no_deliveries_is_silent() -> None:
    assert _engagement(0, 0) is None


def test_engagement_of_a_new_key_is_judged_against_its_prior() -> None:
    found = detect_engagement(YAHOO, {60: [5000, 50]}, RateBaseline(0.06, 0, "prior"), 1000, 60, T0)
    assert found is not None and found.evidence["baseline_source"] == "prior"


# --- policy ------------------------------------------------------------------------------

GMAIL = ("mailbox_provider", "gmail")


def _policy(delivered: int, complained: int, rates: dict[str, float] | None = None) -> Any:
    rows = {1440: row(delivered=delivered, complained=complained)}
    return detect_policy(
        view(rows, scope=GMAIL, rates=rates, exposure=Exposed(delivered)), default_policy(), T0
    )


def test_policy_lines_need_volume_however_high_the_rate() -> None:
    assert _policy(900, 30) is None


def test_policy_lines_hold_with_a_zero_baseline_and_for_a_new_key() -> None:
    found = _policy(20_000, 120, rates={"complaint": 0.0})
    assert found is not None and found.severity == "critical"
    assert _policy(20_000, 8, rates={"complaint": 0.0}) is None


def test_policy_on_a_day_with_no_traffic_is_silent() -> None:
    assert _policy(0, 0) is None


# --- early campaign check ----------------------------------------------------------------

CAMPAIGN = Scope("campaign", "reengage")


def _early(attempted: int, hard: int, parent: float = 0.005) -> Any:
    total = row(queued=attempted, delivered=attempted - hard, hard=hard)
    return early_check(CAMPAIGN, total, RateBaseline(parent, 0, "parent"), 0, 30, T0)


def test_the_early_check_ignores_a_few_bounces_in_a_small_start() -> None:
    assert _early(40, 6) is None


def test_the_early_check_against_a_zero_parent_rate_needs_a_material_count() -> None:
    assert _early(1000, 4, parent=0.0) is None
    found = _early(1000, 100, parent=0.0)
    assert found is not None and found.evidence["check"] == "early campaign check"


def test_the_early_check_of_a_campaign_with_no_sends_is_silent() -> None:
    assert _early(0, 0) is None
