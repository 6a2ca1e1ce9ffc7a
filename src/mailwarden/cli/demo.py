"""`mailwarden demo`: load a simulated week with incidents into an empty install."""

from __future__ import annotations

import typer

from mailwarden import demo as demo_data
from mailwarden.cli.context import DB_HELP
from mailwarden.config import Settings


def demo(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    days: int = typer.Option(demo_data.DAYS, "--days", min=1, max=28, help="Days to simulate."),
    scale: float = typer.Option(
        demo_data.SCALE, "--scale", min=0.001, max=1.0, help="Volume (1 = about 1.5M a week)."
    ),
) -> None:
    """Simulate a week of mail ending now, with incidents, and replay it through detection."""
    settings = Settings() if db is None else Settings(database_url=db)
    typer.echo(f"Simulating {days} day(s) of mail ({demo_data.SCENARIO}, scale {scale})...")
    last = [-1]

    def progress(done: int, total: int) -> None:
        """Print every tenth of the way."""
        tenth = done * 10 // max(total, 1)
        if tenth != last[0]:
            last[0] = tenth
            typer.echo(f"  replayed {done:,} of {total:,} events")

    try:
        result = demo_data.load_demo(settings, days=days, scale=scale, progress=progress)
    except demo_data.NotEmptyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"Loaded {result.events:,} events in {result.seconds:.1f} s: {result.findings} findings,"
        f" {result.incidents} incident(s). Start the console with `mailwarden serve`."
    )
