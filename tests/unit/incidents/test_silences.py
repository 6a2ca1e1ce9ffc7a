"""Silences on a fake clock: reminders before and at expiry go to the outbox, exactly once."""

from __future__ import annotations

from datetime import timedelta

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
