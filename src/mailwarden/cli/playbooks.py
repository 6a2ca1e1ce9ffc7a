"""`mailwarden playbooks list|show|validate`: the response plans and a team's own files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from mailwarden.app import action_catalog
from mailwarden.cli.incidents import JSON, fail, print_json
from mailwarden.config import Settings
from mailwarden.playbooks.library import PlaybookLibrary
from mailwarden.playbooks.loader import load_path
from mailwarden.playbooks.present import playbook_detail, playbook_summary, problem_dict

app = typer.Typer(help="Playbooks: the response plan per incident type.", no_args_is_help=True)


def _library() -> PlaybookLibrary:
    settings = Settings()
    folder = Path(settings.playbooks_dir) if settings.playbooks_dir else None
    return PlaybookLibrary(folder, action_catalog(settings))


@app.command("list")
def list_playbooks(json_out: bool = JSON) -> None:
    """List the playbook in force for each incident type (shipped or the team's)."""
    library = _library()
    if json_out:
        for playbook in library.all():
            print_json(playbook_summary(playbook))
        return
    table = Table("type", "version", "steps", "mandatory", "source", "title")
    for playbook in library.all():
        item = playbook_summary(playbook)
        table.add_row(
            item["type"],
            str(item["version"]),
            str(item["steps"]),
            str(item["mandatory"]),
            item["source"],
            item["title"],
        )
    Console().print(table)
    for problem in library.problems:
        typer.echo(f"warning: {problem} (the shipped playbook is used)", err=True)


@app.command("show")
def show(
    incident_type: str = typer.Argument(..., help="Incident type, e.g. spam_complaints."),
    json_out: bool = JSON,
) -> None:
    """Show the steps of the playbook for an incident type."""
    found = {p.spec.type: p for p in _library().all()}
    if incident_type not in found:
        fail(f"no playbook for {incident_type!r}; types: {', '.join(sorted(found))}", 2)
    detail = playbook_detail(found[incident_type])
    if json_out:
        print_json(detail)
        return
    typer.echo(f"{detail['title']} ({detail['type']} v{detail['version']}, {detail['source']})")
    if detail["summary"]:
        typer.echo(detail["summary"])
    for step in detail["steps"]:
        flag = "*" if step.get("mandatory") else " "
        action = f"  [action: {step['action']['name']}]" if step.get("action") else ""
        typer.echo(
            f"{flag} {step['phase']:16} {step['id']:28} {step['due']:22} {step['role']}{action}"
        )
        typer.echo(f"    {step['title']}")
    typer.echo("* mandatory: the incident cannot be closed while it is open")


@app.command("validate")
def validate(
    path: Path = typer.Argument(..., help="A playbook file or a directory of them."),
    json_out: bool = JSON,
) -> None:
    """Check a team's playbooks: every problem with its file and line; exit 1 if any."""
    loaded = load_path(path, action_catalog(Settings()))
    if json_out:
        print_json(
            {
                "ok": not loaded.problems,
                "playbooks": sorted(loaded.playbooks),
                "problems": [problem_dict(p) for p in loaded.problems],
            }
        )
    else:
        for problem in loaded.problems:
            typer.echo(str(problem), err=True)
        if not loaded.problems:
            typer.echo(
                f"ok: {len(loaded.playbooks)} playbook(s): {', '.join(sorted(loaded.playbooks))}"
            )
    if loaded.problems:
        raise typer.Exit(1)
