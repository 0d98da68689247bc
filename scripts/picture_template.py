"""Regenerate docs/entry-sheet.png, the README's picture of the district entry sheet.

The first district of Khon Kaen, filled with the worked example of SPEC §10, is opened by
LibreOffice (formulas recalculated), printed to PDF, and the first page of the entry sheet is
rendered to PNG with pdftoppm (poppler-utils).

    python scripts/picture_template.py [--out docs/entry-sheet.png]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cdd_scorer.demo import DEMO_PROVINCE, WORKED_EXAMPLE
from cdd_scorer.filling import fill_template
from cdd_scorer.geography import districts_of, find_province
from cdd_scorer.kpi import load_kpi_set
from cdd_scorer.libreoffice import LibreOffice, LibreOfficeError
from cdd_scorer.template import TemplateOptions, write_template

ENTRY_SHEET_PAGE = 2  # the instructions sheet prints on one page, the entry sheet follows
EXAMPLE_OPTIONS = TemplateOptions(clerk_name="นางสาวตัวอย่าง ใจดี", clerk_phone="043-000000",
                                  clerk_email="clerk@example.go.th", deadline=dt.date(2022, 10, 14),
                                  generated_at=dt.datetime(2022, 9, 1, 9, 0))


def render(out: Path, resolution: int = 110) -> Path:
    """Write the PNG of the entry sheet's first page to ``out``."""
    if shutil.which("pdftoppm") is None:
        raise SystemExit("ต้องติดตั้ง poppler-utils (pdftoppm) / install poppler-utils (pdftoppm) first")
    kpi_set = load_kpi_set()
    area = districts_of(find_province(DEMO_PROVINCE))[0]
    with tempfile.TemporaryDirectory(prefix="cdd-picture-") as work:
        root = Path(work)
        template = write_template(kpi_set, area, root / "template.xlsx", EXAMPLE_OPTIONS)
        filled = fill_template(template, WORKED_EXAMPLE, root / "entry-sheet.xlsx")
        try:
            (pdf,) = LibreOffice(root / "profile").convert([filled], "pdf", root / "pdf")
        except LibreOfficeError as exc:
            raise SystemExit(f"LibreOffice แปลงไฟล์ไม่ได้ / LibreOffice failed: {exc}") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        page = str(ENTRY_SHEET_PAGE)
        subprocess.run(["pdftoppm", "-f", page, "-l", page, "-r", str(resolution), "-png", "-singlefile",
                        str(pdf), str(out.with_suffix(""))], check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "entry-sheet.png")
    args = parser.parse_args(argv)
    print(render(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
