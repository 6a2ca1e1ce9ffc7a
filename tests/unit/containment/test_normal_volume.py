"""Normal volume for warm-up: median sends per minute while sending, split by provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from mailwarden.actions.gate_records import ALL
from mailwarden.containment.volume import RollupVolume

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@dataclass
class Counts:
    rows: dict[tuple[str, str], dict[str, list[int]]] = field(default_factory=dict)

    def by_key(self, dimension: str, metric: str, since: int, until: int) -> dict[str, list[int]]:
        return self.rows.get((dimension, metric), {})


def test_a_campaign_is_judged_by_its_sending_rate_split_by_provider_share() -> None:
    counts = Counts(
        {
            ("campaign", "queued"): {"black-friday": [100, 300, 200, 250, 150]},
            ("mailbox_provider", "queued"): {"gmail": [600], "yahoo": [300], "apple": [100]},
        }
    )

    normal = RollupVolume(counts).per_minute("campaign", "black-friday", T0)

    assert normal == {ALL: 200.0, "gmail": 120.0, "yahoo": 60.0, "apple": 20.0}


def test_a_sending_domain_has_its_own_per_provider_rates() -> None:
    counts = Counts(
        {
            ("sending_domain", "queued"): {"news.example.org": [500, 700]},
            ("sending_domain:mailbox_provider", "queued"): {
                "news.example.org:gmail": [300, 400, 500],
                "mail.example.org:gmail": [9],
            },
        }
    )

    normal = RollupVolume(counts).per_minute("sending_domain", "news.example.org", T0)

    assert normal == {ALL: 600.0, "gmail": 400.0}


def test_providers_that_report_no_sends_fall_back_to_deliveries() -> None:
    counts = Counts({("overall", "delivered"): {"*": [40, 60]}})

    assert RollupVolume(counts).per_minute("all", "*", T0) == {ALL: 50.0}


def test_no_history_means_no_figure() -> None:
    assert RollupVolume(Counts()).per_minute("campaign", "new", T0) is None
