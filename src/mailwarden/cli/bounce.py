"""`mailwarden bounce`: read bounce and complaint mail, print what each says per recipient."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailwarden.events.errors import PayloadError
from mailwarden.events.mail.analyse import analyse
from mailwarden.events.sources.files import UnitError, iter_mail_units

COLUMNS: Final = (
    "file",
    "recipient",
    "kind",
    "action",
    "status",
    "reply_code",
    "class",
    "reason",
    "feedback_type",
    "diagnostic",
)
_PIPE_WIDTH: Final = 220


def bounce(
    paths: list[Path] = typer.Argument(..., help="Files, directories or mbox files."),
    json_out: bool = typer.Option(False, "--json", help="Print NDJSON, one object per recipient."),
) -> None:
    """Classify DSN bounces and ARF complaints found in mail files."""
    rows = list(report_rows(paths))
    if json_out:
        out = sys.stdout.buffer
        for row in rows:
            out.write(orjson.dumps(row) + b"\n")
        out.flush()
    else:
        _print_table(rows)
    if any("error" in row for row in rows):
        raise typer.Exit(1)


def report_rows(paths: list[Path]) -> Iterator[dict[str, Any]]:
    """Yield one row per recipient found in the mail under paths, or one error row per file."""
    for unit in iter_mail_units(paths):
        if isinstance(unit, UnitError):
            yield {"file": unit.label, "error": unit.reason}
            continue
        try:
            analysis = analyse(unit.body)
        except PayloadError as exc:
            yield {"file": unit.label, "error": str(exc)}
            continue
        for finding in analysis.findings:
            yield {
                "file": unit.label,
                "recipient": finding.recipient,
                "action": finding.action,
                "status": finding.status,
                "reply_code": finding.reply_code,
                "reason": finding.reason,
                "class": finding.bounce_class,
                "kind": finding.kind,
                "feedback_type": finding.feedback_type,
                "diagnostic": finding.diagnostic,
            }


def _print_table(rows: list[dict[str, Any]]) -> None:
    table = Table(show_lines=False)
    for column in COLUMNS:
        table.add_column(column, overflow="fold", max_width=60 if column == "diagnostic" else None)
    for row in rows:
        if "error" in row:
            row = {"file": row["file"], "kind": "error", "diagnostic": row["error"]}
        table.add_row(*(Text("" if row.get(c) is None else str(row[c])) for c in COLUMNS))
    console = Console()
    if not console.is_terminal:
        console = Console(width=_PIPE_WIDTH)
    console.print(table)
