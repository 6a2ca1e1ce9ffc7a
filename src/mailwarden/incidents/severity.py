"""Severity rules (YAML shipped in the package): finding kind, scope and magnitude → SEV1..SEV4."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from mailwarden.detect.model import SEVERITIES, Finding
from mailwarden.incidents.model import INCIDENT_TYPES, SEVERITY_LEVELS

_MATCH_LISTS: Final = ("kinds", "types", "dimensions", "keys", "finding_severities")
_MATCH_NUMBERS: Final = ("min_ratio", "min_observed")


class SeverityConfigError(ValueError):
    """The severity rules file is not valid; the message says where and why."""


@dataclass(frozen=True, slots=True)
class SeverityRule:
    """One rule: when every given criterion matches, the finding has this severity."""

    name: str
    severity: str
    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    finding_severities: tuple[str, ...] = ()
    min_ratio: float | None = None
    min_observed: float | None = None

    def matches(self, finding: Finding, incident_type: str) -> bool:
        """True when the finding meets every criterion of the rule."""
        return (
            _listed(finding.kind, self.kinds)
            and _listed(incident_type, self.types)
            and _listed(finding.scope.dimension, self.dimensions)
            and _globbed(finding.scope.key, self.keys)
            and _listed(finding.severity, self.finding_severities)
            and (self.min_ratio is None or ratio(finding) >= self.min_ratio)
            and (self.min_observed is None or finding.observed >= self.min_observed)
        )


@dataclass(frozen=True, slots=True)
class SeverityRules:
    """The ordered rules, the default level, and the starting level of manual incidents."""

    rules: tuple[SeverityRule, ...]
    default: str = "SEV4"
    manual: dict[str, str] = field(default_factory=dict)

    def assess(self, finding: Finding, incident_type: str) -> tuple[str, str]:
        """Return the severity of a finding and the name of the rule that decided it."""
        for rule in self.rules:
            if rule.matches(finding, incident_type):
                return rule.severity, rule.name
        return self.default, "default"

    def for_manual(self, incident_type: str) -> str:
        """The starting severity of an incident a person opens."""
        return self.manual.get(incident_type, self.default)


def worst(first: str, second: str) -> str:
    """The more severe of two levels (SEV1 is the worst)."""
    return min(first, second, key=SEVERITY_LEVELS.index)


def ratio(finding: Finding) -> float:
    """Observed over expected; infinite when nothing was expected but something was seen."""
    if finding.expected > 0:
        return finding.observed / finding.expected
    return float("inf") if finding.observed > 0 else 0.0


def load_severity_rules(path: Path | None = None) -> SeverityRules:
    """Load the rules from path, or the ones shipped with Mailwarden."""
    if path is None:
        text = resources.files("mailwarden.incidents").joinpath("severity.yaml").read_text()
        where = "severity.yaml (packaged)"
    else:
        text = path.read_text(encoding="utf-8")
        where = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SeverityConfigError(f"{where}: not YAML: {exc}") from None
    return parse_severity_rules(data, where)


def parse_severity_rules(data: Any, where: str = "severity rules") -> SeverityRules:
    """Validate a parsed YAML document and build the rules from it."""
    if not isinstance(data, dict):
        raise SeverityConfigError(f"{where}: expected a mapping with `rules`")
    default = _level(data.get("default", "SEV4"), f"{where}: default")
    manual = data.get("manual") or {}
    if not isinstance(manual, dict):
        raise SeverityConfigError(f"{where}: manual must map incident types to levels")
    for type_, level in manual.items():
        _known(type_, INCIDENT_TYPES, f"{where}: manual")
        _level(level, f"{where}: manual.{type_}")
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        raise SeverityConfigError(f"{where}: rules must be a list")
    rules = tuple(_rule(raw, f"{where}: rule {index + 1}") for index, raw in enumerate(raw_rules))
    return SeverityRules(rules, default, {str(k): str(v) for k, v in manual.items()})


def _rule(raw: Any, where: str) -> SeverityRule:
    if not isinstance(raw, dict) or "name" not in raw:
        raise SeverityConfigError(f"{where}: expected a mapping with name, severity, match")
    where = f"{where} ({raw['name']})"
    match = raw.get("match") or {}
    if not isinstance(match, dict):
        raise SeverityConfigError(f"{where}: match must be a mapping")
    unknown = set(match) - set(_MATCH_LISTS) - set(_MATCH_NUMBERS)
    if unknown:
        raise SeverityConfigError(f"{where}: unknown criteria {sorted(unknown)}")
    lists = {name: _strings(match.get(name, []), f"{where}: {name}") for name in _MATCH_LISTS}
    for value in lists["finding_severities"]:
        _known(value, SEVERITIES, f"{where}: finding_severities")
    for value in lists["types"]:
        _known(value, INCIDENT_TYPES, f"{where}: types")
    return SeverityRule(
        name=str(raw["name"]),
        severity=_level(raw.get("severity"), f"{where}: severity"),
        kinds=lists["kinds"],
        types=lists["types"],
        dimensions=lists["dimensions"],
        keys=lists["keys"],
        finding_severities=lists["finding_severities"],
        min_ratio=_number(match.get("min_ratio"), f"{where}: min_ratio"),
        min_observed=_number(match.get("min_observed"), f"{where}: min_observed"),
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SeverityConfigError(f"{where}: expected a list of strings")
    return tuple(value)


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise SeverityConfigError(f"{where}: expected a number")
    return float(value)


def _level(value: Any, where: str) -> str:
    _known(value, SEVERITY_LEVELS, where)
    return str(value)


def _known(value: Any, allowed: tuple[str, ...] | frozenset[str], where: str) -> None:
    if value not in allowed:
        raise SeverityConfigError(f"{where}: {value!r} is not one of {', '.join(sorted(allowed))}")


def _listed(value: str, allowed: tuple[str, ...]) -> bool:
    return not allowed or value in allowed


def _globbed(value: str, patterns: tuple[str, ...]) -> bool:
    return not patterns or any(fnmatchcase(value, pattern) for pattern in patterns)
