"""Provinces and districts of Thailand (DOPA codes) from the ``geothai`` package.

Community Development works in the 76 provinces outside Bangkok; Bangkok's districts (เขต) have
no CD district offices, so it is not a province this tool scores.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import geothai
from geothai.types import District, Province

from cdd_scorer.thai import arabic_digits, normal_thai_spelling

BANGKOK_CODE = "10"


class UnknownProvinceError(ValueError):
    """A province name or code that cannot be used, with a message in Thai and English."""


@dataclass(frozen=True)
class Area:
    """A district (อำเภอ) with its province."""

    province_code: str
    province_name_th: str
    province_name_en: str
    district_code: str
    district_name_th: str
    district_name_en: str


def cd_provinces() -> list[Province]:
    """The 76 provinces with CD district offices (every province but Bangkok)."""
    return [p for p in geothai.provinces() if p.code != BANGKOK_CODE]


def _key(text: str) -> str:
    return geothai.normalize(normal_thai_spelling(text).removeprefix("จังหวัด").removeprefix("จ."))


def find_province(query: str) -> Province:
    """A province by DOPA code (40 or ๔๐), Thai name (ขอนแก่น, also typed ขอนเเก่น with sara e twice) or
    English name (Khon Kaen); spaces and case do not matter."""
    text = query.strip()
    code = arabic_digits(text).replace(" ", "")
    found = geothai.province(code) if code.isdigit() else None
    if found is None:
        key = _key(text)
        found = next((p for p in geothai.provinces()
                      if key in (_key(p.name_th), _key(p.name_en))), None)
    if found is not None and found.code == BANGKOK_CODE:
        raise UnknownProvinceError(
            "กรุงเทพมหานครไม่มีสำนักงานพัฒนาชุมชนอำเภอ / Bangkok has no CD district offices")
    if found is None:
        names = {p.name_th: p for p in cd_provinces()} | {p.name_en.lower(): p for p in cd_provinces()}
        close = difflib.get_close_matches(text.lower(), list(names), n=3, cutoff=0.7)
        hint = ", ".join(f"{names[c].name_th} ({names[c].name_en}, {names[c].code})" for c in close)
        raise UnknownProvinceError(
            f"ไม่พบจังหวัด '{query}' / unknown province '{query}'"
            + (f" — หมายถึง / did you mean: {hint}?" if hint else
               " — ใช้รหัส ๒ หลัก เช่น 40 หรือชื่อ เช่น ขอนแก่น / use a 2-digit code or a name"))
    return found


def districts_of(province: Province) -> list[Area]:
    """The districts of a province, sorted by code."""
    return [_area(province, d) for d in geothai.districts(province.code)]


def area_of(district_code: str) -> Area | None:
    """The district with this DOPA code, or None."""
    d: District | None = geothai.district(district_code)
    if d is None or d.province_code == BANGKOK_CODE:
        return None
    return _area(geothai.province(d.province_code), d)


def _area(p: Province, d: District) -> Area:
    return Area(p.code, p.name_th, p.name_en, d.code, d.name_th, d.name_en)
