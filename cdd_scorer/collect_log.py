"""The collection log: one row per attachment and per mail that ``collect`` saw, written as it goes.

The log is ``.cdd-scorer/collect_log.csv`` inside the input folder: it travels with the folder, and
the scorer skips folders whose name starts with a dot, so it is never read as a submission. Each row
is flushed as soon as it is known, so a run that is interrupted (or stopped by a full disk) leaves
a log that is true up to that point; files saved by a run whose rows were lost are recorded by the
next run (``CollectLog.saved_digests`` says which contents the log already records as saved).
``mail_dates`` reads the logs of an input folder back: when the e-mail that brought each saved file
was sent, which orders two submissions of one district whose workbooks do not.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Literal

from cdd_scorer.output_files import OutputError
from cdd_scorer.problems import Problem
from cdd_scorer.safe_names import plain_text
from cdd_scorer.tables import CSV_ENCODING, csv_text

LOG_FOLDER = ".cdd-scorer"
LOG_NAME = "collect_log.csv"
LOG_COLUMNS = ["collected_at", "outcome", "saved_file", "attachment", "source", "sender", "date",
               "subject", "sha256", "message_th", "message_en"]

Outcome = Literal["saved", "duplicate", "ignored", "failed"]


@dataclass(frozen=True)
class Origin:
    """Where an attachment came from: the file (and message or archive in it) and the e-mail."""

    source: str
    sender: str = ""
    subject: str = ""
    date: str = ""
    time: dt.datetime | None = None

    def inside(self, name: str) -> Origin:
        return replace(self, source=f"{self.source} > {plain_text(name)}")


@dataclass(frozen=True)
class CollectEntry:
    """What happened to one attachment, one mail, or one source that could not be read."""

    outcome: Outcome
    code: str
    attachment: str
    origin: Origin
    saved: Path | None = None
    sha256: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def note(self) -> Problem:
        """The entry as a catalogue problem, which renders its Thai and English messages."""
        return Problem(self.code, file=plain_text(self.attachment),
                       params={"saved": self.saved.name if self.saved else "", **self.params})

    @property
    def message_th(self) -> str:
        return self.note.message_th

    @property
    def message_en(self) -> str:
        return self.note.message_en


def failed(code: str, name: str, origin: Origin, detail: str = "") -> CollectEntry:
    """A ``failed`` entry whose message quotes ``detail`` (cut short, on one line)."""
    return CollectEntry("failed", code, name, origin, params={"detail": plain_text(detail)[:200]})


class CollectLog:
    """The log file, open for appending during one run."""

    def __init__(self, path: Path):
        self.path = path
        self.saved_digests = _saved_digests(path)
        new = not path.exists() or path.stat().st_size == 0
        try:
            self._file: IO[str] = path.open("a", encoding=CSV_ENCODING if new else "utf-8", newline="")
        except OSError as exc:
            raise OutputError(_log_problem(path, exc)) from None
        self._writer = csv.writer(self._file, lineterminator="\r\n")
        if new:
            self._write(LOG_COLUMNS)

    def write(self, entry: CollectEntry) -> None:
        """Append the entry's row and flush it to the file."""
        now = dt.datetime.now().astimezone().replace(microsecond=0).isoformat()
        origin = entry.origin
        self._write([now, entry.outcome, entry.saved.name if entry.saved else "",
                     csv_text(plain_text(entry.attachment)), csv_text(plain_text(origin.source)),
                     csv_text(plain_text(origin.sender)), csv_text(plain_text(origin.date)),
                     csv_text(plain_text(origin.subject)), entry.sha256, csv_text(entry.message_th),
                     csv_text(entry.message_en)])
        if entry.outcome == "saved":
            self.saved_digests.add(entry.sha256)

    def close(self) -> None:
        self._file.close()

    def _write(self, row: list[str]) -> None:
        try:
            self._writer.writerow(row)
            self._file.flush()
        except OSError as exc:
            raise OutputError(_log_problem(self.path, exc)) from None


def _saved_rows(path: Path) -> list[dict[str, str]]:
    """The log's rows of saved files; none when the log is missing or unreadable."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
            return [row for row in csv.DictReader(f) if row.get("outcome") == "saved"]
    except (OSError, csv.Error):
        return []


def _saved_digests(path: Path) -> set[str]:
    return {row.get("sha256", "") for row in _saved_rows(path)}


def mail_dates(input_dir: Path) -> dict[str, dt.datetime]:
    """The date of the e-mail each saved file came in, by the file's SHA-256, from every collection log
    in ``input_dir`` and its subfolders (the first mail that brought a content). Files that came from
    no e-mail, or whose mail date could not be read, are not listed."""
    dates: dict[str, dt.datetime] = {}
    for log in sorted(input_dir.glob(f"**/{LOG_FOLDER}/{LOG_NAME}")):
        for row in _saved_rows(log):
            try:
                when = dt.datetime.fromisoformat(row.get("date") or "")
            except ValueError:
                continue
            dates.setdefault(row.get("sha256", ""), when)
    return dates


def _log_problem(path: Path, exc: OSError) -> str:
    problem = Problem("collect_log_unwritable", file=str(path), params={"detail": exc.strerror or str(exc)})
    return f"{problem.message_th} / {problem.message_en}. {problem.action_th} / {problem.action_en}"
