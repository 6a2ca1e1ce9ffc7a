"""The canonical event: round-trips through NDJSON, keeps unknown fields, rejects bad shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailwarden.events.errors import PayloadError
from mailwarden.events.mailboxes import mailbox_provider
from mailwarden.events.model import EVENT_TYPES, Bounce, Complaint, Event, format_time, parse_time
from mailwarden.events.providers.ndjson import NdjsonProvider, event_from_json

DESIGN_EXAMPLE = (
    b'{"id": "sg:6g4ZI7SA-xmRDv57GoPIPw==", "type": "bounced",'
    b' "occurred_at": "2026-11-27T08:00:00Z", "provider": "sendgrid",'
    b' "message_id": "14c5d75ce93.dfd.64b469", "recipient": "alex@example.com",'
    b' "mailbox_provider": "other", "sending_domain": "news.example.org",'
    b' "sending_ip": "203.0.113.5", "campaign": "black-friday", "tags": ["promo"],'
    b' "bounce": {"class": "hard", "reason": "userunknown", "smtp_code": 550,'
    b' "status": "5.1.1", "diagnostic": "550 5.1.1 unknown recipient"},'
    b' "complaint": null, "url": null, "user_agent": null}'
)


def test_design_example_parses_and_writes_back_the_same_fields() -> None:
    event = event_from_json(DESIGN_EXAMPLE)
    written = event.to_dict()
    original = orjson.loads(DESIGN_EXAMPLE)
    assert {key: written[key] for key in original} == original
    assert written["extra"] == {}


def test_unknown_fields_are_kept_in_extra() -> None:
    line = DESIGN_EXAMPLE[:-1] + b', "esp_account": "eu-1", "extra": {"batch": 7}}'
    assert event_from_json(line).extra == {"esp_account": "eu-1", "batch": 7}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "expected a JSON object"),
        (b'{"type": "bounced"}', "occurred_at"),
        (b'{"type": "teleported", "occurred_at": "2026-11-27T08:00:00Z"}', "unknown type"),
        (b'{"type": "opened", "occurred_at": "yesterday"}', "ISO 8601"),
        (b'{"type": "opened", "occurred_at": "2026-11-27T08:00:00Z", "tags": "x"}', "tags"),
        (
            b'{"type": "bounced", "occurred_at": "2026-11-27T08:00:00Z", "bounce": {"class": "x"}}',
            "bounce.class",
        ),
        (b'{"type": "opened", "occurred_at": "2026-11-27T08:00:00Z", "recipient": 5}', "recipient"),
    ],
)
def test_malformed_lines_are_refused_with_the_reason(line: bytes, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        event_from_json(line)


def test_bad_line_is_reported_by_number() -> None:
    body = DESIGN_EXAMPLE + b"\n\n{oops}\n"
    with pytest.raises(PayloadError, match="line 3"):
        NdjsonProvider().parse(body)


def test_security_events_carry_actor_and_source() -> None:
    line = (
        b'{"id": "sec-1", "type": "security.login_failed", "occurred_at": "2026-11-27T03:00:00Z",'
        b' "provider": "sendgrid", "actor": "ops@example.org", "source_ip": "198.51.100.7",'
        b' "country": "RO", "count": 40}'
    )
    written = event_from_json(line).to_dict()
    assert (written["actor"], written["country"], written["count"]) == ("ops@example.org", "RO", 40)


def test_time_is_always_written_in_utc_with_z() -> None:
    assert format_time(parse_time("2026-11-27T09:00:00+01:00")) == "2026-11-27T08:00:00Z"
    assert parse_time("2026-11-27T08:00:00") == datetime(2026, 11, 27, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "provider"),
    [
        ("a@gmail.com", "gmail"),
        ("a@GoogleMail.com", "gmail"),
        ("a@hotmail.co.uk", "microsoft"),
        ("a@outlook.de", "microsoft"),
        ("a@yahoo.co.jp", "yahoo"),
        ("a@aol.com", "yahoo"),
        ("a@icloud.com", "apple"),
        ("a@example.org", "other"),
        ("no-at-sign", "other"),
        (None, "other"),
    ],
)
def test_mailbox_provider_comes_from_the_recipient_domain(
    address: str | None, provider: str
) -> None:
    assert mailbox_provider(address) == provider


def test_custom_domain_is_classified_by_its_mx_host() -> None:
    assert mailbox_provider("a@corp.example", "aspmx.l.google.com.") == "gmail"
    assert (
        mailbox_provider("a@corp.example", "corp-example.mail.protection.outlook.com")
        == "microsoft"
    )


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
events = st.builds(
    Event,
    id=texts.filter(bool),
    type=st.sampled_from(sorted(EVENT_TYPES)),
    occurred_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
    provider=texts.filter(bool),
    recipient=st.none() | st.emails(),
    tags=st.lists(texts, max_size=3),
    bounce=st.none()
    | st.builds(
        Bounce, st.sampled_from(["hard", "soft", "block", "undetermined"]), texts.filter(bool)
    ),
    complaint=st.none() | st.builds(Complaint, texts.filter(bool)),
    extra=st.dictionaries(
        st.text(max_size=5).map(lambda k: "x_" + k), st.integers(-(2**63), 2**63 - 1), max_size=3
    ),
)


@settings(max_examples=200)
@given(event=events)
def test_any_event_survives_a_round_trip_through_ndjson(event: Event) -> None:
    again = event_from_json(orjson.dumps(event.to_dict()))
    assert again.to_dict() == event.to_dict()
