"""The clerk's round converges (issue 12, SPEC §5): generate, districts reply by e-mail, collect, score,
feedback; a district fixes the correction workbook and mails it back, another simply sends its form
again; after collecting again every district is complete, with no conflict and no e-mail to send.

The workbooks' saved times are set explicitly (openpyxl stamps the current time on save), so which
file is later never depends on how fast the test runs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.writer.excel import ExcelWriter

from cdd_scorer.cli import main
from cdd_scorer.collect import collect
from cdd_scorer.consolidated import SOURCES_SHEET
from cdd_scorer.demo import WORKED_EXAMPLE
from cdd_scorer.feedback import write_feedback
from cdd_scorer.filling import fill_template
from cdd_scorer.geography import districts_of, find_province
from cdd_scorer.metadata import Lineage, TemplateMetadata
from cdd_scorer.results import DistrictResult, RoundResult
from cdd_scorer.round import run_round, write_round_outputs
from cdd_scorer.status import all_complete, district_status
from cdd_scorer.template import template_file_name, write_templates

PROVINCE = "26"  # นครนายก (Nakhon Nayok), 4 districts
ICT = dt.timezone(dt.timedelta(hours=7))
FIRST_SAVED = dt.datetime(2022, 9, 20, 10, 0, tzinfo=ICT)
RESENT_SAVED = dt.datetime(2022, 9, 26, 15, 0, tzinfo=ICT)
FIXED_SAVED = dt.datetime(2022, 9, 27, 9, 0, tzinfo=ICT)
MAIL_DELAY = dt.timedelta(hours=1)
WRONG = {**WORKED_EXAMPLE, "t1_budget_disbursed": 2_600_000, "i7_activities_done": "nine"}
FIXES = {k: WORKED_EXAMPLE[k] for k in ("t1_budget_disbursed", "i7_activities_done")}
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def save_at(path: Path, when: dt.datetime) -> Path:
    """Save the workbook again as a spreadsheet program would at ``when`` (openpyxl's own save stamps
    the current time, so its writer is called with the saved time set)."""
    wb = openpyxl.load_workbook(path)
    wb.properties.modified = when.astimezone(dt.UTC).replace(tzinfo=None)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return path


def district_saves(workbook: Path, answers: dict, out: Path, when: dt.datetime) -> Path:
    """A district types ``answers`` into ``workbook`` (its template, or the correction workbook it was
    sent) and saves it as ``out`` at ``when``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return save_at(fill_template(workbook, answers, out), when)


def mail(folder: Path, area, attachment: Path, when: dt.datetime) -> Path:
    """The district's reply, saved as an .eml file, with the workbook attached."""
    message = EmailMessage()
    message["From"] = f"{area.district_name_en} <{area.district_code}@example.org>"
    message["To"] = "province@example.org"
    message["Subject"] = f"ส่งแบบรายงานตัวชี้วัด อำเภอ{area.district_name_th}"
    message["Date"] = email.utils.format_datetime(when)
    message.set_content("เรียน จังหวัด\nส่งแบบรายงานตามไฟล์แนบ")
    message.add_attachment(attachment.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                           filename=attachment.name)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{area.district_code}_{when:%Y%m%d%H%M}.eml"
    path.write_bytes(bytes(message))
    return path


def district(result: RoundResult, area) -> DistrictResult:
    return next(d for d in result.districts if d.area.district_code == area.district_code)


def codes(d: DistrictResult) -> list[str]:
    return [p.code for p in d.problems]


@dataclass
class Loop:
    areas: list
    templates: dict[str, Path]
    input_dir: Path
    before: RoundResult
    first_feedback: list[Path]
    after: RoundResult
    second_feedback: list[Path]
    outputs: list[Path]
    root: Path


@pytest.fixture(scope="module")
def loop(tmp_path_factory, kpi_set) -> Loop:
    """A correct from the start; B with errors, then its correction workbook fixed and mailed back;
    C with errors, then its form simply filled again and sent; D correct."""
    root = tmp_path_factory.mktemp("round")
    areas = districts_of(find_province(PROVINCE))
    a, b, c, d = areas
    templates = dict(zip((x.district_code for x in areas), write_templates(kpi_set, areas, root / "templates")))
    input_dir = root / "input"
    replies = [mail(root / "mail-1", area, district_saves(templates[area.district_code], answers,
                                                          root / "sent-1" / template_file_name(area), FIRST_SAVED),
                    FIRST_SAVED + MAIL_DELAY)
               for area, answers in ((a, WORKED_EXAMPLE), (b, WRONG), (c, WRONG), (d, WORKED_EXAMPLE))]
    collect(replies, input_dir)
    before = run_round(input_dir, kpi_set)
    first_feedback = write_feedback(before, kpi_set, root / "feedback-1")

    correction = root / "feedback-1" / f"{Path(template_file_name(b)).stem}_correction.xlsx"
    fixed = district_saves(correction, FIXES, root / "sent-2" / correction.name, FIXED_SAVED)
    resent = district_saves(templates[c.district_code], WORKED_EXAMPLE, root / "sent-2" / template_file_name(c),
                            RESENT_SAVED)
    collect([mail(root / "mail-2", b, fixed, FIXED_SAVED + MAIL_DELAY),
             mail(root / "mail-2", c, resent, RESENT_SAVED + MAIL_DELAY)], input_dir)
    after = run_round(input_dir, kpi_set)
    second_feedback = write_feedback(after, kpi_set, root / "feedback-2")
    outputs = write_round_outputs(after, root / "output")
    return Loop(areas, templates, input_dir, before, first_feedback, after, second_feedback, outputs, root)


def test_before_the_replies_the_districts_with_errors_are_sent_corrections(loop):
    a, b, c, d = loop.areas
    assert [district(loop.before, x).status for x in loop.areas] == [
        "complete", "needs_correction", "needs_correction", "complete"]
    assert sorted(p.name for p in loop.first_feedback if p.suffix == ".xlsx") == sorted(
        f"{Path(template_file_name(x)).stem}_correction.xlsx" for x in (b, c))


def test_the_fixed_correction_workbook_supersedes_the_file_it_was_made_from(loop):
    b = loop.areas[1]
    row = district(loop.after, b)
    original, correction = template_file_name(b), f"{Path(template_file_name(b)).stem}_correction.xlsx"

    assert row.status == "complete" and row.source.name == correction
    assert codes(row) == ["duplicate_corrected"]
    note = row.problems[0]
    assert (note.severity, note.file, note.params["other"]) == ("info", original, correction)
    assert original in note.message_th and correction in note.message_th
    assert row.superseded == {original: correction}


def test_a_form_sent_again_supersedes_the_earlier_one(loop):
    c = loop.areas[2]
    row = district(loop.after, c)
    first = template_file_name(c)

    assert row.status == "complete" and row.source.name != first and row.source.name.endswith(" (2).xlsx")
    assert codes(row) == ["duplicate_superseded"]
    assert row.problems[0].file == first and row.problems[0].params["other"] == row.source.name
    assert "20/9/2565 10:00" in row.problems[0].message_th and "26/9/2565 15:00" in row.problems[0].message_th


def test_the_round_converges_with_no_conflict_and_no_email_to_send(loop):
    assert all_complete(district_status(loop.after))
    assert loop.after.error_count == 0
    assert not any(p.code == "duplicate_conflict" for p in loop.after.problems)
    assert loop.second_feedback == []


def test_status_names_the_file_used_and_the_one_it_superseded(loop):
    a, b, c, d = loop.areas
    rows = {r.area.district_code: r for r in district_status(loop.after)}

    assert (rows[a.district_code].used, rows[a.district_code].superseded) == (template_file_name(a), ())
    assert rows[b.district_code].used == f"{Path(template_file_name(b)).stem}_correction.xlsx"
    assert rows[b.district_code].superseded == (template_file_name(b),)
    assert rows[c.district_code].superseded == (template_file_name(c),)
    assert rows[b.district_code].saved_at == FIXED_SAVED


def test_the_status_command_agrees_and_exits_0_with_strict(loop):
    out = loop.root / "status-out"

    run = CliRunner().invoke(main, ["status", str(loop.input_dir), "--out", str(out), "--strict"])

    assert run.exit_code == 0, run.output
    b = loop.areas[1]
    line = next(x for x in run.output.splitlines() if x.startswith(b.district_code))
    assert "ครบถ้วน" in line and "_correction.xlsx (แทน 1 ไฟล์ / supersedes 1)" in line
    csv_text = (out / "status.csv").read_text("utf-8-sig")
    assert f"{Path(template_file_name(b)).stem}_correction.xlsx,{template_file_name(b)}" in csv_text


def test_the_sources_sheet_marks_the_superseded_files(loop):
    b = loop.areas[1]
    ws = openpyxl.load_workbook(next(p for p in loop.outputs if p.suffix == ".xlsx"))[SOURCES_SHEET]
    superseded_by = {row[0]: row[6] for row in ws.iter_rows(min_row=5, values_only=True) if row[0]}

    correction = f"{Path(template_file_name(b)).stem}_correction.xlsx"
    assert superseded_by[template_file_name(b)] == correction
    assert not superseded_by[correction]
    assert sum(1 for by in superseded_by.values() if by) == 2


def test_with_prefer_error_two_different_files_of_a_district_conflict(loop, kpi_set):
    result = run_round(loop.input_dir, kpi_set, prefer="error")
    a, b, c, d = loop.areas

    assert [district(result, x).status for x in loop.areas] == [
        "complete", "needs_correction", "needs_correction", "complete"]
    assert codes(district(result, b)) == ["duplicate_conflict"]
    assert district(result, b).superseded == {}


def _district_folder(loop, name: str) -> Path:
    folder = loop.root / name
    folder.mkdir()
    return folder


def test_a_correction_supersedes_its_original_even_when_its_clock_says_earlier(loop, kpi_set):
    b = loop.areas[1]
    folder = _district_folder(loop, "wrong-clock")
    original = loop.input_dir / template_file_name(b)
    (folder / original.name).write_bytes(original.read_bytes())
    correction = loop.root / "feedback-1" / f"{Path(template_file_name(b)).stem}_correction.xlsx"
    district_saves(correction, FIXES, folder / correction.name, FIRST_SAVED - dt.timedelta(days=30))

    row = district(run_round(folder, kpi_set), b)

    assert row.status == "complete" and row.source.name == correction.name
    assert codes(row) == ["duplicate_corrected"]


def test_files_saved_at_the_same_time_are_ordered_by_the_mail_dates_collect_logged(loop, kpi_set):
    d = loop.areas[3]
    template = loop.templates[d.district_code]
    sent = loop.root / "same-time"
    first = district_saves(template, WORKED_EXAMPLE, sent / "first.xlsx", FIRST_SAVED)
    second = district_saves(template, {"t2_projects_achieved": 20}, sent / "second.xlsx", FIRST_SAVED)
    folder = _district_folder(loop, "same-time-input")
    collect([mail(sent / "later", d, first, FIRST_SAVED + 2 * MAIL_DELAY),
             mail(sent / "earlier", d, second, FIRST_SAVED + MAIL_DELAY)], folder)

    row = district(run_round(folder, kpi_set), d)

    assert row.source.name == "first.xlsx" and codes(row) == ["duplicate_mailed_later"]
    assert row.problems[0].file == "second.xlsx" and "20/9/2565 12:00" in row.problems[0].message_th


def test_two_different_files_with_no_order_conflict(loop, kpi_set):
    d = loop.areas[3]
    template = loop.templates[d.district_code]
    folder = _district_folder(loop, "no-order")  # copied by hand: no collection log, no mail dates
    district_saves(template, WORKED_EXAMPLE, folder / "first.xlsx", FIRST_SAVED)
    district_saves(template, {"t2_projects_achieved": 20}, folder / "second.xlsx", FIRST_SAVED)
    district_saves(template, WORKED_EXAMPLE, folder / "copy.xlsx", FIRST_SAVED)

    row = district(run_round(folder, kpi_set), d)

    assert row.status == "needs_correction" and row.source is None
    assert sorted(codes(row)) == ["duplicate_conflict", "duplicate_identical"]
    conflict = next(p for p in row.problems if p.code == "duplicate_conflict")
    assert {conflict.file, conflict.params["other"]} >= {"second.xlsx"} and conflict.severity == "error"


def test_the_lineage_is_optional_metadata(loop, kpi_set):
    b = loop.areas[1]
    plain = TemplateMetadata.from_rows(
        openpyxl.load_workbook(loop.templates[b.district_code])["_meta"].iter_rows(values_only=True))
    assert plain is not None and plain.corrects is None

    lineage = Lineage("ab" * 32, FIRST_SAVED.isoformat())
    with_lineage = TemplateMetadata.from_rows([*plain.rows(), *lineage.rows()])
    assert with_lineage.corrects == lineage
    assert TemplateMetadata.from_rows(with_lineage.rows()) == with_lineage
