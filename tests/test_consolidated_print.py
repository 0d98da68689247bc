"""The demo's consolidated workbook on paper (issue 15): LibreOffice prints it to PDF with every chart on one
page and every KPI labelled, the wide sheets across pages with their titles repeated and no KPI split,
the round and page numbers in every footer, N/A in grey; every text fits its column or wraps in a row as
tall as the layout estimates (``consolidated.paper``)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cdd_scorer.consolidated import CHARTS_SHEET, SUMMARY_SHEET, paper, write_consolidated
from cdd_scorer.demo import DEMO_PROVINCE, fill_demo_inputs
from cdd_scorer.geography import districts_of, find_province
from cdd_scorer.round import run_round
from cdd_scorer.template import write_templates

pytestmark = pytest.mark.filterwarnings("ignore:.*(extension is not supported|no default style).*:UserWarning")
GENERATED = dt.datetime(2022, 10, 5, 9, 0)
DETAIL_SHEETS = ("ทีม", "รายบุคคล")
# Pages each sheet of the demo's workbook prints on (Khon Kaen, 26 districts): at most, and at least.
PAGES = {"สรุป": (2, 2), "ทีม": (4, 8), "รายบุคคล": (8, 14), "แผนภูมิ": (7, 10), "กลุ่มงาน": (4, 5),
         "เกณฑ์": (3, 8), "ข้อมูล": (4, 10), "ปัญหา": (1, 1), "ที่มา": (1, 3)}


@pytest.fixture(scope="module")
def workbook(tmp_path_factory, kpi_set) -> Path:
    """The demo round's consolidated workbook."""
    root = tmp_path_factory.mktemp("print")
    areas = districts_of(find_province(DEMO_PROVINCE))
    fill_demo_inputs(kpi_set, write_templates(kpi_set, areas, root / "templates"), areas, root / "input")
    return write_consolidated(run_round(root / "input", kpi_set), root / "consolidated.xlsx", generated_at=GENERATED)


@pytest.fixture(scope="module")
def pages(workbook, libreoffice) -> list[str]:
    """The text of every page LibreOffice prints."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = libreoffice.convert([workbook], "pdf", workbook.parent / "pdf")[0]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def bare(text: str) -> str:
    """Text without Thai vowel and tone marks and spaces: what survives pdftotext's reordering of them."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn" and not ch.isspace())


def header_titles(workbook: Path) -> dict[str, str]:
    """Each sheet's title in its page header."""
    wb = openpyxl.load_workbook(workbook)
    return {ws.title: re.sub(r'&"[^"]*"&\d+', "", ws.oddHeader.left.text or "") for ws in wb.worksheets}


def pages_by_sheet(workbook: Path, pages: list[str]) -> dict[str, int]:
    """How many pages each sheet prints on, by the header title at the top of each page."""
    titles = {bare(title): sheet for sheet, title in header_titles(workbook).items()}
    counts = dict.fromkeys(titles.values(), 0)
    for page in pages:
        first = next(line for line in page.splitlines() if line.strip())
        counts[titles[bare(first)]] += 1
    return counts


def column_widths(ws) -> dict[int, float]:
    """The width (digits) of every column set (1-based), as XlsxWriter stores it (+ its padding)."""
    return {c: dim.width for dim in ws.column_dimensions.values() if dim.min for c in range(dim.min, dim.max + 1)}


def test_pages_per_sheet(workbook, pages):
    counts = pages_by_sheet(workbook, pages)
    assert {sheet: n for sheet, n in counts.items() if not PAGES[sheet][0] <= n <= PAGES[sheet][1]} == {}, counts


def test_every_page_has_the_round_and_its_number_in_the_footer(workbook, pages, kpi_set):
    for number, page in enumerate(pages, start=1):
        assert f"หน้า {number} / {len(pages)}" in page and bare(kpi_set.round_th) in bare(page)
    for ws in openpyxl.load_workbook(workbook).worksheets:
        assert "&P" in ws.oddFooter.right.text and kpi_set.round_th in ws.oddFooter.left.text, ws.title


def test_every_chart_prints_whole_on_a_page_of_its_own(workbook, pages):
    ws = openpyxl.load_workbook(workbook)[CHARTS_SHEET]
    breaks = sorted(b.id for b in ws.row_breaks.brk)
    anchors = [(c.anchor._from.row, c.anchor.to.row) for c in ws._charts]
    assert len(anchors) == 5
    for first, last in anchors:
        assert not [b for b in breaks if first < b <= last], (first, last, breaks)
    assert all(any(a[1] < b <= z[0] for b in breaks) for a, z in zip(anchors, anchors[1:]))  # one per page
    titles = ["Overall % by district", "Team scorecard", "Individual scorecard", "Districts per level",
              "Province level per KPI"]
    charts_title = bare(header_titles(workbook)[CHARTS_SHEET])
    charts = [page for page in pages if bare(next(line for line in page.splitlines() if line.strip())) == charts_title]
    on_page = [[i for i, page in enumerate(charts[:len(titles)]) if title in " ".join(page.split())]
               for title in titles]
    assert on_page == [[i] for i in range(len(titles))]  # the charts' pages come first, a chart on each


def test_the_districts_per_level_chart_labels_every_kpi(workbook, pages, kpi_set):
    with zipfile.ZipFile(workbook) as zf:
        charts = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/chart")]
    for chart in charts:  # every category axis labels every category
        assert chart.count("<c:catAx>") == chart.count('<c:tickLblSkip val="1"/>')
    page = next(p for p in pages if "Districts per level" in " ".join(p.split()))
    assert {k.id for k in kpi_set.kpis} <= set(page.split())


def test_wide_sheets_print_across_pages_with_titles_and_whole_kpis(workbook):
    wb = openpyxl.load_workbook(workbook)
    for name in DETAIL_SHEETS:
        ws = wb[name]
        assert ws.print_title_rows == "$3:$4" and ws.print_title_cols == "$A:$D"
        assert ws.page_setup.scale == paper.READABLE_SCALE and ws.page_setup.orientation == "landscape"
        breaks = [b.id for b in ws.col_breaks.brk]
        assert breaks
        kpis = [(m.min_col - 1, m.max_col - 1) for m in ws.merged_cells.ranges if m.min_row == 3 and m.min_col > 1]
        assert not [(k, b) for k in kpis for b in breaks if k[0] < b <= k[1]]


def test_summary_fits_one_page_wide_at_a_readable_scale(workbook):
    ws = openpyxl.load_workbook(workbook)[SUMMARY_SHEET]
    assert paper.READABLE_SCALE <= ws.page_setup.scale <= 100
    assert ws.print_title_rows == "$4:$4"


def test_not_assessed_levels_show_na_in_grey_and_stay_empty(workbook, pages):
    wb = openpyxl.load_workbook(workbook)
    rules = [r for ws in wb.worksheets for cf in ws.conditional_formatting for r in cf.rules
             if r.type == "expression" and "ISTEXT" in r.formula[0]]
    assert len(rules) > 20 and all(r.dxf.numFmt.formatCode.endswith(';"N/A"') for r in rules)
    cached = openpyxl.load_workbook(workbook, data_only=True)[SUMMARY_SHEET]
    assert not [c for ws in cached.parent.worksheets for row in ws.iter_rows() for c in row if c.value == "N/A"]
    assert "N/A" in pages[0]


def shown(cell) -> str | None:
    """A cell's value as its format shows it, for the width it needs (None: not checked)."""
    value = cell.value
    if isinstance(value, str):
        return value
    fmt = cell.number_format
    if isinstance(value, dt.datetime | dt.date):
        return paper.shown_value(value if "h" in fmt else dt.date(value.year, value.month, value.day))
    if isinstance(value, int | float) and not isinstance(value, bool):
        decimals = len(m.group(1)) if (m := re.search(r"\.(0+)", fmt)) else 0
        return f"{value:{',' if ',' in fmt else ''}.{decimals}f}" + (" บาท" if "บาท" in fmt else "")
    return None


def test_every_text_fits_its_column_or_wraps_in_a_tall_enough_row(workbook):
    """A text that is not wrapped fits its columns (merged ones together) unless the next cell is empty (it
    overflows there); a wrapped one fits its row's height, both as ``paper`` estimates them."""
    wb = openpyxl.load_workbook(workbook, rich_text=False)
    values = openpyxl.load_workbook(workbook, data_only=True)
    too_narrow, too_low = [], []
    for ws in wb.worksheets:
        widths = column_widths(ws)
        merged = {(m.min_row, m.min_col): (m.min_col, m.max_col) for m in ws.merged_cells.ranges}
        for row in values[ws.title].iter_rows():
            for cell in row:
                text = shown(cell)
                if not text:
                    continue
                first, last = merged.get((cell.row, cell.column), (cell.column, cell.column))
                room = sum(paper.column_points(widths.get(c, 8.43) - 0.71) for c in range(first, last + 1))
                size, bold = cell.font.sz or 11, bool(cell.font.b)
                if cell.alignment.wrap_text:
                    height = ws.row_dimensions[cell.row].height or 21.75
                    need = (paper.head_height(text, room) if bold and "\n" in text
                            else paper.text_height(text, room, size, bold))
                    if need > height + 0.5:
                        too_low.append((ws.title, cell.coordinate, text[:40], need, height))
                else:
                    overflows = (isinstance(cell.value, str) and not cell.alignment.horizontal
                                 and values[ws.title].cell(cell.row, last + 1).value in (None, ""))
                    if not overflows and paper.text_points(text, size, bold) + paper.CELL_MARGINS > room + 0.5:
                        too_narrow.append((ws.title, cell.coordinate, text[:40], room))
    assert too_narrow == [] and too_low == []
