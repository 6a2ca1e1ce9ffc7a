"""Throttle rules: free attempts, then a doubling wait after the last failure, capped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailwarden.auth.throttle import ThrottleRule

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
RULE = ThrottleRule(
    free=3,
    window=timedelta(hours=1),
    base_delay=timedelta(seconds=10),
    max_delay=timedelta(seconds=60),
)


def failures(*seconds_ago: int) -> list[datetime]:
    return sorted(NOW - timedelta(seconds=s) for s in seconds_ago)


def test_attempts_under_the_free_allowance_wait_for_nothing() -> None:
    assert RULE.wait(failures(5, 4), NOW) == timedelta(0)


def test_reaching_the_allowance_waits_the_base_delay_after_the_last_failure() -> None:
    assert RULE.wait(failures(3, 2, 1), NOW) == timedelta(seconds=9)


def test_each_further_failure_doubles_the_wait() -> None:
    assert RULE.wait(failures(4, 3, 2, 1), NOW) == timedelta(seconds=19)
    assert RULE.wait(failures(5, 4, 3, 2, 1), NOW) == timedelta(seconds=39)


def test_the_wait_is_capped_even_after_many_failures() -> None:
    many = failures(*range(1, 200))
    assert RULE.wait(many, NOW) == RULE.max_delay - timedelta(seconds=1)


def test_failures_older_than_the_window_are_forgotten() -> None:
    assert RULE.wait(failures(7200, 7100, 7000, 1), NOW) == timedelta(0)


def test_once_the_wait_has_passed_the_next_attempt_is_allowed() -> None:
    assert RULE.wait(failures(30, 20, 15), NOW) == timedelta(0)
