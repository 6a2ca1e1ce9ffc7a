"""Canonical NDJSON: one event object a line, as in DESIGN.md; unknown fields kept in extra."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from mailwarden.events.errors import PayloadError
from mailwarden.events.mailboxes import mailbox_provider
from mailwarden.events.model import (
    BOUNCE_CLASSES,
    EVENT_TYPES,
    SECURITY_PREFIX,
    Bounce,
    Complaint,
    Event,
    core_keys,
    parse_time,
)
from mailwarden.events.providers.base import ParseResult, WebhookRequest

_OPTIONAL_TEXT = (
    "message_id",
    "sending_domain",
    "sending_ip",
    "campaign",
    "url",
    "user_agent",
    "actor",
    "source_ip",
    "country",
    "resource",
)


class NdjsonProvider:
    """Reads canonical events; has no signature (files and trusted pipes only)."""

    name = "ndjson"

    def verify(self, request: WebhookRequest) -> None:
        """Canonical NDJSON carries no signature; the door decides whether to accept it."""

    def parse(self, body: bytes) -> ParseResult:
        """Parse NDJSON lines, a JSON array or one object into events; raise PayloadError if bad."""
        result = ParseResult()
        whole = _whole_document(body)
        if whole is not None:
            for index, item in enumerate(whole):
                if not isinstance(item, dict):
                    raise PayloadError(f"item {index}: expected a JSON object")
                try:
                    result.events.append(event_from_dict(item, orjson.dumps(item)))
                except PayloadError as exc:
                    raise PayloadError(f"item {index}: {exc}") from None
            return result
        for number, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                result.events.append(event_from_json(line))
            except PayloadError as exc:
                raise PayloadError(f"line {number}: {exc}") from None
        return result


def _whole_document(body: bytes) -> list[Any] | None:
    """A JSON array, or one object spread over several lines; None means read it line by line."""
    stripped = body.strip()
    if not stripped.startswith(b"[") and b"\n" not in stripped:
        return None
    try:
        data = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, list):
        return data
    return [data] if isinstance(data, dict) else None


def event_from_json(line: bytes) -> Event:
    """Parse one canonical JSON object into an Event."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("expected a JSON object")
    return event_from_dict(data, line)


def event_from_dict(data: dict[str, Any], source: bytes = b"") -> Event:
    """Build an Event from a canonical object, checking every field's type."""
    event_type = _required(data, "type")
    if event_type not in EVENT_TYPES and not event_type.startswith(SECURITY_PREFIX):
        raise PayloadError(f"unknown type {event_type!r}")
    occurred = _required(data, "occurred_at")
    try:
        occurred_at = parse_time(occurred)
    except ValueError:
        raise PayloadError(f"occurred_at is not an ISO 8601 time: {occurred!r}") from None
    recipient = _text(data, "recipient")
    event_id = _text(data, "id") or "nd:" + hashlib.sha256(source).hexdigest()[:32]
    event = Event(
        id=event_id,
        type=event_type,
        occurred_at=occurred_at,
        provider=_text(data, "provider") or "ndjson",
        recipient=recipient,
        mailbox_provider=_text(data, "mailbox_provider") or mailbox_provider(recipient),
        tags=_tags(data.get("tags")),
        bounce=_bounce(data.get("bounce")),
        complaint=_complaint(data.get("complaint")),
        extra=_extra(data),
        count=_int(data, "count"),
    )
    for name in _OPTIONAL_TEXT:
        setattr(event, name, _text(data, name))
    return event


def _required(data: dict[str, Any], key: str) -> str:
    value = _text(data, key)
    if value is None:
        raise PayloadError(f"missing field {key!r}")
    return value


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"field {key!r} must be a string, got {type(value).__name__}")
    return value


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"field {key!r} must be an integer")
    return value


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise PayloadError("field 'tags' must be a list of strings")
    return list(value)


def _bounce(value: Any) -> Bounce | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PayloadError("field 'bounce' must be an object or null")
    bounce_class = _text(value, "class") or "undetermined"
    if bounce_class not in BOUNCE_CLASSES:
        raise PayloadError(f"bounce.class must be one of {sorted(BOUNCE_CLASSES)}")
    return Bounce(
        bounce_class,
        _text(value, "reason") or "undefined",
        _int(value, "smtp_code"),
        _text(value, "status"),
        _text(value, "diagnostic"),
    )


def _complaint(value: Any) -> Complaint | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PayloadError("field 'complaint' must be an object or null")
    return Complaint(_text(value, "feedback_type") or "abuse")


def _extra(data: dict[str, Any]) -> dict[str, Any]:
    extra = data.get("extra")
    if extra is not None and not isinstance(extra, dict):
        raise PayloadError("field 'extra' must be an object")
    kept = dict(extra or {})
    known = core_keys()
    kept.update({key: value for key, value in data.items() if key not in known})
    return kept
