"""Rate detectors: hard bounces, complaints, unsubscribes up; deliveries down."""

from __future__ import annotations

from tests.unit.detect.factory import T0, row, view

from mailwarden.detect.rates import RATE_RULES, detect_rate, detect_rates
from mailwarden.metrics.counters import RISING_MASKS
from mailwarden.metrics.exposure import KeyExposure

RULES = {rule.kind: rule for rule in RATE_RULES}


def _windows(**counts: int) -> dict[int, list[int]]:
    return {minutes: row(**counts) for minutes in (5, 15, 60, 240)}


def _exposure(delivered_per_minute: int) -> KeyExposure:
    exposure = KeyExposure()
    for minute in range(0, 3000):
        exposure.deliver(minute, delivered_per_minute)
    exposure.now = 2999
    return exposure


def test_a_bad_list_fires_hard_bounce_rate_with_its_evidence() -> None:
    found = detect_rate(RULES["hard_bounce_rate"], view(_windows(delivered=900, hard=100)), T0)
    assert found is not None
    assert found.kind == "hard_bounce_rate"
    assert found.observed == 0.1
    assert found.evidence["p_value"] < 1e-7
    assert found.evidence["test"].startswith("exact binomial")
    assert found.first_seen == T0


def test_a_rate_is_not_tested_again_until_an_event_that_can_raise_it_comes() -> None:
    bad_list = view(_windows(delivered=900, hard=100))
    assert detect_rates(bad_list, T0, RISING_MASKS["complaint"] | RISING_MASKS["deferral"]) == []
    fired = detect_rates(bad_list, T0, RISING_MASKS["hard_bounce"])
    assert [found.kind for found in fired] == ["hard_bounce_rate"]


def test_ordinary_hard_bounces_do_not_fire() -> None:
    assert detect_rates(view(_windows(delivered=995, hard=5)), T0) == []


def test_a_handful_of_sends_never_fires_even_at_a_high_rate() -> None:
    assert detect_rates(view(_windows(delivered=3, hard=3)), T0) == []


def test_complaints_are_judged_against_deliveries_weighed_by_their_lag() -> None:
    exposure = _exposure(10)  # steady 10 deliveries a minute for two days
    quiet = view(_windows(delivered=600, complained=1), exposure=exposure)
    assert detect_rate(RULES["complaint_rate"], quiet, T0) is None
    spike = view(_windows(delivered=600, complained=40), exposure=exposure)
    found = detect_rate(RULES["complaint_rate"], spike, T0)
    assert found is not None
    assert "exposure" in found.evidence["denominator"]


def test_complaints_without_exposure_are_not_judged() -> None:
    assert detect_rate(RULES["complaint_rate"], view(_windows(complained=50)), T0) is None


def test_deliveries_falling_fires_delivery_drop_but_hard_bounces_alone_do_not() -> None:
    blocked = view(_windows(delivered=400, block=600))
    found = detect_rate(RULES["delivery_drop"], blocked, T0)
    assert found is not None and found.observed == 0.4
    bounced = view(_windows(delivered=700, hard=300))
    assert detect_rate(RULES["delivery_drop"], bounced, T0) is None


def test_a_brand_new_key_is_judged_against_its_borrowed_baseline() -> None:
    fresh = view(_windows(delivered=180, hard=20), scope=("campaign", "new"), rates={})
    assert detect_rate(RULES["hard_bounce_rate"], fresh, T0) is not None


def test_a_day_with_no_traffic_fires_nothing() -> None:
    assert detect_rates(view(_windows()), T0) == []
