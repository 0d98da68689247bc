"""Where printed pages break: shared by the entry template and the consolidated workbook."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def page_breaks(units: Sequence[tuple[int, int]], size: Callable[[int], float], first_page_used: float,
                room: float) -> list[int]:
    """The rows (or columns) that start a new page, so that no unit (first, last) is split over two pages.

    ``units`` follow each other; ``size`` gives each row's height (or column's width); ``room`` is what a
    page holds below (or beside) its repeated titles, ``first_page_used`` what the first page already
    prints. A unit larger than a page starts a page and is cut where it must be."""
    out: list[int] = []
    used = first_page_used
    for first, last in units:
        whole = sum(size(i) for i in range(first, last + 1))
        if used + whole > room and used > 0:
            out.append(first)
            used = 0.0
        if whole <= room:
            used += whole
            continue
        for i in range(first, last + 1):
            if used + size(i) > room and used > 0:
                out.append(i)
                used = 0.0
            used += size(i)
    return out
