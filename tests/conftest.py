"""Shared fixtures: the KPI card, a LibreOffice session, generated templates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cdd_scorer.geography import districts_of, find_province
from cdd_scorer.kpi import KpiSet, load_kpi_set
from cdd_scorer.libreoffice import LibreOffice, find_soffice

REQUIRE_LIBREOFFICE = os.environ.get("CDD_REQUIRE_LIBREOFFICE") == "1"


@pytest.fixture(scope="session")
def kpi_set() -> KpiSet:
    return load_kpi_set()


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory: pytest.TempPathFactory) -> LibreOffice:
    """One LibreOffice profile for the whole session; skips (or fails, when
    CDD_REQUIRE_LIBREOFFICE=1) without LibreOffice."""
    if find_soffice() is None:
        if REQUIRE_LIBREOFFICE:
            pytest.fail("LibreOffice is required (CDD_REQUIRE_LIBREOFFICE=1) but not installed")
        pytest.skip("LibreOffice is not installed")
    return LibreOffice(tmp_path_factory.mktemp("lo-profile"))


@pytest.fixture(scope="session")
def khon_kaen_areas():
    return districts_of(find_province("40"))


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory, kpi_set: KpiSet,
                 khon_kaen_areas) -> Path:
    """Templates of the first three districts of Khon Kaen, written once per session."""
    from cdd_scorer.template import write_templates

    out = tmp_path_factory.mktemp("templates")
    write_templates(kpi_set, khon_kaen_areas[:3], out)
    return out


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own folder: commands that write beside the clerk (history.sqlite in the
    current folder) never touch the repository, and no test sees another's files."""
    monkeypatch.chdir(tmp_path)
