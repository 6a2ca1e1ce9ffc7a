"""Engagement collapse: deliveries hold but people stop opening (mail goes to spam)."""

from __future__ import annotations

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
