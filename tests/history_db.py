"""The history database as tests see it: read as anyone with an SQLite tool would, and a fault hook that
kills a process in the middle of writing it (run in a spawned process, so it patches only that one)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def rows(db: Path, sql: str, *params) -> list[sqlite3.Row]:
    """What anyone with an SQLite tool would read."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def dump(db: Path) -> list[str]:
    """The whole database as SQL, to compare before and after."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def die_while_recording_kpis(after_rows: int = 15) -> None:
    """From now on, recording a run keeps a one-page database cache (so pages reach the database file
    before the commit) and the process dies abruptly after ``after_rows`` KPI rows."""
    from cdd_scorer.history import database, record

    original_migrate, original_rows = database.migrate, record._kpi_rows

    def tiny_cache(conn, *more):
        conn.execute("PRAGMA cache_size = 1")
        return original_migrate(conn, *more)

    def rows_then_die(*more):
        for i, row in enumerate(original_rows(*more)):
            if i == after_rows:
                os._exit(9)
            yield row

    database.migrate, record._kpi_rows = tiny_cache, rows_then_die
