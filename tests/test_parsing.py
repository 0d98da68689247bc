"""Parsing what people type (SPEC §5): never raises, returns a value or a problem, never guesses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pythainlp.util import arabic_digit_to_thai_digit
from pythainlp.util.date import thai_abbr_months, thai_full_months

from cdd_scorer.parsing import (
    PARSERS,
    excel_serial_to_date,
    is_error_value,
    parse_cell,
    parse_date,
    parse_number,
    parse_text,
    parse_yesno,
)
from cdd_scorer.problems import CATALOGUE

EXCEL_EPOCH = dt.date(1899, 12, 30)
raw_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(), st.dates(), st.datetimes(), st.times(), st.timedeltas(),
    st.text(alphabet="0123456789๐๑๒๓๔๕๖๗๘๙,. -+()%บาท฿/eE"),
)
money = st.decimals(min_value=0, max_value=10**10, places=2, allow_nan=False, allow_infinity=False)
# BE 2500–2599, so that two-digit years (65 = 2565) are meant too
be_dates = st.dates(min_value=dt.date(1957, 1, 1), max_value=dt.date(2056, 12, 31))


@given(st.sampled_from(sorted(PARSERS)), raw_values)
def test_parsing_never_raises_and_gives_a_value_or_a_known_problem(field_type, raw):
    parsed = parse_cell(field_type, raw)
    assert parsed.ok or (parsed.problem in CATALOGUE and parsed.value is None and parsed.expected_en)


@given(st.integers(min_value=0, max_value=10**12))
def test_thai_digits_round_trip(number):
    assert parse_number(arabic_digit_to_thai_digit(str(number))).value == number
    assert parse_number(arabic_digit_to_thai_digit(f"{number:,}")).value == number


@given(money, st.sampled_from(["{:,.2f} บาท", "฿{:,.2f}", " {:.2f} ", "{:,.2f}%", "{:,.2f}บาท", "{:.2f} THB"]))
def test_numbers_with_separators_and_units_round_trip_exactly(amount, form):
    assert parse_number(form.format(amount)).value == amount.quantize(Decimal("0.01"))


@given(st.text(alphabet="กขคงabcxyz", min_size=1))
def test_words_are_not_numbers(text):
    assert parse_number(text).problem == "wrong_type"


@given(be_dates)
def test_be_dates_typed_as_text_round_trip(day):
    be = day.year + 543
    typed = [f"{day.day}/{day.month}/{be}", f"{day.day}/{day.month:02d}/{be % 100:02d}",
             f"{day.day} {thai_abbr_months[day.month - 1]} {be}", f"{day.day} {thai_full_months[day.month - 1]} {be}",
             f"{day.day} {thai_abbr_months[day.month - 1]} {be % 100:02d}", day.isoformat(),
             arabic_digit_to_thai_digit(f"{day.day}/{day.month}/{be}")]
    assert [parse_date(text).value for text in typed] == [day] * len(typed)


@given(be_dates)
def test_a_be_year_typed_into_an_ad_date_cell_moves_back_543_years(day):
    try:
        typed = dt.date(day.year + 543, day.month, day.day)
    except ValueError:  # 29 February of a year that is not leap in BE
        assume(False)
    assert parse_date(typed).value == day
    assert parse_date(dt.datetime.combine(typed, dt.time(9, 30))).value == day


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2399, 12, 31)))
def test_excel_serials_round_trip(day):
    serial = (day - EXCEL_EPOCH).days
    assert excel_serial_to_date(serial) == day
    assert parse_date(serial).value == day
    assert parse_date(float(serial)).value == day


@given(st.text(alphabet="กขคงabcxyz!?", min_size=1))
def test_text_that_is_not_a_date_is_a_problem_not_a_guess(text):
    assume(text.strip().lower() not in ("", "วันที่", "วัน"))
    parsed = parse_date(text)
    assert parsed.problem == "wrong_type" and parsed.value is None


@pytest.mark.parametrize("typed", ["ใช่", "มี", "yes", "Y", "TRUE", "1", "✓", " ใช่ ", True, 1])
def test_yes_words(typed):
    assert parse_yesno(typed).value is True


@pytest.mark.parametrize("typed", ["ไม่ใช่", "ไม่มี", "no", "n", "FALSE", "0", False, 0])
def test_no_words(typed):
    assert parse_yesno(typed).value is False


@pytest.mark.parametrize("typed", ["maybe", "ใช่ไหม", 2, "ok?"])
def test_other_yes_no_answers_are_problems(typed):
    assert parse_yesno(typed).problem == "wrong_type"


@pytest.mark.parametrize("error", ["#DIV/0!", "#REF!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", " #div/0! "])
def test_spreadsheet_error_values_are_recognised(error):
    assert is_error_value(error)


@pytest.mark.parametrize("value", ["#1", "DIV/0", 0, None, "#ช่องว่าง"])
def test_other_values_are_not_error_values(value):
    assert not is_error_value(value)


@pytest.mark.parametrize("raw, expected", [(1234.0, "1234"), ("  สมชาย  ", "สมชาย"), ("", None), (None, None)])
def test_text_is_stripped_and_whole_numbers_lose_their_point(raw, expected):
    assert parse_text(raw).value == expected


@pytest.mark.parametrize("typed, expected", [("(1,234.50)", -1234.5), ("1.2e3", 1200.0), ("๑๒๓", 123.0),
                                             ("1 234", 1234.0), ("−5", -5.0)])
def test_number_forms_people_type(typed, expected):
    assert parse_number(typed).value == expected


@pytest.mark.parametrize("typed", ["1,23", "12,34,567", "1.2.3", "12 บาท 50", "nan", "inf", "--5"])
def test_ambiguous_numbers_are_problems(typed):
    assert parse_number(typed).problem == "wrong_type"
