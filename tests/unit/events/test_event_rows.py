"""Events become table rows and come back unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mailwarden.events.model import (
    BOUNCE_CLASSES,
    EVENT_TYPES,
    MAILBOX_PROVIDERS,
    Bounce,
    Complaint,
    Event,
)
from mailwarden.store.rows import event_row, event_rows, row_event

START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _event(n: int, second: int) -> Event:
    bounce = Bounce("block", "blocked", 550, "5.7.1", "550 5.7.1 blocked") if n % 3 == 0 else None
    return Event(
        id=f"sg:{n}",
        type="bounced" if bounce else "delivered",
        occurred_at=START + timedelta(seconds=second),
        provider="sendgrid",
        message_id=f"m{n}",
        recipient=f"user{n}@gmail.com",
        mailbox_provider="gmail",
        sending_domain="news.example.org",
        campaign="black-friday",
        tags=["promo"],
        bounce=bounce,
        extra={"smtp-id": f"<{n}@example>"},
        raw_ref=7,
    )


@given(st.lists(st.integers(min_value=0, max_value=5), max_size=40))
def test_a_batch_of_rows_is_the_rows_of_each_event(seconds: list[int]) -> None:
    batch = [_event(n, second) for n, second in enumerate(seconds)]
    assert event_rows(batch, 7) == [event_row(event, 7) for event in batch]


def test_a_row_reads_back_as_the_same_event() -> None:
    for event in (_event(0, 1), _event(1, 2)):
        assert row_event(event_rows([event], 7)[0]) == event


TEXT = st.text(max_size=8)
OPTIONAL = st.none() | TEXT
SECURITY = {"actor": OPTIONAL, "source_ip": OPTIONAL, "country": OPTIONAL, "resource": OPTIONAL}


@st.composite
def any_event(draw: st.DrawFn) -> Event:
    """An event of any type and shape: bounce, complaint, links, security fields, extra."""
    kind = draw(st.sampled_from(sorted(EVENT_TYPES | {"security.login_failed"})))
    security = draw(st.fixed_dictionaries(SECURITY)) if kind.startswith("security.") else {}
    bounce = st.builds(
        Bounce,
        st.sampled_from(sorted(BOUNCE_CLASSES)),
        st.text(min_size=1, max_size=8),  # a reason is never empty
        st.none() | st.integers(200, 599),
        OPTIONAL,
        OPTIONAL,
    )
    return Event(
        id=draw(TEXT),
        type=kind,
        occurred_at=START + timedelta(milliseconds=draw(st.integers(-(10**9), 10**9))),
        provider=draw(TEXT),
        message_id=draw(OPTIONAL),
        recipient=draw(OPTIONAL),
        mailbox_provider=draw(st.sampled_from(sorted(MAILBOX_PROVIDERS))),
        sending_domain=draw(OPTIONAL),
        sending_ip=draw(OPTIONAL),
        campaign=draw(OPTIONAL),
        tags=draw(st.lists(TEXT, max_size=3)),
        bounce=draw(st.none() | bounce),
        complaint=draw(st.none() | st.builds(Complaint, st.text(min_size=1, max_size=8))),
        url=draw(OPTIONAL),
        user_agent=draw(OPTIONAL),
        extra=draw(st.dictionaries(TEXT, st.none() | TEXT | st.integers(-(2**53), 2**53))),
        raw_ref=7,
        count=draw(st.none() | st.integers(0, 10**6)) if security else None,
        **security,
    )


@given(st.lists(any_event(), max_size=8))
def test_any_batch_of_events_reads_back_from_its_rows(batch: list[Event]) -> None:
    assert [row_event(row) for row in event_rows(batch, 7)] == batch
