"""A second spreadsheet engine agrees (issue 15): Gnumeric (``ssconvert --recalc``) recalculates every
formula of the consolidated workbook, the demo province and a two-province run, step and linear, to the
value the workbook caches (the Python engine's), and every formula of the demo's 25 filled entry
workbooks to the value LibreOffice computes. Skipped when Gnumeric is not installed
(``apt-get install gnumeric``; CI installs it)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from cdd_scorer.consolidated import write_consolidated
from cdd_scorer.demo import DEMO_PROVINCE, fill_demo_inputs, synthetic_answers
from cdd_scorer.filling import fill_template
from cdd_scorer.geography import districts_of, find_province
from cdd_scorer.round import run_round
from cdd_scorer.template import write_templates

SSCONVERT = shutil.which("ssconvert")
pytestmark = [pytest.mark.skipif(SSCONVERT is None, reason="Gnumeric (ssconvert) is not installed"),
              pytest.mark.filterwarnings("ignore:.*(extension is not supported|no default style).*:UserWarning")]
GENERATED = dt.datetime(2022, 10, 5, 9, 30)
SECOND_PROVINCE = "75"  # Samut Songkhram: three districts, all answered


def gnumeric_recalculated(path: Path, out_dir: Path) -> Path:
    """A copy of the workbook as Gnumeric recalculated and saved it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / path.name
    subprocess.run([SSCONVERT, "--recalc", str(path), str(out)], check=True, capture_output=True,
                   timeout=300, stdin=subprocess.DEVNULL)
    return out


def formulas_of(path: Path) -> list[tuple[str, str, str]]:
    """(sheet, cell, formula) of every formula in the workbook."""
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=")]


def comparable(value: Any) -> Any:
    """A cell value as both engines can hold it: an empty result is "", numbers compared to 1e-9."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(float(value), 9)
    return value


def disagreements(original: Path, expected: Path, second: Path) -> tuple[int, list[tuple]]:
    """How many formulas ``original`` has, and those whose value in ``second`` is not the one in ``expected``."""
    formulas = formulas_of(original)
    want = openpyxl.load_workbook(expected, data_only=True)
    got = openpyxl.load_workbook(second, data_only=True)
    differ = [(sheet, cell, want[sheet][cell].value, got[sheet][cell].value, formula[:160])
              for sheet, cell, formula in formulas
              if comparable(want[sheet][cell].value) != comparable(got[sheet][cell].value)]
    return len(formulas), differ


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory, kpi_set) -> Path:
    """The demo's input folder (25 of Khon Kaen's 26 districts, one with errors) and a second province's
    three districts in a folder of their own."""
    root = tmp_path_factory.mktemp("second-engine")
    areas = districts_of(find_province(DEMO_PROVINCE))
    fill_demo_inputs(kpi_set, write_templates(kpi_set, areas, root / "templates"), areas, root / "input" / "demo")
    other = districts_of(find_province(SECOND_PROVINCE))
    for area, path in zip(other, write_templates(kpi_set, other, root / "templates75")):
        fill_template(path, synthetic_answers(kpi_set, area), root / "input" / "other" / path.name)
    return root / "input"


@pytest.fixture(scope="module")
def consolidated(demo_inputs, kpi_set, tmp_path_factory) -> list[Path]:
    """The consolidated workbooks of the demo province and of both provinces, step and linear."""
    out = tmp_path_factory.mktemp("consolidated")
    written = []
    for name, folder in (("demo", demo_inputs / "demo"), ("two_provinces", demo_inputs)):
        for method in ("step", "linear"):
            result = run_round(folder, kpi_set, method)
            written.append(write_consolidated(result, out / f"{name}_{method}.xlsx", generated_at=GENERATED))
    return written


def test_gnumeric_computes_every_cached_value_of_the_consolidated_workbook(consolidated, tmp_path):
    for path in consolidated:
        count, differ = disagreements(path, path, gnumeric_recalculated(path, tmp_path))
        assert count > 2000, path.name
        assert differ == [], path.name


def test_gnumeric_recalculates_rather_than_keeping_the_cached_values(consolidated, tmp_path):
    """A workbook whose every cached value is wrong comes back right: the comparison above is not vacuous."""
    original = consolidated[-1]
    poisoned = tmp_path / "poisoned.xlsx"
    wb = openpyxl.load_workbook(original)
    wb.save(poisoned)  # openpyxl keeps the formulas and drops every cached value
    assert disagreements(original, original, poisoned)[1] != []
    assert disagreements(original, original, gnumeric_recalculated(poisoned, tmp_path / "fresh"))[1] == []


def test_gnumeric_and_libreoffice_agree_on_every_formula_of_filled_entry_workbooks(demo_inputs, libreoffice,
                                                                                    tmp_path):
    filled = sorted((demo_inputs / "demo").glob("*.xlsx"))
    assert len(filled) == 25
    by_libreoffice = libreoffice.recalculate(filled, tmp_path / "libreoffice")
    total = 0
    for path, expected in zip(filled, by_libreoffice):
        count, differ = disagreements(path, expected, gnumeric_recalculated(path, tmp_path / "gnumeric"))
        total += count
        assert differ == [], path.name
    assert total > 25 * 100
