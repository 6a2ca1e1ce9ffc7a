"""Baselines: borrow the parent's rate when new, learn their own, shrug off incident hours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.detect.factory import T0, minute_of_traffic

from mailwarden.metrics.baseline import (
    DEFAULT_RATES,
    RateBaselines,
    engagement_baseline,
    parent_of,
    pooled,
)
from mailwarden.metrics.rollup import aggregate
from mailwarden.metrics.series import SeriesBook

HOUR = int(T0.timestamp()) // 3600


def _book_with_history(hours: int, hard_every: int, **attrs: object) -> SeriesBook:
    book = SeriesBook()
    for hour in range(hours):
        at = T0 + timedelta(hours=hour)
        hard = 1 if hour % hard_every == 0 else 0
        book.add(aggregate(minute_of_traffic(at, 100, hard=hard, **attrs)))
    return book


def test_with_no_history_at_all_the_global_default_applies() -> None:
    rates = RateBaselines(SeriesBook())
    assert rates.get(("overall", "*"), "hard_bounce", HOUR).rate == DEFAULT_RATES["hard_bounce"]


def test_a_brand_new_campaign_borrows_its_sending_domains_rate() -> None:
    book = _book_with_history(48, hard_every=1)  # 1 % hard bounces, campaign news-1
    book.parents["brand-new"] = "news.example.org"
    rates = RateBaselines(book)
    domain = rates.get(("sending_domain", "news.example.org"), "hard_bounce", HOUR + 48)
    campaign = rates.get(("campaign", "brand-new"), "hard_bounce", HOUR + 48)
    assert domain.rate == pytest.approx(0.01, rel=0.2)
    assert campaign.rate == pytest.approx(domain.rate)
    assert campaign.history == 0


def test_parents_follow_the_hierarchy() -> None:
    parents = {"c": "d.example"}
    assert parent_of(("campaign", "c"), parents) == ("sending_domain", "d.example")
    assert parent_of(("campaign", "orphan"), parents) == ("overall", "*")
    assert parent_of(("sending_domain:mailbox_provider", "d:gmail"), parents) == (
        "mailbox_provider",
        "gmail",
    )
    assert parent_of(("sending_ip", "1.2.3.4"), parents) == ("overall", "*")
    assert parent_of(("overall", "*"), parents) is None


def test_an_extreme_hour_in_the_history_is_left_out() -> None:
    normal = [(1, 100)] * 50
    assert pooled([*normal, (60, 100)]) == (50, 5000)


def test_hours_with_an_open_finding_are_left_out() -> None:
    book = _book_with_history(48, hard_every=1)
    flagged = set(range(HOUR, HOUR + 24))
    rates = RateBaselines(book, lambda key: {"hard_bounce": flagged})
    kept = rates.get(("overall", "*"), "hard_bounce", HOUR + 48).history
    everything = RateBaselines(book).get(("overall", "*"), "hard_bounce", HOUR + 48).history
    assert kept < everything


def test_engagement_baseline_drops_hours_that_collapsed() -> None:
    hours = {h: [1000, 80] for h in range(100)}
    hours[50] = [1000, 5]  # mail went to spam for an hour
    baseline = engagement_baseline(hours, 110, prior_rate=0.08)
    assert baseline.rate == pytest.approx(0.08, rel=0.02)
