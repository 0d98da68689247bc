"""Collecting returned workbooks from saved e-mails and zip archives into the input folder.

``collect`` is the library entry point behind ``cdd-scorer collect``: saved e-mails (.eml, Outlook
.msg), mbox files, folders of them, .zip archives (also zips, winmail.dat and mails attached to
e-mails) and loose spreadsheets in; every spreadsheet reply saved into the input folder, and one log
line per attachment and per mail out (``collect_log``).

- Nothing is ever replaced: a different file of the same name becomes ``name (2).xlsx``, and one
  ``collect`` writes into a folder at a time (``intake_folder``).
- An attachment whose content (SHA-256) is already in the input folder is not saved again.
- Other attachments (PDF, pictures…), blank templates returned empty and files of the tool's own
  templates/, output/ and feedback/ folders are not saved; the log says so.
- One bad thing costs one item: every mail, MIME part, archive and archive member is handled on
  its own, and any error reading it becomes that item's log line. A failed *write* stops the run
  with an ``OutputError`` (exit 3) naming it, after what was saved so far is logged.
- Budgets (``MAX_*``) hold per attachment (``score``'s own file limit), per archive and per run
  (``collect_run``), and nesting is counted across mail and zip levels; each limit hit is one log line.
- Archive members are never extracted by path: only their sanitized base name is used, so nothing
  can be written outside the input folder.
- Each saved file gets the e-mail's date as its modification time, so "received when" can be
  traced even for formats without saved-time properties (.xls).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from cdd_scorer.attachment_kinds import attachment_kind
from cdd_scorer.collect_log import LOG_FOLDER, LOG_NAME, CollectEntry, CollectLog, Origin, failed
from cdd_scorer.collect_run import CollectReport, CollectRun, RunLimitReached, sha256_of
from cdd_scorer.input_files import list_input_files
from cdd_scorer.intake_folder import IntakeFolder
from cdd_scorer.mail_parts import (
    MailHeaders,
    MailPart,
    has_structure_defects,
    looks_like_mbox,
    mail_headers,
    mbox_messages,
    message_parts,
    outlook_message,
    parse_mail,
    raw_attachment_parts,
    tnef_parts,
)
from cdd_scorer.output_files import ensure_folder
from cdd_scorer.safe_names import plain_text
from cdd_scorer.safety import DEFAULT_LIMITS, MB, OLE2_SIGNATURE, ZIP_SIGNATURES
from cdd_scorer.zip_checks import member_problem

MAX_MEMBER_BYTES = DEFAULT_LIMITS.max_file_bytes  # what score would open; a larger file is refused there
MAX_MESSAGE_BYTES = 2 * DEFAULT_LIMITS.max_file_bytes  # one mail, encoded: an attachment of the limit and more
MAX_ARCHIVE_BYTES = 512 * MB
MAX_ARCHIVE_MEMBERS = 5000
MAX_NESTING_DEPTH = 3  # mail and archive levels together: a zip in a mail in a mail is the deepest
OWN_FOLDERS = ("templates", "output", "feedback")  # the default --out folders of generate, score, feedback
MAIL_SUFFIXES = (".eml",)
MBOX_SUFFIXES = (".mbox", ".mbx")
SOURCE_SIGNATURES = (*ZIP_SIGNATURES, OLE2_SIGNATURE, b"\x78\x9f\x3e\x22")


def collect(sources: list[Path], into: Path) -> CollectReport:
    """Save every spreadsheet reply in ``sources`` into the folder ``into``.

    Sources are .eml and .msg files, mbox files, .zip archives, spreadsheets, or folders of them.
    Returns a report with one entry per attachment and mail; the same lines are appended to the
    collection log as they happen. Raises ``OutputError`` when the input folder or the log cannot be
    written (the run stops there; what was saved is logged, or recorded by the next run).
    """
    ensure_folder(into)
    work_folder = into / LOG_FOLDER
    with IntakeFolder.locked(into, work_folder) as inbox:
        log = CollectLog(work_folder / LOG_NAME)
        run = _Run(inbox, log, CollectReport(log.path))
        try:
            run.collect_sources(sources)
        finally:
            log.close()
    return run.report


class _Run(CollectRun):
    """One ``collect`` run: walking its sources and opening what they hold, mail and archive levels
    down to each spreadsheet (recording, saving and the run's budgets: ``CollectRun``)."""

    # ---- sources

    def collect_sources(self, sources: Iterable[Path]) -> None:
        try:
            for source in sources:
                for path, own_folder in _source_files(source, self.inbox.folder):
                    origin = Origin(plain_text(str(path)))
                    if own_folder:
                        self.record(CollectEntry("ignored", "attachment_own_folder", path.name, origin,
                                                 params={"folder": own_folder}))
                    else:
                        self.guarded(path.name, origin, lambda path=path, origin=origin: self.source_file(path, origin))
        except RunLimitReached as limit:
            self.record(failed("collect_limit", "", Origin(""), str(limit)))

    def source_file(self, path: Path, origin: Origin) -> None:
        with path.open("rb") as f:
            head = f.read(4096)
        suffix = path.suffix.lower()
        kind = attachment_kind(path.name, head)
        if suffix in MBOX_SUFFIXES or (looks_like_mbox(head) and kind.kind in ("mail", "other")):
            self.mbox(path)
        elif kind.kind in ("other", "lock") and not head.startswith(SOURCE_SIGNATURES):
            self.record(CollectEntry("ignored", "not_mail", path.name, origin))
        elif path.stat().st_size > MAX_MESSAGE_BYTES:
            self.too_large(path.name, origin, path.stat().st_size, MAX_MESSAGE_BYTES)
        else:
            if kind.kind == "spreadsheet":
                origin = replace(origin, time=dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))
            self.blob(path.name, path.read_bytes(), "mail" if suffix in MAIL_SUFFIXES else "", origin, origin, 0)

    def mbox(self, path: Path) -> None:
        for number, data in mbox_messages(path, MAX_MESSAGE_BYTES):
            label = f"{path.name} #{number}"
            where = Origin(plain_text(f"{path} #{number}"))
            if data is None:
                self.too_large(label, where, MAX_MESSAGE_BYTES + 1, MAX_MESSAGE_BYTES)
            else:
                self.guarded(label, where, lambda data=data, where=where: self.mail(data, where, 0))

    # ---- mail

    def mail(self, data: bytes, origin: Origin, depth: int) -> None:
        """One message: its attachments, then a raw scan when the parser may have missed some;
        a mail without any attachment still gets its log line."""
        message = parse_mail(data)
        origin = _with_headers(origin, mail_headers(message))
        before = len(self.report.entries)
        seen: set[str] = set()
        self.guarded(origin.subject or "?", origin,
                     lambda: [self.part(p, origin, depth, seen) for p in message_parts(message)])
        spreadsheet_found = any(e.saved or e.code == "attachment_duplicate" for e in self.report.entries[before:])
        if not spreadsheet_found or has_structure_defects(message):
            self.guarded(origin.subject or "?", origin,
                         lambda: [self.part(p, origin, depth, seen) for p in raw_attachment_parts(data)])
        if len(self.report.entries) == before:
            self.record(CollectEntry("ignored", "mail_no_attachment", origin.subject or "-", origin))

    def outlook(self, data: bytes, origin: Origin, depth: int) -> None:
        headers, parts = outlook_message(data)
        origin = _with_headers(origin, headers)
        before = len(self.report.entries)
        seen: set[str] = set()
        for part in parts:
            self.part(part, origin, depth, seen)
        if len(self.report.entries) == before:
            self.record(CollectEntry("ignored", "mail_no_attachment", origin.subject or "-", origin))

    def part(self, part: MailPart, origin: Origin, depth: int, seen: set[str]) -> None:
        """One attachment of a mail, decoded within its own error boundary and size limit (whatever its
        name says: a workbook may be called "file.dat")."""
        self.count_item()
        if part.forwarded is not None:
            origin = _with_headers(origin, part.forwarded)
        where = origin.inside(part.name)
        if part.encoded_size > MAX_MEMBER_BYTES:
            self.too_large(part.name, where, part.encoded_size, MAX_MEMBER_BYTES)
            return

        def decode_and_collect() -> None:
            data = part.decode()
            digest = sha256_of(data)
            if digest in seen:
                return
            seen.add(digest)
            if len(data) > MAX_MEMBER_BYTES:
                self.too_large(part.name, where, len(data), MAX_MEMBER_BYTES)
            else:
                self.blob(part.name, data, part.declared_type, origin, where, depth)

        self.guarded(part.name, where, decode_and_collect)

    # ---- one attachment or member

    def blob(self, name: str, data: bytes, declared_type: str, parent: Origin, where: Origin, depth: int) -> None:
        """One attachment or archive member: save it, open it (archive, mail) or ignore it."""
        kind = attachment_kind(name, data, "message/rfc822" if declared_type == "mail" else declared_type)
        if kind.kind in ("lock", "other"):
            self.record(_ignored(kind.kind, name, where))
        elif kind.kind == "spreadsheet":
            self.save(kind.name, data, parent)
        elif depth >= MAX_NESTING_DEPTH:
            self.record(failed("unsafe_file", name, where, f"nested more than {MAX_NESTING_DEPTH} levels"))
        elif kind.kind == "archive":
            self.archive(name, data, where, depth + 1)
        elif kind.kind == "mail":
            self.mail(data, where, depth + 1)
        elif kind.kind == "outlook_msg":
            self.outlook(data, where, depth + 1)
        else:  # winmail.dat: Outlook's attachments, wrapped
            seen: set[str] = set()
            for part in tnef_parts(data):
                self.part(part, where, depth + 1, seen)

    def archive(self, name: str, data: bytes, origin: Origin, depth: int) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and not _is_mac_metadata(m.filename)]
            if len(members) > MAX_ARCHIVE_MEMBERS:
                self.record(failed("unsafe_file", name, origin, f"{len(members):,} files in the archive"))
                return
            budget = [MAX_ARCHIVE_BYTES]
            for member in members:
                member_name = _member_name(member)
                where = origin.inside(member_name)
                self.guarded(member_name, where, lambda m=member, n=member_name, w=where:
                             self.member(archive, m, n, origin, w, depth, budget))

    def member(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo, member_name: str, origin: Origin,
               where: Origin, depth: int, budget: list[int]) -> None:
        self.count_item()
        base = re.split(r"[/\\]", member_name)[-1]
        if member.flag_bits & 0x1:
            self.record(failed("encrypted_file", base, where))
            return
        limit = min(MAX_MEMBER_BYTES, budget[0])
        if member.file_size > limit:  # the declared size, checked before reading anything
            self.too_large(base, where, member.file_size, limit)
            return
        if bomb := member_problem(member, DEFAULT_LIMITS):  # compressed like no workbook ever is
            self.record(failed(bomb[0], base, where, str(bomb[1]["detail"])))
            return
        with archive.open(member) as f:
            content = f.read(limit + 1)  # the declared size may lie
        if len(content) > limit:
            self.too_large(base, where, len(content), limit)
            return
        budget[0] -= len(content)
        member_origin = origin if origin.time else replace(origin, time=_zip_time(member))
        self.blob(base, content, "", member_origin, where, depth)


def _source_files(source: Path, into: Path) -> Iterator[tuple[Path, str]]:
    """The files of a source, each with the tool's own folder it lies in ("" for none)."""
    if not source.is_dir():
        yield source, ""
        return
    inside = into.resolve()
    for path in list_input_files(source):
        if inside in path.resolve().parents:
            continue
        folders = [part for part in path.relative_to(source).parts[:-1] if part.casefold() in OWN_FOLDERS]
        yield path, (folders[0] if folders else "")


def _with_headers(origin: Origin, headers: MailHeaders) -> Origin:
    return replace(origin, sender=headers.sender, subject=headers.subject, date=headers.date, time=headers.time)


def _ignored(kind: str, name: str, where: Origin) -> CollectEntry:
    if kind == "lock":
        return CollectEntry("ignored", "lock_file", name, where)
    return CollectEntry("ignored", "attachment_not_spreadsheet", name, where,
                        params={"detail": Path(name).suffix.lower() or "ไม่มีนามสกุล / no extension"})


def _member_name(member: zipfile.ZipInfo) -> str:
    """The member's name as its author saw it: zips made by Windows in Thai store names in the
    Windows code page (cp874) without the UTF-8 flag, which Python reads as cp437."""
    if member.flag_bits & 0x800:
        return member.filename
    raw = member.filename.encode("cp437", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp874", errors="replace")


def _is_mac_metadata(name: str) -> bool:
    parts = re.split(r"[/\\]", name)
    return "__MACOSX" in parts or parts[-1].startswith("._")


def _zip_time(member: zipfile.ZipInfo) -> dt.datetime | None:
    try:
        return dt.datetime(*member.date_time)
    except ValueError:
        return None

