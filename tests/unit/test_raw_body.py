"""Raw bodies are stored compressed when that helps, and always read back byte for byte."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailwarden.store.raw_body import LZ4, MIN_PACKED, UnknownEncodingError, pack, unpack


def test_a_webhook_batch_is_kept_lz4_compressed_and_much_smaller() -> None:
    batch = b"[" + b",".join(b'{"event":"delivered","email":"a@b.example"}' for _ in range(500))
    stored, encoding = pack(batch + b"]")
    assert encoding == LZ4
    assert len(stored) < len(batch) / 4
    assert unpack(stored, encoding) == batch + b"]"


def test_a_small_body_is_kept_as_it_came() -> None:
    body = b'{"event":"open"}'
    assert pack(body) == (body, None)


def test_a_body_that_does_not_compress_is_kept_as_it_came() -> None:
    noise = os.urandom(MIN_PACKED * 8)
    assert pack(noise) == (noise, None)


def test_an_unknown_encoding_is_refused_by_name() -> None:
    with pytest.raises(UnknownEncodingError, match="zstd"):
        unpack(b"...", "zstd")


@given(st.binary(max_size=MIN_PACKED * 4) | st.text(max_size=3000).map(str.encode))
def test_every_body_reads_back_exactly(body: bytes) -> None:
    assert unpack(*pack(body)) == body
