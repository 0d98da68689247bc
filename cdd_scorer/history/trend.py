"""Trends for managers: a province's rounds from the history, each district's overall %, rating and KPI
levels per round with the change since the previous round.

A round is a KPI card (``card_id``); the run that speaks for it is the ``round_runs`` view's: the final
run when the round was closed, else the latest. Rounds are ordered by the card's own fiscal year and
first day of the round (then card id), not by card id (ids are names, and ``example-…`` would sort
after ``cdd-…`` whatever its year) nor by run time (a round re-scored late would jump ahead of the
next one).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from cdd_scorer.history.database import connect
from cdd_scorer.kpi import KpiSet


@dataclass(frozen=True)
class RoundRun:
    """One round of a province and the run that speaks for it, with the province row's overall % and
    rating and its change since the previous round (None for the first, or when either has none)."""

    card_id: str
    card_fingerprint: str
    fiscal_year_be: int
    round_start: dt.date
    run_id: int
    final: bool  # the round is closed and this is its final run
    finished_at: dt.datetime
    province_code: str
    province_name_th: str
    overall_percent: Decimal | None
    rating: str | None
    overall_change: Decimal | None = None


@dataclass(frozen=True)
class DistrictRound:
    """One district in one round. ``levels``: KPI id → level (None: no level); ``level_changes``: the KPIs
    whose id the previous round's card has too, with a level in both rounds."""

    round: RoundRun
    district_code: str
    district_name_th: str
    status: str
    overall_percent: Decimal | None
    rating: str | None
    rank: int | None
    levels: dict[str, Decimal | None]
    overall_change: Decimal | None = None
    level_changes: dict[str, Decimal] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class ProvinceTrend:
    """A province's rounds, oldest first, and each district's rounds in the same order (a district has no
    entry for a round that did not list it)."""

    province_code: str
    rounds: tuple[RoundRun, ...]
    districts: dict[str, tuple[DistrictRound, ...]]


def province_trend(db_path: Path, province_code: str) -> ProvinceTrend:
    """Every round of ``province_code`` in the history at ``db_path`` (none when there is no database)."""
    if not db_path.exists():
        return ProvinceTrend(province_code, (), {})
    with connect(db_path) as conn:
        rows = conn.execute("SELECT * FROM round_runs WHERE province_code = ?"
                            " ORDER BY fiscal_year_be, round_start, card_id", (province_code,)).fetchall()
        districts = conn.execute(
            "SELECT d.* FROM district_results d JOIN round_runs rr ON rr.run_id = d.run_id"
            " AND rr.province_code = d.province_code WHERE d.province_code = ? ORDER BY d.district_code",
            (province_code,)).fetchall()
        levels: dict[tuple[int, str], dict[str, Decimal | None]] = {}
        for run_id, code, kpi_id, level in conn.execute(
                "SELECT k.run_id, k.district_code, k.kpi_id, k.level FROM kpi_results k"
                " JOIN district_results d ON d.run_id = k.run_id AND d.district_code = k.district_code"
                " JOIN round_runs rr ON rr.run_id = d.run_id AND rr.province_code = d.province_code"
                " WHERE d.province_code = ? ORDER BY k.rowid", (province_code,)):
            levels.setdefault((run_id, code), {})[kpi_id] = _decimal(level)
    rounds: list[RoundRun] = []
    for row in rows:
        run = RoundRun(row["card_id"], row["card_fingerprint"], row["fiscal_year_be"],
                       dt.date.fromisoformat(row["round_start"]), row["run_id"], bool(row["final"]),
                       dt.datetime.fromisoformat(row["finished_at"]), province_code, row["province_name_th"],
                       _decimal(row["overall_percent"]), row["rating"])
        before = rounds[-1].overall_percent if rounds else None
        rounds.append(dataclasses.replace(run, overall_change=_change(run.overall_percent, before)))
    by_run = {r.run_id: r for r in rounds}
    order = {r.run_id: i for i, r in enumerate(rounds)}
    trend: dict[str, list[DistrictRound]] = {}
    for row in sorted(districts, key=lambda d: (d["district_code"], order[d["run_id"]])):
        point = DistrictRound(by_run[row["run_id"]], row["district_code"], row["district_name_th"], row["status"],
                              _decimal(row["overall_percent"]), row["rating"], row["rank"],
                              levels.get((row["run_id"], row["district_code"]), {}))
        earlier = trend.setdefault(point.district_code, [])
        if earlier:
            point = _with_changes(point, earlier[-1])
        earlier.append(point)
    return ProvinceTrend(province_code, tuple(rounds), {code: tuple(points) for code, points in trend.items()})


def provinces_in(db_path: Path) -> tuple[str, ...]:
    """The provinces the history has rounds of (none when there is no database)."""
    if not db_path.exists():
        return ()
    with connect(db_path) as conn:
        return tuple(r[0] for r in conn.execute("SELECT DISTINCT province_code FROM round_runs ORDER BY 1"))


def earlier_rounds(db_path: Path, card: KpiSet, province_codes: Iterable[str]) -> dict[str, ProvinceTrend]:
    """For a run of ``card``: each province's rounds that come before the card's round (in the order of
    ``province_trend``), for the provinces that have any; the card's own runs are left out."""
    here = (card.fiscal_year_be, card.round_start, card.id)
    out = {}
    for code in province_codes:
        trend = province_trend(db_path, code)
        rounds = tuple(r for r in trend.rounds if (r.fiscal_year_be, r.round_start, r.card_id) < here)
        if rounds:
            runs = {r.run_id for r in rounds}
            districts = {d: kept for d, points in trend.districts.items()
                         if (kept := tuple(p for p in points if p.round.run_id in runs))}
            out[code] = ProvinceTrend(code, rounds, districts)
    return out


def district_history(db_path: Path, district_code: str) -> tuple[DistrictRound, ...]:
    """Every round of one district, oldest first (its province is the first two digits of its code)."""
    return province_trend(db_path, district_code[:2]).districts.get(district_code, ())


def _with_changes(point: DistrictRound, previous: DistrictRound) -> DistrictRound:
    shared = point.levels.keys() & previous.levels.keys()
    changes = {k: _change(point.levels[k], previous.levels[k]) for k in point.levels if k in shared}
    return dataclasses.replace(point, overall_change=_change(point.overall_percent, previous.overall_percent),
                               level_changes={k: v for k, v in changes.items() if v is not None})


def _change(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    return None if now is None or before is None else now - before


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
