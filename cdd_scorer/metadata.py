"""What an entry template says about itself: its identity and where each input cell is.

The hidden sheet ``_meta`` holds two columns, key and value. The reader identifies a district
from it (never from the file name), and checks that the workbook was made for the KPI card being
scored. Each input's address is stored as ``cell.<field id>`` = ``<sheet>!<cell>``; the entry
sheet also keeps each field id in column A of its row, so a moved row is still found. A correction
workbook (``feedback``) adds its lineage, ``corrects.sha256`` and ``corrects.saved_at``: the submission
it was made from, which it supersedes when it comes back. Templates without them still read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: the reader's worker processes need not import geothai
    from cdd_scorer.geography import Area
    from cdd_scorer.kpi import KpiSet

META_SHEET = "_meta"
PRODUCT = "cdd-scorer"
KEY_COLUMN = "A"
CELL_PREFIX = "cell."
LINEAGE_PREFIX = "corrects."


def template_id(kpi_set: KpiSet, area: Area) -> str:
    """The template's identity: the card, its fingerprint and the district, e.g. ``cdd-fy2565-r2-4001-1a2b3c4d``."""
    digest = hashlib.sha256(f"{kpi_set.id}|{kpi_set.fingerprint}|{area.district_code}".encode())
    return f"{kpi_set.id}-{area.district_code}-{digest.hexdigest()[:8]}"


def template_file_name(area: Area) -> str:
    """ASCII-safe file name: ``<district code>_<English name>.xlsx``."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", area.district_name_en).strip("_")
    return f"{area.district_code}_{name or 'district'}.xlsx"


@dataclass(frozen=True)
class Lineage:
    """The submission a correction workbook was made from: its SHA-256 and saved time (ISO text, empty
    when unknown)."""

    sha256: str
    saved_at: str = ""

    def rows(self) -> list[tuple[str, str]]:
        """Key/value rows for the metadata sheet."""
        return [(LINEAGE_PREFIX + k, v) for k, v in asdict(self).items()]


@dataclass(frozen=True)
class TemplateMetadata:
    """Identity of one district's entry template."""

    template_id: str
    kpi_set_id: str
    kpi_fingerprint: str
    province_code: str
    province_name_th: str
    province_name_en: str
    district_code: str
    district_name_th: str
    district_name_en: str
    tool_version: str
    generated_at: str
    product: str = PRODUCT
    cells: dict[str, str] = field(default_factory=dict)
    corrects: Lineage | None = None  # only in a correction workbook

    def rows(self) -> list[tuple[str, str]]:
        """Key/value rows for the metadata sheet."""
        plain = asdict(self)
        cells = plain.pop("cells")
        plain.pop("corrects")
        lineage = self.corrects.rows() if self.corrects else []
        return list(plain.items()) + lineage + [(CELL_PREFIX + k, v) for k, v in cells.items()]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[object, object]]) -> TemplateMetadata | None:
        """Read the key/value rows back; None when they are not a cdd-scorer template's."""
        values: dict[str, str] = {}
        cells: dict[str, str] = {}
        lineage: dict[str, str] = {}
        for key, value in rows:
            if not isinstance(key, str) or not key:
                continue
            text = "" if value is None else str(value)
            if key.startswith(CELL_PREFIX):
                cells[key.removeprefix(CELL_PREFIX)] = text
            elif key.startswith(LINEAGE_PREFIX):
                lineage[key.removeprefix(LINEAGE_PREFIX)] = text
            else:
                values[key] = text
        if values.get("product") != PRODUCT:
            return None
        names = [f.name for f in fields(cls) if f.name not in ("cells", "corrects")]
        required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
        if any(n not in values for n in required):
            return None
        corrects = Lineage(lineage["sha256"], lineage.get("saved_at", "")) if lineage.get("sha256") else None
        return cls(**{n: values[n] for n in names if n in values}, cells=cells, corrects=corrects)


def split_address(address: str) -> tuple[str, str]:
    """``'ข้อมูล'!E12`` → (``ข้อมูล``, ``E12``)."""
    sheet, _, cell = address.rpartition("!")
    return sheet.strip("'").replace("''", "'"), cell.replace("$", "")


def join_address(sheet: str, cell: str) -> str:
    return "'" + sheet.replace("'", "''") + "'!" + cell
