"""Submission status: who has sent, who is late, who must correct (issue 7)."""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path

import pytest

from cdd_scorer.demo import WORKED_EXAMPLE
from cdd_scorer.filling import fill_template
from cdd_scorer.geography import districts_of, find_province
from cdd_scorer.round import run_round
from cdd_scorer.status import (
    STATUS_COLUMNS,
    all_complete,
    district_status,
    render_status,
    write_status_csv,
)
from cdd_scorer.template import template_file_name, write_templates
from cdd_scorer.thai import display_width

PROVINCE = "26"  # นครนายก (Nakhon Nayok), 4 districts
DEADLINE = dt.date(2022, 9, 30)
UTC = dt.UTC
ON_TIME = dt.datetime(2022, 9, 30, 16, 59, tzinfo=UTC)  # 23:59 on 30 Sep in Thailand
LATE = dt.datetime(2022, 9, 30, 17, 30, tzinfo=UTC)  # 00:30 on 1 Oct in Thailand


def set_saved_time(path: Path, when: dt.datetime) -> None:
    """Stamp the workbook's own saved time (docProps/core.xml), as Excel does on save, and give
    the file the same modification time (what collect does with the e-mail's date)."""
    with zipfile.ZipFile(path) as src:
        members = {i: src.read(i) for i in src.infolist()}
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in members.items():
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            out.writestr(info, data)
    os.utime(path, (when.timestamp(), when.timestamp()))


@pytest.fixture(scope="module")
def areas():
    return districts_of(find_province(PROVINCE))


@pytest.fixture(scope="module")
def round_folder(tmp_path_factory, kpi_set, areas) -> Path:
    """District 1 on time, 2 with errors, 3 late, 4 silent."""
    templates = write_templates(kpi_set, areas, tmp_path_factory.mktemp("templates"))
    folder = tmp_path_factory.mktemp("input")
    wrong = {**WORKED_EXAMPLE, "t1_budget_disbursed": 2_600_000, "i7_activities_done": "nine"}
    for template, answers, when in zip(templates[:3], (WORKED_EXAMPLE, wrong, WORKED_EXAMPLE),
                                       (ON_TIME, ON_TIME, LATE)):
        filled = fill_template(template, answers, folder / template.name)
        set_saved_time(filled, when)
    return folder


@pytest.fixture(scope="module")
def result(round_folder, kpi_set):
    return run_round(round_folder, kpi_set)


def test_each_district_gets_one_row_with_received_missing_and_correction(result, areas):
    rows = district_status(result, DEADLINE)

    assert [r.area.district_code for r in rows] == [a.district_code for a in areas]
    assert [r.status for r in rows] == ["complete", "needs_correction", "complete", "missing"]
    assert [r.received for r in rows] == [True, True, True, False]
    assert rows[0].files == (template_file_name(areas[0]),)
    assert rows[3].files == () and rows[3].saved_at is None


def test_error_and_warning_counts_are_those_of_the_districts_problems(result):
    rows = district_status(result)

    for row in rows:
        mine = [p for p in result.problems if p.district_code == row.area.district_code]
        assert row.errors == sum(1 for p in mine if p.severity == "error")
        assert row.warnings == sum(1 for p in mine if p.severity == "warning")
    assert rows[1].errors >= 2  # disbursed > allocated, and "nine" is not a number


def test_late_means_saved_after_the_deadline_day_in_thai_time(result):
    rows = district_status(result, DEADLINE)

    assert [r.late for r in rows] == [False, False, True, False]
    assert rows[2].saved_at == LATE
    assert not any(r.late for r in district_status(result, None))


@pytest.fixture()
def sent_twice(round_folder, areas, tmp_path) -> tuple[Path, str]:
    """District 1's file saved on time, and a different one (resent.xlsx) saved late."""
    folder = tmp_path / "input"
    folder.mkdir()
    first = round_folder / template_file_name(areas[0])
    (folder / first.name).write_bytes(first.read_bytes())
    set_saved_time(folder / first.name, ON_TIME)
    changed = fill_template(first, {"t2_projects_achieved": 20}, folder / "resent.xlsx")
    set_saved_time(changed, LATE)
    return folder, first.name


def test_the_later_of_two_files_counts_and_the_row_names_the_one_it_supersedes(sent_twice, kpi_set, tmp_path):
    folder, first = sent_twice

    row = district_status(run_round(folder, kpi_set), DEADLINE)[0]

    assert row.status == "complete" and row.errors == 0
    assert (row.used, row.superseded) == ("resent.xlsx", (first,))
    assert set(row.files) == {first, "resent.xlsx"}
    assert row.saved_at == LATE and row.late
    csv_row = write_status_csv([row], tmp_path / "status.csv").read_text("utf-8-sig").splitlines()[1]
    assert csv_row.endswith(f",resent.xlsx,{first}")
    assert "resent.xlsx (แทน 1 ไฟล์ / supersedes 1)" in render_status([row])


def test_with_prefer_error_two_different_files_conflict_and_the_row_shows_the_newest_time(sent_twice, kpi_set):
    folder, first = sent_twice

    row = district_status(run_round(folder, kpi_set, prefer="error"), DEADLINE)[0]

    assert row.status == "needs_correction" and row.errors == 1
    assert (row.used, row.superseded) == ("", ())
    assert set(row.files) == {first, "resent.xlsx"}
    assert row.saved_at == LATE and row.late


def test_status_csv_has_a_bom_and_one_row_per_district(result, tmp_path):
    rows = district_status(result, DEADLINE)

    path = write_status_csv(rows, tmp_path / "status.csv")

    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == STATUS_COLUMNS
    assert len(lines) == 1 + len(rows)
    assert "ยังไม่ส่ง" in lines[-1] and "missing" in lines[-1]
    assert "2022-10-01T00:30:00+07:00" in lines[3]


def test_terminal_table_is_aligned_for_thai_names_and_ends_with_totals(result):
    rows = district_status(result, DEADLINE)

    text = render_status(rows, DEADLINE)

    lines = text.splitlines()
    table = lines[1:-1]
    for row, line in zip(rows, table[1:]):
        assert line.startswith(row.area.district_code) and row.area.district_name_th in line
    status_columns = {display_width(line[:line.index(marker)]) for line, marker in
                      zip(table, ["สถานะ", "ครบถ้วน", "ต้องแก้ไข", "ครบถ้วน", "ยังไม่ส่ง"])}
    assert len(status_columns) == 1
    assert "30/9/2565" in lines[0]
    assert "ส่งช้า / late" in table[3] and "1/10/2565 00:30" in table[3]
    assert lines[-1].startswith("รวม 4 อำเภอ") and "complete 2, needs correction 1, missing 1, late 1" in lines[-1]


def test_display_width_gives_thai_marks_no_column():
    assert display_width("เมือง") == 4  # เ ม อ ง; the vowel mark ื takes no column
    assert display_width("ขอนแก่น") == 6


def test_all_complete_only_when_nothing_is_missing_or_wrong(result):
    rows = district_status(result)
    assert not all_complete(rows)
    assert all_complete([r for r in rows if r.status == "complete"])
