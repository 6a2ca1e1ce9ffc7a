"""Each noise rule acts, and says so on the incident's timeline."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.unit.incidents.builders import at, finding, kinds

from mailwarden.clock import FakeClock
from mailwarden.detect.model import Scope
from mailwarden.incidents.model import Incident
from mailwarden.incidents.service import IncidentService

IP = "203.0.113.5"
SPAMHAUS = ["550 5.7.1 client host [203.0.113.5] blocked using Spamhaus ZEN"]


def only(service: IncidentService) -> Incident:
    (incident,) = service.list_incidents()
    return incident


def test_dedup_attaches_a_finding_with_the_same_type_and_scope(service: IncidentService) -> None:
    service.on_findings([finding("hard_bounce_rate", "campaign", "bf")])
    assert service.on_findings([finding("delivery_drop", "campaign", "bf", minute=3)]) == ["dedup"]
    incident = only(service)
    assert incident.finding_kinds() == ["delivery_drop", "hard_bounce_rate"]
    entry = service.timeline(incident.id)[-1]
    assert entry.kind == "dedup" and "delivery_failure|campaign=bf" in entry.note


def test_updates_of_an_attached_finding_change_the_link_not_the_timeline(
    service: IncidentService,
) -> None:
    service.on_findings([finding("hard_bounce_rate", "campaign", "bf", finding_id=1)])
    again = finding("hard_bounce_rate", "campaign", "bf", minute=5, finding_id=1, observed=0.3)
    assert service.on_findings([again]) == ["updated"]
    incident = only(service)
    assert kinds(service.timeline(incident.id)) == ["opened"]
    (link,) = incident.links.values()
    assert link.observed == 0.3 and link.last_seen == at(5)


def test_bounce_spikes_on_three_campaigns_from_one_ip_are_one_incident_about_the_ip(
    service: IncidentService,
) -> None:
    for minute, campaign in enumerate(["bf", "cm", "xmas"]):
        found = finding(
            "hard_bounce_rate", "campaign", campaign, minute=minute, dominant_sending_ip=IP
        )
        service.on_findings([found])
    incident = only(service)
    assert incident.scope == Scope("sending_ip", IP)
    assert incident.affected.campaigns == 3
    grouped = [e for e in service.timeline(incident.id) if e.kind == "grouped"]
    assert len(grouped) == 2
    assert "scope widened campaign=bf → sending_ip=203.0.113.5" in grouped[0].note


def test_a_block_at_gmail_per_domain_and_provider_wide_is_one_incident_either_way(
    clock: FakeClock,
) -> None:
    from tests.unit.incidents.builders import make_service

    pair = finding("block_rate", "sending_domain:mailbox_provider", "news.example.org:gmail")
    wide = finding("block_rate", "mailbox_provider", "gmail", minute=2)
    for order, rule in (([pair, wide], "grouped"), ([wide, pair], "inhibited")):
        service, _repo = make_service(clock)
        for item in order:
            service.on_findings([item])
        incident = only(service)
        assert incident.scope == Scope("mailbox_provider", "gmail")
        assert kinds(service.timeline(incident.id))[1] == rule


def test_related_findings_outside_the_grouping_window_open_their_own_incident(
    service: IncidentService,
) -> None:
    service.on_findings([finding("hard_bounce_rate", "campaign", "bf", dominant_sending_ip=IP)])
    late = finding("hard_bounce_rate", "campaign", "cm", minute=90, dominant_sending_ip=IP)
    assert service.on_findings([late]) == ["opened"]
    assert len(service.list_incidents()) == 2


def test_findings_of_another_family_on_the_same_root_are_not_grouped(
    service: IncidentService,
) -> None:
    service.on_findings([finding("hard_bounce_rate", "campaign", "bf", dominant_sending_ip=IP)])
    complaints = finding("complaint_rate", "campaign", "cm", minute=1, dominant_sending_ip=IP)
    assert service.on_findings([complaints]) == ["opened"]


def test_a_blocklisted_ip_mutes_bounce_findings_of_campaigns_sent_through_it(
    service: IncidentService,
) -> None:
    service.on_findings([finding("block_rate", "sending_ip", IP, sample_diagnostics=SPAMHAUS)])
    bounce = finding(
        "hard_bounce_rate",
        "campaign",
        "bf",
        minute=2,
        dominant_sending_ip=IP,
        severity="critical",
        observed=0.9,
    )
    assert service.on_findings([bounce]) == ["inhibited"]
    incident = only(service)
    assert incident.type == "blocklisting" and incident.severity == "SEV2"
    entry = service.timeline(incident.id)[-1]
    assert entry.kind == "inhibited" and "a blocklisted IP mutes" in entry.note
    assert incident.links[("hard_bounce_rate", Scope("campaign", "bf"))].relation == "inhibited"


def test_a_campaign_known_to_send_through_a_blocklisted_ip_stays_under_it(
    service: IncidentService,
) -> None:
    listed = finding("block_rate", "sending_ip", IP, sample_diagnostics=SPAMHAUS,
                     dominant_sending_domain="news.org")  # fmt: skip
    service.on_findings([listed])
    blocks = finding("block_rate", "campaign", "bf", minute=2, dominant_sending_ip=IP)
    assert service.on_findings([blocks]) == ["inhibited"]
    # 75% of the campaign's missing deliveries went out through the IP: no dominant IP.
    drop = finding("delivery_drop", "campaign", "bf", minute=90, dominant_sending_domain="news.org",
                   by_sending_ip={IP: 75, "203.0.113.6": 25})  # fmt: skip
    assert service.on_findings([drop]) == ["inhibited"]
    incident = only(service)
    assert incident.scope == Scope("sending_ip", IP)
    assert "a blocklisted IP mutes" in service.timeline(incident.id)[-1].note


def test_a_provider_wide_block_mutes_per_campaign_findings_at_that_provider(
    service: IncidentService,
) -> None:
    service.on_findings([finding("block_rate", "mailbox_provider", "gmail")])
    campaign = finding(
        "deferral_rate", "campaign", "bf", minute=1, dominant_mailbox_provider="gmail"
    )
    assert service.on_findings([campaign]) == ["inhibited"]
    assert "provider-wide block" in service.timeline(only(service).id)[-1].note


def test_an_inhibitor_opened_later_merges_the_incidents_it_covers(
    service: IncidentService, clock: FakeClock
) -> None:
    service.on_findings([finding("hard_bounce_rate", "campaign", "bf", dominant_sending_ip=IP)])
    clock.set(at(50))
    listed = finding("block_rate", "sending_ip", IP, minute=50, sample_diagnostics=SPAMHAUS)
    assert service.on_findings([listed]) == ["opened"]
    old, new = sorted(service.list_incidents(), key=lambda i: i.pk or 0)
    assert old.state == "merged" and old.merged_into == new.pk
    assert "inhibition" in service.timeline(old.id)[-1].note
    assert kinds(service.timeline(old.id)) == ["opened", "transitioned"]
    assert "absorbed" in kinds(service.timeline(new.id))
    assert new.finding_kinds() == ["block_rate", "hard_bounce_rate"]


def test_a_silenced_finding_opens_no_incident_and_the_silence_counts_it(
    service: IncidentService,
) -> None:
    from tests.unit.incidents.builders import ALEX

    from mailwarden.incidents.records import Matcher

    silence = service.silences.add(
        owner="sam@example.org",
        reason="IP warm-up",
        matcher=Matcher(dimension="sending_ip", key="203.0.113.*"),
        duration=timedelta(hours=2),
        actor=ALEX,
    )
    result = service.on_findings([finding("block_rate", "sending_ip", IP)])
    assert result == ["silenced"] and service.list_incidents() == []
    (stored,) = service.silences.list_silences()
    assert stored.id == silence.id and stored.matched_count == 1


def test_a_silenced_finding_for_an_open_incident_is_kept_as_evidence_only(
    service: IncidentService,
) -> None:
    from tests.unit.incidents.builders import ALEX

    from mailwarden.incidents.records import Matcher

    service.on_findings([finding("hard_bounce_rate", "campaign", "bf")])
    service.silences.add(
        owner="sam",
        reason="known list import",
        actor=ALEX,
        matcher=Matcher(kind="delivery_drop"),
        duration=timedelta(hours=1),
    )
    drop = finding("delivery_drop", "campaign", "bf", minute=1, severity="critical")
    assert service.on_findings([drop]) == ["silenced"]
    incident = only(service)
    entry = service.timeline(incident.id)[-1]
    assert entry.kind == "silenced" and "SIL-1 (sam: known list import)" in entry.note
    assert incident.severity == "SEV3"  # the silenced critical finding did not escalate it


def test_a_kept_finding_counts_again_once_its_silence_has_expired(
    service: IncidentService, clock: FakeClock
) -> None:
    from tests.unit.incidents.builders import ALEX

    from mailwarden.incidents.records import Matcher

    service.on_findings([finding("hard_bounce_rate", "campaign", "bf", observed=0.02)])
    service.silences.add(
        owner="sam",
        reason="known list import",
        actor=ALEX,
        matcher=Matcher(kind="delivery_drop"),
        duration=timedelta(hours=1),
    )
    drop = finding("delivery_drop", "campaign", "bf", minute=1, severity="critical", finding_id=7)
    service.on_findings([drop])
    clock.set(at(30))
    still = finding("delivery_drop", "campaign", "bf", minute=30, severity="critical", finding_id=7)
    assert service.on_findings([still]) == ["updated"]
    assert only(service).severity == "SEV4"  # muted while the silence lasts
    clock.set(at(70))
    after = finding("delivery_drop", "campaign", "bf", minute=70, severity="critical", finding_id=7)
    service.on_findings([after])
    incident = only(service)
    assert incident.severity == "SEV3"
    assert incident.links[("delivery_drop", Scope("campaign", "bf"))].relation == "unsilenced"
    assert kinds(service.timeline(incident.id))[-2:] == ["unsilenced", "severity_changed"]
    assert "no silence covers delivery_drop on campaign=bf any more" in (
        service.timeline(incident.id)[-2].note
    )


def test_a_worse_finding_escalates_severity_and_says_why(service: IncidentService) -> None:
    service.on_findings([finding("hard_bounce_rate", "sending_ip", IP)])
    listed = finding("block_rate", "sending_ip", IP, minute=1, sample_diagnostics=SPAMHAUS)
    service.on_findings([listed])
    incident = only(service)
    assert incident.severity == "SEV2" and incident.type == "blocklisting"
    entry = service.timeline(incident.id)[-1]
    assert entry.kind == "severity_changed" and entry.data["to"] == "SEV2"


def test_a_cleared_finding_nobody_opened_an_incident_for_is_ignored(
    service: IncidentService,
) -> None:
    closed = finding("hard_bounce_rate", "campaign", "bf", status="closed", closed_minute=5)
    assert service.on_findings([closed]) == ["ignored"]
    assert service.list_incidents() == []


def test_while_events_are_missing_drops_are_muted_as_artefacts(service: IncidentService) -> None:
    service.on_findings([finding("event_silence", "overall", "*", severity="critical")])
    drop = finding("delivery_drop", "mailbox_provider", "gmail", minute=2)
    assert service.on_findings([drop]) == ["inhibited"]
    incident = only(service)
    assert incident.type == "pipeline_outage"
    assert "drops in deliveries, opens and volume are artefacts" in (
        service.timeline(incident.id)[-1].note
    )


def test_a_night_burst_from_an_unknown_campaign_mutes_the_bounces_it_causes(
    service: IncidentService,
) -> None:
    burst = finding(
        "volume_surge",
        "overall",
        "*",
        severity="critical",
        possible_compromise=True,
        new_campaigns={"acct-9f": 5000},
    )
    service.on_findings([burst])
    bounces = finding("hard_bounce_rate", "campaign", "acct-9f", minute=5)
    assert service.on_findings([bounces]) == ["inhibited"]
    assert only(service).type == "unauthorized_access"


def test_a_daytime_surge_is_not_called_unauthorised_and_mutes_nothing(
    service: IncidentService,
) -> None:
    service.on_findings([finding("volume_surge", "sending_ip", IP, new_campaigns={"bf": 1})])
    assert service.list_incidents()[0].type == "other"
    assert service.on_findings([finding("hard_bounce_rate", "campaign", "bf", minute=3)]) == [
        "opened"
    ]


def test_an_overall_finding_concentrated_on_an_ip_joins_the_ip_incident(
    service: IncidentService,
) -> None:
    service.on_findings([finding("block_rate", "sending_ip", IP, sample_diagnostics=SPAMHAUS)])
    overall = finding("delivery_drop", "overall", "*", minute=1, dominant_sending_ip=IP)
    assert service.on_findings([overall]) == ["inhibited"]
    assert only(service).scope == Scope("sending_ip", IP)


def test_an_overall_finding_everywhere_widens_the_group_and_merges_its_parts(
    service: IncidentService,
) -> None:
    service.on_findings([finding("deferral_rate", "mailbox_provider", "yahoo")])
    service.on_findings([finding("deferral_rate", "mailbox_provider", "apple", minute=1)])
    assert len(service.list_incidents()) == 2
    assert service.on_findings([finding("delivery_drop", "overall", "*", minute=2)]) == ["grouped"]
    live = [i for i in service.list_incidents() if i.state != "merged"]
    assert [(i.scope, i.finding_kinds()) for i in live] == [
        (Scope("overall", "*"), ["deferral_rate", "delivery_drop"])
    ]
    merged = next(i for i in service.list_incidents() if i.state == "merged")
    assert "overall" in service.timeline(merged.id)[-1].note


def test_an_auth_failure_is_rooted_at_the_sending_domain(service: IncidentService) -> None:
    auth: dict[str, Any] = {
        "dominant_signal": "gmail authentication",
        "dominant_sending_domain": "news.org",
        "dominant_campaign": "bf",
    }
    service.on_findings([finding("block_rate", "campaign", "bf", **auth)])
    service.on_findings([finding("block_rate", "mailbox_provider", "gmail", minute=1, **auth)])
    incident = only(service)
    assert (incident.type, incident.scope) == ("dns_auth", Scope("sending_domain", "news.org"))


def test_a_different_finding_after_recovery_opens_a_new_incident(
    service: IncidentService, clock: FakeClock
) -> None:
    service.on_findings([finding("hard_bounce_rate", "campaign", "bf", dominant_sending_ip=IP,
                                 finding_id=1)])  # fmt: skip
    service.on_findings([finding("hard_bounce_rate", "campaign", "bf", minute=5, finding_id=1,
                                 status="closed", closed_minute=10)])  # fmt: skip
    service.tick(at(30))
    assert only(service).state == "recovered"
    clock.set(at(40))
    again = finding("hard_bounce_rate", "campaign", "cm", minute=40, dominant_sending_ip=IP)
    assert service.on_findings([again]) == ["opened"]
    assert [i.state for i in service.list_incidents()] == ["detected", "recovered"]


def test_a_batch_that_meets_a_concurrent_change_is_retried_and_loses_nothing(
    clock: FakeClock,
) -> None:
    from tests.unit.incidents.builders import ALEX, make_service
    from tests.unit.incidents.fakes import MemoryIncidentRepository

    class Racy(MemoryIncidentRepository):
        raced = True

        def open_incidents(self, recovered_since: datetime) -> list[Incident]:
            found = super().open_incidents(recovered_since)
            if found and not self.raced:
                self.raced = True
                other.add_note(found[0].id, "someone else was quicker", ALEX)
            return found

    repo = Racy()
    service, _ = make_service(clock, repo)
    other, _ = make_service(clock, repo)
    service.on_findings([finding("hard_bounce_rate", "campaign", "bf")])
    repo.raced = False
    assert service.on_findings([finding("delivery_drop", "campaign", "bf", minute=1)]) == ["dedup"]
    assert kinds(service.timeline("INC-1")) == ["opened", "note", "dedup"]


def test_a_vague_report_by_a_person_does_not_swallow_related_findings(
    service: IncidentService,
) -> None:
    from tests.unit.incidents.builders import ALEX

    service.open_manual(incident_type="other", title="something is odd", actor=ALEX)
    assert service.on_findings([finding("volume_surge", "sending_ip", IP)]) == ["opened"]


def test_bounces_and_a_blocklisting_sharing_only_a_busy_domain_are_two_incidents(
    service: IncidentService,
) -> None:
    service.on_findings(
        [finding("hard_bounce_rate", "campaign", "bf", dominant_sending_domain="news.org")]
    )
    listed = finding("block_rate", "mailbox_provider", "gmail", minute=2, dominant_sending_ip=IP,
                     dominant_sending_domain="news.org", sample_diagnostics=SPAMHAUS)  # fmt: skip
    assert service.on_findings([listed]) == ["opened"]
    assert sorted(i.type for i in service.list_incidents()) == ["blocklisting", "delivery_failure"]
