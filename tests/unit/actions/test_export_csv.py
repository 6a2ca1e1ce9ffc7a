"""CSV exports: proper quoting, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from mailwarden.actions.export import csv_lines, safe_cell, suppressions_csv
from mailwarden.actions.records import Suppression

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("alex@example.com", "alex@example.com"),
        ("complained during INC-3", "complained during INC-3"),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_a_spreadsheet_would_run_get_a_leading_quote(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_commas_quotes_and_line_breaks_are_quoted_and_survive_a_round_trip() -> None:
    rows = [["a,b", 'say "hi"', "two\nlines", "plain"]]

    text = "".join(csv_lines(["w", "x", "y", "z"], rows))

    assert text.splitlines()[1].startswith('"a,b","say ""hi""","two')
    assert parse(text) == [["w", "x", "y", "z"], ["a,b", 'say "hi"', "two\nlines", "plain"]]


def test_records_end_with_crlf_as_rfc_4180_says() -> None:
    assert "".join(csv_lines(["a"], [["1"]])) == "a\r\n1\r\n"


def test_the_suppression_export_has_a_header_and_one_row_per_address() -> None:
    entries = [
        Suppression(
            "alex@example.com",
            "complained during INC-3",
            "mailwarden.suppress",
            T0,
            source_incident="INC-3",
            expires_at=T0 + timedelta(days=90),
        ),
        Suppression("=cmd|' /C calc'!A0", "-1 + evil", "import", T0, expires_at=T0),
    ]

    rows = parse("".join(suppressions_csv(entries, T0 + timedelta(days=1))))

    assert rows[0] == [
        "address",
        "reason",
        "source_incident",
        "created_by",
        "created_at",
        "expires_at",
        "active",
    ]
    assert rows[1] == [
        "alex@example.com",
        "complained during INC-3",
        "INC-3",
        "mailwarden.suppress",
        "2026-11-27T08:00:00+00:00",
        "2027-02-25T08:00:00+00:00",
        "yes",
    ]
    assert rows[2][0] == "'=cmd|' /C calc'!A0" and rows[2][1] == "'-1 + evil"
    assert rows[2][6] == "no"
