"""The shift test: exact binomial tails against a relevant shift, never a z-score of a rate."""

from __future__ import annotations

import pytest

from mailwarden.detect.shift import ShiftSpec, null_rate, shift_test

COMPLAINTS = ShiftSpec(2.5, 0.0005, 6, critical_factor=10.0, critical_delta=0.003)


def test_one_complaint_in_fifty_deliveries_is_not_an_incident() -> None:
    assert shift_test(1, 50, 0.0005, COMPLAINTS) is None


def test_forty_complaints_in_five_thousand_deliveries_is_an_incident() -> None:
    result = shift_test(40, 5000, 0.0005, COMPLAINTS)
    assert result is not None
    assert result.score > 15
    assert result.excess > 35


def test_critical_needs_the_rate_surely_past_ten_times_the_usual() -> None:
    some = shift_test(40, 5000, 0.0005, COMPLAINTS)
    many = shift_test(400, 20000, 0.0005, COMPLAINTS)
    assert some is not None and not some.critical
    assert many is not None and many.critical


def test_a_zero_baseline_still_needs_a_material_count() -> None:
    assert shift_test(3, 10, 0.0, COMPLAINTS) is None  # min count
    assert shift_test(10, 1000, 0.0, COMPLAINTS) is not None  # the step alone decides


def test_large_windows_do_not_fire_on_tiny_irrelevant_shifts() -> None:
    # 12 % above the baseline with a million trials would be "significant" for a z-test.
    assert shift_test(560, 1_000_000, 0.0005, COMPLAINTS) is None


def test_a_fall_is_tested_on_the_lower_tail() -> None:
    fall = ShiftSpec(0.4, 0.0, 20, critical_factor=0.15, critical_delta=0.0, rise=False)
    assert shift_test(80, 1000, 0.1, fall) is None  # 8 % against a usual 10 %: normal
    assert shift_test(5, 1000, 0.1, fall) is not None  # 0.5 %: collapsed


def test_the_null_is_the_larger_of_a_multiple_and_a_step() -> None:
    assert null_rate(0.0001, COMPLAINTS) == pytest.approx(0.0006)
    assert null_rate(0.01, COMPLAINTS) == pytest.approx(0.025)
