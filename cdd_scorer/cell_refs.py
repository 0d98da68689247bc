"""A1-style cell references and the extent a sheet's cells span, for readers that do not open a
workbook library."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class SheetExtent:
    """The rectangle a worksheet's cells span (what a dense grid reader allocates). ``sheet`` is its zip
    member (.xlsx) or its name (.ods); rows and columns count from 1."""

    sheet: str
    first_row: int
    last_row: int
    first_column: int
    last_column: int

    @property
    def cells(self) -> int:
        return self.height * self.width

    @property
    def height(self) -> int:
        return max(0, self.last_row - self.first_row + 1)

    @property
    def width(self) -> int:
        return max(0, self.last_column - self.first_column + 1)

    @property
    def last_cell(self) -> str:
        """The bottom-right corner, where Ctrl+End goes: ``XFD1048576``."""
        return f"{column_letters(self.last_column)}{self.last_row}"

    def describe(self) -> str:
        return f"{self.height:,} rows × {self.width:,} columns"
