"""Injectors whose cause is on our side: bad lists, bad content, a stolen key, a dead webhook."""

from __future__ import annotations

import time
from random import Random
from typing import Any, ClassVar, Final

from mailwarden.simulate.incidents import Injector, anchor_campaign, fit, midnight, minute
from mailwarden.simulate.model import (
    DAY,
    HOUR,
    MARKETING_DOMAIN,
    MINUTE,
    Attempt,
    Campaign,
    Engagement,
    Plan,
    Rates,
    Send,
    iso,
)
from mailwarden.simulate.replies import HARD_BY_PROVIDER
from mailwarden.simulate.traffic import (
    HARVESTED_NAMESPACE,
    MAIN_DOMAINS,
    STALE_DOMAINS,
    STALE_NAMESPACE,
    audience,
    make_mix,
    marketing_rates,
)

# Hard-bounce odds of a stale list by provider: (low, high).
STALE_HARD: Final = {
    "gmail": (0.10, 0.13),
    "yahoo": (0.12, 0.16),
    "microsoft": (0.04, 0.06),
    "other": (0.05, 0.07),
    "apple": (0.01, 0.03),
}


class BadListImport(Injector):
    """A campaign goes to an old, unvalidated list: hard bounces ~8-12%, spam traps, complaints."""

    name = "bad_list_import"
    kinds = ("hard_bounce_rate", "complaint_rate")

    def __init__(self, day: int, rng: Random) -> None:
        super().__init__(day, rng)
        self.hard: dict[str, float] = {}
        self.campaign: Campaign | None = None

    def prepare(self, plan: Plan) -> None:
        """Add the re-engagement campaign to the stale list."""
        super().prepare(plan)
        rng = self.rng
        later = rng.choice((10, 11, 13, 14, 15)) * HOUR + rng.choice((0, 30)) * MINUTE
        start = fit(plan, midnight(plan, self.day) + later)
        first = start // DAY * DAY
        size = max(1, round(rng.uniform(30_000, 80_000) * plan.config.scale))
        self.campaign = campaign = plan.add(
            Campaign(
                name=f"reengage-{time.strftime('%Y-%m-%d', time.gmtime(first))}-a",
                kind="marketing",
                domain=MARKETING_DOMAIN,
                ips=plan.marketing_ips,
                start=start,
                duration=rng.randint(60, 120) * MINUTE,
                size=size,
                rates=marketing_rates(rng),
                tags=["reengagement"],
                audience=audience(STALE_NAMESPACE, size, rng, make_mix(STALE_DOMAINS)),
                injected=True,
            )
        )
        self.hard = {provider: rng.uniform(*span) for provider, span in STALE_HARD.items()}
        self.start, self.end = campaign.start, campaign.end + HOUR
        self.attempt_window = self.engage_window = (campaign.start, campaign.end + 30 * MINUTE)
        self.primary = [("campaign", campaign.name)]
        overall = sum(w * self.hard[p] for _, p, w in STALE_DOMAINS) / 1000
        self.notes = (
            f"{campaign.name} goes to a two-year-old list imported without validation: hard"
            f" bounces ~{overall:.1%} (gmail {self.hard['gmail']:.0%}, yahoo"
            f" {self.hard['yahoo']:.0%}); spam-trap hits and complaints x4 (arrive for days)"
        )

    def adjust_attempt(self, send: Send, at: int, number: int, attempt: Attempt) -> None:
        """Bounce the dead addresses of the stale list."""
        if number:
            return
        base = attempt.hard
        if send.campaign is self.campaign:
            attempt.hard = self.hard[send.provider]
            attempt.hard_reply = send.rng.choice(HARD_BY_PROVIDER[send.provider])
        self.tally.add(send, base, attempt.hard - base)

    def adjust_engagement(self, send: Send, at: int, odds: Engagement) -> None:
        """Old addresses rarely open and often complain."""
        if send.campaign is self.campaign:
            odds.complaint *= 4
            odds.open *= 0.5
            odds.click *= 0.5


class ComplaintSpike(Injector):
    """One campaign's content angers its readers: complaints at 0.5-1% within hours."""

    name = "complaint_spike"
    kinds = ("complaint_rate", "policy_threshold")

    def __init__(self, day: int, rng: Random) -> None:
        super().__init__(day, rng)
        self.rate = 0.0
        self.campaign: Campaign | None = None

    def prepare(self, plan: Plan) -> None:
        """Pick the campaign."""
        super().prepare(plan)
        self.campaign = campaign = anchor_campaign(plan, self.day, self.rng, largest=True)
        self.rate = self.rng.uniform(0.005, 0.01)
        self.start, self.end = campaign.start, campaign.end + 9 * HOUR
        self.engage_window = (campaign.start, campaign.end + 30 * MINUTE)
        self.primary = [("campaign", campaign.name)]
        self.notes = (
            f"{campaign.name}: misleading subject line; complaints at {self.rate:.2%} of"
            " delivered, most within two hours of delivery"
        )

    def adjust_engagement(self, send: Send, at: int, odds: Engagement) -> None:
        """Make the campaign's recipients complain, fast."""
        base = odds.complaint
        if send.campaign is self.campaign:
            odds.complaint = self.rate
            odds.fast_complaint = True
        self.tally.add(send, base, odds.complaint - base)


class NightSurge(Injector):
    """A stolen API key blasts an unknown campaign from our account at about 03:00."""

    name = "night_volume_surge"
    kinds = ("volume_surge", "hard_bounce_rate", "block_rate", "complaint_rate")

    def __init__(self, day: int, rng: Random) -> None:
        super().__init__(day, rng)
        self.campaign: Campaign | None = None

    def prepare(self, plan: Plan) -> None:
        """Add the attacker's campaign."""
        super().prepare(plan)
        rng = self.rng
        first = midnight(plan, self.day)
        size = max(1, round(rng.uniform(4_000, 12_000) * plan.config.scale))
        rates = Rates(
            hard=rng.uniform(0.04, 0.07),
            block=rng.uniform(0.02, 0.05),
            defer=0.03,
            drop=0.0,
            complaint=rng.uniform(0.004, 0.008),
            unsub=0.004,
            open=0.05,
            click=0.006,
            apple_open=0.75,
        )
        self.campaign = campaign = plan.add(
            Campaign(
                name=f"acct-{rng.getrandbits(24):06x}",
                kind="attack",
                domain=MARKETING_DOMAIN,
                ips=plan.marketing_ips,
                start=fit(plan, first + 3 * HOUR + rng.randint(-10, 20) * MINUTE),
                duration=rng.randint(40, 70) * MINUTE,
                size=size,
                rates=rates,
                tags=[],
                audience=audience(HARVESTED_NAMESPACE, size, rng, make_mix(MAIN_DOMAINS)),
                injected=True,
            )
        )
        self.start, self.end = campaign.start, campaign.end
        self.send_window = (campaign.start, campaign.end)
        self.primary = [("overall", "*"), ("campaign", campaign.name)]
        self.notes = (
            f"compromised API key: unknown campaign {campaign.name} sends {size} phishing"
            f" messages to a harvested list from {iso(campaign.start)[11:16]} UTC"
        )

    def on_send(self, send: Send) -> None:
        """Count the attacker's sends against the normal night volume."""
        ours = send.campaign is self.campaign
        self.tally.add(send, 0.0 if ours else 1.0, 1.0 if ours else 0.0)


class WebhookSilence(Injector):
    """The ESP's event webhook stops for 30-90 minutes; sends go on (queued events only)."""

    name = "webhook_silence"
    kinds = ("event_silence", "delivery_drop", "engagement_drop")
    ratio = 0.5

    def __init__(self, day: int, rng: Random, hour: int | None = None) -> None:
        super().__init__(day, rng)
        self.hour = hour
        self.backlog = True
        self.flush = 0

    def prepare(self, plan: Plan) -> None:
        """Go silent shortly after a campaign starts (or at the given hour)."""
        super().prepare(plan)
        rng = self.rng
        if self.hour is None:
            after = anchor_campaign(plan, self.day, rng).start + 60 * rng.randint(15, 40)
            self.start = fit(plan, minute(after))  # a campaign late on the last day: a day back
        else:
            later = self.hour * HOUR + 60 * rng.randint(0, 30)
            self.start = fit(plan, midnight(plan, self.day) + later)
        self.end = self.start + 60 * rng.randint(30, 90)
        self.backlog = rng.random() < 0.7
        self.flush = 60 * rng.randint(5, 15)
        self.arrival_window = (self.start, self.end)
        self.primary = [("overall", "*")]
        then = (
            f"then the backlog arrives within {self.flush // 60} min"
            if self.backlog
            else "and the events of the gap are lost"
        )
        self.notes = (
            f"webhook endpoint unreachable for {(self.end - self.start) // 60} min:"
            f" no delivered/bounce/engagement events, {then}"
        )

    def on_arrival(self, send: Send, kind: str, arrival: int) -> int | None:
        """Hold the event until the webhook works again, or lose it."""
        self.tally.add(send, 1.0, 1.0)
        if not self.backlog:
            return None
        return self.end + int(send.rng.random() * self.flush)


class ComplaintCreep(Injector):
    """Complaints on the marketing domain creep up over three days (list fatigue)."""

    name = "complaint_creep"
    kinds = ("complaint_rate", "policy_threshold")
    step = False
    target: ClassVar[float] = 0.0045
    bucket: ClassVar[int] = 10 * MINUTE
    trail: ClassVar[int] = 18  # buckets: the rate is over the trailing three hours
    healthy_max: ClassVar[float] = 0.0006
    thresholds: ClassVar[tuple[tuple[str, float], ...]] = (("0.1%", 0.001), ("0.3%", 0.003))

    def __init__(self, day: int, rng: Random) -> None:
        super().__init__(day, rng)
        self.begin = 0
        self.ramp = 3 * DAY
        self.buckets: dict[int, list[float]] = {}

    def prepare(self, plan: Plan) -> None:
        """Start the ramp on a working morning."""
        super().prepare(plan)
        later = 6 * HOUR + self.rng.randint(0, 16) * 15 * MINUTE
        self.begin = fit(plan, midnight(plan, self.day) + later)
        self.ramp = max(HOUR, min(3 * DAY, plan.config.end - self.begin))
        self.start, self.end = self.begin, plan.config.end
        self.engage_window = (self.begin - 3 * HOUR, plan.config.end)
        self.primary = [("overall", "*"), ("sending_domain", MARKETING_DOMAIN)]
        self.notes = (
            f"list fatigue: {MARKETING_DOMAIN} complaint odds ramp linearly to"
            f" {self.target:.2%} over {self.ramp // HOUR} h from {iso(self.begin)}; rate and"
            " crossings are overall expected complaints/delivered over the trailing 3 h of"
            " deliveries, judged where those 3 h hold at least half the average volume"
        )

    def adjust_engagement(self, send: Send, at: int, odds: Engagement) -> None:
        """Raise marketing complaints along the ramp; keep the overall expected rate."""
        if at >= self.begin:
            base = odds.complaint
            if send.campaign.domain == MARKETING_DOMAIN and base < self.target:
                done = min(1.0, (at - self.begin) / self.ramp)
                odds.complaint = base + (self.target - base) * done
            self.tally.add(send, base, odds.complaint - base)
        cell = self.buckets.setdefault(at // self.bucket, [0.0, 0.0])
        cell[0] += 1
        cell[1] += odds.complaint

    def crossing(self, threshold: float) -> int | None:
        """When the trailing expected complaint rate first reaches threshold, if it does.

        The rate is judged only where the trailing window holds at least half the run's
        average volume: a handful of night-time deliveries says nothing.
        """
        assert self.config is not None
        first = self.begin // self.bucket
        last = self.config.end // self.bucket
        total = sum(cell[0] for cell in self.buckets.values())
        floor = 0.5 * total * self.trail / max(1, len(self.buckets))
        for index in range(first, last):
            delivered = complained = 0.0
            for back in range(index - self.trail + 1, index + 1):
                cell = self.buckets.get(back)
                if cell is not None:
                    delivered += cell[0]
                    complained += cell[1]
            if delivered >= max(1.0, floor) and complained / delivered >= threshold:
                return (index + 1) * self.bucket
        return None

    def truth(self) -> dict[str, Any]:
        """Truth with start at the first excursion above the healthy band, and crossings."""
        self.start = self.crossing(self.healthy_max) or self.begin
        return super().truth()

    def extra_truth(self) -> dict[str, Any]:
        """The times the rate crosses 0.1% and 0.3% (null if it never does)."""
        crosses = {}
        for label, threshold in self.thresholds:
            at = self.crossing(threshold)
            crosses[label] = iso(at) if at is not None else None
        return {"crosses": crosses}
