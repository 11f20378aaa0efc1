"""JSON as the Disco master reads it (mochijson2), decoded into Python.

The C core checks a section against the master's grammar in one pass.  Plain
standard JSON then goes straight to Python's ``json``; a section that uses
what only the master reads is first rewritten by the core as standard JSON.

How master values map to Python:

- strings: ``str``; bytes the master accepts although they are not valid
  UTF-8 (encoded surrogates, code points above U+10FFFF, overlong forms)
  become lone surrogates U+DC80-U+DCFF, Python's ``surrogateescape``
  spelling, so ``s.encode("utf-8", "surrogateescape")`` gives the master's
  bytes back;
- non-string keys (``{1: 2}``, ``{null: 0}``) become strings of their source
  text (``"1"``, ``"null"``), as Python's ``json.dumps`` writes such keys;
- duplicate keys: a dict keeps the last value, as the master does for the
  jobdict; ``pairs=True`` keeps every pair in file order, as the master does
  for the jobenvs;
- integers of any length (beyond Python's 4300-digit ``int()`` limit too);
  nesting up to MAX_DEPTH (100,000) levels, decoded without recursion;
  deeper is refused (JSONDecodeError, status ``JP_ERR_JSON_TOO_DEEP``): each
  level costs a Python object of ~100 bytes for 2 bytes of input.
"""
import json
import re
import sys
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from . import _core, errors
from ._native import lib

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["loads", "HugeInt", "MAX_DEPTH"]

# Integers longer than this are not converted (int() from decimal text is
# quadratic): see HugeInt.  Up to MAX_FAST_INT_DIGITS, plain int() (below
# Python's default 4300-digit limit); between the two, via _bigint.
MAX_INT_DIGITS = 20000
MAX_FAST_INT_DIGITS = lib.JP_JSON_BIG_INT_DIGITS  # the C scanner flags longer ones
MAX_DEPTH = lib.JP_JSON_MAX_DEPTH  # deeper sections are refused by the C scanner
# Python's json recurses once per nesting level, and after
# sys.setrecursionlimit(100000) a deep section overflows the C stack
# (SIGSEGV) before RecursionError: deeper sections (the core reports the
# depth) are decoded without recursion.
SAFE_DEPTH = lib.JP_JSON_DEEP_LIMIT


class HugeInt:
    """An integer literal too long to convert quickly (> MAX_INT_DIGITS).

    Validation only needs to know that it is an integer; ``int(x)`` converts
    it on request, at quadratic cost."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __int__(self) -> int:
        from ._bigint import text_to_int  # rarely needed; not at import time
        return text_to_int(self.text)

    def __repr__(self) -> str:
        return f"HugeInt({len(self.text)} digits)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HugeInt) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _int_parser(limit: int) -> Callable[[str], Any]:
    """json's parse_int for integers of any length, whatever the process's
    int_max_str_digits: int() up to ``limit`` digits, then text_to_int (no
    digit limit, on PyPy too), then HugeInt."""
    def parse_int(text: str) -> Any:
        digits = len(text) - text.startswith("-")
        if digits <= limit:
            return int(text)
        if digits <= MAX_INT_DIGITS:
            from ._bigint import text_to_int  # rarely needed; not at import time
            return text_to_int(text)
        return HugeInt(text)
    return parse_int


def _parse_int(text: str) -> Any:
    """The same, under the limit the process has now (for one-off callers
    such as the command line; decoders build their parser once)."""
    return _int_parser(fast_int_digits())(text)


_get_int_max_str_digits = getattr(sys, "get_int_max_str_digits", None)


def int_max_str_digits() -> int:
    """This process's limit on int() of decimal text now (CPython 3.11+, and
    security releases of older ones; 0: none).  It can change at any time,
    so ask each time."""
    limit: int = _get_int_max_str_digits() if _get_int_max_str_digits is not None else 0
    return limit


def fast_int_digits() -> int:
    """Longest integer text that plain int() converts quickly and that the
    process's int_max_str_digits allows now."""
    limit = int_max_str_digits()
    return MAX_FAST_INT_DIGITS if limit == 0 else min(limit, MAX_FAST_INT_DIGITS)


# What builds each object from its (key, value) pairs in file order, as
# json's object_pairs_hook (what it raises propagates).
PairsHook = Callable[[List[Tuple[str, Any]]], Any]


def error(scan: "_core.JSONScan", section: "Buffer", name: str, base: int) -> errors.JSONDecodeError:
    """The master's error for a section it cannot read."""
    at = scan.error_offset
    snippet = bytes(memoryview(section)[max(0, at - 12):at + 12])
    what = ("is nested too deep for jobpack" if scan.status == lib.JP_ERR_JSON_TOO_DEEP
            else "is not JSON the master can read")
    hint = ""
    if scan.features & lib.JP_JSON_PY_ESCAPE and scan.dialect_features:
        # Python's json reads the escape, but not the master-only JSON.
        hint = (f"; the section also uses JSON only the master reads "
                f"({', '.join(scan.feature_names())}), so neither reader takes it")
    return errors.JSONDecodeError(
        f"{name} {what}: {_core.status_message(scan.status)}; "
        f"found {snippet!r} around section byte {at}{hint}", base + at,
        _core.status_name(scan.status))


def loads(section: "Buffer", *, name: str = "jobdict", base_offset: int = 0, pairs: bool = False,
          scan: "Optional[_core.JSONScan]" = None,
          object_pairs_hook: Optional[PairsHook] = None) -> Any:
    """Decode a section the way the master does, or raise JSONDecodeError
    whose offset is ``base_offset`` plus the offset in the section.  ``scan``
    is the core's check of this section, when the caller already has it."""
    if scan is None:
        scan = _core.scan_json(section)
    if scan.status != _OK:  # not scan.ok: a property is a Python call
        raise error(scan, section, name, base_offset)
    return decode(section, scan, pairs, object_pairs_hook)


def decode(section: "Buffer", scan: "_core.JSONScan", pairs: bool = False,
           object_pairs_hook: Optional[PairsHook] = None) -> Any:
    """A section its scan found readable (standard JSON or the master's
    dialect), as Python values: objects as dicts, as lists of pairs with
    ``pairs``, or as ``object_pairs_hook`` builds them.  Never hands Python's
    recursive json a section nested deeper than SAFE_DEPTH, whatever the
    recursion limit, and never converts an integer longer than the process
    allows."""
    if scan.features & _DIALECT_ONLY:
        converted = _core.scan_json(section, convert=True).standard_json
        assert converted is not None  # a readable section always converts
        raw = converted
    else:
        raw = section if type(section) is bytes else bytes(section)
    # Strict UTF-8 now: lax bytes became \udcXX escapes in the conversion.
    text = raw.decode("utf-8")
    if object_pairs_hook is None:
        object_pairs_hook = list if pairs else dict
        decoder, scanner = (_PAIRS_DECODER, _PAIRS_SCAN) if pairs else (_DECODER, _SCAN)
    else:
        decoder = json.JSONDecoder(object_pairs_hook=object_pairs_hook)
        scanner = scanner_of(decoder)
    parse_int: Optional[Callable[[str], Any]] = None
    if scan.max_int_digits > _ALWAYS_FAST_DIGITS:
        limit = fast_int_digits()
        if scan.max_int_digits > limit:
            parse_int = _int_parser(limit)
            decoder = json.JSONDecoder(object_pairs_hook=object_pairs_hook, parse_int=parse_int)
    if scan.max_depth <= SAFE_DEPTH:
        try:
            if parse_int is None:
                # JSONDecoder.decode inlined, as _json.decode_section does:
                # its scanner called directly, with its whitespace rule.
                value, end = scanner(text, _WHITESPACE(text).end())
                if end == len(text) or _WHITESPACE(text, end).end() == len(text):
                    return value
            return decoder.decode(text)  # or its error
        except StopIteration:
            return decoder.decode(text)  # no value: its error
        except RecursionError:
            pass  # a low recursion limit, or a deep stack already: no recursion then
    return _loads_iterative(text, object_pairs_hook,
                            parse_int or _int_parser(fast_int_digits()))


_DIALECT_ONLY = lib.JP_JSON_DIALECT_ONLY
_OK = lib.JP_OK
_DECODER = json.JSONDecoder()
_PAIRS_DECODER = json.JSONDecoder(object_pairs_hook=list)


# What JSONDecoder.decode() runs, for callers that skip its two frames (here,
# _json and validate): the decoder's scanner ((value, end), or StopIteration
# where no value starts) and the whitespace it skips around the value
# (neither is in typeshed).
Scanner = Callable[[str, int], Tuple[Any, int]]


def scanner_of(decoder: json.JSONDecoder) -> Scanner:
    scan: Scanner = getattr(decoder, "scan_once")
    return scan


WHITESPACE: "Callable[..., re.Match[str]]" = getattr(json.decoder, "WHITESPACE").match
_WHITESPACE = WHITESPACE
_SCAN = scanner_of(_DECODER)
_PAIRS_SCAN = scanner_of(_PAIRS_DECODER)
# CPython's lowest int_max_str_digits but 0 (no limit): shorter integers
# never need asking for the limit.
_ALWAYS_FAST_DIGITS = 640


# NaN and Infinity: only in sections _json checked with the constants
# replaced (Disco's json.dumps writes them; the scan never passes them).
_TOKEN = re.compile(r'[ \t\r\n]*(?:("(?:[^"\\]|\\.)*")|([\[\]{}:,])|'
                    r'(-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)|'
                    r'(true|false|null|NaN|-?Infinity))', re.S)
_LITERALS = {"true": True, "false": False, "null": None,
             "NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _loads_iterative(text: str, object_pairs_hook: PairsHook,
                     parse_int: Callable[[str], Any]) -> Any:
    """Decode standard JSON (the core's output) without recursion, for
    nesting deeper than Python's json module can follow."""
    stack: List[List[Any]] = []   # open containers: [container, pending key]
    root: List[Any] = []
    pos = 0

    def add(value: Any) -> None:
        if not stack:
            root.append(value)
            return
        top = stack[-1]
        if isinstance(top[0], list) and top[1] is _NO_KEY:
            top[0].append(value)
        else:
            _store(top, value)

    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            break
        pos = m.end()
        string, punct, number, frac, exp, literal = m.groups()
        if string is not None:
            value = json.loads(string)
            if stack and stack[-1][1] is _WANT_KEY:
                stack[-1][1] = value
            else:
                add(value)
        elif number is not None:
            add(float(number) if frac or exp else parse_int(number))
        elif literal is not None:
            add(_LITERALS[literal])
        elif punct == "[":
            stack.append([[], _NO_KEY])
        elif punct == "{":
            stack.append([[], _WANT_KEY])
        elif punct in "]}":
            container = stack.pop()[0]
            add(object_pairs_hook(container) if punct == "}" else container)
        elif punct == "," and stack and stack[-1][1] is not _NO_KEY:
            stack[-1][1] = _WANT_KEY
    return root[0]


_NO_KEY = object()
_WANT_KEY = object()


def _store(top: List[Any], value: Any) -> None:
    top[0].append((top[1], value))
    top[1] = None
