"""Exact tails of counts: in [0, 1], monotone in the count, equal to direct sums, no underflow."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailwarden.metrics.stats import (
    binom_cdf,
    binom_sf,
    clopper_pearson,
    log_binom_sf,
    neg_log10,
    poisson_cdf,
    poisson_sf,
)

counts = st.integers(min_value=0, max_value=400)
rates = st.floats(min_value=1e-6, max_value=1 - 1e-6)


def _direct_sf(k: int, n: int, p: float) -> float:
    return math.fsum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


@settings(max_examples=150, deadline=None)
@given(n=st.integers(min_value=1, max_value=60), p=rates, data=st.data())
def test_binomial_tails_equal_the_direct_sum_for_small_n(
    n: int, p: float, data: st.DataObject
) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    expected = _direct_sf(k, n, p)
    assert binom_sf(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert binom_cdf(k, n, p) == pytest.approx(1 - _direct_sf(k + 1, n, p), rel=1e-9, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(n=counts, p=rates, k=counts)
def test_binomial_tails_are_probabilities(n: int, p: float, k: int) -> None:
    assert 0.0 <= binom_sf(k, n, p) <= 1.0
    assert 0.0 <= binom_cdf(k, n, p) <= 1.0


@settings(max_examples=150, deadline=None)
@given(n=st.integers(min_value=1, max_value=5000), p=rates, k=st.integers(0, 5000))
def test_the_upper_tail_never_grows_with_the_count(n: int, p: float, k: int) -> None:
    assert binom_sf(k + 1, n, p) <= binom_sf(k, n, p) * (1 + 1e-9) + 1e-300


@settings(max_examples=150, deadline=None)
@given(mu=st.floats(min_value=1e-4, max_value=500), k=st.integers(0, 800))
def test_poisson_tails_are_monotone_probabilities(mu: float, k: int) -> None:
    assert 0.0 <= poisson_sf(k, mu) <= 1.0
    assert poisson_sf(k + 1, mu) <= poisson_sf(k, mu) * (1 + 1e-9) + 1e-300
    assert poisson_cdf(k, mu) <= poisson_cdf(k + 1, mu) * (1 + 1e-9) + 1e-300


@settings(max_examples=100, deadline=None)
@given(mu=st.floats(min_value=0.01, max_value=60), k=st.integers(0, 120))
def test_poisson_tails_add_up_to_one(mu: float, k: int) -> None:
    assert poisson_cdf(k, mu) + poisson_sf(k + 1, mu) == pytest.approx(1.0, abs=1e-10)


def test_tiny_tails_keep_their_precision_in_log_space() -> None:
    log_p = log_binom_sf(500, 1_000_000, 0.0001)
    assert -420 < log_p < -400  # far below what a float can hold, yet finite
    assert neg_log10(log_p) > 170


def test_edges_of_the_support() -> None:
    assert binom_sf(0, 10, 0.3) == 1.0
    assert binom_sf(11, 10, 0.3) == 0.0
    assert binom_sf(1, 10, 0.0) == 0.0
    assert binom_cdf(10, 10, 0.3) == 1.0
    assert poisson_sf(0, 0.0) == 1.0
    assert poisson_sf(1, 0.0) == 0.0


def test_exact_interval_covers_the_observed_rate() -> None:
    low, high = clopper_pearson(40, 5000)
    assert low < 40 / 5000 < high
    assert clopper_pearson(0, 50)[0] == 0.0
    assert clopper_pearson(50, 50)[1] == 1.0
