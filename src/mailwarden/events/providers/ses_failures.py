"""How SES describes a failed or delayed delivery, and what we make of it.

SES's bounceType/bounceSubType (and delayType) fix the class and some reasons; the SMTP
text decides the rest through bounces.classify, and a sender-level block seen in that text
wins over SES's hint: a blocked IP must never become a hard bounce.
"""

from __future__ import annotations

import re
from typing import Any, Final

from mailwarden.events.bounces import Verdict, classify
from mailwarden.events.model import Bounce
from mailwarden.events.providers.ses_fields import opt

Hint = tuple[str, str | None]  # (class, fixed reason or None: take the classifier's)
BOUNCE_HINTS: Final[dict[tuple[str, str], Hint]] = {
    ("Permanent", "General"): ("hard", None),
    ("Permanent", "NoEmail"): ("hard", "userunknown"),
    ("Permanent", "Suppressed"): ("hard", "suppressed"),
    ("Permanent", "OnAccountSuppressionList"): ("hard", "suppressed"),
    ("Transient", "General"): ("soft", None),
    ("Transient", "MailboxFull"): ("soft", "mailboxfull"),
    ("Transient", "MessageTooLarge"): ("soft", "mesgtoobig"),
    ("Transient", "ContentRejected"): ("block", "contenterror"),
    ("Transient", "AttachmentRejected"): ("block", "contenterror"),
    ("Undetermined", "Undetermined"): ("undetermined", None),
}
BOUNCE_TYPE_CLASS: Final = {"Permanent": "hard", "Transient": "soft"}
DELAY_HINTS: Final[dict[str, Hint]] = {
    "MailboxFull": ("soft", "mailboxfull"),
    "SpamDetected": ("block", "spamdetected"),
    "IPFailure": ("block", "blocked"),
    "InternalFailure": ("soft", "systemerror"),
    "RecipientServerError": ("soft", "systemerror"),
    "BYOIPHostNameLookupUnavailable": ("soft", "systemerror"),
    "TransientCommunicationFailure": ("soft", "networkerror"),
    "SendingDeferral": ("soft", "onhold"),
    "General": ("soft", None),
    "Undetermined": ("undetermined", None),
}
_SMTP_CODE: Final = re.compile(r"(?<![\d.])([245]\d\d)(?![\d.])")
_STATUS: Final = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_DIAG_TYPE: Final = re.compile(r"^\s*smtp\s*;\s*", re.IGNORECASE)


def failure(item: dict[str, Any], hint: Hint, *, authoritative: bool = False) -> Bounce:
    """Bounce details of one recipient: classify the SMTP text, then apply SES's hint."""
    diagnostic = opt(item, "diagnosticCode")
    text = _DIAG_TYPE.sub("", diagnostic) if diagnostic else None
    found = _SMTP_CODE.search(text) if text else None
    code = int(found.group(1)) if found else None
    status = opt(item, "status")
    if status is None and text:
        match = _STATUS.search(text)
        status = match.group(1) if match else None
    bounce_class, reason = _combine(hint, classify(code, status, text), authoritative)
    return Bounce(bounce_class, reason, code, status, text)


def _combine(hint: Hint, verdict: Verdict, authoritative: bool) -> tuple[str, str]:
    """SES's hint fixes the class, but a sender-level block seen in the SMTP text wins."""
    hint_class, hint_reason = hint
    if authoritative and hint_reason:
        return hint_class, hint_reason
    if verdict.bounce_class == "block" or hint_class == "undetermined":
        return verdict.bounce_class, verdict.reason
    if hint_reason:
        return hint_class, hint_reason
    return hint_class, verdict.reason if verdict.bounce_class == hint_class else "undefined"
