"""The webhook door over HTTP: 2xx after durability, 401 for bad signatures, 400 + dead letter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fakes import RecordingFetcher
from tests.signing import (
    MAILGUN_KEY,
    POSTMARK_PASSWORD,
    POSTMARK_USER,
    SES_TOPIC,
    SNS_CERT_URL,
    SendGridSigner,
    SnsSigner,
    mailgun_signature,
    postmark_headers,
)

from mailwarden.app import Services, build
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.web.app import create_app

SENDGRID_EVENT = {
    "email": "alex@gmail.com",
    "timestamp": 1795766400,
    "event": "bounce",
    "type": "blocked",
    "status": "5.7.1",
    "reason": "550 5.7.1 Service unavailable; client host [203.0.113.5] blocked using Spamhaus",
    "sg_event_id": "ZmFrZS1ldmVudC0x",
    "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001p3las1-1",
    "ip": "203.0.113.5",
}
POSTMARK_BOUNCE = {
    "RecordType": "Bounce",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Tag": "black-friday",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "ServerID": 23,
    "MessageStream": "outbound",
    "Description": "The server was unable to deliver your message (ex: unknown user).",
    "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email": "jo@outlook.com",
    "From": "news@news.example.org",
    "BouncedAt": "2026-11-27T07:59:00Z",
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Black Friday",
}
SES_COMPLAINT = {
    "notificationType": "Complaint",
    "complaint": {
        "feedbackId": "0100017c-feedback-1",
        "complaintFeedbackType": "abuse",
        "complainedRecipients": [{"emailAddress": "sam@yahoo.com"}],
        "timestamp": "2026-11-27T07:58:00.000Z",
        "userAgent": "Yahoo!-Mail-Feedback/2.0",
    },
    "mail": {
        "timestamp": "2026-11-27T07:00:00.000Z",
        "messageId": "0100017c-message-1",
        "source": "news@news.example.org",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/news.example.org",
        "sendingAccountId": "123456789012",
        "destination": ["sam@yahoo.com"],
    },
}


def _mailgun_body(clock: FakeClock, event_data: object | None = None) -> bytes:
    data = event_data or {
        "id": f"mg-{uuid.uuid4().hex}",
        "event": "failed",
        "severity": "permanent",
        "timestamp": clock.now().timestamp() - 60,
        "recipient": "kim@gmail.com",
        "reason": "bounce",
        "delivery-status": {
            "code": 550,
            "message": "5.1.1 The email account that you tried to reach does not exist",
            "description": "",
        },
        "message": {"headers": {"message-id": "20261127.1@news.example.org"}},
        "envelope": {"sender": "bounce@news.example.org", "sending-ip": "203.0.113.9"},
    }
    signature = mailgun_signature(clock.now(), uuid.uuid4().hex)
    return orjson.dumps({"signature": signature, "event-data": data})


@pytest.fixture
def signer() -> SendGridSigner:
    return SendGridSigner.new()


@pytest.fixture
def sns(clock: FakeClock) -> SnsSigner:
    return SnsSigner.new(clock.now())


@pytest.fixture
def services(
    tmp_path: Path, clock: FakeClock, signer: SendGridSigner, sns: SnsSigner
) -> Iterator[Services]:
    settings_ = Settings(
        database_url=f"sqlite:///{tmp_path / 'web.db'}",
        sqlite_synchronous="NORMAL",
        sendgrid_webhook_public_key=signer.public_key(),
        mailgun_webhook_signing_key=MAILGUN_KEY,
        postmark_webhook_username=POSTMARK_USER,
        postmark_webhook_password=POSTMARK_PASSWORD,
        ses_topic_arns=SES_TOPIC,
        webhook_max_body_bytes=64 * 1024,
    )
    fetcher = RecordingFetcher({SNS_CERT_URL: sns.cert_pem})
    built = build(settings_, clock=clock, fetcher=fetcher)
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


def _post(
    client: TestClient, provider: str, body: bytes, headers: dict[str, str]
) -> dict[str, object]:
    response = client.post(f"/webhooks/{provider}", content=body, headers=headers)
    payload = response.json()
    payload["status"] = response.status_code
    return payload


def test_signed_sendgrid_batch_is_stored_and_acknowledged(
    client: TestClient, services: Services, signer: SendGridSigner, clock: FakeClock
) -> None:
    body = orjson.dumps([SENDGRID_EVENT])
    result = _post(client, "sendgrid", body, signer.headers(body, clock.now()))
    assert result["status"] == 200 and result["accepted"] == 1
    (event,) = services.store.events()
    assert event.bounce is not None and event.bounce.bounce_class == "block"


def test_redelivered_webhook_is_counted_once(
    client: TestClient, signer: SendGridSigner, clock: FakeClock
) -> None:
    body = orjson.dumps([SENDGRID_EVENT])
    _post(client, "sendgrid", body, signer.headers(body, clock.now()))
    again = _post(client, "sendgrid", body, signer.headers(body, clock.now()))
    assert (again["status"], again["accepted"], again["duplicates"]) == (200, 0, 1)


def test_tampered_body_gets_401_and_nothing_is_kept(
    client: TestClient, services: Services, signer: SendGridSigner, clock: FakeClock
) -> None:
    body = orjson.dumps([SENDGRID_EVENT])
    headers = signer.headers(body, clock.now())
    result = _post(client, "sendgrid", body.replace(b"alex", b"mallory"), headers)
    assert (result["status"], result["error"]) == (401, "bad_signature")
    assert services.store.payloads() == []


def test_signed_but_malformed_body_gets_400_naming_the_problem_and_is_dead_lettered(
    client: TestClient, services: Services, signer: SendGridSigner, clock: FakeClock
) -> None:
    body = orjson.dumps([{"event": "delivered", "email": "a@b.c"}])
    result = _post(client, "sendgrid", body, signer.headers(body, clock.now()))
    assert result["status"] == 400
    assert "sg_event_id" in str(result["detail"])
    kept = services.store.payload(int(str(result["raw_id"])))
    assert kept is not None and kept.status == "deadletter" and kept.body == body


def test_mailgun_retry_is_stored_once_and_a_token_on_another_body_refused(
    client: TestClient, clock: FakeClock
) -> None:
    body = _mailgun_body(clock)
    first = _post(client, "mailgun", body, {})
    assert first["status"] == 200 and first["accepted"] == 1
    retried = _post(client, "mailgun", body, {})
    assert retried["status"] == 200 and retried["accepted"] == 0 and retried["duplicates"] == 1
    forged = body.replace(b'"failed"', b'"delivered"')
    assert forged != body
    assert _post(client, "mailgun", forged, {})["status"] == 401


def test_postmark_needs_its_basic_auth_pair(client: TestClient, services: Services) -> None:
    body = orjson.dumps(POSTMARK_BOUNCE)
    assert _post(client, "postmark", body, postmark_headers(password="wrong"))["status"] == 401
    assert _post(client, "postmark", body, postmark_headers())["status"] == 200
    kept = services.store.payloads()[0]
    assert "authorization" not in kept.headers


def test_ses_complaint_through_sns_is_stored(
    client: TestClient, services: Services, sns: SnsSigner, clock: FakeClock
) -> None:
    body = sns.envelope(orjson.dumps(SES_COMPLAINT).decode(), clock.now())
    result = _post(client, "ses", body, {"x-amz-sns-message-type": "Notification"})
    assert result["status"] == 200 and result["accepted"] == 1
    (event,) = services.store.events()
    assert (event.type, event.recipient, event.mailbox_provider) == (
        "complained",
        "sam@yahoo.com",
        "yahoo",
    )


def test_unconfigured_provider_refuses_everything(tmp_path: Path, clock: FakeClock) -> None:
    built = build(Settings(database_url=f"sqlite:///{tmp_path / 'bare.db'}"), clock=clock)
    try:
        with TestClient(create_app(built)) as bare:
            result = _post(bare, "sendgrid", b"[]", {})
        assert (result["status"], result["error"]) == (401, "not_configured")
        assert "MAILWARDEN_SENDGRID_WEBHOOK_PUBLIC_KEY" in str(result["detail"])
    finally:
        built.close()


def test_unknown_provider_is_404(client: TestClient) -> None:
    assert _post(client, "sparkpost", b"[]", {})["status"] == 404


def test_oversized_body_is_413_and_not_kept(client: TestClient, services: Services) -> None:
    result = _post(client, "sendgrid", b"[" + b" " * 70_000 + b"]", {})
    assert result["status"] == 413
    assert services.store.payloads() == []


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(
    provider=st.sampled_from(["sendgrid", "mailgun", "postmark", "ses"]),
    body=st.binary(max_size=2000),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "x-twilio-email-event-webhook-signature",
                "x-twilio-email-event-webhook-timestamp",
                "authorization",
                "x-amz-sns-message-type",
                "content-type",
            ]
        ),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    ),
)
def test_random_unsigned_requests_never_get_a_500(
    client: TestClient, provider: str, body: bytes, headers: dict[str, str]
) -> None:
    result = _post(client, provider, body, headers)
    assert result["status"] in (400, 401), result


def _mutations(valid: dict[str, object]) -> st.SearchStrategy[object]:
    keys = st.sampled_from(sorted(valid))
    replaced = st.tuples(keys, json_values).map(lambda kv: {**valid, kv[0]: kv[1]})
    dropped = keys.map(lambda key: {k: v for k, v in valid.items() if k != key})
    return replaced | dropped | json_values


def _assert_kept_if_refused(services: Services, result: dict[str, object]) -> None:
    assert result["status"] in (200, 400), result
    if result["status"] == 400:
        kept = services.store.payload(int(str(result["raw_id"])))
        assert kept is not None and kept.status == "deadletter" and kept.reason


@FUZZ
@given(payload=_mutations(SENDGRID_EVENT))
def test_signed_mutated_sendgrid_payloads_are_stored_or_dead_lettered(
    client: TestClient,
    services: Services,
    signer: SendGridSigner,
    clock: FakeClock,
    payload: object,
) -> None:
    body = orjson.dumps([payload]) if isinstance(payload, dict) else orjson.dumps(payload)
    _assert_kept_if_refused(
        services, _post(client, "sendgrid", body, signer.headers(body, clock.now()))
    )


@FUZZ
@given(payload=_mutations(POSTMARK_BOUNCE))
def test_authenticated_mutated_postmark_payloads_are_stored_or_dead_lettered(
    client: TestClient, services: Services, payload: object
) -> None:
    _assert_kept_if_refused(
        services, _post(client, "postmark", orjson.dumps(payload), postmark_headers())
    )


@FUZZ
@given(data=st.data())
def test_signed_mutated_mailgun_payloads_are_stored_or_dead_lettered(
    client: TestClient, services: Services, clock: FakeClock, data: st.DataObject
) -> None:
    valid = orjson.loads(_mailgun_body(clock))["event-data"]
    mutated = data.draw(_mutations(valid))
    body = _mailgun_body(clock, mutated if mutated else {"x": 1})
    _assert_kept_if_refused(services, _post(client, "mailgun", body, {}))


@FUZZ
@given(payload=_mutations(SES_COMPLAINT))
def test_signed_mutated_ses_messages_are_stored_or_dead_lettered(
    client: TestClient, services: Services, sns: SnsSigner, clock: FakeClock, payload: object
) -> None:
    body = sns.envelope(orjson.dumps(payload).decode(), clock.now(), message_id=uuid.uuid4().hex)
    _assert_kept_if_refused(services, _post(client, "ses", body, {}))
