"""Collecting returned workbooks from saved e-mails and zip archives into the input folder.

``collect`` is the library entry point behind ``cdd-scorer collect``: saved e-mails (.eml), mbox
files, folders of them, .zip archives (also zips attached to e-mails) and loose spreadsheets in;
every spreadsheet attachment saved into the input folder, and one log line per attachment out.

- A different file never overwrites another of the same name: the new one becomes ``name (2).xlsx``.
- An attachment whose content (SHA-256) is already in the input folder is not saved again.
- Other attachments (PDF, pictures…) are not saved; the log says so.
- Archive members are never extracted by path: only their sanitized base name is used, so nothing
  can be written outside the input folder; members too large, too many or encrypted are skipped.
- Each saved file gets the e-mail's date as its modification time, so "received when" can be
  traced even for formats without saved-time properties (.xls).

The log is ``.cdd-scorer/collect_log.csv`` inside the input folder: it travels with the folder,
and the scorer skips folders whose name starts with a dot, so it is never read as a submission.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import email.errors
import email.header
import email.policy
import hashlib
import io
import mailbox
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

from cdd_scorer.batch import list_input_files
from cdd_scorer.output_files import OutputError, atomic_output, ensure_folder
from cdd_scorer.outputs import CSV_ENCODING, csv_text
from cdd_scorer.problems import Problem
from cdd_scorer.reading import SPREADSHEET_SUFFIXES, is_lock_file

LOG_FOLDER = ".cdd-scorer"
LOG_NAME = "collect_log.csv"
LOG_COLUMNS = ["collected_at", "outcome", "saved_file", "attachment", "source", "sender", "date",
               "subject", "sha256", "message_th", "message_en"]
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 5000
MAX_ARCHIVE_DEPTH = 3
MAX_NAME_BYTES = 180  # ext4 allows 255 bytes per name; a Thai letter takes 3 in UTF-8
MAIL_SUFFIXES = (".eml",)
MBOX_SUFFIXES = (".mbox", ".mbx")
ARCHIVE_SUFFIXES = (".zip",)
SPREADSHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "message/rfc822": ".eml",
}
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_PARSER = BytesParser(policy=email.policy.default)

Outcome = Literal["saved", "duplicate", "ignored", "failed"]



def _windows_874(name: str) -> codecs.CodecInfo | None:
    # Outlook labels Thai mail "windows-874", a name Python does not know for its cp874 codec.
    return codecs.lookup("cp874") if name.replace("-", "_") in ("windows_874", "x_windows_874") else None


codecs.register(_windows_874)


@dataclass(frozen=True)
class Origin:
    """Where an attachment came from: the file (and message or archive in it) and the e-mail."""

    source: str
    sender: str = ""
    subject: str = ""
    date: str = ""
    time: dt.datetime | None = None

    def inside(self, name: str) -> Origin:
        return replace(self, source=f"{self.source} > {name}")


@dataclass(frozen=True)
class CollectEntry:
    """What happened to one attachment (or one source that could not be read)."""

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
        return Problem(self.code, file=self.attachment,
                       params={"saved": self.saved.name if self.saved else "", **self.params})

    @property
    def message_th(self) -> str:
        return self.note.message_th

    @property
    def message_en(self) -> str:
        return self.note.message_en


@dataclass
class CollectReport:
    """Every attachment seen by one ``collect`` run, and where its log went."""

    log_path: Path
    entries: list[CollectEntry] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)

    @property
    def saved(self) -> list[Path]:
        return [e.saved for e in self.entries if e.saved is not None]


def safe_file_name(name: str, fallback: str = "attachment") -> str:
    """A file name that is safe on Windows and Linux: the base name only, no reserved characters
    or names, no leading dots, not too long; Thai letters are kept."""
    base = unicodedata.normalize("NFC", re.split(r"[/\\]", name)[-1])
    base = _UNSAFE_CHARS.sub("_", base).strip().rstrip(". ").lstrip(".")
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem:
        stem, suffix = base, ""
    suffix = f".{suffix}" if suffix else ""
    stem = stem.strip() or fallback
    if _WINDOWS_RESERVED.match(stem.split(".")[0]):
        stem = f"_{stem}"
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(". ") + suffix


def collect(sources: list[Path], into: Path) -> CollectReport:
    """Save every spreadsheet attachment of ``sources`` into the folder ``into``.

    Sources are .eml files, mbox files, .zip archives, spreadsheets, or folders of them. Returns a
    report with one entry per attachment and appends the same lines to the collection log.
    Raises ``OutputError`` when the input folder or the log cannot be written.
    """
    ensure_folder(into)
    report = CollectReport(into / LOG_FOLDER / LOG_NAME)
    inbox = _InputFolder(into)
    for source in sources:
        for path in _source_files(source, into):
            for entry in _collect_file(path, inbox):
                report.entries.append(entry)
    _append_log(report.log_path, report.entries)
    return report


def _source_files(source: Path, into: Path) -> Iterator[Path]:
    if not source.is_dir():
        yield source
        return
    inside = into.resolve()
    for path in list_input_files(source):
        if inside not in path.resolve().parents:
            yield path


class _InputFolder:
    """The input folder's names and contents, to avoid overwrites and duplicates."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.hashes: dict[str, str] = {}
        for path in list_input_files(folder):
            self.hashes.setdefault(_sha256(path.read_bytes()), path.relative_to(folder).as_posix())
        self.names = {p.name.casefold() for p in folder.iterdir()}

    def save(self, name: str, data: bytes, origin: Origin) -> CollectEntry:
        digest = _sha256(data)
        if digest in self.hashes:
            return CollectEntry("duplicate", "attachment_duplicate", name, origin, sha256=digest,
                                params={"other": self.hashes[digest]})
        target = self.folder / self._free_name(safe_file_name(name))
        with atomic_output(target) as tmp:
            tmp.write_bytes(data)
        if origin.time is not None:
            stamp = origin.time.timestamp()
            os.utime(target, (stamp, stamp))
        self.hashes[digest] = target.name
        self.names.add(target.name.casefold())
        return CollectEntry("saved", "attachment_saved", name, origin, target, digest)

    def _free_name(self, name: str) -> str:
        stem, suffix = os.path.splitext(name)
        candidate, number = name, 1
        while candidate.casefold() in self.names:  # casefold: Windows names ignore case
            number += 1
            candidate = f"{stem} ({number}){suffix}"
        return candidate


def _collect_file(path: Path, inbox: _InputFolder) -> list[CollectEntry]:
    origin = Origin(str(path))
    suffix = path.suffix.lower()
    try:
        if suffix in MBOX_SUFFIXES or (suffix not in MAIL_SUFFIXES + ARCHIVE_SUFFIXES
                                       + SPREADSHEET_SUFFIXES and _looks_like_mbox(path)):
            return _collect_mbox(path, inbox)
        if suffix in SPREADSHEET_SUFFIXES:
            origin = replace(origin, time=_file_time(path))
        if suffix in MAIL_SUFFIXES + ARCHIVE_SUFFIXES + SPREADSHEET_SUFFIXES:
            return _collect_blob(path.name, path.read_bytes(), origin, inbox, depth=0, top=True)
    except OSError as exc:
        return [_failed("read_failed", path.name, origin, exc.strerror or str(exc))]
    return [CollectEntry("ignored", "not_mail", path.name, origin)]


def _looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"From "


def _file_time(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def _collect_mbox(path: Path, inbox: _InputFolder) -> list[CollectEntry]:
    entries: list[CollectEntry] = []
    box = mailbox.mbox(path, factory=None, create=False)
    try:
        for number, key in enumerate(box.keys(), start=1):
            origin = Origin(f"{path} #{number}")
            try:
                message = _PARSER.parsebytes(box.get_bytes(key))
            except (ValueError, LookupError, IndexError) as exc:
                entries.append(_failed("corrupt_file", f"{path.name} #{number}", origin, str(exc)))
                continue
            entries.extend(_collect_message(message, origin, inbox, depth=0))
    finally:
        box.close()
    return entries


def _collect_message(message: EmailMessage, origin: Origin, inbox: _InputFolder,
                     depth: int) -> list[CollectEntry]:
    origin = _mail_origin(message, origin)
    entries: list[CollectEntry] = []
    for part in message.walk():  # walks into forwarded messages (message/rfc822) too
        if part.is_multipart():
            continue
        try:
            name = _attachment_name(part)
            if name is None:
                continue
            data = part.get_payload(decode=True) or b""
        except (ValueError, LookupError, TypeError) as exc:
            entries.append(_failed("corrupt_file", "?", origin, str(exc)))
            continue
        entries.extend(_collect_blob(name, data, origin, inbox, depth))
    return entries


def _attachment_name(part: EmailMessage) -> str | None:
    """The attachment's file name (RFC 2231 and encoded words decoded), a name made from its
    type when it has none, or None for a message body."""
    name = part.get_filename()
    content_type = part.get_content_type()
    known_suffix = SPREADSHEET_TYPES.get(content_type)
    if name:
        return name + known_suffix if known_suffix and not Path(name).suffix else name
    if known_suffix and content_type != "message/rfc822":
        return "attachment" + known_suffix
    if part.get_content_disposition() == "attachment":
        return "attachment"
    return None


def _mail_origin(message: EmailMessage, origin: Origin) -> Origin:
    date_header = message.get("date")
    when = getattr(date_header, "datetime", None)
    return replace(origin, sender=_header_text(message, "from"), subject=_header_text(message, "subject"),
                   date=when.isoformat() if when else _header_text(message, "date"), time=when)


def _header_text(message: EmailMessage, name: str) -> str:
    """A header as text. Encoded words are decoded with ``email.header`` because the modern
    parser puts a space between the adjacent encoded words of a long Thai sender name."""
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == name), "")
    try:
        if "=?" in raw:
            return " ".join(str(email.header.make_header(email.header.decode_header(raw))).split())
        return " ".join(str(message.get(name, "")).split())
    except (ValueError, LookupError, IndexError, email.errors.HeaderParseError):
        return " ".join(raw.split())


def _kind(name: str) -> Literal["lock", "spreadsheet", "archive", "mail", "other"]:
    suffix = Path(name).suffix.lower()
    if is_lock_file(Path(safe_file_name(name))):
        return "lock"
    if suffix in SPREADSHEET_SUFFIXES:
        return "spreadsheet"
    if suffix in ARCHIVE_SUFFIXES:
        return "archive"
    return "mail" if suffix in MAIL_SUFFIXES else "other"


def _ignored(name: str, where: Origin) -> CollectEntry:
    if _kind(name) == "lock":
        return CollectEntry("ignored", "lock_file", name, where)
    return CollectEntry("ignored", "attachment_not_spreadsheet", name, where,
                        params={"detail": Path(name).suffix.lower() or "ไม่มีนามสกุล / no extension"})


def _collect_blob(name: str, data: bytes, origin: Origin, inbox: _InputFolder, depth: int,
                  top: bool = False) -> list[CollectEntry]:
    """One attachment or archive member: save it, open it (archive, e-mail) or ignore it."""
    kind = _kind(name)
    where = origin if top else origin.inside(name)
    if kind == "spreadsheet":
        return [inbox.save(name, data, origin)]
    if kind in ("lock", "other"):
        return [_ignored(name, where)]
    if depth >= MAX_ARCHIVE_DEPTH:
        return [_failed("unsafe_file", name, where, f"nested more than {MAX_ARCHIVE_DEPTH} levels")]
    if kind == "archive":
        return _collect_zip(name, data, where, inbox, depth + 1)
    try:
        message = _PARSER.parsebytes(data)
    except (ValueError, LookupError, IndexError) as exc:
        return [_failed("corrupt_file", name, where, str(exc))]
    return _collect_message(message, where, inbox, depth + 1)


def _collect_zip(name: str, data: bytes, origin: Origin, inbox: _InputFolder,
                 depth: int) -> list[CollectEntry]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        return [_failed("corrupt_file", name, origin, str(exc) or "bad zip")]
    entries: list[CollectEntry] = []
    budget = MAX_ARCHIVE_BYTES
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not _is_mac_metadata(m.filename)]
        if len(members) > MAX_ARCHIVE_MEMBERS:
            return [_failed("unsafe_file", name, origin, f"{len(members)} files in the archive")]
        for member in members:
            member_name = _member_name(member)
            base = re.split(r"[/\\]", member_name)[-1]
            if _kind(base) in ("lock", "other"):
                entries.append(_ignored(base, origin.inside(member_name)))
                continue
            if member.flag_bits & 0x1:
                entries.append(_failed("encrypted_file", base, origin.inside(member_name)))
                continue
            limit = min(MAX_MEMBER_BYTES, budget)
            if member.file_size > limit:  # the declared size, checked before reading anything
                entries.append(_failed("unsafe_file", base, origin.inside(member_name),
                                       f"{member.file_size:,} bytes"))
                continue
            try:
                with archive.open(member) as f:
                    content = f.read(limit + 1)  # the declared size may lie
            except (zipfile.BadZipFile, RuntimeError, ValueError, OSError, EOFError) as exc:
                entries.append(_failed("corrupt_file", base, origin.inside(member_name),
                                       str(exc) or type(exc).__name__))
                continue
            if len(content) > limit:
                entries.append(_failed("unsafe_file", base, origin.inside(member_name),
                                       f"more than {limit:,} bytes"))
                continue
            budget -= len(content)
            member_origin = origin if origin.time else replace(origin, time=_zip_time(member))
            entries.extend(_collect_blob(base, content, member_origin, inbox, depth))
    return entries


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


def _failed(code: str, name: str, origin: Origin, detail: str = "") -> CollectEntry:
    return CollectEntry("failed", code, name, origin, params={"detail": detail[:200]})


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _append_log(path: Path, entries: list[CollectEntry]) -> None:
    """Append the entries to the log CSV (UTF-8 with BOM when new, so Excel shows Thai)."""
    ensure_folder(path.parent)
    now = dt.datetime.now().astimezone().replace(microsecond=0).isoformat()
    new = not path.exists() or path.stat().st_size == 0
    try:
        with path.open("a", encoding=CSV_ENCODING if new else "utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\r\n")
            if new:
                writer.writerow(LOG_COLUMNS)
            for e in entries:
                writer.writerow([now, e.outcome, e.saved.name if e.saved else "", csv_text(e.attachment),
                                 csv_text(e.origin.source), csv_text(e.origin.sender), e.origin.date,
                                 csv_text(e.origin.subject), e.sha256, csv_text(e.message_th),
                                 csv_text(e.message_en)])
    except OSError as exc:
        raise OutputError(f"เขียนบันทึกการรวบรวม {path} ไม่ได้ / cannot write the collection log {path}: "
                          f"{exc.strerror or exc}") from None
