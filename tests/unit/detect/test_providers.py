"""Provider blocks and throttling: refusals and deferrals surging, and what they cite."""

from __future__ import annotations

import pytest
from tests.unit.detect.factory import T0, row, view

from mailwarden.detect.providers import detect_provider, reading, signal_of
from mailwarden.detect.samples import Sample, breakdown


def _windows(**counts: int) -> dict[int, list[int]]:
    return {minutes: row(**counts) for minutes in (5, 15, 60)}


@pytest.mark.parametrize(
    ("diagnostic", "signal"),
    [
        ("550 5.7.26 Unauthenticated email from x.org is not accepted", "gmail authentication"),
        ("550 5.7.515 Access denied, sending domain x.org lacks auth", "microsoft authentication"),
        ("554 5.7.1 Client host [203.0.113.5] blocked using zen.spamhaus.org", "blocklist"),
        ("421 4.7.28 [203.0.113.5] rate limited", "rate limit"),
        ("451 4.7.500 Server busy. Please try again later", "rate limit"),
        ("554 5.7.9 Message not accepted for policy reasons", "policy"),
        (None, None),
    ],
)
def test_diagnostics_name_what_the_provider_cites(diagnostic: str | None, signal: str) -> None:
    assert signal_of(diagnostic) == signal


def test_a_surge_of_blocks_at_one_provider_fires_block_rate() -> None:
    found = detect_provider(
        view(_windows(delivered=500, block=400), scope=("mailbox_provider", "gmail")), T0
    )
    assert [f.kind for f in found] == ["block_rate"]
    assert found[0].severity == "critical"


def test_throttling_fires_deferral_rate_on_first_attempts_only() -> None:
    throttled = view(_windows(delivered=300, first_deferred=700, deferred=700))
    assert [f.kind for f in detect_provider(throttled, T0)] == ["deferral_rate"]
    retries = view(_windows(delivered=980, first_deferred=20, deferred=900))
    assert detect_provider(retries, T0) == []


def test_the_evidence_names_the_dominant_reason_signal_and_ip() -> None:
    listed = "554 5.7.1 listed at zen.spamhaus.org"
    samples = [
        Sample(1, f"e{i}", "news.example.org", "c", "yahoo", "203.0.113.7", "blocked", listed)
        for i in range(9)
    ]
    samples.append(Sample(1, "e9", "news.example.org", "c", "yahoo", "203.0.113.5", "spam", None))
    evidence = {**breakdown(samples), **reading(samples)}
    assert evidence["dominant_reason"] == "blocked"
    assert evidence["dominant_sending_ip"] == "203.0.113.7"
    assert evidence["dominant_signal"] == "blocklist"
    assert evidence["sample_diagnostics"] == ["554 5.7.1 listed at zen.spamhaus.org"]


def test_a_trickle_of_blocks_on_a_quiet_key_is_found_over_four_hours() -> None:
    windows = {5: row(block=1), 15: row(block=2), 60: row(delivered=1, block=6)}
    windows[240] = row(delivered=3, block=25)
    quiet = view(windows, scope=("sending_domain", "mail.example.org"), usual_per_hour=8.0)
    assert [f.evidence["window_minutes"] for f in detect_provider(quiet, T0)] == [240]


def test_a_busy_key_is_not_judged_on_hours_old_blocks() -> None:
    windows = {5: row(delivered=400), 15: row(delivered=1200), 60: row(delivered=150)}
    windows[240] = row(delivered=5000, block=900)  # the tail of an incident that ended
    busy = view(windows, usual_per_hour=3000.0)
    assert detect_provider(busy, T0) == []
