"""SNS envelope, signature (v1 SHA1withRSA, v2 SHA256withRSA), certificate URL and cache."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.unit.providers.sns_helpers import (
    CERT_URL,
    NOW,
    TOPIC,
    FakeFetcher,
    body,
    confirmation,
    fetcher_with_cert,
    make_signer,
    notification,
    other_signer,
    request,
    sign,
    signer,
    string_to_sign,
)

from mailwarden.clock import FakeClock
from mailwarden.events.errors import NotConfiguredError, PayloadError, SignatureError
from mailwarden.events.providers.sns import (
    SnsEnvelope,
    SnsVerifier,
    canonical_string,
    is_sns_url,
    parse_envelope,
    subscribe_url,
)


def verifier(
    fetcher: FakeFetcher | None = None,
    clock: FakeClock | None = None,
    topics: list[str] | None = None,
    **options: Any,
) -> SnsVerifier:
    return SnsVerifier(
        [TOPIC] if topics is None else topics,
        fetcher or fetcher_with_cert(),
        clock or FakeClock(NOW),
        allowlist_setting="MAILWARDEN_SES_TOPIC_ARNS",
        **options,
    )


# --- accepted -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_accepts_a_notification_signed_with_version(version: str) -> None:
    envelope = notification('{"hello": "world"}', version=version)
    verified = verifier().verify(request(envelope))
    assert verified.type == "Notification"
    assert verified.topic_arn == TOPIC
    assert verified.message == '{"hello": "world"}'


@pytest.mark.parametrize("version", ["1", "2"])
def test_accepts_a_notification_with_a_subject(version: str) -> None:
    envelope = notification("x", subject="Amazon SES Email Event Notification", version=version)
    assert verifier().verify(request(envelope)).subject == "Amazon SES Email Event Notification"


@pytest.mark.parametrize("kind", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
@pytest.mark.parametrize("version", ["1", "2"])
def test_accepts_confirmations_signed_over_subscribe_url_and_token(kind: str, version: str) -> None:
    envelope = confirmation(kind, SignatureVersion=version)
    verified = verifier().verify(request(envelope))
    assert verified.type == kind
    assert verified.token == envelope["Token"]


def test_accepts_a_request_without_the_type_header() -> None:
    verifier().verify(request(notification("x"), headers={}))


def test_canonical_string_is_the_documented_key_value_lines() -> None:
    envelope = parse_envelope(body(notification("msg", subject="subj")))
    expected = (
        f"Message\nmsg\nMessageId\n{envelope.message_id}\nSubject\nsubj\n"
        f"Timestamp\n{envelope.timestamp}\nTopicArn\n{TOPIC}\nType\nNotification\n"
    )
    assert canonical_string(envelope) == expected.encode()


def test_canonical_string_of_a_confirmation_includes_subscribe_url_and_token() -> None:
    raw = confirmation()
    assert canonical_string(parse_envelope(body(raw))) == string_to_sign(raw)
    assert b"SubscribeURL\nhttps://sns." in string_to_sign(raw)


# --- rejected signatures --------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_rejects_a_signature_made_with_another_key(version: str) -> None:
    envelope = notification("x", version=version, key=other_signer().key)
    with pytest.raises(SignatureError, match="does not match"):
        verifier().verify(request(envelope))


@pytest.mark.parametrize("version", ["1", "2"])
def test_rejects_a_tampered_message(version: str) -> None:
    envelope = notification('{"eventType": "Delivery"}', version=version)
    envelope["Message"] = '{"eventType": "Complaint"}'
    with pytest.raises(SignatureError):
        verifier().verify(request(envelope))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"Subject": "changed"}, id="tampered"),
        pytest.param({"Subject": None}, id="removed"),
    ],
)
def test_rejects_a_tampered_subject(change: dict[str, Any]) -> None:
    envelope = notification("x", subject="original")
    envelope.update(change)
    with pytest.raises(SignatureError):
        verifier().verify(request(envelope))


def test_rejects_an_added_subject() -> None:
    envelope = notification("x")
    envelope["Subject"] = "added"
    with pytest.raises(SignatureError):
        verifier().verify(request(envelope))


@pytest.mark.parametrize("field", ["MessageId", "Timestamp", "TopicArn", "Token", "SubscribeURL"])
def test_rejects_a_tampered_confirmation_field(field: str) -> None:
    envelope = confirmation()
    value = envelope[field]
    envelope[field] = value.replace("1", "2") if field != "TopicArn" else TOPIC
    if envelope[field] == value:
        envelope[field] = value + "0"
    with pytest.raises(SignatureError):
        verifier(topics=[TOPIC, envelope["TopicArn"]]).verify(request(envelope))


@pytest.mark.parametrize("version", ["3", "", "0", "SHA256"])
def test_rejects_an_unknown_signature_version(version: str) -> None:
    envelope = notification("x")
    envelope["SignatureVersion"] = version
    fetcher = fetcher_with_cert()
    with pytest.raises(SignatureError, match="SignatureVersion"):
        verifier(fetcher).verify(request(envelope))
    assert fetcher.total == 0


def test_rejects_a_signature_that_is_not_base64() -> None:
    envelope = notification("x")
    envelope["Signature"] = "not base64 at all!"
    with pytest.raises(SignatureError, match="base64"):
        verifier().verify(request(envelope))


def test_rejects_a_body_that_is_not_an_sns_message() -> None:
    for raw in (b"", b"not json", b"[]", b'{"Type": "Notification"}'):
        with pytest.raises(SignatureError):
            verifier().verify(request(raw))


# --- certificate URL ------------------------------------------------------------------------

LOOKALIKES = [
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-a.pem",
    "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.com./SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.com\\@evil.com/SimpleNotificationService-a.pem",
    "https://evil.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "https://evil.com/?sns.us-east-1.amazonaws.com/a.pem",
    "https://xsns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "https://sns-us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.co/SimpleNotificationService-a.pem",
    "https://sns.amazonaws.com/SimpleNotificationService-a.pem",
    "https://sns.evil.amazonaws.com/SimpleNotificationService-a.pem",
    "https://s3.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.com.cn/SimpleNotificationService-a.pem",
    "https://sns.cn-north-1.amazonaws.com/SimpleNotificationService-a.pem",
    "https://SNS.US-EAST-1.AMAZONAWS.COM.evil.com/SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.txt",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem?x=.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem#frag",
    "https://sns.us-east-1.amazonaws.com/../evil.pem",
    "https://sns.us-east-1.amazonaws.com/a/../../evil.pem",
    "https://sns.us-east-1.amazonaws.com/%2e%2e/evil.pem",
    "https://sns.us-east-1.amazonaws.com/ evil.pem",
    "https://sns.us-east-1.amazonaws.com\t/evil.pem",
    "https://sns.us-east-1.amazonaws.com/é.pem",
    "//sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "ftp://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "https://[sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem",
    "https://sns.us-east-1.amazonaws.com]/SimpleNotificationService-a.pem",
    "",
]


@pytest.mark.parametrize("url", LOOKALIKES)
def test_rejects_a_certificate_url_off_sns_and_never_fetches_it(url: str) -> None:
    fetcher = FakeFetcher({url: signer().cert_pem})
    envelope = notification("x", cert_url=url)
    with pytest.raises(SignatureError, match="SigningCertURL"):
        verifier(fetcher).verify(request(envelope))
    assert fetcher.total == 0


@pytest.mark.parametrize(
    "url",
    [
        CERT_URL,
        "https://sns.eu-central-2.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.ap-southeast-4.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
        "https://sns.cn-northwest-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
    ],
)
def test_accepts_certificate_urls_of_every_sns_region(url: str) -> None:
    assert is_sns_url(url, pem=True)
    verifier(fetcher_with_cert(url)).verify(request(notification("x", cert_url=url)))


# --- topic allowlist, configuration, freshness, headers ------------------------------------


def test_rejects_a_topic_outside_the_allowlist_before_fetching() -> None:
    fetcher = fetcher_with_cert()
    envelope = notification("x", topic="arn:aws:sns:us-east-1:999999999999:someone-else")
    with pytest.raises(SignatureError, match="MAILWARDEN_SES_TOPIC_ARNS"):
        verifier(fetcher).verify(request(envelope))
    assert fetcher.total == 0


@pytest.mark.parametrize("topics", [None, [], ["", "  "]])
def test_an_empty_allowlist_is_not_configured_and_names_the_setting(
    topics: list[str] | None,
) -> None:
    check = SnsVerifier(
        topics, fetcher_with_cert(), FakeClock(NOW), allowlist_setting="MAILWARDEN_SES_TOPIC_ARNS"
    )
    with pytest.raises(NotConfiguredError, match="MAILWARDEN_SES_TOPIC_ARNS"):
        check.verify(request(notification("x")))


def test_rejects_a_stale_message() -> None:
    fetcher = fetcher_with_cert()
    envelope = notification("x", timestamp=NOW - timedelta(hours=1, seconds=1))
    with pytest.raises(SignatureError, match="stale"):
        verifier(fetcher).verify(request(envelope))
    assert fetcher.total == 0


def test_accepts_a_message_just_inside_max_age() -> None:
    envelope = notification("x", timestamp=NOW - timedelta(minutes=59))
    verifier().verify(request(envelope))


def test_max_age_is_configurable() -> None:
    envelope = notification("x", timestamp=NOW - timedelta(minutes=11))
    with pytest.raises(SignatureError, match="stale"):
        verifier(max_age=timedelta(minutes=10)).verify(request(envelope))


def test_rejects_a_timestamp_far_in_the_future_but_tolerates_skew() -> None:
    verifier().verify(request(notification("x", timestamp=NOW + timedelta(minutes=4))))
    with pytest.raises(SignatureError, match="future"):
        verifier().verify(request(notification("x", timestamp=NOW + timedelta(minutes=6))))


@pytest.mark.parametrize(
    "timestamp", ["yesterday", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
)
def test_rejects_a_timestamp_that_is_not_iso_or_out_of_range(timestamp: str) -> None:
    envelope = notification("x")
    envelope["Timestamp"] = timestamp
    sign(envelope)
    with pytest.raises(SignatureError, match="ISO"):
        verifier().verify(request(envelope))


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-amz-sns-message-type", "SubscriptionConfirmation"),
        ("x-amz-sns-message-type", "UnsubscribeConfirmation"),
        ("x-amz-sns-topic-arn", "arn:aws:sns:us-east-1:123456789012:other"),
        ("x-amz-sns-message-id", "another-id"),
    ],
)
def test_rejects_a_header_that_disagrees_with_the_signed_body(header: str, value: str) -> None:
    with pytest.raises(SignatureError, match=header):
        verifier().verify(request(notification("x"), headers={header: value}))


def test_body_type_is_trusted_when_header_agrees() -> None:
    envelope = notification("x")
    headers = {
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-topic-arn": TOPIC,
        "x-amz-sns-message-id": envelope["MessageId"],
    }
    verifier().verify(request(envelope, headers=headers))


# --- certificates and the cache -------------------------------------------------------------


def test_caches_the_certificate_by_url() -> None:
    fetcher = fetcher_with_cert()
    check = verifier(fetcher)
    for _ in range(3):
        check.verify(request(notification("x")))
    assert fetcher.calls[CERT_URL] == 1


def test_the_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    urls = [
        f"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-{i}.pem" for i in range(3)
    ]
    fetcher = FakeFetcher(dict.fromkeys(urls, signer().cert_pem))
    check = verifier(fetcher, cache_size=2)
    for url in [*urls, urls[2], urls[0]]:
        check.verify(request(notification("x", cert_url=url)))
    assert len(check.certificates) == 2
    assert fetcher.calls == {urls[0]: 2, urls[1]: 1, urls[2]: 1}


def test_a_failed_fetch_is_not_cached() -> None:
    fetcher = FakeFetcher()
    check = verifier(fetcher)
    with pytest.raises(SignatureError, match="cannot fetch"):
        check.verify(request(notification("x")))
    fetcher.documents[CERT_URL] = signer().cert_pem
    check.verify(request(notification("x")))
    assert fetcher.calls[CERT_URL] == 2


def test_a_certificate_that_is_not_pem_is_rejected_and_not_cached() -> None:
    fetcher = fetcher_with_cert(pem=b"<html>not a certificate</html>")
    check = verifier(fetcher)
    for _ in range(2):
        with pytest.raises(SignatureError, match="not PEM"):
            check.verify(request(notification("x")))
    assert fetcher.calls[CERT_URL] == 2


def test_rejects_a_certificate_outside_its_validity_period() -> None:
    expired = make_signer(NOW - timedelta(days=400), NOW - timedelta(days=1))
    envelope = notification("x", key=expired.key)
    with pytest.raises(SignatureError, match="not valid"):
        verifier(fetcher_with_cert(pem=expired.cert_pem)).verify(request(envelope))


def test_a_fetcher_raising_something_else_is_still_a_signature_error() -> None:
    class Broken:
        def get(self, url: str) -> bytes:
            raise RuntimeError("boom")

    check = SnsVerifier([TOPIC], Broken(), FakeClock(NOW))
    with pytest.raises(SignatureError, match="boom"):
        check.verify(request(notification("x")))


# --- envelope parsing and SubscribeURL ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"Type": "Notification"}', "MessageId is missing"),
        (b'{"Type": 7}', "Type is not a string"),
        (b'{"Type": "Hello"}', "missing"),
    ],
)
def test_parse_envelope_names_the_problem(raw: bytes, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        parse_envelope(raw)


def test_parse_envelope_rejects_an_unknown_type() -> None:
    envelope = notification("x")
    envelope["Type"] = "Hello"
    with pytest.raises(PayloadError, match="unknown SNS message Type"):
        parse_envelope(body(envelope))


def _confirmation_with(url: str) -> SnsEnvelope:
    return parse_envelope(body(confirmation(SubscribeURL=url)))


def test_subscribe_url_of_the_fixture_is_accepted() -> None:
    envelope = parse_envelope(body(confirmation()))
    assert subscribe_url(envelope) == envelope.subscribe_url


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
        "https://sns.us-east-1.amazonaws.com.evil.com/?Action=ConfirmSubscription&Token=t",
        "https://sns.us-east-1.amazonaws.com@evil.com/?Action=ConfirmSubscription&Token=t",
        "https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription&Token=t",
        "https://evil.com/?Action=ConfirmSubscription&Token=t",
        "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&Token=t",
        "https://sns.us-east-1.amazonaws.com/?Token=t",
        "https://sns.us-east-1.amazonaws.com/redirect?Action=ConfirmSubscription",
        f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}x",
        "https://[sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
    ],
)
def test_subscribe_url_off_sns_is_a_payload_error(url: str) -> None:
    with pytest.raises(PayloadError, match="SubscribeURL"):
        subscribe_url(_confirmation_with(url))
