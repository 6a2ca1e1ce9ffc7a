"""Test-side signers for every provider, written from the providers' documentation."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

SNS_CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
SES_TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
MAILGUN_KEY = "key-test-mailgun-signing"
POSTMARK_USER, POSTMARK_PASSWORD = "postmark-hook", "s3cret-pm"


@dataclass(frozen=True)
class SendGridSigner:
    """ECDSA P-256 over timestamp + body, as SendGrid's signed Event Webhook does."""

    key: ec.EllipticCurvePrivateKey

    @classmethod
    def new(cls) -> SendGridSigner:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def public_key(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, when: datetime) -> dict[str, str]:
        stamp = str(int(when.timestamp()))
        signature = self.key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "x-twilio-email-event-webhook-signature": base64.b64encode(signature).decode(),
            "x-twilio-email-event-webhook-timestamp": stamp,
        }


def mailgun_signature(when: datetime, token: str, key: str = MAILGUN_KEY) -> dict[str, str]:
    """The signature block Mailgun puts in each webhook body."""
    stamp = str(int(when.timestamp()))
    digest = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": stamp, "token": token, "signature": digest}


def postmark_headers(
    user: str = POSTMARK_USER, password: str = POSTMARK_PASSWORD
) -> dict[str, str]:
    """HTTP basic auth as configured on a Postmark webhook."""
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {pair}"}


@dataclass(frozen=True)
class SnsSigner:
    """An RSA key and a self-signed certificate standing in for SNS's signing certificate."""

    key: rsa.RSAPrivateKey
    cert_pem: bytes

    @classmethod
    def new(cls, now: datetime) -> SnsSigner:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=30))
            .not_valid_after(now + timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert.public_bytes(serialization.Encoding.PEM))

    def envelope(self, message: str, when: datetime, *, message_id: str = "m-1") -> bytes:
        """A signed (version 2) SNS Notification carrying message."""
        fields = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": SES_TOPIC,
            "Message": message,
            "Timestamp": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "SignatureVersion": "2",
            "SigningCertURL": SNS_CERT_URL,
        }
        canonical = "".join(
            f"{key}\n{fields[key]}\n"
            for key in ("Message", "MessageId", "Timestamp", "TopicArn", "Type")
        ).encode()
        signature = self.key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())
        fields["Signature"] = base64.b64encode(signature).decode()
        return orjson.dumps(fields)
