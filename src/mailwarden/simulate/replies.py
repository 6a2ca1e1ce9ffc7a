"""SMTP replies the simulated mailbox providers give, in the classifier's vocabulary.

Every reply names its class and reason explicitly; a unit test checks that
``mailwarden.events.bounces.classify`` reads the same from the code, status and text, so the
simulated bounce objects are what the ingest path would have produced. Texts may hold
``{ip}`` (the sending IP) and ``{domain}`` (the sending domain).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True, slots=True)
class Reply:
    """One SMTP reply: class, reason, codes and text; deferrals say how often a retry fails."""

    bounce_class: str
    reason: str
    smtp_code: int
    status: str
    text: str
    persist: float = 0.0
    final: Reply | None = None

    def render(self, ip: str, domain: str) -> dict[str, Any]:
        """Return the canonical bounce object for a message sent from ip as domain."""
        return {
            "class": self.bounce_class,
            "reason": self.reason,
            "smtp_code": self.smtp_code,
            "status": self.status,
            "diagnostic": self.text.format(ip=ip, domain=domain),
        }


# Hard: the address does not exist.
GMAIL_NO_USER: Final = Reply(
    "hard",
    "userunknown",
    550,
    "5.1.1",
    "550 5.1.1 The email account that you tried to reach does not exist. Please try"
    " double-checking the recipient's email address for typos or unnecessary spaces."
    " https://support.google.com/mail/?p=NoSuchUser",
)
MICROSOFT_NO_USER: Final = Reply(
    "hard",
    "userunknown",
    550,
    "5.1.10",
    "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
)
YAHOO_NO_USER: Final = Reply(
    "hard",
    "userunknown",
    554,
    "5.1.1",
    "554 5.1.1 delivery error: dd This user doesn't have a yahoo.com account",
)
YAHOO_NO_MAILBOX: Final = Reply(
    "hard",
    "userunknown",
    554,
    "5.1.1",
    "554 5.1.1 delivery error: dd Requested mail action aborted, mailbox not found",
)
APPLE_NO_USER: Final = Reply(
    "hard", "userunknown", 550, "5.1.1", "550 5.1.1 <unknown>: unknown or illegal alias"
)
OTHER_NO_USER: Final = Reply(
    "hard",
    "userunknown",
    550,
    "5.1.1",
    "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table",
)
OTHER_NO_HOST: Final = Reply(
    "hard",
    "hostunknown",
    550,
    "5.1.2",
    "550 5.1.2 Host unknown: domain name not found",
)

# Soft: final failures after the retries ran out.
EXPIRED: Final = Reply(
    "soft", "expired", 550, "5.4.7", "550 5.4.7 Message expired: retry timeout exceeded"
)
MAILBOX_FULL_FINAL: Final = Reply(
    "soft", "mailboxfull", 552, "5.2.2", "552 5.2.2 Mailbox full: user is over quota"
)

# Deferrals (4xx): retried later; persist is the chance that a retry is deferred again.
GMAIL_OVER_QUOTA: Final = Reply(
    "soft",
    "mailboxfull",
    452,
    "4.2.2",
    "452 4.2.2 The email account that you tried to reach is over quota. Please direct the"
    " recipient to https://support.google.com/mail/?p=OverQuotaTemp",
    persist=0.6,
    final=MAILBOX_FULL_FINAL,
)
MAILBOX_FULL: Final = Reply(
    "soft",
    "mailboxfull",
    452,
    "4.2.2",
    "452 4.2.2 Mailbox full",
    persist=0.6,
    final=MAILBOX_FULL_FINAL,
)
TEMPORARY_PROBLEM: Final = Reply(
    "soft",
    "systemerror",
    421,
    "4.7.0",
    "421 4.7.0 Temporary System Problem. Try again later.",
    persist=0.2,
    final=EXPIRED,
)
MICROSOFT_SERVER_ERROR: Final = Reply(
    "soft",
    "systemerror",
    451,
    "4.4.4",
    "451 4.4.4 Temporary server error. Please try again later. PRX4",
    persist=0.2,
    final=EXPIRED,
)
GREYLISTED: Final = Reply(
    "soft",
    "undefined",
    451,
    "4.7.1",
    "451 4.7.1 Greylisting in action, please come back later",
    persist=0.1,
    final=EXPIRED,
)
GMAIL_RATE_LIMITED: Final = Reply(
    "block",
    "speeding",
    421,
    "4.7.28",
    "421 4.7.28 [{ip}] Our system has detected an unusual rate of unsolicited mail"
    " originating from your IP address. To protect our users from spam, mail sent from your"
    " IP address has been temporarily rate limited."
    " https://support.google.com/mail/?p=UnsolicitedRateLimitError",
    persist=0.35,
    final=EXPIRED,
)
YAHOO_DEFERRED: Final = Reply(
    "block",
    "speeding",
    421,
    "4.7.0",
    "421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or"
    " user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
    persist=0.35,
    final=EXPIRED,
)
MICROSOFT_BUSY: Final = Reply(
    "block",
    "speeding",
    451,
    "4.7.500",
    "451 4.7.500 Server busy. Please try again later from [{ip}]. (S77714)"
    " [Name=Protocol Filter Agent][AGT=PFA]",
    persist=0.35,
    final=EXPIRED,
)
MICROSOFT_THROTTLED: Final = Reply(
    "block",
    "speeding",
    421,
    "4.7.0",
    "421 4.7.0 Server busy, too many messages from [{ip}]. Try again later.",
    persist=0.35,
    final=EXPIRED,
)

# Blocks: the sender is refused.
GMAIL_UNSOLICITED: Final = Reply(
    "block",
    "spamdetected",
    550,
    "5.7.1",
    "550 5.7.1 [{ip}] Our system has detected that this message is likely unsolicited mail."
    " To reduce the amount of spam sent to Gmail, this message has been blocked."
    " https://support.google.com/mail/?p=UnsolicitedMessageError",
)
CONTENT_FILTER: Final = Reply(
    "block",
    "spamdetected",
    550,
    "5.7.1",
    "550 5.7.1 Message rejected as spam by Content Filtering.",
)
YAHOO_POLICY: Final = Reply(
    "block",
    "policyviolation",
    554,
    "5.7.9",
    "554 5.7.9 Message not accepted for policy reasons."
    " See https://postmaster.yahooinc.com/error-codes",
)
APPLE_POLICY: Final = Reply(
    "block",
    "policyviolation",
    554,
    "5.7.1",
    "554 5.7.1 [HM08] Message rejected due to local policy."
    " Please visit https://support.apple.com/en-us/HT204137",
)
GMAIL_DMARC: Final = Reply(
    "block",
    "authfailure",
    550,
    "5.7.26",
    "550 5.7.26 Unauthenticated email from {domain} is not accepted due to domain's DMARC"
    " policy. Please contact the administrator of {domain} domain if this was a legitimate"
    " mail. To learn about the DMARC initiative, go to"
    " https://support.google.com/mail/?p=DmarcRejection",
)
MICROSOFT_AUTH: Final = Reply(
    "block",
    "authfailure",
    550,
    "5.7.515",
    "550 5.7.515 Access denied, sending domain {domain} doesn't meet the required"
    " authentication level.",
)
SPAMHAUS_ZEN: Final = Reply(
    "block",
    "blocked",
    554,
    "5.7.1",
    "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org;"
    " https://www.spamhaus.org/query/ip/{ip}",
)
YAHOO_SPAMHAUS: Final = Reply(
    "block",
    "blocked",
    553,
    "5.7.1",
    "553 5.7.1 [BL21] Connections will not be accepted from {ip}, because the ip is in"
    " Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
)
APPLE_SPAMHAUS: Final = Reply(
    "block",
    "blocked",
    550,
    "5.7.1",
    "550 5.7.1 Mail from IP {ip} was rejected due to listing in Spamhaus SBL."
    " For details please see http://www.spamhaus.org/query/bl?ip={ip}",
)
MICROSOFT_BLOCKLIST: Final = Reply(
    "block",
    "blocked",
    550,
    "5.7.1",
    "550 5.7.1 Unfortunately, messages from [{ip}] weren't sent. Please contact your Internet"
    " service provider since part of their network is on our block list (S3150).",
)

# Drops: the ESP did not even try (previously suppressed addresses).
DROP_REASONS: Final = ("Bounced Address", "Unsubscribed Address", "Spam Reporting Address")


def drop_bounce(reason: str) -> dict[str, Any]:
    """Return the bounce object of a drop for a previously suppressed address."""
    return {
        "class": "hard",
        "reason": "suppressed",
        "smtp_code": None,
        "status": None,
        "diagnostic": reason,
    }


HARD_BY_PROVIDER: Final[Mapping[str, tuple[Reply, ...]]] = {
    "gmail": (GMAIL_NO_USER,),
    "microsoft": (MICROSOFT_NO_USER,),
    "yahoo": (YAHOO_NO_USER, YAHOO_NO_MAILBOX),
    "apple": (APPLE_NO_USER,),
    "other": (OTHER_NO_USER, OTHER_NO_USER, OTHER_NO_USER, OTHER_NO_HOST),
}
BLOCK_BY_PROVIDER: Final[Mapping[str, tuple[Reply, ...]]] = {
    "gmail": (GMAIL_UNSOLICITED,),
    "microsoft": (CONTENT_FILTER,),
    "yahoo": (YAHOO_POLICY,),
    "apple": (APPLE_POLICY,),
    "other": (CONTENT_FILTER,),
}
# Healthy deferrals: (reply, weight) per provider.
DEFER_BY_PROVIDER: Final[Mapping[str, tuple[tuple[Reply, float], ...]]] = {
    "gmail": ((GMAIL_OVER_QUOTA, 0.45), (TEMPORARY_PROBLEM, 0.35), (GMAIL_RATE_LIMITED, 0.2)),
    "microsoft": ((MICROSOFT_SERVER_ERROR, 0.6), (MAILBOX_FULL, 0.25), (MICROSOFT_BUSY, 0.15)),
    "yahoo": ((TEMPORARY_PROBLEM, 0.5), (YAHOO_DEFERRED, 0.3), (MAILBOX_FULL, 0.2)),
    "apple": ((TEMPORARY_PROBLEM, 0.6), (MAILBOX_FULL, 0.4)),
    "other": ((GREYLISTED, 0.5), (MAILBOX_FULL, 0.3), (TEMPORARY_PROBLEM, 0.2)),
}
# Spamhaus-listed IP: the chance a provider refuses a message from it, and how it says so.
SPAMHAUS_BY_PROVIDER: Final[Mapping[str, tuple[float, Reply]]] = {
    "other": (0.9, SPAMHAUS_ZEN),
    "yahoo": (0.85, YAHOO_SPAMHAUS),
    "apple": (0.8, APPLE_SPAMHAUS),
    "microsoft": (0.5, MICROSOFT_BLOCKLIST),
}


def all_replies() -> tuple[Reply, ...]:
    """Every reply of the catalog (for tests and documentation)."""
    found: dict[Reply, None] = {}
    groups = (
        *HARD_BY_PROVIDER.values(),
        *BLOCK_BY_PROVIDER.values(),
        *((reply for reply, _ in pairs) for pairs in DEFER_BY_PROVIDER.values()),
        tuple(reply for _, reply in SPAMHAUS_BY_PROVIDER.values()),
        (GMAIL_DMARC, MICROSOFT_AUTH, MICROSOFT_THROTTLED, EXPIRED, MAILBOX_FULL_FINAL),
    )
    for group in groups:
        for reply in group:
            found[reply] = None
    return tuple(found)
