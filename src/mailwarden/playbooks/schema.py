"""The playbook file format (pydantic): steps with phase, role, due rule and optional action."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mailwarden.incidents.model import INCIDENT_TYPES
from mailwarden.team.calendar import format_duration, parse_duration
from mailwarden.team.roles import is_role_name

FORMAT: Final = 1
PHASES: Final = ("identification", "containment", "eradication", "recovery", "lessons_learned")
ANCHORS: Final = ("detected", "acknowledged", "contained", "eradicated", "recovered")
PHASE_START: Final = "phase start"
# The stamp that starts each phase (for "… after phase start").
PHASE_ANCHOR: Final = dict(zip(PHASES, ANCHORS, strict=True))
TEMPLATE_FIELDS: Final = (
    "incident_id",
    "incident_type",
    "severity",
    "title",
    "scope_dimension",
    "scope_key",
)
_DUE: Final = re.compile(r"^\s*(?P<delay>\S+)\s+after\s+(?P<anchor>[a-z ]+?)\s*$")
_STEP_ID: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
Phase = Literal["identification", "containment", "eradication", "recovery", "lessons_learned"]


@dataclass(frozen=True, slots=True)
class Due:
    """A due rule: a delay after a phase stamp (or after the step's phase started)."""

    delay: timedelta
    anchor: str

    @classmethod
    def parse(cls, text: str) -> Due:
        """'15m after detected', '1h after contained', '2h after phase start' → Due."""
        match = _DUE.match(text)
        anchors = (*ANCHORS, PHASE_START)
        if match is None or match["anchor"] not in anchors:
            raise ValueError(
                f"{text!r} is not a due rule; write '<duration> after <when>' with <when> one "
                f"of {', '.join(anchors)} (e.g. '15m after detected')"
            )
        try:
            delay = parse_duration(match["delay"])
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None
        return cls(delay, match["anchor"])

    def resolve(self, phase: str, stamps: Mapping[str, datetime | None]) -> datetime | None:
        """The due time given the incident's phase stamps; None until its anchor happened."""
        anchor = PHASE_ANCHOR[phase] if self.anchor == PHASE_START else self.anchor
        start = stamps.get(f"{anchor}_at")
        return start + self.delay if start is not None else None

    def __str__(self) -> str:
        return f"{format_duration(self.delay)} after {self.anchor}"


class ActionSpec(BaseModel):
    """An automated action a step offers, by registry name, with a parameter template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    # "auto": run without waiting (honoured for low-risk actions only); "commander": wait for
    # the incident commander's approval; unset: low risk runs, medium/high waits.
    approval: Literal["auto", "commander"] | None = None

    @field_validator("params")
    @classmethod
    def _known_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        for text in _strings(value):
            for field in template_fields(text):
                if field not in TEMPLATE_FIELDS:
                    raise ValueError(
                        f"unknown template field {{{field}}}; use {', '.join(TEMPLATE_FIELDS)}"
                    )
        return value


class StepSpec(BaseModel):
    """One step of a playbook."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=1)
    description: str = ""
    phase: Phase
    role: str
    due: str
    mandatory: bool = False
    action: ActionSpec | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _STEP_ID.match(value):
            raise ValueError(f"step id {value!r} must be snake_case (a-z, 0-9, _)")
        return value

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if not is_role_name(value):
            raise ValueError(f"role {value!r} is neither a standard role nor a snake_case name")
        return value

    @field_validator("due")
    @classmethod
    def _due(cls, value: str) -> str:
        Due.parse(value)
        return value

    @property
    def due_rule(self) -> Due:
        """The parsed due rule."""
        return Due.parse(self.due)


class PlaybookSpec(BaseModel):
    """A playbook: the response plan for one incident type, versioned."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1]
    type: str
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    summary: str = ""
    steps: list[StepSpec] = Field(min_length=1)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in INCIDENT_TYPES:
            raise ValueError(f"type {value!r} is not one of {', '.join(INCIDENT_TYPES)}")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> PlaybookSpec:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} is used twice")
            seen.add(step.id)
        return self


def template_fields(text: str) -> list[str]:
    """The {field} names a template string uses; ValueError for a malformed one."""
    return [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None]


def render(value: Any, fields: Mapping[str, str]) -> Any:
    """Fill {field} placeholders in every string of a params template."""
    if isinstance(value, str):
        return value.format_map(fields)
    if isinstance(value, list):
        return [render(item, fields) for item in value]
    if isinstance(value, dict):
        return {key: render(item, fields) for key, item in value.items()}
    return value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
