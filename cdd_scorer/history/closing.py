"""Closing a round: its latest run of a province becomes final, with a manifest of every file's SHA-256
beside the outputs; reopening it (with a reason, kept); verifying the files against the manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cdd_scorer.history.database import HistoryError, connect, file_sha256, transaction, utc_now
from cdd_scorer.output_files import atomic_output

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ClosedRun:
    """The final run of a closed round of a province, who closed it and when (UTC)."""

    run_id: int
    card_id: str
    card_fingerprint: str
    province_code: str
    closed_by: str
    closed_at: dt.datetime


@dataclass(frozen=True)
class FileChange:
    """A file of a manifest that is not as it was when the round closed."""

    kind: Literal["input", "output"]
    name: str  # as in the manifest: relative to the input folder, or to the manifest's folder
    change: Literal["changed", "missing"]
    expected_sha256: str
    found_sha256: str | None


def manifest_name(card_id: str, province_code: str) -> str:
    """The manifest's file name in the output folder: ``manifest_cdd-fy2565-r2_40.json``."""
    return f"manifest_{card_id}_{province_code}.json"


def close_round(db_path: Path, card_id: str, province_code: str, by: str, out_dir: Path) -> Path:
    """Mark the latest run of round ``card_id`` for ``province_code`` final and write its manifest into
    ``out_dir`` (the folder of that run's outputs); return the manifest's path.

    Raises ``HistoryError`` when the round has no run for the province, is closed already, or the
    outputs in ``out_dir`` are not the ones that run wrote (the manifest would vouch for other files)."""
    if not db_path.exists():
        raise _no_run(card_id, province_code)
    with connect(db_path) as conn, transaction(conn):
        run = conn.execute(
            "SELECT r.*, p.province_name_th, p.closed, p.closed_by, p.closed_at FROM runs r"
            " JOIN run_provinces p ON p.run_id = r.run_id WHERE r.card_id = ? AND p.province_code = ?"
            " ORDER BY r.run_id DESC LIMIT 1", (card_id, province_code)).fetchone()
        if run is None:
            raise _no_run(card_id, province_code)
        if run["closed"]:
            raise HistoryError(
                f"รอบ {card_id} ของจังหวัด {province_code} ปิดไปแล้ว (โดย {run['closed_by']} เมื่อ {run['closed_at']}) / "
                f"round {card_id} of province {province_code} is closed already (by {run['closed_by']} at "
                f"{run['closed_at']})")
        inputs = [dict(row) for row in conn.execute(
            "SELECT name, sha256, size, saved_at, superseded FROM input_files WHERE run_id = ? ORDER BY name",
            (run["run_id"],))]
        outputs = [dict(row) for row in conn.execute(
            "SELECT name, sha256, size FROM output_files WHERE run_id = ? ORDER BY name", (run["run_id"],))]
        stale = _changes("output", outputs, out_dir)
        if stale:
            names = ", ".join(c.name for c in stale)
            raise HistoryError(
                f"ไฟล์ผลลัพธ์ใน {out_dir} ไม่ใช่ไฟล์ที่การคำนวณครั้งล่าสุดเขียนไว้ ({names}) ให้คำนวณคะแนนใหม่ก่อนปิดรอบ / "
                f"the outputs in {out_dir} are not the ones the latest run wrote ({names}); score again, then close")
        closed_at = utc_now()
        conn.execute("UPDATE run_provinces SET closed = 1, closed_by = ?, closed_at = ?"
                     " WHERE run_id = ? AND province_code = ?", (by, closed_at, run["run_id"], province_code))
        manifest = {
            "manifest_version": MANIFEST_VERSION, "card_id": card_id, "card_fingerprint": run["card_fingerprint"],
            "province_code": province_code, "province_name_th": run["province_name_th"],
            "run_id": run["run_id"], "method": run["method"], "tool_version": run["tool_version"],
            "scored_at": run["finished_at"], "closed_by": by, "closed_at": closed_at,
            "inputs": [{**f, "superseded": bool(f["superseded"])} for f in inputs], "outputs": outputs,
        }
        path = out_dir / manifest_name(card_id, province_code)
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def latest_provinces(db_path: Path, card_id: str) -> tuple[str, ...]:
    """The provinces that the latest run of round ``card_id`` scored (none without a run)."""
    if not db_path.exists():
        return ()
    with connect(db_path) as conn:
        return tuple(row[0] for row in conn.execute(
            "SELECT province_code FROM run_provinces WHERE run_id = (SELECT MAX(run_id) FROM runs WHERE card_id = ?)"
            " ORDER BY province_code", (card_id,)))


def closed_run(db_path: Path, card_id: str, province_code: str) -> ClosedRun | None:
    """The final run when round ``card_id`` is closed for ``province_code``, else None (so ``score`` can
    refuse to score a closed round again)."""
    if not db_path.exists():
        return None
    with connect(db_path) as conn:
        return _closed(conn, card_id, province_code)


def reopen(db_path: Path, card_id: str, province_code: str, reason: str, by: str | None = None) -> ClosedRun:
    """Open a closed round of a province again, keeping the closing it undoes and ``reason`` in the
    ``reopenings`` table; return that closing. Raises ``HistoryError`` without a reason or when the
    round is not closed."""
    if not reason.strip():
        raise HistoryError("ต้องระบุเหตุผลที่เปิดรอบใหม่ / a reason to reopen the round is required")
    with connect(db_path) as conn, transaction(conn):
        closed = _closed(conn, card_id, province_code)
        if closed is None:
            raise HistoryError(f"รอบ {card_id} ของจังหวัด {province_code} ยังไม่ได้ปิด / "
                               f"round {card_id} of province {province_code} is not closed")
        conn.execute("INSERT INTO reopenings (run_id, province_code, closed_by, closed_at, reason, reopened_by,"
                     " reopened_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (closed.run_id, province_code, closed.closed_by, closed.closed_at.isoformat(), reason.strip(),
                      by, utc_now()))
        conn.execute("UPDATE run_provinces SET closed = 0, closed_by = NULL, closed_at = NULL"
                     " WHERE run_id = ? AND province_code = ?", (closed.run_id, province_code))
    return closed


def verify(manifest_path: Path, input_dir: Path) -> list[FileChange]:
    """Hash again every input (below ``input_dir``) and output (beside the manifest) that
    ``manifest_path`` lists; return the files that changed or are missing (empty: all as closed)."""
    manifest = read_manifest(manifest_path)
    return _changes("input", manifest["inputs"], input_dir) + _changes("output", manifest["outputs"],
                                                                         manifest_path.parent)


def read_manifest(manifest_path: Path) -> dict:
    """A manifest as ``close_round`` wrote it (``card_id``, ``province_code``, ``run_id``, ``closed_by``,
    ``closed_at``, ``inputs``, ``outputs`` …); raises ``HistoryError`` when it cannot be read."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        missing = [k for k in ("card_id", "province_code", "run_id", "inputs", "outputs") if k not in manifest]
    except (OSError, ValueError, TypeError) as exc:
        missing = [str(exc)]
    if missing:
        raise HistoryError(f"อ่านไฟล์ {manifest_path} ไม่ได้ / cannot read the manifest {manifest_path}: "
                           f"{', '.join(missing)}")
    return manifest


def _changes(kind: Literal["input", "output"], files: list[dict], folder: Path) -> list[FileChange]:
    changes = []
    for f in files:
        path = folder / f["name"]
        found = file_sha256(path) if path.is_file() else None
        if found != f["sha256"]:
            changes.append(FileChange(kind, f["name"], "missing" if found is None else "changed", f["sha256"], found))
    return changes


def _closed(conn: sqlite3.Connection, card_id: str, province_code: str) -> ClosedRun | None:
    row = conn.execute(
        "SELECT r.run_id, r.card_fingerprint, p.closed_by, p.closed_at FROM runs r"
        " JOIN run_provinces p ON p.run_id = r.run_id WHERE r.card_id = ? AND p.province_code = ? AND p.closed = 1",
        (card_id, province_code)).fetchone()
    if row is None:
        return None
    return ClosedRun(row["run_id"], card_id, row["card_fingerprint"], province_code, row["closed_by"],
                     dt.datetime.fromisoformat(row["closed_at"]))


def _no_run(card_id: str, province_code: str) -> HistoryError:
    return HistoryError(f"ยังไม่มีการคำนวณคะแนนรอบ {card_id} ของจังหวัด {province_code} ในประวัติ / "
                        f"no run of round {card_id} for province {province_code} is in the history")
