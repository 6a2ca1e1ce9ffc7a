"""The SES adapter: every SES event type from both shapes, ids, bounce hints, bad payloads."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.providers.sns_helpers import (
    NOW,
    TOPIC,
    body,
    confirmation,
    fetcher_with_cert,
    fixture,
    notification,
    request,
)

from mailwarden.clock import FakeClock
from mailwarden.events import bounces
from mailwarden.events.errors import NotConfiguredError, PayloadError, SignatureError
from mailwarden.events.model import Event
from mailwarden.events.providers import ses_failures
from mailwarden.events.providers.base import ParseResult
from mailwarden.events.providers.ses import SesProvider


def provider(topics: list[str] | None = None) -> SesProvider:
    return SesProvider([TOPIC] if topics is None else topics, fetcher_with_cert(), FakeClock(NOW))


def parse(message: dict[str, Any] | str, **envelope: Any) -> ParseResult:
    """Verify and parse, as the ingest service does."""
    ses = provider()
    signed = notification(message, **envelope)
    ses.verify(request(signed))
    return ses.parse(body(signed))


def only(result: ParseResult) -> Event:
    assert len(result.events) == 1, result.events
    return result.events[0]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --- notification shape ---------------------------------------------------------------------


def test_a_multi_recipient_bounce_gives_one_event_per_recipient() -> None:
    events = parse(fixture("notification_bounce")).events
    feedback = "0100018f1a2b3c4d-11111111-2222-3333-4444-555555555555-000000"
    assert [e.recipient for e in events] == ["ana@example.net", "bo@gmail.com", "cy@outlook.com"]
    assert [e.id for e in events] == [f"ses:{feedback}:{e.recipient}" for e in events]
    assert {e.type for e in events} == {"bounced"}
    assert [e.mailbox_provider for e in events] == ["other", "gmail", "microsoft"]
    first = events[0]
    assert first.provider == "ses"
    assert first.message_id == "0100018f1a2b3c4d-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee-000000"
    assert first.occurred_at == at("2026-11-27T07:59:41.120Z")
    assert first.sending_domain == "news.example.org"
    assert first.sending_ip is None, "remoteMtaIp and sourceIp are not our sending IP"
    assert first.bounce is not None
    assert first.bounce.to_dict() == {
        "class": "hard",
        "reason": "userunknown",
        "smtp_code": 550,
        "status": "5.1.1",
        "diagnostic": "550 5.1.1 <ana@example.net>: Recipient address rejected: User unknown",
    }
    assert first.extra["submitting_ip"] == "203.0.113.77"
    assert first.extra["remote_mta_ip"] == "198.51.100.25"
    assert first.extra["bounce_type"] == "Permanent"
    assert first.extra["bounce_sub_type"] == "General"
    assert first.extra["action"] == "failed"
    assert first.extra["topic_arn"] == TOPIC
    assert first.extra["subject"] == "Black Friday starts now"


def test_notification_complaint() -> None:
    event = only(parse(fixture("notification_complaint")))
    assert event.type == "complained"
    assert (
        event.id == "ses:0100018f1a2b3c4d-66666666-7777-8888-9999-000000000000-000000:dee@yahoo.com"
    )
    assert event.complaint is not None
    assert event.complaint.feedback_type == "abuse"
    assert event.mailbox_provider == "yahoo"
    assert event.extra["complaint_user_agent"] == "ExampleISP Feedback Loop (V0.01)"
    assert event.extra["arrival_date"] == "2026-11-27T07:40:00.000Z"
    assert event.user_agent is None


def test_notification_delivery_gives_one_event_per_recipient() -> None:
    events = parse(fixture("notification_delivery")).events
    mid = "0100018f1a2b3c4d-44444444-5555-6666-7777-888888888888-000000"
    assert [(e.type, e.id) for e in events] == [
        ("delivered", f"ses:{mid}:delivered:eve@icloud.com"),
        ("delivered", f"ses:{mid}:delivered:fay@example.net"),
    ]
    assert events[0].mailbox_provider == "apple"
    assert events[0].extra["processing_time_ms"] == 1250
    assert events[0].extra["smtp_response"] == "250 2.0.0 OK queued as 4Xyz"
    assert events[0].extra["remote_mta_ip"] == "198.51.100.40"


def test_complaint_feedback_type_defaults_to_abuse() -> None:
    message = fixture("notification_complaint")
    del message["complaint"]["complaintFeedbackType"]
    event = only(parse(message))
    assert event.complaint is not None
    assert event.complaint.feedback_type == "abuse"


def test_a_complaint_on_the_suppression_list_is_a_drop_not_a_new_complaint() -> None:
    message = fixture("notification_complaint")
    message["complaint"]["complaintSubType"] = "OnAccountSuppressionList"
    event = only(parse(message))
    assert event.type == "dropped"
    assert event.complaint is None
    assert event.bounce is not None
    assert (event.bounce.bounce_class, event.bounce.reason) == ("hard", "suppressed")


# --- event publishing shape -----------------------------------------------------------------

MID = "0100018f2c3d4e5f-12345678-9abc-def0-1234-56789abcdef0-000000"


def test_send_is_queued_for_each_destination() -> None:
    events = parse(fixture("event_send")).events
    assert [(e.type, e.id) for e in events] == [
        ("queued", f"ses:{MID}:queued:gus@gmail.com"),
        ("queued", f"ses:{MID}:queued:hal@example.net"),
    ]
    assert events[0].occurred_at == at("2026-11-27T07:55:00.100Z")


def test_message_tags_map_to_campaign_tags_and_extra() -> None:
    event = parse(fixture("event_delivery")).events[0]
    assert event.campaign == "black-friday"
    assert event.tags == ["segment=promo"]
    assert event.sending_ip == "192.0.2.10", "ses:outgoing-ip is the sending IP"
    assert event.extra["submitting_ip"] == "203.0.113.77", "ses:source-ip is the client's"
    assert event.extra["configuration_set"] == "marketing"
    assert event.extra["from_domain"] == "news.example.org"
    assert event.extra["caller_identity"] == "newsletter-sender"
    assert event.extra["ses_tags"]["campaign"] == ["black-friday"]


def test_reject_is_dropped_with_a_virus_verdict() -> None:
    event = only(parse(fixture("event_reject")))
    assert event.type == "dropped"
    assert event.id == f"ses:{MID}:dropped:gus@gmail.com"
    assert event.bounce is not None
    assert (event.bounce.bounce_class, event.bounce.reason) == ("block", "virusdetected")
    assert event.extra["reject_reason"] == "Bad content"


def test_event_bounce_uses_the_ses_subtype_hint() -> None:
    event = only(parse(fixture("event_bounce")))
    assert event.type == "bounced"
    assert (
        event.id == "ses:0100018f2c3d4e5f-aaaa0000-bbbb-cccc-dddd-eeee00000000-000000:gus@gmail.com"
    )
    assert event.bounce is not None
    assert event.bounce.to_dict() == {
        "class": "soft",
        "reason": "mailboxfull",
        "smtp_code": 552,
        "status": "5.2.2",
        "diagnostic": "552 5.2.2 The recipient's inbox is out of storage space.",
    }
    assert event.sending_ip == "192.0.2.10"


def test_event_complaint_with_null_subtype_is_a_complaint() -> None:
    event = only(parse(fixture("event_complaint")))
    assert event.type == "complained"
    assert event.campaign == "black-friday"
    assert "complaint_sub_type" not in event.extra


def test_event_delivery() -> None:
    event = only(parse(fixture("event_delivery")))
    assert (event.type, event.id) == ("delivered", f"ses:{MID}:delivered:gus@gmail.com")
    assert event.occurred_at == at("2026-11-27T07:55:02.400Z")


def test_open_is_opened_with_user_agent_and_client_ip() -> None:
    event = only(parse(fixture("event_open")))
    assert event.type == "opened"
    assert event.id == f"ses:{MID}:opened:gus@gmail.com:2026-11-27T07:59:19.652Z"
    assert event.recipient == "gus@gmail.com"
    assert event.user_agent is not None
    assert event.user_agent.startswith("Mozilla/5.0 (iPhone")
    assert event.extra["client_ip"] == "198.51.100.200"
    assert event.sending_ip == "192.0.2.10"


def test_click_is_clicked_with_link_and_link_tags() -> None:
    event = only(parse(fixture("event_click")))
    assert event.type == "clicked"
    assert event.id == f"ses:{MID}:clicked:gus@gmail.com:2026-11-27T07:59:25.570Z"
    assert event.url == "https://shop.example.org/deals?utm_campaign=bf"
    assert event.extra["link_tags"] == {"cta": ["hero"], "position": ["1"]}


def test_repeated_opens_are_distinct_events() -> None:
    first = fixture("event_open")
    second = fixture("event_open")
    second["open"]["timestamp"] = "2026-11-27T07:59:59.000Z"
    assert only(parse(first)).id != only(parse(second)).id


def test_an_open_of_a_message_to_several_addresses_names_no_recipient() -> None:
    message = fixture("event_open")
    message["mail"]["destination"] = ["a@example.com", "b@example.com"]
    event = only(parse(message))
    assert event.recipient is None
    assert event.extra["destination"] == ["a@example.com", "b@example.com"]


def test_rendering_failure_is_dropped_with_the_error() -> None:
    event = only(parse(fixture("event_rendering_failure")))
    assert event.type == "dropped"
    assert event.bounce is None
    assert event.extra["template_name"] == "BlackFriday"
    assert "first_name" in event.extra["error_message"]


def test_delivery_delay_is_deferred_per_recipient_with_a_verdict() -> None:
    events = parse(fixture("event_delivery_delay")).events
    raw = "2026-11-27T07:58:40.095Z"
    assert [(e.type, e.id) for e in events] == [
        ("deferred", f"ses:{MID}:deferred:ivy@yahoo.com:{raw}"),
        ("deferred", f"ses:{MID}:deferred:jon@yahoo.com:{raw}"),
    ]
    first = events[0]
    assert first.bounce is not None
    assert first.bounce.to_dict() == {
        "class": "soft",
        "reason": "networkerror",
        "smtp_code": 421,
        "status": "4.4.1",
        "diagnostic": "421 4.4.1 Unable to connect to remote host",
    }
    assert first.extra["delay_type"] == "TransientCommunicationFailure"
    assert first.extra["expiration_time"] == "2026-11-27T21:55:00.000Z"


def test_subscription_unsubscribe_is_unsubscribed() -> None:
    event = only(parse(fixture("event_subscription")))
    assert event.type == "unsubscribed"
    assert event.id == f"ses:{MID}:unsubscribed:gus@gmail.com"
    assert event.occurred_at == at("2026-11-27T08:00:17.910Z")
    assert event.extra["contact_list"] == "Newsletter"
    assert event.extra["unsubscribe_all"] is True
    assert event.extra["topics_opted_out"] == ["deals"]


def test_a_single_topic_opt_out_is_an_unsubscribe() -> None:
    message = fixture("event_subscription")
    message["subscription"]["newTopicPreferences"]["unsubscribeAll"] = False
    event = only(parse(message))
    assert event.extra["topics_opted_out"] == ["deals"]


def test_a_subscription_change_that_unsubscribes_nothing_gives_a_note() -> None:
    message = fixture("event_subscription")
    message["subscription"]["newTopicPreferences"] = {
        "unsubscribeAll": False,
        "topicSubscriptionStatus": [{"topicName": "deals", "subscriptionStatus": "OptIn"}],
    }
    result = parse(message)
    assert result.events == []
    assert result.notes


@pytest.mark.parametrize(
    "name",
    [
        "notification_bounce",
        "notification_complaint",
        "notification_delivery",
        "event_send",
        "event_reject",
        "event_bounce",
        "event_complaint",
        "event_delivery",
        "event_open",
        "event_click",
        "event_rendering_failure",
        "event_delivery_delay",
        "event_subscription",
    ],
)
def test_every_fixture_gives_canonical_json_events(name: str) -> None:
    events = parse(fixture(name)).events
    assert events
    for event in events:
        line = orjson.loads(orjson.dumps(event.to_dict()))
        assert line["provider"] == "ses"
        assert line["id"].startswith("ses:")
        assert line["occurred_at"].endswith("Z")


# --- bounce hints against the classifier ----------------------------------------------------


def _bounce(kind: str, sub: str, diagnostic: str, status: str | None = None) -> dict[str, Any]:
    message = fixture("event_bounce")
    message["bounce"]["bounceType"] = kind
    message["bounce"]["bounceSubType"] = sub
    recipient = message["bounce"]["bouncedRecipients"][0]
    recipient["diagnosticCode"] = diagnostic
    if status is None:
        del recipient["status"]
    else:
        recipient["status"] = status
    return message


def _verdict(message: dict[str, Any]) -> tuple[str, str]:
    bounce = only(parse(message)).bounce
    assert bounce is not None
    return bounce.bounce_class, bounce.reason


BLOCKED = "smtp; 550 5.7.1 Service unavailable; client [192.0.2.10] blocked using zen.spamhaus.org"


@pytest.fixture
def classifier_says_block(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(code: int | None, status: str | None, text: str | None) -> bounces.Verdict:
        if text and "spamhaus" in text:
            return bounces.Verdict("block", "blocked")
        return bounces.Verdict("undetermined", "undefined")

    monkeypatch.setattr(ses_failures, "classify", fake)


@pytest.mark.usefixtures("classifier_says_block")
@pytest.mark.parametrize(
    ("kind", "sub"), [("Permanent", "General"), ("Permanent", "NoEmail"), ("Transient", "General")]
)
def test_a_sender_block_in_the_diagnostic_wins_over_the_ses_bounce_type(
    kind: str, sub: str
) -> None:
    assert _verdict(_bounce(kind, sub, BLOCKED)) == ("block", "blocked")


@pytest.mark.usefixtures("classifier_says_block")
def test_suppression_list_bounces_stay_hard_suppressed() -> None:
    text = (
        "Amazon SES did not send the message to this address because it is on the suppression list"
    )
    for sub in ("Suppressed", "OnAccountSuppressionList"):
        assert _verdict(_bounce("Permanent", sub, text)) == ("hard", "suppressed")
        assert _verdict(_bounce("Permanent", sub, BLOCKED)) == ("hard", "suppressed")


@pytest.mark.usefixtures("classifier_says_block")
@pytest.mark.parametrize(
    ("kind", "sub", "expected"),
    [
        ("Permanent", "General", ("hard", "undefined")),
        ("Permanent", "NoEmail", ("hard", "userunknown")),
        ("Transient", "General", ("soft", "undefined")),
        ("Transient", "MailboxFull", ("soft", "mailboxfull")),
        ("Transient", "MessageTooLarge", ("soft", "mesgtoobig")),
        ("Transient", "ContentRejected", ("block", "contenterror")),
        ("Transient", "AttachmentRejected", ("block", "contenterror")),
        ("Undetermined", "Undetermined", ("undetermined", "undefined")),
        ("Permanent", "SomethingNew", ("hard", "undefined")),
        ("Transient", "SomethingNew", ("soft", "undefined")),
    ],
)
def test_the_ses_hint_decides_when_the_text_says_nothing(
    kind: str, sub: str, expected: tuple[str, str]
) -> None:
    assert _verdict(_bounce(kind, sub, "smtp; 550 mailbox unavailable")) == expected


def test_the_classifier_reason_is_kept_when_it_agrees_with_the_class() -> None:
    message = _bounce("Permanent", "General", "smtp; 550 5.1.1 no such user", status="5.1.1")
    assert _verdict(message) == ("hard", "userunknown")


def test_an_undetermined_ses_bounce_takes_the_classifier_verdict() -> None:
    message = _bounce("Undetermined", "Undetermined", "smtp; 550 5.1.1 no such user", "5.1.1")
    assert _verdict(message) == ("hard", "userunknown")


def test_status_and_code_are_read_from_the_diagnostic_when_missing() -> None:
    message = _bounce("Permanent", "General", "smtp; 550 5.1.1 <gus@gmail.com>: no such user")
    bounce = only(parse(message)).bounce
    assert bounce is not None
    assert (bounce.smtp_code, bounce.status) == (550, "5.1.1")


def test_an_ip_address_in_the_diagnostic_is_not_a_reply_code() -> None:
    message = _bounce("Transient", "General", "smtp; rejected by [250.1.2.3] 4.7.0 try later")
    bounce = only(parse(message)).bounce
    assert bounce is not None
    assert (bounce.smtp_code, bounce.status) == (None, "4.7.0")


@pytest.mark.usefixtures("classifier_says_block")
def test_a_deferral_that_shows_a_block_is_a_block() -> None:
    message = fixture("event_delivery_delay")
    message["deliveryDelay"]["delayedRecipients"][0]["diagnosticCode"] = BLOCKED
    bounce = parse(message).events[0].bounce
    assert bounce is not None
    assert (bounce.bounce_class, bounce.reason) == ("block", "blocked")


# --- ids across re-deliveries ---------------------------------------------------------------


def test_the_same_sns_message_redelivered_gives_the_same_ids() -> None:
    ses = provider()
    signed = body(notification(fixture("notification_bounce")))
    assert [e.id for e in ses.parse(signed).events] == [e.id for e in ses.parse(signed).events]


def test_the_same_ses_event_in_another_sns_message_gives_the_same_ids() -> None:
    for name in ("notification_bounce", "event_delivery", "event_open", "event_delivery_delay"):
        first = parse(fixture(name), message_id="a" * 36)
        later = parse(fixture(name), message_id="b" * 36, timestamp=NOW - timedelta(minutes=30))
        assert [e.id for e in first.events] == [e.id for e in later.events]


def test_a_bounce_seen_through_both_shapes_has_one_id() -> None:
    published = fixture("notification_bounce")
    published["eventType"] = published.pop("notificationType")
    assert [e.id for e in parse(published).events] == [
        e.id for e in parse(fixture("notification_bounce")).events
    ]


# --- SNS control messages -------------------------------------------------------------------


def test_subscription_confirmation_returns_the_url_to_confirm_and_no_events() -> None:
    ses = provider()
    signed = confirmation()
    ses.verify(request(signed))
    result = ses.parse(body(signed))
    assert result.events == []
    assert result.confirm_url == signed["SubscribeURL"]


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
        "https://sns.us-east-1.amazonaws.com.evil.com/?Action=ConfirmSubscription&Token=t",
        "https://evil.example/?Action=ConfirmSubscription&Token=t",
    ],
)
def test_a_subscription_confirmation_with_a_bad_subscribe_url_is_rejected(url: str) -> None:
    ses = provider()
    signed = confirmation(SubscribeURL=url)
    ses.verify(request(signed))  # the signature is fine; the URL is not ours to fetch
    with pytest.raises(PayloadError, match="SubscribeURL"):
        ses.parse(body(signed))


def test_unsubscribe_confirmation_gives_a_note_and_no_events() -> None:
    ses = provider()
    signed = confirmation("UnsubscribeConfirmation")
    ses.verify(request(signed))
    result = ses.parse(body(signed))
    assert (result.events, result.confirm_url) == ([], None)
    assert result.notes


def test_ses_topic_setup_messages_give_notes() -> None:
    succeeded = {
        "notificationType": "AmazonSnsSubscriptionSucceeded",
        "message": "You have successfully subscribed your Amazon SNS topic to receive 'Bounce'.",
    }
    validated = "Successfully validated SNS topic for Amazon SES event publishing."
    for message in (succeeded, validated):
        result = parse(message)
        assert result.events == []
        assert result.notes


def test_an_empty_allowlist_is_not_configured() -> None:
    with pytest.raises(NotConfiguredError, match="MAILWARDEN_SES_TOPIC_ARNS"):
        provider(topics=[]).verify(request(notification(fixture("event_send"))))


def test_a_topic_outside_the_allowlist_is_a_signature_error() -> None:
    signed = notification(fixture("event_send"), topic="arn:aws:sns:us-east-1:1:other")
    with pytest.raises(SignatureError):
        provider().verify(request(signed))


# --- malformed payloads ---------------------------------------------------------------------


def _without(name: str, *path: str) -> dict[str, Any]:
    message = fixture(name)
    target = message
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return message


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("Hello world", "not SES JSON"),
        ("[1, 2, 3]", "not an SES object"),
        ({"hello": "world"}, "no eventType or notificationType"),
        ({"eventType": "Teleport", "mail": {}}, "unknown SES event type 'Teleport'"),
        (_without("event_send", "mail"), "mail is missing"),
        (_without("event_send", "mail", "messageId"), "mail.messageId"),
        (_without("notification_bounce", "bounce", "feedbackId"), "bounce.feedbackId"),
        (_without("notification_bounce", "bounce", "bouncedRecipients"), "bouncedRecipients"),
        (_without("notification_complaint", "complaint"), "complaint is missing"),
        (_without("notification_delivery", "delivery", "recipients"), "delivery.recipients"),
        (_without("event_open", "open"), "open is missing"),
        (_without("event_send", "mail", "timestamp"), "timestamp"),
    ],
)
def test_a_malformed_ses_message_is_a_payload_error_naming_the_problem(
    message: dict[str, Any] | str, problem: str
) -> None:
    with pytest.raises(PayloadError, match=problem):
        provider().parse(body(notification(message)))


def test_a_recipient_without_an_address_is_a_payload_error() -> None:
    message = fixture("notification_bounce")
    message["bounce"]["bouncedRecipients"][1] = {"status": "5.1.1"}
    with pytest.raises(PayloadError, match=r"bouncedRecipients\[1\].emailAddress"):
        provider().parse(body(notification(message)))


@pytest.mark.parametrize("timestamp", ["last tuesday", "0001-01-01T00:00:00+01:00"])
def test_a_timestamp_that_is_not_iso_or_out_of_range_is_a_payload_error(timestamp: str) -> None:
    message = fixture("event_delivery")
    message["delivery"]["timestamp"] = timestamp
    with pytest.raises(PayloadError, match="ISO 8601"):
        provider().parse(body(notification(message)))


def test_parse_does_not_judge_staleness_so_dead_letters_can_be_replayed() -> None:
    old = notification(fixture("event_send"), timestamp=NOW - timedelta(days=30))
    assert provider().parse(body(old)).events


# --- property: only the documented errors ---------------------------------------------------

NASTY = ["0001-01-01T00:00:00+01:00", "https://[sns.us-east-1.amazonaws.com/x.pem", "",
         "smtp; 550 5.7.1 blocked", "OnAccountSuppressionList", "Permanent", "\ud800"]  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(NASTY),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
SNS_KEYS = ["Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion",
            "Signature", "SigningCertURL", "Subject", "SubscribeURL", "Token"]  # fmt: skip
SES_NAMES = ["notification_bounce", "notification_complaint", "notification_delivery",
             "event_send", "event_reject", "event_bounce", "event_complaint", "event_delivery",
             "event_open", "event_click", "event_rendering_failure", "event_delivery_delay",
             "event_subscription"]  # fmt: skip


def _only_documented_errors(raw: bytes, headers: dict[str, str] | None = None) -> None:
    ses = provider()
    with contextlib.suppress(SignatureError, NotConfiguredError):
        ses.verify(request(raw, headers=headers or {}))
    try:
        result = ses.parse(raw)
    except PayloadError:
        return
    for event in result.events:
        orjson.dumps(event.to_dict())


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(value: Any, path: tuple[Any, ...], replacement: Any, delete: bool) -> None:
    for step in path[:-1]:
        value = value[step]
    if delete and isinstance(value, dict):
        value.pop(path[-1], None)
    else:
        value[path[-1]] = replacement


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_documented_errors(raw: bytes) -> None:
    _only_documented_errors(raw)


@PROPERTY
@given(json_values, st.dictionaries(st.sampled_from(SNS_KEYS), json_values, max_size=11))
def test_random_json_raises_only_documented_errors(value: Any, envelope: dict[str, Any]) -> None:
    _only_documented_errors(json.dumps(value).encode())
    _only_documented_errors(json.dumps(envelope).encode())


@PROPERTY
@given(st.sampled_from(SNS_KEYS), json_values, st.booleans(), st.sampled_from(["1", "2"]))
def test_mutated_envelopes_raise_only_documented_errors(
    key: str, replacement: Any, delete: bool, version: str
) -> None:
    envelope = notification(fixture("event_bounce"), subject="s", version=version)
    _mutate(envelope, (key,), replacement, delete)
    _only_documented_errors(body(envelope), {"x-amz-sns-message-type": "Notification"})


@PROPERTY
@given(st.sampled_from(SES_NAMES), st.data(), json_values, st.booleans())
def test_mutated_ses_messages_raise_only_documented_errors(
    name: str, data: st.DataObject, replacement: Any, delete: bool
) -> None:
    message = fixture(name)
    path = data.draw(st.sampled_from(_paths(message)))
    _mutate(message, path, replacement, delete)
    _only_documented_errors(body(notification(message)))
