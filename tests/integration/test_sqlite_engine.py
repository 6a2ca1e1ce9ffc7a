"""The embedded SQLite database is set up for durable, fast appends."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from mailwarden.store import migrate
from mailwarden.store.engine import make_engine


def test_a_new_sqlite_database_uses_sixteen_kib_pages_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA page_size")).scalar_one() == 16384
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
    engine.dispose()


def test_an_existing_database_keeps_its_page_size(tmp_path: Path) -> None:
    path = tmp_path / "old.db"

    old = sqlite3.connect(path)
    old.execute("PRAGMA page_size=4096")
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE kept (x INTEGER)")
    old.close()
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA page_size")).scalar_one() == 4096
        assert conn.execute(text("SELECT count(*) FROM kept")).scalar_one() == 0
    engine.dispose()
