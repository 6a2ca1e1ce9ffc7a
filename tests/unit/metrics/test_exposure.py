"""Exposure: closed form between checkpoints equals stepping the filters minute by minute."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailwarden.metrics.exposure import _FILTERS, RATES, KeyExposure, PastExposure


def _stepped(deliveries: dict[int, int], last: int) -> dict[int, tuple[float, float]]:
    levels = [0.0] * len(_FILTERS)
    totals = [0.0] * len(RATES)
    out = {}
    for minute in range(0, last + 1):
        delivered = deliveries.get(minute, 0)
        for position, (index, weight, decay) in enumerate(_FILTERS):
            levels[position] = levels[position] * decay + delivered * (1 - decay)
            totals[index] += weight * levels[position]
        out[minute] = (totals[0], totals[1])
    return out


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.integers(1, 2500), st.integers(1, 500), max_size=40))
def test_windows_match_minute_by_minute_filtering(deliveries: dict[int, int]) -> None:
    exposure = KeyExposure()
    for minute in sorted(deliveries):
        exposure.deliver(minute, deliveries[minute])
    last = 3000
    exposure.now = last
    stepped = _stepped(deliveries, last)
    for minutes in (60, 240, 1440):
        for index, rate in enumerate(RATES):
            expected = stepped[last][index] - stepped[last - minutes][index]
            assert exposure.window(rate, minutes) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_a_past_window_reads_the_exposure_it_had_then() -> None:
    exposure = KeyExposure()
    deliveries = {m: random.Random(m).randint(0, 50) for m in range(1, 600)}
    for minute, count in deliveries.items():
        exposure.deliver(minute, count)
    exposure.now = 900
    stepped = _stepped(deliveries, 900)
    past = PastExposure(exposure, 300)
    assert past.window("complaint", 60) == pytest.approx(stepped[300][0] - stepped[240][0])


def test_exposure_outlives_the_blast_while_complaints_are_still_due() -> None:
    exposure = KeyExposure()
    exposure.deliver(0, 10_000)
    exposure.now = 6 * 60
    six_hours_on = exposure.window("complaint", 60)
    exposure.now = 60
    first_hour = exposure.window("complaint", 60)
    assert 0 < six_hours_on < first_hour  # fading, not gone: complaints arrive for days


def test_late_deliveries_still_add_exposure() -> None:
    exposure = KeyExposure()
    exposure.deliver(100, 10)
    before = exposure.total(200)[0]
    exposure.deliver(50, 1000)  # arrived late, for an earlier minute
    assert exposure.total(200)[0] > before
