"""Driver-level writes on SQLite, for hot paths where SQLAlchemy's per-call overhead shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine


def sqlite_executemany(engine: Engine, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement over many rows in one transaction on the pooled sqlite3 connection.

    A flush of a few dozen rows a minute spends more time in SQLAlchemy's transaction and
    execution bookkeeping than in SQLite; this keeps the pool (and its connection set-up) but
    drives sqlite3 directly.
    """
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN")
        try:
            driver.executemany(statement, rows)
        except BaseException:
            driver.execute("ROLLBACK")
            raise
        driver.execute("COMMIT")
