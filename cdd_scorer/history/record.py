"""Recording a score run: the round, its provinces, files, every district's scores and the adjustments
applied, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import cdd_scorer
from cdd_scorer.exact import Number
from cdd_scorer.history.database import HistoryError, connect, file_sha256, transaction, utc_now
from cdd_scorer.problems import Problem
from cdd_scorer.results import DistrictResult, RoundResult
from cdd_scorer.scoring import DistrictScore
from cdd_scorer.tables import csv_number
from cdd_scorer.thai import Severity

LEVEL = "level"  # the field of an adjustment that decides a KPI's level


@dataclass(frozen=True)
class Adjustment:
    """One committee decision applied in a run: ``field`` is a field id, or ``"level"`` for a decided level
    of ``kpi_id``; ``before`` and ``after`` are the values as the adjustments file shows them."""

    district_code: str
    kpi_id: str | None
    field: str | None
    before: str | None
    after: str | None
    reason: str
    decided_by: str
    decided_on: dt.date | None = None

    @property
    def is_level(self) -> bool:
        return self.field == LEVEL

    @property
    def item(self) -> str:
        """What was adjusted, as ``scores.csv`` names it: ``T2 level`` or ``t1_budget_disbursed``."""
        return f"{self.kpi_id} {LEVEL}" if self.is_level else self.field or ""


def record_run(db_path: Path, result: RoundResult, outputs: Sequence[Path],
               adjustments: Iterable[Adjustment] = (), started_at: dt.datetime | None = None) -> int:
    """Record a score run in the history database at ``db_path`` (created when absent); return its run id.

    ``outputs`` are the files the run wrote (hashed now, so record after writing them); ``started_at``
    is when the run began (aware, or local time; default: now). Everything goes in one transaction: on
    any error the database is unchanged. Waits for another run writing the database (``BUSY_TIMEOUT_S``).
    Raises ``HistoryError`` when a province of the run has its round closed (``reopen`` first), or when
    the database cannot be written."""
    finished = utc_now()
    started = started_at.astimezone(dt.UTC).isoformat(timespec="seconds") if started_at else finished
    files = [(path.name, file_sha256(path), path.stat().st_size) for path in outputs]
    ks = result.kpi_set
    with connect(db_path) as conn, transaction(conn):
        _refuse_closed(conn, ks.id, [p.code for p in result.provinces])
        run_id = conn.execute(
            "INSERT INTO runs (card_id, card_fingerprint, fiscal_year_be, round_start, method, tool_version,"
            " started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ks.id, ks.fingerprint, ks.fiscal_year_be, ks.round_start.isoformat(), result.method,
             cdd_scorer.__version__, started, finished)).lastrowid
        _insert_provinces(conn, run_id, result)
        _insert_files(conn, run_id, result, files)
        _insert_districts(conn, run_id, result)
        conn.executemany(
            "INSERT INTO adjustments (run_id, district_code, kpi_id, field, value_before, value_after, reason,"
            " decided_by, decided_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, a.district_code, a.kpi_id, a.field, a.before, a.after, a.reason, a.decided_by,
              a.decided_on.isoformat() if a.decided_on else None) for a in adjustments])
    return run_id


def latest_adjustments(db_path: Path, card_id: str, province_codes: Sequence[str]) -> int:
    """How many adjustments the latest run of round ``card_id`` applied in these provinces (0 without a
    database): a run that is not given the adjustments file again can say that it drops them."""
    if not db_path.exists():
        return 0
    marks = ", ".join("?" * len(province_codes))
    with connect(db_path) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM adjustments a JOIN district_results d ON d.run_id = a.run_id"
            " AND d.district_code = a.district_code WHERE a.run_id = (SELECT MAX(r.run_id) FROM runs r"
            f" JOIN run_provinces p ON p.run_id = r.run_id WHERE r.card_id = ? AND p.province_code IN ({marks}))"
            f" AND d.province_code IN ({marks})", (card_id, *province_codes, *province_codes)).fetchone()[0]


def _refuse_closed(conn: sqlite3.Connection, card_id: str, province_codes: list[str]) -> None:
    """Inside the write transaction, so that no run slips in between another's check and its close."""
    marks = ", ".join("?" * len(province_codes))
    closed = conn.execute(
        "SELECT p.province_code, p.closed_by, p.closed_at FROM run_provinces p JOIN runs r ON r.run_id = p.run_id"
        f" WHERE r.card_id = ? AND p.closed = 1 AND p.province_code IN ({marks}) ORDER BY p.province_code",
        (card_id, *province_codes)).fetchone()
    if closed:
        code, by, at = closed
        raise HistoryError(
            f"รอบ {card_id} ของจังหวัด {code} ปิดแล้ว (โดย {by or '-'} เมื่อ {at}) ต้องเปิดรอบใหม่ก่อนจึงจะบันทึกได้ / "
            f"round {card_id} of province {code} was closed (by {by or '-'} at {at}); reopen it to record a run")


def _insert_provinces(conn: sqlite3.Connection, run_id: int, result: RoundResult) -> None:
    conn.executemany(
        "INSERT INTO run_provinces (run_id, province_code, province_name_th, province_name_en, overall_percent,"
        " rating) VALUES (?, ?, ?, ?, ?, ?)",
        [(run_id, p.code, p.name_th, p.name_en, _decimal(p.summary.overall_percent),
          p.summary.rating.name_th if p.summary.rating else None) for p in result.provinces])


def _insert_files(conn: sqlite3.Connection, run_id: int, result: RoundResult,
                  outputs: list[tuple[str, str, int]]) -> None:
    superseded = {name: by for d in result.districts for name, by in d.superseded.items()}
    conn.executemany(
        "INSERT INTO input_files (run_id, name, sha256, size, saved_at, superseded, superseded_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(run_id, s.name, s.sha256, s.size, s.saved_at.isoformat() if s.saved_at else None,
          int(s.name in superseded), superseded.get(s.name)) for s in result.sources])
    conn.executemany("INSERT INTO output_files (run_id, name, sha256, size) VALUES (?, ?, ?, ?)",
                     [(run_id, *output) for output in outputs])


def _insert_districts(conn: sqlite3.Connection, run_id: int, result: RoundResult) -> None:
    conn.executemany(
        "INSERT INTO district_results (run_id, province_code, district_code, district_name_th, district_name_en,"
        " status, source_file, overall_percent, rating, rating_en, rank, errors, warnings)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_district_row(run_id, d) for d in result.districts])
    conn.executemany(
        "INSERT INTO scorecard_results (run_id, district_code, scorecard_id, score, percent) VALUES (?, ?, ?, ?, ?)",
        _scorecard_rows(run_id, result))
    conn.executemany(
        "INSERT INTO kpi_results (run_id, district_code, kpi_id, result, level, applicable, scorable)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        _kpi_rows(run_id, result))


def _district_row(run_id: int, d: DistrictResult) -> tuple:
    score, area = d.score, d.area
    rating = score.rating if score else None
    return (run_id, area.province_code, area.district_code, area.district_name_th, area.district_name_en,
            str(d.status), d.source.name if d.source else None, _decimal(score.overall_percent if score else None),
            rating.name_th if rating else None, rating.name_en if rating else None, d.rank,
            _count(d.problems, Severity.ERROR), _count(d.problems, Severity.WARNING))


def _scored(result: RoundResult) -> Iterator[tuple[str, DistrictScore]]:
    for d in result.districts:
        if d.score is not None:
            yield d.area.district_code, d.score


def _scorecard_rows(run_id: int, result: RoundResult) -> Iterator[tuple]:
    ks = result.kpi_set
    for code, score in _scored(result):
        for card in score.scorecards.values():
            yield (run_id, code, card.scorecard_id, _shown(card.score, ks.score_decimals),
                   _shown(card.percent, ks.percent_decimals))


def _kpi_rows(run_id: int, result: RoundResult) -> Iterator[tuple]:
    ks = result.kpi_set
    for code, score in _scored(result):
        for kpi in score.kpis.values():
            yield (run_id, code, kpi.kpi_id, _decimal(kpi.result), _shown(kpi.level, ks.score_decimals),
                   int(kpi.applicable), int(kpi.scorable))


def _decimal(value: Decimal | None) -> str | None:
    """An engine decimal (a KPI result, an overall %) exactly as computed."""
    return None if value is None else str(value)


def _shown(value: Number | None, decimals: int) -> str | None:
    """An exact fraction (a score, a percentage, a linear level) as scores.csv shows it."""
    return None if value is None else csv_number(value, decimals)


def _count(problems: list[Problem], severity: Severity) -> int:
    return sum(1 for p in problems if p.severity == severity)
