"""The district entry workbook, written with xlsxwriter.

One workbook per district, for an officer with no training who opens it from an e-mail:

- ``คำชี้แจง``: what to fill, units, the deadline, how to send it back and whom to call;
- ``กรอกข้อมูล``: grouped by scorecard and KPI, the card's title and five level texts beside
  yellow input cells, each guarded by data validation with Thai messages; a live preview of
  results, levels, points and scores (formulas from ``excel_formulas``), the level reached
  highlighted, and a check list of what is still missing;
- ``_meta`` (very hidden): the template's identity and the address of every input (``metadata``).

Every sheet and the workbook structure are protected; only the yellow cells are unlocked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from pythainlp.util import arabic_digit_to_thai_digit, thai_strftime

from cdd_scorer import __version__, parallel, xlsx
from cdd_scorer import entry_formulas as ef
from cdd_scorer import excel_formulas as xf
from cdd_scorer.geography import Area
from cdd_scorer.kpi import Field, Kpi, KpiSet
from cdd_scorer.metadata import META_SHEET, TemplateMetadata, join_address
from cdd_scorer.output_files import atomic_output, ensure_folder
from cdd_scorer.parsing import BE_OFFSET, be_date

ENTRY_SHEET = "กรอกข้อมูล"
INSTRUCTIONS_SHEET = "คำชี้แจง"
COMPANY_TH = "กรมการพัฒนาชุมชน"
DATE_FORMAT_BE = "[$-D07041E]d mmm yyyy"  # ๓๑ ส.ค. ๒๕๖๕ (Thai Buddhist calendar, Thai digits)
DATE_FORMAT_BE_TYPED = "[$-41E]d mmm yyyy"  # a BE year typed into an AD calendar: 31 ส.ค. 2565
MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"

# Entry sheet columns (zero-based): A holds each input's field id (the reading contract); the hidden
# helper columns hold each input's reading and problem (``entry_formulas``).
ID_COL, LABEL_COL, VALUE_COL, HINT_COL, LEVEL_COL, HELPER_COL, PROBLEM_COL = range(7)
COLUMN_WIDTHS = {ID_COL: 4, LABEL_COL: 46, VALUE_COL: 20, HINT_COL: 22, LEVEL_COL: 62, HELPER_COL: 10,
                 PROBLEM_COL: 10}
HIDDEN_COLUMNS = (ID_COL, HELPER_COL, PROBLEM_COL)
STATUS_ROW = 2  # the frozen header's live banner; its hidden problem cell is ``preview_ready``
READY_REF = xlsx.absolute_ref(STATUS_ROW, PROBLEM_COL)
INSTRUCTIONS_WIDTH = 110
HEADER_ROWS = 4
PAGES_TALL = 50
FONT_SIZE = 14
SMALL_SIZE = 12

# Fewer districts are written sooner, and with less CPU, in this process than by starting workers (about
# 0.5 s of CPU each): a province (32 districts at most) stays in one process, a national run uses every core.
PARALLEL_FROM = 40
FILES_PER_TASK = 20  # workbooks a worker writes per task: small enough for an even load and a live progress bar

YELLOW, GREEN, BLUE, DARK_BLUE, GREY = "#FFF2CC", "#E2EFDA", "#DDEBF7", "#BDD7EE", "#595959"


@dataclass(frozen=True)
class TemplateOptions:
    """How the workbooks look and whom the officer contacts (all optional)."""

    font: str = "TH Sarabun New"
    password: str = ""
    generated_at: dt.datetime | None = None
    clerk_name: str = ""
    clerk_phone: str = ""
    clerk_email: str = ""
    deadline: dt.date | None = None


def template_file_name(area: Area) -> str:
    """ASCII-safe file name: ``<district code>_<English name>.xlsx``."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", area.district_name_en).strip("_")
    return f"{area.district_code}_{name or 'district'}.xlsx"


def template_id(kpi_set: KpiSet, area: Area) -> str:
    digest = hashlib.sha256(f"{kpi_set.id}|{kpi_set.fingerprint}|{area.district_code}".encode())
    return f"{kpi_set.id}-{area.district_code}-{digest.hexdigest()[:8]}"


def write_templates(kpi_set: KpiSet, areas: Iterable[Area], out_dir: Path,
                    options: TemplateOptions = TemplateOptions(), jobs: int | None = None,
                    progress: Callable[[int], None] | None = None) -> list[Path]:
    """Write one entry workbook per district into ``out_dir``; return their paths, in the order of ``areas``.

    ``jobs``: worker processes; by default one per core from ``PARALLEL_FROM`` districts on, below that
    this process (starting workers would cost more than they save); 0 or 1: always this process.
    ``progress`` is told how many files were just written. Every workbook of a run has the same time stamp.
    """
    ensure_folder(out_dir)
    options = replace(options, generated_at=options.generated_at or dt.datetime.now().replace(microsecond=0))
    targets = [(area, out_dir / template_file_name(area)) for area in areas]
    automatic = jobs is None and len(targets) >= PARALLEL_FROM
    workers = parallel.worker_count(None if automatic else max(jobs or 1, 1), len(targets))
    pieces = parallel.split(targets, max(workers, math.ceil(len(targets) / FILES_PER_TASK)))
    tasks = [(kpi_set, options, piece) for piece in pieces]
    results = (map(_write_piece, tasks) if workers == 1
               else parallel.map_in_processes(_write_piece, tasks, workers))
    paths: list[Path] = []
    for written in results:
        paths.extend(written)
        if progress:
            progress(len(written))
    return paths


def _write_piece(task: tuple[KpiSet, TemplateOptions, Sequence[tuple[Area, Path]]]) -> list[Path]:
    kpi_set, options, targets = task
    return [write_template(kpi_set, area, path, options) for area, path in targets]


def write_template(kpi_set: KpiSet, area: Area, path: Path,
                   options: TemplateOptions = TemplateOptions()) -> Path:
    """Write one district's entry workbook to ``path`` (atomically)."""
    with atomic_output(path) as tmp:
        _TemplateWriter(kpi_set, area, options).write(tmp)
    return path


def thai_digits(value: object) -> str:
    return arabic_digit_to_thai_digit(str(value))


def thai_date(day: dt.date) -> str:
    """๑๕ ตุลาคม ๒๕๖๕."""
    return thai_strftime(dt.datetime.combine(day, dt.time()), "%-d %B %Y", thaidigit=True)


def password_hash(password: str) -> str:
    """The legacy Office protection hash (ECMA-376 Part 4, §18.2.29), as Excel and LibreOffice read it."""
    digest = 0
    for char in reversed(password):
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    return f"{digest ^ len(password) ^ 0xCE4B:X}"


class _Workbook(xlsx.Workbook):
    """A workbook whose structure is locked (no sheet added, deleted, renamed or unhidden).

    XlsxWriter has no API for it, so the ``workbookProtection`` element is written after ``workbookPr``
    (its place in ECMA-376), which saves unzipping and rezipping every file. Should a new XlsxWriter
    rename ``_write_workbook_pr``, the protection tests fail.
    """

    def __init__(self, filename: str, options: dict, structure_password: str = ""):
        super().__init__(filename, options)
        self.structure_password = structure_password

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        attributes = [("lockStructure", 1)]
        if self.structure_password:
            attributes.append(("workbookPassword", password_hash(self.structure_password)))
        self._xml_empty_tag("workbookProtection", attributes)


@lru_cache(maxsize=8192)
def estimated_lines(text: str, width: float, size: float = FONT_SIZE) -> int:
    """How many lines wrapped text takes in a column of ``width`` characters (Thai marks take no room)."""
    per_line = max(1.0, width * 12 / size)
    return sum(max(1, math.ceil(sum(1 for ch in part if unicodedata.category(ch) != "Mn") / per_line))
               for part in text.split("\n"))


def bilingual_height(thai: str, english: str, width: float, size: float = FONT_SIZE) -> float:
    """Points for a wrapped cell with Thai on top and smaller English below."""
    below = lines_height(english, width, SMALL_SIZE) - 4 if english else 0
    return lines_height(thai, width, size) + below


def lines_height(text: str, width: float, size: float) -> float:
    """Thai fonts need about 1.7 times their size per line (tall vowels and tone marks)."""
    return estimated_lines(text, width, size) * size * 1.7 + 4


class _TemplateWriter:
    def __init__(self, kpi_set: KpiSet, area: Area, options: TemplateOptions):
        self.kpi_set = kpi_set
        self.area = area
        self.options = options
        self.inputs: dict[str, str] = {}  # field id → $C$7 on the entry sheet
        self.scoring_refs: dict[str, str] = {}  # field id → its reading, the cell the preview reads
        self.problem_refs: dict[str, str] = {}  # field id → the hidden cell naming what is wrong in it
        self.required: list[str] = []  # readings of the required inputs the check lists watch
        self.required_by_batch: list[str] = []  # of those, the ones `score` calls an error when empty
        self.to_validate: list[tuple[int, Field]] = []  # after every input has its cell (part ≤ whole)
        self.heights: dict[int, float] = {}

    def write(self, path: Path) -> None:
        generated = self.options.generated_at or dt.datetime.now().replace(microsecond=0)
        ks, area = self.kpi_set, self.area
        ident = template_id(ks, area)
        # in_memory: the XML parts go straight into the zip, not through a dozen temporary files per workbook.
        wb = _Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False, "in_memory": True},
                       self.options.password)
        wb.set_properties({
            "title": f"{ks.title_th} — อำเภอ{area.district_name_th} จังหวัด{area.province_name_th}",
            "subject": f"{ks.round_th} / {ks.round_en}",
            "author": "cdd-scorer",
            "company": COMPANY_TH,
            "category": ks.id,
            "keywords": f"{ident}, {ks.id}, {area.district_code}",
            "comments": f"{ks.title_en}, {area.district_name_en}, {area.province_name_en}",
            "created": generated,
        })
        self.wb = wb
        self.f = self._formats()
        instructions = wb.add_worksheet(INSTRUCTIONS_SHEET)
        entry = wb.add_worksheet(ENTRY_SHEET)
        self._entry_sheet(entry)
        self._instructions_sheet(instructions)
        self._meta_sheet(wb.add_worksheet(META_SHEET), ident, generated)
        instructions.activate()
        wb.close()

    # ------------------------------------------------------------------ formats

    def _formats(self) -> dict[str, object]:
        wb = self.wb
        base = {"font_name": self.options.font, "font_size": FONT_SIZE, "valign": "top", "text_wrap": True}
        boxed = {**base, "border": 1, "border_color": "#A6A6A6"}
        unlocked = {**boxed, "locked": False, "bg_color": YELLOW, "valign": "vcenter"}
        preview = {**boxed, "bold": True, "bg_color": GREEN, "valign": "vcenter"}
        return {
            "text": wb.add_format(base),
            "label": wb.add_format(boxed),
            "small": wb.add_format({**base, "font_size": SMALL_SIZE, "font_color": GREY}),
            "english": wb.add_format({"font_name": self.options.font, "font_size": SMALL_SIZE,
                                      "font_color": GREY}),
            "bold_run": wb.add_format({"font_name": self.options.font, "font_size": FONT_SIZE, "bold": True}),
            "hint": wb.add_format({**boxed, "font_size": SMALL_SIZE, "font_color": GREY}),
            "title": wb.add_format({**base, "bold": True, "font_size": 20, "valign": "vcenter"}),
            "subtitle": wb.add_format({**base, "font_size": 16}),
            "status": wb.add_format({**base, "bold": True, "font_color": "#9C5700", "bg_color": "#FFEB9C"}),
            "heading": wb.add_format({**boxed, "bold": True, "bg_color": DARK_BLUE, "valign": "vcenter"}),
            "card": wb.add_format({**base, "bold": True, "font_size": 18, "bg_color": DARK_BLUE,
                                   "valign": "vcenter"}),
            "kpi": wb.add_format({**boxed, "bg_color": BLUE}),
            "level": wb.add_format({**boxed, "font_size": SMALL_SIZE + 1}),
            "level_reached": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100", "bold": True}),
            "money": wb.add_format({**unlocked, "num_format": MONEY_FORMAT}),
            "count": wb.add_format({**unlocked, "num_format": COUNT_FORMAT}),
            "yesno": wb.add_format({**unlocked, "align": "center"}),
            "date": wb.add_format({**unlocked, "num_format": DATE_FORMAT_BE, "align": "left"}),
            "date_typed_be": wb.add_format({"num_format": DATE_FORMAT_BE_TYPED}),
            "text_input": wb.add_format({**unlocked, "valign": "top"}),
            "result": wb.add_format({**preview, "num_format": "0.00"}),
            "score": wb.add_format({**preview, "num_format": "0.0000"}),
            "whole": wb.add_format({**preview, "num_format": "0", "align": "center"}),
            "points": wb.add_format({**preview, "num_format": "0.##"}),
            "preview_text": wb.add_format({**preview, "bold": False, "valign": "top"}),
            "helper": wb.add_format({**base, "num_format": "0.00"}),
        }

    def _bilingual(self, ws, row: int, col: int, thai: str, english: str, cell_format, bold: bool = False,
                   width: float | None = None, size: float = FONT_SIZE) -> None:
        """Thai first, English second (smaller, grey) in one wrapped cell, its row tall enough for both."""
        self._grow(row, bilingual_height(thai, english, width or COLUMN_WIDTHS[col], size))
        first = [self.f["bold_run"], thai] if bold else [thai]
        if english:
            ws.write_rich_string(row, col, *first, self.f["english"], "\n" + english, cell_format)
        elif bold:
            ws.write_rich_string(row, col, *first, " ", cell_format)
        else:
            ws.write_string(row, col, thai, cell_format)

    def _merged(self, ws, row: int, first_col: int, last_col: int, thai: str, english: str, cell_format,
                bold: bool = False, width: float | None = None, size: float = FONT_SIZE) -> None:
        ws.merge_range(row, first_col, row, last_col, "", cell_format)
        width = width or sum(COLUMN_WIDTHS[c] for c in range(first_col, last_col + 1))
        self._bilingual(ws, row, first_col, thai, english, cell_format, bold, width, size)

    def _grow(self, row: int, height: float) -> None:
        """Remember the tallest text of a row; ``_set_heights`` applies it (no program fits wrapped rows)."""
        self.heights[row] = max(self.heights.get(row, 0.0), height)

    def _set_heights(self, ws) -> None:
        for row, height in self.heights.items():
            ws.set_row(row, height)
        self.heights = {}

    def _define(self, name: str, row: int, col: int) -> str:
        cell = xlsx.absolute_ref(row, col)
        self.wb.define_name(name, f"={join_address(ENTRY_SHEET, cell)}")
        return cell

    # ------------------------------------------------------------------ entry sheet

    def _entry_sheet(self, ws) -> None:
        ks, area, f = self.kpi_set, self.area, self.f
        for col, width in COLUMN_WIDTHS.items():
            ws.set_column(col, col, width, None, {"hidden": col in HIDDEN_COLUMNS})
        ws.hide_gridlines(2)
        merged_width = sum(COLUMN_WIDTHS[c] for c in (LABEL_COL, VALUE_COL, HINT_COL, LEVEL_COL))
        ws.merge_range(0, LABEL_COL, 0, LEVEL_COL, ks.title_th, f["title"])
        self._grow(0, lines_height(ks.title_th, merged_width, 20))
        place = (f"จังหวัด{area.province_name_th} อำเภอ{area.district_name_th} · {ks.round_th} · "
                 f"ปีงบประมาณ พ.ศ. {thai_digits(ks.fiscal_year_be)}")
        place_en = f"{area.district_name_en}, {area.province_name_en} · {ks.round_en}"
        self._merged(ws, 1, LABEL_COL, LEVEL_COL, place, place_en, f["subtitle"], bold=True, size=16)
        headings = [(LABEL_COL, "รายการ", "Item"), (VALUE_COL, "ข้อมูลที่กรอก", "Your entry"),
                    (HINT_COL, "วิธีกรอก", "How to fill"),
                    (LEVEL_COL, "เกณฑ์การให้คะแนน (ระดับ ๑–๕) ตามตัวชี้วัด", "Criteria of levels 1–5")]
        for col, thai, english in headings:
            self._bilingual(ws, 3, col, thai, english, f["heading"], bold=True)

        row = HEADER_ROWS + 1
        kpi_rows: dict[str, dict[str, str]] = {}
        for sc in ks.scorecards:
            weight = thai_digits(xf.number(ks.scorecard_weights[sc.id]))
            self._merged(ws, row, LABEL_COL, LEVEL_COL, f"{sc.name_th} (ร้อยละ {weight} ของคะแนนรวม)",
                         sc.name_en, f["card"], size=18)
            row += 2
            for kpi in sc.kpis:
                row, kpi_rows[kpi.id] = self._kpi_block(ws, row, kpi)
                row += 1
        row = self._reporter_block(ws, row)
        for input_row, fld in self.to_validate:
            self._validate(ws, input_row, fld)
            self._problem(ws, input_row, fld)
        self._status_line(ws, *self._summary(ws, row + 1, kpi_rows))
        self._set_heights(ws)

        ws.freeze_panes(HEADER_ROWS, 0)
        ws.set_landscape()
        ws.set_paper(9)
        # One page wide; the generous page count stands for "as tall as needed": LibreOffice 7.4 drops
        # the last rows of a sheet printed with fitToHeight="0".
        ws.fit_to_pages(1, PAGES_TALL)
        ws.center_horizontally()
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.repeat_rows(HEADER_ROWS - 1)  # the column headings; the page header names the district
        self._header_footer(ws)
        self._protect(ws)

    def _kpi_block(self, ws, row: int, kpi: Kpi) -> tuple[int, dict[str, str]]:
        """One KPI: title, inputs beside the five level texts, then result, level, points, check.

        Nothing is shown for a KPI while one of its inputs holds what the batch would reject."""
        f, ks = self.f, self.kpi_set
        weight = thai_digits(xf.number(kpi.weight))
        thai = f"{kpi.number_th} {kpi.title_th}"
        english = f"{kpi.id}: {kpi.title_en} · น้ำหนัก / weight {weight} · {kpi.group_th} ({kpi.group_en})"
        self._merged(ws, row, LABEL_COL, LEVEL_COL, thai, english, f["kpi"], bold=True)
        row += 1
        first = row
        inputs = [*kpi.fields, ks.field(kpi.note_field)]
        for fld in inputs:
            self._input(ws, row, fld)
            row += 1
        blocked = ef.has_problem([self.problem_refs[fld.id] for fld in inputs])
        reading = self.scoring_refs.__getitem__
        refs: dict[str, str] = {}
        result_ref = None
        if kpi.result is not None:
            formula = f'IF({blocked},"",{xf.result(kpi, reading, ks.result_decimals)})'
            result_ref = self._preview_row(ws, row, "ผลลัพธ์ (ร้อยละ)", "Result (%)", formula, f["result"])
            self._define(f"preview_{kpi.id}_result", row, VALUE_COL)
            refs["result"] = result_ref
            row += 1
        level_formula = xf.level(kpi, reading, result_ref, xf.literal_crit, blocked)
        level_ref = self._preview_row(ws, row, "ระดับที่ได้", "Level reached (0–5)", level_formula, f["whole"])
        self._define(f"preview_{kpi.id}_level", row, VALUE_COL)
        not_applicable = xf.not_applicable(kpi, reading)
        if not_applicable != "FALSE":
            ws.write_formula(row, HINT_COL, f'=IF(AND(NOT({blocked}),{not_applicable}),'
                                            f'"ไม่ประเมิน (N/A) ไม่นำมาคิดคะแนน","")', f["hint"], "")
        else:
            ws.write_blank(row, HINT_COL, None, f["hint"])
        refs["level"] = level_ref
        row += 1
        points_ref = self._preview_row(ws, row, "คะแนน (น้ำหนัก × ระดับ)", "Points (weight × level)",
                                       xf.points(level_ref, xf.number(kpi.weight)), f["points"])
        ws.write_formula(row, HELPER_COL, "=" + xf.applicable_weight(kpi, reading, xf.number(kpi.weight)),
                         f["helper"], kpi.weight)
        refs["points"] = points_ref
        refs["weight"] = xlsx.absolute_ref(row, HELPER_COL)
        row += 1
        for lv in kpi.levels:
            level_row = first + lv.number - 1
            text = f"ระดับ {thai_digits(lv.number)}  {lv.text_th}"
            self._bilingual(ws, level_row, LEVEL_COL, text, lv.text_en, f["level"])
            ws.conditional_format(level_row, LEVEL_COL, level_row, LEVEL_COL, {
                "type": "formula", "criteria": f"={level_ref}={lv.number}", "format": f["level_reached"]})
        for blank_row in range(first + len(kpi.levels), row):
            ws.write_blank(blank_row, LEVEL_COL, None, f["level"])
        row = max(row, first + len(kpi.levels))
        required = [fld for fld in kpi.fields if fld.id in xf.required_fields(kpi)]
        self.required_by_batch.extend(self.scoring_refs[fld.id] for fld in required)
        refs["check"] = self._check_row(ws, row, required, inputs)
        return row + 1, refs

    def _preview_row(self, ws, row: int, thai: str, english: str, formula: str, cell_format) -> str:
        self._bilingual(ws, row, LABEL_COL, thai, english, self.f["label"])
        ws.write_formula(row, VALUE_COL, "=" + formula, cell_format, "")
        return xlsx.absolute_ref(row, VALUE_COL)

    def _check_row(self, ws, row: int, required: list[Field], watched: list[Field]) -> str:
        """A cell that says in Thai which required inputs are still empty and which inputs of
        ``watched`` hold what the batch would reject (naming the cell)."""
        missing = [(self.scoring_refs[fld.id], fld.label_th) for fld in required]
        pieces = "&".join(f'IF({ref}="",{xf.text("  • " + label)},"")' for ref, label in missing) or '""'
        empty = "+".join(f'({ref}="")' for ref, _ in missing) or "0"
        problems = "&".join(self.problem_refs[fld.id] for fld in watched) or '""'
        formula = (f'=IF(AND({empty}=0,{problems}=""),"✓ กรอกครบแล้ว / complete",'
                   f'IF({empty}>0,"ยังไม่ได้กรอก / still missing:"&{pieces},"")'
                   f'&IF({problems}<>"",IF({empty}>0,CHAR(10),"")&"ต้องแก้ไข / to correct:"&{problems},""))')
        self._bilingual(ws, row, LABEL_COL, "ตรวจความครบถ้วน", "Check", self.f["label"])
        ws.merge_range(row, VALUE_COL, row, LEVEL_COL, "", self.f["preview_text"])
        ws.write_formula(row, VALUE_COL, formula, self.f["preview_text"], "")
        all_missing = "ยังไม่ได้กรอก: " + "  • ".join(fld.label_th for fld in required)
        width = sum(COLUMN_WIDTHS[c] for c in (VALUE_COL, HINT_COL, LEVEL_COL))
        self._grow(row, lines_height(all_missing, width, FONT_SIZE))
        self.required.extend(ref for ref, _ in missing)
        return xlsx.absolute_ref(row, VALUE_COL)

    def _input(self, ws, row: int, fld: Field) -> None:
        """One yellow input cell with its field id (column A), label, hint, defined name and validation,
        and its hidden reading (what the batch reads from it)."""
        f = self.f
        ws.write_string(row, ID_COL, fld.id)
        self._bilingual(ws, row, LABEL_COL, fld.label_th, fld.label_en, f["label"])
        ws.write_blank(row, VALUE_COL, None, f["text_input"] if fld.type == "text" else f[fld.type])
        hint = self._hint(fld)
        ws.write_string(row, HINT_COL, hint, f["hint"])
        self._grow(row, lines_height(hint, COLUMN_WIDTHS[HINT_COL], SMALL_SIZE))
        cell = self._define(fld.id, row, VALUE_COL)
        self.inputs[fld.id] = cell
        self.scoring_refs[fld.id] = cell
        if fld.type != "text":
            ws.write_formula(row, HELPER_COL, "=" + ef.reading(fld, cell), self.f["helper"], "")
            self.scoring_refs[fld.id] = xlsx.absolute_ref(row, HELPER_COL)
        if fld.type == "date":
            ws.conditional_format(row, VALUE_COL, row, VALUE_COL, {
                "type": "formula", "criteria": f"=AND(ISNUMBER({cell}),YEAR({cell})>=2400)",
                "format": self.f["date_typed_be"]})
        self.problem_refs[fld.id] = xlsx.absolute_ref(row, PROBLEM_COL)
        self.to_validate.append((row, fld))

    def _problem(self, ws, row: int, fld: Field) -> None:
        """The input's hidden problem cell (once every input has its reading: part ≤ whole)."""
        whole = ((self.kpi_set.field(fld.at_most), self.scoring_refs[fld.at_most]) if fld.at_most else None)
        formula = ef.problem(fld, self.inputs[fld.id], self.scoring_refs[fld.id], self.kpi_set, whole)
        ws.write_formula(row, PROBLEM_COL, "=" + formula, self.f["helper"], "")

    def _hint(self, fld: Field) -> str:
        optional = " (ถ้ามี)" if fld.optional else ""
        if fld.type == "money":
            return "จำนวนเงิน (บาท) ทศนิยม ๒ ตำแหน่ง" + optional
        if fld.type == "count":
            return ("จำนวนเต็มมากกว่า ๐" if fld.positive else "จำนวนเต็ม") + optional
        if fld.type == "yesno":
            return "เลือก ใช่ / ไม่ใช่"
        if fld.type == "date":
            blank = " เว้นว่างถ้ายังไม่ได้ทำ" if fld.optional else ""
            return "วันที่ เช่น 31/8/2565" + blank
        return "ข้อความ" + (" (ไม่บังคับ)" if fld.optional else "")

    def _validate(self, ws, row: int, fld: Field) -> None:
        """Data validation with a Thai input message and a Thai error alert."""
        ks = self.kpi_set
        cell = self.inputs[fld.id]
        wholes = [self.kpi_set.field(fld.at_most)] if fld.at_most else []
        parts = [p for k in ks.kpis for p in k.fields if p.at_most == fld.id]
        limits = [f"OR(NOT(ISNUMBER({self.inputs[w.id]})),{cell}<={self.inputs[w.id]})" for w in wholes]
        limits += [f"OR(NOT(ISNUMBER({self.inputs[p.id]})),{cell}>={self.inputs[p.id]})" for p in parts]
        limit_th = "".join(f" และไม่เกิน{w.label_th}" for w in wholes)
        limit_th += "".join(f" และไม่น้อยกว่า{p.label_th}" for p in parts)
        lowest = ">0" if fld.positive else ">=0"
        lowest_th = "มากกว่า 0" if fld.positive else "ตั้งแต่ 0 ขึ้นไป"
        start, end = ks.fiscal_year_start, ks.fiscal_year_end
        rule: dict[str, object]
        if fld.type in ("money", "count"):
            exact = f"ROUND({cell},2)={cell}" if fld.type == "money" else f"INT({cell})={cell}"
            kind_th = "จำนวนเงิน (บาท) ทศนิยมไม่เกิน 2 ตำแหน่ง" if fld.type == "money" else "จำนวนเต็ม"
            rule = {"validate": "custom",
                    "value": f"=AND(ISNUMBER({cell}),{cell}{lowest},{exact}{''.join(',' + x for x in limits)})",
                    "input_message": f"{kind_th} {lowest_th}{limit_th} ไม่ต้องพิมพ์หน่วยหรือจุลภาค",
                    "error_message": f"กรุณากรอก{kind_th} {lowest_th}{limit_th}"}
        elif fld.type == "yesno":
            rule = {"validate": "list", "source": [xf.YES_TH, xf.NO_TH],
                    "input_message": "เลือก ใช่ หรือ ไม่ใช่ จากรายการ (ลูกศรทางขวาของช่อง)",
                    "error_message": "กรุณาเลือก ใช่ หรือ ไม่ใช่ จากรายการเท่านั้น"}
        elif fld.type == "date":
            in_year = (f"AND({cell}>=DATE({start.year},{start.month},{start.day}),"
                       f"{cell}<=DATE({end.year},{end.month},{end.day}))")
            # A BE year typed into an AD calendar (31/8/2565 → year 2565) is accepted, as the reader accepts it.
            typed_be = (f"AND({cell}>=DATE({start.year + BE_OFFSET},{start.month},{start.day}),"
                        f"{cell}<=DATE({end.year + BE_OFFSET},{end.month},{end.day}))")
            period = f"{be_date(start)} ถึง {be_date(end)}"
            blank = " เว้นว่างถ้ายังไม่ได้ดำเนินการ" if fld.optional else ""
            rule = {"validate": "custom", "value": f"=AND(ISNUMBER({cell}),OR({in_year},{typed_be}))",
                    "error_type": "warning",
                    "input_message": f"พิมพ์วันที่ วัน/เดือน/ปี พ.ศ. เช่น 31/8/2565 ในปีงบประมาณ ({period}){blank}",
                    "error_message": f"วันที่ควรอยู่ในปีงบประมาณ ({period}) พิมพ์แบบ 31/8/2565 "
                                     "ถ้าวันที่ถูกต้องแล้วกด ใช่ (Yes) เพื่อยืนยัน"}
        else:
            rule = {"validate": "length", "criteria": "<=", "value": 1000,
                    "input_message": ("ข้อความ (ไม่บังคับ) เช่น คำอธิบาย เลขที่หนังสือ หรือลิงก์หลักฐาน"
                                      if fld.optional else f"พิมพ์{fld.label_th}"),
                    "error_message": "ข้อความยาวเกิน 1,000 ตัวอักษร"}
        ws.data_validation(row, VALUE_COL, row, VALUE_COL, {
            "error_type": "stop", **rule,
            "input_title": _clip(fld.label_th, 32), "error_title": "ข้อมูลไม่ถูกต้อง / invalid",
            "input_message": _clip(str(rule["input_message"]), 255),
            "error_message": _clip(str(rule["error_message"]), 255), "ignore_blank": True})

    def _reporter_block(self, ws, row: int) -> int:
        f = self.f
        self._merged(ws, row, LABEL_COL, LEVEL_COL, "ผู้รายงาน", "Reporter", f["card"], size=18)
        row += 1
        for fld in self.kpi_set.reporter_fields:
            self._input(ws, row, fld)
            ws.write_blank(row, LEVEL_COL, None, f["level"])
            row += 1
        return row

    def _summary(self, ws, row: int, kpi_rows: dict[str, dict[str, str]]) -> tuple[str, str]:
        """Before sending: each KPI's level, points and check, the scorecard scores, overall % and rating;
        returns the overall % and rating cells."""
        f, ks = self.f, self.kpi_set
        self._merged(ws, row, LABEL_COL, LEVEL_COL, "ผลคะแนนเบื้องต้น และรายการที่ยังไม่ได้กรอก",
                     "Score preview and what is still missing — จังหวัดจะคิดคะแนนจริงจากข้อมูลที่ส่ง / "
                     "the province scores the data you send", f["card"], size=18)
        row += 1
        for col, thai, english in [(LABEL_COL, "ตัวชี้วัด", "KPI"), (VALUE_COL, "ระดับที่ได้", "Level"),
                                   (HINT_COL, "คะแนน", "Points"), (LEVEL_COL, "ความครบถ้วน", "Check")]:
            self._bilingual(ws, row, col, thai, english, f["heading"], bold=True)
        row += 1
        percents = []
        for sc in ks.scorecards:
            for kpi in sc.kpis:
                refs = kpi_rows[kpi.id]
                title = f"{kpi.number_th} ({sc.name_th}) {kpi.title_th}"
                ws.write_string(row, LABEL_COL, title, f["label"])
                ws.write_formula(row, VALUE_COL, f"={refs['level']}", f["whole"], "")
                ws.write_formula(row, HINT_COL, f"={refs['points']}", f["points"], "")
                ws.write_formula(row, LEVEL_COL, f"={refs['check']}", f["preview_text"], "")
                self._grow(row, lines_height(title, COLUMN_WIDTHS[LABEL_COL], FONT_SIZE))
                row += 1
            points = [kpi_rows[k.id]["points"] for k in sc.kpis]
            weights = [kpi_rows[k.id]["weight"] for k in sc.kpis]
            # The batch gives no scorecard score to a form with any error, so neither does the preview.
            score_ref = self._preview_row(ws, row, f"คะแนน{sc.name_th} (๐–๕)", f"{sc.name_en} score (0–5)",
                                          f'IF({READY_REF},{xf.scorecard_score(points, weights)},"")', f["score"])
            self._define(f"preview_{sc.id}_score", row, VALUE_COL)
            row += 1
            percent_ref = self._preview_row(ws, row, f"ร้อยละ{sc.name_th}", f"{sc.name_en} %",
                                            xf.scorecard_percent(score_ref), f["result"])
            self._define(f"preview_{sc.id}_percent", row, VALUE_COL)
            percents.append(percent_ref)
            row += 1
        weights = [xf.number(ks.scorecard_weights[sc.id]) for sc in ks.scorecards]
        overall_ref = self._preview_row(ws, row, "ร้อยละภาพรวม", "Overall %",
                                        xf.overall_percent(percents, weights, ks.percent_decimals), f["result"])
        self._define("preview_overall_percent", row, VALUE_COL)
        row += 1
        rating_ref = self._preview_row(ws, row, "ผลการประเมิน", "Rating",
                                       xf.rating(overall_ref, ks.rating_bands), f["preview_text"])
        self._define("preview_rating", row, VALUE_COL)
        row += 1
        self._check_row(ws, row, [fld for fld in ks.reporter_fields if not fld.optional], list(ks.reporter_fields))
        return overall_ref, rating_ref

    def _status_line(self, ws, overall_ref: str, rating_ref: str) -> None:
        """The frozen header's live banner: what is still empty, which cells must be corrected, and, only
        when nothing the batch would call an error is left, "ready to send" with the overall preview.
        Its hidden neighbour is ``preview_ready``."""
        empty = "+".join(f'({ref}="")' for ref in self.required) or "0"
        errors_empty = "+".join(f'({ref}="")' for ref in self.required_by_batch) or "0"
        problems = list(self.problem_refs.values())
        ws.write_formula(STATUS_ROW, PROBLEM_COL, f"=AND({errors_empty}=0,NOT({ef.has_problem(problems)}))",
                         self.f["helper"], False)
        self._define("preview_ready", STATUS_ROW, PROBLEM_COL)
        wrong = "+".join(f'({p}<>"")' for p in problems)
        cells = "&".join(f'IF({p}<>"",{xf.text(" " + self._input_cell(fid))},"")'
                         for fid, p in self.problem_refs.items())
        formula = (f'=IF(AND({READY_REF},{empty}=0),"✓ กรอกครบทุกช่องแล้ว บันทึกไฟล์แล้วส่งกลับได้ / ready to send",'
                   f'IF({empty}>0,"ยังไม่ได้กรอก "&({empty})&" ช่อง","")'
                   f'&IF({wrong}>0,IF({empty}>0," · ","")&"ต้องแก้ไข "&({wrong})&" ช่อง:"&{cells},"")'
                   f'&" (ดูรายการท้ายแผ่นงาน) / not ready: "&({empty})&" missing, "&({wrong})&" to correct")'
                   f'&IF(ISNUMBER({overall_ref}),"   ·   ร้อยละภาพรวม (เบื้องต้น) "&TEXT({overall_ref},"0.00")'
                   f'&" "&{rating_ref},"")')
        ws.merge_range(STATUS_ROW, LABEL_COL, STATUS_ROW, LEVEL_COL, "", self.f["status"])
        ws.write_formula(STATUS_ROW, LABEL_COL, formula, self.f["status"], "")
        self._grow(STATUS_ROW, lines_height("ก" * 100, COLUMN_WIDTHS[LEVEL_COL] * 2, FONT_SIZE))

    def _input_cell(self, field_id: str) -> str:
        return self.inputs[field_id].replace("$", "")

    def _header_footer(self, ws) -> None:
        area = self.area
        font = f'&"{self.options.font},Regular"'
        ws.set_header(f"&L{font}&12จังหวัด{area.province_name_th} อำเภอ{area.district_name_th} "
                      f"({area.district_code})&R{font}&12{self.kpi_set.round_th}")
        ws.set_footer(f"&L{font}&10{template_id(self.kpi_set, area)}&R{font}&12หน้า &P / &N")

    def _protect(self, ws) -> None:
        ws.protect(self.options.password, {"select_locked_cells": True, "select_unlocked_cells": True,
                                           "format_rows": True, "format_columns": True})

    # ------------------------------------------------------------------ instructions and metadata

    def _instructions_sheet(self, ws) -> None:
        ks, area, f, opt = self.kpi_set, self.area, self.f, self.options
        ws.hide_gridlines(2)
        ws.set_column(0, 0, 3)
        ws.set_column(1, 1, 6)
        ws.set_column(2, 2, INSTRUCTIONS_WIDTH)
        title = f"คำชี้แจงการกรอกข้อมูล — {ks.title_th}"
        ws.merge_range(0, 1, 0, 2, title, f["title"])
        self._grow(0, lines_height(title, INSTRUCTIONS_WIDTH, 20))
        self._merged(ws, 1, 1, 2,
                     f"จังหวัด{area.province_name_th} อำเภอ{area.district_name_th} · {ks.position_th} · {ks.round_th}",
                     f"{area.district_name_en}, {area.province_name_en} · {ks.position_en} · {ks.round_en}",
                     f["subtitle"], bold=True, width=INSTRUCTIONS_WIDTH, size=16)
        row = 2
        deadline = (f"ภายในวันที่ {thai_date(opt.deadline)}" if opt.deadline
                    else "ภายในวันที่จังหวัดกำหนด")
        deadline_en = f"by {opt.deadline:%d %B %Y}" if opt.deadline else "by the date the province sets"
        send_to = f"ทางอีเมล {opt.clerk_email}" if opt.clerk_email else "ตามช่องทางที่จังหวัดแจ้ง"
        send_to_en = f"by e-mail to {opt.clerk_email}" if opt.clerk_email else "the way the province asks"
        contact = " ".join(x for x in (opt.clerk_name, f"โทร {opt.clerk_phone}" if opt.clerk_phone else "",
                                       opt.clerk_email) if x) or "เจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด"
        contact_en = " ".join(x for x in (opt.clerk_name, f"phone {opt.clerk_phone}" if opt.clerk_phone else "",
                                          opt.clerk_email) if x) or "the provincial CD office"
        period = f"{be_date(ks.fiscal_year_start)} – {be_date(ks.fiscal_year_end)}"
        steps = [
            (f'กรอกข้อมูลในแผ่นงาน "{ENTRY_SHEET}" เฉพาะช่องสีเหลือง ช่องอื่นถูกล็อกไว้ '
             "(ชี้ที่ช่องจะมีคำแนะนำ ถ้ากรอกผิดรูปแบบโปรแกรมจะเตือน)",
             f'Fill only the yellow cells of the sheet "{ENTRY_SHEET}"; every other cell is locked.'),
            ("กรอกข้อเท็จจริง (จำนวนเงิน จำนวน ใช่/ไม่ใช่ วันที่) ไม่ต้องคำนวณร้อยละหรือระดับเอง "
             "แบบฟอร์มคำนวณให้ และจังหวัดคิดคะแนนจากข้อมูลที่กรอก",
             "Enter facts (amounts, counts, yes/no, dates), never a percentage or a level."),
            ("หน่วย: จำนวนเงินเป็นบาท ทศนิยมไม่เกิน ๒ ตำแหน่ง ไม่ต้องพิมพ์คำว่า บาท หรือจุลภาค · "
             "จำนวนเป็นจำนวนเต็ม · ใช่/ไม่ใช่ เลือกจากรายการ · วันที่พิมพ์ วัน/เดือน/ปี พ.ศ. เช่น 31/8/2565 "
             f"(ปีงบประมาณ {period}) ช่องวันที่เว้นว่างได้ถ้ายังไม่ได้ดำเนินการ",
             "Units: money in baht (up to 2 decimals), whole counts, ใช่/ไม่ใช่ from the list, "
             "dates as day/month/BE year (31/8/2565); leave a date empty when it has not happened."),
            ('ช่อง "หมายเหตุ/หลักฐาน" ของแต่ละตัวชี้วัด ใส่คำอธิบาย เลขที่หนังสือ หรือลิงก์หลักฐาน (ไม่บังคับ)',
             "Each KPI has an optional note/evidence cell."),
            ("ช่องสีเขียวคำนวณอัตโนมัติ: ผลลัพธ์ ระดับที่ได้ คะแนน และท้ายแผ่นงานมีผลคะแนนเบื้องต้น "
             'กับรายการที่ยังไม่ได้กรอก ("ยังไม่ได้กรอก …") ตรวจให้ครบก่อนส่ง',
             "Green cells are computed as you type; the end of the sheet shows the score preview and "
             "what is still missing."),
            (f"บันทึกไฟล์ในรูปแบบเดิม (.xlsx) ไม่ต้องเปลี่ยนชื่อไฟล์ ไม่ต้องแปลงเป็น PDF แล้วส่งกลับ{send_to} "
             f"{deadline}",
             f"Save the file as it is (.xlsx, same name, not PDF) and send it back {send_to_en} {deadline_en}."),
            (f"สอบถาม: {contact}", f"Questions: {contact_en}"),
        ]
        row += 1
        self._bilingual(ws, row, 2, "วิธีกรอกและส่งแบบฟอร์ม", "How to fill in and send back this form",
                        f["heading"], bold=True, width=INSTRUCTIONS_WIDTH)
        row += 1
        for number, (thai, english) in enumerate(steps, start=1):
            ws.write_string(row, 1, thai_digits(number) + ".", f["label"])
            self._bilingual(ws, row, 2, thai, english, f["label"], width=INSTRUCTIONS_WIDTH)
            row += 1
        row += 1
        file_line = (f"ไฟล์ / file: {template_file_name(area)} · รหัสแบบฟอร์ม / template id: "
                     f"{template_id(ks, area)}")
        ws.merge_range(row, 1, row, 2, file_line, f["small"])
        self._set_heights(ws)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 1)
        ws.center_horizontally()
        self._header_footer(ws)
        self._protect(ws)

    def _meta_sheet(self, meta, ident: str, generated: dt.datetime) -> None:
        area, ks = self.area, self.kpi_set
        metadata = TemplateMetadata(
            template_id=ident, kpi_set_id=ks.id, kpi_fingerprint=ks.fingerprint,
            province_code=area.province_code, province_name_th=area.province_name_th,
            province_name_en=area.province_name_en, district_code=area.district_code,
            district_name_th=area.district_name_th, district_name_en=area.district_name_en,
            tool_version=__version__, generated_at=generated.isoformat(),
            cells={fid: join_address(ENTRY_SHEET, cell.replace("$", "")) for fid, cell in self.inputs.items()})
        for row, (key, value) in enumerate(metadata.rows()):
            meta.write_string(row, 0, key)
            meta.write_string(row, 1, value)
        meta.very_hidden()
        meta.protect(self.options.password)


def _clip(text: str, limit: int) -> str:
    """Excel's limits on validation titles and messages (longer ones are dropped by XlsxWriter)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
