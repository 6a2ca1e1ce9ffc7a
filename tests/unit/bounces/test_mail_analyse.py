"""Raw mail analysis: what is read from DSNs, MTA texts, ARF reports and everything else."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailwarden.events.errors import PayloadError
from mailwarden.events.mail.analyse import analyse

MAIL_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "mail"


def _read(name: str) -> bytes:
    return (MAIL_DIR / name).read_bytes()


def test_the_returned_message_gives_message_id_sender_and_campaign() -> None:
    analysis = analyse(_read("dsn/single-userunknown.eml"))
    assert analysis.original.message_id == "nl-2026-11-03-0001@news.example.com"
    assert analysis.original.sender == "news@news.example.com"
    assert analysis.original.campaign == "november-offers"
    assert analysis.reporting_mta == "mx1.example.net"
    assert analysis.findings[0].remote_mta == "store.example.net"
    assert analysis.findings[0].occurred_at == datetime(2026, 11, 3, 10, 15, tzinfo=UTC)


def test_a_nested_message_inside_the_returned_message_does_not_hide_the_original() -> None:
    analysis = analyse(_read("dsn/nested-rfc822.eml"))
    assert analysis.original.message_id == "share-0001@news.example.com"
    assert analysis.original.campaign == "share-forward"


def test_a_mailgun_campaign_header_is_read() -> None:
    assert analyse(_read("dsn/qp-text-part.eml")).original.campaign == "fr-nov"


def test_a_generic_dsn_status_is_refined_by_the_diagnostic() -> None:
    finding = analyse(_read("courier/userunknown.eml")).findings[0]
    assert (finding.status, finding.reply_code, finding.reason) == ("5.1.1", 550, "userunknown")


def test_failure_after_temporary_errors_is_soft_expired() -> None:
    finding = analyse(_read("dsn/expired-4xx-failed.eml")).findings[0]
    assert (finding.action, finding.bounce_class, finding.reason) == ("failed", "soft", "expired")


def test_failure_after_a_temporary_sender_refusal_stays_a_block() -> None:
    finding = analyse(_read("postfix/ptr-expired.eml")).findings[0]
    assert (finding.bounce_class, finding.reason) == ("block", "requireptr")


def test_the_address_we_sent_to_is_preferred_and_the_final_one_kept() -> None:
    finding = analyse(_read("dsn/multi-recipient.eml")).findings[0]
    assert finding.recipient == "Bob.Stone@example.net"
    assert finding.final_recipient == "bob.stone@example.net"


def test_a_utf8_address_in_a_global_dsn_is_read_whole() -> None:
    assert (
        analyse(_read("dsn/global-delivery-status.eml")).findings[0].recipient == "jörg@example.de"
    )


def test_a_base64_delivery_status_part_is_decoded() -> None:
    assert (
        analyse(_read("dsn/base64-delivery-status.eml")).findings[0].recipient == "ivy@example.org"
    )


def test_8bit_headers_and_encoded_words_are_decoded() -> None:
    assert analyse(_read("dsn/8bit-garbage.eml")).subject == "Unzustellbar: Angebote für Sie"
    assert analyse(_read("mailru/userunknown.eml")).subject == "Недоставленное сообщение"


def test_complaint_fields_are_kept() -> None:
    analysis = analyse(_read("arf/abuse-basic.eml"))
    assert analysis.source_ip == "203.0.113.5"
    assert analysis.feedback_user_agent == "ExampleFBL/2.1"
    assert analysis.reported_domain == "news.example.com"
    assert analysis.original_mail_from == "bounces+abc@news.example.com"
    assert analysis.arrival_date == datetime(2026, 11, 4, 8, 10, tzinfo=UTC)


def test_a_redacted_complainer_leaves_the_recipient_empty_and_says_so() -> None:
    analysis = analyse(_read("arf/yahoo-redacted.eml"))
    assert [f.recipient for f in analysis.findings] == [None]
    assert any("redacted" in note for note in analysis.notes)


def test_a_jmrp_complainer_comes_from_the_original_recipient_header() -> None:
    assert analyse(_read("arf/microsoft-jmrp.eml")).findings[0].recipient == "pete.k@hotmail.com"


def test_an_auth_failure_report_is_not_a_complaint() -> None:
    analysis = analyse(_read("arf/auth-failure.eml"))
    assert analysis.kind == "not-a-bounce"
    assert any("DMARC" in note for note in analysis.notes)


def test_a_person_forwarding_a_bounce_is_not_a_bounce() -> None:
    assert analyse(_read("notbounce/forwarded-bounce.eml")).kind == "not-a-bounce"


def test_an_out_of_office_reply_is_an_autoreply_from_its_sender() -> None:
    analysis = analyse(_read("autoreply/exchange-automatic-reply.eml"))
    assert (analysis.kind, analysis.findings[0].recipient) == ("autoreply", "bram@contoso.example")


def test_a_read_receipt_is_not_a_bounce() -> None:
    analysis = analyse(_read("notbounce/read-receipt-mdn.eml"))
    assert analysis.kind == "not-a-bounce"
    assert "disposition-notification" in analysis.notes[0]


def test_a_bounce_naming_no_recipient_is_a_bounce_without_recipient() -> None:
    body = (
        b"From: MAILER-DAEMON@mx.example.org\nSubject: Undeliverable: hello\n"
        b"Date: Tue, 03 Nov 2026 10:00:00 +0000\n\nWe could not deliver your message.\n"
    )
    analysis = analyse(body)
    assert [(f.kind, f.recipient) for f in analysis.findings] == [("bounce", None)]
    assert analysis.notes


def test_x_failed_recipients_names_the_recipient_when_the_text_is_unknown() -> None:
    body = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n"
        b"Subject: Mail delivery failed\nX-Failed-Recipients: amy@example.org\n"
        b"Date: Tue, 03 Nov 2026 10:00:00 +0000\n\nSomething went wrong.\n"
        b"550 5.1.1 user unknown\n"
    )
    finding = analyse(body).findings[0]
    assert (finding.recipient, finding.bounce_class, finding.reason) == (
        "amy@example.org",
        "hard",
        "userunknown",
    )


def test_an_unknown_bounce_text_is_read_by_its_address_lines() -> None:
    body = (
        b"From: postmaster@mx.example.org\nTo: bounces@news.example.com\n"
        b"Subject: Returned mail: delivery problem\nDate: Tue, 03 Nov 2026 10:00:00 +0000\n\n"
        b"The following recipient could not be reached:\n\n  ben@example.org\n"
        b"  550 5.2.2 mailbox full\n"
    )
    analysis = analyse(body)
    assert analysis.format == "generic"
    assert [(f.recipient, f.reason) for f in analysis.findings] == [
        ("ben@example.org", "mailboxfull")
    ]


def test_an_mbox_from_line_before_the_headers_is_skipped() -> None:
    body = b"From MAILER-DAEMON Tue Nov  3 10:00:00 2026\n" + _read("qmail/no-mailbox.eml")
    assert analyse(body).findings[0].recipient == "rick@example.org"


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n\n", b'{"event": "bounce"}', b"\x00\x01\x02\xff", b"hello world\n", b"a: b\n\nc"],
    ids=["empty", "blank", "json", "binary", "prose", "unknown-header"],
)
def test_what_is_not_mail_raises_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        analyse(body)
