"""Mailgun webhooks: HMAC signature, freshness, replay protection and event mapping."""

from __future__ import annotations

import copy
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailwarden.clock import FakeClock
from mailwarden.events.errors import NotConfiguredError, PayloadError, SignatureError
from mailwarden.events.model import Event
from mailwarden.events.providers.base import MemoryReplayGuard, ParseResult, WebhookRequest
from mailwarden.events.providers.mailgun import MailgunProvider

FIXTURES = Path(__file__).parents[2] / "fixtures" / "providers" / "mailgun"
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
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


def event_data(name: str) -> dict[str, Any]:
    """One documented-shape event-data object from the fixture file."""
    every: dict[str, dict[str, Any]] = orjson.loads((FIXTURES / "event_data.json").read_bytes())
    return every[name]


def signature_block(key: str = KEY, token: str = "a" * 50, when: datetime = NOW) -> dict[str, str]:
    """A signature block as Mailgun computes it: HMAC-SHA256(key, timestamp + token), hex."""
    timestamp = str(int(when.timestamp()))
    digest = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def body(name: str, **signature: Any) -> bytes:
    """A full webhook body for a fixture event."""
    return orjson.dumps({"signature": signature_block(**signature), "event-data": event_data(name)})


def request(raw: bytes) -> WebhookRequest:
    """A request carrying raw as its body."""
    return WebhookRequest(headers={"content-type": "application/json"}, body=raw, received_at=NOW)


@pytest.fixture
def clock() -> FakeClock:
    """Time stands at 2026-11-27 08:00 UTC."""
    return FakeClock(NOW)


@pytest.fixture
def provider(clock: FakeClock) -> MailgunProvider:
    """A configured provider with an in-memory replay guard."""
    return MailgunProvider(KEY, clock, MemoryReplayGuard())


def parse_one(provider: MailgunProvider, name: str) -> Event:
    """Parse a fixture event and return its one canonical event."""
    (event,) = provider.parse(body(name)).events
    return event


# --- mapping -------------------------------------------------------------------------------


def test_accepted_becomes_queued_with_campaign_and_sending_domain(
    provider: MailgunProvider,
) -> None:
    event = parse_one(provider, "accepted")
    assert event.type == "queued"
    assert event.id == "mg:YWNjZXB0ZWQtMDAx"
    assert event.provider == "mailgun"
    assert event.message_id == "20261127075800.1.ABCDEF@news.example.org"
    assert event.campaign == "black-friday"
    assert event.sending_domain == "news.example.org"
    assert event.tags == ["promo"]
    assert event.occurred_at == datetime(2026, 11, 27, 7, 58, 0, 104329, tzinfo=UTC)


def test_delivered_keeps_sending_ip_and_delivery_status(provider: MailgunProvider) -> None:
    event = parse_one(provider, "delivered")
    assert event.type == "delivered"
    assert event.sending_ip == "203.0.113.5"
    assert event.mailbox_provider == "gmail"
    assert event.bounce is None
    assert event.extra["delivery-status"]["code"] == 250


def test_campaign_tag_names_the_campaign(provider: MailgunProvider) -> None:
    event = parse_one(provider, "delivered")
    assert event.campaign == "black-friday"
    assert "campaign:black-friday" in event.tags


def test_permanent_failure_is_a_hard_bounce_with_code_and_enhanced_status(
    provider: MailgunProvider,
) -> None:
    event = parse_one(provider, "failed_permanent")
    assert event.type == "bounced"
    assert event.bounce is not None
    assert (event.bounce.bounce_class, event.bounce.reason) == ("hard", "userunknown")
    assert event.bounce.smtp_code == 550
    assert event.bounce.status == "5.1.1"
    assert event.bounce.diagnostic is not None
    assert "does not exist" in event.bounce.diagnostic
    assert event.extra["user-variables"]["customer"] == "42"


def test_temporary_failure_is_deferred_not_bounced(provider: MailgunProvider) -> None:
    event = parse_one(provider, "failed_temporary")
    assert event.type == "deferred"
    assert event.bounce is not None
    assert event.bounce.bounce_class in {"soft", "block"}
    assert event.bounce.smtp_code == 421
    assert event.bounce.status == "4.7.0"
    assert event.mailbox_provider == "yahoo"
    assert event.sending_ip == "203.0.113.6"


def test_suppressed_address_failure_is_a_drop_not_a_bounce(provider: MailgunProvider) -> None:
    event = parse_one(provider, "failed_suppress_bounce")
    assert event.type == "dropped"
    assert event.bounce is not None
    assert event.bounce.reason == "suppressed"
    assert event.bounce.smtp_code is None
    assert event.extra["delivery-status"]["code"] == 605


def test_espblock_failure_is_class_block(provider: MailgunProvider) -> None:
    event = parse_one(provider, "failed_espblock")
    assert event.type == "bounced"
    assert event.bounce is not None
    assert event.bounce.bounce_class == "block"


def test_too_old_failure_is_soft_expired(provider: MailgunProvider) -> None:
    event = parse_one(provider, "failed_old")
    assert event.type == "bounced"
    assert event.bounce is not None
    assert (event.bounce.bounce_class, event.bounce.reason) == ("soft", "expired")
    assert event.bounce.smtp_code is None, "498 is Mailgun's own code, not an SMTP reply"


def test_rejected_becomes_dropped_with_the_reason(provider: MailgunProvider) -> None:
    event = parse_one(provider, "rejected")
    assert event.type == "dropped"
    assert event.bounce is not None
    assert event.bounce.diagnostic == "Sandbox subdomains are for test purposes only"
    assert event.sending_domain == "sandbox.example.org"


def test_complained_carries_an_abuse_complaint(provider: MailgunProvider) -> None:
    event = parse_one(provider, "complained")
    assert event.type == "complained"
    assert event.complaint is not None
    assert event.complaint.feedback_type == "abuse"
    assert event.mailbox_provider == "yahoo"
    assert event.campaign == "black-friday"


def test_unsubscribed_keeps_client_details(provider: MailgunProvider) -> None:
    event = parse_one(provider, "unsubscribed")
    assert event.type == "unsubscribed"
    assert event.user_agent is not None
    assert event.user_agent.startswith("Mozilla/5.0 (iPhone")
    assert event.extra["geolocation"]["country"] == "US"
    assert event.extra["ip"] == "198.51.100.7"


def test_opened_uses_client_user_agent_and_legacy_campaign(provider: MailgunProvider) -> None:
    event = parse_one(provider, "opened")
    assert event.type == "opened"
    assert event.user_agent == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    assert event.campaign == "Black Friday 2026"


def test_clicked_carries_the_url(provider: MailgunProvider) -> None:
    event = parse_one(provider, "clicked")
    assert event.type == "clicked"
    assert event.url == "https://shop.example.org/deals"


def test_plain_tags_do_not_name_a_campaign(provider: MailgunProvider) -> None:
    data = event_data("failed_temporary")
    event = provider.parse(orjson.dumps({"event-data": data})).events[0]
    assert event.campaign is None
    assert event.tags == ["promo"]


def test_mx_host_reveals_the_mailbox_provider_of_a_custom_domain(
    provider: MailgunProvider,
) -> None:
    data = event_data("delivered")
    data["recipient"] = "sam@startup.example"
    event = provider.parse(orjson.dumps({"event-data": data})).events[0]
    assert event.mailbox_provider == "gmail"


def test_untracked_event_type_is_skipped_with_a_note(provider: MailgunProvider) -> None:
    result = provider.parse(body("stored"))
    assert result.events == []
    assert result.notes == ["skipped Mailgun event type 'stored'"]


def test_redelivered_event_keeps_its_id(provider: MailgunProvider) -> None:
    first = provider.parse(body("delivered", token="b" * 50)).events[0]
    again = provider.parse(body("delivered", token="c" * 50)).events[0]
    assert first.id == again.id == "mg:ZGVsaXZlcmVkLTAwMQ"


def test_signature_block_is_never_kept_in_extra(provider: MailgunProvider) -> None:
    for name in ("accepted", "delivered", "failed_permanent", "clicked"):
        event = parse_one(provider, name)
        assert "signature" not in event.extra
        assert event.occurred_at.utcoffset() == timedelta(0)
        orjson.dumps(event.to_dict())


# --- malformed payloads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"timestamp=1&token=abc&signature=def&event=delivered", "legacy Mailgun webhooks"),
        (b"[]", "body must be a JSON object, got array"),
        (b'{"signature": {}}', "missing required object 'event-data'"),
        (b'{"event-data": "delivered"}', "'event-data' must be a JSON object, got string"),
        (b'{"event-data": {"id": "x", "timestamp": 1}}', "missing required field 'event'"),
        (b'{"event-data": {"event": "opened", "timestamp": 1}}', "missing required field 'id'"),
        (b'{"event-data": {"event": "opened", "id": "x"}}', "missing required field 'timestamp'"),
        (
            b'{"event-data": {"event": "opened", "id": "x", "timestamp": "noon"}}',
            "'timestamp' is not Unix seconds",
        ),
        (b'{"event-data": {"event": 7, "id": "x", "timestamp": 1}}', "'event' must be a string"),
    ],
)
def test_malformed_bodies_raise_payload_error_naming_the_problem(
    provider: MailgunProvider, raw: bytes, message: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        provider.parse(raw)
    assert message in str(caught.value)


# --- verification ---------------------------------------------------------------------------


def test_valid_signature_is_accepted(provider: MailgunProvider) -> None:
    provider.verify(request(body("delivered")))


def test_signature_made_with_another_key_is_rejected(provider: MailgunProvider) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        provider.verify(request(body("delivered", key="key-wrong")))


@pytest.mark.parametrize("field", ["timestamp", "token", "signature"])
def test_tampered_signature_block_is_rejected(provider: MailgunProvider, field: str) -> None:
    block = signature_block()
    block[field] = {"timestamp": "1795766401", "token": "z" * 50, "signature": "0" * 64}[field]
    raw = orjson.dumps({"signature": block, "event-data": event_data("delivered")})
    with pytest.raises(SignatureError):
        provider.verify(request(raw))


def test_stale_timestamp_is_rejected(provider: MailgunProvider) -> None:
    with pytest.raises(SignatureError, match="older than 600 s"):
        provider.verify(request(body("delivered", when=NOW - timedelta(minutes=11))))


def test_timestamp_far_in_the_future_is_rejected(provider: MailgunProvider) -> None:
    with pytest.raises(SignatureError, match="future"):
        provider.verify(request(body("delivered", when=NOW + timedelta(minutes=6))))


def test_a_retry_of_the_very_same_request_is_not_a_replay(provider: MailgunProvider) -> None:
    # Mailgun retries a POST that got no 2xx with the same body; its event id dedupes.
    provider.verify(request(body("delivered")))
    provider.verify(request(body("delivered")))


def test_captured_token_cannot_carry_a_modified_body(provider: MailgunProvider) -> None:
    provider.verify(request(body("delivered")))
    with pytest.raises(SignatureError, match="already used with another body"):
        provider.verify(request(body("failed_permanent")))


def test_forged_signature_does_not_burn_the_token(provider: MailgunProvider) -> None:
    with pytest.raises(SignatureError):
        provider.verify(request(body("delivered", key="key-wrong")))
    provider.verify(request(body("delivered")))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"event-data": {}}', "no 'signature' object"),
        (b"not json", "not JSON"),
        (b"timestamp=1&token=abc&signature=def", "legacy Mailgun webhooks"),
        (b'{"signature": {"token": "t", "signature": "s"}}', "timestamp is not Unix seconds"),
        (b'{"signature": {"timestamp": "1", "signature": "s"}}', "token is missing"),
        (b'{"signature": {"timestamp": "1", "token": "t"}}', "signature.signature is missing"),
    ],
)
def test_missing_or_malformed_signature_block_is_rejected(
    provider: MailgunProvider, raw: bytes, message: str
) -> None:
    with pytest.raises(SignatureError) as caught:
        provider.verify(request(raw))
    assert message in str(caught.value)


def test_not_configured_names_the_setting(clock: FakeClock) -> None:
    unconfigured = MailgunProvider(None, clock, MemoryReplayGuard())
    with pytest.raises(NotConfiguredError, match="MAILWARDEN_MAILGUN_WEBHOOK_SIGNING_KEY"):
        unconfigured.verify(request(body("delivered")))


def test_signing_key_never_appears_in_errors(provider: MailgunProvider) -> None:
    for raw in (body("delivered", key="key-wrong"), b"{}", b"x=1"):
        with pytest.raises(SignatureError) as caught:
            provider.verify(request(raw))
        assert KEY not in str(caught.value)


# --- properties -----------------------------------------------------------------------------


def _parse_or_payload_error(provider: MailgunProvider, raw: bytes) -> None:
    try:
        result = provider.parse(raw)
    except PayloadError:
        return
    assert isinstance(result, ParseResult)
    for event in result.events:
        orjson.dumps(event.to_dict())


@SETTINGS
@given(raw=st.binary(max_size=300))
def test_random_bytes_parse_or_raise_payload_error(provider: MailgunProvider, raw: bytes) -> None:
    _parse_or_payload_error(provider, raw)


@SETTINGS
@given(value=JSON)
def test_random_json_parses_or_raises_payload_error(provider: MailgunProvider, value: Any) -> None:
    _parse_or_payload_error(provider, orjson.dumps(value))
    _parse_or_payload_error(provider, orjson.dumps({"event-data": value}))


_NAMES = sorted(orjson.loads((FIXTURES / "event_data.json").read_bytes()))


@SETTINGS
@given(data=st.data(), name=st.sampled_from(_NAMES))
def test_mutated_valid_payloads_parse_or_raise_payload_error(
    provider: MailgunProvider, data: st.DataObject, name: str
) -> None:
    document = copy.deepcopy(event_data(name))
    for _ in range(data.draw(st.integers(1, 4))):
        target: dict[str, Any] = document
        nested = [k for k, v in document.items() if isinstance(v, dict) and v]
        dive: bool = data.draw(st.booleans())
        if nested and dive:
            target = document[data.draw(st.sampled_from(nested))]
        if not target:
            continue
        key = data.draw(st.sampled_from(sorted(target)))
        if data.draw(st.booleans()):
            del target[key]
        else:
            target[key] = data.draw(JSON)
    _parse_or_payload_error(provider, orjson.dumps({"event-data": document}))


@SETTINGS
@given(block=JSON, raw=st.binary(max_size=100))
def test_verify_only_raises_signature_error(
    provider: MailgunProvider, block: Any, raw: bytes
) -> None:
    for candidate in (raw, orjson.dumps({"signature": block}), orjson.dumps(block)):
        with pytest.raises(SignatureError):
            provider.verify(request(candidate))
