"""The `mailwarden` command: registers every command group."""

from __future__ import annotations

import typer

from mailwarden.cli import actions as actions_cli
from mailwarden.cli import (
    bounce,
    bus,
    db,
    deadletter,
    demo,
    events,
    findings,
    incidents,
    ingest,
    oncall,
    playbooks,
    replay,
    response,
    serve,
    silences,
    simulate,
    worker,
)
from mailwarden.cli import recovery as recovery_cli
from mailwarden.cli import users as users_cli

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
app.command("worker")(worker.worker)
app.command("replay")(replay.replay)
app.command("findings")(findings.findings)
app.command("simulate")(simulate.simulate)
app.command("demo")(demo.demo)
app.add_typer(deadletter.app, name="deadletter")
app.add_typer(bus.app, name="bus")
app.add_typer(db.app, name="db")
app.add_typer(incidents.app, name="incidents")
app.add_typer(silences.app, name="silences")
app.add_typer(users_cli.users_app, name="users")
app.add_typer(users_cli.tokens_app, name="tokens")
app.command("audit")(users_cli.audit)
app.add_typer(oncall.team_app, name="team")
app.add_typer(oncall.oncall_app, name="oncall")
app.add_typer(playbooks.app, name="playbooks")
app.add_typer(response.tasks_app, name="tasks")
app.add_typer(response.sla_app, name="sla")
app.add_typer(actions_cli.app, name="actions")
app.add_typer(recovery_cli.suppressions_app, name="suppressions")
app.add_typer(recovery_cli.delistings_app, name="delistings")
app.add_typer(recovery_cli.warmups_app, name="warmups")
app.add_typer(recovery_cli.gate_app, name="gate")


def main() -> None:
    """Run the CLI."""
    app()
