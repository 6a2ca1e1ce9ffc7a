"""Alembic migrations, run programmatically by mailwarden.store.migrate."""
