"""Console output that never crashes on Thai text, whatever the console or redirect.

On Windows, Python writes a redirected stdout (``> log.txt``, a pipe, Task Scheduler, Git Bash) in the
ANSI code page: cp874 on a Thai PC has no ``→`` or ``≥``, cp1252 on an English one no Thai at all, and
one such character raises ``UnicodeEncodeError`` in the middle of a command. ``make_output_safe`` is
called before any output: a stream that is not a terminal is switched to UTF-8 (what Notepad, Excel and
PowerShell read), and a terminal that cannot show every character replaces it instead of failing.
"""

from __future__ import annotations

import codecs
import sys
from typing import TextIO


def make_output_safe() -> None:
    """Make ``sys.stdout`` and ``sys.stderr`` able to write any text (see ``safe_stream``)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            safe_stream(stream)


def safe_stream(stream: TextIO) -> None:
    """Reconfigure ``stream`` in place: UTF-8 when it is not a terminal, replacement characters when it is
    a terminal whose encoding is not UTF-8. UTF-8 streams and streams that cannot be reconfigured (a
    test's ``StringIO``) are left as they are."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None or _is_utf8(getattr(stream, "encoding", None)):
        return
    try:
        if _is_terminal(stream):
            reconfigure(errors="replace")  # the terminal shows what its code page can
        else:
            reconfigure(encoding="utf-8", errors="replace")
    except (ValueError, OSError):  # already written to, or closed: leave it
        pass


def _is_utf8(encoding: str | None) -> bool:
    try:
        return encoding is not None and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False
