"""Raw mail (.eml, mbox messages, IMAP): DSN bounces and ARF complaints -> canonical events.

* failed -> ``bounced``; delayed -> ``deferred``; delivered/relayed/expanded -> ``delivered``;
  an ARF report -> ``complained`` (``not-spam`` and ``auth-failure`` reports give no event).
  Auto-replies and ordinary mail give no event, only a note.
* Event id: ``mail:`` + sha256 of (original Message-ID, else the report's Message-ID, else
  the body) + recipient + type, so re-reading the same file stores one event.
* occurred_at: the recipient's Last-Attempt-Date, else the report's Date, else the DSN or
  ARF Arrival-Date, else the topmost Received date; with none of these, PayloadError.
* A bounce naming no recipient gives no event (a note says so); a complaint whose
  complainer was redacted gives an event with recipient None.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Final

from mailwarden.events.errors import PayloadError
from mailwarden.events.mail.analyse import analyse
from mailwarden.events.mail.message import domain_of
from mailwarden.events.mail.records import (
    BOUNCE,
    COMPLAINT,
    DELAYED,
    DELIVERED,
    Analysis,
    Finding,
)
from mailwarden.events.mailboxes import mailbox_provider
from mailwarden.events.model import Bounce, Complaint, Event
from mailwarden.events.providers.base import ParseResult, WebhookRequest

_NO_EVENT_FEEDBACK: Final = frozenset({"not-spam", "auth-failure"})


class RawMailProvider:
    """Reads one raw mail message (bounce, complaint, success DSN) into canonical events."""

    name = "eml"

    def verify(self, request: WebhookRequest) -> None:
        """Accept every request: raw mail carries no signature to check."""

    def parse(self, body: bytes) -> ParseResult:
        """Turn one raw mail message into events; raise PayloadError if it is not mail."""
        analysis = analyse(body)
        result = ParseResult(notes=list(analysis.notes))
        for finding in analysis.findings:
            event_type = _event_type(finding)
            if event_type is None:
                if finding.kind == COMPLAINT:
                    result.notes.append(f"{finding.feedback_type} feedback: no complaint event")
                continue
            if finding.recipient is None and finding.kind != COMPLAINT:
                result.notes.append(f"{finding.kind} without a readable recipient: no event")
                continue
            result.events.append(_event(analysis, finding, event_type, body))
        if not result.events and not result.notes:
            result.notes.append(f"{analysis.kind}: no event")
        return result


def _event_type(finding: Finding) -> str | None:
    if finding.kind == BOUNCE:
        return "deferred" if finding.action == DELAYED else "bounced"
    if finding.kind == DELIVERED:
        return "delivered"
    if finding.kind == COMPLAINT and finding.feedback_type not in _NO_EVENT_FEEDBACK:
        return "complained"
    return None


def _event(analysis: Analysis, finding: Finding, event_type: str, body: bytes) -> Event:
    original = analysis.original
    sender = original.sender or analysis.original_mail_from
    return Event(
        id=event_id(analysis, finding.recipient, event_type, body),
        type=event_type,
        occurred_at=_occurred_at(analysis, finding),
        provider=RawMailProvider.name,
        message_id=original.message_id,
        recipient=finding.recipient,
        mailbox_provider=mailbox_provider(finding.recipient, finding.remote_mta),
        sending_domain=domain_of(sender),
        sending_ip=analysis.source_ip if finding.kind == COMPLAINT else None,
        campaign=original.campaign,
        bounce=_bounce(finding) if finding.kind == BOUNCE else None,
        complaint=Complaint(finding.feedback_type or "abuse")
        if finding.kind == COMPLAINT
        else None,
        extra=_extra(analysis, finding),
    )


def event_id(analysis: Analysis, recipient: str | None, event_type: str, body: bytes) -> str:
    """Return the deterministic id of one event read from one message."""
    anchor = analysis.original.message_id or analysis.message_id
    if anchor is None:
        anchor = "body:" + hashlib.sha256(body).hexdigest()
    key = "\n".join((anchor, (recipient or "").lower(), event_type))
    return "mail:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _occurred_at(analysis: Analysis, finding: Finding) -> datetime:
    for when in (
        finding.occurred_at,
        analysis.date,
        analysis.arrival_date,
        analysis.received_date,
    ):
        if when is not None:
            return when
    raise PayloadError(
        "no date: the message has no Date header, no Last-Attempt-Date or Arrival-Date"
        " field and no dated Received header"
    )


def _bounce(finding: Finding) -> Bounce:
    return Bounce(
        bounce_class=finding.bounce_class or "undetermined",
        reason=finding.reason or "undefined",
        smtp_code=finding.reply_code,
        status=finding.status,
        diagnostic=finding.diagnostic,
    )


def _extra(analysis: Analysis, finding: Finding) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "mail_format": analysis.format,
        "action": finding.action,
        "remote_mta": finding.remote_mta,
        "reporting_mta": analysis.reporting_mta,
        "final_recipient": finding.final_recipient
        if finding.final_recipient != finding.recipient
        else None,
        "report_message_id": analysis.message_id,
        "original_subject": analysis.original.subject,
        "feedback_user_agent": analysis.feedback_user_agent,
        "reported_domain": analysis.reported_domain,
    }
    return {key: value for key, value in extra.items() if value is not None}
