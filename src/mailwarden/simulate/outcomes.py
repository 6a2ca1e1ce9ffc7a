"""What happens to each send: delivery attempts, retries, bounces, and then the recipient.

A send is queued, sometimes dropped (a previously suppressed address), and otherwise tried
a minute or two later. A first attempt may hard-bounce, be blocked, be deferred or be
delivered; deferred mail is retried after 15 min, 30 min, 1 h, 2 h, 4 h and 8 h and then
bounces (expired, or mailbox full). Delivered mail may be opened (Apple Mail Privacy
Protection opens most of it within minutes: ``machine_open``), clicked, unsubscribed from
or complained about (hours to two days later, reported by the feedback loop later still).
Injectors adjust the odds of each attempt and each delivery at the time it happens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from random import Random
from typing import Any, Final, Protocol

from mailwarden.simulate.incidents import Injector
from mailwarden.simulate.model import DAY, HOUR, Attempt, Engagement, Send
from mailwarden.simulate.replies import (
    BLOCK_BY_PROVIDER,
    DEFER_BY_PROVIDER,
    DROP_REASONS,
    EXPIRED,
    HARD_BY_PROVIDER,
    Reply,
    drop_bounce,
)

Detail = tuple[Reply | dict[str, Any] | None, str | None, str | None, tuple[tuple[str, Any], ...]]
NO_DETAIL: Final[Detail] = (None, None, None, ())

# Multipliers of the healthy rates by mailbox provider: hard, block, defer, complaint, open.
FACTORS: Final[Mapping[str, tuple[float, float, float, float, float]]] = {
    "gmail": (0.9, 1.0, 0.8, 0.8, 1.0),
    "microsoft": (1.1, 1.2, 1.3, 1.3, 0.9),
    "yahoo": (1.2, 1.1, 1.5, 1.5, 0.85),
    "apple": (0.8, 0.8, 0.8, 0.6, 1.0),
    "other": (1.3, 1.3, 1.2, 1.0, 1.1),
}
RETRY_AFTER: Final = (900, 1_800, 3_600, 7_200, 14_400, 28_800)
SECOND_OPEN: Final = 0.25
DUPLICATE_RATE: Final = 0.002
CHROME: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/130.0.0.0 Safari/537.36"
)
ANDROID: Final = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/130.0.0.0 Mobile Safari/537.36"
)
IPHONE: Final = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
MAC: Final = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/18.1 Safari/605.1.15"
)
OPEN_AGENTS: Final[Mapping[str, tuple[str, ...]]] = {
    "gmail": (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    ),
    "apple": ("Mozilla/5.0",),
    "microsoft": (
        CHROME + " Edg/130.0.0.0",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    ),
    "yahoo": ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",),
    "other": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Thunderbird/128.4.0",
        ANDROID,
    ),
}
BROWSERS: Final = (CHROME, IPHONE, MAC, ANDROID)
LINKS: Final[Mapping[str, str]] = {
    "txn-password-reset": "https://app.example.org/reset-password",
    "txn-receipt": "https://app.example.org/orders",
    "txn-shipping": "https://track.example.org/shipment",
    "txn-welcome": "https://app.example.org/getting-started",
    "attack": "https://secure-login.example.net/verify-account",
}
PATHS: Final = ("sale", "new-arrivals", "blog/winter-guide", "product/espresso-maker", "gifts")
MACHINE: Final = (("machine_open", True),)
HUMAN: Final = (("machine_open", False),)


class Sink(Protocol):
    """Where outcomes go: one event of a send, with when it happened and when it arrives."""

    def emit(self, send: Send, kind: str, occurred: int, arrival: int, detail: Detail) -> None:
        """Take one event."""


class Fates:
    """Decides and emits everything that happens to each send."""

    def __init__(self, sink: Sink, injectors: Sequence[Injector]) -> None:
        self._sink = sink
        self._attempt_injectors = [
            i for i in injectors if i.attempt_window[0] < i.attempt_window[1]
        ]
        self._engage_injectors = [i for i in injectors if i.engage_window[0] < i.engage_window[1]]
        self._send_injectors = [i for i in injectors if i.send_window[0] < i.send_window[1]]

    def process(self, send: Send) -> None:
        """Emit the queued event of a send and everything that follows from it."""
        rng = send.rng
        emit = self._sink.emit
        for injector in self._send_injectors:
            low, high = injector.send_window
            if low <= send.t < high:
                injector.on_send(send)
        emit(send, "queued", send.t, send.t + latency(send), NO_DETAIL)
        if rng.random() < send.campaign.rates.drop:
            at = send.t + 1 + int(rng.expovariate(1 / 20))
            reason = rng.choices(DROP_REASONS, (0.6, 0.3, 0.1))[0]
            emit(send, "dropped", at, at + latency(send), (drop_bounce(reason), None, None, ()))
            return
        self._attempts(send, send.t + 10 + int(rng.expovariate(1 / 110)))

    def _attempts(self, send: Send, at: int) -> None:
        rng = send.rng
        emit = self._sink.emit
        attempt = self._first_attempt(send)
        for number in range(len(RETRY_AFTER) + 1):
            if number:
                attempt = Attempt(0.0, 0.0, attempt.defer_reply.persist, *_replies(attempt))
            self._adjust(send, at, number, attempt)
            draw = rng.random()
            if draw < attempt.hard:
                emit(send, "bounced", at, at + latency(send), (attempt.hard_reply, None, None, ()))
                return
            if draw < attempt.hard + attempt.block:
                emit(send, "bounced", at, at + latency(send), (attempt.block_reply, None, None, ()))
                return
            if draw >= attempt.hard + attempt.block + attempt.defer:
                emit(send, "delivered", at, at + latency(send), NO_DETAIL)
                self._engage(send, at)
                return
            if number == len(RETRY_AFTER):  # the ESP gives up: the last failure bounces
                final = attempt.defer_reply.final or EXPIRED
                emit(send, "bounced", at, at + latency(send), (final, None, None, ()))
                return
            detail = (attempt.defer_reply, None, None, (("attempt", number + 1),))
            emit(send, "deferred", at, at + latency(send), detail)
            at += int(RETRY_AFTER[number] * rng.uniform(0.8, 1.2))

    def _first_attempt(self, send: Send) -> Attempt:
        rng = send.rng
        rates = send.campaign.rates
        hard_f, block_f, defer_f, _, _ = FACTORS[send.provider]
        defer_options = DEFER_BY_PROVIDER[send.provider]
        return Attempt(
            hard=rates.hard * hard_f,
            block=rates.block * block_f,
            defer=rates.defer * defer_f,
            hard_reply=rng.choice(HARD_BY_PROVIDER[send.provider]),
            block_reply=rng.choice(BLOCK_BY_PROVIDER[send.provider]),
            defer_reply=rng.choices(
                [reply for reply, _ in defer_options], [weight for _, weight in defer_options]
            )[0],
        )

    def _adjust(self, send: Send, at: int, number: int, attempt: Attempt) -> None:
        for injector in self._attempt_injectors:
            low, high = injector.attempt_window
            if low <= at < high:
                injector.adjust_attempt(send, at, number, attempt)

    def _engage(self, send: Send, delivered: int) -> None:
        rng = send.rng
        rates = send.campaign.rates
        factors = FACTORS[send.provider]
        machine = send.provider == "apple"
        odds = Engagement(
            open=rates.apple_open if machine else min(1.0, rates.open * factors[4]),
            click=rates.click,
            unsub=rates.unsub,
            complaint=rates.complaint * factors[3],
            machine=machine,
        )
        for injector in self._engage_injectors:
            low, high = injector.engage_window
            if low <= delivered < high:
                injector.adjust_engagement(send, delivered, odds)
        if odds.machine:
            self._machine_opens(send, delivered, odds)
        else:
            self._human_opens(send, delivered, odds)
        if rng.random() < odds.unsub:
            self._once(send, "unsubscribed", delivered + lognormal(rng, HOUR, 1.5, 3 * DAY))
        if rng.random() < odds.complaint:
            self._complaint(send, delivered, fast=odds.fast_complaint)

    def _machine_opens(self, send: Send, delivered: int, odds: Engagement) -> None:
        rng = send.rng
        if rng.random() < odds.open:
            at = delivered + 5 + min(6 * HOUR, int(rng.expovariate(1 / 300)))
            self._once(send, "opened", at, (None, None, OPEN_AGENTS["apple"][0], MACHINE))
        if rng.random() < odds.click:
            at = delivered + lognormal(rng, 1.5 * HOUR, 1.4, 3 * DAY)
            self._once(send, "clicked", at, (None, link(send), rng.choice(BROWSERS), ()))

    def _human_opens(self, send: Send, delivered: int, odds: Engagement) -> None:
        rng = send.rng
        if rng.random() >= odds.open:
            return
        agents = OPEN_AGENTS[send.provider]
        opened = delivered + lognormal(rng, 1.5 * HOUR, 1.4, 3 * DAY)
        self._once(send, "opened", opened, (None, None, rng.choice(agents), HUMAN))
        if rng.random() < SECOND_OPEN:
            again = opened + lognormal(rng, 3 * HOUR, 1.2, 2 * DAY)
            self._once(send, "opened", again, (None, None, rng.choice(agents), HUMAN))
        if odds.open > 0 and rng.random() < odds.click / odds.open:
            clicked = opened + 5 + min(HOUR, int(rng.expovariate(1 / 90)))
            self._once(send, "clicked", clicked, (None, link(send), rng.choice(BROWSERS), ()))

    def _complaint(self, send: Send, delivered: int, *, fast: bool) -> None:
        rng = send.rng
        if fast:
            delay = 120 + min(8 * HOUR, int(rng.expovariate(1 / 2_700)))
        elif rng.random() < 0.7:
            delay = 600 + min(DAY, int(rng.expovariate(1 / (4 * HOUR))))
        else:
            delay = int(rng.uniform(12 * HOUR, 2 * DAY))
        if fast or rng.random() < 0.7:
            lag = int(rng.uniform(60, 900 if fast else 1_200))
        else:
            lag = int(rng.uniform(1_200, 6 * HOUR))
        occurred = delivered + delay
        self._sink.emit(send, "complained", occurred, occurred + lag, NO_DETAIL)

    def _once(self, send: Send, kind: str, at: int, detail: Detail = NO_DETAIL) -> None:
        self._sink.emit(send, kind, at, at + latency(send), detail)


def _replies(attempt: Attempt) -> tuple[Reply, Reply, Reply]:
    return attempt.hard_reply, attempt.block_reply, attempt.defer_reply


def latency(send: Send) -> int:
    """Seconds between an event and its webhook reaching us (a few, sometimes minutes)."""
    rng = send.rng
    if rng.random() < 0.02:
        return int(rng.uniform(30, 300))
    return 1 + int(rng.expovariate(1 / 8))


def lognormal(rng: Random, median: float, sigma: float, cap: float) -> int:
    """A heavy-tailed delay in whole seconds with this median, at most cap."""
    return int(min(cap, rng.lognormvariate(math.log(median), sigma)))


def link(send: Send) -> str:
    """The URL a recipient of this send clicks."""
    campaign = send.campaign
    fixed = LINKS.get(campaign.name) or LINKS.get(campaign.kind)
    if fixed is not None:
        return fixed
    path = PATHS[len(send.recipient) % len(PATHS)]
    return f"https://www.example.org/{path}?utm_medium=email&utm_campaign={campaign.name}"
