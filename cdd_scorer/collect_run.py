"""One ``collect`` run's bookkeeping: its report and log, the error boundary of each item, the per-run
budgets and saving a spreadsheet into the input folder.

``collect`` walks the sources and opens mails and archives; every entry it makes, every byte it saves
and every item it looks at goes through ``CollectRun``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from cdd_scorer.blank_templates import is_blank_template
from cdd_scorer.collect_log import CollectEntry, CollectLog, Origin, Outcome, failed
from cdd_scorer.intake_folder import IntakeFolder, IntakeWriteError
from cdd_scorer.output_files import OutputError
from cdd_scorer.problems import Problem
from cdd_scorer.safe_names import safe_file_name
from cdd_scorer.safety import MB, ZIP_SIGNATURES

MAX_RUN_FILES = 2000
MAX_RUN_BYTES = 1024 * MB
MAX_RUN_ITEMS = 50_000  # attachments and archive members looked at, saved or not


@dataclass
class CollectReport:
    """Every attachment and mail seen by one ``collect`` run, and where its log went."""

    log_path: Path
    entries: list[CollectEntry] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)

    @property
    def saved(self) -> list[Path]:
        return [e.saved for e in self.entries if e.saved is not None]


class RunLimitReached(Exception):
    """A per-run budget is spent: the run stops after logging it once."""


class CollectRun:
    """One ``collect`` run: what it has seen, saved and spent."""

    def __init__(self, inbox: IntakeFolder, log: CollectLog, report: CollectReport):
        self.inbox = inbox
        self.log = log
        self.report = report
        self.saved_files = 0
        self.saved_bytes = 0
        self.items = 0

    def record(self, entry: CollectEntry) -> None:
        self.report.entries.append(entry)
        self.log.write(entry)

    def guarded(self, name: str, where: Origin, action: Callable[[], object]) -> None:
        """Run ``action``; any error of a reader or decoder becomes ``name``'s failed entry."""
        try:
            action()
        except (OutputError, RunLimitReached):
            raise
        except RecursionError:
            self.record(failed("unsafe_file", name, where, "nested too deep"))
        except OSError as exc:
            self.record(failed("read_failed", name, where, exc.strerror or str(exc)))
        except Exception as exc:  # noqa: BLE001 - the error boundary of one item, by design
            self.record(failed("corrupt_file", name, where, str(exc) or type(exc).__name__))

    # ---- saving

    def save(self, name: str, data: bytes, origin: Origin) -> None:
        digest = sha256_of(data)
        existing = self.inbox.contents.get(digest)
        if existing is not None:
            if digest in self.log.saved_digests:
                self.record(CollectEntry("duplicate", "attachment_duplicate", name, origin, sha256=digest,
                                         params={"other": existing}))
            else:  # saved by a run whose log row was lost (killed, log open in Excel, disk full)
                self.record(CollectEntry("saved", "attachment_recorded", name, origin, self.inbox.folder / existing,
                                         digest))
            return
        if self.saved_files >= MAX_RUN_FILES:
            raise RunLimitReached(f"{MAX_RUN_FILES:,} files")
        if self.saved_bytes + len(data) > MAX_RUN_BYTES:
            raise RunLimitReached(f"{MAX_RUN_BYTES // MB:,} MB")
        try:
            if self.returned_empty(name, data):
                self.record(CollectEntry("ignored", "attachment_blank_template", name, origin, sha256=digest))
                return
            target = self.inbox.save(safe_file_name(name), data, digest,
                                     origin.time.timestamp() if origin.time else None)
        except IntakeWriteError as exc:
            self.stop_on_write_failure(exc, origin)
        self.saved_files += 1
        self.saved_bytes += len(data)
        self.record(CollectEntry("saved", "attachment_saved", name, origin, target, digest))

    def returned_empty(self, name: str, data: bytes) -> bool:
        """Whether an .xlsx attachment is one of the tool's templates with nothing entered."""
        if not (name.lower().endswith(".xlsx") and data.startswith(ZIP_SIGNATURES)):
            return False
        with self.inbox.scratch_copy(data, ".xlsx") as copy:
            return is_blank_template(copy)

    def stop_on_write_failure(self, exc: IntakeWriteError, origin: Origin) -> NoReturn:
        params = {"folder": str(self.inbox.folder), "detail": exc.reason, "count": self.saved_files,
                  "log": str(self.log.path)}
        entry = CollectEntry("failed", "collect_write_failed", exc.name, origin, params=params)
        try:
            self.record(entry)
        except OutputError:
            self.report.entries.append(entry)
        problem = Problem("collect_write_failed", file=exc.name, params=params)
        raise OutputError(f"{problem.message_th} / {problem.message_en}. "
                          f"{problem.action_th} / {problem.action_en}") from None

    # ---- budgets

    def count_item(self) -> None:
        self.items += 1
        if self.items > MAX_RUN_ITEMS:
            raise RunLimitReached(f"{MAX_RUN_ITEMS:,} attachments")

    def too_large(self, name: str, where: Origin, size: int, limit: int) -> None:
        self.record(CollectEntry("failed", "file_too_large", name, where,
                                 params={"size": _megabytes(size), "limit": _megabytes(limit)}))


def sha256_of(data: bytes) -> str:
    """A file's content digest: how ``collect`` knows a file it has already seen or saved."""
    return hashlib.sha256(data).hexdigest()


def _megabytes(size: int) -> str:
    return f"{size / MB:,.1f} MB"
