"""`mailwarden simulate`: realistic email traffic with injected incidents, and their truth."""

from __future__ import annotations

import typer

from mailwarden.events.model import parse_time
from mailwarden.simulate.model import DEFAULT_START, Config, to_seconds
from mailwarden.simulate.scenarios import NAMES
from mailwarden.simulate.writer import Summary, output_paths, write_scenario

OUT_HELP = (
    "NDJSON file to write (its truth goes to FILE.truth.json). With --scenario all: a"
    " directory (ending in / or existing) gets <scenario>.ndjson per scenario; anything else"
    " is a prefix: --out runs/w1- writes runs/w1-<scenario>.ndjson."
)


def simulate(
    scenario: str = typer.Option(..., "--scenario", help=f"One of {', '.join(NAMES)}, or all."),
    out: str = typer.Option(..., "--out", help=OUT_HELP),
    days: int = typer.Option(7, "--days", min=1, max=366, help="Length of the window in days."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same bytes."),
    start: str | None = typer.Option(
        None, "--start", help="First instant, ISO 8601 (default 2026-11-02T00:00:00Z, a Monday)."
    ),
    scale: float = typer.Option(
        1.0, "--scale", min=0.0001, max=100.0, help="Volume factor (1 = about 1.5M events a week)."
    ),
) -> None:
    """Write simulated ESP events in arrival order as canonical NDJSON, with a truth file."""
    if scenario != "all" and scenario not in NAMES:
        raise typer.BadParameter(
            f"unknown scenario {scenario!r}; one of {', '.join(NAMES)} or all",
            param_hint="--scenario",
        )
    try:
        first = parse_time(start) if start else DEFAULT_START
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {start!r}", param_hint="--start") from None
    config = Config(seed=seed, start=to_seconds(first), days=days, scale=scale)
    names = NAMES if scenario == "all" else (scenario,)
    paths = output_paths(out, names, many=scenario == "all")
    total = 0
    for name in names:
        summary = write_scenario(name, config, paths[name])
        total += summary.events
        typer.echo(_line(summary))
    if len(names) > 1:
        typer.echo(f"{len(names)} scenarios, {total:,} events")


def _line(summary: Summary) -> str:
    incidents = "no incident" if not summary.incidents else f"{summary.incidents} incident(s)"
    return (
        f"{summary.scenario}: {summary.events:,} events, {incidents} injected -> {summary.path}"
        f" (+ {summary.truth_path.name}) in {summary.seconds:.1f} s"
    )
