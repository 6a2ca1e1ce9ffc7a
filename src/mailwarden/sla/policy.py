"""SLA targets per severity, with defaults an email team would recognise; a YAML file overrides.

Defaults (and why):

- acknowledge by: SEV1 5m, SEV2 15m, SEV3 1h, SEV4 next working day 10:00 (team time zone).
- contain by: SEV1 1h (a compromised account or breach spreads by the minute), SEV2 4h (a
  blocklisting or complaint spike costs reputation for days), SEV3 1d, SEV4 3d.
- stakeholder updates: SEV1 every 30m, SEV2 every 2h, none below.
- personal-data breach (GDPR Art. 33): the authority notice within 72h of awareness, warnings
  when 24h and 6h are left.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mailwarden.team.calendar import (
    next_working_day_at,
    parse_clock_time,
    parse_duration,
    parse_weekdays,
    zone,
)

_NEXT_DAY: Final = re.compile(r"^next working day (\d{1,2}:\d{2})$")


def deadline(rule: str, start: datetime, tz_name: str, working_days: Collection[int]) -> datetime:
    """When a clock started at start runs out: '15m' later, or 'next working day 10:00'."""
    match = _NEXT_DAY.match(rule.strip())
    if match:
        return next_working_day_at(start, parse_clock_time(match[1]), zone(tz_name), working_days)
    return start + parse_duration(rule)


def _check_rule(rule: str) -> str:
    match = _NEXT_DAY.match(rule.strip())
    if match:
        parse_clock_time(match[1])
    else:
        parse_duration(rule)
    return rule.strip()


class SlaPolicy(BaseModel):
    """The SLA targets; each map is by severity (a severity left out, or `none`, has no clock)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    working_days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    acknowledge_by: dict[str, str] = Field(
        default_factory=lambda: {
            "SEV1": "5m",
            "SEV2": "15m",
            "SEV3": "1h",
            "SEV4": "next working day 10:00",
        }
    )
    contain_by: dict[str, str] = Field(
        default_factory=lambda: {"SEV1": "1h", "SEV2": "4h", "SEV3": "1d", "SEV4": "3d"}
    )
    update_every: dict[str, str] = Field(default_factory=lambda: {"SEV1": "30m", "SEV2": "2h"})
    breach_notice_hours: int = Field(default=72, ge=1)
    breach_warnings_hours: list[int] = Field(default_factory=lambda: [24, 6])

    @field_validator("acknowledge_by", "contain_by", "update_every", mode="before")
    @classmethod
    def _rules(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {
            str(severity): _check_rule(str(rule))
            for severity, rule in value.items()
            if rule is not None and str(rule).strip().lower() not in ("", "none")
        }

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        if not parse_weekdays(value):
            raise ValueError("name at least one working day")
        return value

    @field_validator("breach_warnings_hours")
    @classmethod
    def _warnings(cls, value: list[int]) -> list[int]:
        return sorted({hours for hours in value if hours > 0}, reverse=True)

    @property
    def weekdays(self) -> frozenset[int]:
        """The working days as weekday numbers (Monday is 0)."""
        return parse_weekdays(self.working_days)

    def due(self, clock: str, severity: str, start: datetime) -> datetime | None:
        """When a clock (acknowledge_by, contain_by) started at start runs out; None: no clock."""
        rule = getattr(self, clock).get(severity)
        return deadline(rule, start, self.timezone, self.weekdays) if rule else None

    def interval(self, severity: str) -> str | None:
        """The stakeholder-update cadence for a severity, if any."""
        return self.update_every.get(severity)


def load_sla_policy(path: str | None = None, timezone: str | None = None) -> SlaPolicy:
    """The defaults, overlaid with a team YAML file; ValueError names the file and problem."""
    data: dict[str, object] = {"timezone": timezone} if timezone else {}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read the SLA policy: {exc}") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: the SLA policy is a mapping (acknowledge_by: ...)")
        defaults = SlaPolicy()
        for key in ("acknowledge_by", "contain_by", "update_every"):
            if isinstance(loaded.get(key), dict):
                loaded[key] = {**getattr(defaults, key), **loaded[key]}
        data.update(loaded)
    try:
        return SlaPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ValueError(f"{path or 'settings'}: {problems}") from None


__all__ = ["SlaPolicy", "deadline", "load_sla_policy"]
