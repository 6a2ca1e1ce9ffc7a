"""Bounces that are not (only) RFC 3464: the text formats of common MTAs and mailbox providers.

Each format is a signature (a phrase its MTA always writes) and a scanner that returns one
Recipient per address with the text the MTA gave for it. Formats are tried in table order on
the report text (the returned message cut off); the first one that finds recipients wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from mailwarden.events.mail.message import clean_address, find_addresses
from mailwarden.events.mail.records import DELAYED, FAILED, Recipient
from mailwarden.events.mail.textscan import (
    address_blocks,
    clean_diagnostic,
    make_recipient,
    recipients_from_blocks,
    split_original,
)

_FLAGS: Final = re.IGNORECASE | re.MULTILINE
_ADDR: Final = r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+"
DELAY_TEXT: Final = re.compile(
    r"has not yet been delivered|not (?:yet )?been delivered .{0,60}\byet\b"
    r"|delivery attempts will continue|will (?:continue to )?(?:retry|try again)"
    r"|this is a warning|transient non-fatal|delivery (?:is|has been) delayed"
    r"|delay reason|still being retried|message not delivered yet|temporary problem delivering"
    r"|delivery incomplete|DELAYED MAIL|could not send message for past",
    _FLAGS,
)
_SUCCESS: Final = re.compile(
    r"was successfully delivered|delivery to the following recipients? (?:was|has been)"
    r" (?:successful|completed)|successfully delivered to",
    _FLAGS,
)
_EXIM_SECTION: Final = re.compile(
    r"following\s+address(?:\(es\)|es)?\s+failed\s*:|address(?:\(es\)|es)?\s+to\s+which\s+the"
    r"\s+message\s+has\s+not\s+yet\s+been\s+delivered\s+(?:is|are)\s*:",
    _FLAGS,
)
_POSTFIX_LINE: Final = re.compile(
    rf"^<({_ADDR})>(?:\s*\(expanded from <?[^)]*?>?\))?:\s*(.*)$", re.IGNORECASE
)
_SENDMAIL_SECTION: Final = re.compile(
    r"-{3,}\s*The following addresses had (?:permanent fatal|transient non-fatal) errors\s*-*",
    _FLAGS,
)
_SENDMAIL_REASON: Final = re.compile(r"^\(reason:\s*(.*?)\)?\s*$", re.IGNORECASE)
_TRANSCRIPT_CODE: Final = re.compile(r"^\s*(?:<<<\s*)?([45]\d\d[ -].*)$", re.MULTILINE)
_TALKING_TO: Final = re.compile(r"while talking to ([\w.-]+?)\.?:", re.IGNORECASE)
_O365_TO: Final = re.compile(rf"Your message to ({_ADDR}) couldn't be delivered", _FLAGS)
_REMOTE_RETURNED: Final = re.compile(r"Remote Server returned '([^'\n]{3,500})'", _FLAGS)
_GMAIL_TO: Final = re.compile(
    rf"(?:wasn't delivered to|problem delivering your message to)\s+({_ADDR})", _FLAGS
)
_GMAIL_ERROR: Final = re.compile(
    r"(?:The error that the other server returned was|The response (?:from the remote server )?"
    r"was)\s*:?\s*\n?(.{1,2000}?)(?:\n\s*\n|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_DOMINO: Final = re.compile(
    r"was not delivered to:\s*\n(.{0,2000}?)\n\s*because:\s*\n(.{0,2000}?)(?:\n\s*\n|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_MIMECAST: Final = re.compile(
    rf"message to <?({_ADDR})>? was undeliverable\.?\s*The reason for the problem:\s*"
    r"(.{1,2000}?)(?:\n\s*\n|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_MAX_SECTION: Final = 60_000


@dataclass(frozen=True, slots=True)
class TextFormat:
    """One MTA's text format: the phrase that identifies it and the scanner that reads it."""

    name: str
    signature: re.Pattern[str]
    scan: Callable[[str], list[Recipient]]


def text_action(text: str) -> str:
    """Return delayed for delay warnings, delivered for success reports, else failed."""
    if DELAY_TEXT.search(text):
        return DELAYED
    if _SUCCESS.search(text):
        return "delivered"
    return FAILED


def scan_exim(text: str) -> list[Recipient]:
    """Exim, GMX/web.de and mail.ru: indented address lines, the reason indented below."""
    start = _EXIM_SECTION.search(text)
    section = text[start.end() :] if start else text
    found = recipients_from_blocks(address_blocks(section), text_action(text))
    for recipient in found:
        if recipient.diagnostic:
            recipient.diagnostic = re.sub(r"^Delay reason:\s*", "", recipient.diagnostic)
    return found


def scan_qmail(text: str) -> list[Recipient]:
    """qmail and Yahoo: "<a@b>:" lines, then what the remote host said."""
    return recipients_from_blocks(address_blocks(text), text_action(text))


def scan_postfix(text: str) -> list[Recipient]:
    """Postfix: "<a@b>: host x said: ..." with indented continuation lines."""
    action = text_action(text)
    found: list[Recipient] = []
    lines = text.split("\n")
    for index, line in enumerate(lines):
        match = _POSTFIX_LINE.match(line)
        if match is None:
            continue
        parts = [match.group(2)]
        for following in lines[index + 1 : index + 40]:
            if not following[:1].isspace() or not following.strip():
                break
            parts.append(following)
        found.append(make_recipient(match.group(1), clean_diagnostic(parts), action))
    return _unique(found)


def scan_sendmail(text: str) -> list[Recipient]:
    """Sendmail: addresses under the "following addresses had ... errors" line, the transcript."""
    start = _SENDMAIL_SECTION.search(text)
    if start is None:
        return []
    section = text[start.end() :]
    end = re.search(r"^\s*-{3,}", section, re.MULTILINE)
    listing = section[: end.start()] if end else section
    transcript = section[end.start() :] if end else ""
    action = DELAYED if "transient" in start.group(0).lower() else FAILED
    found: list[Recipient] = []
    for address, lines in address_blocks(listing):
        reasons = [m.group(1) for m in map(_SENDMAIL_REASON.match, lines) if m]
        diagnostic = clean_diagnostic(reasons) or _transcript_line(transcript, address)
        recipient = make_recipient(address, diagnostic, action)
        talking = _TALKING_TO.search(transcript)
        recipient.remote_mta = recipient.remote_mta or (talking.group(1) if talking else None)
        found.append(recipient)
    return _unique(found)


def scan_exchange(text: str) -> list[Recipient]:
    """Exchange 2003-2019 and Office 365 text: address lines, "#550 5.1.1 ... ##" below."""
    action = DELAYED if re.search(r"is delayed to|has been delayed", text, _FLAGS) else FAILED
    found = recipients_from_blocks(address_blocks(text), action)
    if found:
        for recipient in found:
            if recipient.diagnostic:
                recipient.diagnostic = recipient.diagnostic.replace("##", "").strip("# ")
        return found
    target = _O365_TO.search(text)
    returned = _REMOTE_RETURNED.search(text)
    if target is None:
        return []
    return [make_recipient(target.group(1), returned.group(1) if returned else None, action)]


def scan_gmail(text: str) -> list[Recipient]:
    """Gmail's text (old and new): the addresses, then the remote server's response."""
    action = text_action(text)
    error = _GMAIL_ERROR.search(text)
    diagnostic = clean_diagnostic(error.group(1).split("\n")) if error else None
    head = text[: error.start()] if error else text
    addresses = [m.group(1) for m in _GMAIL_TO.finditer(head)]
    addresses += [address for address, _ in address_blocks(head)]
    return _unique([make_recipient(address, diagnostic, action) for address in addresses])


def scan_domino(text: str) -> list[Recipient]:
    """Lotus Domino: "was not delivered to: <addresses> because: <reason>"."""
    found: list[Recipient] = []
    for match in _DOMINO.finditer(text):
        diagnostic = clean_diagnostic(match.group(2).split("\n"))
        for address in find_addresses(match.group(1)):
            found.append(make_recipient(address, diagnostic, FAILED))
    return _unique(found)


def scan_mimecast(text: str) -> list[Recipient]:
    """Mimecast-style gateways: "message to <a@b> was undeliverable. The reason ...: ..."."""
    found = [
        make_recipient(m.group(1), clean_diagnostic(m.group(2).split("\n")), FAILED)
        for m in _MIMECAST.finditer(text)
    ]
    return _unique(found)


def _sig(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _FLAGS)


FORMATS: Final[tuple[TextFormat, ...]] = (
    TextFormat(
        "mimecast", _sig(r"was undeliverable\.?\s*The reason for the problem"), scan_mimecast
    ),
    TextFormat("domino", _sig(r"was not delivered to:"), scan_domino),
    TextFormat(
        "sendmail",
        _sig(r"-{3,}\s*The following addresses had (?:permanent fatal|transient non-fatal)"),
        scan_sendmail,
    ),
    TextFormat(
        "postfix", _sig(r"This is the mail system at host|^\s*The mail system\s*$"), scan_postfix
    ),
    TextFormat(
        "qmail",
        _sig(
            r"qmail-send program|wasn't able to deliver your message|unable to deliver your"
            r" message to the following address"
        ),
        scan_qmail,
    ),
    TextFormat(
        "courier",
        _sig(r"running the Courier mail server|^\s*(?:UNDELIVERABLE|DELAYED) MAIL\s*$"),
        scan_qmail,
    ),
    TextFormat(
        "exim",
        _sig(
            r"created automatically by mail delivery software|could not be delivered to one or"
            r"\s+more of\s+its\s+recipients|has not yet been delivered to one or more of its"
            r"|не\s+может\s+быть\s+доставлено|не\s+удалось\s+доставить"
        ),
        scan_exim,
    ),
    TextFormat(
        "exchange",
        _sig(
            r"Delivery has failed to these recipients|Delivery is delayed to these recipients"
            r"|did not reach some or all of the intended recipients|recipient\(s\) cannot be"
            r" reached|Your message to \S+ couldn't be delivered|Remote Server returned"
        ),
        scan_exchange,
    ),
    TextFormat(
        "gmail",
        _sig(
            r"Delivery to the following recipients? (?:failed permanently|has been delayed)"
            r"|Technical details of (?:permanent|temporary) failure|The response from the"
            r" remote server was|wasn't delivered to|problem delivering your message to"
        ),
        scan_gmail,
    ),
)


def scan_text(text: str) -> tuple[str, list[Recipient]] | None:
    """Find the first known text format in a bounce and the recipients it names."""
    report, _ = split_original(text[:_MAX_SECTION])
    for text_format in FORMATS:
        if text_format.signature.search(report):
            found = text_format.scan(report)
            if found:
                return text_format.name, found
    return None


def scan_fallback(text: str, own: set[str]) -> list[Recipient]:
    """Any other bounce: address lines that are not the bounce's own addresses."""
    report, _ = split_original(text[:_MAX_SECTION])
    blocks = [(a, lines) for a, lines in address_blocks(report) if a.lower() not in own]
    return recipients_from_blocks(blocks, text_action(report))


def _transcript_line(transcript: str, address: str) -> str | None:
    """The server's last word on an address: a coded line naming it, else any reply naming it."""
    coded = [m.group(1) for m in _TRANSCRIPT_CODE.finditer(transcript)]
    naming = [line for line in transcript.split("\n") if address.lower() in line.lower()]
    replies = [line for line in naming if not line.lstrip().startswith(">>>")]
    chosen = [line for line in coded if address.lower() in line.lower()] or replies or coded
    return chosen[-1].strip().removeprefix("<<<").strip() if chosen else None


def _unique(found: list[Recipient]) -> list[Recipient]:
    seen: set[str] = set()
    unique: list[Recipient] = []
    for recipient in found:
        key = (clean_address(recipient.address) or "").lower()
        if key and key not in seen:
            seen.add(key)
            unique.append(recipient)
    return unique
