"""Writing outputs safely: each file goes to a temporary name and is renamed into place.

A half-written file is never left behind, and a file locked by Excel (Windows refuses to replace
it) becomes an ``OutputError`` with a clear Thai/English message instead of a traceback. On a real
Windows desktop, antivirus and OneDrive hold a fresh file for a moment: a rename refused with a
sharing violation is tried again for about 1.5 s before the file is called locked. ``replace_together``
replaces several outputs of one run together or not at all.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType


class OutputError(OSError):
    """An output that could not be written; the message says which and why, in Thai and English."""


# ERROR_ACCESS_DENIED and ERROR_SHARING_VIOLATION: what Windows answers while another program (Excel,
# antivirus, OneDrive) holds the file.
SHARING_VIOLATIONS = frozenset({5, 32})
# Seconds to wait before each retry of a refused rename: 6 tries over ≈ 1.5 s.
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.75)

# Staged path → the output it stands for, while ``replace_together`` is open: a writer that writes a
# staged path through ``atomic_output`` writes it directly (the staging already makes it atomic) and
# its error messages name the real output.
_staged_outputs: contextvars.ContextVar[Mapping[Path, Path]] = contextvars.ContextVar(
    "staged_outputs", default=MappingProxyType({}))


def ensure_folder(folder: Path) -> Path:
    """Create ``folder`` (and its parents) or raise ``OutputError``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"สร้างโฟลเดอร์ผลลัพธ์ {folder} ไม่ได้ / cannot create the output folder {folder}: "
            f"{_reason(exc)}") from None
    return folder


def replace_file(source: Path, target: Path) -> None:
    """``os.replace``, tried again with a short back-off while Windows reports a sharing violation."""
    for delay in (*RETRY_DELAYS, None):
        try:
            os.replace(source, target)
            return
        except PermissionError as exc:
            if delay is None or getattr(exc, "winerror", None) not in SHARING_VIOLATIONS:
                raise
            time.sleep(delay)


def _new_file_mode() -> int:
    """The mode ``open()`` gives a new file here: 0o666 less the umask. (A temporary file is made
    0o600, which colleagues on a shared folder could not read.)"""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


NEW_FILE_MODE = _new_file_mode()  # read once, at import: os.umask can only be read by setting it


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    Any failure of the writer to write (``OSError``, XlsxWriter's ``FileCreateError``) becomes an
    ``OutputError``; the temporary file is removed whatever happens."""
    output = _staged_outputs.get().get(path)
    if output is not None:
        with _write_errors(output):
            yield path
        return
    ensure_folder(path.parent)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".tmp", dir=path.parent)
    except OSError as exc:
        raise _folder_error(path.parent, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _write_errors(path):
            yield tmp
        try:
            os.chmod(tmp, NEW_FILE_MODE)
            replace_file(tmp, path)
        except OSError as exc:
            raise _replace_error(path, exc) from None
    finally:
        _remove_quietly(tmp)


@contextlib.contextmanager
def replace_together(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """Yield one staged path per output in ``paths``; when the block succeeds, rename them all into place.

    All outputs of a run are replaced together or not at all: if one cannot be replaced (open in Excel),
    the ones already replaced get their previous version back and ``OutputError`` names the locked one.
    Staged files live in a hidden folder beside each output (same drive, so every rename is atomic).
    """
    staging: dict[Path, Path] = {}
    keep_staging, token = False, None
    try:
        for folder in dict.fromkeys(p.parent for p in paths):
            staging[folder] = _staging_folder(folder)
        staged = [staging[p.parent] / p.name for p in paths]
        backups = [staging[p.parent] / "previous" / p.name for p in paths]
        token = _staged_outputs.set({**_staged_outputs.get(), **dict(zip(staged, paths))})
        with _write_errors(paths[0].parent):
            yield staged
        _staged_outputs.reset(token)
        token = None
        done: list[tuple[Path, Path]] = []
        for source, output, backup in zip(staged, paths, backups):
            try:
                _move_into_place(source, output, backup, done)
            except OSError as exc:
                keep_staging = not _undo(done)  # a previous output that could not be put back stays there
                raise _replace_error(output, exc) from None
    finally:
        if token is not None:
            _staged_outputs.reset(token)
        if not keep_staging:
            for folder in staging.values():
                remove_temporary_folder(folder)


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder in the system's temporary directory, removed afterwards with errors ignored
    (antivirus may still hold a file in it); ``OutputError`` when it cannot be created."""
    try:
        path = Path(tempfile.mkdtemp(prefix=prefix))
    except OSError as exc:
        raise _folder_error(Path(tempfile.gettempdir()), exc) from None
    try:
        yield path
    finally:
        remove_temporary_folder(path)


def remove_temporary_folder(folder: Path) -> None:
    """Remove ``folder`` and what it holds; a file that cannot be removed is left, never an error."""
    shutil.rmtree(folder, ignore_errors=True)


def _move_into_place(source: Path, output: Path, backup: Path, done: list[tuple[Path, Path]]) -> None:
    """Rename ``source`` over ``output``, the previous ``output`` kept as ``backup``; each rename done is
    added to ``done``."""
    if output.exists():
        backup.parent.mkdir(exist_ok=True)
        replace_file(output, backup)
        done.append((output, backup))
    replace_file(source, output)
    done.append((source, output))


def _undo(done: list[tuple[Path, Path]]) -> bool:
    """Rename back, last first; whether every rename could be undone."""
    undone = True
    for source, target in reversed(done):
        try:
            replace_file(target, source)
        except OSError:
            undone = False
    return undone


def _staging_folder(folder: Path) -> Path:
    ensure_folder(folder)
    try:
        return Path(tempfile.mkdtemp(prefix=".cdd-staging-", dir=folder))
    except OSError as exc:
        raise _folder_error(folder, exc) from None


@contextlib.contextmanager
def _write_errors(path: Path) -> Iterator[None]:
    """A writer's failure to write ``path`` (or into the folder ``path``) as ``OutputError``; other
    exceptions (bugs) go through unchanged."""
    try:
        yield
    except OutputError:
        raise
    except Exception as exc:
        if not _is_write_failure(exc):
            raise
        raise OutputError(f"เขียนไฟล์ {path} ไม่ได้ / cannot write {path}: {_reason(exc)}") from None


def _is_write_failure(exc: Exception) -> bool:
    """``OSError`` (disk full, no permission), and XlsxWriter's wrappers of it, which are only possible
    once XlsxWriter is imported (it is not imported here: ``score``'s readers never need it)."""
    if isinstance(exc, OSError):
        return True
    xlsxwriter_errors = sys.modules.get("xlsxwriter.exceptions")
    return xlsxwriter_errors is not None and isinstance(
        exc, (xlsxwriter_errors.FileCreateError, xlsxwriter_errors.FileSizeError))


def _reason(exc: Exception) -> str:
    """What went wrong, without the temporary file names of the traceback text."""
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc
    return getattr(cause, "strerror", None) or str(cause) or type(cause).__name__


def _replace_error(path: Path, exc: OSError) -> OutputError:
    if isinstance(exc, PermissionError):
        return OutputError(f"ไฟล์ {path} เปิดค้างอยู่ (เช่นใน Excel) ปิดไฟล์แล้วสั่งใหม่ / "
                           f"{path} is open in another program (Excel?): close it and run again")
    return OutputError(f"เขียนไฟล์ {path} ไม่ได้ / cannot write {path}: {_reason(exc)}")


def _folder_error(folder: Path, exc: OSError) -> OutputError:
    return OutputError(f"เขียนไฟล์ในโฟลเดอร์ {folder} ไม่ได้ / cannot write in {folder}: {_reason(exc)}")


def _remove_quietly(path: Path) -> None:
    """Remove a temporary file; if antivirus or OneDrive still holds it, leave it rather than hide the
    message that matters."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
