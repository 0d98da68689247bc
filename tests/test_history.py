"""The history database (issue 13): a run recorded exactly and read back, migrations from version 1, a
run that dies halfway leaves the file unchanged, two runs at once both recorded, closing, reopening and
verifying a round, and the trend across two rounds of two cards.

The rounds are really scored: templates filled with the worked example and synthetic answers, read by
``run_round``. Round B uses an example card derived from the shipped one (dates a year later, id and
titles marked as an example), never presented as a real card.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import multiprocessing
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from history_db import die_while_recording_kpis, dump, rows

import cdd_scorer
from cdd_scorer.demo import WORKED_EXAMPLE, example_card, shift_years, synthetic_answers
from cdd_scorer.filling import fill_template
from cdd_scorer.history import (
    Adjustment,
    HistoryError,
    close_round,
    closed_run,
    district_history,
    earlier_rounds,
    latest_adjustments,
    latest_provinces,
    province_trend,
    record,
    record_run,
    reopen,
    verify,
)
from cdd_scorer.history.database import connect, file_sha256, migrate, schema_version
from cdd_scorer.history.schema import MIGRATIONS
from cdd_scorer.kpi import KpiSet, load_kpi_set
from cdd_scorer.results import RoundResult
from cdd_scorer.round import run_round, write_round_outputs
from cdd_scorer.template import template_file_name, write_templates
from cdd_scorer.thai import Status

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
KHON_KAEN = "40"


@dataclasses.dataclass
class Round:
    result: RoundResult
    inputs: Path
    outputs: list[Path]


def fill(templates: dict[str, Path], answers: dict[str, dict], inputs: Path) -> None:
    """Each district's template filled with its answers, as sent back into ``inputs``."""
    for code, values in answers.items():
        fill_template(templates[code], values, inputs / templates[code].name)


def score(inputs: Path, kpi_set: KpiSet) -> Round:
    """Khon Kaen scored from ``inputs``, the outputs written beside it."""
    result = run_round(inputs, kpi_set, province=KHON_KAEN)
    return Round(result, inputs, write_round_outputs(result, inputs.parent / "output"))


@pytest.fixture(scope="module")
def round_a(tmp_path_factory, kpi_set, template_dir, khon_kaen_areas) -> Round:
    """The shipped card: the worked example, a synthetic district sent twice (the same data), the third
    with an error; the other 23 districts of Khon Kaen missing."""
    a, b, c = khon_kaen_areas[:3]
    templates = {area.district_code: template_dir / template_file_name(area) for area in (a, b, c)}
    inputs = tmp_path_factory.mktemp("round_a") / "input"
    wrong = {**synthetic_answers(kpi_set, c), "i7_activities_done": "nine"}
    fill(templates, {a.district_code: WORKED_EXAMPLE, b.district_code: synthetic_answers(kpi_set, b),
                     c.district_code: wrong}, inputs)
    fill_template(templates[b.district_code], synthetic_answers(kpi_set, b), inputs / "again.xlsx")
    return score(inputs, kpi_set)


@pytest.fixture(scope="module")
def round_b(tmp_path_factory, khon_kaen_areas) -> Round:
    """The example card a year later: every district of round A answers differently."""
    card = example_card(1)
    areas = khon_kaen_areas[:3]
    folder = tmp_path_factory.mktemp("round_b")
    paths = write_templates(card, areas, folder / "templates")
    templates = {area.district_code: path for area, path in zip(areas, paths)}
    improved = {**WORKED_EXAMPLE, "t1_budget_disbursed": 2_450_000, "i7_activities_done": 15}
    answers = {areas[0].district_code: improved,
               **{area.district_code: synthetic_answers(card, area, seed=2566) for area in areas[1:]}}
    fill(templates, {code: shift_years(values, 1) for code, values in answers.items()}, folder / "input")
    return score(folder / "input", card)




ADJUSTMENT = Adjustment("4001", "T1", "t1_budget_disbursed", "2212500", "2300000",
                        "หลักฐานการเบิกจ่ายเพิ่มเติม", "คณะกรรมการกลั่นกรอง", dt.date(2022, 10, 20))


# ---- recording

def test_a_run_is_recorded_exactly_as_scored(tmp_path, round_a):
    db = tmp_path / "history.sqlite"
    started = dt.datetime(2022, 10, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    run_id = record_run(db, round_a.result, round_a.outputs, [ADJUSTMENT], started_at=started)
    ks, result = round_a.result.kpi_set, round_a.result

    run = rows(db, "SELECT * FROM runs WHERE run_id = ?", run_id)[0]
    assert (run["card_id"], run["card_fingerprint"], run["fiscal_year_be"], run["round_start"], run["method"],
            run["tool_version"]) == (ks.id, ks.fingerprint, 2565, "2022-04-01", "step", cdd_scorer.__version__)
    assert run["started_at"] == "2022-10-05T02:30:00+00:00"
    assert dt.datetime.fromisoformat(run["finished_at"]).utcoffset() == dt.timedelta(0)
    [province] = rows(db, "SELECT * FROM run_provinces")
    summary = result.provinces[0].summary
    assert (province["province_code"], Decimal(province["overall_percent"]), province["rating"],
            province["closed"]) == (KHON_KAEN, summary.overall_percent, summary.rating.name_th, 0)

    files = {r["name"]: r for r in rows(db, "SELECT * FROM input_files WHERE run_id = ?", run_id)}
    assert set(files) == {s.name for s in result.sources}
    for source in result.sources:
        row = files[source.name]
        assert (row["sha256"], row["size"], dt.datetime.fromisoformat(row["saved_at"])) == \
               (source.sha256, source.size, source.saved_at)
    twice = next(d for d in result.districts if len(d.files) == 2)
    [superseded] = [n for n in twice.files if n != twice.source.name]
    assert {n: (r["superseded"], r["superseded_by"]) for n, r in files.items() if r["superseded"]} == \
           {superseded: (1, twice.source.name)}
    outputs = rows(db, "SELECT name, sha256, size FROM output_files WHERE run_id = ? ORDER BY name", run_id)
    assert [tuple(r) for r in outputs] == sorted((p.name, file_sha256(p), p.stat().st_size)
                                                 for p in round_a.outputs)

    districts = {r["district_code"]: r for r in rows(db, "SELECT * FROM district_results WHERE run_id = ?", run_id)}
    assert len(districts) == 26
    for d in result.districts:
        row = districts[d.area.district_code]
        assert (row["status"], row["district_name_th"], row["rank"], row["source_file"]) == \
               (d.status, d.area.district_name_th, d.rank, d.source.name if d.source else None)
        overall = d.score.overall_percent if d.score else None
        assert (Decimal(row["overall_percent"]) if row["overall_percent"] else None) == overall
        assert row["errors"] == sum(1 for p in d.problems if p.severity == "error")
        kpis = {r["kpi_id"]: r for r in rows(db, "SELECT * FROM kpi_results WHERE run_id = ? AND district_code = ?",
                                             run_id, d.area.district_code)}
        assert set(kpis) == (set(d.score.kpis) if d.score else set())
        for kpi_id, row in kpis.items():
            kpi = d.score.kpis[kpi_id]
            assert (Decimal(row["result"]) if row["result"] else None) == kpi.result
            assert (Decimal(row["level"]) if row["level"] else None) == kpi.level
            assert (row["applicable"], row["scorable"]) == (kpi.applicable, kpi.scorable)
    assert {d.status for d in result.districts} == set(Status)

    # The same figures as scores.csv, digit for digit (scores, percentages and levels rounded once).
    scores_csv = next(p for p in round_a.outputs if p.name == "scores.csv")
    for line in csv.DictReader(scores_csv.read_text(encoding="utf-8-sig").splitlines()):
        code = line["district_code"]
        assert (districts[code]["rating"] or "") == line["rating"]
        cards = {r["scorecard_id"]: r for r in rows(
            db, "SELECT * FROM scorecard_results WHERE run_id = ? AND district_code = ?", run_id, code)}
        for card in ks.scorecards:
            shown = cards.get(card.id)
            assert (shown["score"] or "" if shown else "", shown["percent"] or "" if shown else "") == \
                   (line[f"{card.id}_score"], line[f"{card.id}_percent"])
        levels = dict(tuple(r) for r in rows(db, "SELECT kpi_id, level FROM kpi_results WHERE run_id = ?"
                                             " AND district_code = ?", run_id, code))
        assert {k.id: levels.get(k.id) or "" for k in ks.kpis} == {k.id: line[k.id] for k in ks.kpis}

    [adjustment] = rows(db, "SELECT * FROM adjustments WHERE run_id = ?", run_id)
    assert tuple(adjustment)[2:] == ("4001", "T1", "t1_budget_disbursed", "2212500", "2300000",
                                     "หลักฐานการเบิกจ่ายเพิ่มเติม", "คณะกรรมการกลั่นกรอง", "2022-10-20")


def test_a_version_1_database_is_migrated_keeping_its_runs(tmp_path, round_a):
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, MIGRATIONS[:1]) == 1  # what the first cdd-scorer with a history wrote
    conn.execute("INSERT INTO runs VALUES (7, 'cdd-fy2565-r2', 'f', 2565, '2022-04-01', 'step', '0.1.0',"
                 " '2022-10-05T02:30:00+00:00', '2022-10-05T02:31:00+00:00')")
    conn.execute("INSERT INTO run_provinces VALUES (7, '40', 'ขอนแก่น', 'Khon Kaen', '80.5', 'ดี')")
    conn.close()

    assert province_trend(db, KHON_KAEN).rounds[0].run_id == 7  # reading migrates
    assert [tuple(r) for r in rows(db, "SELECT version, tool_version FROM schema_version")] == \
           [(1, cdd_scorer.__version__), (2, cdd_scorer.__version__)]
    assert tuple(rows(db, "SELECT closed, closed_by FROM run_provinces WHERE run_id = 7")[0]) == (0, None)
    assert record_run(db, round_a.result, round_a.outputs) == 8
    assert [r["run_id"] for r in rows(db, "SELECT run_id FROM round_runs")] == [8]


def test_a_failing_migration_leaves_the_old_version(tmp_path):
    db = tmp_path / "history.sqlite"
    with connect(db):
        pass
    broken = (*MIGRATIONS, ("CREATE TABLE half_done (x)", "CREATE TABLE ("))
    conn = sqlite3.connect(db, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert schema_version(conn) == len(MIGRATIONS)
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchone()
    conn.close()


def test_a_database_of_a_newer_cdd_scorer_is_refused(tmp_path):
    db = tmp_path / "history.sqlite"
    with connect(db) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, '2030-01-01T00:00:00+00:00', '9.0')")
    with pytest.raises(HistoryError, match="newer than this cdd-scorer"):
        province_trend(db, KHON_KAEN)


# ---- a run that fails or dies halfway, two runs at once

def test_a_full_disk_halfway_leaves_the_database_unchanged(tmp_path, round_a, monkeypatch):
    db = tmp_path / "history.sqlite"
    record_run(db, round_a.result, round_a.outputs)
    before = dump(db)
    original = record._kpi_rows

    def kpi_rows_then_full(*args):
        rows = original(*args)
        yield from (next(rows) for _ in range(5))
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(record, "_kpi_rows", kpi_rows_then_full)
    with pytest.raises(HistoryError, match="disk is full"):
        record_run(db, round_a.result, round_a.outputs, [ADJUSTMENT])
    assert dump(db) == before


def test_a_run_killed_halfway_leaves_the_database_unchanged(tmp_path, round_a):
    db = tmp_path / "history.sqlite"
    record_run(db, round_a.result, round_a.outputs)
    before = dump(db)
    child = multiprocessing.get_context("spawn").Process(target=die_while_recording, args=(db, round_a.inputs))
    child.start()
    child.join(120)
    assert child.exitcode == 9
    assert db.with_name(db.name + "-journal").exists()  # a hot journal: the database file was half written
    assert dump(db) == before  # the next reader rolls the journal back
    assert not db.with_name(db.name + "-journal").exists()


def die_while_recording(db: Path, inputs: Path) -> None:
    """In a spawned process: score, then die abruptly a few KPI rows into recording it."""
    die_while_recording_kpis()
    record_run(db, run_round(inputs, load_kpi_set(), province=KHON_KAEN), [])


def test_two_runs_at_once_wait_for_each_other(tmp_path, round_a):
    db = tmp_path / "history.sqlite"
    with connect(db):
        pass
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Queue(), ctx.Queue()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a third writer holds the lock while both runs arrive
    children = [ctx.Process(target=record_when_ready, args=(db, round_a.inputs, ready, done)) for _ in range(2)]
    for child in children:
        child.start()
    for _ in children:
        ready.get(timeout=120)
    holder.execute("COMMIT")
    holder.close()
    answers = [done.get(timeout=120) for _ in children]
    for child in children:
        child.join(30)
    assert sorted(answers, key=str) == [1, 2]  # run ids; an error's text if a run gave up
    assert [r[0] for r in rows(db, "SELECT COUNT(*) FROM district_results GROUP BY run_id")] == [26, 26]


def record_when_ready(db: Path, inputs: Path, ready, done) -> None:
    """In a spawned process: score, say so, then record (waiting for the lock)."""
    result = run_round(inputs, load_kpi_set(), province=KHON_KAEN)
    ready.put(True)
    try:
        done.put(record_run(db, result, []))
    except Exception as exc:  # reported to the test, which then fails showing why
        done.put(repr(exc))


# ---- closing, reopening, verifying

def test_a_closed_round_refuses_runs_until_reopened(tmp_path, round_a):
    db = tmp_path / "history.sqlite"
    ks = round_a.result.kpi_set
    first = record_run(db, round_a.result, round_a.outputs)
    assert closed_run(db, ks.id, KHON_KAEN) is None
    manifest = close_round(db, ks.id, KHON_KAEN, "นายปิด รอบ", round_a.outputs[0].parent)

    closed = closed_run(db, ks.id, KHON_KAEN)
    assert (closed.run_id, closed.closed_by, closed.card_fingerprint) == (first, "นายปิด รอบ", ks.fingerprint)
    assert closed_run(db, ks.id, "75") is None and closed_run(db, "example-fy2566-r2", KHON_KAEN) is None
    with pytest.raises(HistoryError, match="reopen it"):
        record_run(db, round_a.result, round_a.outputs)
    with pytest.raises(HistoryError, match="closed already"):
        close_round(db, ks.id, KHON_KAEN, "someone", manifest.parent)
    assert [(r.final, r.run_id) for r in province_trend(db, KHON_KAEN).rounds] == [(True, first)]

    with pytest.raises(HistoryError, match="reason"):
        reopen(db, ks.id, KHON_KAEN, "  ")
    assert reopen(db, ks.id, KHON_KAEN, "คณะกรรมการให้แก้ผลอำเภอเมือง", by="นางเปิด") == closed
    [reopening] = rows(db, "SELECT * FROM reopenings")
    assert (reopening["run_id"], reopening["closed_by"], reopening["reason"], reopening["reopened_by"]) == \
           (first, "นายปิด รอบ", "คณะกรรมการให้แก้ผลอำเภอเมือง", "นางเปิด")
    assert closed_run(db, ks.id, KHON_KAEN) is None
    with pytest.raises(HistoryError, match="not closed"):
        reopen(db, ks.id, KHON_KAEN, "again")
    second = record_run(db, round_a.result, round_a.outputs)
    assert [(r.final, r.run_id) for r in province_trend(db, KHON_KAEN).rounds] == [(False, second)]


def test_the_manifest_lists_every_file_and_verify_names_what_changed(tmp_path, round_a):
    db = tmp_path / "history.sqlite"
    ks, result = round_a.result.kpi_set, round_a.result
    run_id = record_run(db, result, round_a.outputs)
    manifest_path = close_round(db, ks.id, KHON_KAEN, "clerk", round_a.outputs[0].parent)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert {k: manifest[k] for k in ("card_id", "card_fingerprint", "province_code", "run_id", "tool_version",
                                     "closed_by")} == \
           {"card_id": ks.id, "card_fingerprint": ks.fingerprint, "province_code": KHON_KAEN, "run_id": run_id,
            "tool_version": cdd_scorer.__version__, "closed_by": "clerk"}
    assert {f["name"]: f["sha256"] for f in manifest["inputs"]} == {s.name: s.sha256 for s in result.sources}
    assert {f["name"]: f["sha256"] for f in manifest["outputs"]} == {p.name: file_sha256(p) for p in round_a.outputs}
    assert verify(manifest_path, round_a.inputs) == []

    copy = tmp_path / "copy"  # the round's files as they might be found later
    (copy / "input").mkdir(parents=True)
    for source in result.sources:
        (copy / "input" / source.name).write_bytes(source.path.read_bytes())
    for output in round_a.outputs:
        (copy / output.name).write_bytes(output.read_bytes())
    (copy / manifest_path.name).write_bytes(manifest_path.read_bytes())
    edited, deleted = sorted(s.name for s in result.sources)[:2]
    with (copy / "input" / edited).open("ab") as f:
        f.write(b"\0")
    (copy / "input" / deleted).unlink()
    (copy / "scores.csv").write_text("district_code,overall_percent\r\n4001,99\r\n", encoding="utf-8-sig")

    changes = {(c.kind, c.name): c.change for c in verify(copy / manifest_path.name, copy / "input")}
    assert changes == {("input", edited): "changed", ("input", deleted): "missing", ("output", "scores.csv"): "changed"}


def test_a_round_is_not_closed_over_outputs_another_run_wrote(tmp_path, round_a):
    db = tmp_path / "history.sqlite"
    ks = round_a.result.kpi_set
    out = tmp_path / "output"
    out.mkdir()
    outputs = [out / p.name for p in round_a.outputs]
    for copy, output in zip(outputs, round_a.outputs):
        copy.write_bytes(output.read_bytes())
    record_run(db, round_a.result, outputs)
    (out / "issues.csv").write_text("edited\r\n", encoding="utf-8")
    with pytest.raises(HistoryError, match=r"not the ones the latest run wrote \(issues.csv\)"):
        close_round(db, ks.id, KHON_KAEN, "clerk", out)
    assert closed_run(db, ks.id, KHON_KAEN) is None
    with pytest.raises(HistoryError, match="no run of round"):
        close_round(db, ks.id, "75", "clerk", out)


# ---- trends

def test_the_trend_gives_each_round_and_the_change_since_the_previous_one(tmp_path, round_a, round_b):
    db = tmp_path / "history.sqlite"
    record_run(db, round_b.result, round_b.outputs)  # recorded first, still the later round: the card decides
    record_run(db, round_a.result, round_a.outputs)
    close_round(db, round_a.result.kpi_set.id, KHON_KAEN, "clerk", round_a.outputs[0].parent)

    trend = province_trend(db, KHON_KAEN)
    assert [(r.card_id, r.final, r.fiscal_year_be) for r in trend.rounds] == \
           [("cdd-fy2565-r2", True, 2565), ("example-fy2566-r2", False, 2566)]
    a_row, b_row = (r.provinces[0].summary.overall_percent for r in (round_a.result, round_b.result))
    assert [r.overall_change for r in trend.rounds] == [None, b_row - a_row]
    assert len(trend.districts) == 26

    for was, now in zip(round_a.result.districts, round_b.result.districts):
        code = was.area.district_code
        points = trend.districts[code]
        assert [p.round.card_id for p in points] == ["cdd-fy2565-r2", "example-fy2566-r2"]
        first, second = points
        for point, d in ((first, was), (second, now)):
            assert (point.status, point.overall_percent, point.rank) == \
                   (d.status, d.score.overall_percent if d.score else None, d.rank)
            assert point.levels == ({k: Decimal(str(s.level)) if s.level is not None else None
                                     for k, s in d.score.kpis.items()} if d.score else {})
        assert first.overall_change is None and first.level_changes == {}
        both = was.score and now.score and was.score.overall_percent is not None \
            and now.score.overall_percent is not None
        assert second.overall_change == (now.score.overall_percent - was.score.overall_percent if both else None)
        expected = {k: Decimal(now.score.kpis[k].level - was.score.kpis[k].level) for k in now.score.kpis
                    if now.score.kpis[k].level is not None and was.score.kpis[k].level is not None} \
            if was.score and now.score else {}
        assert second.level_changes == expected
        assert district_history(db, code) == points

    worked = trend.districts[round_a.result.provinces[0].districts[0].area.district_code][1]
    assert worked.overall_change > 0 and worked.level_changes["T1"] > 0 and worked.level_changes["I7"] > 0


def test_the_rounds_before_a_card_are_its_trend_and_the_latest_run_names_its_provinces(tmp_path, round_a, round_b):
    db = tmp_path / "history.sqlite"
    card_a, card_b = round_a.result.kpi_set, round_b.result.kpi_set
    record_run(db, round_b.result, round_b.outputs)
    record_run(db, round_a.result, round_a.outputs, [ADJUSTMENT])
    before_b = earlier_rounds(db, card_b, [KHON_KAEN, "75"])
    assert list(before_b) == [KHON_KAEN]  # no history of province 75
    assert [r.card_id for r in before_b[KHON_KAEN].rounds] == [card_a.id]
    assert {p.round.card_id for points in before_b[KHON_KAEN].districts.values() for p in points} == {card_a.id}
    assert earlier_rounds(db, card_a, [KHON_KAEN]) == {}  # nothing before round A; round B comes after it
    assert latest_provinces(db, card_a.id) == (KHON_KAEN,) and latest_provinces(db, "example-x") == ()
    assert latest_adjustments(db, card_a.id, [KHON_KAEN]) == 1 and latest_adjustments(db, card_b.id, [KHON_KAEN]) == 0
    assert latest_adjustments(db, card_a.id, ["75"]) == 0


def test_no_database_means_no_history(tmp_path):
    db = tmp_path / "none.sqlite"
    assert province_trend(db, KHON_KAEN).rounds == () and district_history(db, "4001") == ()
    assert closed_run(db, "cdd-fy2565-r2", KHON_KAEN) is None
    assert earlier_rounds(db, load_kpi_set(), [KHON_KAEN]) == {} and latest_provinces(db, "cdd-fy2565-r2") == ()
    assert not db.exists()
