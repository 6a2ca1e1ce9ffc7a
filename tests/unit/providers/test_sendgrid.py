"""SendGrid Event Webhook: signature verification and event mapping."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailwarden.clock import FakeClock
from mailwarden.events.errors import NotConfiguredError, PayloadError, SignatureError
from mailwarden.events.model import Event
from mailwarden.events.providers.base import ParseResult, WebhookRequest
from mailwarden.events.providers.sendgrid import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SendGridProvider,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "providers" / "sendgrid"
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def fixture_events() -> list[dict[str, Any]]:
    """The documented-shape batch, fresh for each caller."""
    events: list[dict[str, Any]] = orjson.loads((FIXTURES / "events.json").read_bytes())
    return events


def by_id(events: list[Event]) -> dict[str, Event]:
    """Index parsed events by id."""
    return {e.id: e for e in events}


@pytest.fixture(scope="module")
def private_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key pair standing in for SendGrid's."""
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def public_key_b64(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.fixture
def clock() -> FakeClock:
    """Time stands at 2026-11-27 08:00 UTC."""
    return FakeClock(NOW)


@pytest.fixture
def provider(public_key_b64: str, clock: FakeClock) -> SendGridProvider:
    """A configured provider."""
    return SendGridProvider(public_key_b64, clock)


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    """Sign timestamp + body the way SendGrid does."""
    return base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


def signed_request(
    key: ec.EllipticCurvePrivateKey, body: bytes, when: datetime = NOW
) -> WebhookRequest:
    """A request signed at `when`."""
    timestamp = str(int(when.timestamp()))
    headers = {
        SIGNATURE_HEADER.lower(): sign(key, timestamp, body),
        TIMESTAMP_HEADER.lower(): timestamp,
    }
    return WebhookRequest(headers=headers, body=body, received_at=NOW)


def parse_fixture(provider: SendGridProvider) -> dict[str, Event]:
    """Parse the documented batch and index it by id."""
    return by_id(provider.parse(orjson.dumps(fixture_events())).events)


# --- mapping -------------------------------------------------------------------------------


def test_processed_becomes_queued_with_ids_campaign_and_domain(provider: SendGridProvider) -> None:
    event = parse_fixture(provider)["sg:cHJvY2Vzc2VkLTE="]
    assert event.type == "queued"
    assert event.provider == "sendgrid"
    assert event.message_id == "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"
    assert event.recipient == "alex@example.com"
    assert event.campaign == "black-friday"
    assert event.sending_domain == "news.example.org"
    assert event.tags == ["promo"]
    assert event.occurred_at == datetime(2026, 11, 27, 7, 58, tzinfo=UTC)
    assert event.extra["smtp-id"] == "<14c5d75ce93.dfd.64b469@ismtpd-555>"


def test_deferred_is_soft_with_smtp_code_status_and_integer_attempt(
    provider: SendGridProvider,
) -> None:
    event = parse_fixture(provider)["sg:ZGVmZXJyZWQtMQ=="]
    assert event.type == "deferred"
    assert event.bounce is not None
    assert event.bounce.bounce_class in {"soft", "block"}
    assert event.bounce.smtp_code == 421
    assert event.bounce.status == "4.7.0"
    assert event.bounce.diagnostic == "421 4.7.0 Try again later, closing connection."
    assert event.extra["attempt"] == 5
    assert event.tags == ["promo", "weekly"]
    assert event.sending_ip == "203.0.113.5"


def test_delivered_keeps_sending_ip_and_unknown_fields(provider: SendGridProvider) -> None:
    event = parse_fixture(provider)["sg:ZGVsaXZlcmVkLTE="]
    assert event.type == "delivered"
    assert event.sending_ip == "203.0.113.5"
    assert event.mailbox_provider == "gmail"
    assert event.bounce is None
    assert event.extra["pool"] == {"name": "marketing", "id": 210}
    assert event.extra["tls"] == 1
    assert event.extra["cert_err"] == 0
    assert event.extra["response"].startswith("250")


def test_invalid_address_bounce_is_hard_with_enhanced_status(provider: SendGridProvider) -> None:
    event = parse_fixture(provider)["sg:Ym91bmNlLTE="]
    assert event.type == "bounced"
    assert event.bounce is not None
    assert event.bounce.bounce_class == "hard"
    assert event.bounce.reason == "userunknown"
    assert event.bounce.smtp_code == 550
    assert event.bounce.status == "5.1.1"
    assert event.extra["bounce_classification"] == "Invalid Address"


def test_blocked_bounce_is_class_block_not_hard(provider: SendGridProvider) -> None:
    event = parse_fixture(provider)["sg:YmxvY2tlZC0x"]
    assert event.type == "bounced"
    assert event.bounce is not None
    assert event.bounce.bounce_class == "block"
    assert event.bounce.smtp_code == 550
    assert event.bounce.status == "5.7.1"
    assert event.mailbox_provider == "microsoft"
    assert event.extra["type"] == "blocked"


def test_blocked_type_overrides_a_hard_verdict_from_the_text(provider: SendGridProvider) -> None:
    raw = _one(event="bounce", type="blocked", reason="550 5.1.1 user unknown", status="5.1.1")
    bounce = provider.parse(orjson.dumps([raw])).events[0].bounce
    assert bounce is not None
    assert bounce.bounce_class == "block"


def test_bounce_classification_decides_when_the_text_says_nothing(
    provider: SendGridProvider,
) -> None:
    raw = _one(event="bounce", type="bounce", reason="rejected", bounce_classification="Reputation")
    bounce = provider.parse(orjson.dumps([raw])).events[0].bounce
    assert bounce is not None
    assert (bounce.bounce_class, bounce.reason) == ("block", "badreputation")


def test_dropped_bounced_address_is_a_suppressed_drop(provider: SendGridProvider) -> None:
    event = parse_fixture(provider)["sg:ZHJvcHBlZC0x"]
    assert event.type == "dropped"
    assert event.bounce is not None
    assert event.bounce.reason == "suppressed"
    assert event.bounce.diagnostic == "Bounced Address"


def test_spamreport_becomes_complained_with_abuse_feedback(provider: SendGridProvider) -> None:
    event = parse_fixture(provider)["sg:c3BhbXJlcG9ydC0x"]
    assert event.type == "complained"
    assert event.complaint is not None
    assert event.complaint.feedback_type == "abuse"
    assert event.mailbox_provider == "yahoo"


def test_unsubscribe_and_group_unsubscribe_become_unsubscribed(
    provider: SendGridProvider,
) -> None:
    events = parse_fixture(provider)
    plain = events["sg:dW5zdWJzY3JpYmUtMQ=="]
    group = events["sg:Z3JvdXBfdW5zdWItMQ=="]
    assert plain.type == group.type == "unsubscribed"
    assert group.extra["asm_group_id"] == 10
    assert group.mailbox_provider == "apple"


def test_engagement_ip_is_the_recipients_not_the_sending_ip(provider: SendGridProvider) -> None:
    events = parse_fixture(provider)
    for event_id in ("sg:b3Blbi0x", "sg:Y2xpY2stMQ==", "sg:Z3JvdXBfdW5zdWItMQ=="):
        assert events[event_id].sending_ip is None
        assert events[event_id].extra["ip"].startswith("198.51.100.")


def test_open_keeps_apple_machine_open_flag_in_extra(provider: SendGridProvider) -> None:
    event = parse_fixture(provider)["sg:b3Blbi0x"]
    assert event.type == "opened"
    assert event.extra["sg_machine_open"] is True
    assert event.user_agent is not None
    assert event.user_agent.startswith("Mozilla/5.0 (Macintosh")


def test_click_carries_url_and_user_agent(provider: SendGridProvider) -> None:
    event = parse_fixture(provider)["sg:Y2xpY2stMQ=="]
    assert event.type == "clicked"
    assert event.url == "https://shop.example.org/deals?utm_source=mail"
    assert event.user_agent == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    assert event.extra["url_offset"] == {"index": 0, "type": "html"}


def test_group_resubscribe_is_skipped_with_a_note(provider: SendGridProvider) -> None:
    result = provider.parse(orjson.dumps(fixture_events()))
    assert "sg:Z3JvdXBfcmVzdWItMQ==" not in by_id(result.events)
    assert any("group_resubscribe" in note for note in result.notes)
    assert len(result.events) == len(fixture_events()) - 1


def test_unknown_event_type_is_skipped_even_without_email(provider: SendGridProvider) -> None:
    raw = {"event": "account_status_change", "sg_event_id": "x", "timestamp": 1795766280}
    result = provider.parse(orjson.dumps([raw]))
    assert result.events == []
    assert result.notes == ["event[0]: skipped SendGrid event type 'account_status_change'"]


@pytest.mark.parametrize(
    ("fields", "campaign"),
    [
        ({"campaign": "c", "marketing_campaign_name": "m", "singlesend_name": "s"}, "c"),
        ({"marketing_campaign_name": "m", "singlesend_name": "s"}, "m"),
        ({"singlesend_name": "s"}, "s"),
        ({}, None),
    ],
)
def test_campaign_prefers_custom_arg_then_marketing_name_then_single_send(
    provider: SendGridProvider, fields: dict[str, str], campaign: str | None
) -> None:
    event = provider.parse(orjson.dumps([_one(**fields)])).events[0]
    assert event.campaign == campaign


def test_sending_domain_falls_back_to_a_from_field(provider: SendGridProvider) -> None:
    event = provider.parse(orjson.dumps([_one(from_email="Hi <x@Mail.Example.com>")])).events[0]
    assert event.sending_domain == "mail.example.com"
    assert provider.parse(orjson.dumps([_one()])).events[0].sending_domain is None


def test_custom_args_and_marketing_fields_are_kept_in_extra(provider: SendGridProvider) -> None:
    raw = _one(userid="1123", marketing_campaign_id=12345, marketing_campaign_name="m")
    event = provider.parse(orjson.dumps([raw])).events[0]
    assert event.extra == {
        "userid": "1123",
        "marketing_campaign_id": 12345,
        "marketing_campaign_name": "m",
    }


def test_redelivered_batch_yields_the_same_ids(provider: SendGridProvider) -> None:
    body = orjson.dumps(fixture_events())
    first = [e.id for e in provider.parse(body).events]
    again = [e.id for e in provider.parse(body).events]
    assert first == again
    assert len(set(first)) == len(first)


def test_events_are_canonical_with_aware_utc_times(provider: SendGridProvider) -> None:
    for event in provider.parse(orjson.dumps(fixture_events())).events:
        assert event.occurred_at.tzinfo is not None
        assert event.occurred_at.utcoffset() == timedelta(0)
        assert event.id.startswith("sg:")
        orjson.dumps(event.to_dict())


# --- malformed payloads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not valid JSON"),
        (b"email=a@b.c", "not valid JSON"),
        (b'{"event": "open"}', "must be a JSON array of events, got object"),
        (b"[1]", "event[0]: must be a JSON object, got number"),
        (b"[[]]", "event[0]: must be a JSON object, got array"),
    ],
)
def test_malformed_bodies_raise_payload_error_naming_the_problem(
    provider: SendGridProvider, body: bytes, message: str
) -> None:
    with pytest.raises(PayloadError, match=message.replace("[", r"\[").replace("]", r"\]")):
        provider.parse(body)


@pytest.mark.parametrize("field", ["event", "email", "sg_event_id", "timestamp"])
def test_missing_required_field_names_index_and_field(
    provider: SendGridProvider, field: str
) -> None:
    broken = _one()
    del broken[field]
    with pytest.raises(PayloadError) as caught:
        provider.parse(orjson.dumps([_one(), broken]))
    assert "event[1]" in str(caught.value)
    assert repr(field) in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", 5), ("sg_event_id", []), ("event", {}), ("timestamp", "soon"), ("timestamp", 1e300)],
)
def test_wrong_types_raise_payload_error(
    provider: SendGridProvider, field: str, value: Any
) -> None:
    with pytest.raises(PayloadError, match=field):
        provider.parse(orjson.dumps([_one(**{field: value})]))


# --- verification ---------------------------------------------------------------------------


def test_valid_signature_is_accepted(
    provider: SendGridProvider, private_key: ec.EllipticCurvePrivateKey
) -> None:
    provider.verify(signed_request(private_key, orjson.dumps(fixture_events())))


def test_pem_public_key_is_accepted(
    private_key: ec.EllipticCurvePrivateKey, clock: FakeClock
) -> None:
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    SendGridProvider(pem.decode(), clock).verify(signed_request(private_key, b"[]"))


def test_pem_key_with_escaped_newlines_from_an_env_file_is_accepted(
    private_key: ec.EllipticCurvePrivateKey, clock: FakeClock
) -> None:
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    escaped = pem.decode().strip().replace("\n", "\\n")
    SendGridProvider(escaped, clock).verify(signed_request(private_key, b"[]"))


def test_spam_content_drop_is_a_block_whatever_the_suffix(provider: SendGridProvider) -> None:
    raw = _one(event="dropped", reason="Spam Content (if Spam Checker app is enabled)")
    bounce = provider.parse(orjson.dumps([raw])).events[0].bounce
    assert bounce is not None
    assert (bounce.bounce_class, bounce.reason) == ("block", "spamdetected")


def test_signature_from_another_key_is_rejected(provider: SendGridProvider) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(SignatureError, match="does not match"):
        provider.verify(signed_request(other, b"[]"))


def test_tampered_body_is_rejected(
    provider: SendGridProvider, private_key: ec.EllipticCurvePrivateKey
) -> None:
    request = signed_request(private_key, b'[{"event":"open"}]')
    tampered = WebhookRequest(request.headers, b'[{"event":"click"}]', request.received_at)
    with pytest.raises(SignatureError):
        provider.verify(tampered)


def test_tampered_timestamp_is_rejected(
    provider: SendGridProvider, private_key: ec.EllipticCurvePrivateKey
) -> None:
    request = signed_request(private_key, b"[]")
    headers = dict(request.headers)
    headers[TIMESTAMP_HEADER.lower()] = str(int(headers[TIMESTAMP_HEADER.lower()]) - 1)
    with pytest.raises(SignatureError):
        provider.verify(WebhookRequest(headers, request.body, request.received_at))


def test_stale_timestamp_is_rejected(
    provider: SendGridProvider, private_key: ec.EllipticCurvePrivateKey, clock: FakeClock
) -> None:
    request = signed_request(private_key, b"[]")
    clock.advance(timedelta(minutes=11))
    with pytest.raises(SignatureError, match="older than 600 s"):
        provider.verify(request)


def test_timestamp_far_in_the_future_is_rejected(
    provider: SendGridProvider, private_key: ec.EllipticCurvePrivateKey
) -> None:
    with pytest.raises(SignatureError, match="future"):
        provider.verify(signed_request(private_key, b"[]", NOW + timedelta(minutes=6)))


def test_small_clock_skew_is_tolerated(
    provider: SendGridProvider, private_key: ec.EllipticCurvePrivateKey
) -> None:
    provider.verify(signed_request(private_key, b"[]", NOW + timedelta(minutes=1)))


@pytest.mark.parametrize("header", [SIGNATURE_HEADER, TIMESTAMP_HEADER])
def test_missing_header_is_rejected_by_name(
    provider: SendGridProvider, private_key: ec.EllipticCurvePrivateKey, header: str
) -> None:
    request = signed_request(private_key, b"[]")
    headers = {k: v for k, v in request.headers.items() if k != header.lower()}
    with pytest.raises(SignatureError, match=header):
        provider.verify(WebhookRequest(headers, request.body, request.received_at))


def test_signature_that_is_not_base64_is_rejected(
    provider: SendGridProvider, private_key: ec.EllipticCurvePrivateKey
) -> None:
    request = signed_request(private_key, b"[]")
    headers = {**request.headers, SIGNATURE_HEADER.lower(): "not base64!"}
    with pytest.raises(SignatureError, match="base64"):
        provider.verify(WebhookRequest(headers, request.body, request.received_at))


def test_not_configured_names_the_setting(
    clock: FakeClock, private_key: ec.EllipticCurvePrivateKey
) -> None:
    with pytest.raises(NotConfiguredError, match="MAILWARDEN_SENDGRID_WEBHOOK_PUBLIC_KEY"):
        SendGridProvider(None, clock).verify(signed_request(private_key, b"[]"))


@pytest.mark.parametrize("bad_key", ["not a key", base64.b64encode(b"garbage").decode()])
def test_malformed_public_key_fails_at_construction_naming_the_setting(
    clock: FakeClock, bad_key: str
) -> None:
    with pytest.raises(ValueError, match="MAILWARDEN_SENDGRID_WEBHOOK_PUBLIC_KEY") as caught:
        SendGridProvider(bad_key, clock)
    assert bad_key not in str(caught.value)


def test_key_on_another_curve_is_refused(clock: FakeClock) -> None:
    der = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="P-256"):
        SendGridProvider(base64.b64encode(der).decode(), clock)


# --- properties -----------------------------------------------------------------------------


def _one(**fields: Any) -> dict[str, Any]:
    """A minimal valid processed event, with fields added or replaced."""
    raw: dict[str, Any] = {
        "event": "processed",
        "email": "a@example.com",
        "sg_event_id": "id-1",
        "sg_message_id": "msg-1",
        "timestamp": 1795766280,
    }
    raw.update(fields)
    return raw


def _parse_or_payload_error(provider: SendGridProvider, body: bytes) -> None:
    try:
        result = provider.parse(body)
    except PayloadError:
        return
    assert isinstance(result, ParseResult)
    for event in result.events:
        orjson.dumps(event.to_dict())


@SETTINGS
@given(body=st.binary(max_size=300))
def test_random_bytes_parse_or_raise_payload_error(provider: SendGridProvider, body: bytes) -> None:
    _parse_or_payload_error(provider, body)


@SETTINGS
@given(value=JSON)
def test_random_json_parses_or_raises_payload_error(provider: SendGridProvider, value: Any) -> None:
    _parse_or_payload_error(provider, orjson.dumps(value))
    _parse_or_payload_error(provider, orjson.dumps([value]))


@SETTINGS
@given(data=st.data())
def test_mutated_valid_payloads_parse_or_raise_payload_error(
    provider: SendGridProvider, data: st.DataObject
) -> None:
    events = copy.deepcopy(fixture_events())
    for _ in range(data.draw(st.integers(1, 4))):
        event = events[data.draw(st.integers(0, len(events) - 1))]
        key = data.draw(st.sampled_from(sorted(event)))
        if data.draw(st.booleans()):
            del event[key]
        else:
            event[key] = data.draw(JSON)
    _parse_or_payload_error(provider, orjson.dumps(events))


@SETTINGS
@given(
    signature=st.one_of(st.none(), st.text(max_size=120)),
    timestamp=st.one_of(st.none(), st.text(max_size=14), st.integers(0, 2**40).map(str)),
    body=st.binary(max_size=100),
)
def test_verify_only_raises_signature_error(
    provider: SendGridProvider, signature: str | None, timestamp: str | None, body: bytes
) -> None:
    headers = {}
    if signature is not None:
        headers[SIGNATURE_HEADER.lower()] = signature
    if timestamp is not None:
        headers[TIMESTAMP_HEADER.lower()] = timestamp
    with pytest.raises(SignatureError):
        provider.verify(WebhookRequest(headers, body, NOW))
