"""The data behind bounce classification: reasons and their classes, status and text rules.

See ``mailwarden.events.bounces`` for the order in which these tables are consulted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

HARD: Final = "hard"
SOFT: Final = "soft"
BLOCK: Final = "block"
UNDETERMINED: Final = "undetermined"

REASON_CLASS: Final[Mapping[str, str]] = {
    # the address is bad
    "userunknown": HARD,
    "hostunknown": HARD,
    "hasmoved": HARD,
    "notaccept": HARD,
    "suppressed": HARD,
    # temporary, or a state of the mailbox that can change
    "mailboxfull": SOFT,
    "exceedlimit": SOFT,
    "systemfull": SOFT,
    "suspend": SOFT,
    "expired": SOFT,
    "networkerror": SOFT,
    "systemerror": SOFT,
    "mailererror": SOFT,
    # the sender (IP, domain, message) is refused; the address may be fine
    "blocked": BLOCK,
    "rejected": BLOCK,
    "spamdetected": BLOCK,
    "virusdetected": BLOCK,
    "contenterror": BLOCK,
    "mesgtoobig": BLOCK,
    "policyviolation": BLOCK,
    "securityerror": BLOCK,
    "authfailure": BLOCK,
    "requireptr": BLOCK,
    "badreputation": BLOCK,
    "norelaying": BLOCK,
    "notcompliantrfc": BLOCK,
    "failedstarttls": BLOCK,
    "syntaxerror": BLOCK,
    "filtered": BLOCK,
    "speeding": BLOCK,
    "toomanyconn": BLOCK,
    # not a failure, or not known
    "onhold": UNDETERMINED,
    "vacation": UNDETERMINED,
    "feedback": UNDETERMINED,
    "delivered": UNDETERMINED,
    "undefined": UNDETERMINED,
}

BLOCK_REASONS: Final = frozenset(r for r, c in REASON_CLASS.items() if c == BLOCK)
HARD_REASONS: Final = frozenset(r for r, c in REASON_CLASS.items() if c == HARD)

# 1. Codes that name their cause; keyed by subject.detail, valid for 4.x.x and 5.x.x.
PRECISE_STATUS: Final[Mapping[str, str]] = {
    "7.10": "failedstarttls",  # encryption needed (RFC 5248)
    "7.11": "failedstarttls",  # encryption required for requested authentication mechanism
    "7.13": "suspend",  # user account disabled (RFC 7372)
    "7.17": "hasmoved",  # mailbox owner has changed
    "7.18": "hasmoved",  # domain owner has changed
    "7.20": "authfailure",  # no passing DKIM signature
    "7.21": "authfailure",  # no acceptable DKIM signature
    "7.22": "authfailure",  # no valid author-matched DKIM signature
    "7.23": "authfailure",  # SPF validation failed
    "7.24": "authfailure",  # SPF validation error
    "7.25": "requireptr",  # reverse DNS validation failed
    "7.26": "authfailure",  # Gmail: unauthenticated / DMARC policy
    "7.27": "authfailure",  # Gmail: SPF did not pass
    "7.28": "speeding",  # Gmail: unusual rate (mail flood, RFC 7372)
    "7.29": "failedstarttls",  # Gmail: not sent over TLS
    "7.30": "authfailure",  # Gmail: DKIM did not pass
    "7.32": "authfailure",  # Gmail: From not aligned with SPF/DKIM domain
    "7.40": "authfailure",  # Gmail: authentication requirements
    "7.509": "authfailure",  # Microsoft: DMARC reject
    "7.512": "notcompliantrfc",  # Microsoft: not RFC 5322 3.6.2 compliant
    "7.515": "authfailure",  # Microsoft: required authentication level not met
    "7.650": "badreputation",  # Microsoft: rate limited due to IP reputation
    "7.705": "badreputation",  # Microsoft: tenant exceeded threshold
    "7.708": "badreputation",  # Microsoft: traffic not accepted from this IP
}

# 3a. Full codes whose meaning depends on temporary vs permanent.
STATUS_EXACT: Final[Mapping[str, str]] = {
    "4.7.0": "speeding",  # 421 4.7.0: Gmail, Yahoo and Microsoft throttle senders with it
    "5.7.0": "securityerror",
    "5.4.310": "hostunknown",  # Microsoft: DNS domain does not exist
    "4.4.312": "networkerror",  # Microsoft: DNS query failed
    "5.4.312": "networkerror",
}

# 3b. Microsoft's three-digit details: (status prefix, low, high, reason).
STATUS_RANGES: Final[tuple[tuple[str, int, int, str], ...]] = (
    ("4.7.", 500, 699, "speeding"),  # "Server busy, please try again later"
    ("5.7.", 500, 799, "blocked"),  # "Access denied, ..." (banned IP, tenant blocks)
    ("4.4.", 300, 399, "expired"),  # "Message expired" and DNS timeouts while queued
    ("5.4.", 300, 399, "expired"),
)

# 3c. RFC 3463 subject.detail.
STATUS_DETAIL: Final[Mapping[str, str]] = {
    "1.1": "userunknown",
    "1.2": "hostunknown",
    "1.3": "userunknown",
    "1.4": "userunknown",
    "1.6": "hasmoved",
    "1.7": "rejected",
    "1.8": "rejected",
    "1.10": "userunknown",  # Microsoft RecipientNotFound; RFC 7505 null MX
    "2.1": "suspend",
    "2.2": "mailboxfull",
    "2.3": "exceedlimit",
    "2.4": "systemerror",
    "3.0": "systemerror",
    "3.1": "systemfull",
    "3.2": "systemerror",
    "3.3": "systemerror",
    "3.4": "mesgtoobig",
    "3.5": "systemerror",
    "4.0": "networkerror",
    "4.1": "networkerror",
    "4.2": "networkerror",
    "4.3": "networkerror",
    "4.4": "hostunknown",
    "4.5": "networkerror",
    "4.6": "networkerror",
    "4.7": "expired",
    "4.14": "networkerror",
    "5.0": "syntaxerror",
    "5.1": "syntaxerror",
    "5.2": "syntaxerror",
    "5.4": "syntaxerror",
    "5.6": "notcompliantrfc",
    "6.0": "contenterror",
    "6.1": "contenterror",
    "6.2": "contenterror",
    "6.3": "contenterror",
    "6.5": "contenterror",
    "6.6": "contenterror",
    "6.7": "contenterror",
    "6.8": "contenterror",
    "6.9": "contenterror",
    "6.10": "contenterror",
    "6.11": "notcompliantrfc",  # Microsoft: bare line feeds
    "7.1": "policyviolation",
    "7.2": "policyviolation",
    "7.3": "securityerror",
    "7.4": "securityerror",
    "7.5": "securityerror",
    "7.6": "securityerror",
    "7.7": "securityerror",
    "7.8": "securityerror",
    "7.9": "policyviolation",  # Yahoo: "not accepted for policy reasons"
    "7.12": "securityerror",
    "7.14": "securityerror",
    "7.15": "policyviolation",
    "7.16": "mesgtoobig",
    "7.19": "securityerror",
    "7.57": "securityerror",  # Microsoft: client not authenticated
}

# 4. Basic reply codes (RFC 5321, RFC 7504).
REPLY_CODES: Final[Mapping[int, str]] = {
    451: "systemerror",
    452: "systemfull",
    521: "notaccept",
    530: "securityerror",
    535: "securityerror",
    551: "hasmoved",
    552: "mailboxfull",
    556: "notaccept",
}

# 2. Diagnostic text, case-insensitive, first match wins. Order is the policy.
_TEXT: Final[tuple[tuple[str, str], ...]] = (
    # Look like a block, but name the recipient (Microsoft DBEB, Lotus Domino).
    ("userunknown", r"recipient address rejected: access denied"),
    ("userunknown", r"not listed in (?:the )?(?:\w+ )?(?:directory|name and address book)"),
    # Greylisting is temporary and nobody's fault.
    ("undefined", r"grey ?listed|grey ?listing|gray ?listed|greylist"),
    # Sender-level: the address may be fine.
    (
        "blocked",
        r"spamhaus|spamcop|barracuda|\bsorbs\b|uceprotect|\bpsbl\b|invaluement|surbl|mailspike"
        r"|\brbl\b|dnsbl|\bblack ?list|\bblock ?list|blacklisted|blocklisted|deny ?list"
        r"|(?<!not )\blisted (?:at|in|on|by)\b|banned sending ip|banned sender"
        r"|comcast block|\[ts0?3\]|\[tss09\]|permanently deferred",
    ),
    (
        "authfailure",
        r"\bspf\b|\bdkim\b|\bdmarc\b|unauthenticated|domainkeys|sender policy framework"
        r"|required authentication|authentication (?:check|requirement)s?|not aligned"
        r"|does not pass (?:authentication|verification)",
    ),
    (
        "requireptr",
        r"\bptr\b|reverse (?:dns|lookup|host ?name|resolution)|\brdns\b|fcrdns"
        r"|cannot find your (?:reverse )?host ?name|no reverse|forward-confirmed",
    ),
    ("exceedlimit", r"receiving mail (?:too quickly|at a rate)"),
    (
        "toomanyconn",
        r"too many (?:concurrent |simultaneous |open )?(?:connections|sessions)"
        r"|connection (?:count|rate|limit)|connection (?:from \S+ )?(?:exceeded|over limit)",
    ),
    (
        "speeding",
        r"rate[- ]?limit|throttl|too (?:fast|quickly)|unexpected volume|sending (?:rate|quota)"
        r"|submission quota|daily (?:sending )?(?:quota|limit)|too much (?:mail|traffic)"
        r"|server busy|exceeded (?:the )?(?:permitted|allowed|hourly|daily) (?:limit|rate)"
        r"|\[tss?0[0-9]\]",
    ),
    (
        "badreputation",
        r"reputation|(?:user|spam) complaints|excessive complaints|not accepted from this ip",
    ),
    ("virusdetected", r"virus|malware|infected|trojan"),
    (
        "spamdetected",
        r"\bspam\b|unsolicited|junk ?mail|bulk mail|spammy|\bube\b|\buce\b",
    ),
    (
        "norelaying",
        r"relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited|not allowed)"
        r"|not (?:allowed|permitted) to relay|unable to relay|we do not relay"
        r"|allowed rcpthosts|relay not permitted",
    ),
    (
        "mesgtoobig",
        r"message (?:is )?too (?:large|big)|message (?:size|length) exceeds"
        r"|exceeds (?:the )?(?:fixed )?maximum (?:message )?size|message size limit"
        r"|maximum message size",
    ),
    (
        "failedstarttls",
        r"starttls|\btls\b (?:is )?required|requiretls|encryption (?:is )?required",
    ),
    (
        "notcompliantrfc",
        r"rfc ?5322|rfc ?2822|\brfc ?822|not (?:rfc[- ]?)?compliant|bare ?(?:lf|line ?feed)"
        r"|malformed (?:header|message)|duplicate (?:header|message-id)",
    ),
    (
        "rejected",
        r"sender (?:address )?(?:rejected|refused|denied|not allowed|verify failed|unknown)"
        r"|sender address does not exist"
        r"|sender verification failed|envelope sender|badmailfrom|does not like sender"
        r"|(?:after|in reply to) mail from|sender domain|domain of sender address"
        r"|sender was rejected",
    ),
    (
        "contenterror",
        r"content (?:rejected|refused|not accepted)|message content"
        r"|(?:illegal|prohibited|banned|dangerous) attachment|attachment (?:not allowed|blocked)",
    ),
    (
        "securityerror",
        r"authentication required|must (?:first )?authenticate|not authenticated"
        r"|security (?:policy|error)|certificate",
    ),
    (
        "policyviolation",
        r"polic(?:y|ies)|not authori[sz]ed|administratively|prohibited|\bhm08\b",
    ),
    (
        "blocked",
        r"\bblock(?:ed|ing)?\b|access denied|(?<!connection )refused|\bbanned\b"
        r"|will not accept|not accepted from|your ip",
    ),
    # Recipient-level.
    (
        "suspend",
        r"(?:account|mailbox|user)(?: (?:is|has been))?(?: temporarily)?"
        r" (?:disabled|suspended|deactivated|inactive|locked|frozen)"
        r"|inactive (?:account|mailbox|user)|mailbox is disabled",
    ),
    (
        "hasmoved",
        r"has moved|user not local|address has changed|mailbox owner has changed"
        r"|no longer (?:with|employed|works)",
    ),
    (
        "notaccept",
        r"null ?mx|(?:domain|host) does not accept (?:e-?)?mail|does not accept mail",
    ),
    (
        "mailboxfull",
        r"mail ?box (?:is )?full|over (?:its |the |their )?quota"
        r"|quota (?:has been )?(?:exceeded|full)"
        r"|exceeded (?:its |their |the )?(?:storage|quota|mailbox)|storage allocation"
        r"|mailbox size limit|mailfolder is full|disk quota|(?:inbox|mailbox) (?:is )?over"
        r"|insufficient (?:disk )?space (?:in|for) (?:the )?(?:mailbox|user)|mail ?box exceeds",
    ),
    ("suppressed", r"suppression list|suppressed sending|has suppressed|on the suppression"),
    (
        "hostunknown",
        r"host (?:or domain name )?not found|host ?unknown|unknown host|unknown domain"
        r"|domain (?:not found|does not exist|name not found|doesn't exist)|no such domain"
        r"|unrouteable|unroutable|\bno mx\b|mx (?:record )?(?:lookup failed|not found)"
        r"|couldn't find any host|name service error|nxdomain|invalid domain|bad domain"
        r"|non-existent hosts|domain (?:is )?invalid",
    ),
    (
        "userunknown",
        r"user ?unknown|unknown (?:user|recipient|local ?part|mailbox|address)"
        r"|no such (?:user|mailbox|recipient|address|account|person)"
        r"|recipient (?:unknown|not found|does not exist|invalid)|recip(?:ient)?notfound"
        r"|(?:user|mailbox|recipient|address|account)(?: name)? (?:does not|doesn't) exist"
        r"|does not exist|doesn't have an? [\w.-]+ account|invalid (?:recipient|mailbox|user)"
        r"|(?:mailbox|user|address) (?:not found|unavailable|invalid)|not our customer"
        r"|no mailbox here|addressee unknown|not a valid (?:recipient|mailbox|user|address)"
        r"|is not a known user|bad destination mailbox|bad recipient address syntax"
        r"|no longer (?:valid|in use|available|exists|active)|address (?:not found|unknown)"
        r"|undeliverable address|unknown or illegal alias|unrouteable local part",
    ),
    (
        "systemfull",
        r"insufficient system storage|system (?:is )?full|(?:disk|file ?system) (?:is )?full"
        r"|no space left|out of disk space",
    ),
    (
        "expired",
        r"retry time(?:out)? (?:exceeded|not reached)|message expired|delivery time expired"
        r"|in the queue too long|too long in (?:the )?queue|not going to try again"
        r"|failing for a long time|has been (?:delayed|queued) for|\bexpired\b",
    ),
    (
        "networkerror",
        r"connection (?:timed out|refused|reset|lost|closed|dropped)|timed? ?out"
        r"|no route to host|network (?:is )?unreachable|lost connection|could not connect"
        r"|unable to connect|can't connect|hop count exceeded|too many hops|mail loop"
        r"|loops back to myself|routing loop",
    ),
    (
        "mailererror",
        r"mailer error|procmail|command (?:died|failed)|pipe to \||exit (?:code|status)"
        r"|permission denied|local delivery failed|x-unix",
    ),
    (
        "systemerror",
        r"internal (?:server )?error|system error|server error|local error"
        r"|temporary (?:local |system )?(?:problem|failure|error)"
        r"|(?:service|server|system) (?:is )?(?:temporarily )?(?:unavailable|not available)"
        r"|resources temporarily unavailable|configuration error",
    ),
    (
        "syntaxerror",
        r"syntax error|command unrecognized|unrecognized command|bad sequence of commands"
        r"|command not implemented",
    ),
)

TEXT_RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason) for reason, pattern in _TEXT
)
