"""Recent "bad" events kept as samples: the ids a finding cites and the breakdown it shows."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from typing import Any, Final, NamedTuple

from mailwarden.detect.model import Scope
from mailwarden.events.model import Event
from mailwarden.metrics.rollup import ALL_KEY

_BOUNCE_FAMILY: Final = {"hard": "hard_bounce", "block": "block"}
_SAMPLED: Final = frozenset({"bounced", "deferred", "complained", "unsubscribed", "queued"})
FAMILIES: Final = ("hard_bounce", "block", "soft", "deferral", "complaint", "unsubscribe", "queued")
KIND_FAMILIES: Final = {
    "hard_bounce_rate": ("hard_bounce",),
    "block_rate": ("block",),
    "deferral_rate": ("deferral",),
    "complaint_rate": ("complaint",),
    "unsubscribe_rate": ("unsubscribe",),
    "delivery_drop": ("block", "hard_bounce", "soft", "deferral"),
    "volume_surge": ("queued",),
    "event_silence": ("queued",),
}
_BREAKDOWN_FIELDS: Final = (
    ("reason", 6),
    ("mailbox_provider", 3),
    ("sending_ip", 4),
    ("sending_domain", 2),
    ("campaign", 2),
)


class Sample(NamedTuple):
    """One recent event, reduced to what evidence needs."""

    minute: int
    event_id: str
    sending_domain: str | None
    campaign: str | None
    mailbox_provider: str
    sending_ip: str | None
    reason: str | None
    diagnostic: str | None

    def in_scope(self, scope: Scope) -> bool:
        """True when the event belongs to the scope."""
        dimension, key = scope.dimension, scope.key
        if dimension == "overall":
            return key == ALL_KEY
        if dimension == "sending_domain:mailbox_provider":
            return f"{self.sending_domain}:{self.mailbox_provider}" == key
        value: str | None = getattr(self, dimension, None)
        return value == key


_PLAIN_FAMILY: Final = {
    "deferred": "deferral",
    "complained": "complaint",
    "unsubscribed": "unsubscribe",
}
QUEUED_EVERY: Final = 16  # queued events are many; keep one in so many as samples


def family_of(event: Event) -> str | None:
    """Which sample family an event feeds, if any (queued events: see SampleBook.add)."""
    kind = event.type
    if kind == "bounced":
        bounce_class = event.bounce.bounce_class if event.bounce else "undetermined"
        return _BOUNCE_FAMILY.get(bounce_class, "soft")
    if kind == "queued":
        return "queued"
    return _PLAIN_FAMILY.get(kind)


class SampleBook:
    """A bounded deque of recent samples per family."""

    def __init__(self, per_family: int = 3000) -> None:
        self._by_family: dict[str, deque[Sample]] = {
            name: deque(maxlen=per_family) for name in FAMILIES
        }
        self._queued = 0

    def add(self, events: Iterable[Event]) -> None:
        """Keep the events that feed a family (one queued event in QUEUED_EVERY)."""
        for event in events:
            kind = event.type
            if kind not in _SAMPLED:
                continue
            if kind == "queued":
                self._queued += 1
                if self._queued % QUEUED_EVERY:
                    continue
            family = family_of(event)
            if family is None:
                continue
            bounce = event.bounce
            self._by_family[family].append(
                Sample(
                    int(event.occurred_at.timestamp()) // 60,
                    event.id,
                    event.sending_domain,
                    event.campaign,
                    event.mailbox_provider,
                    event.sending_ip,
                    bounce.reason if bounce else None,
                    (bounce.diagnostic or bounce.status) if bounce else None,
                )
            )

    def recent(
        self,
        families: Sequence[str],
        first_minute: int,
        last_minute: int,
        scope: Scope | None = None,
        limit: int = 300,
    ) -> list[Sample]:
        """Up to `limit` newest samples of the families in [first_minute, last_minute] (and
        in the scope, if given)."""
        out: list[Sample] = []
        for family in families:
            taken = 0
            for sample in reversed(self._by_family[family]):
                if sample.minute < first_minute - 60 or taken >= limit:
                    break
                if sample.minute < first_minute or sample.minute > last_minute:
                    continue
                if scope is None or sample.in_scope(scope):
                    out.append(sample)
                    taken += 1
        return out


def breakdown(samples: Sequence[Sample]) -> dict[str, Any]:
    """Counts by reason, provider, IP, domain and campaign, with a dominant value where >= 80%."""
    out: dict[str, Any] = {"sampled": len(samples)}
    if not samples:
        return out
    for name, top in _BREAKDOWN_FIELDS:
        counts = Counter(getattr(s, name) for s in samples if getattr(s, name) is not None)
        if not counts:
            continue
        out[f"by_{name}"] = dict(counts.most_common(top))
        value, count = counts.most_common(1)[0]
        if name == "reason" or count >= 0.8 * len(samples):
            out[f"dominant_{name}"] = value
    diagnostics = list(dict.fromkeys(s.diagnostic for s in samples if s.diagnostic))
    if diagnostics:
        out["sample_diagnostics"] = diagnostics[:3]
    return out


def sample_ids(samples: Sequence[Sample], limit: int = 10) -> list[str]:
    """The ids of up to `limit` samples, newest first."""
    return [sample.event_id for sample in samples[:limit]]
