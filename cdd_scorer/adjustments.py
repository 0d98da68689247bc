"""Committee adjustments (คณะกรรมการกลั่นกรองผลการประเมิน): decisions taken after the districts' files were
read, kept beside those files so that the trail survives (a district's file is never edited).

One row per decision: a district, a KPI, and either a corrected value of one of its fields or a decided
level, with the reason, who decided and when. ``read_adjustments`` reads the file (.xlsx through
python-calamine after the safety checks, or .csv) and checks every row against the card and the
district register. ``run_round`` applies the decisions: ``corrected_cells`` puts a corrected value in
place of the typed one before the values are checked (so it is checked like any other value), and
``decide_levels`` replaces the level the engine computed; ``unapplied`` names the decisions the round
has no file or no scorable KPI for. A file with any row that cannot apply is an ``AdjustmentError``
naming every such row: the committee's decisions apply all together or not at all. ``applied`` gives
each decision with its value before and after, for the workbook, ``scores.csv`` and the history.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from cdd_scorer.excel_formulas import NO_TH, YES_TH
from cdd_scorer.geography import area_of
from cdd_scorer.history.record import LEVEL, Adjustment
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.parsing import clean_text, parse_cell, parse_date, parse_number
from cdd_scorer.problems import Problem
from cdd_scorer.reading import RawCell
from cdd_scorer.results import RoundResult
from cdd_scorer.safety import open_checked
from cdd_scorer.scoring import DistrictScore, combine, score_district
from cdd_scorer.tables import csv_number
from cdd_scorer.thai import be_date
from cdd_scorer.validation import format_value

SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class Column:
    """A column of the adjustments file: found by its Thai header or its English key."""

    key: str
    th: str
    en: str

    @property
    def header(self) -> str:
        return f"{self.th}\n{self.en}"


COLUMNS = (Column("district", "รหัสอำเภอ", "district_code"), Column("kpi", "ตัวชี้วัด", "kpi"),
           Column("field", "ช่องข้อมูลที่แก้ไข", "field"), Column("value", "ค่าที่ถูกต้อง", "value"),
           Column("level", "ระดับที่วินิจฉัย", "level"), Column("reason", "เหตุผล", "reason"),
           Column("decided_by", "ผู้วินิจฉัย", "decided_by"), Column("decided_on", "วันที่วินิจฉัย", "decided_on"))


@dataclass(frozen=True)
class Decision:
    """One row of the file, checked: a corrected ``value`` of ``field``, or (``field`` None) a decided
    ``level`` of ``kpi_id``. ``row`` is the file's row number, as a spreadsheet shows it."""

    row: int
    district_code: str
    kpi_id: str | None
    field: str | None
    value: Any
    level: int | None
    reason: str
    decided_by: str
    decided_on: dt.date | None


class AdjustmentError(Exception):
    """Adjustments that cannot apply; ``problems`` name every row, in Thai and English."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(f"{p.message_th} / {p.message_en}" for p in self.problems))


def read_adjustments(path: Path, kpi_set: KpiSet) -> tuple[Decision, ...]:
    """The decisions of an adjustments file, every row checked; raises ``AdjustmentError`` naming every
    row that names an unknown district, KPI or field, a level outside 0–5, a value that cannot be read,
    or lacks a reason or who decided."""
    rows = _rows(path)
    header_at = next((i for i, row in enumerate(rows[:10]) if _find(row, COLUMNS[0]) is not None), None)
    if header_at is None:
        raise AdjustmentError([_unreadable(path, "ไม่พบหัวคอลัมน์ รหัสอำเภอ", "no รหัสอำเภอ / district_code column")])
    where = {c.key: _find(rows[header_at], c) for c in COLUMNS}
    decisions, problems, seen = [], [], {}
    for number, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        values = {key: _cell(row, i) for key, i in where.items()}
        if all(v is None for v in values.values()):
            continue
        decision, errors = _decision(number, values, kpi_set)
        key = decision and (decision.district_code, decision.field or f"{decision.kpi_id} {LEVEL}")
        if key in seen:
            errors.append((f"ซ้ำกับแถวที่ {seen[key]}", f"the same decision as row {seen[key]}"))
        problems += [Problem("adjustment_invalid", file=path.name, district_code=_token(values["district"]),
                             params={"row": number, "detail": th, "detail_en": en}) for th, en in errors]
        if decision and not errors:
            seen[key] = number
            decisions.append(decision)
    if problems:
        raise AdjustmentError(problems)
    return tuple(decisions)


def _rows(path: Path) -> list[list[Any]]:
    """The file's cells, row by row: the first sheet of a spreadsheet, or a CSV in UTF-8 or the Thai
    Windows code page (what Excel saves as "CSV")."""
    if path.suffix.lower() == ".csv":
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AdjustmentError([_unreadable(path, str(exc), str(exc))]) from None
        try:
            return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        except UnicodeDecodeError:
            return list(csv.reader(io.StringIO(data.decode("cp874", errors="replace"))))
    if path.suffix.lower() not in SPREADSHEETS:
        raise AdjustmentError([_unreadable(path, "ต้องเป็นไฟล์ .xlsx หรือ .csv", "it must be an .xlsx or .csv file")])
    check, content = open_checked(path, path.name)
    if content is None:
        raise AdjustmentError([_unreadable(path, check.problem.message_th, check.problem.message_en)])
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content.data))
        return workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # noqa: BLE001 - calamine's errors have no common base; the message says what
        raise AdjustmentError([_unreadable(path, str(exc), str(exc))]) from None
    finally:
        content.close()


def _unreadable(path: Path, th: str, en: str) -> Problem:
    return Problem("adjustments_unreadable", file=path.name, params={"detail": th, "detail_en": en})


def _norm(text: str) -> str:
    return re.sub(r"[\s_]+", "", text.lower())


def _find(row: list[Any], column: Column) -> int | None:
    for i, cell in enumerate(row):
        if isinstance(cell, str) and (_norm(column.th) in _norm(cell) or _norm(column.en) in _norm(cell)):
            return i
    return None


def _cell(row: list[Any], i: int | None) -> Any:
    value = row[i] if i is not None and i < len(row) else None
    return value.strip() or None if isinstance(value, str) else value


def _token(value: Any) -> str:
    """The code at the start of a cell: ``4001`` of ``4001 เมืองขอนแก่น``, ``T1`` of ``T1 การเบิกจ่าย…``."""
    return clean_text(value).split(" ")[0] if value is not None else ""


def _decision(row: int, v: dict[str, Any], ks: KpiSet) -> tuple[Decision | None, list[tuple[str, str]]]:
    """A row checked against the card and the register, and what is wrong with it (Thai, English)."""
    errors: list[tuple[str, str]] = []
    code = _token(v["district"])
    if area_of(code) is None:
        errors.append((f"ไม่มีรหัสอำเภอ {code} ในทะเบียน", f"district code {code} does not exist") if code
                      else ("ไม่ได้ระบุรหัสอำเภอ", "no district code"))
    kpi = {k.id.upper(): k for k in ks.kpis}.get(_token(v["kpi"]).upper())
    if v["kpi"] is not None and kpi is None:
        errors.append((f"ไม่มีตัวชี้วัด {_token(v['kpi'])} ในชุดตัวชี้วัด {ks.id}",
                       f"KPI {_token(v['kpi'])} is not on card {ks.id}"))
    fld = {f.id: f for f in ks.fields}.get(_token(v["field"]).lower())
    if v["field"] is not None and fld is None:
        errors.append((f"ไม่มีช่องข้อมูล {_token(v['field'])} ในชุดตัวชี้วัด {ks.id}",
                       f"field {_token(v['field'])} is not on card {ks.id}"))
    elif fld is not None:
        if kpi is not None and fld.kpi_id != kpi.id:
            errors.append((f"ช่อง {fld.id} ไม่ใช่ของตัวชี้วัด {kpi.id}", f"field {fld.id} is not one of KPI {kpi.id}"))
        kpi = kpi or (ks.kpi(fld.kpi_id) if fld.kpi_id else None)
        errors += _value_errors(fld, v["value"])
    level = None
    if v["level"] is not None:
        level = _level(v["level"], len(kpi.levels) if kpi else 5, errors)
        if v["kpi"] is None and kpi is None:
            errors.append(("ระดับที่วินิจฉัยต้องระบุตัวชี้วัด", "a decided level needs its KPI"))
    if (v["field"] is None) == (v["level"] is None):
        errors.append(("ระบุค่าที่ถูกต้องของช่องข้อมูล หรือระดับที่วินิจฉัย อย่างใดอย่างหนึ่ง (แถวละหนึ่งเรื่อง)",
                       "give either a corrected field value or a decided level (one decision per row)"))
    errors += [(f"ไม่ได้ระบุ{th}", f"no {en}") for key, th, en in
               (("reason", "เหตุผล", "reason"), ("decided_by", "ผู้วินิจฉัย", "decided_by (who decided)")) if v[key] is None]
    decided_on = parse_date(v["decided_on"])
    if not decided_on.ok:
        errors.append((f"อ่านวันที่วินิจฉัย \"{v['decided_on']}\" ไม่ได้ (เช่น 20/10/2565)",
                       f"cannot read the date \"{v['decided_on']}\" (e.g. 20/10/2565)"))
    if errors:
        return None, errors
    return Decision(row, code, kpi.id if kpi else None, fld.id if fld else None, v["value"], level,
                    str(v["reason"]), str(v["decided_by"]), decided_on.value), []


def _value_errors(fld: Field, value: Any) -> list[tuple[str, str]]:
    parsed = parse_cell(fld.type, value)
    if not parsed.ok:
        return [(f"อ่านค่า \"{value}\" ไม่ได้ ต้องเป็น{parsed.expected_th}", f"cannot read \"{value}\"; expected "
                 f"{parsed.expected_en}")]
    if parsed.value is None:
        return [(f"ไม่ได้ระบุค่าที่ถูกต้องของ {fld.id}", f"no corrected value of {fld.id}")]
    return []


def _level(value: Any, top: int, errors: list[tuple[str, str]]) -> int | None:
    parsed = parse_number(value)
    if parsed.ok and parsed.value is not None and parsed.value == parsed.value.to_integral_value() \
            and 0 <= parsed.value <= top:
        return int(parsed.value)
    errors.append((f"ระดับ \"{value}\" ต้องเป็นจำนวนเต็ม 0 ถึง {top}",
                   f"level \"{value}\" must be a whole number from 0 to {top}"))
    return None


def corrected_cells(decisions: Iterable[Decision], district_code: str, cells: dict[str, Any]) -> dict[str, Any]:
    """A district's raw cells with the corrected values in place of the typed ones (the cell's address
    kept, so a problem with a corrected value still names it)."""
    out = dict(cells)
    for d in decisions:
        if d.district_code == district_code and d.field is not None:
            typed = cells.get(d.field)
            out[d.field] = RawCell(typed.sheet, typed.cell, d.value) if typed else RawCell("", "", d.value)
    return out


def decide_levels(decisions: Iterable[Decision], district_code: str, score: DistrictScore, kpi_set: KpiSet,
                  complete: bool) -> DistrictScore:
    """The district's score with each decided level in place of the engine's (for applicable KPIs whose
    inputs have no error; ``unapplied`` names the others), scorecards and rating computed again."""
    levels = {d.kpi_id: d.level for d in decisions if d.district_code == district_code and d.field is None}
    kpis = {k: dataclasses.replace(s, level=levels[k]) if k in levels and s.applicable and s.scorable else s
            for k, s in score.kpis.items()}
    return score if kpis == score.kpis else combine(kpis, kpi_set, complete)


def unapplied(result: RoundResult, decisions: Iterable[Decision], file: str) -> list[Problem]:
    """The decisions the round cannot apply: a district not scored in it, without a file that counts, or
    a level for a KPI that does not apply to it or whose inputs have errors (correct them instead)."""
    districts = {d.area.district_code: d for d in result.districts}
    problems = []
    for d in decisions:
        district = districts.get(d.district_code)
        kpi = district.score.kpis.get(d.kpi_id) if district and district.score and d.kpi_id else None
        if district is None:
            why = ("อำเภอนี้ไม่อยู่ในรอบที่คิดคะแนน (จังหวัดอื่น?)", "the district is not in this run (another province?)")
        elif district.score is None:
            why = ("อำเภอนี้ไม่มีไฟล์ที่ใช้คิดคะแนน", "no file of the district counts in this run")
        elif d.field is None and not kpi.applicable:
            why = (f"ตัวชี้วัด {d.kpi_id} ไม่ใช้กับอำเภอนี้", f"KPI {d.kpi_id} does not apply to the district")
        elif d.field is None and not kpi.scorable:
            why = (f"ข้อมูลของตัวชี้วัด {d.kpi_id} มีข้อผิดพลาด ให้แก้ค่าของช่องข้อมูลแทน",
                   f"the inputs of KPI {d.kpi_id} have errors: correct its fields instead")
        else:
            continue
        problems.append(Problem("adjustment_invalid", file=file, district_code=d.district_code,
                                params={"row": d.row, "detail": why[0], "detail_en": why[1]}))
    return problems


def applied(result: RoundResult, decisions: Iterable[Decision]) -> list[Adjustment]:
    """Each decision as applied in the round, with the value or level before and after it."""
    ks = result.kpi_set
    districts = {d.area.district_code: d for d in result.districts}
    out = []
    for d in decisions:
        district = districts[d.district_code]
        if d.field is not None:
            fld = ks.field(d.field)
            typed = result.submissions[district.source.name].cells.get(d.field)
            before, after = _typed(fld, typed.value if typed else None), shown(fld, district.checked.values[d.field])
        else:
            engine = score_district(ks, district.checked.values, result.method, district.checked.unscorable)
            before, after = csv_number(engine.kpis[d.kpi_id].level, ks.score_decimals), str(d.level)
        out.append(Adjustment(d.district_code, d.kpi_id, d.field or LEVEL, before, after, d.reason, d.decided_by,
                              d.decided_on))
    return out


def shown(fld: Field, value: Any) -> str:
    """A checked value as the adjustments file and the history show it: 2300000, ใช่, 31/8/2565."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES_TH if value else NO_TH
    if isinstance(value, dt.date):
        return be_date(value)
    return csv_number(value, 2) if fld.type in ("money", "count") else format_value(value)


def _typed(fld: Field, raw: Any) -> str:
    """The district's typed value, as read when it can be, else as it was typed."""
    parsed = parse_cell(fld.type, raw)
    return shown(fld, parsed.value) if parsed.ok else format_value(raw)

