"""Regenerate the README pictures of the consolidated workbook: docs/summary.png and docs/chart.png.

Runs the demo round (Khon Kaen, synthetic answers) in a temporary folder, writes the managers'
workbook, prints it with LibreOffice to PDF and turns the summary page and the first chart page
into PNG files with pdftoppm. Usage: ``python scripts/picture_consolidated.py [--out docs]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import tempfile
from pathlib import Path

from cdd_scorer.consolidated import write_consolidated
from cdd_scorer.demo import DEMO_PROVINCE, fill_demo_inputs
from cdd_scorer.geography import districts_of, find_province
from cdd_scorer.kpi import load_kpi_set
from cdd_scorer.libreoffice import LibreOffice
from cdd_scorer.round import run_round
from cdd_scorer.template import write_templates

GENERATED = dt.datetime(2022, 10, 5, 9, 0)
CHART_PAGE_MARK = "Overall % by district"
RESOLUTION = 110


def page_with(pdf: Path, text: str) -> int:
    """The first page (1-based) of the PDF whose text contains ``text``."""
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    return next(i + 1 for i, page in enumerate(pages) if text in page)


def render_page(pdf: Path, page: int, target: Path) -> Path:
    stem = target.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(RESOLUTION), "-png", "-singlefile", "-f", str(page), "-l",
                    str(page), str(pdf), str(stem)], check=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs")
    args = parser.parse_args()
    kpi_set = load_kpi_set()
    with tempfile.TemporaryDirectory(prefix="cdd-pictures-") as tmp:
        work = Path(tmp)
        areas = districts_of(find_province(DEMO_PROVINCE))
        templates = write_templates(kpi_set, areas, work / "templates")
        fill_demo_inputs(kpi_set, templates, areas, work / "input")
        result = run_round(work / "input", kpi_set)
        workbook = write_consolidated(result, work / "consolidated.xlsx", generated_at=GENERATED)
        pdf = LibreOffice(work / "profile").convert([workbook], "pdf", work / "pdf")[0]
        args.out.mkdir(parents=True, exist_ok=True)
        render_page(pdf, 1, args.out / "summary.png")
        render_page(pdf, page_with(pdf, CHART_PAGE_MARK), args.out / "chart.png")
    print(f"wrote {args.out / 'summary.png'} and {args.out / 'chart.png'}")


if __name__ == "__main__":
    main()
