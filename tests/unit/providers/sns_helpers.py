"""Test helpers for SNS/SES: a throw-away signing key and certificate, a fake fetcher, signing."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from mailwarden.events.providers.base import WebhookRequest

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
CERT_URL = (
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-"
    "0000000000000000000000000000000a.pem"
)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers" / "ses"

# The documented keys of the string to sign, in order (Subject only when present).
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)


@dataclass(frozen=True)
class Signer:
    """A private key and the PEM of its self-signed certificate."""

    key: rsa.RSAPrivateKey
    cert_pem: bytes


def make_signer(
    not_before: datetime = NOW - timedelta(days=30),
    not_after: datetime = NOW + timedelta(days=365),
) -> Signer:
    """Generate a fresh RSA key and a self-signed certificate valid between the two times."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return Signer(key, cert.public_bytes(serialization.Encoding.PEM))


@cache
def signer() -> Signer:
    """The one signer most tests share (generated once, on first use)."""
    return make_signer()


@cache
def other_signer() -> Signer:
    """A second key, for 'signed with the wrong key' tests."""
    return make_signer()


class FakeFetcher:
    """An HttpFetcher over a dict URL -> bytes; counts calls; raises OSError for unknown URLs."""

    def __init__(self, documents: Mapping[str, bytes] | None = None) -> None:
        self.documents = dict(documents or {})
        self.calls: Counter[str] = Counter()

    def get(self, url: str) -> bytes:
        """Return the document or raise OSError."""
        self.calls[url] += 1
        try:
            return self.documents[url]
        except KeyError:
            raise OSError(f"404 {url}") from None

    @property
    def total(self) -> int:
        """How many fetches were made in all."""
        return sum(self.calls.values())


def string_to_sign(envelope: Mapping[str, Any]) -> bytes:
    """The canonical string, built independently of the code under test."""
    keys = NOTIFICATION_KEYS if envelope["Type"] == "Notification" else CONFIRMATION_KEYS
    text = "".join(f"{k}\n{envelope[k]}\n" for k in keys if envelope.get(k) is not None)
    return text.encode()


def sign(
    envelope: dict[str, Any], key: rsa.RSAPrivateKey | None = None, version: str = "1"
) -> dict[str, Any]:
    """Set SignatureVersion and Signature on the envelope (in place) and return it."""
    algorithm: hashes.HashAlgorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = (key or signer().key).sign(string_to_sign(envelope), padding.PKCS1v15(), algorithm)
    envelope["SignatureVersion"] = version
    envelope["Signature"] = base64.b64encode(signature).decode()
    return envelope


def notification(
    message: str | Mapping[str, Any],
    *,
    subject: str | None = None,
    timestamp: datetime = NOW - timedelta(seconds=5),
    topic: str = TOPIC,
    message_id: str = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    cert_url: str = CERT_URL,
    version: str = "1",
    key: rsa.RSAPrivateKey | None = None,
) -> dict[str, Any]:
    """A signed SNS Notification envelope carrying message (a dict is JSON-encoded)."""
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic,
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": timestamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "SigningCertURL": cert_url,
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&x=1",
    }
    if subject is not None:
        envelope["Subject"] = subject
    return sign(envelope, key, version)


def confirmation(kind: str = "SubscriptionConfirmation", **changes: Any) -> dict[str, Any]:
    """A signed SubscriptionConfirmation (or UnsubscribeConfirmation) from the fixture."""
    envelope: dict[str, Any] = json.loads(
        (FIXTURES / "sns_subscription_confirmation.json").read_text()
    )
    envelope["Type"] = kind
    envelope["Timestamp"] = (NOW - timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    envelope.update(changes)
    return sign(envelope, version=str(changes.get("SignatureVersion", "1")))


def fixture(name: str) -> dict[str, Any]:
    """Load one SES message fixture (the JSON SNS carries in Message)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def body(envelope: Mapping[str, Any]) -> bytes:
    """Serialise an envelope as SNS posts it."""
    return json.dumps(envelope).encode()


def request(
    envelope: Mapping[str, Any] | bytes, headers: Mapping[str, str] | None = None
) -> WebhookRequest:
    """A webhook request carrying the envelope, with the usual SNS type header."""
    raw = envelope if isinstance(envelope, bytes) else body(envelope)
    sent = dict(headers) if headers is not None else {}
    if headers is None and not isinstance(envelope, bytes):
        sent["x-amz-sns-message-type"] = str(envelope.get("Type"))
    return WebhookRequest(headers=sent, body=raw, received_at=NOW)


def fetcher_with_cert(url: str = CERT_URL, pem: bytes | None = None) -> FakeFetcher:
    """A FakeFetcher that serves the shared signer's certificate at url."""
    return FakeFetcher({url: pem if pem is not None else signer().cert_pem})
