"""Postmark webhooks: basic auth and the mapping of every record type."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailwarden.events.errors import NotConfiguredError, PayloadError, SignatureError
from mailwarden.events.model import Event
from mailwarden.events.providers.base import ParseResult, WebhookRequest
from mailwarden.events.providers.postmark import PostmarkProvider

FIXTURES = Path(__file__).parents[2] / "fixtures" / "providers" / "postmark"
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
USERNAME = "postmark-hook"
PASSWORD = "correct horse battery staple"
PROVIDER = PostmarkProvider(USERNAME, PASSWORD)
SETTINGS = settings(max_examples=200, deadline=None)
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
_RECORDS: dict[str, dict[str, Any]] = orjson.loads((FIXTURES / "records.json").read_bytes())


def record(name: str, **changes: Any) -> dict[str, Any]:
    """A documented-shape record from the fixture file, with fields replaced."""
    found = copy.deepcopy(_RECORDS[name])
    found.update(changes)
    return found


def parse_one(raw: dict[str, Any]) -> Event:
    """Parse a record and return its one canonical event."""
    (event,) = PROVIDER.parse(orjson.dumps(raw)).events
    return event


def basic(username: str, password: str, scheme: str = "Basic") -> WebhookRequest:
    """A request with an HTTP basic Authorization header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return WebhookRequest({"authorization": f"{scheme} {token}"}, b"{}", NOW)


# --- bounces --------------------------------------------------------------------------------


def test_hard_bounce_is_hard_userunknown_with_codes_from_details() -> None:
    event = parse_one(record("hard_bounce"))
    assert event.type == "bounced"
    assert event.id == "pm:bounce:4323372036854775807"
    assert event.message_id == "883953f4-6105-42a2-a16a-77a8eac79483"
    assert event.recipient == "nobody@example.com"
    assert event.bounce is not None
    assert (event.bounce.bounce_class, event.bounce.reason) == ("hard", "userunknown")
    assert (event.bounce.smtp_code, event.bounce.status) == (550, "5.1.1")
    assert event.occurred_at == datetime(2026, 11, 27, 7, 58, 0, 907025, tzinfo=UTC)


def test_hard_bounce_campaign_from_metadata_tag_as_tag_and_from_domain() -> None:
    event = parse_one(record("hard_bounce"))
    assert event.campaign == "onboarding"
    assert event.tags == ["welcome-email"]
    assert event.sending_domain == "notify.example.org"
    assert event.extra["Metadata"] == {"campaign": "onboarding", "customer": "42"}
    assert event.extra["Inactive"] is True


def test_bounce_dump_content_is_not_copied_into_extra() -> None:
    event = parse_one(record("hard_bounce"))
    assert "Content" not in event.extra


def test_hard_bounce_whose_text_shows_a_block_is_class_block() -> None:
    details = "smtp;550 5.7.1 Client host [203.0.113.5] blocked using zen.spamhaus.org"
    bounce = parse_one(record("hard_bounce", Details=details)).bounce
    assert bounce is not None
    assert bounce.bounce_class == "block"


def test_hard_bounce_without_details_is_still_hard() -> None:
    bounce = parse_one(record("hard_bounce", Details="")).bounce
    assert bounce is not None
    assert (bounce.bounce_class, bounce.reason) == ("hard", "userunknown")


def test_soft_bounce_is_soft() -> None:
    event = parse_one(record("soft_bounce"))
    assert event.type == "bounced"
    assert event.bounce is not None
    assert event.bounce.bounce_class == "soft"
    assert event.bounce.smtp_code == 452
    assert event.campaign == "digest"
    assert event.mailbox_provider == "gmail"


def test_transient_bounce_is_a_deferral() -> None:
    event = parse_one(record("transient"))
    assert event.type == "deferred"
    assert event.bounce is not None
    assert event.bounce.bounce_class in {"soft", "block"}
    assert event.mailbox_provider == "microsoft"


def test_blocked_bounce_is_class_block_not_hard() -> None:
    event = parse_one(record("blocked"))
    assert event.type == "bounced"
    assert event.bounce is not None
    assert event.bounce.bounce_class == "block"
    assert event.campaign == "newsletter"


def test_dmarc_policy_bounce_is_a_block_for_authentication() -> None:
    bounce = parse_one(record("dmarc_policy")).bounce
    assert bounce is not None
    assert (bounce.bounce_class, bounce.reason) == ("block", "authfailure")


def test_dns_error_is_soft() -> None:
    bounce = parse_one(record("dns_error")).bounce
    assert bounce is not None
    assert bounce.bounce_class == "soft"


def test_auto_responder_is_no_bounce_and_is_skipped_with_a_note() -> None:
    result = PROVIDER.parse(orjson.dumps(record("auto_responder")))
    assert result.events == []
    assert result.notes == ["skipped Postmark bounce of type 'AutoResponder': no delivery outcome"]


def test_spam_complaint_type_bounce_is_a_complaint() -> None:
    event = parse_one(record("spam_complaint_bounce"))
    assert event.type == "complained"
    assert event.bounce is None
    assert event.complaint is not None
    assert event.complaint.feedback_type == "abuse"


def test_spam_complaint_record_shares_the_bounce_id_so_it_counts_once() -> None:
    via_bounce_hook = parse_one(record("spam_complaint_bounce"))
    via_complaint_hook = parse_one(record("spam_complaint"))
    assert via_complaint_hook.type == "complained"
    assert via_complaint_hook.id == via_bounce_hook.id == "pm:bounce:4323372036854775814"
    assert via_complaint_hook.mailbox_provider == "yahoo"


def test_type_code_decides_when_type_is_missing() -> None:
    raw = record("soft_bounce", TypeCode=100006)
    del raw["Type"]
    bounce = parse_one(raw).bounce
    assert bounce is not None
    assert bounce.bounce_class == "block"


@pytest.mark.parametrize(
    ("bounce_type", "event_type"),
    [
        ("Unsubscribe", "unsubscribed"),
        ("SMTPApiError", "dropped"),
        ("TemplateRenderingFailed", "dropped"),
        ("SpamNotification", "bounced"),
        ("VirusNotification", "bounced"),
        ("BadEmailAddress", "bounced"),
        ("Unknown", "bounced"),
    ],
)
def test_other_bounce_types_map_to_their_outcome(bounce_type: str, event_type: str) -> None:
    raw = record("soft_bounce", Type=bounce_type)
    del raw["TypeCode"]
    assert parse_one(raw).type == event_type


@pytest.mark.parametrize(
    "bounce_type",
    [
        "Subscribe",
        "AddressChange",
        "OpenRelayTest",
        "ChallengeVerification",
        "Unconfirmed",
        "ManuallyDeactivated",
        "InboundError",
        "SomethingNew",
    ],
)
def test_non_delivery_bounce_types_are_skipped(bounce_type: str) -> None:
    raw = record("soft_bounce", Type=bounce_type)
    del raw["TypeCode"]
    result = PROVIDER.parse(orjson.dumps(raw))
    assert result.events == []
    assert bounce_type in result.notes[0]


# --- delivery, engagement, subscription -----------------------------------------------------


def test_delivery_becomes_delivered_with_metadata_campaign_and_domain() -> None:
    event = parse_one(record("delivery"))
    assert event.type == "delivered"
    assert event.id.startswith("pm:delivery:")
    assert event.recipient == "sam@gmail.com"
    assert event.campaign == "onboarding"
    assert event.sending_domain == "notify.example.org"
    assert event.extra["Details"].startswith("smtp;250")


def test_open_carries_user_agent_and_first_open_flag() -> None:
    event = parse_one(record("open"))
    assert event.type == "opened"
    assert event.id.startswith("pm:open:")
    assert event.user_agent is not None
    assert "Chrome/120.0" in event.user_agent
    assert event.extra["FirstOpen"] is True
    assert event.extra["Geo"]["City"] == "Boston"
    assert event.campaign == "welcome-email"


def test_click_carries_the_original_link() -> None:
    event = parse_one(record("click"))
    assert event.type == "clicked"
    assert event.url == "https://app.example.org/start"
    assert event.extra["ClickLocation"] == "HTML"


def test_recipient_suppression_is_an_unsubscribe() -> None:
    event = parse_one(record("unsubscribe_change"))
    assert event.type == "unsubscribed"
    assert event.id.startswith("pm:subscriptionchange:")
    assert event.mailbox_provider == "apple"
    assert event.extra["Origin"] == "Recipient"


@pytest.mark.parametrize(
    ("name", "changes", "note"),
    [
        ("hard_bounce_change", {}, "HardBounce"),
        ("hard_bounce_change", {"SuppressionReason": "SpamComplaint"}, "SpamComplaint"),
        ("unsubscribe_change", {"Origin": "Customer"}, "origin Customer"),
        ("reactivation", {}, "reactivation"),
    ],
)
def test_other_subscription_changes_are_skipped_with_a_note(
    name: str, changes: dict[str, Any], note: str
) -> None:
    result = PROVIDER.parse(orjson.dumps(record(name, **changes)))
    assert result.events == []
    assert note in result.notes[0]


def test_unknown_record_type_is_skipped_with_a_note() -> None:
    result = PROVIDER.parse(orjson.dumps({"RecordType": "Inbound"}))
    assert result.events == []
    assert result.notes == ["skipped Postmark record type 'Inbound'"]


# --- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_RECORDS))
def test_redelivered_record_keeps_its_id(name: str) -> None:
    first = PROVIDER.parse(orjson.dumps(record(name))).events
    again = PROVIDER.parse(orjson.dumps(record(name))).events
    assert [e.id for e in first] == [e.id for e in again]


def test_derived_ids_differ_per_time_and_per_link() -> None:
    base = parse_one(record("click")).id
    later = parse_one(record("click", ReceivedAt="2026-11-27T08:12:00Z")).id
    other_link = parse_one(record("click", OriginalLink="https://app.example.org/other")).id
    assert len({base, later, other_link}) == 3


def test_derived_id_ignores_how_the_time_is_written() -> None:
    utc = parse_one(record("open")).id
    offset = parse_one(record("open", ReceivedAt="2026-11-27T09:10:00+01:00")).id
    assert utc == offset


def test_all_fixture_events_are_canonical() -> None:
    for name in _RECORDS:
        for event in PROVIDER.parse(orjson.dumps(record(name))).events:
            assert event.provider == "postmark"
            assert event.occurred_at.utcoffset() == timedelta(0)
            orjson.dumps(event.to_dict())


# --- malformed payloads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not valid JSON"),
        (b"[]", "body must be a JSON object, got array"),
        (b"{}", "missing required field 'RecordType'"),
        (b'{"RecordType": 3}', "'RecordType' must be a string, got number"),
        (b'{"RecordType": "Delivery", "DeliveredAt": "2026-11-27T08:00:00Z"}', "'Recipient'"),
        (
            b'{"RecordType": "Delivery", "Recipient": "a@b.c"}',
            "missing required field 'DeliveredAt'",
        ),
        (
            b'{"RecordType": "Delivery", "Recipient": "a@b.c", "DeliveredAt": "yesterday"}',
            "'DeliveredAt' is not an ISO 8601 time",
        ),
        (b'{"RecordType": "Bounce", "Type": "HardBounce"}', "missing required field 'ID'"),
        (b'{"RecordType": "Bounce", "ID": [1]}', "'ID' must be a number or string, got array"),
    ],
)
def test_malformed_records_raise_payload_error_naming_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(PayloadError) as caught:
        PROVIDER.parse(raw)
    assert message in str(caught.value)


# --- verification ---------------------------------------------------------------------------


def test_correct_credentials_are_accepted() -> None:
    PROVIDER.verify(basic(USERNAME, PASSWORD))


def test_scheme_name_is_case_insensitive() -> None:
    PROVIDER.verify(basic(USERNAME, PASSWORD, scheme="basic"))


@pytest.mark.parametrize(
    ("username", "password"),
    [(USERNAME, "wrong"), ("someone", PASSWORD), ("", ""), (USERNAME, PASSWORD + "x")],
)
def test_wrong_credentials_are_rejected(username: str, password: str) -> None:
    with pytest.raises(SignatureError, match="do not match"):
        PROVIDER.verify(basic(username, password))


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing Authorization header"),
        ({"authorization": "Bearer abc"}, "not HTTP basic auth"),
        ({"authorization": "Basic"}, "not HTTP basic auth"),
        ({"authorization": "Basic !!!"}, "not valid base64"),
        ({"authorization": "Basic " + base64.b64encode(b"nocolon").decode()}, "':' separator"),
    ],
)
def test_missing_or_malformed_authorization_is_rejected(
    headers: dict[str, str], message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        PROVIDER.verify(WebhookRequest(headers, b"{}", NOW))


@pytest.mark.parametrize(("username", "password"), [(None, None), ("u", None), (None, "p")])
def test_not_configured_names_both_settings(username: str | None, password: str | None) -> None:
    with pytest.raises(NotConfiguredError) as caught:
        PostmarkProvider(username, password).verify(basic("u", "p"))
    assert "MAILWARDEN_POSTMARK_WEBHOOK_USERNAME" in str(caught.value)
    assert "MAILWARDEN_POSTMARK_WEBHOOK_PASSWORD" in str(caught.value)


def test_password_never_appears_in_errors() -> None:
    with pytest.raises(SignatureError) as caught:
        PROVIDER.verify(basic(USERNAME, PASSWORD[:-1]))
    assert PASSWORD not in str(caught.value)
    assert PASSWORD[:-1] not in str(caught.value)


# --- properties -----------------------------------------------------------------------------


def _parse_or_payload_error(raw: bytes) -> None:
    try:
        result = PROVIDER.parse(raw)
    except PayloadError:
        return
    assert isinstance(result, ParseResult)
    for event in result.events:
        orjson.dumps(event.to_dict())


@SETTINGS
@given(raw=st.binary(max_size=300))
def test_random_bytes_parse_or_raise_payload_error(raw: bytes) -> None:
    _parse_or_payload_error(raw)


@SETTINGS
@given(value=JSON, kind=st.sampled_from(["Bounce", "Delivery", "Open", "SubscriptionChange"]))
def test_random_json_parses_or_raises_payload_error(value: Any, kind: str) -> None:
    _parse_or_payload_error(orjson.dumps(value))
    if isinstance(value, dict):
        _parse_or_payload_error(orjson.dumps({**value, "RecordType": kind}))


@SETTINGS
@given(data=st.data(), name=st.sampled_from(sorted(_RECORDS)))
def test_mutated_valid_records_parse_or_raise_payload_error(data: st.DataObject, name: str) -> None:
    raw = record(name)
    for _ in range(data.draw(st.integers(1, 4))):
        key = data.draw(st.sampled_from(sorted(raw)))
        if data.draw(st.booleans()):
            del raw[key]
        else:
            raw[key] = data.draw(JSON)
        if not raw:
            break
    _parse_or_payload_error(orjson.dumps(raw))


@SETTINGS
@given(
    header=st.one_of(
        st.none(),
        st.text(max_size=80),
        st.binary(max_size=60).map(lambda b: "Basic " + base64.b64encode(b).decode()),
    )
)
def test_verify_only_raises_signature_error(header: str | None) -> None:
    headers = {} if header is None else {"authorization": header}
    with pytest.raises(SignatureError):
        PROVIDER.verify(WebhookRequest(headers, b"{}", NOW))
