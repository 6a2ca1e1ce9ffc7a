"""Migrations run forwards and backwards on both databases."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from mailwarden.store import migrate


def test_schema_downgrades_to_empty_and_upgrades_again(engine: Engine) -> None:
    assert {"events", "raw_payloads", "webhook_tokens"} <= set(inspect(engine).get_table_names())
    migrate.downgrade(engine, "base")
    assert "events" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert "events" in inspect(engine).get_table_names()


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert "raw_payloads" in inspect(engine).get_table_names()
