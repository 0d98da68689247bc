"""Opening the history database: one connection per call, a busy timeout, migrations, transactions.

The database is a plain SQLite file (``history.sqlite`` by default) that may sit on a shared folder.
It keeps SQLite's default rollback journal: WAL needs shared memory between the processes, which
network file systems (SMB shares, NFS) do not provide, so a WAL database on a share can be corrupted.
Two runs at once do not lock each other out: every write is one ``BEGIN IMMEDIATE`` transaction and a
connection waits up to ``BUSY_TIMEOUT_S`` for the other to finish. A crash or a full disk in the middle
of a transaction leaves the file as it was: SQLite rolls the transaction back (at the latest when the
file is next opened, from its journal).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import cdd_scorer
from cdd_scorer.history.schema import MIGRATIONS

DEFAULT_HISTORY = Path("history.sqlite")
BUSY_TIMEOUT_S = 30.0  # how long a run waits for another one writing the same database


class HistoryError(Exception):
    """The history database cannot do what was asked; the message says why in Thai and English."""


@contextlib.contextmanager
def connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    """An open, migrated connection to the database at ``db_path`` (created when absent), closed after.

    The connection is in autocommit mode: writes go through ``transaction``. Any SQLite error inside
    the block (a database locked for longer than ``BUSY_TIMEOUT_S``, a full disk, a file that is not a
    database) becomes a ``HistoryError`` naming the file."""
    try:
        conn = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise _error(db_path, exc) from None
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
        yield conn
    except sqlite3.Error as exc:
        raise _error(db_path, exc) from exc
    finally:
        conn.close()


def _error(db_path: Path, exc: sqlite3.Error) -> HistoryError:
    return HistoryError(f"ใช้ฐานข้อมูลประวัติ {db_path} ไม่ได้ / cannot use the history database {db_path}: {exc}")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception (the database is then unchanged).

    IMMEDIATE takes the write lock at the start, so two writers queue instead of one failing halfway."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    """The version of the schema in the database: 0 for an empty file."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone():
        return 0
    return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, migrations: tuple[tuple[str, ...], ...] = MIGRATIONS) -> int:
    """Bring the schema up to ``len(migrations)``: every missing version's statements in order, all in
    one transaction (a failing step leaves the database at its old version). Return the new version.

    Raises ``HistoryError`` for a database written by a newer cdd-scorer."""
    if schema_version(conn) == len(migrations):
        return len(migrations)
    with transaction(conn):
        current = schema_version(conn)  # again, under the write lock: another process may have migrated
        if current > len(migrations):
            raise HistoryError(f"ฐานข้อมูลประวัติเป็นรุ่น {current} ซึ่งใหม่กว่าโปรแกรมนี้ (รุ่น {len(migrations)}) "
                               f"กรุณาปรับรุ่น cdd-scorer / the history database has schema version {current}, "
                               f"newer than this cdd-scorer knows ({len(migrations)}); upgrade cdd-scorer")
        for version, statements in enumerate(migrations[current:], start=current + 1):
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version, applied_at, tool_version) VALUES (?, ?, ?)",
                         (version, utc_now(), cdd_scorer.__version__))
    return len(migrations)


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second (``2022-10-05T02:30:00+00:00``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
