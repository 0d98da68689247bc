"""Fault hooks for tests that kill a process in the middle of writing the history (run in spawned
processes, so they patch only that process)."""

from __future__ import annotations

import os


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
