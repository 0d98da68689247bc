"""Who has sent, who has not, who must correct: one status row per district of a round.

``district_status`` turns a ``RoundResult`` (from ``round.run_round``) into rows; the writers
below put them in ``status.csv`` and in a table for the terminal, with totals at the end. Which file
of a district counts is the round's decision (``round._choose``), so status, score and feedback agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdd_scorer.geography import Area
from cdd_scorer.problems import count_by_severity
from cdd_scorer.reading import SourceFile
from cdd_scorer.results import DistrictResult, RoundResult
from cdd_scorer.tables import csv_text, write_csv
from cdd_scorer.thai import Status, as_thai_time, be_date, be_time, display_width, thai_day

STATUS_COLUMNS = ["province_code", "district_code", "district_name_th", "district_name_en", "status",
                  "status_th", "saved_at", "late", "errors", "warnings", "files", "file_used", "superseded"]


@dataclass(frozen=True)
class StatusRow:
    """One district: what arrived, which file counts (``used``; empty when none does) and which do not
    because it supersedes them, when it was saved, and whether it must be corrected."""

    area: Area
    status: Status
    files: tuple[str, ...]
    saved_at: dt.datetime | None
    late: bool
    errors: int
    warnings: int
    used: str = ""
    superseded: tuple[str, ...] = ()

    @property
    def received(self) -> bool:
        return self.status != "missing"


def district_status(result: RoundResult, deadline: dt.date | None = None) -> list[StatusRow]:
    """One row per district of every province in ``result``.

    The time is the workbook's saved time (of the file used, or the newest file sent when none
    could be used); with a ``deadline`` (a date in Thailand, inclusive) a later one is late.
    """
    by_name = {s.name: s for s in result.sources}
    rows = []
    for province in result.provinces:
        for d in province.districts:
            files = d.files
            saved_at = _saved_at(d, [by_name[f] for f in files if f in by_name])
            counts = count_by_severity(d.problems)
            rows.append(StatusRow(
                d.area, d.status, files, saved_at,
                deadline is not None and saved_at is not None and thai_day(saved_at) > deadline,
                counts["error"], counts["warning"], d.source.name if d.source else "", tuple(d.superseded)))
    return rows


def _saved_at(d: DistrictResult, sources: list[SourceFile]) -> dt.datetime | None:
    if d.source is not None:
        return d.source.saved_at
    times = [s.saved_at for s in sources if s.saved_at is not None]
    return max(times, key=as_thai_time) if times else None


def all_complete(rows: list[StatusRow]) -> bool:
    """True when every district has sent a workbook that needs no correction."""
    return all(r.status == "complete" for r in rows)


def status_table(rows: list[StatusRow]) -> pd.DataFrame:
    """The columns of ``status.csv``, one row per district."""
    records = [{
        "province_code": r.area.province_code, "district_code": r.area.district_code,
        "district_name_th": r.area.district_name_th, "district_name_en": r.area.district_name_en,
        "status": r.status.value, "status_th": r.status.th,
        "saved_at": as_thai_time(r.saved_at).isoformat() if r.saved_at else "",
        "late": "yes" if r.late else "", "errors": str(r.errors), "warnings": str(r.warnings),
        "files": csv_text("; ".join(r.files)), "file_used": csv_text(r.used),
        "superseded": csv_text("; ".join(r.superseded)),
    } for r in rows]
    return pd.DataFrame(records, columns=STATUS_COLUMNS, dtype="string")


def write_status_csv(rows: list[StatusRow], path: Path) -> Path:
    """Write ``status.csv`` (UTF-8 with BOM, so Excel shows Thai)."""
    return write_csv(status_table(rows), path)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


_HEADERS = (("รหัส", "code"), ("อำเภอ", "district"), ("สถานะ", "status"), ("บันทึกเมื่อ", "saved"),
            ("ผิด", "errors"), ("เตือน", "warnings"), ("ช้า", "late"), ("ไฟล์ที่ใช้", "file used"))


def render_status(rows: list[StatusRow], deadline: dt.date | None = None) -> str:
    """A table for the terminal, one block per province, each ending with its totals."""
    blocks = []
    for code in dict.fromkeys(r.area.province_code for r in rows):
        block = [r for r in rows if r.area.province_code == code]
        first = block[0]
        lines = [f"จังหวัด{first.area.province_name_th} ({first.area.province_name_en})"
                 + (f" — กำหนดส่ง / deadline {be_date(deadline)}"
                    if deadline else "")]
        table = [[f"{th}/{en}" if i >= 4 else f"{th} / {en}" for i, (th, en) in enumerate(_HEADERS)]]
        table += [[r.area.district_code, f"{r.area.district_name_th} ({r.area.district_name_en})",
                   f"{r.status.th} / {r.status.en}", be_time(r.saved_at),
                   str(r.errors) if r.received else "", str(r.warnings) if r.received else "",
                   "ส่งช้า / late" if r.late else "", _file_used(r)] for r in block]
        widths = [max(display_width(line[i]) for line in table) for i in range(len(_HEADERS))]
        for line in table:
            cells = [_pad(cell, widths[i], right=i in (4, 5)) for i, cell in enumerate(line)]
            lines.append("  ".join(cells).rstrip())
        lines.append(_totals(block))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _file_used(row: StatusRow) -> str:
    """The file that counts, and how many others of the district it supersedes (status.csv names them)."""
    n = len(row.superseded)
    return row.used + (f" (แทน {n} ไฟล์ / supersedes {n})" if row.used and n else "")


def _totals(rows: list[StatusRow]) -> str:
    count = {s: sum(1 for r in rows if r.status == s) for s in Status}
    late = sum(1 for r in rows if r.late)
    return (f"รวม {len(rows)} อำเภอ: " + ", ".join(f"{s.th} {n}" for s, n in count.items()) + f", ส่งช้า {late} / "
            f"total {len(rows)} districts: " + ", ".join(f"{s.en} {n}" for s, n in count.items()) + f", late {late}")
