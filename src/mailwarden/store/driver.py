"""Driver-level writes on SQLite, for hot paths where SQLAlchemy's per-call overhead shows.

SQLAlchemy's Connection, transaction and compiled-statement machinery cost 0.1-0.2 ms a
call on top of the statements themselves: as much as inserting fifty events. The webhook
write and the detection engine's minute flush check a connection out of the engine's pool
(its set-up and pragmas included) and drive sqlite3 directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import DBAPICursor


@contextmanager
def sqlite_transaction(engine: Engine) -> Iterator[DBAPICursor]:
    """A cursor inside one transaction on a pooled sqlite3 connection: committed when the
    block ends, rolled back if it raises."""
    conn = engine.raw_connection()
    try:
        cursor = conn.cursor()
        cursor.execute("BEGIN")
        try:
            yield cursor
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    finally:
        conn.close()  # back to the pool


def sqlite_executemany(engine: Engine, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement over many rows in one transaction."""
    with sqlite_transaction(engine) as cursor:
        cursor.executemany(statement, rows)
