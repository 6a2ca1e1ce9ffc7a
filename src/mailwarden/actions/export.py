"""CSV exports that are safe to open in a spreadsheet.

Quoting is the csv module's (a cell with a comma, quote or line break is quoted, quotes are
doubled). A cell that a spreadsheet would run as a formula (starting with =, +, -, @, or a
tab or carriage return that hides one) gets a leading single quote, as OWASP advises.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Final

from mailwarden.actions.records import Suppression

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
SUPPRESSION_COLUMNS: Final = (
    "address",
    "reason",
    "source_incident",
    "created_by",
    "created_at",
    "expires_at",
    "active",
)


def safe_cell(value: object) -> str:
    """The value as text, defused if a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV text, one record at a time (header first), every cell defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in _with_header(header, rows):
        writer.writerow([safe_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def suppression_rows(entries: Iterable[Suppression], now: datetime) -> Iterator[list[object]]:
    """One row per suppression, in SUPPRESSION_COLUMNS order."""
    for entry in entries:
        yield [
            entry.address,
            entry.reason,
            entry.source_incident or "",
            entry.created_by,
            entry.created_at.isoformat(),
            entry.expires_at.isoformat() if entry.expires_at else "",
            "yes" if entry.active(now) else "no",
        ]


def suppressions_csv(entries: Iterable[Suppression], now: datetime) -> Iterator[str]:
    """The suppression list as CSV text chunks."""
    return csv_lines(SUPPRESSION_COLUMNS, suppression_rows(entries, now))


def _with_header(
    header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Iterator[Sequence[object]]:
    yield header
    yield from rows
