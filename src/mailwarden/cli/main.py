"""The `mailwarden` command: registers every command group."""

from __future__ import annotations

import typer

from mailwarden.cli import bounce, db, deadletter, events, ingest, serve

app = typer.Typer(
    name="mailwarden",
    help="Incident response for teams that send email at volume.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("ingest")(ingest.ingest)
app.command("events")(events.events)
app.command("bounce")(bounce.bounce)
app.command("serve")(serve.serve)
app.add_typer(deadletter.app, name="deadletter")
app.add_typer(db.app, name="db")


def main() -> None:
    """Run the CLI."""
    app()
