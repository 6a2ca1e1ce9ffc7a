"""`mailwarden findings`: list what detection found, as a table or as JSON lines."""

from __future__ import annotations

import sys

import orjson
import typer
from rich.console import Console
from rich.table import Table

from mailwarden.cli.context import DB_HELP, open_services
from mailwarden.detect.model import FINDING_KINDS
from mailwarden.events.model import format_time


def findings(
    json_out: bool = typer.Option(False, "--json", help="One JSON object a line."),
    kind: str | None = typer.Option(None, "--kind", help="Only findings of this kind."),
    status: str | None = typer.Option(None, "--status", help="open or closed."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Show findings in the order they were first seen."""
    if kind is not None and kind not in FINDING_KINDS:
        known = ", ".join(sorted(FINDING_KINDS))
        raise typer.BadParameter(f"unknown kind {kind!r}; one of: {known}", param_hint="--kind")
    if status is not None and status not in ("open", "closed"):
        raise typer.BadParameter("must be open or closed", param_hint="--status")
    services = open_services(db)
    try:
        if services.detection is None:
            raise typer.BadParameter("detection is disabled in settings")
        found = services.detection.list_findings(kind=kind, status=status)
    finally:
        services.close()
    if json_out:
        write = sys.stdout.buffer.write
        for item in found:
            write(orjson.dumps(item.to_dict(), option=orjson.OPT_NON_STR_KEYS) + b"\n")
        return
    table = Table("id", "first seen", "kind", "scope", "severity", "observed", "expected", "status")
    for item in found:
        table.add_row(
            str(item.id),
            format_time(item.first_seen),
            item.kind,
            str(item.scope),
            item.severity,
            f"{item.observed:.4g}",
            f"{item.expected:.4g}",
            item.status,
        )
    Console().print(table)
