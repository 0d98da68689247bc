"""The input folder as ``collect`` writes into it: one run at a time, nothing ever replaced.

- A lock file (``.cdd-scorer/collect.lock``, through ``filelock``) lets one ``collect`` write at a
  time; a second run waits, then sees what the first one saved.
- Each file is created exclusively (``open(..., "xb")``): a name that exists at write time, made by
  anyone, is never replaced; the next free ``name (n)`` is taken instead, found in constant time.
- On Windows the full path stays under ``MAX_PATH`` (260 characters) by shortening the name.
- A failed write (full disk, no permission, path too long) raises ``IntakeWriteError``, never a
  read failure: the caller stops the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from cdd_scorer.input_files import list_input_files
from cdd_scorer.output_files import OutputError, ensure_folder
from cdd_scorer.problems import Problem

LOCK_NAME = "collect.lock"
LOCK_WAIT_SECONDS = 600.0
WINDOWS_MAX_PATH = 260  # characters, counting the drive and the terminating NUL
ON_WINDOWS = os.name == "nt"


class IntakeWriteError(OSError):
    """A file could not be written into the input folder."""

    def __init__(self, name: str, reason: str):
        super().__init__(reason)
        self.name = name
        self.reason = reason


class IntakeFolder:
    """The input folder's contents (by SHA-256) and names, while this run holds its lock."""

    def __init__(self, folder: Path, work_folder: Path):
        self.folder = folder
        self.work_folder = work_folder
        self.contents: dict[str, str] = {}
        for path in list_input_files(folder):
            with contextlib.suppress(OSError):  # e.g. a file open in Excel on Windows
                self.contents.setdefault(_file_digest(path), path.relative_to(folder).as_posix())
        self._taken = {p.name.casefold() for p in folder.iterdir()}  # casefold: Windows ignores case
        self._next_number: dict[tuple[str, str], int] = {}

    @classmethod
    @contextlib.contextmanager
    def locked(cls, folder: Path, work_folder: Path) -> Iterator[IntakeFolder]:
        """The folder, locked against other ``collect`` runs until the block ends."""
        ensure_folder(work_folder)
        lock = FileLock(work_folder / LOCK_NAME, timeout=LOCK_WAIT_SECONDS)
        try:
            lock.acquire()
        except Timeout:
            problem = Problem("collect_busy", file=str(folder))
            raise OutputError(f"{problem.message_th} / {problem.message_en}") from None
        try:
            yield cls(folder, work_folder)
        finally:
            lock.release()

    def save(self, name: str, data: bytes, digest: str, mtime: float | None) -> Path:
        """Write ``data`` under ``name`` or the next free ``name (n)``; return where it went."""
        while True:
            target = self.folder / self._free_name(name)
            try:
                created = open(target, "xb")  # noqa: SIM115 - closed below, removed if incomplete
            except FileExistsError:  # made since this run listed the folder
                self._taken.add(target.name.casefold())
                continue
            except OSError as exc:
                raise IntakeWriteError(target.name, exc.strerror or str(exc)) from None
            break
        try:
            with created:
                created.write(data)
            if mtime is not None:
                os.utime(target, (mtime, mtime))
        except OSError as exc:
            target.unlink(missing_ok=True)
            raise IntakeWriteError(target.name, exc.strerror or str(exc)) from None
        self._taken.add(target.name.casefold())
        self.contents[digest] = target.name
        return target

    @contextlib.contextmanager
    def scratch_copy(self, data: bytes, suffix: str) -> Iterator[Path]:
        """``data`` in a temporary file of the work folder (never among the submissions)."""
        try:
            fd, name = tempfile.mkstemp(prefix="checking.", suffix=suffix, dir=self.work_folder)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise IntakeWriteError(f"checking{suffix}", exc.strerror or str(exc)) from None
        try:
            yield Path(name)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)

    def _free_name(self, name: str) -> str:
        stem, suffix = os.path.splitext(name)
        key = (stem.casefold(), suffix.casefold())
        number = self._next_number.get(key, 1)
        candidate = self._fitted(stem, "" if number == 1 else f" ({number})", suffix)
        while candidate.casefold() in self._taken:
            number += 1
            candidate = self._fitted(stem, f" ({number})", suffix)
        self._next_number[key] = number
        return candidate

    def _fitted(self, stem: str, number: str, suffix: str) -> str:
        """``stem + number + suffix``, the stem shortened so the path fits Windows' MAX_PATH."""
        if not ON_WINDOWS:
            return stem + number + suffix
        room = WINDOWS_MAX_PATH - 1 - len(str(self.folder.absolute())) - 1 - len(number + suffix)
        if room < 1:
            raise IntakeWriteError(stem + number + suffix, f"path longer than {WINDOWS_MAX_PATH - 1} characters")
        return (stem[:room].rstrip(". ") or "_") + number + suffix


def _file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
