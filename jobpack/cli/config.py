"""``[tool.jobpack]`` in pyproject.toml: validate's settings, overridden by flags.

The file is the first pyproject.toml with a ``[tool.jobpack]`` table found
from the current directory upwards (as ruff finds ``[tool.ruff]``), or the
one ``--config`` names.  TOML is read with ``tomllib`` (Python 3.11+), else
``tomli`` if installed, else the small reader in ``toml_subset``.
"""
import importlib
import os
import re
from typing import Any, Dict, Optional, Tuple

from . import formats
from .common import CLIError, _display, _os_reason
from .rules import unknown_selectors

# key in [tool.jobpack] -> (argparse dest, expected type)
KEYS: Dict[str, Tuple[str, type]] = {
    "strict": ("strict", bool),
    "exit-zero": ("exit_zero", bool),
    "format": ("format", str),
    "select": ("select", list),
    "ignore": ("ignore", list),
    "include": ("include", list),
    "exclude": ("exclude", list),
}

DEFAULTS: Dict[str, Any] = {"strict": False, "exit_zero": False, "format": "text",
                            "select": None, "ignore": [], "include": None, "exclude": []}


def find(start: str) -> Optional[str]:
    """The nearest pyproject.toml with a [tool.jobpack] table, from ``start`` up."""
    here = os.path.abspath(start)
    while True:
        candidate = os.path.join(here, "pyproject.toml")
        if os.path.isfile(candidate) and _table(candidate) is not None:
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _table(path: str) -> Optional[Dict[str, Any]]:
    """The [tool.jobpack] table of a pyproject.toml, None if it has none."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise CLIError(f"cannot read {_display(path)}: {_os_reason(e)}") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CLIError(f"{_display(path)} is not UTF-8 (byte {e.start})") from e
    if not may_hold_table(text):  # most pyproject.toml files: skip parsing
        return None
    try:
        document = _parse(text)
    except ValueError as e:
        raise CLIError(f"{_display(path)}: invalid TOML: {e}") from e
    if document is None:
        return None
    tool = document.get("tool") if isinstance(document, dict) else None
    table = tool.get("jobpack") if isinstance(tool, dict) else None  # ([[tool]] is a list)
    if table is not None and not isinstance(table, dict):
        raise CLIError(f"{_display(path)}: tool.jobpack must be a table")
    return table


# Patterns for re's functions, compiled on first use (most runs find no
# pyproject.toml naming jobpack).  "jobpack" where a key can be: bare (after
# a blank, '.', '[', '{' or ',', not in a word or a string) or quoted, then
# '=', '.' or ']'.
_JOBPACK_KEY = r"""(?:(?<![^\s.\[{,])jobpack|"jobpack"|'jobpack')[ \t]*[=.\]]"""
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\\]*"|'[^']*')"""
_HEADER = (rf"(\[\[?)[ \t]*({_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*)[ \t]*"
           rf"(\]\]?)[ \t]*(?:#.*)?")
_TOOL = r"""tool|"tool"|'tool'"""


def may_hold_table(text: str) -> bool:
    """False when ``text`` cannot define tool.jobpack, so that reading the
    TOML (tomllib's import and parse: a third of the CLI's own start-up) is
    skipped for a pyproject.toml that only names jobpack as a dependency,
    a script or a package.  Checked line by line: every "jobpack" key must
    begin a line of a table other than [tool] (or of the root), and
    anything that could hide where a table begins (a multi-line string, a
    line starting with '[' that may be inside an array, an inline table
    over lines, a header this does not read) answers True: then the TOML
    reader decides."""
    if "\\u" in text or "\\U" in text or "\\x" in text:
        return True  # a quoted key may spell jobpack with escapes: "job\\u0070ack"
    if "jobpack" not in text:
        return False
    if '"""' in text or "'''" in text:
        return True
    in_tool = False
    previous = ""  # the last line that is neither blank nor a comment
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            header = re.fullmatch(_HEADER, stripped)
            if (header is None or len(header.group(1)) != len(header.group(3))
                    or previous.endswith(("[", ",")) or "#" in previous
                    or re.search(_JOBPACK_KEY, stripped)):
                return True  # not plainly a header, or one naming jobpack
            in_tool = re.fullmatch(_TOOL, header.group(2)) is not None
        elif line.count("{") != line.count("}"):
            return True  # an inline table over lines (TOML 1.1) may hold any key
        else:
            indent = len(line) - len(line.lstrip())
            for key in re.finditer(_JOBPACK_KEY, line):
                if key.start() != indent or in_tool:
                    return True  # tool.jobpack, or perhaps (inside a value)
        previous = stripped
    return False


def _parse(text: str) -> Optional[Dict[str, Any]]:
    """The document (only as far as tool.jobpack, for the subset reader)."""
    toml: Any
    try:
        import tomllib as toml  # Python 3.11+
    except ImportError:
        try:
            toml = importlib.import_module("tomli")
        except ImportError:
            from .toml_subset import read_table
            table = read_table(text)
            return None if table is None else {"tool": {"jobpack": table}}
    document: Dict[str, Any] = toml.loads(text)
    return document


def load(path: str) -> Dict[str, Any]:
    """Settings from a pyproject.toml's [tool.jobpack], by argparse dest; checked."""
    table = _table(path)
    if table is None:
        raise CLIError(f"{_display(path)} has no [tool.jobpack] table")
    settings: Dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            raise CLIError(f"{_display(path)}: unknown setting {key!r} in [tool.jobpack] "
                           f"(known: {', '.join(KEYS)})")
        dest, kind = KEYS[key]
        if kind is list:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise CLIError(f"{_display(path)}: [tool.jobpack] {key} must be a list of "
                               f"strings, such as [\"zip_\"]")
        elif not isinstance(value, kind):
            raise CLIError(f"{_display(path)}: [tool.jobpack] {key} must be a "
                           f"{'boolean' if kind is bool else 'string'}")
        settings[dest] = list(value) if kind is list else value
    if "format" in settings and settings["format"] not in formats.FORMATS:
        raise CLIError(f"{_display(path)}: [tool.jobpack] format must be one of "
                       f"{', '.join(formats.FORMATS)}, found {settings['format']!r}")
    for dest in ("select", "ignore"):
        bad = unknown_selectors(settings.get(dest, []))
        if bad:
            raise CLIError(f"{_display(path)}: [tool.jobpack] {dest}: no problem code is or "
                           f"starts with {', '.join(map(repr, bad))}")
    return settings


def resolve(args: Any) -> Dict[str, Any]:
    """validate's settings by argparse dest: defaults, then the config file,
    then the flags given."""
    path: Optional[str] = None
    if args.config is not None:
        path = args.config
    elif not args.isolated:
        path = find(os.getcwd())
    settings = dict(DEFAULTS)
    if path is not None:
        settings.update(load(path))
    for dest in DEFAULTS:
        flag = getattr(args, dest, None)
        if flag is not None:
            settings[dest] = flag
    return settings

