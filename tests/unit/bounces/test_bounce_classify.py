"""Bounce classification: reply code + enhanced status + text -> class and reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailwarden.events.bounces import (
    BLOCK_REASONS,
    HARD_REASONS,
    PRECISE_STATUS,
    REASON_CLASS,
    REPLY_CODES,
    STATUS_DETAIL,
    STATUS_EXACT,
    TEXT_RULES,
    Verdict,
    class_of,
    classify,
    normalise_status,
    parse_reply,
)
from mailwarden.events.model import BOUNCE_CLASSES

DESIGN_REASONS = {
    "userunknown", "hostunknown", "hasmoved", "notaccept", "mailboxfull", "exceedlimit",
    "systemfull", "suspend", "expired", "networkerror", "systemerror", "mailererror",
    "toomanyconn", "speeding", "blocked", "rejected", "spamdetected", "virusdetected",
    "contenterror", "mesgtoobig", "policyviolation", "securityerror", "authfailure",
    "requireptr", "badreputation", "norelaying", "notcompliantrfc", "failedstarttls",
    "syntaxerror", "filtered", "onhold", "suppressed", "vacation", "feedback", "delivered",
    "undefined",
}  # fmt: skip

# Phrases receivers really use for sender-level refusals; none of them may ever be hard.
SENDER_LEVEL_PHRASES = {
    "blocked": [
        "Client host [203.0.113.5] blocked using zen.spamhaus.org",
        "203.0.113.5 listed at bl.spamcop.net",
        "part of their network is on our block list (S3150)",
        "Access denied, banned sending IP [203.0.113.5]",
        "Comcast block for spam. Please see http://postmaster.comcast.net",
        "[TSS09] All messages from 203.0.113.5 will be permanently deferred",
    ],
    "authfailure": [
        "Unauthenticated email from news.example.com is not accepted due to domain's DMARC policy",
        "SPF check failed for news.example.com",
        "DKIM signature did not verify",
    ],
    "requireptr": [
        "Client host rejected: cannot find your reverse hostname, [203.0.113.5]",
        "The IP address sending this message does not have a PTR record setup",
    ],
    "speeding": [
        "Messages from 203.0.113.5 temporarily deferred due to unexpected volume",
        "You have been rate limited; please slow down",
        "Server busy. Please try again later from [203.0.113.5]",
    ],
    "toomanyconn": ["Too many concurrent connections from your IP"],
    "badreputation": ["Rejected due to poor IP reputation", "excessive user complaints"],
    "spamdetected": [
        "Our system has detected that this message is likely unsolicited mail",
        "Message rejected as spam by Content Filtering",
    ],
    "virusdetected": ["Message rejected: virus found in attachment"],
    "norelaying": [
        "Relay access denied",
        "sorry, that domain isn't in my list of allowed rcpthosts",
    ],
    "mesgtoobig": ["Message size exceeds fixed maximum message size"],
    "failedstarttls": ["Must issue a STARTTLS command first"],
    "rejected": ["Sender address rejected: Domain not found", "sender verify failed"],
    "policyviolation": ["Message rejected due to local policy"],
}


@pytest.mark.parametrize(
    ("code", "status", "text", "expected"),
    [
        (550, "5.1.1", "550 5.1.1 user unknown", Verdict("hard", "userunknown")),
        (550, "5.7.1", "550 5.7.1 rejected: listed at Spamhaus", Verdict("block", "blocked")),
        (552, "5.2.2", "552 5.2.2 mailbox full", Verdict("soft", "mailboxfull")),
        (None, None, "550 5.1.1 <a@example.org> Spamhaus SBL listed", Verdict("block", "blocked")),
        (550, "5.7.26", "550 5.7.26 unauthenticated", Verdict("block", "authfailure")),
        (550, "5.7.27", "550 5.7.27 SPF did not pass", Verdict("block", "authfailure")),
        (550, "5.7.30", "550 5.7.30 DKIM did not pass", Verdict("block", "authfailure")),
        (550, "5.7.32", "550 5.7.32 not aligned", Verdict("block", "authfailure")),
        (550, "5.7.40", None, Verdict("block", "authfailure")),
        (
            550,
            "5.7.515",
            "Access denied, required authentication level",
            Verdict("block", "authfailure"),
        ),
        (550, "5.7.25", None, Verdict("block", "requireptr")),
        (
            421,
            "4.7.28",
            "421 4.7.28 unusual rate of unsolicited mail",
            Verdict("block", "speeding"),
        ),
        (
            421,
            "4.7.0",
            "421 4.7.0 Try again later, closing connection.",
            Verdict("block", "speeding"),
        ),
        (
            421,
            "4.7.0",
            "421 4.7.0 [TSS04] temporarily deferred due to unexpected volume",
            Verdict("block", "speeding"),
        ),
        (451, "4.7.650", "rate limited due to IP reputation", Verdict("block", "badreputation")),
        (
            450,
            "4.1.1",
            "450 4.1.1 Recipient address rejected: unverified address",
            Verdict("soft", "userunknown"),
        ),
        (550, "5.1.10", "RESOLVER.ADR.RecipientNotFound", Verdict("hard", "userunknown")),
        (
            550,
            "5.4.1",
            "Recipient address rejected: Access denied. AS(201806281)",
            Verdict("hard", "userunknown"),
        ),
        (550, "5.1.2", "Host or domain name not found", Verdict("hard", "hostunknown")),
        (551, None, "551 User not local; please try <a@example.net>", Verdict("hard", "hasmoved")),
        (556, "5.1.10", "556 5.1.10 Recipient address has null MX", Verdict("hard", "notaccept")),
        (
            550,
            "5.2.1",
            "The email account that you tried to reach is disabled",
            Verdict("soft", "suspend"),
        ),
        (452, "4.2.2", "452 4.2.2 over quota", Verdict("soft", "mailboxfull")),
        (452, None, "Insufficient system storage", Verdict("soft", "systemfull")),
        (None, None, "retry timeout exceeded", Verdict("soft", "expired")),
        (
            None,
            "4.4.1",
            "connect to mx.example.org[192.0.2.1]:25: Connection timed out",
            Verdict("soft", "networkerror"),
        ),
        (450, "4.7.1", "Recipient address rejected: Greylisted", Verdict("soft", "undefined")),
        (
            552,
            "5.3.4",
            "Message size exceeds fixed maximum message size",
            Verdict("block", "mesgtoobig"),
        ),
        (554, "5.7.1", "Relay access denied", Verdict("block", "norelaying")),
        (
            None,
            None,
            "User bob (bob@example.org) not listed in Domino Directory",
            Verdict("hard", "userunknown"),
        ),
        (
            None,
            None,
            "Sorry, no mailbox here by that name. (#5.1.1)",
            Verdict("hard", "userunknown"),
        ),
        (
            None,
            None,
            "Amazon SES has suppressed sending to this address",
            Verdict("hard", "suppressed"),
        ),
        (550, None, None, Verdict("undetermined", "undefined")),
        (450, None, None, Verdict("soft", "undefined")),
        (None, None, None, Verdict("undetermined", "undefined")),
        (250, "2.0.0", "250 2.0.0 Ok: queued", Verdict("undetermined", "delivered")),
    ],
)
def test_classify_decides_class_and_reason(
    code: int | None, status: str | None, text: str | None, expected: Verdict
) -> None:
    assert classify(code, status, text) == expected


def test_spamhaus_block_is_never_hard() -> None:
    verdict = classify(
        550, "5.1.1", "550 5.1.1 Service unavailable; client [203.0.113.5] blocked using Spamhaus"
    )
    assert verdict == Verdict("block", "blocked")


def test_user_unknown_is_hard() -> None:
    assert classify(550, "5.1.1", "550 5.1.1 user unknown") == Verdict("hard", "userunknown")


def test_mailbox_full_is_soft_even_when_permanent() -> None:
    assert classify(552, "5.2.2", "552 5.2.2 mailbox full") == Verdict("soft", "mailboxfull")


def test_recipient_text_under_a_policy_status_is_not_trusted_to_be_hard() -> None:
    verdict = classify(550, "5.7.1", "550 5.7.1 Requested action not taken: mailbox unavailable")
    assert verdict.bounce_class == "block"


def test_temporary_recipient_failure_is_soft_not_hard() -> None:
    assert classify(450, None, "450 mailbox unavailable").bounce_class == "soft"


def test_classify_reads_codes_from_the_text_when_not_given() -> None:
    assert classify(None, None, "host mx [192.0.2.1] said: 550 5.1.1 nope") == Verdict(
        "hard", "userunknown"
    )


@pytest.mark.parametrize(("reason", "phrases"), sorted(SENDER_LEVEL_PHRASES.items()))
def test_sender_level_phrases_are_blocks(reason: str, phrases: list[str]) -> None:
    for phrase in phrases:
        for code, status in ((550, "5.1.1"), (554, None), (421, "4.7.0"), (None, None)):
            assert classify(code, status, phrase) == Verdict("block", reason), (phrase, status)


def test_every_reason_is_in_the_design_vocabulary_and_every_class_is_canonical() -> None:
    assert set(REASON_CLASS) == DESIGN_REASONS
    assert set(REASON_CLASS.values()) <= BOUNCE_CLASSES


def test_hard_is_only_for_recipient_level_reasons() -> None:
    assert {"userunknown", "hostunknown", "hasmoved", "notaccept"} <= HARD_REASONS
    assert not HARD_REASONS & BLOCK_REASONS


@pytest.mark.parametrize(
    "table",
    [PRECISE_STATUS, STATUS_EXACT, STATUS_DETAIL, {str(k): v for k, v in REPLY_CODES.items()}],
)
def test_every_table_reason_is_known(table: dict[str, str]) -> None:
    assert set(table.values()) <= set(REASON_CLASS)


def test_text_rules_name_known_reasons() -> None:
    assert {reason for _, reason in TEXT_RULES} <= set(REASON_CLASS)


def test_no_block_reason_in_any_table_classifies_as_hard() -> None:
    """Property over the tables: a block reason stays block, temporary or permanent."""
    for reason in BLOCK_REASONS:
        assert class_of(reason, temporary=False) == "block"
        assert class_of(reason, temporary=True) == "block"
    for key, reason in {**PRECISE_STATUS, **STATUS_DETAIL}.items():
        for klass in ("4", "5"):
            verdict = classify(None, f"{klass}.{key}", None)
            if reason in BLOCK_REASONS:
                assert verdict.bounce_class == "block", key
    for status, reason in STATUS_EXACT.items():
        if reason in BLOCK_REASONS:
            assert classify(None, status, None).bounce_class == "block"
    for code, reason in REPLY_CODES.items():
        if reason in BLOCK_REASONS:
            assert classify(code, None, None).bounce_class == "block"


_PHRASES = [p for phrases in SENDER_LEVEL_PHRASES.values() for p in phrases]
_VAGUE = st.sampled_from([None, "5.0.0", "5.1.1", "5.1.0", "4.0.0", "5.7.1", "5.2.0"])


@settings(max_examples=200, deadline=None)
@given(
    phrase=st.sampled_from(_PHRASES),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    code=st.one_of(st.none(), st.integers(400, 599)),
    status=_VAGUE,
)
def test_a_sender_level_refusal_in_the_text_is_never_hard(
    phrase: str, before: str, after: str, code: int | None, status: str | None
) -> None:
    verdict = classify(code, status, f"{before} {phrase} {after}")
    assert verdict.bounce_class != "hard"


@settings(max_examples=200, deadline=None)
@given(
    code=st.one_of(st.none(), st.integers(0, 999)),
    status=st.one_of(
        st.none(), st.text(max_size=12), st.from_regex(r"[245]\.\d{1,3}\.\d{1,3}", fullmatch=True)
    ),
    text=st.one_of(st.none(), st.text(max_size=200)),
)
def test_classify_always_answers_within_the_vocabulary(
    code: int | None, status: str | None, text: str | None
) -> None:
    verdict = classify(code, status, text)
    assert verdict.reason in REASON_CLASS
    assert verdict.bounce_class in BOUNCE_CLASSES
    if verdict.reason in BLOCK_REASONS:
        assert verdict.bounce_class == "block"
    if verdict.bounce_class == "hard":
        assert verdict.reason in HARD_REASONS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("smtp; 550 5.1.1 <a@b.example>: User unknown", (550, "5.1.1")),
        ("550-5.1.1 The email account that you tried to reach does not exist", (550, "5.1.1")),
        ("host mx.example.org [192.0.2.10]: 552 5.2.2 over quota", (552, "5.2.2")),
        ("Sorry, no mailbox here by that name. (#5.1.1)", (None, "5.1.1")),
        ("421 4.7.0 [TSS04] Messages from 203.0.113.5 deferred - 4.16.55.1", (421, "4.7.0")),
        ("5.1.0 - Unknown address error 550-'5.1.1 <a@b.example>'", (550, "5.1.1")),
        ("Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound'", (550, "5.1.10")),
        ("Remote host said: 553 sorry, that domain isn't in my list", (553, None)),
        ("connect to 203.0.113.250:25 timed out after 300 seconds", (None, None)),
        ("Version 2.5.5.5 of the filter", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_parse_reply_finds_reply_and_enhanced_codes(
    text: str | None, expected: tuple[int | None, str | None]
) -> None:
    assert parse_reply(text) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5.1.1", "5.1.1"),
        ("5.01.001 (user unknown)", "5.1.1"),
        ("smtp; 4.4.7", "4.4.7"),
        ("x", None),
    ],
)
def test_normalise_status_keeps_only_the_code(raw: str, expected: str | None) -> None:
    assert normalise_status(raw) == expected
