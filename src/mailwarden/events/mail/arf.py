"""RFC 5965 abuse reports (ARF): the message/feedback-report part and the reported message."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Final

from mailwarden.events.mail.dsn import first, parse_blocks
from mailwarden.events.mail.message import (
    body_text,
    clean_address,
    header,
    iter_parts,
    param,
    parse_date,
)

FEEDBACK_TYPE: Final = "message/feedback-report"
AUTH_FAILURE: Final = "auth-failure"
# Headers some receivers add to the returned message to name the real recipient.
RECIPIENT_HEADERS: Final = ("X-HmXmrOriginalRecipient", "X-Original-To", "Delivered-To")
_REDACTED: Final = re.compile(r"redacted|^[x*#.]+@|@[x*#.]+$|\*{3,}|^x{3,}", re.IGNORECASE)
_MAX_RECIPIENTS: Final = 100


@dataclass(slots=True)
class FeedbackReport:
    """The fields of one feedback report that matter for a complaint event."""

    feedback_type: str
    user_agent: str | None = None
    original_mail_from: str | None = None
    original_rcpt_to: list[str] = field(default_factory=list)
    arrival_date: datetime | None = None
    source_ip: str | None = None
    reported_domain: str | None = None


def is_feedback_report(message: Message) -> bool:
    """True when the message is (or contains) an ARF feedback report."""
    report_type = param(message, "report-type")
    return report_type == "feedback-report" or find_feedback_part(message) is not None


def find_feedback_part(message: Message) -> Message | None:
    """Return the message/feedback-report part outside attached messages, or None."""
    for part in iter_parts(message):
        if part.get_content_type() == FEEDBACK_TYPE:
            return part
    return None


def parse_feedback(part: Message | None) -> FeedbackReport:
    """Read the machine-readable fields of a feedback report (abuse when the type is missing)."""
    merged: dict[str, list[str]] = {}
    for block in parse_blocks(body_text(part)) if part is not None else []:
        for name, values in block.items():
            merged.setdefault(name, []).extend(values)
    kind = (first(merged, "feedback-type") or "abuse").split()[0].lower().strip(";")
    rcpts = [clean_address(value) for value in merged.get("original-rcpt-to", [])]
    return FeedbackReport(
        feedback_type=kind,
        user_agent=first(merged, "user-agent"),
        original_mail_from=clean_address(first(merged, "original-mail-from")),
        original_rcpt_to=[r for r in rcpts if r and not is_redacted(r)][:_MAX_RECIPIENTS],
        arrival_date=parse_date(first(merged, "arrival-date") or first(merged, "received-date")),
        source_ip=first(merged, "source-ip"),
        reported_domain=first(merged, "reported-domain"),
    )


def complainers(report: FeedbackReport, original: Message | None) -> list[str]:
    """Who complained: Original-Rcpt-To, else a recipient header of the original, else its To."""
    if report.original_rcpt_to:
        return report.original_rcpt_to
    if original is None:
        return []
    for name in (*RECIPIENT_HEADERS, "To"):
        address = clean_address(header(original, name))
        if address and "@" in address and not is_redacted(address):
            return [address]
    return []


def is_redacted(address: str) -> bool:
    """True when a receiver has blanked out the address (Yahoo, Microsoft JMRP style)."""
    return bool(_REDACTED.search(address))
