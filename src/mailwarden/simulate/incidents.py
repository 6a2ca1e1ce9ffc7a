"""Injectors: what goes wrong, when, and the truth about it.

An injector picks its moment from the traffic plan (``prepare``), then bends the odds of
the delivery attempts, deliveries, sends or webhook arrivals that fall in its windows.
While it does, it tallies per scope the healthy expectation of its metric (``base``) and
what it added or took away (``excess``, in expected events, so free of sampling noise).
The truth lists the scopes where the incident is plainly visible: its cause, and every
other scope where the excess reaches ``ratio`` times the healthy expectation (blocks at
three times the normal rate, say), because a sensible detector may pin it there.
"""

from __future__ import annotations

from random import Random
from typing import Any, ClassVar, Final

from mailwarden.simulate.model import (
    DAY,
    HOUR,
    MARKETING_DOMAIN,
    MINUTE,
    Attempt,
    Campaign,
    Config,
    Engagement,
    Plan,
    Send,
    iso,
    scopes_of,
)
from mailwarden.simulate.replies import (
    GMAIL_DMARC,
    MICROSOFT_AUTH,
    MICROSOFT_BUSY,
    MICROSOFT_THROTTLED,
    SPAMHAUS_BY_PROVIDER,
    Reply,
)
from mailwarden.simulate.traffic import MAIN_DOMAINS, audience, make_mix, marketing_rates

Window = tuple[int, int]
NEVER: Final[Window] = (0, 0)
DIMENSION_ORDER: Final = (
    "overall",
    "sending_domain",
    "campaign",
    "mailbox_provider",
    "sending_ip",
    "sending_domain:mailbox_provider",
)
AUTH_REPLIES: Final = {"gmail": GMAIL_DMARC, "microsoft": MICROSOFT_AUTH}


class Tally:
    """Expected healthy and injected counts of one metric, per scope."""

    def __init__(self, ratio: float, minimum: float = 3.0) -> None:
        self.ratio = ratio
        self.minimum = minimum
        self.cells: dict[tuple[str, str], list[float]] = {}

    def add(self, send: Send, base: float, excess: float) -> None:
        """Count one send, attempt or delivery in every scope it belongs to."""
        cells = self.cells
        for scope in scopes_of(send):
            cell = cells.get(scope)
            if cell is None:
                cells[scope] = [base, excess]
            else:
                cell[0] += base
                cell[1] += excess

    def visible(self) -> list[tuple[str, str]]:
        """Scopes where the injected excess stands out from the healthy expectation."""
        return [
            scope
            for scope, (base, excess) in self.cells.items()
            if excess >= self.minimum and excess >= self.ratio * base
        ]


class Injector:
    """Base injector: no effect. Subclasses set windows in prepare and override hooks."""

    name: str = "incident"
    kinds: ClassVar[tuple[str, ...]] = ()
    step: ClassVar[bool] = True
    ratio: ClassVar[float] = 2.0

    def __init__(self, day: int, rng: Random) -> None:
        self.day = day
        self.rng = rng
        self.start = 0
        self.end = 0
        self.notes = ""
        self.primary: list[tuple[str, str]] = []
        self.tally = Tally(self.ratio)
        self.attempt_window: Window = NEVER
        self.engage_window: Window = NEVER
        self.send_window: Window = NEVER
        self.arrival_window: Window = NEVER
        self.config: Config | None = None

    def prepare(self, plan: Plan) -> None:
        """Choose the moment and scope from the plan (may add campaigns to it)."""
        self.config = plan.config

    def adjust_attempt(self, send: Send, at: int, number: int, attempt: Attempt) -> None:
        """Bend the odds of a delivery attempt made at `at` (number 0 is the first)."""

    def adjust_engagement(self, send: Send, at: int, odds: Engagement) -> None:
        """Bend what the recipient of a message delivered at `at` will do."""

    def on_send(self, send: Send) -> None:
        """See a send go out inside the send window."""

    def on_arrival(self, send: Send, kind: str, arrival: int) -> int | None:
        """Move (or lose, None) a webhook event due to arrive inside the arrival window."""
        return arrival

    def extra_truth(self) -> dict[str, Any]:
        """Fields this incident adds to its truth object."""
        return {}

    def truth(self) -> dict[str, Any]:
        """The truth object of this incident (see writer for the file format)."""
        config = self.config
        assert config is not None, "prepare() first"
        start = max(config.start, self.start // MINUTE * MINUTE)
        end = min(config.end, -(-self.end // MINUTE) * MINUTE)
        scopes = sorted(
            set(self.primary) | set(self.tally.visible()),
            key=lambda scope: (DIMENSION_ORDER.index(scope[0]), scope[1]),
        )
        return {
            "name": self.name,
            "kinds": list(self.kinds),
            "scopes": [{"dimension": dimension, "key": key} for dimension, key in scopes],
            "start": iso(start),
            "end": iso(max(start, end)),
            "step": self.step,
            "notes": self.notes,
            **self.extra_truth(),
        }


def midnight(plan: Plan, day: int) -> int:
    """Midnight (UTC) of the window's calendar day number `day`, clamped into the window."""
    config = plan.config
    last = (config.end - 1) // DAY * DAY
    return min(config.start // DAY * DAY + max(0, day) * DAY, last)


def fit(plan: Plan, at: int) -> int:
    """Move a time by whole days until it falls inside the window (which spans whole days)."""
    config = plan.config
    while at >= config.end:
        at -= DAY
    while at < config.start:
        at += DAY
    return at


def anchor_campaign(plan: Plan, day: int, rng: Random, *, largest: bool = False) -> Campaign:
    """A marketing campaign starting on that day (the biggest, or any; else the next one).

    If none is left in the window, one is made up for 10:00 that day.
    """
    first = midnight(plan, day)
    config = plan.config
    earliest = max(first, config.start)
    marketing = sorted(
        (
            c
            for c in plan.campaigns
            if c.kind == "marketing" and not c.injected and earliest <= c.start < config.end
        ),
        key=lambda campaign: campaign.start,
    )
    same_day = [c for c in marketing if c.start < first + DAY]
    if same_day and largest:
        return max(same_day, key=lambda campaign: campaign.size)
    if same_day or marketing:
        return rng.choice(same_day or marketing[:1])
    return plan.add(
        Campaign(
            name=f"promo-{iso(first)[:10]}-z",
            kind="marketing",
            domain=MARKETING_DOMAIN,
            ips=plan.marketing_ips,
            start=fit(plan, first + 10 * HOUR),
            duration=90 * MINUTE,
            size=max(1, round(20_000 * config.scale)),
            rates=marketing_rates(rng),
            tags=["promo"],
            audience=audience(0, plan.pool, rng, make_mix(MAIN_DOMAINS)),
        )
    )


def minute(seconds: float) -> int:
    """Round down to the minute."""
    return int(seconds) // MINUTE * MINUTE


class AuthBlock(Injector):
    """DKIM broke for one sending domain; a provider refuses its mail under DMARC."""

    name = "gmail_auth_block"
    kinds = ("block_rate", "delivery_drop")

    def __init__(
        self, day: int, rng: Random, provider: str = "gmail", domain: str = MARKETING_DOMAIN
    ) -> None:
        super().__init__(day, rng)
        self.provider = provider
        self.domain = domain
        self.rate = 0.0
        self.reply: Reply = AUTH_REPLIES[provider]
        if provider != "gmail":
            self.name = f"{provider}_auth_block"

    def prepare(self, plan: Plan) -> None:
        """Break authentication shortly after a campaign starts, for four to seven hours."""
        super().prepare(plan)
        if self.domain == MARKETING_DOMAIN:
            campaign = anchor_campaign(plan, self.day, self.rng, largest=True)
            self.start = minute(campaign.start + 60 * self.rng.randint(10, 30))
        else:
            self.start = fit(
                plan, midnight(plan, self.day) + 9 * HOUR + 60 * self.rng.randint(0, 120)
            )
        self.end = self.start + 60 * self.rng.randint(4 * 60, 7 * 60)
        self.rate = (
            self.rng.uniform(0.95, 0.99)
            if self.provider == "gmail"
            else self.rng.uniform(0.85, 0.95)
        )
        self.attempt_window = (self.start, self.end)
        self.primary = [
            ("sending_domain", self.domain),
            ("mailbox_provider", self.provider),
            ("sending_domain:mailbox_provider", f"{self.domain}:{self.provider}"),
        ]
        code = self.reply.status
        self.notes = (
            f"DKIM selector for {self.domain} missing after a DNS change; DMARC p=reject, so"
            f" {self.provider} refuses {self.rate:.0%} of its mail ({code} authfailure)"
        )

    def adjust_attempt(self, send: Send, at: int, number: int, attempt: Attempt) -> None:
        """Refuse mail of the broken domain at the provider."""
        base = attempt.block
        if send.provider == self.provider and send.campaign.domain == self.domain:
            attempt.block = self.rate * (1 - attempt.hard)
            attempt.block_reply = self.reply
            attempt.defer = 0.0
        if not number:
            self.tally.add(send, base, attempt.block - base)


class MicrosoftThrottling(Injector):
    """Microsoft defers most mail (451 4.7.500, 421 4.7.0) for hours; retries succeed later."""

    name = "microsoft_throttling"
    kinds = ("deferral_rate", "delivery_drop")

    def __init__(self, day: int, rng: Random) -> None:
        super().__init__(day, rng)
        self.first = 0.0

    def prepare(self, plan: Plan) -> None:
        """Throttle from shortly after a campaign starts, for three to five hours."""
        super().prepare(plan)
        campaign = anchor_campaign(plan, self.day, self.rng, largest=True)
        self.start = minute(campaign.start + 60 * self.rng.randint(5, 20))
        self.end = self.start + 60 * self.rng.randint(3 * 60, 5 * 60)
        self.first = self.rng.uniform(0.7, 0.85)
        self.attempt_window = (self.start, self.end)
        self.primary = [("mailbox_provider", "microsoft")]
        self.notes = (
            f"Microsoft throttles all our IPs: {self.first:.0%} of first attempts deferred"
            " (451 4.7.500 server busy / 421 4.7.0), retried and delivered after it lifts"
        )

    def adjust_attempt(self, send: Send, at: int, number: int, attempt: Attempt) -> None:
        """Defer Microsoft mail."""
        base = attempt.defer
        if send.provider == "microsoft":
            attempt.defer = (0.85 if number else self.first) * (1 - attempt.hard - attempt.block)
            attempt.defer_reply = MICROSOFT_BUSY if send.rng.random() < 0.7 else MICROSOFT_THROTTLED
        if not number:
            self.tally.add(send, base, max(0.0, attempt.defer - base))


class IpBlocklisted(Injector):
    """One sending IP is listed on Spamhaus: providers that use it refuse mail from that IP."""

    name = "ip_blocklisted"
    kinds = ("block_rate", "delivery_drop")

    def __init__(self, day: int, rng: Random) -> None:
        super().__init__(day, rng)
        self.ip = ""

    def prepare(self, plan: Plan) -> None:
        """List one IP of a running campaign for six to ten hours."""
        super().prepare(plan)
        campaign = anchor_campaign(plan, self.day, self.rng, largest=True)
        self.ip = self.rng.choice(campaign.ips)
        self.start = minute(campaign.start + 60 * self.rng.randint(10, 30))
        self.end = self.start + 60 * self.rng.randint(6 * 60, 10 * 60)
        self.attempt_window = (self.start, self.end)
        self.primary = [("sending_ip", self.ip)]
        self.notes = (
            f"Spamhaus SBL lists {self.ip}; Yahoo, iCloud and corporate filters refuse it"
            " citing Spamhaus, Microsoft blocks half (S3150), Gmail is unaffected"
        )

    def adjust_attempt(self, send: Send, at: int, number: int, attempt: Attempt) -> None:
        """Refuse mail from the listed IP at providers that consult Spamhaus."""
        base = attempt.block
        listed = SPAMHAUS_BY_PROVIDER.get(send.provider) if send.ip == self.ip else None
        if listed is not None:
            rate, reply = listed
            attempt.block = rate * (1 - attempt.hard)
            attempt.block_reply = reply
            attempt.defer *= 1 - rate
        if not number:
            self.tally.add(send, base, attempt.block - base)


class EngagementCollapse(Injector):
    """Yahoo starts filing the marketing domain's mail as spam: opens and clicks fall ~80%."""

    name = "engagement_collapse"
    kinds = ("engagement_drop",)
    ratio = 0.3

    def __init__(self, day: int, rng: Random, hours: float | None = None) -> None:
        super().__init__(day, rng)
        self.hours = hours
        self.factor = 1.0

    def prepare(self, plan: Plan) -> None:
        """Start in the working morning; last `hours`, or to the end of the window."""
        super().prepare(plan)
        later = 9 * HOUR + 15 * MINUTE * self.rng.randint(0, 12)
        self.start = fit(plan, midnight(plan, self.day) + later)
        last = plan.config.end if self.hours is None else self.start + int(self.hours * HOUR)
        self.end = min(plan.config.end, last)
        self.factor = self.rng.uniform(0.15, 0.25)
        self.engage_window = (self.start, self.end)
        self.primary = [
            ("mailbox_provider", "yahoo"),
            ("sending_domain:mailbox_provider", f"{MARKETING_DOMAIN}:yahoo"),
        ]
        self.notes = (
            f"Yahoo files {MARKETING_DOMAIN} in spam: opens and clicks at {self.factor:.0%} of"
            " normal for mail delivered from start; deliveries unchanged"
        )

    def adjust_engagement(self, send: Send, at: int, odds: Engagement) -> None:
        """Hide Yahoo recipients' mail in the spam folder."""
        base = odds.open
        if send.provider == "yahoo" and send.campaign.domain == MARKETING_DOMAIN:
            odds.open *= self.factor
            odds.click *= self.factor
            odds.complaint *= 0.3
            odds.unsub *= 0.5
        self.tally.add(send, base, base - odds.open)
