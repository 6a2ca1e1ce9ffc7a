"""Silences on a fake clock: reminders before and at expiry go to the outbox, exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.unit.incidents.builders import ALEX, at, finding

from mailwarden.clock import FakeClock
from mailwarden.incidents.desk import BadInputError
from mailwarden.incidents.records import Matcher
from mailwarden.incidents.service import IncidentService
from mailwarden.incidents.silences import UnknownSilenceError

IP = "203.0.113.5"


def _silence(service: IncidentService, hours: int = 2, remind_minutes: int = 30) -> str:
    return service.silences.add(
        owner="sam@example.org",
        reason="warming up the new IP",
        matcher=Matcher(kind="block_rate", dimension="sending_ip", key="203.0.113.*"),
        duration=timedelta(hours=hours),
        actor=ALEX,
        remind_before=timedelta(minutes=remind_minutes),
    ).id


def test_the_owner_is_reminded_before_expiry_and_told_at_expiry_once_each(
    service: IncidentService,
) -> None:
    ref = _silence(service)
    for minute in range(0, 89):
        service.tick(at(minute))
    assert service.outbox() == []
    service.tick(at(90))
    (reminder,) = service.outbox()
    assert reminder.recipient == "sam@example.org" and reminder.channel == "email"
    assert reminder.subject == f"Silence {ref} expires in 30 min" and reminder.sent_at is None
    for minute in range(91, 240):
        service.tick(at(minute))
    subjects = [message.subject for message in service.outbox()]
    assert subjects == [f"Silence {ref} expires in 30 min", f"Silence {ref} has expired"]
    assert service.outbox()[1].created_at == at(120)


def test_an_expired_silence_no_longer_mutes_its_findings(
    service: IncidentService, clock: FakeClock
) -> None:
    _silence(service, hours=1)
    assert service.on_findings([finding("block_rate", "sending_ip", IP)]) == ["silenced"]
    clock.set(at(61))
    service.tick()
    later = finding("block_rate", "sending_ip", IP, minute=61)
    assert service.on_findings([later]) == ["opened"]


def test_expiring_a_silence_by_hand_ends_it_now_and_tells_the_owner(
    service: IncidentService, clock: FakeClock
) -> None:
    ref = _silence(service)
    clock.set(at(10))
    ended = service.silences.expire(ref, ALEX)
    assert ended.expires_at == at(10) and ended.expired_by == "alex"
    assert service.silences.list_silences() == []
    assert [m.subject for m in service.outbox()] == [f"Silence {ref} has expired"]
    assert "ended by alex" in service.outbox()[0].body
    service.tick(at(200))
    assert len(service.outbox()) == 1


def test_a_silence_that_makes_no_sense_is_refused(service: IncidentService) -> None:
    with pytest.raises(BadInputError, match="positive"):
        service.silences.add(
            owner="sam", reason="x", matcher=Matcher(), actor=ALEX, duration=timedelta(0)
        )
    with pytest.raises(UnknownSilenceError):
        service.silences.expire("SIL-99", ALEX)


def test_incidents_keeping_muted_findings_hear_the_reminder_and_the_expiry(
    service: IncidentService,
) -> None:
    service.on_findings([finding("hard_bounce_rate", "sending_ip", IP)])
    service.on_findings([finding("volume_surge", "campaign", "bf")])
    held, other = (i.id for i in service.list_incidents()[::-1])
    _silence(service)
    muted = finding("block_rate", "sending_ip", IP, minute=1, severity="critical")
    assert service.on_findings([muted]) == ["silenced"]
    for minute in range(0, 121):
        service.tick(at(minute))
    reminder, expiry = _silence_entries(service, held)
    assert (reminder.kind, reminder.at) == ("silence_reminder", at(90))
    assert "expires in 30 min (sam@example.org: warming up the new IP)" in reminder.note
    assert "it mutes block_rate on sending_ip=203.0.113.5" in reminder.note
    assert (expiry.kind, expiry.at) == ("silence_expired", at(120))
    assert "they count again from their next update" in expiry.note
    assert _silence_entries(service, other) == []


def _silence_entries(service: IncidentService, ref: str) -> list[Any]:
    return [e for e in service.timeline(ref) if e.kind in {"silence_reminder", "silence_expired"}]
