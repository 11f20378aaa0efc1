"""Read ``[tool.jobpack]`` from a pyproject.toml on Pythons without tomllib.

Python 3.11+ reads TOML with the standard library's ``tomllib``; on 3.9 and
3.10 ``tomli`` is used when it is installed.  Without either, this reader
takes over so that the configuration works on every supported Python with
cffi as the only dependency.  It reads what ``[tool.jobpack]`` holds and
nothing more: bare or quoted keys whose values are booleans, strings or
arrays of strings (over several lines too, with comments and a trailing
comma).  Other tables are skipped unread; anything else inside
``[tool.jobpack]`` is an error that says to install tomli.
"""
import re
from typing import Any, Dict, List, Optional, Tuple

TABLE = "tool.jobpack"

_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*"
                     r"\]\]?\s*(?:#.*)?\Z")
_KEY = re.compile(r"\s*([A-Za-z0-9_-]+|\"[^\"\\]*\"|'[^']*')\s*=\s*")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class TOMLSubsetError(ValueError):
    """Something this reader does not read; the message says where."""


def _fail(line: int, what: str) -> TOMLSubsetError:
    return TOMLSubsetError(f"line {line}: {what} (this Python has no TOML reader: use "
                           f"Python 3.11+ or 'pip install tomli' to read full TOML)")


def _skip_space(text: str, pos: int) -> int:
    """Past blanks, newlines and comments."""
    while pos < len(text):
        if text[pos] in " \t\r\n":
            pos += 1
        elif text[pos] == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
        else:
            break
    return pos


def _string(text: str, pos: int, line: int) -> Tuple[str, int]:
    quote = text[pos]
    if text.startswith(quote * 3, pos):
        raise _fail(line, "multi-line strings are not supported")
    pos += 1
    out: List[str] = []
    while pos < len(text):
        ch = text[pos]
        if ch == quote:
            return "".join(out), pos + 1
        if ch == "\n":
            break
        if ch == "\\" and quote == '"':
            esc = text[pos + 1:pos + 2]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
                pos += 2
                continue
            digits = {"u": 4, "U": 8}.get(esc)
            hex_text = text[pos + 2:pos + 2 + (digits or 0)]
            if digits and re.fullmatch(r"[0-9A-Fa-f]+", hex_text) and len(hex_text) == digits:
                out.append(chr(int(hex_text, 16)))
                pos += 2 + digits
                continue
            raise _fail(line, f"bad escape '\\{esc}' in a string")
        out.append(ch)
        pos += 1
    raise _fail(line, "a string is not closed on its line")


def _value(text: str, pos: int, line: int) -> Tuple[Any, int]:
    if text.startswith("true", pos) or text.startswith("false", pos):
        word = "true" if text.startswith("true", pos) else "false"
        return word == "true", pos + len(word)
    if pos < len(text) and text[pos] in "\"'":
        return _string(text, pos, line)
    if pos < len(text) and text[pos] == "[":
        items: List[Any] = []
        pos = _skip_space(text, pos + 1)
        while pos < len(text) and text[pos] != "]":
            if pos >= len(text) or text[pos] not in "\"'":
                raise _fail(line + text.count("\n", 0, pos), "arrays may hold only strings")
            item, pos = _string(text, pos, line + text.count("\n", 0, pos))
            items.append(item)
            pos = _skip_space(text, pos)
            if pos < len(text) and text[pos] == ",":
                pos = _skip_space(text, pos + 1)
            elif pos < len(text) and text[pos] != "]":
                raise _fail(line + text.count("\n", 0, pos), "expected ',' or ']' in an array")
        if pos >= len(text):
            raise _fail(line, "an array is not closed")
        return items, pos + 1
    raise _fail(line, "values may be only true, false, strings or arrays of strings")


def read_table(document: str) -> Optional[Dict[str, Any]]:
    """The ``[tool.jobpack]`` table of a pyproject.toml, or None if it has none."""
    lines = document.split("\n")
    table: Optional[Dict[str, Any]] = None
    inside = False
    i = 0
    while i < len(lines):
        number, line = i + 1, lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header:
            name = re.sub(r"\s+", "", header.group(2))
            inside = header.group(1) == "[" and name == TABLE
            if header.group(1) == "[" and name.startswith(TABLE + "."):
                raise _fail(number, f"[{name}]: [tool.jobpack] has no sub-tables")
            if inside:
                if table is not None:
                    raise _fail(number, "[tool.jobpack] appears twice")
                table = {}
            continue
        if not inside:
            continue  # other tables are not ours to read
        key_match = _KEY.match(line)
        if not key_match:
            raise _fail(number, "expected 'key = value'")
        key = key_match.group(1).strip("\"'")
        # An array may go on over the next lines: give the value all that follows.
        rest = "\n".join([line[key_match.end():]] + lines[i:])
        value, end = _value(rest, 0, number)
        used = rest[:end].count("\n")
        tail = rest[end:].split("\n", 1)[0].strip()
        if tail and not tail.startswith("#"):
            raise _fail(number + used, f"unexpected {tail!r} after the value of {key!r}")
        if key in table:  # type: ignore[operator]
            raise _fail(number, f"{key!r} is set twice")
        table[key] = value  # type: ignore[index]
        i += used
    return table
