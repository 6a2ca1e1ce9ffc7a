"""The named scenarios: healthy traffic plus the incidents each one injects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from random import Random
from typing import Final

from mailwarden.simulate.incidents import (
    AuthBlock,
    EngagementCollapse,
    Injector,
    IpBlocklisted,
    MicrosoftThrottling,
)
from mailwarden.simulate.model import TRANSACTIONAL_DOMAIN, Config, seeded
from mailwarden.simulate.sender_incidents import (
    BadListImport,
    ComplaintCreep,
    ComplaintSpike,
    NightSurge,
    WebhookSilence,
)

Rng = Callable[[str], Random]


def _mixed(rng: Rng) -> list[Injector]:
    return [
        MicrosoftThrottling(0, rng("throttling")),
        BadListImport(1, rng("bad_list")),
        NightSurge(2, rng("surge")),
        IpBlocklisted(2, rng("blocklist")),
        ComplaintSpike(3, rng("spike")),
        EngagementCollapse(3, rng("engagement"), hours=30),
        AuthBlock(4, rng("gmail_auth")),
        AuthBlock(5, rng("microsoft_auth"), provider="microsoft", domain=TRANSACTIONAL_DOMAIN),
        WebhookSilence(5, rng("silence"), hour=19),
    ]


SCENARIOS: Final[Mapping[str, Callable[[Rng], list[Injector]]]] = {
    "quiet_week": lambda rng: [],
    "bad_list_import": lambda rng: [BadListImport(1, rng("bad_list"))],
    "complaint_spike": lambda rng: [ComplaintSpike(2, rng("spike"))],
    "gmail_auth_block": lambda rng: [AuthBlock(2, rng("gmail_auth"))],
    "microsoft_throttling": lambda rng: [MicrosoftThrottling(1, rng("throttling"))],
    "ip_blocklisted": lambda rng: [IpBlocklisted(3, rng("blocklist"))],
    "night_volume_surge": lambda rng: [NightSurge(2, rng("surge"))],
    "webhook_silence": lambda rng: [WebhookSilence(2, rng("silence"))],
    "engagement_collapse": lambda rng: [EngagementCollapse(1, rng("engagement"))],
    "complaint_creep": lambda rng: [ComplaintCreep(0, rng("creep"))],
    "mixed": _mixed,
}
NAMES: Final = tuple(SCENARIOS)


def injectors_for(scenario: str, config: Config) -> list[Injector]:
    """The injectors of a named scenario, each with its own seeded random stream."""
    try:
        build = SCENARIOS[scenario]
    except KeyError:
        raise ValueError(f"unknown scenario {scenario!r}; one of {', '.join(NAMES)}") from None
    return build(lambda tag: seeded(config.seed, scenario, tag))
