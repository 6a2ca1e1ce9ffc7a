"""Event silence: sends continue but no delivery, bounce or deferral events come back."""

from __future__ import annotations

from tests.unit.detect.factory import T0, row, view

from mailwarden.detect.silence import detect_silence


def _windows(queued: int, delivered: int) -> dict[int, list[int]]:
    return {minutes: row(queued=queued * minutes // 15, delivered=delivered * minutes // 15)
            for minutes in (15, 30, 60)}  # fmt: skip


def test_sends_without_outcomes_for_fifteen_minutes_is_silence() -> None:
    found = detect_silence(view(_windows(300, 0)), T0)
    assert found is not None
    assert found.kind == "event_silence"
    assert found.evidence["window_minutes"] == 15
    assert "webhook" in found.evidence["meaning"]


def test_outcomes_flowing_is_no_silence() -> None:
    assert detect_silence(view(_windows(300, 280)), T0) is None


def test_low_volume_waits_for_a_longer_window() -> None:
    found = detect_silence(view(_windows(4, 0)), T0)  # 4 sends in 15 min, 16 in 60
    assert found is not None and found.evidence["window_minutes"] == 60


def test_no_sends_is_not_silence_but_a_quiet_day() -> None:
    assert detect_silence(view(_windows(0, 0)), T0) is None
