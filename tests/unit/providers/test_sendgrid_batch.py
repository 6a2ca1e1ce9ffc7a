"""SendGrid's hot path: its short branches and per-batch memos never change what an event says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailwarden.clock import FakeClock
from mailwarden.events.errors import PayloadError
from mailwarden.events.model import Event
from mailwarden.events.providers.common import epoch_time, opt_str, str_list
from mailwarden.events.providers.sendgrid import SendGridProvider

FIXTURES = Path(__file__).parents[2] / "fixtures" / "providers" / "sendgrid"
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
# Values that look alike to a memo but must not be read alike.
TRICKY: dict[str, list[Any]] = {
    "email": [
        "gmail.com",
        "a@gmail.com",
        "b@GMAIL.com",
        "c@gmail.com.",
        "d@hotmail.co.uk",
        "@",
        "hotmail.com",
    ],
    "timestamp": [1795766280, 1795766280.0, 1795766280.5, "1795766280", True, 0, -1, 10**11],
    "sending_domain": ["news.example.org", " News.Example.ORG ", "", "  ", 5, None],
    "category": ["promo", ["promo", "weekly"], ["promo", ""], ["promo", 5], [], ""],
    "status": ["5.1.1", "4.7.0", "550", "", 5, None],
    "reason": ["Bounced Address", "550 5.1.1 no such user", "Spam Content (x)", "", None],
    "response": ["421 4.7.0 try later", "250 2.0.0 OK", "", None],
    "bounce_classification": ["Invalid Address", " reputation ", "Technical", "", 3, None],
    "type": ["bounce", "blocked", None],
    "attempt": ["5", 5, "x", None],
    "event": ["processed", "delivered", "deferred", "bounce", "dropped", "open", "click"],
}


@pytest.fixture
def provider() -> SendGridProvider:
    """A provider whose signature checks are never reached here."""
    return SendGridProvider(None, FakeClock(datetime(2026, 11, 27, 8, 0, tzinfo=UTC)))


def fixture_events() -> list[dict[str, Any]]:
    """The documented-shape batch, fresh for each caller."""
    events: list[dict[str, Any]] = orjson.loads((FIXTURES / "events.json").read_bytes())
    return events


def _parsed(provider: SendGridProvider, objects: list[Any]) -> list[Event] | None:
    """The events of a batch, or None when it is refused."""
    try:
        return provider.parse(orjson.dumps(objects)).events
    except PayloadError:
        return None


def _assert_parses_as_one_by_one(provider: SendGridProvider, objects: list[dict[str, Any]]) -> None:
    """The batch gives the events its objects give alone (refused if any one is refused)."""
    together = _parsed(provider, objects)
    alone = [_parsed(provider, [one]) for one in objects]
    if together is None:
        assert None in alone
    else:
        assert together == [event for events in alone if events for event in events]


@st.composite
def batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    """The documented batch, repeated, with fields swapped for look-alike or arbitrary values."""
    events = fixture_events() + fixture_events()
    for _ in range(draw(st.integers(1, 12))):
        event = events[draw(st.integers(0, len(events) - 1))]
        key = draw(st.sampled_from(sorted(TRICKY)))
        event[key] = draw(st.sampled_from(TRICKY[key]) | JSON)
    return events


@SETTINGS
@given(objects=batches())
def test_a_batch_parses_to_the_events_its_objects_give_one_by_one(
    provider: SendGridProvider, objects: list[dict[str, Any]]
) -> None:
    _assert_parses_as_one_by_one(provider, objects)


@SETTINGS
@given(key=st.sampled_from(["email", "timestamp", "sending_domain", "status"]), data=st.data())
def test_look_alike_values_in_one_batch_are_each_read_on_their_own(
    provider: SendGridProvider, key: str, data: st.DataObject
) -> None:
    values = data.draw(st.lists(st.sampled_from(TRICKY[key]), min_size=2, max_size=6))
    objects = [_bounce(**{key: value}) for value in values]
    _assert_parses_as_one_by_one(provider, objects)


@SETTINGS
@given(value=JSON | st.sampled_from([value for values in TRICKY.values() for value in values]))
def test_each_field_reads_as_the_careful_helpers_read_it(
    provider: SendGridProvider, value: Any
) -> None:
    for kind, key in [
        ("delivered", "sg_message_id"),
        ("delivered", "campaign"),
        ("delivered", "ip"),
        ("delivered", "category"),
        ("click", "url"),
        ("click", "useragent"),
        ("open", "sending_domain"),
    ]:
        event = provider.parse(orjson.dumps([_bounce(event=kind, **{key: value})])).events[0]
        read = {
            "sg_message_id": event.message_id,
            "campaign": event.campaign,
            "ip": event.sending_ip,
            "category": event.tags,
            "url": event.url,
            "useragent": event.user_agent,
            "sending_domain": event.sending_domain,
        }[key]
        assert read == _careful(key, value), (kind, key)


@SETTINGS
@given(value=JSON | st.sampled_from(TRICKY["timestamp"]))
def test_the_time_reads_as_epoch_time_reads_it(provider: SendGridProvider, value: Any) -> None:
    try:
        expected: datetime | None = epoch_time(value, "timestamp")
    except PayloadError:
        expected = None
    found = _parsed(provider, [_bounce(timestamp=value)])
    assert (found[0].occurred_at if found else None) == expected


def _careful(key: str, value: Any) -> Any:
    """How the general helpers read one field's value."""
    if key == "sg_message_id":
        return value if isinstance(value, str) else opt_str(value)
    if key == "category":
        return str_list(value)
    if key == "sending_domain":
        return value.strip().lower() or None if isinstance(value, str) else None
    return opt_str(value)


def _bounce(**fields: Any) -> dict[str, Any]:
    """A well-formed bounce, with fields added or replaced."""
    raw: dict[str, Any] = {
        "event": "bounce",
        "email": "a@example.com",
        "sg_event_id": "id-1",
        "sg_message_id": "msg-1",
        "timestamp": 1795766280,
        "status": "5.1.1",
        "reason": "550 5.1.1 no such user",
        "bounce_classification": "Invalid Address",
    }
    raw.update(fields)
    return raw
