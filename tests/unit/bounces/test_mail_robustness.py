"""Whatever bytes arrive, mail analysis and the raw-mail provider fail only with PayloadError."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailwarden.events.errors import PayloadError
from mailwarden.events.mail.analyse import analyse
from mailwarden.events.providers.rawmail import RawMailProvider

MAIL_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
CORPUS = [p.read_bytes() for p in sorted(MAIL_DIR.rglob("*.eml"))]
PROVIDER = RawMailProvider()
_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _both(body: bytes) -> None:
    for read in (analyse, PROVIDER.parse):
        with contextlib.suppress(PayloadError):
            read(body)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A fixture with a few random cuts, insertions, byte flips and duplications."""
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        size = draw(st.integers(1, 64))
        action = draw(st.sampled_from(["cut", "insert", "flip", "dup", "truncate"]))
        if action == "cut":
            del data[at : at + size]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=size))
        elif action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "dup":
            data[at:at] = data[at : at + size] * draw(st.integers(1, 20))
        else:
            del data[at:]
    return bytes(data)


_HEADERISH = st.builds(
    lambda name, value, rest: name + b": " + value + b"\n" + rest,
    st.sampled_from([b"From", b"Subject", b"Content-Type", b"Date", b"X-Failed-Recipients"]),
    st.binary(max_size=80),
    st.binary(max_size=400),
)


@_SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_raise_nothing_but_payload_error(body: bytes) -> None:
    _both(body)


@_SETTINGS
@given(_HEADERISH)
def test_random_bytes_after_a_header_raise_nothing_but_payload_error(body: bytes) -> None:
    _both(body)


@_SETTINGS
@given(mutated())
def test_mutated_fixtures_raise_nothing_but_payload_error(body: bytes) -> None:
    _both(body)


def test_deeply_nested_multiparts_are_a_payload_error_or_read_safely() -> None:
    depth = 400
    head = b"From: a@example.org\nDate: Tue, 03 Nov 2026 10:00:00 +0000\n"
    parts = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)
    )
    _both(head + parts + b"Content-Type: text/plain\n\nhello\n")


def test_a_huge_message_is_refused_with_payload_error() -> None:
    body = b"From: a@example.org\n\n" + b"x" * (26 * 1024 * 1024)
    with pytest.raises(PayloadError, match="larger"):
        analyse(body)
