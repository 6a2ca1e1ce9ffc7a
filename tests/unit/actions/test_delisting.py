"""Delisting requests: which list, which item, when asked, when delisted, and on the timeline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mailwarden.actions.delisting import (
    DelistingDesk,
    DelistingError,
    MemoryDelistingStore,
    UnknownDelistingError,
)
from mailwarden.clock import FakeClock

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@dataclass
class Notes:
    lines: list[tuple[str, str, str, str]] = field(default_factory=list)

    def note(
        self, incident_id: str, kind: str, text: str, actor: str, data: Mapping[str, Any]
    ) -> None:
        self.lines.append((incident_id, kind, text, actor))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def notes() -> Notes:
    return Notes()


@pytest.fixture
def desk(clock: FakeClock, notes: Notes) -> DelistingDesk:
    return DelistingDesk(MemoryDelistingStore(), clock, notes)


def test_a_request_records_list_item_time_and_goes_on_the_timeline(
    desk: DelistingDesk, notes: Notes
) -> None:
    made = desk.request(
        "Spamhaus SBL", "203.0.113.5", by="dave", incident_id="INC-4", reference="SBL-1234"
    )

    assert (made.blocklist, made.listed_item, made.status) == (
        "Spamhaus SBL",
        "203.0.113.5",
        "requested",
    )
    assert made.requested_at == T0 and made.pending
    assert notes.lines == [
        ("INC-4", "delisting_requested", "delisting requested: 203.0.113.5 on Spamhaus SBL", "dave")
    ]


def test_delisted_stamps_when_and_ends_the_wait(
    desk: DelistingDesk, clock: FakeClock, notes: Notes
) -> None:
    made = desk.request("Barracuda", "news.example.org", by="dave", incident_id="INC-4")
    clock.advance(timedelta(hours=30))

    done = desk.update(made.id or 0, "delisted", by="erin", note="confirmed in lookup")

    assert done.status == "delisted" and done.delisted_at == T0 + timedelta(hours=30)
    assert not done.pending and done.updated_by == "erin"
    assert notes.lines[-1][1:] == (
        "delisting_delisted",
        "news.example.org on Barracuda: delisted (confirmed in lookup)",
        "erin",
    )
    assert desk.listed(status="requested") == []


def test_a_denied_request_may_be_asked_again(desk: DelistingDesk, clock: FakeClock) -> None:
    made = desk.request("Spamhaus SBL", "203.0.113.5", by="dave")
    desk.update(made.id or 0, "denied", by="dave", note="still sending to traps")
    clock.advance(timedelta(days=2))

    again = desk.update(made.id or 0, "requested", by="dave")

    assert again.pending and again.requested_at == T0 + timedelta(days=2)


@pytest.mark.parametrize(
    ("first", "then", "problem"),
    [
        ("withdrawn", "delisted", "cannot move from withdrawn to delisted"),
        ("delisted", "denied", "cannot move from delisted to denied"),
    ],
)
def test_impossible_moves_are_refused_with_what_is_allowed(
    desk: DelistingDesk, first: str, then: str, problem: str
) -> None:
    made = desk.request("UCEPROTECT", "203.0.113.5", by="dave")
    desk.update(made.id or 0, first, by="dave")

    with pytest.raises(DelistingError, match=problem):
        desk.update(made.id or 0, then, by="dave")


def test_bad_input_is_refused(desk: DelistingDesk, clock: FakeClock) -> None:
    with pytest.raises(DelistingError, match="blocklist and a listed item"):
        desk.request(" ", "203.0.113.5", by="dave")
    with pytest.raises(DelistingError, match="future"):
        desk.request("x", "y", by="dave", requested_at=T0 + timedelta(hours=1))
    with pytest.raises(DelistingError, match="not one of"):
        desk.update(desk.request("x", "y", by="d").id or 0, "gone", by="d")
    with pytest.raises(UnknownDelistingError):
        desk.update(99, "delisted", by="dave")


def test_a_request_without_an_incident_writes_no_timeline_line(
    desk: DelistingDesk, notes: Notes
) -> None:
    desk.request("Spamhaus DBL", "example.org", by="dave")

    assert notes.lines == []


def test_the_json_shape_says_how_long_it_has_been_pending(
    desk: DelistingDesk, clock: FakeClock
) -> None:
    made = desk.request("Spamhaus SBL", "203.0.113.5", by="dave")

    data = made.to_dict(T0 + timedelta(hours=36))

    assert data["hours_pending"] == 36.0 and data["status"] == "requested"
