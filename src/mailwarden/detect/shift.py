"""The count-rate shift test every rate detector shares: an exact binomial test of a window's
count against a *relevant shift* of the baseline, never a z-score of a rate.

For a rise, the null hypothesis is "the rate is at most max(factor x baseline, baseline +
delta)"; a window fires when P(X >= x | n, null) is below alpha and the count itself is
material. Testing against a shifted null (not the baseline itself) keeps large windows from
firing on tiny, irrelevant deviations and absorbs the ordinary wobble of real rates; an exact
tail keeps small counts honest (1 complaint in 50 deliveries is p = 0.04, not an incident).
A fall is the same test on the complement (e.g. undelivered sends) or on the lower tail.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailwarden.metrics.stats import log_binom_cdf, log_binom_sf, neg_log10


@dataclass(frozen=True, slots=True)
class ShiftSpec:
    """How big a shift matters and how sure we must be before we say so."""

    factor: float
    delta: float
    min_count: int
    score: float = 7.0  # -log10 of the p-value needed for a warning
    critical_factor: float = 10.0
    critical_delta: float = 0.05
    rise: bool = True
    min_trials: int = 0


@dataclass(frozen=True, slots=True)
class ShiftResult:
    """A window that fired: its counts, the null it beat, and how strongly."""

    x: int
    n: int
    baseline: float
    null_rate: float
    score: float
    critical: bool

    @property
    def observed(self) -> float:
        """The window's rate."""
        return self.x / self.n if self.n else 0.0

    @property
    def excess(self) -> float:
        """Events beyond (or, for a fall, short of) what the baseline expects."""
        return abs(self.x - self.n * self.baseline)


def null_rate(baseline: float, spec: ShiftSpec, *, critical: bool = False) -> float:
    """The rate the test must beat: a relevant multiple of (or step from) the baseline."""
    factor = spec.critical_factor if critical else spec.factor
    delta = spec.critical_delta if critical else spec.delta
    if spec.rise:
        return min(0.999, max(baseline * factor, baseline + delta))
    return max(1e-6, min(baseline * factor, baseline - delta))


def shift_test(
    x: int, n: int, baseline: float, spec: ShiftSpec, p_null: float | None = None
) -> ShiftResult | None:
    """Test one window's count against the shifted null; None when it does not fire."""
    if n <= 0 or n < spec.min_trials:
        return None
    if p_null is None:
        p_null = null_rate(baseline, spec)
    if spec.rise:
        if x < spec.min_count or x <= n * p_null:
            return None
        log_p = log_binom_sf(x, n, p_null)
    else:
        if n * p_null < spec.min_count or x >= n * p_null:
            return None
        log_p = log_binom_cdf(x, n, p_null)
    score = neg_log10(log_p)
    if score < spec.score:
        return None
    return ShiftResult(x, n, baseline, p_null, score, _critical(x, n, baseline, spec))


def _critical(x: int, n: int, baseline: float, spec: ShiftSpec) -> bool:
    p_crit = null_rate(baseline, spec, critical=True)
    if spec.rise:
        if x <= n * p_crit:
            return False
        return neg_log10(log_binom_sf(x, n, p_crit)) >= spec.score
    if x >= n * p_crit:
        return False
    return neg_log10(log_binom_cdf(x, n, p_crit)) >= spec.score
