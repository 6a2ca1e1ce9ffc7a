"""Realistic SendGrid Event Webhook batches for the benchmarks, signed like SendGrid signs."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

START = 1_795_766_400  # 2026-11-27T00:00:00Z
_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "example.net", "corp.example"]
_KINDS = [
    ("processed", 30),
    ("delivered", 30),
    ("open", 18),
    ("click", 6),
    ("deferred", 4),
    ("bounce", 3),
    ("dropped", 2),
    ("spamreport", 1),
    ("unsubscribe", 1),
]


@dataclass(frozen=True)
class Signer:
    """An ECDSA P-256 key pair standing in for SendGrid's."""

    key: ec.EllipticCurvePrivateKey

    @classmethod
    def new(cls) -> Signer:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def public_key_b64(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int) -> dict[str, str]:
        stamp = str(timestamp).encode()
        signature = self.key.sign(stamp + body, ec.ECDSA(hashes.SHA256()))
        return {
            "x-twilio-email-event-webhook-signature": base64.b64encode(signature).decode(),
            "x-twilio-email-event-webhook-timestamp": stamp.decode(),
            "content-type": "application/json",
        }


def _event(rng: random.Random, index: int, second: int) -> dict[str, object]:
    kind = rng.choices([k for k, _ in _KINDS], weights=[w for _, w in _KINDS])[0]
    user = f"user{rng.randrange(2_000_000)}@{rng.choice(_DOMAINS)}"
    event: dict[str, object] = {
        "email": user,
        "timestamp": second,
        "smtp-id": f"<{index}.{rng.randrange(10**9)}@ismtpd0001p1iad2.sendgrid.net>",
        "event": kind,
        "category": ["promo", "black-friday"],
        "sg_event_id": base64.b64encode(rng.randbytes(16)).decode(),
        "sg_message_id": f"{rng.randrange(16**12):012x}.filterdrecv-{index % 97}",
        "campaign": "black-friday",
        "sending_domain": "news.example.org",
    }
    if kind in ("delivered", "deferred", "bounce"):
        event["ip"] = "203.0.113.5"
        event["response"] = "250 2.0.0 OK" if kind == "delivered" else "421 4.7.0 try later"
    if kind == "bounce":
        event.update(
            type="bounce",
            status="5.1.1",
            reason="550 5.1.1 The email account that you tried to reach does not exist",
            bounce_classification="Invalid Address",
        )
    if kind == "open":
        event.update(useragent="Mozilla/5.0", sg_machine_open=False)
    if kind == "click":
        event.update(useragent="Mozilla/5.0", url="https://example.org/deal")
    return event


def batches(count: int, size: int, seed: int = 7) -> Iterator[bytes]:
    """Yield count JSON-array bodies of size events each, in roughly increasing time."""
    rng = random.Random(seed)
    index = 0
    for batch in range(count):
        events = []
        for _ in range(size):
            second = START + batch * 2 + rng.randrange(-30, 30)
            events.append(_event(rng, index, second))
            index += 1
        yield orjson.dumps(events)
