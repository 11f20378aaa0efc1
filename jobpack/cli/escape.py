"""What the command line prints: nothing a terminal or a CI log would obey.

Names and values come from packs and file systems, so they may hold control
characters (ESC, the 8-bit CSI U+009B, CR...) or bytes that are not UTF-8.
One notation, used in every format:

- ``\\xNN``: a C0 control character or DEL (its UTF-8 byte is NN), or a byte
  NN that is not UTF-8 (Python keeps those as U+DC80-U+DCFF);
- ``\\u00NN``: a C1 control character U+0080-U+009F (``\\uNNNN`` for any
  other lone surrogate);
- in file and entry names (``name``), ``\\\\`` for a backslash, so the shown
  name maps back to the exact bytes.

``install`` puts a filter on standard output and error that applies this to
everything written except newlines: whatever a command forgets to escape
still cannot reach the terminal raw.  (A writer that escapes every piece
itself, as validate's text report does with ``name`` and ``inert``, may
write to ``unfiltered(stream)`` instead: the filter would only check each
character again.)  JSON output is ASCII (control
characters as ``\\u`` escapes) and gives a name that is not UTF-8 as text with
U+FFFD plus a ``..._bytes`` field holding its exact bytes in hex.
"""
import io
import json
import re
import sys
from typing import Any, Dict, Optional, TextIO

__all__ = ["inert", "name", "json_name", "to_json", "install", "unfiltered"]

# Patterns, not compiled regexes: re.sub compiles each on first use (and
# caches it), and most runs never use one (see inert): compiling these
# character classes at import cost more than importing argparse.
_UNSAFE = "[\x00-\x1f\x7f-\x9f\ud800-\udfff]"
_UNSAFE_BUT_NEWLINE = "[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]"
_UNSAFE_OR_BACKSLASH = "[\\\\\x00-\x1f\x7f-\x9f\ud800-\udfff]"


def _escape(match: "re.Match[str]") -> str:
    c = ord(match.group())
    if c == 0x5C:
        return "\\\\"
    if 0xDC80 <= c <= 0xDCFF:
        return f"\\x{c - 0xDC00:02x}"
    if c < 0x20 or c == 0x7F:
        return f"\\x{c:02x}"
    return f"\\u{c:04x}"


# Every character to escape (C0, DEL, C1, a lone surrogate) is one that
# str.isprintable() refuses (categories Cc and Cs), so printable text needs
# nothing: one C pass answers for the common case, ASCII or not, where the
# regex's character class costs about 200 instructions a character.

def inert(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every control character and lone surrogate escaped."""
    if text.isprintable() or (keep_newlines and text.replace("\n", "").isprintable()):
        return text
    return re.sub(_UNSAFE_BUT_NEWLINE if keep_newlines else _UNSAFE, _escape, text)


def name(text: str) -> str:
    """A file or entry name on one line, readable, and mapping back to its
    exact bytes (backslashes doubled)."""
    if text.isprintable() and "\\" not in text:
        return text
    return re.sub(_UNSAFE_OR_BACKSLASH, _escape, text)


def json_name(key: str, text: str, raw: Optional[bytes] = None) -> Dict[str, Any]:
    """``{key: text}``, or, for a name that is not UTF-8, the text with
    U+FFFD for each bad byte and ``key + "_bytes"``: the exact bytes in hex."""
    if raw is None:
        try:
            text.encode("utf-8")
            return {key: text}
        except UnicodeEncodeError:
            raw = text.encode("utf-8", "surrogateescape")
    else:
        try:
            if raw.decode("utf-8") == text:
                return {key: text}
        except UnicodeDecodeError:
            pass
        if not _has_surrogate(text):
            return {key: text}  # a cp437 name: its text is exact
    return {key: raw.decode("utf-8", "replace"), key + "_bytes": raw.hex()}


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def to_json(value: Any, **options: Any) -> str:
    """json.dumps as ASCII, DEL escaped too (the only control character
    json leaves raw)."""
    return json.dumps(value, ensure_ascii=True, **options).replace("\x7f", "\\u007f")


class _InertWriter(io.TextIOBase):
    """A text stream that escapes what it writes (newlines kept)."""

    def __init__(self, stream: TextIO):
        self.unfiltered = stream

    def write(self, text: str) -> int:
        self.unfiltered.write(inert(text, keep_newlines=True))
        return len(text)

    def flush(self) -> None:
        self.unfiltered.flush()

    def isatty(self) -> bool:
        return self.unfiltered.isatty()

    def fileno(self) -> int:
        return self.unfiltered.fileno()

    @property
    def buffer(self) -> Any:  # binary output (pack -o -) is not text
        return self.unfiltered.buffer

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.unfiltered, "encoding", "utf-8")


def install() -> Any:
    """Filter sys.stdout and sys.stderr; returns the function that restores them."""
    saved = sys.stdout, sys.stderr
    sys.stdout = _InertWriter(saved[0])
    sys.stderr = _InertWriter(saved[1])

    def restore() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        sys.stdout, sys.stderr = saved

    return restore


def unfiltered(stream: TextIO) -> TextIO:
    """The stream under the filter, for the few writes that are meant to
    control the terminal (the progress line)."""
    return getattr(stream, "unfiltered", stream)
