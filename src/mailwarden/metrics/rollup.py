"""Roll a batch of events up into per-minute counters per dimension and key.

A batch is first aggregated by the event's *signature* (minute, sending domain, campaign,
mailbox provider, sending IP, counters it bumps): one dict increment per event. Only the
distinct signatures are then expanded into the six dimensions, which keeps the per-event
cost of detection small.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from mailwarden.events.model import Event
from mailwarden.metrics.counters import SLOT_OF

OVERALL: Final = "overall"
SENDING_DOMAIN: Final = "sending_domain"
CAMPAIGN: Final = "campaign"
MAILBOX_PROVIDER: Final = "mailbox_provider"
SENDING_IP: Final = "sending_ip"
DOMAIN_PROVIDER: Final = "sending_domain:mailbox_provider"
ALL_KEY: Final = "*"

# (minute, sending_domain, campaign, mailbox_provider, sending_ip, metric names)
Signature = tuple[int, str | None, str | None, str, str | None, tuple[str, ...]]
ScopeKey = tuple[str, str]
StoreKey = tuple[int, str, str, str]

_PLAIN: Final = {name: (name,) for name in ("queued", "delivered", "dropped", "clicked")}
_PLAIN.update(complained=("complained",), unsubscribed=("unsubscribed",), opened=("opened",))
_MACHINE_OPEN: Final = ("opened", "opened.machine")
_TRUE: Final = (True, "true", "True", 1, "1")
_FIRST: Final = (None, 0, 1, "0", "1")


def is_machine_open(event: Event) -> bool:
    """True for an open that a machine made (Apple MPP prefetch), not a person."""
    extra = event.extra
    if not extra:
        return False
    return extra.get("machine_open") in _TRUE or extra.get("sg_machine_open") in _TRUE


def event_metrics(event: Event) -> tuple[str, ...] | None:
    """The counters one event bumps (None for events detection does not count)."""
    plain = _PLAIN.get(event.type)
    if plain is not None:
        if event.type == "opened" and is_machine_open(event):
            return _MACHINE_OPEN
        return plain
    bounce = event.bounce
    if event.type == "bounced":
        if bounce is None:
            return ("bounced", "bounced.undetermined", "bounced.reason.undefined")
        return ("bounced", "bounced." + bounce.bounce_class, "bounced.reason." + bounce.reason)
    if event.type == "deferred":
        reason = "deferred.reason." + (bounce.reason if bounce else "undefined")
        if event.extra.get("attempt", 1) in _FIRST:
            return ("deferred", "deferred.first", reason)
        return ("deferred", reason)
    return None


def minute_of(event: Event) -> int:
    """The epoch minute the event happened in."""
    return int(event.occurred_at.timestamp()) // 60


def signatures(events: Iterable[Event]) -> Counter[Signature]:
    """Count a batch's events by signature (their minute, keys and counters)."""
    counts: Counter[Signature] = Counter()
    for event in events:
        metrics = event_metrics(event)
        if metrics is None:
            continue
        signature = (
            int(event.occurred_at.timestamp()) // 60,
            event.sending_domain,
            event.campaign,
            event.mailbox_provider,
            event.sending_ip,
            metrics,
        )
        counts[signature] += 1
    return counts


def scope_keys(
    domain: str | None, campaign: str | None, provider: str, ip: str | None
) -> Iterator[ScopeKey]:
    """The (dimension, key) pairs an event with these attributes belongs to."""
    yield OVERALL, ALL_KEY
    yield MAILBOX_PROVIDER, provider
    if domain:
        yield SENDING_DOMAIN, domain
        yield DOMAIN_PROVIDER, f"{domain}:{provider}"
    if campaign:
        yield CAMPAIGN, campaign
    if ip:
        yield SENDING_IP, ip


def store_counts(batch: Counter[Signature]) -> Counter[StoreKey]:
    """Expand signature counts into (minute, dimension, key, metric) counters for the store."""
    out: Counter[StoreKey] = Counter()
    for (minute, domain, campaign, provider, ip, metrics), count in batch.items():
        for dimension, key in scope_keys(domain, campaign, provider, ip):
            for metric in metrics:
                out[(minute, dimension, key, metric)] += count
    return out


def slots_of(metrics: Sequence[str]) -> tuple[int, ...]:
    """The core counter slots among metric names (reason counters have none)."""
    return tuple(SLOT_OF[name] for name in metrics if name in SLOT_OF)
