"""A1-style cell references, for readers that do not open a workbook library."""

from __future__ import annotations


def column_number(letters: str) -> int:
    """``A`` → 1, ``AB`` → 28."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - ord("A") + 1
    return number


def column_letters(number: int) -> str:
    """1 → ``A``, 16384 → ``XFD``."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_index(cell: str) -> tuple[int, int]:
    """``D12`` → (11, 3), zero-based."""
    letters = cell.rstrip("0123456789")
    return int(cell[len(letters):]) - 1, column_number(letters) - 1
