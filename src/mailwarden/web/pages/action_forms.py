"""Action parameter forms from each action's JSON schema, and the posted values back.

Simple fields get inputs (text, number, checkbox, one item a line for lists); anything the
form cannot express is a JSON text field. The action's own schema validates the result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

PREFIX: Final = "p."


@dataclass(frozen=True, slots=True)
class Field:
    """One parameter as a form field."""

    name: str
    label: str
    kind: str  # text, list, number, integer, bool, json, datetime
    required: bool
    value: str
    hint: str


def fields_of(schema: Mapping[str, Any], prefill: Mapping[str, str]) -> list[Field]:
    """The form fields of an action's parameter schema, prefilled where we know the value."""
    required = set(schema.get("required", []))
    found = []
    for name, spec in schema.get("properties", {}).items():
        kind, hint = _kind(_non_null(spec))
        label = str(spec.get("title") or name.replace("_", " ").capitalize())
        default = spec.get("default")
        value = prefill.get(name, "" if default is None else _text(default))
        found.append(Field(name, label, kind, name in required, value, hint))
    return found


def values_of(schema: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The parameters from a posted form (empty optional fields left out); ValueError if bad."""
    params: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        raw = form.get(PREFIX + name, "").strip()
        kind, _hint = _kind(_non_null(spec))
        if kind == "bool":
            params[name] = raw in ("on", "true", "1")
        elif raw:
            params[name] = _parse(name, kind, raw)
    return params


def _parse(name: str, kind: str, raw: str) -> Any:
    if kind == "list":
        return [item.strip() for item in raw.replace(",", "\n").splitlines() if item.strip()]
    if kind in ("number", "integer"):
        try:
            return int(raw) if kind == "integer" else float(raw)
        except ValueError:
            raise ValueError(f"{name}: not a number: {raw!r}") from None
    if kind == "json":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name}: not valid JSON ({exc.msg})") from None
    return raw


def _non_null(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    options = [o for o in spec.get("anyOf", []) if o.get("type") != "null"]
    return options[0] if len(options) == 1 else spec


def _kind(spec: Mapping[str, Any]) -> tuple[str, str]:
    kind = spec.get("type")
    if kind == "array" and spec.get("items", {}).get("type") in ("string", "integer", None):
        return "list", "one a line"
    if kind == "boolean":
        return "bool", ""
    if kind in ("integer", "number"):
        return str(kind), ""
    if kind == "string":
        if spec.get("format") == "date-time":
            return "text", "ISO 8601 with a time zone, e.g. 2026-12-01T00:00:00Z"
        choices = spec.get("enum")
        return "text", f"one of {', '.join(map(str, choices))}" if choices else ""
    return "json", "JSON"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(map(str, value))
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value) if not isinstance(value, dict) else json.dumps(value)
