"""What the commands tell the clerk about a round, in Thai then English: a summary per province with
the files that need correcting named, and a plain answer when the folder holds nothing to score (empty,
only files that are not templates, or only files of other provinces).

Pure functions from a ``RoundResult`` to text; the CLI prints them.
"""

from __future__ import annotations

from pathlib import Path

from cdd_scorer.geography import area_of
from cdd_scorer.problems import count_by_severity
from cdd_scorer.results import RoundResult
from cdd_scorer.thai import Severity, Status

MAX_NAMED = 5  # files named in the terminal; the rest are counted and left to issues.csv


def nothing_to_score(result: RoundResult, input_dir: Path) -> str | None:
    """Why the round holds no district's file, in plain words, or None when some district sent one.

    Names what the folder held (up to ``MAX_NAMED`` files), and for files of other provinces the
    ``--province`` the clerk probably meant."""
    if any(d.status != Status.MISSING for d in result.districts):
        return None
    where = f"ใน {input_dir} / in {input_dir}"
    wrong = next((p for p in result.problems if p.code == "province_not_in_folder"), None)
    if wrong:
        return f"{wrong.message_th} ({where})\n{wrong.message_en}\n{wrong.action_th} / {wrong.action_en}"
    named = [p for p in result.problems if p.file]
    if not named:
        return (f"ไม่พบไฟล์ตารางคำนวณ {where} (โฟลเดอร์ว่าง) / no spreadsheet found (the folder is empty).\n"
                "บันทึกไฟล์ที่อำเภอส่งกลับลงในโฟลเดอร์นี้ หรือใช้ cdd-scorer collect / save the districts' "
                "replies there, or use cdd-scorer collect")
    return (f"ไม่พบแบบฟอร์มที่ใช้ได้ {where} / no usable workbook was found; the folder holds:\n"
            + _named_files(named, "issues.csv"))


def province_lines(result: RoundResult) -> list[str]:
    """One line per province: districts by status, and the province's overall % and rating."""
    lines = []
    for prov in result.provinces:
        counts = {s: prov.count(s) for s in Status}
        lines.append(f"จังหวัด{prov.name_th} ({prov.name_en}): {len(prov.districts)} อำเภอ — "
                     + ", ".join(f"{s.th} {n}" for s, n in counts.items())
                     + " / " + ", ".join(f"{s.en} {n}" for s, n in counts.items()))
        if prov.summary.overall_percent is not None:
            lines.append(f"  ร้อยละภาพรวมจังหวัด / province overall: {prov.summary.overall_percent:.2f}"
                         f" ({prov.summary.rating.name_th})")
    return lines


def problem_lines(result: RoundResult, issues_csv: Path) -> list[str]:
    """The problems counted by severity, then the files with errors by name (the first few)."""
    sev = count_by_severity(result.problems)
    lines = ["ปัญหา / issues: " + ", ".join(f"{s.th} {sev[s]} {s.en}s" for s in Severity)
             + f" — {issues_csv}"]
    errors = [p for p in result.problems if p.severity == Severity.ERROR and p.file]
    if errors:
        lines.append("ไฟล์ที่ต้องแก้ไข / files with errors:\n" + _named_files(errors, str(issues_csv)))
    return lines


def _named_files(problems: list, more_in: str) -> str:
    """``  file (district): first message`` for the first files, then how many more."""
    by_file: dict[str, list] = {}
    for p in problems:
        by_file.setdefault(p.file, []).append(p)
    lines = []
    for name, found in list(by_file.items())[:MAX_NAMED]:
        area = area_of(found[0].district_code)
        district = f" ({area.district_code} {area.district_name_th})" if area else ""
        extra = f" (+{len(found) - 1})" if len(found) > 1 else ""
        lines.append(f"  {name}{district}: {found[0].message_th} / {found[0].message_en}{extra}")
    if len(by_file) > MAX_NAMED:
        left = len(by_file) - MAX_NAMED
        lines.append(f"  … และอีก {left} ไฟล์ ใน {more_in} / … and {left} more in {more_in}")
    return "\n".join(lines)
