"""Events become table rows and come back unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mailwarden.events.model import Bounce, Event
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
