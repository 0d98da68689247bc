"""Rounds over time through the command line (issue 13, "Done when"): round A is scored and closed, scoring
it again is refused (exit 2, nothing changed) until ``--reopen`` (recorded); round B, on an example card a
year later, is scored with a committee adjustment; its trend sheet (recalculated in LibreOffice), its
adjustments sheet, ``scores.csv``, the history and ``cdd-scorer history`` agree; ``verify`` names a changed
input and output; a ``score`` killed while recording leaves the database readable and unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import re
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from history_db import die_while_recording_kpis, dump, rows

from cdd_scorer.cli import main
from cdd_scorer.consolidated import ADJUSTMENTS_SHEET, DETAIL_SHEETS, SUMMARY_SHEET, TREND_SHEET
from cdd_scorer.demo import WORKED_EXAMPLE, example_card_text, shift_years, synthetic_answers
from cdd_scorer.filling import fill_template
from cdd_scorer.history import province_trend
from cdd_scorer.kpi import load_kpi_set
from cdd_scorer.template import template_file_name, write_templates

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
REASON = "คณะกรรมการกลั่นกรองให้แก้ผลอำเภอเมือง"
CLOSER = "นางสาวปิด รอบ"


def invoke(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])




def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def scores(folder: Path) -> dict[str, dict[str, str]]:
    with open(folder / "scores.csv", encoding="utf-8-sig", newline="") as f:
        return {r["district_code"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def story(tmp_path_factory, kpi_set, template_dir, khon_kaen_areas) -> dict:
    """The clerk's two rounds, every step a command; what each command said, and the folders."""
    root = tmp_path_factory.mktemp("rounds")
    a, b, c = khon_kaen_areas[:3]
    db, adj = root / "history.sqlite", root / "adjustments.xlsx"
    round_a, round_b = root / "A", root / "B"
    answers = {a: WORKED_EXAMPLE, b: synthetic_answers(kpi_set, b), c: synthetic_answers(kpi_set, c)}
    for area, values in answers.items():
        fill_template(template_dir / template_file_name(area), values, round_a / "input" / template_file_name(area))
    card_file = root / "example_card.toml"
    card_file.write_text(example_card_text(1), encoding="utf-8")
    card = load_kpi_set(card_file)
    improved = {**WORKED_EXAMPLE, "t1_budget_disbursed": 2_450_000, "i7_activities_done": 15}
    later = {a: improved, b: synthetic_answers(card, b, seed=2566), c: synthetic_answers(card, c, seed=2566)}
    for area, path in zip(later, write_templates(card, list(later), round_b / "templates")):
        fill_template(path, shift_years(later[area], 1), round_b / "input" / path.name)

    said = {"score A": invoke("score", round_a / "input", "--out", round_a / "output", "--history", db,
                              "--province", "40", "--jobs", 0)}
    said["close A"] = invoke("close", "--history", db, "--out", round_a / "output", "--by", CLOSER)
    before = (dump(db), hashes(round_a / "output"))
    said["score A again"] = invoke("score", round_a / "input", "--out", round_a / "output", "--history", db,
                                   "--jobs", 0)
    refused = (dump(db), hashes(round_a / "output"))
    said["reopen A"] = invoke("score", round_a / "input", "--out", round_a / "output", "--history", db,
                              "--reopen", REASON, "--jobs", 0)
    said["close A again"] = invoke("close", "--history", db, "--out", round_a / "output", "--by", CLOSER)
    said["template"] = invoke("adjustments-template", "--province", "ขอนแก่น", "--out", adj, "--kpi-set", card_file)
    wb = openpyxl.load_workbook(adj)  # the clerk types the committee's decisions into the drop-downs
    ws = wb.worksheets[0]
    ws.append([f"{a.district_code} {a.district_name_th}", None, "t1_budget_disbursed งบประมาณที่เบิกจ่ายแล้ว",
               2_000_000, None, "หลักฐานการเบิกจ่ายไม่ครบ", "คณะกรรมการกลั่นกรอง", "20/10/2566"])
    ws.append([b.district_code, "T2 ร้อยละความสำเร็จ", None, None, 0, "โครงการไม่ผ่านการตรวจ", "คณะกรรมการกลั่นกรอง",
               None])
    wb.save(adj)
    said["score B"] = invoke("score", round_b / "input", "--out", round_b / "output", "--history", db, "--kpi-set",
                             card_file, "--adjustments", adj, "--jobs", 0)
    said["history"] = invoke("history", "--province", "40", "--history", db)
    said["history 4001"] = invoke("history", "--district", a.district_code, "--history", db)
    return {"said": said, "db": db, "A": round_a, "B": round_b, "card": card, "card_file": card_file,
            "adjustments": adj, "before": before, "refused": refused, "areas": (a, b, c), "later": later}


def test_every_step_of_the_story_ran(story):
    codes = {step: result.exit_code for step, result in story["said"].items()}
    assert codes == {**dict.fromkeys(codes, 0), "score A again": 2}, {s: r.output for s, r in story["said"].items()}


def test_a_closed_round_is_refused_unchanged_until_reopened_and_the_reopening_is_recorded(story):
    db, said = story["db"], story["said"]
    refusal = said["score A again"].output
    assert "ปิดแล้ว โดย " + CLOSER in refusal and f"was closed by {CLOSER}" in refusal
    assert '--reopen "REASON"' in refusal and "Traceback" not in refusal
    assert story["refused"] == story["before"]  # the database and the closed round's outputs untouched
    assert "manifest_cdd-fy2565-r2_40.json" in story["before"][1]

    [reopening] = rows(db, "SELECT * FROM reopenings")
    first, second = (r["run_id"] for r in rows(db, "SELECT run_id FROM runs WHERE card_id = 'cdd-fy2565-r2'"))
    assert (reopening["run_id"], reopening["closed_by"], reopening["reason"]) == (first, CLOSER, REASON)
    assert reopening["reopened_by"] is not None and "reopened" in said["reopen A"].output
    closed = [tuple(r) for r in rows(db, "SELECT run_id, closed, closed_by FROM run_provinces ORDER BY run_id")]
    assert closed[:2] == [(first, 0, None), (second, 1, CLOSER)]


def test_adjustments_agree_in_the_sheet_the_detail_cells_scores_csv_and_the_history(story, tmp_path):
    a, b, _ = story["areas"]
    out = story["B"] / "output"
    table = scores(out)
    assert table[a.district_code]["adjusted"] == "t1_budget_disbursed"
    assert table[b.district_code]["adjusted"] == "T2 level" and table[b.district_code]["T2"] == "0"
    assert {code for code, r in table.items() if r["adjusted"]} == {a.district_code, b.district_code}

    [run_b] = [r["run_id"] for r in rows(story["db"], "SELECT run_id FROM runs WHERE card_id = ?", story["card"].id)]
    recorded = [tuple(r)[2:] for r in rows(story["db"], "SELECT * FROM adjustments WHERE run_id = ?", run_b)]
    wb = openpyxl.load_workbook(out / "consolidated.xlsx")
    sheet = [tuple("" if v is None else v for v in r[:9]) for r in wb[ADJUSTMENTS_SHEET].iter_rows(min_row=5,
                                                                                                 values_only=True)]
    assert [(r[0], r[2], r[4], r[5], r[6], r[7]) for r in sheet] == \
           [(d, k or "", before, after, why, by) for d, k, _, before, after, why, by, _ in recorded]

    # A corrected value scores as if the district had typed it: the same row as a file that holds it.
    typed = tmp_path / "input"
    shutil.copytree(story["B"] / "input", typed)
    path = typed / template_file_name(a)
    fill_template(story["B"] / "templates" / path.name,
                  shift_years({**story["later"][a], "t1_budget_disbursed": 2_000_000}, 1), path)
    assert invoke("score", typed, "--out", tmp_path / "out", "--no-history", "--kpi-set", story["card_file"],
                  "--jobs", 0).exit_code == 0
    assert not (tmp_path / "history.sqlite").exists()
    plain = scores(tmp_path / "out")
    assert {**plain[a.district_code], "adjusted": "t1_budget_disbursed", "rank": ""} == \
           {**table[a.district_code], "rank": ""}  # the rank also follows the decided level of another district
    engine_t2 = plain[b.district_code]["T2"]  # the level the engine gave before the committee decided
    assert engine_t2 not in ("", "0")
    assert recorded == [
        (a.district_code, "T1", "t1_budget_disbursed", "2450000", "2000000", "หลักฐานการเบิกจ่ายไม่ครบ",
         "คณะกรรมการกลั่นกรอง", "2023-10-20"),
        (b.district_code, "T2", "level", engine_t2, "0", "โครงการไม่ผ่านการตรวจ", "คณะกรรมการกลั่นกรอง", None)]

    team = wb[DETAIL_SHEETS["team"]]
    marked = {c.coordinate: c for row in team.iter_rows() for c in row if c.comment}
    assert len(marked) == 2
    assert sorted(c.value for c in marked.values()) == [0, 2_000_000]
    assert all("ปรับแก้ตามมติคณะกรรมการ" in c.comment.text and "Adjusted by the committee" in c.comment.text
               for c in marked.values())


def test_the_trend_sheet_recalculated_agrees_with_scores_csv_the_history_and_the_history_command(story, libreoffice,
                                                                                                 tmp_path):
    out = story["B"] / "output"
    [fresh] = libreoffice.recalculate([out / "consolidated.xlsx"], tmp_path)
    cached = openpyxl.load_workbook(out / "consolidated.xlsx", data_only=True)
    recalculated = openpyxl.load_workbook(fresh, data_only=True)
    formulas = openpyxl.load_workbook(out / "consolidated.xlsx")
    for name in (TREND_SHEET, SUMMARY_SHEET, DETAIL_SHEETS["team"]):  # every cached value is what LibreOffice computes
        wrong = [(name, c.coordinate, cached[name][c.coordinate].value, recalculated[name][c.coordinate].value)
                 for row in formulas[name].iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.startswith("=")
                 and not _same(cached[name][c.coordinate].value, recalculated[name][c.coordinate].value)]
        assert wrong == []

    trend = recalculated[TREND_SHEET]
    heads = [c.value for c in trend[4]]
    assert heads[3:5] == ["cdd-fy2565-r2", f"{story['card'].id} (รอบนี้ / this round)"]
    sheet = {r[1]: r for r in trend.iter_rows(min_row=5, values_only=True) if r[1]}
    province = next(r for r in trend.iter_rows(min_row=5, values_only=True) if r[0] == "จังหวัดขอนแก่น")
    was, now = scores(story["A"] / "output"), scores(out)
    printed = story["said"]["history"].output
    history = province_trend(story["db"], "40")
    assert [r.card_id for r in history.rounds] == ["cdd-fy2565-r2", story["card"].id]
    for area in story["areas"]:
        code = area.district_code
        row = sheet[code]
        change = Decimal(now[code]["overall_percent"]) - Decimal(was[code]["overall_percent"])
        assert (_two(row[3]), _two(row[4]), _two(row[5])) == \
               (Decimal(was[code]["overall_percent"]), Decimal(now[code]["overall_percent"]), change)
        assert (row[6], row[7]) == (was[code]["rating"], now[code]["rating"])
        assert history.districts[code][-1].overall_change == change
        line = next(line for line in printed.splitlines() if line.startswith(f"{code} "))
        assert [Decimal(cell) for cell in re.split(r"\s{2,}", line)[1:4]] == \
               [Decimal(was[code]["overall_percent"]), Decimal(now[code]["overall_percent"]), change]
        t1 = heads.index("cdd-fy2565-r2", 8)  # the first KPI compared level by level: T1 before, now, change
        assert (row[t1], row[t1 + 1], row[t1 + 2]) == \
               (int(was[code]["T1"]), int(now[code]["T1"]), int(now[code]["T1"]) - int(was[code]["T1"]))
    assert _two(province[4]) - _two(province[3]) == _two(province[5]) == history.rounds[-1].overall_change
    assert any(n.startswith("xl/charts/") for n in _zip_names(out / "consolidated.xlsx"))  # the trend's chart
    district = story["said"]["history 4001"].output
    assert "cdd-fy2565-r2" in district and story["card"].id in district and "ระดับ / level T1" in district


def test_verify_names_a_changed_input_and_a_changed_output(story, tmp_path):
    copy = tmp_path / "A"
    shutil.copytree(story["A"], copy)
    ok = invoke("verify", "--out", copy / "output", "--input", copy / "input", "--history", story["db"])
    assert ok.exit_code == 0 and "as closed" in ok.output
    edited = sorted((copy / "input").iterdir())[0]
    with edited.open("ab") as f:
        f.write(b"\0")
    (copy / "output" / "scores.csv").write_text("district_code,overall_percent\r\n4001,99\r\n", encoding="utf-8-sig")
    (copy / "output" / "issues.csv").unlink()
    changed = invoke("verify", copy / "output" / "manifest_cdd-fy2565-r2_40.json", "--input", copy / "input",
                     "--history", story["db"])
    assert changed.exit_code == 1
    named = [line.strip() for line in changed.output.splitlines() if line.startswith("  ")]
    assert named == [f"ถูกแก้ไข / changed: {edited}", f"หายไป / missing: {copy / 'output' / 'issues.csv'}",
                     f"ถูกแก้ไข / changed: {copy / 'output' / 'scores.csv'}"]


def test_adjustments_that_cannot_apply_are_refused_naming_each_row_and_nothing_is_written(story, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("รหัสอำเภอ,ตัวชี้วัด,ช่องข้อมูลที่แก้ไข,ค่าที่ถูกต้อง,ระดับที่วินิจฉัย,เหตุผล,ผู้วินิจฉัย,วันที่วินิจฉัย\n"
                   "4099,T1,,,3,ก,ข,\n4001,T9,,,3,ก,ข,\n4001,,no_such_field,5,,ก,ข,\n4002,T2,,,6,ก,ข,\n"
                   "4003,T2,,,2,,ข,\n4005,T2,,,2,ก,ข,\n", encoding="utf-8")
    db = tmp_path / "history.sqlite"
    result = invoke("score", story["B"] / "input", "--out", tmp_path / "out", "--history", db, "--kpi-set",
                    story["card_file"], "--adjustments", bad, "--jobs", 0)
    assert result.exit_code == 2, result.output
    rows_named = re.findall(r"row (\d+): ([^\n]*)", result.output)
    assert [r for r, _ in rows_named] == ["2", "3", "4", "5", "6"]
    assert "district code 4099 does not exist" in result.output and "KPI T9 is not on card" in result.output
    assert "field no_such_field" in result.output and "must be a whole number from 0 to 5" in result.output
    assert "no reason" in result.output and "แถวที่ 2" in result.output
    assert not (tmp_path / "out").exists() and not db.exists()

    missing = tmp_path / "missing.csv"  # 4005 sent nothing in round B: its decision cannot apply
    missing.write_text("district_code,kpi,level,reason,decided_by\n4005,T2,2,ก,ข\n", encoding="utf-8")
    result = invoke("score", story["B"] / "input", "--out", tmp_path / "out", "--history", db, "--kpi-set",
                    story["card_file"], "--adjustments", missing, "--jobs", 0)
    assert result.exit_code == 2 and "row 2: no file of the district counts" in result.output
    assert not (tmp_path / "out").exists() and not db.exists()


def test_a_run_without_the_adjustments_file_says_it_drops_the_last_runs_adjustments(story, tmp_path):
    db = tmp_path / "history.sqlite"
    shutil.copy(story["db"], db)
    result = invoke("score", story["B"] / "input", "--out", tmp_path / "out", "--history", db, "--kpi-set",
                    story["card_file"], "--jobs", 0)
    assert result.exit_code == 0
    assert "applied 2 adjustments; without --adjustments this one applies none" in result.output
    assert all(not r["adjusted"] for r in scores(tmp_path / "out").values())


def test_a_score_killed_while_recording_leaves_the_database_readable_and_unchanged(story, tmp_path):
    db = tmp_path / "history.sqlite"
    shutil.copy(story["db"], db)
    before = dump(db)
    args = ["score", str(story["B"] / "input"), "--out", str(tmp_path / "out"), "--history", str(db), "--kpi-set",
            str(story["card_file"]), "--jobs", "0", "--quiet"]
    child = multiprocessing.get_context("spawn").Process(target=score_and_die, args=(args,))
    child.start()
    child.join(120)
    assert child.exitcode == 9
    assert (tmp_path / "out" / "consolidated.xlsx").exists()  # killed after writing, while recording
    assert db.with_name(db.name + "-journal").exists()  # the database file was half written
    assert dump(db) == before  # the next reader rolls the journal back
    assert [r.card_id for r in province_trend(db, "40").rounds] == ["cdd-fy2565-r2", story["card"].id]
    again = invoke(*args)
    assert again.exit_code == 0 and "recorded in the history" in again.output


def score_and_die(args: list[str]) -> None:
    """In a spawned process: ``cdd-scorer score`` that dies abruptly a few KPI rows into its record."""
    die_while_recording_kpis()
    main(args, standalone_mode=False)


def _two(value) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _same(a, b) -> bool:
    a, b = ("" if a is None else a), ("" if b is None else b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) < 1e-9
    return a == b


def _zip_names(path: Path) -> list[str]:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return z.namelist()
