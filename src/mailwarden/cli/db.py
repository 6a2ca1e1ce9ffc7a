"""`mailwarden db upgrade`: bring the database schema to the newest revision."""

from __future__ import annotations

import typer

from mailwarden.config import Settings
from mailwarden.store import migrate
from mailwarden.store.engine import make_engine

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(db: str | None = typer.Option(None, "--db", help="Database URL.")) -> None:
    """Apply every pending migration."""
    settings = Settings() if db is None else Settings(database_url=db)
    engine = make_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    typer.echo("schema is up to date")
