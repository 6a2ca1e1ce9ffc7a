"""How batches travel through an out-of-process bus: orjson of canonical objects.

Events are written as `Event.to_dict()` (the canonical shape of DESIGN.md) and read back
here, strictly: the bus reads only what it wrote, so a missing or mistyped field is a
poison entry (`CodecError`), not something to guess around. Messages (findings, ...) are
written with their own `to_dict()` and read back by the decoder the composition root gives
for their topic, so this layer never imports the domain packages above it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson

from mailwarden.events.model import SECURITY_FIELDS, Bounce, Complaint, Event, parse_time

MessageDecoder = Callable[[dict[str, Any]], Any]
_DUMPS: Final = orjson.OPT_NON_STR_KEYS
_TEXT: Final = (
    "message_id",
    "recipient",
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


class CodecError(ValueError):
    """A stream entry that cannot be turned back into a batch."""


def encode_events(events: Sequence[Event]) -> bytes:
    """Render a batch of events as one JSON array of canonical objects."""
    return orjson.dumps([event_to_dict(event) for event in events], option=_DUMPS)


def decode_events(payload: bytes) -> list[Event]:
    """Read a batch written by encode_events; raise CodecError if it is not one."""
    return [event_from_dict(item) for item in _items(payload)]


def encode_messages(messages: Sequence[Any]) -> bytes:
    """Render a batch of messages as one JSON array of their to_dict() objects."""
    return orjson.dumps([message.to_dict() for message in messages], option=_DUMPS)


def decode_messages(payload: bytes, decoder: MessageDecoder) -> list[Any]:
    """Read a batch written by encode_messages with the topic's decoder."""
    out = []
    for index, item in enumerate(_items(payload)):
        try:
            out.append(decoder(item))
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError(f"item {index}: {type(exc).__name__}: {exc}") from None
    return out


def event_to_dict(event: Event) -> dict[str, Any]:
    """The canonical object, plus any security field a non-security event happens to carry."""
    out = event.to_dict()
    if not event.is_security:
        for name in SECURITY_FIELDS:
            value = getattr(event, name)
            if value is not None:
                out[name] = value
    return out


def event_from_dict(data: dict[str, Any]) -> Event:
    """Build the Event that event_to_dict rendered; raise CodecError on anything else."""
    try:
        event = Event(
            id=_str(data["id"]),
            type=_str(data["type"]),
            occurred_at=parse_time(_str(data["occurred_at"])),
            provider=_str(data["provider"]),
            mailbox_provider=_str(data.get("mailbox_provider", "other")),
            tags=[_str(tag) for tag in data.get("tags") or ()],
            bounce=_bounce(data.get("bounce")),
            complaint=_complaint(data.get("complaint")),
            extra=dict(data.get("extra") or {}),
            raw_ref=_int(data.get("raw_ref")),
            count=_int(data.get("count")),
        )
        for name in _TEXT:
            value = data.get(name)
            setattr(event, name, None if value is None else _str(value))
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"not a canonical event: {type(exc).__name__}: {exc}") from None
    return event


def partition_of(key: str | None, partitions: int) -> int:
    """A stable partition for a key (CRC-32, the same in every process); None goes to 0."""
    if partitions <= 1 or not key:
        return 0
    return zlib.crc32(key.encode()) % partitions


def event_key(event: Event) -> str | None:
    """What events are partitioned by: the sending domain, else the recipient's domain."""
    if event.sending_domain:
        return event.sending_domain.lower()
    if event.recipient and "@" in event.recipient:
        return event.recipient.rsplit("@", 1)[1].lower()
    return None


def _items(payload: bytes) -> list[dict[str, Any]]:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise CodecError(f"not JSON: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise CodecError("expected a JSON array of objects")
    return data


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _bounce(value: Any) -> Bounce | None:
    if value is None:
        return None
    return Bounce(
        _str(value["class"]),
        _str(value["reason"]),
        _int(value.get("smtp_code")),
        value.get("status"),
        value.get("diagnostic"),
    )


def _complaint(value: Any) -> Complaint | None:
    return None if value is None else Complaint(_str(value["feedback_type"]))
