"""RFC 3464 (and RFC 6533) delivery status notifications: the message/delivery-status part."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Final

from mailwarden.events.bounces import normalise_status
from mailwarden.events.mail.message import (
    body_text,
    clean_address,
    decode_value,
    iter_parts,
    parse_date,
)
from mailwarden.events.mail.records import FAILED, Recipient

STATUS_TYPES: Final = frozenset({"message/delivery-status", "message/global-delivery-status"})
Fields = Mapping[str, Sequence[str]]

_FIELD: Final = re.compile(r"^([!-9;-~]{1,80}):[ \t]*(.*)$")
_ACTIONS: Final = frozenset({"failed", "delayed", "delivered", "relayed", "expanded"})
_RECIPIENT_KEYS: Final = ("final-recipient", "original-recipient", "x-actual-recipient")
_MAX_RECIPIENTS: Final = 500


@dataclass(slots=True)
class DeliveryStatus:
    """The per-message fields and the per-recipient records of one delivery-status part."""

    reporting_mta: str | None = None
    arrival_date: datetime | None = None
    recipients: list[Recipient] = field(default_factory=list)


def find_status_part(message: Message) -> Message | None:
    """Return the first message/delivery-status (or global) part outside attached messages."""
    for part in iter_parts(message):
        if part.get_content_type() in STATUS_TYPES:
            return part
    return None


def parse_blocks(text: str) -> list[dict[str, list[str]]]:
    """Split report text into blocks of fields (lower-cased names), folded lines joined."""
    blocks: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] = {}
    last: str | None = None
    for line in text.split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
            continue
        if line[0] in " \t" and last is not None:
            current[last][-1] += " " + line.strip()
            continue
        found = _FIELD.match(line)
        if found is None:
            last = None
            continue
        last = found.group(1).lower()
        current.setdefault(last, []).append(found.group(2).strip())
    if current:
        blocks.append(current)
    return blocks


def first(fields: Fields, name: str) -> str | None:
    """Return the first decoded value of a field, or None."""
    values = fields.get(name)
    if not values:
        return None
    value = decode_value(values[0])
    return value or None


def parse_delivery_status(part: Message) -> DeliveryStatus:
    """Read the per-message and per-recipient fields of a delivery-status part."""
    blocks = parse_blocks(body_text(part))
    report = DeliveryStatus()
    for block in blocks:
        report.reporting_mta = report.reporting_mta or _typed(first(block, "reporting-mta"))
        report.arrival_date = report.arrival_date or parse_date(first(block, "arrival-date"))
        if any(key in block for key in _RECIPIENT_KEYS) or "action" in block:
            report.recipients.append(_recipient(block))
        if len(report.recipients) >= _MAX_RECIPIENTS:
            break
    return report


def _recipient(block: Fields) -> Recipient:
    final = clean_address(_typed(first(block, "final-recipient")))
    original = clean_address(_typed(first(block, "original-recipient")))
    actual = clean_address(_typed(first(block, "x-actual-recipient")))
    address = _best(original, final, actual)
    action = (first(block, "action") or FAILED).split()[0].lower().strip(";")
    return Recipient(
        address=address,
        action=action if action in _ACTIONS else FAILED,
        status=normalise_status(first(block, "status")),
        diagnostic=_typed(first(block, "diagnostic-code")),
        remote_mta=_host(_typed(first(block, "remote-mta"))),
        final_recipient=final,
        last_attempt=parse_date(first(block, "last-attempt-date")),
        will_retry_until=parse_date(first(block, "will-retry-until")),
    )


def _best(*candidates: str | None) -> str | None:
    """Prefer the address we sent to (Original-Recipient) when it is a real address."""
    for candidate in candidates:
        if candidate and "@" in candidate:
            return candidate
    return next((candidate for candidate in candidates if candidate), None)


def _host(value: str | None) -> str | None:
    """The host name of a Remote-MTA value ("mx.example.org. (192.0.2.1, ...)")."""
    if not value:
        return None
    return value.split()[0].strip("[]().;,").lower() or None


def _typed(value: str | None) -> str | None:
    """Drop the type prefix of a typed field ("rfc822; a@b", "smtp; 550 ...", "dns; host")."""
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    if sep and re.fullmatch(r"\s*[\w.-]{1,20}\s*", kind):
        value = rest
    return value.strip() or None
