"""Raw payload bodies are kept compressed (LZ4 frame) when that makes them smaller.

A webhook batch is JSON, which LZ4 shrinks about four times for a few hundredths of a
millisecond; writing the raw body was the largest storage cost of ingest after the events
themselves. Small bodies are kept as they came. The encoding is stored next to the body,
so every reader gets back the exact bytes that arrived.
"""

from __future__ import annotations

from typing import Final

import lz4.frame

LZ4: Final = "lz4"
MIN_PACKED: Final = 1024  # bytes: below this the frame header eats most of the gain


class UnknownEncodingError(ValueError):
    """A stored body names an encoding this version cannot read."""


def pack(body: bytes) -> tuple[bytes, str | None]:
    """The body as it will be stored, and its encoding (None: as received)."""
    if len(body) < MIN_PACKED:
        return body, None
    packed: bytes = lz4.frame.compress(body, store_size=True)
    return (packed, LZ4) if len(packed) < len(body) else (body, None)


def unpack(stored: bytes, encoding: str | None) -> bytes:
    """The exact bytes that arrived, from a stored body and its encoding."""
    if encoding is None:
        return stored
    if encoding == LZ4:
        body: bytes = lz4.frame.decompress(stored)
        return body
    raise UnknownEncodingError(f"raw body encoding {encoding!r} is not known")
