"""Finding a province the way a clerk types it (issue 12 finding 5)."""

from __future__ import annotations

import pytest

from cdd_scorer.geography import UnknownProvinceError, find_province


@pytest.mark.parametrize("typed", ["40", "๔๐", " 4 0 ", "ขอนแก่น", "ขอนเเก่น", "จ.ขอนเเก่น", "จังหวัด ขอนแก่น",
                                   "Khon Kaen", "khon  kaen"])
def test_spelling_variants_digits_and_spaces_find_the_same_province(typed):
    assert find_province(typed).code == "40"


def test_sara_am_typed_as_nikhahit_and_sara_aa_is_the_same_letter():
    assert find_province("ลําปาง").code == find_province("ลำปาง").code == "52"


def test_a_name_that_is_no_province_still_gets_a_hint():
    with pytest.raises(UnknownProvinceError, match="ขอนแก่น"):
        find_province("ขอนแก่")
