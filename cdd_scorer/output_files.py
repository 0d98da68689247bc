"""Writing outputs safely: each file goes to a temporary name and is renamed into place.

A half-written file is never left behind, and a file locked by Excel (Windows refuses to replace
it) becomes an ``OutputError`` with a clear Thai/English message instead of a traceback.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


class OutputError(OSError):
    """An output that could not be written; the message says which and why, in Thai and English."""


def ensure_folder(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"สร้างโฟลเดอร์ผลลัพธ์ {folder} ไม่ได้ / cannot create the output folder {folder}: "
            f"{exc.strerror or exc}") from None
    return folder


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``."""
    ensure_folder(path.parent)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".tmp",
                                        dir=path.parent)
    except OSError as exc:
        raise OutputError(
            f"เขียนไฟล์ในโฟลเดอร์ {path.parent} ไม่ได้ / cannot write in {path.parent}: "
            f"{exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
        except OutputError:
            raise
        except OSError as exc:  # e.g. the disk filled up while the file was written
            raise OutputError(f"เขียนไฟล์ {path} ไม่ได้ / cannot write {path}: {exc.strerror or exc}") from None
        try:
            os.replace(tmp, path)
        except PermissionError:
            raise OutputError(
                f"ไฟล์ {path} เปิดค้างอยู่ (เช่นใน Excel) ปิดไฟล์แล้วสั่งใหม่ / "
                f"{path} is open in another program (Excel?): close it and run again") from None
        except OSError as exc:
            raise OutputError(f"เขียนไฟล์ {path} ไม่ได้ / cannot write {path}: "
                              f"{exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
