"""Which files of an input folder are the districts' submissions.

A clerk's input folder also holds what the operating system and sync tools put there: Windows'
``desktop.ini`` and ``Thumbs.db``, macOS's ``.DS_Store`` and ``._name`` resource forks (also inside
``__MACOSX`` folders of a zip), a repository's ``.gitkeep``, the recycle bin of a USB stick. Those are
skipped silently, at any depth. Office lock files (``~$name.xlsx``, LibreOffice's ``.~lock.name#``) are
kept: the reader reports each with a line saying it was skipped (SPEC §5), since it means the workbook
is open on this PC.
"""

from __future__ import annotations

import stat
from pathlib import Path

from cdd_scorer.reading import is_lock_file

SYSTEM_FILE_NAMES = frozenset({"desktop.ini", "thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", ".ds_store",
                               "icon\r"})
SYSTEM_FOLDER_NAMES = frozenset({"__macosx", "$recycle.bin", "system volume information"})
# Windows marks desktop.ini, Thumbs.db and the like "system"; files people save never are.
_WINDOWS_SYSTEM = stat.FILE_ATTRIBUTE_SYSTEM


def list_input_files(input_dir: Path) -> list[Path]:
    """Every file below the input folder, sorted; system files, dotfiles and hidden or system folders
    skipped (lock files kept, see the module text)."""
    return sorted(p for p in input_dir.rglob("*") if p.is_file() and not _skipped(p, input_dir))


def is_system_file(path: Path) -> bool:
    """A file that the operating system or a sync tool made, never a district's submission."""
    if is_lock_file(path):
        return False
    name = path.name.lower()
    return name in SYSTEM_FILE_NAMES or name.startswith(".") or bool(_file_attributes(path) & _WINDOWS_SYSTEM)


def _skipped(path: Path, input_dir: Path) -> bool:
    *folders, _ = path.relative_to(input_dir).parts
    return is_system_file(path) or any(
        folder.startswith(".") or folder.lower() in SYSTEM_FOLDER_NAMES for folder in folders)


def _file_attributes(path: Path) -> int:
    """Windows' file attributes (0 elsewhere, and when the file cannot be looked at)."""
    try:
        return getattr(path.stat(), "st_file_attributes", 0)
    except OSError:
        return 0
