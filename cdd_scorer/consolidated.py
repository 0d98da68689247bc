"""The managers' consolidated workbook, written with xlsxwriter."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from cdd_scorer.batch import STATUS_TH, RoundResult
from cdd_scorer.output_files import atomic_output

SUMMARY_SHEET = "สรุป"


def write_consolidated(result: RoundResult, path: Path) -> Path:
    """Write the consolidated workbook of a round to ``path`` (atomically)."""
    with atomic_output(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                            "strings_to_numbers": False})
        ws = wb.add_worksheet(SUMMARY_SHEET)
        headers = ["จังหวัด", "รหัสอำเภอ", "อำเภอ", "สถานะ", "ร้อยละรายทีม", "ร้อยละรายบุคคล",
                   "ร้อยละภาพรวม", "ผลการประเมิน", "ลำดับ"]
        ws.write_row(0, 0, headers)
        row = 1
        for province in result.provinces:
            for d in province.districts:
                s = d.score
                ws.write_row(row, 0, [province.name_th, d.area.district_code,
                                      d.area.district_name_th, STATUS_TH[d.status]])
                if s and s.overall_percent is not None:
                    ws.write_row(row, 4, [s.scorecards["team"].percent,
                                          s.scorecards["individual"].percent,
                                          s.overall_percent, s.rating.name_th, d.rank])
                row += 1
        wb.close()
    return path
