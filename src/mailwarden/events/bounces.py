"""Bounce classification: SMTP reply code + enhanced status + diagnostic text -> class and reason.

The rules are data: ``PRECISE_STATUS`` and ``STATUS_EXACT``/``STATUS_DETAIL``/``STATUS_RANGES``
(enhanced status -> reason), ``TEXT_RULES`` (regex -> reason, ordered), ``REPLY_CODES``
(basic SMTP reply -> reason) and ``REASON_CLASS`` (reason -> class).

Precedence, first answer wins:

1. ``PRECISE_STATUS``: enhanced codes that name their cause outright (RFC 7372 auth codes,
   Gmail's X.7.23-X.7.40, Microsoft's 5.7.5xx-7xx). They beat any text.
2. ``TEXT_RULES`` in table order. Sender-level rules (blocklists, authentication, PTR,
   throttling, spam, policy ...) come before recipient-level ones, so "550 5.1.1 ... listed at
   Spamhaus" is ``blocked``, never ``userunknown``. A recipient-level (hard) reason read from
   the text is ignored when the enhanced status is X.7.X (security or policy): the status
   then decides, because suppressing a good address for a sender problem is the costly error.
3. The enhanced status: ``STATUS_EXACT`` (full code), then ``STATUS_RANGES``, then
   ``STATUS_DETAIL`` (subject.detail, for 4.x.x and 5.x.x alike).
4. The basic reply code (``REPLY_CODES``).
5. ``undefined``.

Class: ``REASON_CLASS[reason]``, except that a hard reason on a temporary failure (4xx or
4.x.x) is soft, and ``undefined`` is soft when temporary, else undetermined. Block reasons
stay block whatever the code: a 421 rate limit is about the sender, not the address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from mailwarden.events.bounce_rules import (
    BLOCK,
    BLOCK_REASONS,
    HARD,
    HARD_REASONS,
    PRECISE_STATUS,
    REASON_CLASS,
    REPLY_CODES,
    SOFT,
    STATUS_DETAIL,
    STATUS_EXACT,
    STATUS_RANGES,
    TEXT_RULES,
    UNDETERMINED,
)

__all__ = [
    "BLOCK",
    "BLOCK_REASONS",
    "HARD",
    "HARD_REASONS",
    "PRECISE_STATUS",
    "REASON_CLASS",
    "REPLY_CODES",
    "SOFT",
    "STATUS_DETAIL",
    "STATUS_EXACT",
    "STATUS_RANGES",
    "TEXT_RULES",
    "UNDETERMINED",
    "Verdict",
    "class_of",
    "classify",
    "normalise_status",
    "parse_reply",
]

_STATUS: Final = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
_REPLY_BEFORE_STATUS: Final = re.compile(
    r"(?<![\w.])([245][0-5]\d)[ -]+['\"]?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)"
)
_REPLY: Final = re.compile(
    r"(?:^|[:;'\"(\[#]|\bsaid\b|\bwas\b)\s*([245][0-5]\d)(?=[\s\-]|$)"
    r"(?!\s*(?:seconds|minutes|hours|days|bytes))",
    re.MULTILINE | re.IGNORECASE,
)
_MAX_TEXT: Final = 4000


@dataclass(frozen=True, slots=True)
class Verdict:
    """The class (hard, soft, block, undetermined) and Sisimai-style reason of one failure."""

    bounce_class: str
    reason: str


def normalise_status(status: str | None) -> str | None:
    """Return the x.y.z enhanced status code found in status, or None."""
    if not status:
        return None
    found = _STATUS.search(status)
    if found is None:
        return None
    klass, subject, detail = found.groups()
    return f"{klass}.{int(subject)}.{int(detail)}"


def parse_reply(text: str | None) -> tuple[int | None, str | None]:
    """Extract the SMTP reply code and the enhanced status code from a diagnostic text."""
    if not text:
        return None, None
    text = text[:_MAX_TEXT]
    status = normalise_status(text)
    paired = _REPLY_BEFORE_STATUS.search(text)
    if paired is not None:
        return int(paired.group(1)), normalise_status(paired.group(2))
    alone = _REPLY.search(text)
    return (int(alone.group(1)) if alone else None), status


def classify(smtp_code: int | None, status: str | None, diagnostic: str | None) -> Verdict:
    """Decide class and reason of a failure from its reply code, enhanced status and text."""
    text = diagnostic[:_MAX_TEXT] if diagnostic else None
    return _classify(smtp_code, status, text)


# Real traffic repeats a few thousand distinct diagnostics; the rules are pure, so cache them.
@lru_cache(maxsize=8192)
def _classify(smtp_code: int | None, status: str | None, text: str | None) -> Verdict:
    found_code, found_status = parse_reply(text)
    code = smtp_code if smtp_code is not None else found_code
    enhanced = normalise_status(status) or found_status
    temporary = _is_temporary(code, enhanced)
    if _is_success(code, enhanced):
        return Verdict(UNDETERMINED, "delivered")
    reason = (
        _precise(enhanced)
        or _from_text(text, enhanced)
        or _from_status(enhanced)
        or (REPLY_CODES.get(code) if code is not None else None)
        or "undefined"
    )
    return Verdict(class_of(reason, temporary=temporary), reason)


def class_of(reason: str, *, temporary: bool) -> str:
    """Return the bounce class of a reason, given whether the failure was temporary."""
    klass = REASON_CLASS.get(reason, UNDETERMINED)
    if temporary and klass == HARD:
        return SOFT
    if temporary and reason == "undefined":
        return SOFT
    return klass


def _is_temporary(code: int | None, status: str | None) -> bool:
    if status is not None:
        return status.startswith("4.")
    return code is not None and 400 <= code < 500


def _is_success(code: int | None, status: str | None) -> bool:
    if status is not None:
        return status.startswith("2.")
    return code is not None and 200 <= code < 300


def _detail_key(status: str) -> str:
    return status.split(".", 1)[1]


def _precise(status: str | None) -> str | None:
    if status is None:
        return None
    return PRECISE_STATUS.get(_detail_key(status))


def _from_text(text: str | None, status: str | None) -> str | None:
    if not text:
        return None
    for pattern, reason in TEXT_RULES:
        if pattern.search(text):
            if reason in HARD_REASONS and status is not None and status[2:4] == "7.":
                return None
            return reason
    return None


def _from_status(status: str | None) -> str | None:
    if status is None:
        return None
    exact = STATUS_EXACT.get(status)
    if exact is not None:
        return exact
    prefix, _, detail = status.rpartition(".")
    for range_prefix, low, high, reason in STATUS_RANGES:
        if prefix + "." == range_prefix and low <= int(detail) <= high:
            return reason
    return STATUS_DETAIL.get(_detail_key(status))
