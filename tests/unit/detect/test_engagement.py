"""Engagement collapse: deliveries hold but people stop opening (mail goes to spam)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.unit.detect.factory import T0

from mailwarden.detect.engagement import detect_engagement
from mailwarden.detect.model import Scope
from mailwarden.metrics.baseline import RateBaseline

USUAL = RateBaseline(0.08, 200_000, "test")
YAHOO = Scope("mailbox_provider", "yahoo")
LAST = int(T0.timestamp()) // 60


def test_opens_collapsing_while_deliveries_hold_is_an_engagement_drop() -> None:
    found = detect_engagement(YAHOO, {60: [2000, 30], 240: [8000, 120]}, USUAL, LAST, 60, T0)
    assert found is not None
    assert found.kind == "engagement_drop"
    assert found.evidence["engaged"] == 120
    assert found.window_end > found.window_start


def test_a_campaign_with_a_duller_subject_line_is_no_collapse() -> None:
    assert (
        detect_engagement(YAHOO, {60: [2000, 120], 240: [8000, 520]}, USUAL, LAST, 60, T0) is None
    )


def test_too_few_deliveries_to_tell() -> None:
    assert detect_engagement(YAHOO, {60: [40, 0], 240: [90, 0]}, USUAL, LAST, 60, T0) is None


def _cohorts_state(hours: int, engaged_then: float, engaged_now: float) -> Any:
    """A state whose yahoo cohorts engage at `engaged_then` for `hours`, then for the last
    five hours at `engaged_now` (200 deliveries a minute, opens five minutes later)."""
    from tests.unit.detect.factory import event

    from mailwarden.detect import evaluate
    from mailwarden.metrics.baseline import RateBaselines
    from mailwarden.metrics.cohorts import CohortBook
    from mailwarden.metrics.series import SeriesBook

    book = CohortBook(lag_minutes=60)
    total = (hours + 5) * 60
    for minute in range(0, total, 10):  # every tenth minute: enough cohorts, a quick test
        at = T0 + timedelta(minutes=minute)
        share = engaged_now if minute >= hours * 60 else engaged_then
        sent = [event("delivered", at, provider="yahoo", campaign=None) for _ in range(200)]
        book.add(sent)
        opened = sent[: round(200 * share)]
        later = at + timedelta(minutes=5)
        book.add([event("opened", later, provider="yahoo", message=e.message_id) for e in opened])
    book.mature(LAST + total + 60)
    series = SeriesBook()
    return evaluate.State(book=series, cohorts=book, rates=RateBaselines(series, lambda _k: {}))


def _engagement_findings(state: Any) -> list[Any]:
    from mailwarden.detect import evaluate

    return [f for f in evaluate.evaluate_engagement(state, T0) if f.scope == YAHOO]


def test_a_key_with_less_than_a_day_of_cohorts_needs_a_collapse_not_a_dip() -> None:
    assert _engagement_findings(_cohorts_state(10, 0.16, 0.06)) == []  # the hour's mix, maybe
    assert _engagement_findings(_cohorts_state(10, 0.16, 0.02))  # an eighth: gone to spam


def test_after_a_day_of_cohorts_the_same_dip_is_a_drop() -> None:
    assert _engagement_findings(_cohorts_state(30, 0.16, 0.06))
