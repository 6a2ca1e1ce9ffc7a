"""Amazon SES through SNS: SES notifications and event-publishing records -> canonical events.

The SNS side (signature, topic allowlist, staleness) is documented in ``sns.py``. Here:

* Both shapes: identity notifications (``notificationType``) and configuration-set event
  publishing (``eventType``), including Rendering Failure, DeliveryDelay and Subscription.
* Ids come from SES, never from the SNS MessageId, so re-deliveries and the same bounce seen
  through both shapes collide on purpose: bounce/complaint ``ses:<feedbackId>:<recipient>``;
  else ``ses:<mail.messageId>:<type>:<recipient>``, plus ``:<timestamp>`` for opened, clicked
  and deferred, which repeat.
* Bounces: ``bounces.classify`` reads the SMTP text; SES's bounceType/bounceSubType fixes the
  class (and some reasons), but a ``block`` verdict from the text wins, and suppression-list
  bounces are always hard/suppressed. A complaint with complaintSubType
  ``OnAccountSuppressionList`` is SES refusing a past complainer: ``dropped``, not a complaint.
* Open, Click and Subscription name no recipient: it is ``mail.destination`` when that holds
  one address, else None. Subscription is ``unsubscribed`` only for unsubscribe-all or a new
  topic opt-out; other changes give a note.
* Tags: ``ses:outgoing-ip`` -> sending_ip; ``campaign`` (or campaign_id) -> campaign; other
  custom tags -> tags as ``name=value``; the whole map stays in ``extra["ses_tags"]``.
  ``mail.sourceIp`` is the submitting client, kept as ``extra["submitting_ip"]``.
* SNS raw message delivery must be off: the envelope is what carries the signature.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, Final

import orjson

from mailwarden.clock import Clock
from mailwarden.events.errors import PayloadError
from mailwarden.events.mailboxes import mailbox_provider, recipient_domain
from mailwarden.events.model import Bounce, Complaint, Event, parse_time
from mailwarden.events.providers.base import HttpFetcher, ParseResult, WebhookRequest
from mailwarden.events.providers.ses_failures import (
    BOUNCE_HINTS,
    BOUNCE_TYPE_CLASS,
    DELAY_HINTS,
    failure,
)
from mailwarden.events.providers.ses_fields import (
    Json,
    first,
    obj,
    objs,
    opt,
    pick,
    required,
    tag_map,
    texts,
)
from mailwarden.events.providers.sns import (
    SUBSCRIPTION_CONFIRMATION,
    UNSUBSCRIBE_CONFIRMATION,
    SnsVerifier,
    parse_envelope,
    subscribe_url,
)

TOPICS_SETTING: Final = "MAILWARDEN_SES_TOPIC_ARNS"
_VALIDATION_TEXT: Final = "Successfully validated SNS topic for Amazon SES event publishing."
_CAMPAIGN_TAGS: Final = frozenset({"campaign", "campaign_id", "campaign-id", "campaignid"})
_SUPPRESSED: Final = frozenset({"Suppressed", "OnAccountSuppressionList"})


class SesProvider:
    """Amazon SES notifications and event publishing, delivered by SNS over HTTPS."""

    name = "ses"

    def __init__(
        self,
        topic_arns: Collection[str] | None,
        fetcher: HttpFetcher,
        clock: Clock,
        max_age: timedelta = timedelta(hours=1),
    ) -> None:
        self._verifier = SnsVerifier(
            topic_arns, fetcher, clock, max_age=max_age, allowlist_setting=TOPICS_SETTING
        )

    def verify(self, request: WebhookRequest) -> None:
        """Raise SignatureError/NotConfiguredError unless SNS signed this for an allowed topic."""
        self._verifier.verify(request)

    def parse(self, body: bytes) -> ParseResult:
        """Turn an SNS body into events (or a confirm_url); raise PayloadError if malformed."""
        try:
            return _parse(body)
        except PayloadError:
            raise
        except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError) as exc:
            # Never a 500: the payload is dead-lettered with this reason and can be replayed.
            detail = f"{type(exc).__name__}: {exc}"
            raise PayloadError(f"SES message has an unexpected structure ({detail})") from None


def _parse(body: bytes) -> ParseResult:
    envelope = parse_envelope(body)
    topic = envelope.topic_arn
    if envelope.type == SUBSCRIPTION_CONFIRMATION:
        url = subscribe_url(envelope)
        return ParseResult(confirm_url=url, notes=[f"SNS subscription to {topic} to confirm"])
    if envelope.type == UNSUBSCRIBE_CONFIRMATION:
        return ParseResult(notes=[f"SNS unsubscribed this endpoint from {topic}; no events"])
    return parse_ses_message(envelope.message, topic)


def parse_ses_message(text: str, topic_arn: str | None = None) -> ParseResult:
    """Parse the SES JSON carried in an SNS Message into canonical events."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        if text.strip() == _VALIDATION_TEXT:
            return ParseResult(notes=["SES validated this SNS topic for event publishing"])
        raise PayloadError(f"SNS Message is not SES JSON: {text[:60]!r}") from None
    if not isinstance(data, dict):
        raise PayloadError("SNS Message is JSON but not an SES object")
    kind = data.get("eventType", data.get("notificationType"))
    if kind == "AmazonSnsSubscriptionSucceeded":
        return ParseResult(notes=[f"SES: {data.get('message') or 'topic subscription succeeded'}"])
    if not isinstance(kind, str):
        raise PayloadError("SNS Message has no eventType or notificationType: not an SES message")
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise PayloadError(f"unknown SES event type {kind!r}")
    return handler(data, _mail(obj(data, "mail"), topic_arn))


@dataclass(frozen=True, slots=True)
class _Mail:
    """What every event of one SES message shares."""

    message_id: str
    timestamp: str | None
    destination: list[str]
    sending_domain: str | None
    sending_ip: str | None
    campaign: str | None
    tags: list[str]
    extra: dict[str, Any] = field(default_factory=dict)

    def sole_recipient(self) -> str | None:
        """The one destination address, or None when there are several (or none)."""
        return self.destination[0] if len(self.destination) == 1 else None

    def event(self, key: str, kind: str, when: datetime, rcpt: str | None, **more: Any) -> Event:
        """Build one canonical event of this message; None values are left out of extra."""
        extra = {**self.extra, **more.pop("extra", {})}
        if rcpt is None and self.destination:
            extra["destination"] = list(self.destination)
        return Event(
            id=key,
            type=kind,
            occurred_at=when,
            provider="ses",
            message_id=self.message_id,
            recipient=rcpt,
            mailbox_provider=mailbox_provider(rcpt),
            sending_domain=self.sending_domain,
            sending_ip=self.sending_ip,
            campaign=self.campaign,
            tags=list(self.tags),
            extra={k: v for k, v in extra.items() if v is not None},
            **more,
        )

    def when(self, section: Json, where: str) -> tuple[str, datetime]:
        """The section's timestamp (else the mail's), raw and parsed."""
        raw = opt(section, "timestamp") or self.timestamp
        if raw is None:
            raise PayloadError(f"SES {where}.timestamp and mail.timestamp are missing")
        try:
            return raw, parse_time(raw)
        except (ValueError, OverflowError):
            raise PayloadError(f"SES {where}.timestamp {raw!r} is not ISO 8601") from None


def _mail(obj: Json, topic_arn: str | None) -> _Mail:
    tags = tag_map(obj.get("tags"))
    headers = obj.get("commonHeaders")
    extra = pick(obj, sending_account_id="sendingAccountId", source_arn="sourceArn")
    extra.update(
        topic_arn=topic_arn,
        submitting_ip=opt(obj, "sourceIp") or first(tags, "ses:source-ip"),
        caller_identity=opt(obj, "callerIdentity") or first(tags, "ses:caller-identity"),
        configuration_set=first(tags, "ses:configuration-set"),
        from_domain=first(tags, "ses:from-domain"),
        subject=opt(headers, "subject") if isinstance(headers, dict) else None,
        ses_tags=tags or None,
    )
    custom = {k: v for k, v in tags.items() if not k.startswith("ses:")}
    campaign_keys = [k for k in custom if k.lower() in _CAMPAIGN_TAGS]
    source = opt(obj, "source")
    return _Mail(
        message_id=required(obj, "messageId", "mail"),
        timestamp=opt(obj, "timestamp"),
        destination=texts(obj, "destination", "mail", required=False),
        sending_domain=recipient_domain(parseaddr(source or "")[1]) or extra["from_domain"],
        sending_ip=first(tags, "ses:outgoing-ip"),
        campaign=first(custom, campaign_keys[0]) if campaign_keys else None,
        tags=sorted(f"{k}={v}" for k, vs in custom.items() if k not in campaign_keys for v in vs),
        extra={k: v for k, v in extra.items() if v is not None},
    )


def _bounce(data: Json, mail: _Mail) -> ParseResult:
    section = obj(data, "bounce")
    feedback = required(section, "feedbackId", "bounce")
    _, when = mail.when(section, "bounce")
    kind = opt(section, "bounceType") or "Undetermined"
    sub = opt(section, "bounceSubType") or "Undetermined"
    hint = BOUNCE_HINTS.get((kind, sub)) or (BOUNCE_TYPE_CLASS.get(kind, "undetermined"), None)
    common = pick(section, reporting_mta="reportingMTA", remote_mta_ip="remoteMtaIp")
    common.update(feedback_id=feedback, bounce_type=kind, bounce_sub_type=sub)
    events = []
    for i, item in enumerate(objs(section, "bouncedRecipients", "bounce")):
        address = required(item, "emailAddress", f"bounce.bouncedRecipients[{i}]")
        verdict = failure(item, hint, authoritative=sub in _SUPPRESSED)
        extra = {**common, "action": opt(item, "action")}
        key = f"ses:{feedback}:{address}"
        events.append(mail.event(key, "bounced", when, address, bounce=verdict, extra=extra))
    return ParseResult(events)


def _complaint(data: Json, mail: _Mail) -> ParseResult:
    section = obj(data, "complaint")
    feedback = required(section, "feedbackId", "complaint")
    _, when = mail.when(section, "complaint")
    sub = opt(section, "complaintSubType")
    feedback_type = (opt(section, "complaintFeedbackType") or "abuse").lower()
    extra = pick(section, complaint_user_agent="userAgent", arrival_date="arrivalDate")
    extra.update(feedback_id=feedback, complaint_sub_type=sub)
    events = []
    for i, item in enumerate(objs(section, "complainedRecipients", "complaint")):
        address = required(item, "emailAddress", f"complaint.complainedRecipients[{i}]")
        key = f"ses:{feedback}:{address}"
        if sub in _SUPPRESSED:  # SES refused to send to a past complainer: not a new complaint
            verdict = Bounce("hard", "suppressed")
            events.append(mail.event(key, "dropped", when, address, bounce=verdict, extra=extra))
        else:
            said = Complaint(feedback_type)
            events.append(mail.event(key, "complained", when, address, complaint=said, extra=extra))
    return ParseResult(events)


def _delivery(data: Json, mail: _Mail) -> ParseResult:
    section = obj(data, "delivery")
    _, when = mail.when(section, "delivery")
    extra = pick(
        section,
        smtp_response="smtpResponse",
        reporting_mta="reportingMTA",
        remote_mta_ip="remoteMtaIp",
    )
    millis = section.get("processingTimeMillis")
    extra["processing_time_ms"] = millis if isinstance(millis, int | float) else None
    events = []
    for rcpt in texts(section, "recipients", "delivery", required=True):
        key = f"ses:{mail.message_id}:delivered:{rcpt}"
        events.append(mail.event(key, "delivered", when, rcpt, extra=extra))
    return ParseResult(events)


def _delay(data: Json, mail: _Mail) -> ParseResult:
    section = obj(data, "deliveryDelay")
    raw, when = mail.when(section, "deliveryDelay")
    delay_type = opt(section, "delayType") or "Undetermined"
    hint = DELAY_HINTS.get(delay_type, ("soft", None))
    extra = pick(section, expiration_time="expirationTime", reporting_mta="reportingMTA")
    extra.update(delay_type=delay_type, remote_mta_ip=opt(section, "remoteMtaIp"))
    events = []
    for i, item in enumerate(objs(section, "delayedRecipients", "deliveryDelay")):
        address = required(item, "emailAddress", f"deliveryDelay.delayedRecipients[{i}]")
        key = f"ses:{mail.message_id}:deferred:{address}:{raw}"
        verdict = failure(item, hint)
        events.append(mail.event(key, "deferred", when, address, bounce=verdict, extra=extra))
    return ParseResult(events)


def _per_destination(kind: str, section_name: str | None) -> _Handler:
    """Send, Reject and Rendering Failure: one event for each address in mail.destination."""

    def handle(data: Json, mail: _Mail) -> ParseResult:
        section = obj(data, section_name) if section_name else {}
        _, when = mail.when(section, section_name or "mail")
        extra = pick(
            section,
            reject_reason="reason",
            error_message="errorMessage",
            template_name="templateName",
        )
        reason = extra["reject_reason"] if section_name == "reject" else None
        events = []
        for rcpt in mail.destination:
            # SES rejects a message only when it finds a virus in it.
            verdict = Bounce("block", "virusdetected", diagnostic=reason) if reason else None
            key = f"ses:{mail.message_id}:{kind}:{rcpt}"
            events.append(mail.event(key, kind, when, rcpt, bounce=verdict, extra=extra))
        return ParseResult(events)

    return handle


def _engagement(name: str, kind: str) -> _Handler:
    """Open and Click: one event, keyed by its timestamp because a recipient can repeat it."""

    def handle(data: Json, mail: _Mail) -> ParseResult:
        section = obj(data, name)
        raw, when = mail.when(section, name)
        rcpt = mail.sole_recipient()
        extra: Json = {"client_ip": opt(section, "ipAddress")}
        extra["link_tags"] = tag_map(section.get("linkTags")) or None
        key = f"ses:{mail.message_id}:{kind}:{rcpt or ''}:{raw}"
        url, agent = opt(section, "link"), opt(section, "userAgent")
        return ParseResult(
            [mail.event(key, kind, when, rcpt, url=url, user_agent=agent, extra=extra)]
        )

    return handle


def _subscription(data: Json, mail: _Mail) -> ParseResult:
    section = obj(data, "subscription")
    _, when = mail.when(section, "subscription")
    new, old = _prefs(section, "newTopicPreferences"), _prefs(section, "oldTopicPreferences")
    everything = new.get("unsubscribeAll") is True
    before = _topic_status(old)
    opted_out = sorted(
        t for t, s in _topic_status(new).items() if s == "OptOut" and before.get(t) != "OptOut"
    )
    if not (everything or opted_out):
        return ParseResult(notes=[f"SES subscription change on {mail.message_id}: no unsubscribe"])
    rcpt = mail.sole_recipient()
    extra = pick(section, contact_list="contactList", subscription_source="source")
    extra.update(unsubscribe_all=everything, topics_opted_out=opted_out)
    key = f"ses:{mail.message_id}:unsubscribed:{rcpt or ''}"
    return ParseResult([mail.event(key, "unsubscribed", when, rcpt, extra=extra)])


def _prefs(section: Json, key: str) -> Json:
    value = section.get(key)
    return value if isinstance(value, dict) else {}


def _topic_status(prefs: Json) -> dict[str, str]:
    items = prefs.get("topicSubscriptionStatus")
    pairs = [
        (opt(item, "topicName"), opt(item, "subscriptionStatus"))
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
    ]
    return {topic: status for topic, status in pairs if topic and status}


_Handler = Callable[[Json, _Mail], ParseResult]
_HANDLERS: Final[dict[str, _Handler]] = {
    "Bounce": _bounce,
    "Complaint": _complaint,
    "Delivery": _delivery,
    "DeliveryDelay": _delay,
    "Send": _per_destination("queued", None),
    "Reject": _per_destination("dropped", "reject"),
    "Rendering Failure": _per_destination("dropped", "failure"),
    "Open": _engagement("open", "opened"),
    "Click": _engagement("click", "clicked"),
    "Subscription": _subscription,
}
