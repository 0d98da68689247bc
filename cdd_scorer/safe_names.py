"""Names that are safe to print and to save: what a stranger's e-mail calls its attachments.

An attachment name, sender or subject can hold control characters (a carriage return fakes a
summary line, an escape code clears the screen) and bidirectional overrides (U+202E shows
``xslx.exe`` as ``exe.xlsx``). ``plain_text`` is what the console and the log show; ``safe_file_name``
is what the input folder gets, and it always keeps the extension ``score`` reads by.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 180  # ext4 allows 255 bytes per name; a Thai letter takes 3 in UTF-8
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI_MARKS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')


def plain_text(text: str) -> str:
    """``text`` on one line, without control characters or bidirectional marks."""
    return " ".join(_CONTROLS.sub(" ", _BIDI_MARKS.sub("", text)).split())


def safe_file_name(name: str, fallback: str = "attachment") -> str:
    """A file name that is safe on Windows and Linux: the base name only, no reserved characters
    or names, no control or bidirectional characters, no leading dots, not too long; Thai letters
    and the extension are kept."""
    base = unicodedata.normalize("NFC", _BIDI_MARKS.sub("", re.split(r"[/\\]", name)[-1]))
    base = _WINDOWS_FORBIDDEN.sub("_", _CONTROLS.sub("_", base)).strip().rstrip(". ")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = f".{suffix.strip()}" if suffix.strip() else ""
    stem = stem.lstrip(". ").strip() or fallback
    if _WINDOWS_RESERVED.match(stem.split(".")[0]):
        stem = f"_{stem}"
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip(". ") or fallback) + suffix


def with_suffix(name: str, suffix: str) -> str:
    """``safe_file_name(name)``, ending in ``suffix`` (added when the name has another ending)."""
    safe = safe_file_name(name)
    if safe.lower().endswith(suffix.lower()):
        return safe
    return safe_file_name(safe + suffix)
