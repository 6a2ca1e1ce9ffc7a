"""Build the services for a command, honouring --db."""

from __future__ import annotations

from mailwarden.app import Services, build
from mailwarden.config import Settings


def open_services(db: str | None = None) -> Services:
    """Build services from settings, with the database URL overridden when given."""
    settings = Settings() if db is None else Settings(database_url=db)
    return build(settings)


DB_HELP = "Database URL (default: MAILWARDEN_DATABASE_URL or the embedded SQLite file)."
