"""Reading the human-readable text of a bounce: sections, address blocks, diagnostic lines."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.message import Message
from typing import Final

from mailwarden.events.bounces import parse_reply
from mailwarden.events.mail.message import (
    clean_address,
    iter_parts,
    parse_headers,
    part_text,
)
from mailwarden.events.mail.records import FAILED, Recipient

_ADDR: Final = r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+"
# A line that holds one address and little else: "  a@b", "<a@b>:", "\"a@b\":", "a@b on <date>".
ADDRESS_LINE: Final = re.compile(
    rf"^\s*(?:[Tt]o:\s*)?[\"']?<?({_ADDR})>?[\"']?(?:\s*\(expanded from[^)]*\))?:?"
    r"(?:\s+on\s+.{1,60})?\s*$"
)
_SEPARATOR: Final = re.compile(
    r"^\s*(?:-{2,}\s*)?(?:Below this line is a copy of the message"
    r"|This is a copy of the message|Original message (?:headers|follows|header)"
    r"|The (?:original )?(?:message|header)s? (?:of the original message )?(?:is|are|was) following"
    r"|The header of the original message|Unsent message below|Returned message"
    r"|Undelivered message headers|Message header follows|Original Message"
    r"|Headers? of (?:the )?(?:original|returned) message)",
    re.IGNORECASE | re.MULTILINE,
)
_HOST: Final = re.compile(
    r"(?:^|\bhost[:\s]+|while talking to\s+|\bby\s+)"
    r"([a-z0-9](?:[a-z0-9-]{0,62}\.)+[a-z]{2,63})\.?\s*[\[(]",
    re.IGNORECASE,
)
_HEADER_LINE: Final = re.compile(r"^[!-9;-~]{1,80}:")
_TRANSCRIPT_SENT: Final = re.compile(r"^\s*>>>")
_TRANSCRIPT_GOT: Final = re.compile(r"^\s*<<<\s?")
_MAX_DIAGNOSTIC: Final = 1000
_MAX_BLOCKS: Final = 200
_MAX_TEXT_PARTS: Final = 4


def human_text(message: Message) -> str:
    """Return the readable text of a message: its text parts, not the attached original."""
    plain: list[str] = []
    html: list[str] = []
    for part in iter_parts(message):
        kind = part.get_content_type()
        if kind == "text/plain" and len(plain) < _MAX_TEXT_PARTS:
            plain.append(part_text(part))
        elif kind == "text/html" and len(html) < _MAX_TEXT_PARTS:
            html.append(part_text(part))
    return "\n\n".join(text for text in plain or html if text.strip())


def split_original(text: str) -> tuple[str, str]:
    """Split a bounce text at the line introducing the returned message: (report, original)."""
    found = _SEPARATOR.search(text)
    if found is None:
        return text, ""
    end = text.find("\n", found.end())
    rest = text[end + 1 :] if end >= 0 else ""
    return text[: found.start()], rest


def original_from_text(rest: str) -> Message | None:
    """Parse the returned message's headers when the text after the separator starts with them."""
    body = rest.lstrip("\n ")
    body = "\n".join(
        line[1:] if line.startswith(" ") and _HEADER_LINE.match(line[1:]) else line
        for line in body.split("\n")[:400]
    )
    if not _HEADER_LINE.match(body):
        return None
    parsed = parse_headers(body)
    return parsed if parsed.keys() else None


def address_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Group lines under the address line that precedes them; a blank line ends a block."""
    blocks: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    for line in text.split("\n"):
        found = ADDRESS_LINE.match(line)
        if found is not None:
            if len(blocks) >= _MAX_BLOCKS:
                break
            current = []
            blocks.append((found.group(1), current))
        elif current is not None and line.strip():
            current.append(line.strip())
        elif current:
            current = None
    return blocks


def clean_diagnostic(lines: Iterable[str]) -> str | None:
    """Join diagnostic lines: drop what we sent (>>>), keep what the server said (<<<)."""
    kept: list[str] = []
    for line in lines:
        if _TRANSCRIPT_SENT.match(line):
            continue
        kept.append(_TRANSCRIPT_GOT.sub("", line).strip())
    text = " ".join(part for part in kept if part)
    return text[:_MAX_DIAGNOSTIC] or None


def remote_mta(text: str | None) -> str | None:
    """Return the remote host named in a diagnostic ("host mx.example.org [192.0.2.1]")."""
    if not text:
        return None
    found = _HOST.search(text)
    return found.group(1).lower() if found else None


def has_code(text: str | None) -> bool:
    """True when a text carries an SMTP reply code or an enhanced status code."""
    code, status = parse_reply(text)
    return code is not None or status is not None


def recipients_from_blocks(
    blocks: Iterable[tuple[str, list[str]]], action: str = FAILED
) -> list[Recipient]:
    """Turn address blocks into recipients, one per address, keeping the most telling text."""
    found: dict[str, Recipient] = {}
    for address, lines in blocks:
        clean = clean_address(address)
        if not clean:
            continue
        diagnostic = clean_diagnostic(lines)
        known = found.get(clean.lower())
        if known is None:
            found[clean.lower()] = make_recipient(clean, diagnostic, action)
        elif diagnostic and (not known.diagnostic or has_code(diagnostic)):
            known.diagnostic = diagnostic
            known.remote_mta = known.remote_mta or remote_mta(diagnostic)
    return list(found.values())


def make_recipient(address: str | None, diagnostic: str | None, action: str) -> Recipient:
    """Build a recipient from a text report: status and remote host read from the diagnostic."""
    _, status = parse_reply(diagnostic)
    return Recipient(
        address=clean_address(address),
        action=action,
        status=status,
        diagnostic=diagnostic,
        remote_mta=remote_mta(diagnostic),
    )
