"""Early campaign check: after the first N sends, say at once whether the list looks bad."""

from __future__ import annotations

from tests.unit.detect.factory import T0, row

from mailwarden.detect.early import EARLY_CHECK, early_check, ready
from mailwarden.detect.model import Scope
from mailwarden.metrics.baseline import RateBaseline

DOMAIN = RateBaseline(0.005, 500_000, "sending_domain=news.example.org")
SCOPE = Scope("campaign", "reengage")
NOW = int(T0.timestamp()) // 60


def test_waits_until_the_first_sends_have_been_attempted() -> None:
    assert not ready(row(queued=1000, delivered=300), 1000)
    assert ready(row(queued=1000, delivered=880, hard=90), 1000)


def test_a_stale_list_is_called_out_as_a_bad_list() -> None:
    found = early_check(SCOPE, row(queued=1000, delivered=880, hard=90), DOMAIN, NOW - 5, NOW, T0)
    assert found is not None
    assert found.kind == "hard_bounce_rate"
    assert found.evidence["check"] == EARLY_CHECK
    assert found.severity == "critical"


def test_a_healthy_list_passes_quietly() -> None:
    assert (
        early_check(SCOPE, row(queued=1000, delivered=985, hard=6), DOMAIN, NOW - 5, NOW, T0)
        is None
    )
