"""Helpers shared by the JSON webhook adapters: loading, typed fields, times, bounce verdicts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import orjson

from mailwarden.events.bounces import Verdict, classify, normalise_status, parse_reply
from mailwarden.events.errors import PayloadError, SignatureError
from mailwarden.events.model import Bounce, from_epoch, parse_time

_MAX_DIAGNOSTIC: Final = 2000

WEAK: Final = frozenset({"undetermined"})
STRONG: Final = frozenset({"undetermined", "hard", "soft", "block"})


@dataclass(frozen=True, slots=True)
class Hint:
    """A provider's verdict on a failure: the classifier classes it replaces, or final outright."""

    bounce_class: str
    reason: str
    replaces: frozenset[str] = WEAK
    final: bool = False


def type_name(value: Any) -> str:
    """Name a decoded JSON value's type the way a JSON author would."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def load_json(body: bytes, provider: str) -> Any:
    """Decode a JSON body, raising PayloadError that says why it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"{provider}: body is not valid JSON ({exc})") from None


def require_object(value: Any, what: str) -> dict[str, Any]:
    """Return value if it is a JSON object, else raise PayloadError naming what it should be."""
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be a JSON object, got {type_name(value)}")
    return value


def require_str(obj: Mapping[str, Any], key: str) -> str:
    """Return a required non-empty string field, else raise PayloadError naming the field."""
    value = obj.get(key)
    if isinstance(value, str) and value:
        return value
    if value is None:
        raise PayloadError(f"missing required field {key!r}")
    if value == "":
        raise PayloadError(f"required field {key!r} is empty")
    raise PayloadError(f"field {key!r} must be a string, got {type_name(value)}")


def opt_str(value: Any) -> str | None:
    """Return a string (numbers are written out), or None for absent or non-scalar values."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def opt_dict(value: Any) -> dict[str, Any]:
    """Return value if it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    """Coerce an int or a decimal string ("5") to int; anything else is None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) < 19:
            return int(text)
    return None


def str_list(value: Any) -> list[str]:
    """Turn a string or a list of strings into a list of non-empty strings."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    return []


def epoch_time(value: Any, key: str) -> datetime:
    """Read Unix seconds (number or decimal string) as an aware UTC datetime, or PayloadError."""
    if type(value) is int and 0 <= value < 10**11:
        return from_epoch(value)
    seconds: float
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str):
        try:
            seconds = float(value)
        except ValueError:
            raise PayloadError(f"field {key!r} is not Unix seconds: {value[:40]!r}") from None
    elif value is None:
        raise PayloadError(f"missing required field {key!r}")
    else:
        raise PayloadError(f"field {key!r} must be Unix seconds, got {type_name(value)}")
    if not math.isfinite(seconds):
        raise PayloadError(f"field {key!r} is not a finite number")
    try:
        return from_epoch(seconds)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"field {key!r} is out of range: {seconds!r}") from None


def iso_time(value: Any, key: str) -> datetime:
    """Read an ISO 8601 timestamp field as an aware UTC datetime, or PayloadError."""
    if value is None:
        raise PayloadError(f"missing required field {key!r}")
    if not isinstance(value, str):
        raise PayloadError(f"field {key!r} must be an ISO 8601 string, got {type_name(value)}")
    try:
        return parse_time(value)
    except (ValueError, OverflowError):
        raise PayloadError(f"field {key!r} is not an ISO 8601 time: {value[:40]!r}") from None


def smtp_code(value: Any) -> int | None:
    """Return an RFC 5321 reply code (2yz-5yz, y 0-5) from an int or string, else None."""
    code = as_int(value)
    if code is None or not 200 <= code <= 599 or (code // 10) % 10 > 5:
        return None
    return code


def verdict(
    code: int | None, status: str | None, diagnostic: str | None, hint: Hint | None
) -> Verdict:
    """Classify a failure, then let the provider's hint fill in or override it."""
    if hint is not None and hint.final:
        return Verdict(hint.bounce_class, hint.reason)
    found = classify(code, status, diagnostic)
    if hint is None:
        return found
    if found.bounce_class == hint.bounce_class:
        return found if found.reason != "undefined" else Verdict(hint.bounce_class, hint.reason)
    if found.bounce_class in hint.replaces:
        return Verdict(hint.bounce_class, hint.reason)
    return found


def make_bounce(
    code: int | None, status: str | None, diagnostic: str | None, hint: Hint | None = None
) -> Bounce:
    """Build the canonical Bounce: codes parsed from the text where missing, then classified."""
    text = diagnostic[:_MAX_DIAGNOSTIC] if diagnostic else None
    status = normalise_status(status)
    if text and (code is None or status is None):
        found_code, found_status = parse_reply(text)
        code = code if code is not None else found_code
        status = status or found_status
    decided = verdict(code, status, text, hint)
    return Bounce(decided.bounce_class, decided.reason, code, status, text)


def signed_seconds(value: Any) -> int | None:
    """Read a signature timestamp (Unix seconds as digits or an int), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < 10**12 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    return None


def check_window(
    signed_at: int, now: datetime, max_age: timedelta, max_skew: timedelta, provider: str
) -> None:
    """Raise SignatureError if a signature timestamp is older than max_age or too far ahead."""
    age = now.timestamp() - signed_at
    if age > max_age.total_seconds():
        limit = int(max_age.total_seconds())
        raise SignatureError(f"{provider} signature is older than {limit} s (stale or replayed)")
    if -age > max_skew.total_seconds():
        raise SignatureError(f"{provider} signature timestamp lies in the future")
