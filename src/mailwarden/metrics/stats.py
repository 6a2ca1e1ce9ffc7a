"""Exact tail probabilities for counts (binomial, Poisson), in log space, with only `math`.

The binomial tails use the regularized incomplete beta function and the Poisson tails the
regularized incomplete gamma function (continued fractions and series after Numerical
Recipes, Lentz's method), evaluated on the side where the tail is small so that tiny
p-values keep their precision instead of cancelling against 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

_EPS: Final = 1e-15
_TINY: Final = 1e-300
_MAX_ITER: Final = 20_000
LOG_ZERO: Final = -math.inf


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITER + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def log_betainc(a: float, b: float, x: float) -> float:
    """Log of the regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return LOG_ZERO
    if x >= 1.0:
        return 0.0
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        return log_front + math.log(_betacf(a, b, x)) - math.log(a)
    rest = math.exp(log_front + math.log(_betacf(b, a, 1.0 - x)) - math.log(b))
    return math.log1p(-rest) if rest < 1.0 else LOG_ZERO


def log_binom_sf(k: int, n: int, p: float) -> float:
    """Log of P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 0.0
    if k > n or p <= 0.0:
        return LOG_ZERO
    if p >= 1.0:
        return 0.0
    # P(X >= k) = I_p(k, n - k + 1); the complement is I_{1-p}(n - k + 1, k).
    if k > n * p:
        return min(0.0, log_betainc(k, n - k + 1, p))
    lower = math.exp(log_betainc(n - k + 1, k, 1.0 - p))
    return math.log1p(-lower) if lower < 1.0 else LOG_ZERO


def log_binom_cdf(k: int, n: int, p: float) -> float:
    """Log of P(X <= k) for X ~ Binomial(n, p)."""
    if k >= n:
        return 0.0
    if k < 0:
        return LOG_ZERO
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return LOG_ZERO
    if k < n * p:
        return min(0.0, log_betainc(n - k, k + 1, 1.0 - p))
    upper = math.exp(log_betainc(k + 1, n - k, p))
    return math.log1p(-upper) if upper < 1.0 else LOG_ZERO


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return math.exp(log_binom_sf(k, n, p))


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    return math.exp(log_binom_cdf(k, n, p))


def _log_gamma_series(a: float, x: float) -> float:
    """Log of the regularized lower incomplete gamma P(a, x) by its series (x < a + 1)."""
    term = total = 1.0 / a
    ap = a
    for _ in range(_MAX_ITER):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return math.log(total) - x + a * math.log(x) - math.lgamma(a)


def _log_gamma_cf(a: float, x: float) -> float:
    """Log of the regularized upper incomplete gamma Q(a, x) by continued fraction (x > a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER + 1):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.log(h) - x + a * math.log(x) - math.lgamma(a)


def log_gammainc_lower(a: float, x: float) -> float:
    """Log of the regularized lower incomplete gamma function P(a, x)."""
    if x <= 0.0:
        return LOG_ZERO
    if x < a + 1.0:
        return min(0.0, _log_gamma_series(a, x))
    upper = math.exp(_log_gamma_cf(a, x))
    return math.log1p(-upper) if upper < 1.0 else LOG_ZERO


def log_gammainc_upper(a: float, x: float) -> float:
    """Log of the regularized upper incomplete gamma function Q(a, x)."""
    if x <= 0.0:
        return 0.0
    if x >= a + 1.0:
        return min(0.0, _log_gamma_cf(a, x))
    lower = math.exp(_log_gamma_series(a, x))
    return math.log1p(-lower) if lower < 1.0 else LOG_ZERO


def log_poisson_sf(k: int, mu: float) -> float:
    """Log of P(X >= k) for X ~ Poisson(mu)."""
    if k <= 0:
        return 0.0
    if mu <= 0.0:
        return LOG_ZERO
    return log_gammainc_lower(k, mu)


def log_poisson_cdf(k: int, mu: float) -> float:
    """Log of P(X <= k) for X ~ Poisson(mu)."""
    if k < 0:
        return LOG_ZERO
    if mu <= 0.0:
        return 0.0
    return log_gammainc_upper(k + 1, mu)


def poisson_sf(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu)."""
    return math.exp(log_poisson_sf(k, mu))


def poisson_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu)."""
    return math.exp(log_poisson_cdf(k, mu))


def neg_log10(log_p: float) -> float:
    """Turn a natural-log probability into -log10 (a 'score'); 0 for p = 1, large for tiny p."""
    if log_p == LOG_ZERO:
        return 999.0
    return max(0.0, -log_p / math.log(10.0))


def clopper_pearson(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided confidence interval for a binomial proportion (by bisection)."""
    if n <= 0:
        return 0.0, 1.0
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if x == 0 else _bisect(lambda p: binom_sf(x, n, p) - tail)
    high = 1.0 if x >= n else _bisect(lambda p: tail - binom_cdf(x, n, p))
    return low, high


def _bisect(func: Callable[[float], float]) -> float:
    """Root of an increasing function on [0, 1]."""
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2.0
        if func(mid) < 0.0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0
