"""Exact numbers for everything that decides a level (SPEC §4: decimal arithmetic, round once).

A value typed into a cell is a decimal (``2090.11``), but a spreadsheet stores it as the nearest binary
float, and binary arithmetic on those floats drifts (2200 − 2090.11 = 109.88999999999987). Here every
typed value becomes the decimal it was typed as, results are computed as exact fractions, and the one
rounding that is compared with a threshold is half away from zero, as Excel's ``ROUND`` documents.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

Number = int | float | Decimal | Fraction


def typed_decimal(value: float | int | Decimal) -> Decimal:
    """The decimal a cell's number was typed as: the shortest decimal that reads back as the same float
    (``2090.11``, not 2090.1100000000000136…)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a yes/no is not a number")
    return Decimal(value) if isinstance(value, int) else Decimal(repr(float(value)))


def exact(value: Number) -> Fraction:
    """A number as an exact fraction; floats (card thresholds, weights) by their decimal spelling."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def round_half_away(value: Number, decimals: int) -> Decimal:
    """Round half away from zero to ``decimals`` places, exactly (4.995 → 5.00, −2.5 → −3)."""
    scaled = exact(value) * 10**decimals
    whole = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    return Decimal(-whole if scaled < 0 else whole).scaleb(-decimals)
