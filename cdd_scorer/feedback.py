"""Correction workbooks: for each district that must fix something, its own workbook with the
problem cells marked and explained, a first sheet listing every problem, and an e-mail text.

The copy is rebuilt from a fresh template (``template.write_template``) and filled with the values
the district typed, read again from its file: re-saving the district's own file with openpyxl
could lose validations that Excel wrote, while the fresh template brings back the validation,
protection and metadata of the round. The district's original is only read, never written. The
copy's hidden metadata names the file it was made from (its lineage), so that when the district sends
the corrected copy back it supersedes that file instead of conflicting with it (``round._choose``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from cdd_scorer.cell_refs import cell_index
from cdd_scorer.kpi import KpiSet
from cdd_scorer.metadata import META_SHEET, Lineage
from cdd_scorer.output_files import atomic_output
from cdd_scorer.problems import Problem
from cdd_scorer.reading import RawSubmission, SourceFile
from cdd_scorer.results import DistrictResult, RoundResult
from cdd_scorer.template import TemplateOptions, template_file_name, write_template
from cdd_scorer.thai import be_time, display_width

FEEDBACK_SHEET = "รายการที่ต้องแก้ไข"
COMMENT_AUTHOR = "cdd-scorer"
FILLS = {"error": PatternFill("solid", fgColor="FFC7CE"), "warning": PatternFill("solid", fgColor="FFEB9C")}
COLUMN_WIDTHS = (7, 13, 9, 30, 45, 40, 14, 40)
LINE_HEIGHT = 21.0  # points per line of 14 pt Thai text
EMAIL_ENCODING = "utf-8-sig"  # a BOM so that older Windows Notepad shows Thai


@dataclass(frozen=True)
class Correction:
    """One problem as the district reads it: where, what is wrong, what to do."""

    problem: Problem
    cell: str  # address in the correction workbook's entry sheet; empty for file-level problems
    sheet: str

    @property
    def action_th(self) -> str:
        return self.problem.district_action_th

    @property
    def action_en(self) -> str:
        return self.problem.district_action_en


def feedback_problems(d: DistrictResult, include_warnings: bool = False) -> list[Problem]:
    """The problems a district must hear about: errors first, then (optionally) warnings; each in the
    order the officer meets them on the sheet (whole-file problems first, then row by row)."""
    wanted = ("error", "warning") if include_warnings else ("error",)

    def reading_order(p: Problem) -> tuple:
        row, column = cell_index(p.cell) if p.cell else (-1, -1)
        return wanted.index(p.severity), p.sheet, row, column

    return sorted((p for p in d.problems if p.severity in wanted), key=reading_order)


def write_feedback(result: RoundResult, kpi_set: KpiSet, out_dir: Path, include_warnings: bool = False
                   ) -> list[Path]:
    """For every district with errors (and, with ``include_warnings``, warnings) write into
    ``out_dir`` a correction workbook and an e-mail text; return their paths.

    Districts without such problems get nothing. Raises ``OutputError`` when a file cannot be written.
    """
    written: list[Path] = []
    for d in result.districts:
        problems = feedback_problems(d, include_warnings)
        if problems:
            written.extend(_district_feedback(result, kpi_set, d, problems, out_dir))
    return written


def _district_feedback(result: RoundResult, kpi_set: KpiSet, d: DistrictResult, problems: list[Problem],
                       out_dir: Path) -> list[Path]:
    stem = Path(template_file_name(d.area)).stem
    workbook_path = out_dir / f"{stem}_correction.xlsx"
    email_path = out_dir / f"{stem}_email.txt"
    submission = district_submission(result, kpi_set, d)
    with tempfile.TemporaryDirectory(prefix="cdd-feedback-") as tmp:
        template = Path(tmp) / "template.xlsx"
        write_template(kpi_set, d.area, template)
        wb = openpyxl.load_workbook(template, rich_text=True)  # keeps the small grey English of each label
    corrections = [_locate(wb, p) for p in problems]
    if submission is not None:
        _write_values(wb, submission)
        _record_lineage(wb, submission.source)
    for cell_problems in _by_cell(corrections):
        _mark(wb, cell_problems)
    font = TemplateOptions().font
    _problem_sheet(wb, kpi_set, d, submission, corrections, font)
    _lock_structure(wb)
    with atomic_output(workbook_path) as tmp:
        wb.save(tmp)
    text = email_text(kpi_set, d, submission, corrections, workbook_path.name)
    with atomic_output(email_path) as tmp:
        tmp.write_text(text, encoding=EMAIL_ENCODING, newline="\r\n")
    return [workbook_path, email_path]


def district_submission(result: RoundResult, kpi_set: KpiSet, d: DistrictResult) -> RawSubmission | None:
    """What the district typed, as the round read it: the file that was scored, else the newest of
    the files it sent that is a template of this round; None when there is none."""
    by_name = {s.name: s for s in result.sources}
    if d.source is not None:
        candidates = [d.source]
    else:
        sent = [by_name[name] for name in d.files if name in by_name]
        candidates = sorted(sent, key=lambda s: (s.saved_at is not None, s.saved_at and s.saved_at.timestamp()),
                            reverse=True)
    for source in candidates:
        raw = result.submissions.get(source.name)
        if isinstance(raw, RawSubmission) and raw.metadata.kpi_set_id == kpi_set.id:
            return raw
    return None


def _locate(wb: Workbook, problem: Problem) -> Correction:
    """The problem's cell in the correction workbook, found by the field's defined name."""
    name = wb.defined_names.get(problem.field) if problem.cell and problem.field else None
    if name is None:
        return Correction(problem, "", "")
    sheet, cell = next(iter(name.destinations))
    return Correction(problem, cell.replace("$", ""), sheet)


def _write_values(wb: Workbook, submission: RawSubmission) -> None:
    for field_id, raw in submission.cells.items():
        name = wb.defined_names.get(field_id)
        if name is None or raw.value is None:
            continue
        sheet, cell = next(iter(name.destinations))
        _set_value(wb[sheet][cell.replace("$", "")], raw.value)


def _record_lineage(wb: Workbook, source: SourceFile) -> None:
    """Name the submission the copy was made from in its hidden metadata sheet."""
    lineage = Lineage(source.sha256, source.saved_at.isoformat() if source.saved_at else "")
    for row in lineage.rows():
        wb[META_SHEET].append(row)


def _set_value(cell: Any, value: Any) -> None:
    """Write a value as the officer typed it; text stays text even when it starts with '='."""
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value


def _by_cell(corrections: Iterable[Correction]) -> list[list[Correction]]:
    groups: dict[tuple[str, str], list[Correction]] = {}
    for c in corrections:
        if c.cell:
            groups.setdefault((c.sheet, c.cell), []).append(c)
    return list(groups.values())


def _mark(wb: Workbook, corrections: list[Correction]) -> None:
    """Highlight a cell (red for an error, yellow for a warning) and explain it in a comment."""
    cell = wb[corrections[0].sheet][corrections[0].cell]
    severities = {c.problem.severity for c in corrections}
    cell.fill = FILLS["error" if "error" in severities else "warning"]
    text = "\n\n".join(f"{c.problem.message_th}\nสิ่งที่ต้องทำ: {c.action_th}\n({c.problem.message_en})"
                       for c in corrections)
    cell.comment = Comment(text, COMMENT_AUTHOR, height=40 + 70 * len(corrections), width=320)


def _problem_sheet(wb: Workbook, kpi_set: KpiSet, d: DistrictResult, submission: RawSubmission | None,
                   corrections: list[Correction], font_name: str) -> Worksheet:
    """The first sheet: every problem with its cell (a link), what is wrong and what to do."""
    entry_sheet = _entry_sheet(wb, kpi_set)
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    base, bold = Font(name=font_name, size=14), Font(name=font_name, size=14, bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    area = d.area
    source = submission.source if submission else None
    intro = [
        (f"รายการที่ต้องแก้ไข อำเภอ{area.district_name_th} จังหวัด{area.province_name_th} / "
         f"corrections for {area.district_name_en}, {area.province_name_en}"),
        (f"ไฟล์ที่ได้รับ / file received: {source.name} (บันทึกเมื่อ / saved {be_time(source.saved_at)})"
         if source else "ไม่มีข้อมูลจากไฟล์ที่ส่งมา: กรุณากรอกแบบฟอร์มนี้ / "
                        "nothing could be taken from the file sent: please fill in this form"),
        (f"แก้ไขช่องสีแดงในแผ่นงาน \"{entry_sheet}\" (ชี้ที่ช่องเพื่ออ่านคำอธิบาย) แล้วส่งไฟล์นี้กลับ / "
         f"correct the red cells on sheet \"{entry_sheet}\" (point at a cell to read its note), "
         f"then send this file back"),
    ]
    for row, text in enumerate(intro, start=1):
        ws.cell(row, 1, text).font = Font(name=font_name, size=16, bold=True) if row == 1 else base
        ws.row_dimensions[row].height = LINE_HEIGHT + (4 if row == 1 else 0)
    headers = ["ลำดับ / no.", "ระดับ / severity", "ช่อง / cell", "รายการ / item", "ปัญหา / problem",
               "สิ่งที่ต้องทำ / what to do", "ค่าที่พบ / value found", "English"]
    first = len(intro) + 2
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(first, col, header)
        cell.font, cell.alignment = bold, wrap
    for number, c in enumerate(corrections, start=1):
        p = c.problem
        row = first + number
        values = [number, p.severity.to_district_th, c.cell, p.params.get("label", p.field), p.message_th,
                  c.action_th, p.value, f"{p.message_en} — {c.action_en}"]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row, col)
            _set_value(cell, value)
            cell.font, cell.alignment = base, wrap
        if c.cell:
            link = ws.cell(row, 3)
            link.hyperlink = f"#'{c.sheet}'!{c.cell}"
            link.font = Font(name=font_name, size=14, color="0563C1", underline="single")
        ws.cell(row, 2).fill = FILLS[p.severity]
    for col, width in zip("ABCDEFGH", COLUMN_WIDTHS):
        ws.column_dimensions[col].width = width
    for row in range(first, first + len(corrections) + 1):
        ws.row_dimensions[row].height = _wrapped_height([ws.cell(row, col).value for col in range(1, 9)])
    ws.freeze_panes = ws.cell(first + 1, 1)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    wb.active = 0
    ws.sheet_view.tabSelected = True
    return ws


def _entry_sheet(wb: Workbook, kpi_set: KpiSet) -> str:
    """The sheet holding the input cells, found by the first field's defined name."""
    name = wb.defined_names.get(kpi_set.fields[0].id)
    return next(iter(name.destinations))[0] if name else wb.worksheets[0].title


def _wrapped_height(values: list[Any]) -> float:
    """Row height (points) for wrapped text, since spreadsheet programs do not always fit it on load."""
    lines = max(-(-display_width(str(v or "")) // max(1, int(w * 0.8))) for v, w in zip(values, COLUMN_WIDTHS))
    return LINE_HEIGHT * max(1, lines)


def _lock_structure(wb: Workbook) -> None:
    """Keep the template's workbook protection, and always lock the structure (SPEC §6)."""
    if wb.security is None:
        wb.security = WorkbookProtection()
    wb.security.lockStructure = True


def email_text(kpi_set: KpiSet, d: DistrictResult, submission: RawSubmission | None,
               corrections: list[Correction], attachment: str) -> str:
    """A short Thai e-mail (with an English line) to paste into the reply to the district."""
    area = d.area
    errors = [c for c in corrections if c.problem.severity == "error"]
    warnings = [c for c in corrections if c.problem.severity == "warning"]
    sent = f" ({submission.source.name})" if submission else ""
    lines = [f"เรื่อง ขอให้แก้ไขแบบรายงานตัวชี้วัด {kpi_set.round_th}",
             f"เรียน พัฒนาการอำเภอ{area.district_name_th}", "",
             f"ตามที่อำเภอ{area.district_name_th}ได้ส่งแบบรายงานผลการดำเนินงานตามตัวชี้วัด{sent} "
             f"มายังสำนักงานพัฒนาชุมชนจังหวัด{area.province_name_th} นั้น จังหวัดได้ตรวจสอบแล้ว"]
    if errors:
        lines += [f"พบรายการที่ต้องแก้ไข {len(errors)} รายการ ดังนี้", *_numbered(errors)]
    if warnings:
        lines += ["", f"รายการที่ควรตรวจสอบ (ไม่บังคับแก้ไข) {len(warnings)} รายการ", *_numbered(warnings)]
    kept = "ซึ่งมีข้อมูลที่อำเภอกรอกไว้แล้ว " if submission else ""
    lines += ["", f"จึงขอให้อำเภอแก้ไขในไฟล์แนบ \"{attachment}\" {kept}"
                  "(ช่องที่ต้องแก้ไขเป็นสีแดงและมีคำอธิบายกำกับ รายการทั้งหมดอยู่ในแผ่นงานแรก) "
                  "แล้วส่งกลับมายังจังหวัดโดยเร็ว",
              "จึงเรียนมาเพื่อโปรดดำเนินการ", "",
              f"สำนักงานพัฒนาชุมชนจังหวัด{area.province_name_th}", "",
              f"(English) {area.district_name_en}: please correct the {len(errors)} item(s) marked in red in "
              f"the attached {attachment} and send it back."]
    return "\n".join(lines) + "\n"


def _numbered(corrections: list[Correction]) -> list[str]:
    lines = []
    for number, c in enumerate(corrections, start=1):
        where = f" (ช่อง {c.cell})" if c.cell else ""
        lines += [f"{number}. {c.problem.message_th}{where}", f"   สิ่งที่ต้องทำ: {c.action_th}"]
    return lines
