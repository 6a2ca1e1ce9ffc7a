"""Typed reads of SES message fields: optional ones forgive, required ones say what is wrong."""

from __future__ import annotations

from typing import Any

from mailwarden.events.errors import PayloadError

Json = dict[str, Any]


def tag_map(value: object) -> dict[str, list[str]]:
    """SES tags / link tags (name -> [values]); malformed entries are skipped, not fatal."""
    out: dict[str, list[str]] = {}
    for key, values in value.items() if isinstance(value, dict) else ():
        items = [values] if isinstance(values, str) else values
        if isinstance(key, str) and isinstance(items, list):
            out[key] = [v for v in items if isinstance(v, str)]
    return out


def first(tags: dict[str, list[str]], key: str) -> str | None:
    values = tags.get(key)
    return values[0] if values else None


def pick(data: Json, **names: str) -> Json:
    """Optional string fields, renamed: pick(d, our_name="theirName")."""
    return {ours: opt(data, theirs) for ours, theirs in names.items()}


def opt(data: Json, key: str) -> str | None:
    """An optional string field; a value of another type is ignored, not fatal."""
    value = data.get(key)
    return value if isinstance(value, str) else None


def required(data: Json, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"SES {where}.{key} is missing or not a string")
    return value.strip()


def obj(data: Json, key: str) -> Json:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"SES message field {key} is missing or not an object")
    return value


def objs(data: Json, key: str, where: str) -> list[Json]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PayloadError(f"SES {where}.{key} is missing or not a list of objects")
    return value


def texts(data: Json, key: str, where: str, *, required: bool) -> list[str]:
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PayloadError(f"SES {where}.{key} is missing or not a list of addresses")
    return [v.strip() for v in value]
