"""Entry point: one raw mail message -> what it says about each recipient.

Order: an ARF feedback report is a complaint; a message/delivery-status part is a DSN
(failed/delayed -> bounce, delivered/relayed/expanded -> delivered); a message that looks
like a bounce (sender, subject, report type, X-Failed-Recipients) is read by the MTA text
formats; an auto-reply (Auto-Submitted, X-Autoreply, "Out of Office" ...) is an autoreply;
anything else is not a bounce.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Final

from mailwarden.events.bounces import Verdict, classify, normalise_status, parse_reply
from mailwarden.events.mail import arf
from mailwarden.events.mail.dsn import find_status_part, parse_delivery_status
from mailwarden.events.mail.message import (
    ATTACHED_TYPES,
    attached_message,
    clean_address,
    find_addresses,
    header,
    headers,
    iter_parts,
    load,
    param,
    parse_date,
    received_date,
)
from mailwarden.events.mail.nonstandard import scan_fallback, scan_text
from mailwarden.events.mail.records import (
    AUTOREPLY,
    BOUNCE,
    COMPLAINT,
    DELAYED,
    DELIVERED,
    FAILED,
    NOT_A_BOUNCE,
    SUCCESS_ACTIONS,
    Analysis,
    Finding,
    Original,
    Recipient,
)
from mailwarden.events.mail.textscan import human_text, original_from_text, split_original

_DAEMON: Final = re.compile(
    r"mailer-daemon|mailer_daemon|mail-daemon|postmaster|mail delivery|mail administrator"
    r"|maildelivery|mail system|courier mail server",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT: Final = re.compile(
    r"^\s*(?:undeliver|returned mail|mail delivery (?:failed|failure)|delivery status notif"
    r"|delivery (?:failure|failed|notification|has failed|delayed|report|incomplete)"
    r"|failure notice|mail system error|non[- ]?remis|unzustellbar|nondeliverable"
    r"|warning: (?:could not send|message .{1,60} delayed)|delayed mail|successful mail deliv"
    r"|(?:mail|message) (?:could not be delivered|not delivered|delivery failure)"
    r"|notice: mail delivery status|mail failure|message delivery failure|недоставленное"
    r"|delivery[ _]failure|returned message|could not deliver)",
    re.IGNORECASE,
)
_AUTOREPLY_SUBJECT: Final = re.compile(
    r"^\s*(?:auto(?:matic)?[ -]?(?:reply|response|antwort)|out of (?:the )?office|autoreply"
    r"|abwesenheit|absence|r[ée]ponse automatique|autosvar|on vacation|vacation|away from"
    r"|automatische antwort|auto:|自动回复)",
    re.IGNORECASE,
)
_AUTOREPLY_HEADERS: Final = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply")
_CAMPAIGN_HEADERS: Final = (
    "X-Campaign",
    "X-Campaign-Id",
    "X-CampaignID",
    "X-Mailgun-Campaign-Id",
    "X-Mailjet-Campaign",
)
_GENERIC_STATUS: Final = frozenset({"4.0.0", "5.0.0"})


def analyse(body: bytes) -> Analysis:
    """Read one raw mail message and say, per recipient, what it reports."""
    message = load(body)
    original = _original_message(message)
    result = Analysis(
        findings=[],
        format="mail",
        message_id=_message_id(header(message, "Message-ID")),
        subject=header(message, "Subject"),
        date=parse_date(header(message, "Date")),
        received_date=received_date(message),
        original=_original(original),
    )
    if arf.is_feedback_report(message):
        _complaint(message, original, result)
    elif not _bounce(message, result):
        _not_a_bounce(message, result)
    return result


def _complaint(message: Message, original: Message | None, result: Analysis) -> None:
    report = arf.parse_feedback(arf.find_feedback_part(message))
    result.format = "arf"
    result.arrival_date = report.arrival_date
    result.source_ip = report.source_ip
    result.feedback_user_agent = report.user_agent
    result.reported_domain = report.reported_domain
    result.original_mail_from = report.original_mail_from
    if report.feedback_type == arf.AUTH_FAILURE:
        result.findings.append(Finding(None, NOT_A_BOUNCE, feedback_type=report.feedback_type))
        result.notes.append("ARF auth-failure report (a DMARC failure sample), not a complaint")
        return
    found: list[str | None] = list(arf.complainers(report, original))
    if not found:
        result.notes.append("no complainer address (redacted or missing): recipient unknown")
        found.append(None)
    for address in found:
        finding = Finding(address, COMPLAINT, feedback_type=report.feedback_type)
        finding.reason = "feedback"
        result.findings.append(finding)


def _bounce(message: Message, result: Analysis) -> bool:
    """Fill findings from a DSN or a bounce text; False when the message is not a bounce."""
    strong, weak = _bounce_signals(message)
    text = human_text(message) if strong or weak else ""
    scanned = scan_text(text) if text else None
    recipients = _dsn(message, result)
    if recipients:
        _complete(recipients, scanned[1] if scanned else [])
    elif scanned is not None:
        result.format, recipients = scanned
    elif strong:
        recipients = _fallback(message, text, result)
    if not recipients and not strong:
        return False
    if result.original.message_id is None and recipients:
        result.original.message_id = _message_id(header(message, "In-Reply-To"))
    if not recipients:
        result.notes.append("looks like a bounce, but names no recipient we could read")
        recipients = [Recipient(None, FAILED)]
    result.findings.extend(_finding(recipient) for recipient in recipients)
    return True


def _dsn(message: Message, result: Analysis) -> list[Recipient]:
    part = find_status_part(message)
    if part is None:
        return []
    report = parse_delivery_status(part)
    result.reporting_mta = report.reporting_mta
    result.arrival_date = report.arrival_date
    if report.recipients:
        result.format = "rfc3464"
    return report.recipients


def _complete(recipients: list[Recipient], from_text: list[Recipient]) -> None:
    """Fill what a DSN left out (diagnostic, even the address) from its text part."""
    by_address = {(r.address or "").lower(): r for r in from_text if r.address}
    for recipient in recipients:
        if recipient.address is None and len(from_text) == 1:
            recipient.address = from_text[0].address
        known = by_address.get((recipient.address or "").lower())
        if known is not None and not recipient.diagnostic:
            recipient.diagnostic = known.diagnostic
            recipient.remote_mta = recipient.remote_mta or known.remote_mta


def _fallback(message: Message, text: str, result: Analysis) -> list[Recipient]:
    own = {a.lower() for name in ("From", "To", "Reply-To") for a in _addresses(message, name)}
    found = scan_fallback(text, own) if text else []
    if found:
        result.format = "generic"
        return found
    failed = _addresses(message, "X-Failed-Recipients")
    if failed:
        result.format = "x-failed-recipients"
        report, _ = split_original(text)
        code_line = next((line for line in report.split("\n") if parse_reply(line)[0]), None)
        return [Recipient(address, FAILED, diagnostic=code_line) for address in failed]
    return []


def _finding(recipient: Recipient) -> Finding:
    finding = Finding(
        recipient=recipient.address,
        kind=BOUNCE,
        action=recipient.action,
        diagnostic=recipient.diagnostic,
        remote_mta=recipient.remote_mta,
        final_recipient=recipient.final_recipient,
        occurred_at=recipient.last_attempt,
    )
    code, text_status = parse_reply(recipient.diagnostic)
    finding.reply_code = code
    finding.status = _best_status(recipient.status, text_status)
    if recipient.action in SUCCESS_ACTIONS:
        finding.kind = DELIVERED
        return finding
    verdict = _verdict(recipient.action, code, finding.status, recipient.diagnostic)
    finding.bounce_class, finding.reason = verdict.bounce_class, verdict.reason
    return finding


def _verdict(action: str, code: int | None, status: str | None, text: str | None) -> Verdict:
    """Classify; a failure after temporary errors expired, and a delay is never hard."""
    verdict = classify(code, status, text)
    temporary = (status or "").startswith("4.") or (status is None and 400 <= (code or 0) < 500)
    if action == FAILED and temporary and verdict.bounce_class != "block":
        return Verdict("soft", "expired")
    if action == DELAYED and verdict.bounce_class in {"hard", "undetermined"}:
        return Verdict("soft", verdict.reason)
    return verdict


def _best_status(reported: str | None, from_text: str | None) -> str | None:
    """The DSN's Status, unless it is only X.0.0 and the diagnostic names a finer one."""
    status = normalise_status(reported)
    if status is None or (status in _GENERIC_STATUS and from_text is not None):
        return from_text or status
    return status


def _not_a_bounce(message: Message, result: Analysis) -> None:
    if _is_autoreply(message):
        sender = clean_address(header(message, "From"))
        result.findings.append(Finding(sender, AUTOREPLY, reason="vacation"))
        result.format = "autoreply"
        result.notes.append("auto-reply (vacation, out of office or autoresponder): no event")
        return
    report_type = param(message, "report-type")
    what = f"a {report_type} report" if report_type else "ordinary mail"
    result.findings.append(Finding(None, NOT_A_BOUNCE))
    result.notes.append(f"not a bounce or complaint ({what}): no event")


def _bounce_signals(message: Message) -> tuple[bool, bool]:
    """(strong, weak): strong = bounce subject, DSN report or X-Failed-Recipients."""
    report_type = param(message, "report-type")
    subject = header(message, "Subject") or ""
    strong = (
        report_type == "delivery-status"
        or bool(_BOUNCE_SUBJECT.search(subject))
        or header(message, "X-Failed-Recipients") is not None
    )
    sender = " ".join(headers(message, "From") + headers(message, "Return-Path"))
    weak = bool(_DAEMON.search(sender)) or (header(message, "Return-Path") or "").strip() == "<>"
    return strong, weak


def _is_autoreply(message: Message) -> bool:
    submitted = (header(message, "Auto-Submitted") or "").lower()
    precedence = (header(message, "Precedence") or "").lower()
    if submitted.startswith("auto-replied") or precedence == "auto_reply":
        return True
    if any(header(message, name) for name in _AUTOREPLY_HEADERS):
        return True
    return bool(_AUTOREPLY_SUBJECT.search(header(message, "Subject") or ""))


def _original_message(message: Message) -> Message | None:
    for part in iter_parts(message):
        if part is not message and part.get_content_type() in ATTACHED_TYPES:
            found = attached_message(part)
            if found is not None and found.keys():
                return found
    _, rest = split_original(human_text(message))
    return original_from_text(rest) if rest else None


def _original(found: Message | None) -> Original:
    if found is None:
        return Original()
    campaign = next((v for v in (header(found, n) for n in _CAMPAIGN_HEADERS) if v), None)
    return Original(
        message_id=_message_id(header(found, "Message-ID")),
        sender=clean_address(header(found, "From")),
        to=clean_address(header(found, "To")),
        subject=header(found, "Subject"),
        campaign=campaign[:200] if campaign else None,
    )


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    text = value.split()[0] if value.split() else ""
    text = text.strip().strip("<>").strip()
    return text[:500] or None


def _addresses(message: Message, name: str) -> list[str]:
    return [a for value in headers(message, name) for a in find_addresses(value)]
