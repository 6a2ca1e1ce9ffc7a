"""Amazon SNS over HTTPS: the envelope, its signature (versions 1 and 2) and the certificate cache.

Knows nothing of SES. Decisions, so callers and reviewers need not guess:

* Trust comes from the signature over the documented canonical string, checked with the
  certificate at ``SigningCertURL``. That URL must be ``https://sns.<region>.amazonaws.com``
  (or ``.amazonaws.com.cn`` for China regions) with no userinfo, no port, no query and a
  ``/<name>.pem`` path; the HttpFetcher must verify TLS, which is what ties the key to AWS.
* The signed body's ``Type`` is the truth; an ``x-amz-sns-message-type`` (or topic/message id)
  header that disagrees with it is rejected as tampering.
* A topic outside the allowlist is a SignatureError (401): the message may be genuine, but it
  is not ours to trust. It is checked before any certificate is fetched, so a stranger cannot
  make us fetch anything. An empty allowlist is NotConfiguredError, naming the setting.
* Staleness is checked in ``verify`` only (``Timestamp`` older than ``max_age``, default one
  hour: SNS retries an HTTP endpoint for at most an hour), so a payload kept in the dead-letter
  queue can still be parsed and replayed later. Timestamps more than ``max_skew`` in the future
  are rejected too.
* Certificates are cached in memory by URL (LRU, 32 entries); failed fetches are not cached.
  A certificate outside its validity period (by the injected clock) is refused.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mailwarden.clock import Clock
from mailwarden.events.errors import NotConfiguredError, PayloadError, SignatureError
from mailwarden.events.model import parse_time
from mailwarden.events.providers.base import HttpFetcher, WebhookRequest

NOTIFICATION: Final = "Notification"
SUBSCRIPTION_CONFIRMATION: Final = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION: Final = "UnsubscribeConfirmation"
MESSAGE_TYPES: Final = frozenset(
    {NOTIFICATION, SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION}
)

_REQUIRED: Final = (
    "Type",
    "MessageId",
    "TopicArn",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
)
_HOST: Final = re.compile(
    r"sns\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?P<cn>\.cn)?"
)
_PEM_PATH: Final = re.compile(r"/[A-Za-z0-9_-][A-Za-z0-9._-]*\.pem")
# Version 1 is SHA1withRSA by AWS definition; we only verify with it, never sign.
_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {"1": hashes.SHA1, "2": hashes.SHA256}


@dataclass(frozen=True, slots=True)
class SnsEnvelope:
    """One SNS HTTP(S) delivery, as its JSON body documents it."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    timestamp: str
    signature_version: str
    signature: str
    signing_cert_url: str
    subject: str | None = None
    subscribe_url: str | None = None
    token: str | None = None


def parse_envelope(body: bytes) -> SnsEnvelope:
    """Read an SNS JSON body into an envelope; raise PayloadError naming what is wrong."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"SNS body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("SNS body is not a JSON object")
    fields = {key: _text(data, key) for key in _REQUIRED}
    kind = fields["Type"]
    if kind not in MESSAGE_TYPES:
        raise PayloadError(f"unknown SNS message Type {kind!r}")
    subject = _optional_text(data, "Subject") if kind == NOTIFICATION else None
    subscribe_url = token = None
    if kind != NOTIFICATION:
        subscribe_url, token = _text(data, "SubscribeURL"), _text(data, "Token")
    return SnsEnvelope(
        type=kind,
        message_id=fields["MessageId"],
        topic_arn=fields["TopicArn"],
        message=fields["Message"],
        timestamp=fields["Timestamp"],
        signature_version=fields["SignatureVersion"],
        signature=fields["Signature"],
        signing_cert_url=fields["SigningCertURL"],
        subject=subject,
        subscribe_url=subscribe_url,
        token=token,
    )


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        problem = "missing" if value is None else "not a string"
        raise PayloadError(f"SNS field {key} is {problem}")
    return value


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise PayloadError(f"SNS field {key} is not a string")
    return value


def canonical_string(envelope: SnsEnvelope) -> bytes:
    """Build the documented string-to-sign: "Key\\nvalue\\n" for each signed key, in order."""
    pairs: list[tuple[str, str | None]] = [
        ("Message", envelope.message),
        ("MessageId", envelope.message_id),
    ]
    if envelope.type == NOTIFICATION:
        pairs.append(("Subject", envelope.subject))
    else:
        pairs.append(("SubscribeURL", envelope.subscribe_url))
    pairs.append(("Timestamp", envelope.timestamp))
    if envelope.type != NOTIFICATION:
        pairs.append(("Token", envelope.token))
    pairs += [("TopicArn", envelope.topic_arn), ("Type", envelope.type)]
    text = "".join(f"{key}\n{value}\n" for key, value in pairs if value is not None)
    return text.encode("utf-8")


def is_sns_url(url: str, *, pem: bool) -> bool:
    """True when url is https on an SNS host (no userinfo/port); pem requires a /name.pem path."""
    if not url.isascii() or any(ch <= " " or ch in "\\\x7f" for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 literal
        return False
    if parts.scheme != "https" or parts.fragment:
        return False
    match = _HOST.fullmatch(parts.netloc)
    if match is None or (match["cn"] is not None) != match["region"].startswith("cn-"):
        return False
    if pem:
        return not parts.query and _PEM_PATH.fullmatch(parts.path) is not None
    return parts.path in ("", "/")


def subscribe_url(envelope: SnsEnvelope) -> str:
    """Return the SubscribeURL to fetch if it is a genuine SNS ConfirmSubscription URL."""
    url = envelope.subscribe_url
    if url is None or not is_sns_url(url, pem=False):
        raise PayloadError(f"SubscribeURL is not an https SNS URL: {url!r}")
    query = parse_qs(urlsplit(url).query)
    if query.get("Action") != ["ConfirmSubscription"]:
        raise PayloadError("SubscribeURL is not a ConfirmSubscription action")
    if query.get("TopicArn", [envelope.topic_arn]) != [envelope.topic_arn]:
        raise PayloadError("SubscribeURL names another topic than the message")
    return url


class CertificateCache:
    """Signing certificates fetched through the HttpFetcher port, kept by URL in a small LRU."""

    def __init__(self, fetcher: HttpFetcher, size: int = 32) -> None:
        self._fetcher = fetcher
        self._size = max(1, size)
        self._certs: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> x509.Certificate:
        """Return the certificate at url (cached); raise SignatureError if it cannot be had."""
        with self._lock:
            cert = self._certs.get(url)
            if cert is not None:
                self._certs.move_to_end(url)
                return cert
        cert = self._fetch(url)
        with self._lock:
            self._certs[url] = cert
            self._certs.move_to_end(url)
            while len(self._certs) > self._size:
                self._certs.popitem(last=False)
        return cert

    def _fetch(self, url: str) -> x509.Certificate:
        try:
            pem = self._fetcher.get(url)
        except Exception as exc:  # a network boundary: any failure means "cannot verify"
            raise SignatureError(f"cannot fetch SNS signing certificate {url}: {exc}") from None
        try:
            return x509.load_pem_x509_certificate(pem)
        except (ValueError, TypeError) as exc:
            raise SignatureError(f"SNS signing certificate {url} is not PEM: {exc}") from None

    def __len__(self) -> int:
        with self._lock:
            return len(self._certs)


class SnsVerifier:
    """Establishes that an SNS delivery is authentic, fresh and from an allowed topic."""

    def __init__(
        self,
        topic_arns: Collection[str] | None,
        fetcher: HttpFetcher,
        clock: Clock,
        *,
        max_age: timedelta = timedelta(hours=1),
        max_skew: timedelta = timedelta(minutes=5),
        allowlist_setting: str = "the SNS topic allowlist",
        cache_size: int = 32,
    ) -> None:
        self._topics = frozenset(arn.strip() for arn in topic_arns or () if arn.strip())
        self._clock = clock
        self._max_age = max_age
        self._max_skew = max_skew
        self._setting = allowlist_setting
        self.certificates = CertificateCache(fetcher, cache_size)

    def verify(self, request: WebhookRequest) -> SnsEnvelope:
        """Return the verified envelope; raise SignatureError or NotConfiguredError otherwise."""
        try:
            return self._verify(request)
        except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError) as exc:
            # A stranger's input must never surface as a 500; nothing we failed on is trusted.
            raise SignatureError(f"cannot verify SNS message ({type(exc).__name__})") from None

    def _verify(self, request: WebhookRequest) -> SnsEnvelope:
        if not self._topics:
            raise NotConfiguredError(f"no SNS topic is allowed; set {self._setting}")
        try:
            envelope = parse_envelope(request.body)
        except PayloadError as exc:
            raise SignatureError(f"not a verifiable SNS message: {exc}") from None
        _check_headers(request, envelope)
        if envelope.topic_arn not in self._topics:
            raise SignatureError(f"SNS topic {envelope.topic_arn!r} is not in {self._setting}")
        algorithm = _HASHES.get(envelope.signature_version)
        if algorithm is None:
            raise SignatureError(f"unsupported SignatureVersion {envelope.signature_version!r}")
        if not is_sns_url(envelope.signing_cert_url, pem=True):
            raise SignatureError(
                f"SigningCertURL is not an SNS certificate URL: {envelope.signing_cert_url!r}"
            )
        now = self._clock.now()
        self._check_fresh(envelope.timestamp, now)
        cert = self.certificates.get(envelope.signing_cert_url)
        _check_valid(cert, now)
        _check_signature(cert, envelope, algorithm())
        return envelope

    def _check_fresh(self, timestamp: str, now: datetime) -> None:
        try:
            sent = parse_time(timestamp)
        except (ValueError, OverflowError):
            raise SignatureError(f"SNS Timestamp {timestamp!r} is not ISO 8601") from None
        if now - sent > self._max_age:
            raise SignatureError(
                f"SNS message is stale: sent {timestamp}, older than {self._max_age}"
            )
        if sent - now > self._max_skew:
            raise SignatureError(f"SNS Timestamp {timestamp} is in the future")


def _check_headers(request: WebhookRequest, envelope: SnsEnvelope) -> None:
    for header, value in (
        ("x-amz-sns-message-type", envelope.type),
        ("x-amz-sns-topic-arn", envelope.topic_arn),
        ("x-amz-sns-message-id", envelope.message_id),
    ):
        sent = request.header(header)
        if sent is not None and sent.strip() != value:
            raise SignatureError(f"header {header} {sent!r} disagrees with the signed body")


def _check_valid(cert: x509.Certificate, now: datetime) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise SignatureError("SNS signing certificate is not valid now")


def _check_signature(
    cert: x509.Certificate, envelope: SnsEnvelope, algorithm: hashes.HashAlgorithm
) -> None:
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("SNS signing certificate does not hold an RSA key")
    try:
        signature = base64.b64decode(envelope.signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("SNS Signature is not base64") from None
    try:
        key.verify(signature, canonical_string(envelope), padding.PKCS1v15(), algorithm)
    except (InvalidSignature, ValueError, TypeError):
        raise SignatureError("SNS signature does not match the message") from None
