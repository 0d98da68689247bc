"""Reading saved mail whatever made it: the attachments of .eml, mbox, Outlook .msg and winmail.dat.

Real mail breaks parsers in known ways, and each has a way back to the attachment:

- ``email.policy.default`` cuts an unquoted boundary holding ``=`` (``boundary=----=_NextPart_…``)
  and then reads the multipart as one body: on any boundary defect, or a multipart without parts,
  the message is parsed again with ``compat32``;
- a nested multipart that reuses its parent's boundary (Outlook Express for Mac) hides its parts from
  every parser: the raw text is then scanned for attachment parts;
- mbox files quote body lines starting ``From `` as ``>From ``, which turns a forwarded message's
  first line into body text: the quoting is undone before parsing (mboxrd);
- 8-bit headers without an encoded word (TIS-620 / cp874 from old Thai mail programs) are decoded
  as UTF-8 when they are, else as Thai; a Date with an impossible offset is kept as text.

Nothing here decodes an attachment until asked (``MailPart.decode``), so the caller can refuse a
part by its encoded size first.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.errors
import email.header
import email.policy
import email.utils
import mailbox
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.errors import (
    CloseBoundaryNotFoundDefect,
    MultipartInvariantViolationDefect,
    StartBoundaryNotFoundDefect,
)
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import tnefparse
from tnefparse.properties import MAPI_ATTACH_LONG_FILENAME

from cdd_scorer.safe_names import plain_text

_MODERN = BytesParser(policy=email.policy.default)
_COMPAT = BytesParser(policy=email.policy.compat32)
_STRUCTURE_DEFECTS = (StartBoundaryNotFoundDefect, CloseBoundaryNotFoundDefect, MultipartInvariantViolationDefect)
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_BOUNDARY_LINE = re.compile(rb"^--[^\r\n]{1,200}\r?$", re.MULTILINE)  # CRLF as sent, LF as saved
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_LINE_END_BEFORE_BOUNDARY = re.compile(rb"\r?\n\Z")
# a part's headers that say "attachment": a file name (also RFC 2231's name*0*=), the disposition, any application type
_ATTACHMENT_HEAD = re.compile(rb"^content-(?:type:\s*application/|disposition:\s*attachment)|name(?:\*\d+)?\*?=",
                              re.IGNORECASE | re.MULTILINE)
_MAX_EMBEDDED_OUTLOOK = 3


def _windows_874(name: str) -> codecs.CodecInfo | None:
    # Outlook labels Thai mail "windows-874", a name Python does not know for its cp874 codec.
    return codecs.lookup("cp874") if name.replace("-", "_") in ("windows_874", "x_windows_874") else None


codecs.register(_windows_874)


@dataclass(frozen=True)
class MailHeaders:
    """Who sent a mail, about what and when (``time`` is None when the Date cannot be read)."""

    sender: str = ""
    subject: str = ""
    date: str = ""
    time: dt.datetime | None = None


@dataclass(frozen=True)
class MailPart:
    """One attachment, not yet decoded: ``encoded_size`` bounds what ``decode`` would return;
    ``forwarded`` is the forwarded message it came in, when not the mail itself."""

    name: str
    declared_type: str
    encoded_size: int
    decode: Callable[[], bytes]
    forwarded: MailHeaders | None = None


# ---- .eml and mbox messages

def parse_mail(data: bytes) -> Message:
    """The message in ``data``: parsed with the modern policy, or with ``compat32`` when that finds
    parts the modern parser lost to a boundary defect."""
    modern = _MODERN.parsebytes(data)
    if not has_structure_defects(modern):
        return modern
    compat = _COMPAT.parsebytes(data)
    return compat if _leaf_count(compat) > _leaf_count(modern) else modern


def has_structure_defects(message: Message) -> bool:
    """A boundary the parser did not find, or a multipart without parts, anywhere in ``message``."""
    for part in message.walk():
        if any(isinstance(d, _STRUCTURE_DEFECTS) for d in part.defects):
            return True
        if part.get_content_maintype() == "multipart" and not part.is_multipart():
            return True
    return False


def _leaf_count(message: Message) -> int:
    return sum(1 for part in message.walk() if not part.is_multipart())


def message_parts(message: Message) -> Iterator[MailPart]:
    """Every attachment of ``message``, in order, the attachments of forwarded messages included (with
    the headers of the message that carried them); bodies skipped."""
    stack: list[tuple[Message, MailHeaders | None]] = [(message, None)]
    while stack:
        part, forwarded = stack.pop()
        if part.is_multipart():
            if part.get_content_type() == "message/rfc822":
                inner = part.get_payload(0)
                stack.append((inner, mail_headers(inner)))
            else:
                stack.extend((p, forwarded) for p in reversed(part.get_payload()))
            continue
        name = _attachment_name(part)
        if name is not None:
            yield _mime_part(name, part, forwarded)


def raw_attachment_parts(data: bytes) -> Iterator[MailPart]:
    """Parts of a raw message whose headers say they are attachments (a file name, the disposition or an
    application type; what they hold is sniffed later), found by splitting at every line that looks like
    a boundary, for mail whose structure no parser follows."""
    for chunk in _BOUNDARY_LINE.split(data):
        chunk = _LINE_END_BEFORE_BOUNDARY.sub(b"", chunk.lstrip(b"\r\n"))  # that line end belongs to the boundary
        end = _HEADER_END.search(chunk, 0, 4096)
        head = chunk[:end.start() if end else 4096]
        if not _ATTACHMENT_HEAD.search(head):
            continue
        part = _COMPAT.parsebytes(chunk, headersonly=True)
        name = _attachment_name(part)
        if name is not None:
            yield _mime_part(name, part, None)


def _mime_part(name: str, part: Message, forwarded: MailHeaders | None) -> MailPart:
    payload = part.get_payload()
    size = len(payload) if isinstance(payload, str | bytes) else 0
    if str(part.get("content-transfer-encoding", "")).strip().lower() == "base64":
        size = size * 3 // 4
    return MailPart(name, part.get_content_type(), size, lambda: part.get_payload(decode=True) or b"", forwarded)


def _attachment_name(part: Message) -> str | None:
    """The attachment's file name (RFC 2231, encoded words and 8-bit names decoded), "attachment"
    for a nameless part that is not text, or None for a message body."""
    name = _file_name(part)
    if name:
        return decoded_text(str(name))
    if part.get_content_disposition() == "attachment" or part.get_content_maintype() not in ("text", "multipart",
                                                                                             "message"):
        return "attachment"
    return None


def _file_name(part: Message) -> str | None:
    """The ``filename`` (or ``name``) parameter, read from the raw header text: the parsers turn raw
    8-bit names into replacement characters, which ``_undo_surrogates`` reads as UTF-8 or Thai."""
    clean = Message()
    for key, value in part.raw_items():
        if key.lower() in ("content-disposition", "content-type"):
            clean[key] = _undo_surrogates(str(value))
    return clean.get_filename()


def mail_headers(message: Message) -> MailHeaders:
    """The sender, subject and date of a parsed message, as readable text."""
    date_text = header_text(message, "date")
    return MailHeaders(header_text(message, "from"), header_text(message, "subject"), *mail_date(date_text))


def header_text(message: Message, name: str) -> str:
    """A header as one line of text. Encoded words are decoded with ``email.header`` because the
    modern parser puts a space between the adjacent encoded words of a long Thai sender name."""
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == name), "")
    return plain_text(decoded_text(raw))


def decoded_text(raw: str) -> str:
    """Header text with its encoded words decoded, and raw 8-bit bytes read as UTF-8 or Thai."""
    text = _undo_surrogates(raw)
    if "=?" not in text:
        return text
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (ValueError, LookupError, IndexError, email.errors.HeaderParseError):
        return text


def _undo_surrogates(text: str) -> str:
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp874", errors="replace")


def mail_date(text: str) -> tuple[str, dt.datetime | None]:
    """The Date header as ISO text and a time, or kept as written when it cannot be a time."""
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return text, None
    return when.isoformat(), when


def mbox_messages(path: Path, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """The messages of an mbox file, numbered from 1, ``>From `` unquoted; None for a message larger
    than ``max_bytes`` (not read)."""
    box = mailbox.mbox(path, factory=None, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            with box.get_file(key) as f:
                data = f.read(max_bytes + 1)
            yield number, (_QUOTED_FROM.sub(rb"\1", data) if len(data) <= max_bytes else None)
    finally:
        box.close()


def looks_like_mbox(head: bytes) -> bool:
    """Whether a file starting with ``head`` is an mbox: its first line (blank lines skipped) is a
    ``From `` separator."""
    return head.lstrip(b"\r\n\t ").startswith(b"From ")


# ---- Outlook: winmail.dat (TNEF) and .msg

def tnef_parts(data: bytes) -> Iterator[MailPart]:
    """The attachments Outlook wrapped into a winmail.dat (TNEF) part."""
    tnef = tnefparse.TNEF(data, do_checksum=False)
    for attachment, title in zip(tnef.attachments, _tnef_titles(tnef)):
        long_names = [p.data for p in attachment.mapi_attrs if p.name == MAPI_ATTACH_LONG_FILENAME]
        content = attachment.data or b""
        yield MailPart(_text(long_names[0] if long_names else title) or "attachment", "", len(content),
                       lambda content=content: content)


def _tnef_titles(tnef: tnefparse.TNEF) -> list[bytes]:
    """Each attachment's title as raw bytes: in the Windows code page (cp874 from Thai Outlook), which
    ``tnefparse`` would decode as UTF-8 and fail on."""
    titles: list[bytes] = []
    for obj in tnef.objects:
        if obj.name == tnefparse.TNEF.ATTATTACHRENDDATA:  # each attachment starts with its rendering
            titles.append(b"")
        elif obj.name == tnefparse.TNEF.ATTATTACHTITLE and obj.level == tnefparse.TNEF.LVL_ATTACHMENT and titles:
            titles[-1] = obj.data
    return titles


def outlook_message(data: bytes) -> tuple[MailHeaders, list[MailPart]]:
    """The headers and attachments of an Outlook .msg file, embedded messages' attachments included."""
    import extract_msg  # imported late: it registers a "windows-874" codec that misreads Thai (0xE0 as ฿);
                        # ours, registered first, wins
    message = extract_msg.openMsg(data)
    try:
        header = message.header
        date_text = header_text(header, "date") if header is not None else ""
        headers = MailHeaders(plain_text(message.sender or ""), plain_text(message.subject or ""),
                              *mail_date(date_text))
        if headers.time is None and isinstance(message.date, dt.datetime):
            headers = MailHeaders(headers.sender, headers.subject, message.date.isoformat(), message.date)
        return headers, list(_outlook_parts(message, 0))
    finally:
        message.close()


def _outlook_parts(message, depth: int) -> Iterator[MailPart]:
    for attachment in message.attachments:
        content = attachment.data
        if isinstance(content, bytes):
            name = attachment.longFilename or attachment.shortFilename or "attachment"
            yield MailPart(_text(name), attachment.mimetype or "", len(content), lambda content=content: content)
        elif hasattr(content, "attachments") and depth < _MAX_EMBEDDED_OUTLOOK:
            yield from _outlook_parts(content, depth + 1)


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        value = _undo_surrogates(value.decode("utf-8", "surrogateescape")).rstrip("\x00")
    return (value or "").rstrip("\x00")

