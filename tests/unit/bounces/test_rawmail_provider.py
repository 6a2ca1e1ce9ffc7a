"""The raw-mail provider adapter: bounces, delays, deliveries and complaints as canonical events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from mailwarden.events.errors import PayloadError
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.events.providers.rawmail import RawMailProvider

MAIL_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
FIXTURES = sorted(str(p.relative_to(MAIL_DIR)) for p in MAIL_DIR.rglob("*.eml"))
PROVIDER = RawMailProvider()


def _read(name: str) -> bytes:
    return (MAIL_DIR / name).read_bytes()


def test_the_provider_is_named_eml_and_accepts_any_request() -> None:
    request = WebhookRequest(headers={}, body=b"x", received_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert PROVIDER.name == "eml"
    PROVIDER.verify(request)


def test_a_bounce_becomes_a_bounced_event_with_every_field() -> None:
    (event,) = PROVIDER.parse(_read("dsn/single-userunknown.eml")).events
    assert event.type == "bounced"
    assert event.id.startswith("mail:")
    assert event.provider == "eml"
    assert event.occurred_at == datetime(2026, 11, 3, 10, 15, tzinfo=UTC)
    assert event.message_id == "nl-2026-11-03-0001@news.example.com"
    assert event.recipient == "alice.unknown@example.net"
    assert event.sending_domain == "news.example.com"
    assert event.campaign == "november-offers"
    assert event.bounce is not None
    assert event.bounce.to_dict() == {
        "class": "hard",
        "reason": "userunknown",
        "smtp_code": 550,
        "status": "5.1.1",
        "diagnostic": "550 5.1.1 <alice.unknown@example.net>: Recipient address rejected: "
        "User unknown in local recipient table",
    }


def test_a_delayed_dsn_becomes_a_deferred_event() -> None:
    (event,) = PROVIDER.parse(_read("postfix/gmail-4.7.28-rate-limited.eml")).events
    assert event.type == "deferred"
    assert event.mailbox_provider == "gmail"
    assert event.bounce is not None
    assert (event.bounce.bounce_class, event.bounce.reason) == ("block", "speeding")


def test_a_mixed_dsn_gives_one_event_per_recipient() -> None:
    events = PROVIDER.parse(_read("dsn/multi-recipient.eml")).events
    assert [e.type for e in events] == ["bounced", "bounced", "delivered"]
    assert len({e.id for e in events}) == 3
    assert events[2].bounce is None


def test_a_success_dsn_becomes_a_delivered_event() -> None:
    (event,) = PROVIDER.parse(_read("postfix/success.eml")).events
    assert (event.type, event.recipient) == ("delivered", "kurt@example.org")


def test_a_complaint_becomes_a_complained_event_with_its_sending_ip() -> None:
    (event,) = PROVIDER.parse(_read("arf/microsoft-jmrp.eml")).events
    assert event.type == "complained"
    assert event.complaint is not None
    assert event.complaint.feedback_type == "abuse"
    assert (event.recipient, event.mailbox_provider) == ("pete.k@hotmail.com", "microsoft")
    assert event.sending_ip == "203.0.113.5"
    assert event.campaign == "november-offers"


def test_a_redacted_complaint_still_counts_without_a_recipient() -> None:
    result = PROVIDER.parse(_read("arf/yahoo-redacted.eml"))
    assert [(e.type, e.recipient) for e in result.events] == [("complained", None)]
    assert result.notes


@pytest.mark.parametrize(
    "name",
    [
        "arf/not-spam.eml",
        "arf/auth-failure.eml",
        "autoreply/vacation-auto-submitted.eml",
        "notbounce/ordinary.eml",
        "notbounce/forwarded-bounce.eml",
    ],
)
def test_messages_that_report_no_failure_give_no_event_but_a_note(name: str) -> None:
    result = PROVIDER.parse(_read(name))
    assert result.events == []
    assert result.notes


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_event_ids_do_not_depend_on_line_endings_or_rereading(ending: bytes) -> None:
    data = _read("postfix/multi-recipient.eml")
    first = [e.id for e in PROVIDER.parse(data).events]
    again = [e.id for e in PROVIDER.parse(data).events]
    other = [e.id for e in PROVIDER.parse(data.replace(b"\n", ending)).events]
    assert first == again == other


def test_without_message_ids_the_event_id_comes_from_the_body() -> None:
    body = (
        b"From: MAILER-DAEMON@mx.example.org\nSubject: failure notice\n"
        b"Date: Tue, 03 Nov 2026 10:00:00 +0000\n\n"
        b"Hi. This is the qmail-send program at mx.example.org.\n\n<al@example.org>:\n"
        b"Sorry, no mailbox here by that name. (#5.1.1)\n"
    )
    (event,) = PROVIDER.parse(body).events
    (again,) = PROVIDER.parse(body + b"\n").events
    assert event.id != again.id
    assert event.message_id is None


def test_the_date_header_is_used_when_no_attempt_date_is_given() -> None:
    (event,) = PROVIDER.parse(_read("qmail/no-mailbox.eml")).events
    assert event.occurred_at == datetime(2026, 11, 3, 13, 0, tzinfo=UTC)


def test_the_received_date_is_the_last_resort() -> None:
    body = (
        b"Received: from a by b; Tue, 03 Nov 2026 10:00:00 +0000\n"
        b"From: MAILER-DAEMON@mx.example.org\nSubject: failure notice\n\n"
        b"Hi. This is the qmail-send program at mx.example.org.\n\n<al@example.org>:\n"
        b"Sorry, no mailbox here by that name. (#5.1.1)\n"
    )
    (event,) = PROVIDER.parse(body).events
    assert event.occurred_at == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def test_a_bounce_with_no_date_at_all_is_a_payload_error() -> None:
    body = (
        b"From: MAILER-DAEMON@mx.example.org\nSubject: failure notice\n\n"
        b"Hi. This is the qmail-send program at mx.example.org.\n\n<al@example.org>:\n"
        b"Sorry, no mailbox here by that name. (#5.1.1)\n"
    )
    with pytest.raises(PayloadError, match="no date"):
        PROVIDER.parse(body)


def test_the_remote_mta_reveals_the_mailbox_provider_of_a_custom_domain() -> None:
    body = (
        b"From: MAILER-DAEMON@mail.example.com\nSubject: Undelivered Mail Returned to Sender\n"
        b"Date: Tue, 03 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        b"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.com\n\n"
        b"Final-Recipient: rfc822; cto@startup.example\nAction: failed\nStatus: 5.1.1\n"
        b"Remote-MTA: dns; aspmx.l.google.com\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 The email account that you tried to reach does not"
        b" exist\n\n--b--\n"
    )
    (event,) = PROVIDER.parse(body).events
    assert event.mailbox_provider == "gmail"


def test_not_mail_is_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        PROVIDER.parse(b'{"not": "mail"}')


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_parses_to_canonical_json(name: str) -> None:
    result = PROVIDER.parse(_read(name))
    for event in result.events:
        decoded = orjson.loads(orjson.dumps(event.to_dict()))
        assert decoded["provider"] == "eml"
        assert decoded["occurred_at"].endswith("Z")
    assert result.events or result.notes
