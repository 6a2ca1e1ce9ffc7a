"""A quiet week is genuinely healthy: every slice's rates stay in their healthy bands."""

from __future__ import annotations

from collections import defaultdict

import pytest
from tests.unit.simulate.stats import Observed, Run, observe, plausibly_below, simulate


@pytest.fixture(scope="module")
def run() -> Run:
    return simulate("quiet_week", seed=2, days=7, scale=0.03)


def assert_healthy(rates: Observed, *, slack: float = 1.0) -> None:
    counts = rates.counts
    sends, delivered = counts["queued"], counts["delivered"]
    assert plausibly_below(counts["bounced:hard"], sends, 0.01 * slack)
    assert plausibly_below(counts["bounced:block"], sends, 0.004 * slack)
    assert plausibly_below(counts["deferred"], sends, 0.05 * slack)
    assert plausibly_below(counts["dropped"], sends, 0.003 * slack)
    assert plausibly_below(counts["complained"], delivered, 0.0008 * slack)
    assert plausibly_below(counts["unsubscribed"], delivered, 0.004 * slack)


def test_quiet_week_injects_nothing(run: Run) -> None:
    assert run.truth["incidents"] == []
    assert run.truth["scenario"] == "quiet_week"


def test_quiet_week_overall_rates_sit_in_healthy_bands(run: Run) -> None:
    overall = observe(run.rows)
    assert overall.counts["queued"] > 10_000
    assert 0.003 <= overall.hard <= 0.008
    assert 0.001 <= overall.block <= 0.003
    assert 0.01 <= overall.deferral <= 0.04
    assert 0.0001 <= overall.complaint <= 0.0007
    assert 0.0005 <= overall.unsub <= 0.003
    assert 0.2 <= overall.open <= 0.45
    assert 0.01 <= overall.click <= 0.06


@pytest.mark.parametrize("provider", ["gmail", "microsoft", "yahoo", "apple", "other"])
def test_quiet_week_is_healthy_at_every_mailbox_provider(run: Run, provider: str) -> None:
    assert_healthy(observe(run.rows, lambda row: row["mailbox_provider"] == provider))


def test_quiet_week_is_healthy_on_every_ip_and_domain(run: Run) -> None:
    for dimension in ("sending_ip", "sending_domain"):
        keys = {row[dimension] for row in run.rows}
        for key in keys:
            assert_healthy(observe(run.rows, lambda row, d=dimension, k=key: row[d] == k))


def test_quiet_week_campaigns_each_stay_healthy(run: Run) -> None:
    by_campaign: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in run.rows:
        by_campaign[str(row["campaign"])].append(row)
    big = {name: rows for name, rows in by_campaign.items() if len(rows) > 2_000}
    assert len(big) >= 5
    for rows in big.values():
        assert_healthy(observe(rows))


def test_quiet_week_every_day_is_healthy(run: Run) -> None:
    days = {row["occurred_at"][:10] for row in run.rows}
    for day in days:
        rates = observe(run.rows, lambda row, d=day: row["occurred_at"].startswith(d))
        assert_healthy(rates)


def test_quiet_week_has_big_campaigns_and_a_steady_transactional_stream(run: Run) -> None:
    sends: dict[str, int] = defaultdict(int)
    hours: set[str] = set()
    for row in run.rows:
        if row["type"] == "queued":
            sends[row["campaign"]] += 1
            if row["sending_domain"] == "mail.example.org":
                hours.add(row["occurred_at"][:13])
    assert max(sends.values()) >= 100_000 * 0.03
    assert len(hours) > 0.8 * 7 * 24
