"""Policy thresholds (detect/policy.yaml, overridable by a team file) and their detector."""

from __future__ import annotations

import math
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mailwarden.detect.model import DIMENSIONS, Finding
from mailwarden.detect.view import KeyView, finding
from mailwarden.metrics.counters import ANY_RISE, RISING_MASKS, numerator, rate_counts
from mailwarden.metrics.exposure import RATES as EXPOSED
from mailwarden.metrics.exposure import WINDOWS as EXPOSURE_WINDOWS
from mailwarden.metrics.stats import clopper_pearson, log_betainc

METRIC_RATES: Final = {
    "complaint_rate": "complaint",
    "hard_bounce_rate": "hard_bounce",
    "block_rate": "block",
    "unsubscribe_rate": "unsubscribe",
    "deferral_rate": "deferral",
}
WINDOW_MINUTES: Final = {1: 60, 4: 240, 24: 1440}
# A line is crossed when the posterior says the rate is above it with this probability.
CREDIBLE: Final = 0.9
_BELOW: Final = math.log(1.0 - CREDIBLE)
POLICY_PRIOR_EVENTS: Final = 2.0
# ...but never more than this many trials: a near-zero baseline must not outweigh the data.
POLICY_PRIOR_TRIALS: Final = 5000.0


class PolicyError(ValueError):
    """A policy file is missing, not YAML, or does not validate; the message says where."""


class Level(BaseModel):
    """One line a rate must not cross, with the source that draws it."""

    model_config = ConfigDict(extra="forbid")
    rate: float = Field(gt=0.0, lt=1.0)
    severity: Literal["info", "warning", "critical"]
    source: str = Field(min_length=1)


class Rule(BaseModel):
    """A rate watched on some dimensions over a trailing window, with its levels."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    metric: Literal[
        "complaint_rate", "hard_bounce_rate", "block_rate", "unsubscribe_rate", "deferral_rate"
    ]
    dimensions: list[str] = Field(min_length=1)
    levels: list[Level] = Field(min_length=1)
    mailbox_provider: str | None = None
    window_hours: int | None = None
    min_volume: int = Field(default=1000, ge=1)
    min_count: int = Field(default=3, ge=1)
    enabled: bool = True

    @field_validator("dimensions")
    @classmethod
    def _known_dimensions(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown dimension(s) {unknown}; known: {list(DIMENSIONS)}")
        return value

    @field_validator("window_hours")
    @classmethod
    def _known_window(cls, value: int | None) -> int | None:
        if value is not None and value not in WINDOW_MINUTES:
            raise ValueError(f"window_hours must be one of {sorted(WINDOW_MINUTES)}")
        return value


class Policy(BaseModel):
    """Every rule, with the default window."""

    model_config = ConfigDict(extra="forbid")
    window_hours: int = 24
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("window_hours")
    @classmethod
    def _known_window(cls, value: int) -> int:
        if value not in WINDOW_MINUTES:
            raise ValueError(f"window_hours must be one of {sorted(WINDOW_MINUTES)}")
        return value

    def active(self) -> list[Rule]:
        """The enabled rules."""
        return [rule for rule in self.rules if rule.enabled]


def _parse(text: str, origin: str) -> Policy:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{origin}: expected a mapping with 'rules'")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise PolicyError(f"{origin}: {problems}") from None


def default_policy() -> Policy:
    """The packaged defaults (detect/policy.yaml)."""
    text = resources.files("mailwarden.detect").joinpath("policy.yaml").read_text("utf-8")
    return _parse(text, "policy.yaml (packaged)")


def load_policy(team_file: str | Path | None = None) -> Policy:
    """The defaults, with a team file's rules replacing (by name) or adding to them."""
    policy = default_policy()
    if team_file is None:
        return policy
    path = Path(team_file)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the team policy file: {exc.strerror}") from None
    team = _parse(text, str(path))
    merged = {rule.name: rule for rule in policy.rules}
    merged.update({rule.name: rule for rule in team.rules})
    window = team.window_hours if "window_hours" in team.model_fields_set else policy.window_hours
    return Policy(window_hours=window, rules=list(merged.values()))


def confidence(evidence: dict[str, Any]) -> list[float] | None:
    """The exact 95 % interval of a policy finding's rate (for people reading it)."""
    x, n = evidence.get("count"), evidence.get("trials")
    if not isinstance(x, int) or not isinstance(n, int) or n <= 0:
        return None
    return [round(bound, 6) for bound in clopper_pearson(x, n)]


def applies(rule: Rule, dimension: str, key: str) -> bool:
    """True when the rule watches this scope."""
    if dimension not in rule.dimensions:
        return False
    if rule.mailbox_provider is None:
        return True
    if dimension == "mailbox_provider":
        return key == rule.mailbox_provider
    if dimension == "sending_domain:mailbox_provider":
        return key.rsplit(":", 1)[-1] == rule.mailbox_provider
    return False


def credibly_above(x: int, n: int, level: float, prior_rate: float) -> bool:
    """True when the rate is above level with posterior probability CREDIBLE (the key's
    baseline as a beta prior worth two events, at most POLICY_PRIOR_TRIALS trials, the
    window's counts as data)."""
    weight = min(POLICY_PRIOR_EVENTS / max(prior_rate, 1e-9), POLICY_PRIOR_TRIALS)
    a = x + weight * prior_rate
    b = (n - x) + weight * (1.0 - prior_rate)
    return log_betainc(a, b, level) <= _BELOW


def _evaluate(rule: Rule, view: KeyView, default_hours: int) -> dict[str, Any] | None:
    minutes = WINDOW_MINUTES[rule.window_hours or default_hours]
    row = view.windows.get(minutes)
    if row is None:
        return None
    rate = METRIC_RATES[rule.metric]
    x, n = rate_counts(rate, row)
    exposed = rate in EXPOSED and view.exposure is not None and minutes in EXPOSURE_WINDOWS
    if exposed and view.exposure is not None:
        n = round(view.exposure.window(rate, minutes))
        x = min(numerator(rate, row), n)
    if n < rule.min_volume or x < rule.min_count or x < n * rule.levels[0].rate:
        return None
    prior = view.baselines[rate].rate
    crossed = [level for level in rule.levels if credibly_above(x, n, level.rate, prior)]
    if not crossed:
        return None
    top = max(crossed, key=lambda level: level.rate)
    return {
        "rule": rule.name,
        "metric": rule.metric,
        "window_minutes": minutes,
        "count": x,
        "trials": n,
        "rate": x / n,
        "level": top.rate,
        "severity": top.severity,
        "source": top.source,
        "prior_rate": round(prior, 6),
        "denominator": "deliveries weighed by the delivery-to-complaint lag" if exposed else "",
    }


_ORDER: Final = {"info": 0, "warning": 1, "critical": 2}


def detect_policy(
    view: KeyView, policy: Policy, now: datetime, rising: int = ANY_RISE
) -> Finding | None:
    """The most severe policy line this key has credibly crossed, if any (of the lines whose
    rate can have risen, by the `rising` mask: see RISES_WITH)."""
    dimension, key = view.scope.dimension, view.scope.key
    hits = [
        hit
        for rule in policy.active()
        if RISING_MASKS[METRIC_RATES[rule.metric]] & rising
        and applies(rule, dimension, key)
        and (hit := _evaluate(rule, view, policy.window_hours)) is not None
    ]
    if not hits:
        return None
    top = max(hits, key=lambda hit: (_ORDER[hit["severity"]], hit["rate"] / hit["level"]))
    evidence = {
        "test": f"posterior P(rate > line) >= {CREDIBLE} (baseline as a beta prior)",
        **top,
        "crossed": [{k: hit[k] for k in ("rule", "level", "severity", "source")} for hit in hits],
    }
    return finding(
        "policy_threshold",
        view,
        minutes=top["window_minutes"],
        severity=top["severity"],
        observed=top["rate"],
        expected=top["level"],
        evidence=evidence,
        now=now,
    )
