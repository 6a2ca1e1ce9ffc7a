"""Runs a scenario: merges the send streams, decides outcomes, yields events in arrival order.

Sends are processed in time order. Everything that follows from a send (delivery, bounces,
retries, opens, a complaint two days later) is decided at once and parked in a heap keyed
by arrival time; before the next send is processed, every parked event due by then is
written. Memory therefore holds only what is still in flight, not the week.

Each line is a canonical event (DESIGN.md) with ``extra.received_at``, the time its webhook
reached us: file order is received_at order, while ``occurred_at`` is when it happened
(a complaint arrives after later sends; a backlog arrives after a webhook outage).
Events arriving before the window (traffic starts a day early) or after it are not written.
Webhook re-deliveries repeat an event, id included, a little later.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from operator import attrgetter
from typing import Any, Final

import orjson

from mailwarden.simulate.incidents import Injector
from mailwarden.simulate.model import PROVIDER_NAME, Config, Plan, Send, iso
from mailwarden.simulate.outcomes import DUPLICATE_RATE, Detail, Fates
from mailwarden.simulate.replies import Reply
from mailwarden.simulate.scenarios import injectors_for
from mailwarden.simulate.traffic import (
    AUTOMATION_PER_HOUR,
    TRANSACTIONAL_PER_HOUR,
    campaign_sends,
    plan_campaigns,
    pool_size,
    stream_campaigns,
    stream_sends,
)

COMPLAINT: Final = {"feedback_type": "abuse"}
Parked = tuple[int, int, int, str, int, Send, Detail]


class Simulation:
    """One scenario run: iterate ``lines()`` once, then read ``events`` and ``truth()``."""

    def __init__(self, scenario: str, config: Config) -> None:
        self.scenario = scenario
        self.config = config
        self.injectors: list[Injector] = injectors_for(scenario, config)
        self.plan = Plan(config, plan_campaigns(config), pool_size(config))
        for injector in self.injectors:
            injector.prepare(self.plan)
        self.events = 0
        self._heap: list[Parked] = []
        self._number = 0
        self._sequence = 0
        self._bounces: dict[tuple[Reply, str, str], dict[str, Any]] = {}
        self._arrival = [i for i in self.injectors if i.arrival_window[0] < i.arrival_window[1]]
        self._fates = Fates(self, self.injectors)
        self._prefix = f"sim:{config.seed}:{scenario}:"

    def sends(self) -> Iterator[Send]:
        """Every send of the run (warm-up day included), in time order."""
        config = self.config
        streams = [campaign_sends(campaign, config) for campaign in self.plan.campaigns]
        streams.append(
            stream_sends(stream_campaigns(config, "transactional"), config, TRANSACTIONAL_PER_HOUR)
        )
        streams.append(
            stream_sends(stream_campaigns(config, "automation"), config, AUTOMATION_PER_HOUR)
        )
        return heapq.merge(*streams, key=attrgetter("t"))

    def lines(self) -> Iterator[bytes]:
        """The run's NDJSON lines (newline included) in arrival order."""
        heap = self._heap
        render = self._render
        process = self._fates.process
        for send in self.sends():
            while heap and heap[0][0] <= send.t:
                yield render(heapq.heappop(heap))
            process(send)
        while heap:
            yield render(heapq.heappop(heap))

    def emit(self, send: Send, kind: str, occurred: int, arrival: int, detail: Detail) -> None:
        """Park one event until it arrives (Sink protocol)."""
        if kind != "queued":
            for injector in self._arrival:
                low, high = injector.arrival_window
                if low <= arrival < high:
                    moved = injector.on_arrival(send, kind, arrival)
                    if moved is None:
                        return
                    arrival = moved
        self._number += 1
        self._park(arrival, self._number, kind, occurred, send, detail)
        if send.rng.random() < DUPLICATE_RATE:
            again = arrival + int(send.rng.uniform(30, 900))
            self._park(again, self._number, kind, occurred, send, detail)

    def _park(
        self, arrival: int, number: int, kind: str, occurred: int, send: Send, detail: Detail
    ) -> None:
        if self.config.start <= arrival < self.config.end:
            self._sequence += 1
            item = (arrival, self._sequence, number, kind, occurred, send, detail)
            heapq.heappush(self._heap, item)

    def _render(self, item: Parked) -> bytes:
        arrival, _, number, kind, occurred, send, detail = item
        bounce, url, agent, pairs = detail
        if isinstance(bounce, Reply):
            bounce = self._bounce(bounce, send)
        campaign = send.campaign
        extra: dict[str, Any] = {"received_at": iso(arrival)}
        if pairs:
            extra.update(pairs)
        self.events += 1
        return orjson.dumps(
            {
                "id": self._prefix + str(number),
                "type": kind,
                "occurred_at": iso(occurred),
                "provider": PROVIDER_NAME,
                "message_id": send.message_id,
                "recipient": send.recipient,
                "mailbox_provider": send.provider,
                "sending_domain": campaign.domain,
                "sending_ip": send.ip,
                "campaign": campaign.name,
                "tags": campaign.tags,
                "bounce": bounce,
                "complaint": COMPLAINT if kind == "complained" else None,
                "url": url,
                "user_agent": agent,
                "extra": extra,
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )

    def _bounce(self, reply: Reply, send: Send) -> dict[str, Any]:
        key = (reply, send.ip, send.campaign.domain)
        found = self._bounces.get(key)
        if found is None:
            found = self._bounces[key] = reply.render(send.ip, send.campaign.domain)
        return found

    def truth(self) -> dict[str, Any]:
        """The truth document of the run (call after lines() is exhausted)."""
        config = self.config
        return {
            "scenario": self.scenario,
            "seed": config.seed,
            "start": iso(config.start),
            "end": iso(config.end),
            "events": self.events,
            "incidents": [injector.truth() for injector in self.injectors],
        }
