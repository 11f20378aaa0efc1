"""Standard JSON in every spelling: the same values, written many ways.

Disco's ``json.dumps`` writes one spelling of a value (", " and ": ",
``\\uXXXX`` for all non-ASCII).  Another client may write any other that
RFC 8259 allows, and the master reads them all alike: whitespace (space,
tab, CR, LF) around every token, each escape form (``\\"``, ``\\/``,
``\\n``, ``\\u00e9``, ``\\uD83D\\uDE00`` in either case), raw UTF-8 of
each length, floats with exponents.  ``render_json`` draws one such
spelling; ``varied_jobpacks`` builds valid packs with it.
"""
import decimal
import json
from typing import Any, Dict, List, Optional, Tuple

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .master_json import STANDARD, insert_member
from ..pack import JobPack
from .valid import _JOBPACKS, _assemble

__all__ = ["render_json", "varied_jobpacks"]

# Whitespace the master skips: exactly these four bytes.
WHITESPACE = (b" ", b"\t", b"\n", b"\r")
_WS = st.one_of(st.just(b""), st.sampled_from(WHITESPACE),
                st.lists(st.sampled_from(WHITESPACE), min_size=2, max_size=4).map(b"".join))
_SHORT_ESCAPES = {'"': b'\\"', "\\": b"\\\\", "/": b"\\/", "\b": b"\\b", "\f": b"\\f",
                  "\n": b"\\n", "\r": b"\\r", "\t": b"\\t"}
_SPELLING = st.sampled_from(["raw", "raw", "raw", "short", "u_lower", "u_upper"])


def _u(code: int, upper: bool) -> bytes:
    text = b"\\u%04x" % code
    return text.upper().replace(b"\\U", b"\\u") if upper else text


def _char(draw: Any, ch: str) -> bytes:
    code = ord(ch)
    how = draw(_SPELLING)
    must_escape = code < 0x20 or ch in '"\\'
    if how == "short" and ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    if how == "raw" and not must_escape:
        return ch.encode("utf-8")
    if ch in '"\\' and how in ("raw", "short"):
        return _SHORT_ESCAPES[ch]
    upper = how == "u_upper"
    if code >= 0x10000:   # a surrogate pair
        code -= 0x10000
        return _u(0xD800 | (code >> 10), upper) + _u(0xDC00 | (code & 0x3FF), upper)
    return _u(code, upper)


def _string(draw: Any, text: str) -> bytes:
    return b'"' + b"".join(_char(draw, ch) for ch in text) + b'"'


def _float(draw: Any, value: float) -> bytes:
    text = json.dumps(value)
    if not draw(st.booleans()):
        return text.encode("ascii")
    # The same decimal number with the point moved: parses to the same double.
    sign, digits, exponent = decimal.Decimal(text).as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    shift = draw(st.integers(0, len(mantissa) - 1))
    whole, frac = mantissa[:len(mantissa) - shift], mantissa[len(mantissa) - shift:]
    body = whole + ("." + frac if frac else "")
    exp_text = draw(st.sampled_from(["e", "E"])) + draw(st.sampled_from(["", "+"])) \
        if exponent + shift >= 0 else draw(st.sampled_from(["e", "E"]))
    text = ("-" if sign else "") + body + str(exp_text) + str(exponent + shift)
    return text.encode("ascii")


def _render(draw: Any, value: Any) -> bytes:
    """Standard JSON for value, in a drawn spelling (iterative: any depth)."""
    out: List[bytes] = []
    # Work items: a value to render, or bytes to emit.
    stack: List[Any] = [("value", value)]
    while stack:
        what, item = stack.pop()
        if what == "bytes":
            out.append(item)
            continue
        if isinstance(item, bool) or item is None:
            out.append(json.dumps(item).encode("ascii"))
        elif isinstance(item, int):
            out.append(str(item).encode("ascii"))
        elif isinstance(item, float):
            out.append(_float(draw, item))
        elif isinstance(item, str):
            out.append(_string(draw, item))
        elif isinstance(item, (list, dict)):
            is_dict = isinstance(item, dict)
            parts: List[Any] = [("bytes", b"{" if is_dict else b"[")]
            members = list(item.items()) if isinstance(item, dict) else list(item)
            for i, member in enumerate(members):
                parts.append(("bytes", draw(_WS) + (b"," + draw(_WS) if i else b"")))
                if is_dict:
                    key, member = member
                    parts.append(("bytes", _string(draw, key) + draw(_WS) + b":" + draw(_WS)))
                parts.append(("value", member))
            parts.append(("bytes", draw(_WS) + (b"}" if is_dict else b"]")))
            stack.extend(reversed(parts))
        else:  # pragma: no cover - the strategies only build JSON values
            raise TypeError(f"not a JSON value: {item!r}")
    return b"".join(out)


@st.composite
def _rendered(draw: Any, value: Any) -> bytes:
    return bytes(draw(_WS) + _render(draw, value) + draw(_WS))


def render_json(value: Any) -> st.SearchStrategy[bytes]:
    """Standard JSON text for ``value`` (str, int, float, bool, None, lists
    and dicts of them) in a drawn spelling; ``json.loads`` of it gives
    ``value`` back, and the master reads the same value."""
    return _rendered(value)


_EDGE = st.sampled_from(STANDARD)
_EDGE_STRING = st.sampled_from([pair for pair in STANDARD if pair[1]])
_EDGE_PLACE = st.sampled_from(["none", "value", "key", "last"])


def _with_edge(draw: Any, section: bytes, empty: bool, strings_only: bool,
               edge: Optional[Tuple[str, bytes]] = None) -> bytes:
    """The section with one more member holding a STANDARD snippet (as the
    value, or inside the key), under a key no other member has; edge fixes
    (place, snippet)."""
    place = edge[0] if edge else draw(_EDGE_PLACE)
    if place == "none":
        return section
    snippet = edge[1] if edge else draw(_EDGE_STRING if strings_only or place == "key"
                                        else _EDGE)[0]
    if place == "key":
        return insert_member(section, b'"x-edge-' + snippet[1:], b'"v"', empty=empty)
    return insert_member(section, b'"x-edge"', snippet, last=place == "last", empty=empty)


@st.composite
def _varied(draw: Any, version: Optional[int], edge: Optional[Tuple[str, bytes]] = None,
            v1_flags: Any = None, fields: Optional[Dict[str, Any]] = None) -> bytes:
    pack = draw(_JOBPACKS[1 if v1_flags else version])
    if v1_flags:
        pack = _with_v1_flags(pack, v1_flags)
    if fields:
        pack = JobPack(version or pack.version, {**pack.jobdict, **fields}, pack.jobenvs,
                       pack.jobhome, pack.jobdata)
    in_jobenvs = edge is not None and edge[1].startswith(b'"') and draw(st.booleans())
    jobdict = _with_edge(draw, draw(_rendered(pack.jobdict)), False, False,
                         None if in_jobenvs else edge)
    jobenvs = _with_edge(draw, draw(_rendered(pack.jobenvs)), not pack.jobenvs, True,
                         edge if in_jobenvs else ("none", b""))
    return _assemble(pack.version, jobdict, jobenvs, bytes(pack.jobhome), bytes(pack.jobdata))


_VARIED = {v: _varied(v) for v in (None, 1, 2)}

_ABSENT = object()
# Every version-1 combination of the flags that shape the pipeline and the
# locality: map?, reduce?, reduce_shuffle? (absent, true, false),
# nr_reduces (0, 1, 2), and the scheduler's force_local, force_remote.
_TRI = (_ABSENT, True, False)
V1_FLAG_COMBINATIONS = [
    (m, r, s, n, (_TRI[i % 9 % 3], _TRI[i % 9 // 3]))
    for i, (m, r, s, n) in enumerate((m, r, s, n) for m in _TRI for r in _TRI for s in _TRI
                                     for n in (0, 1, 2))]


def _with_v1_flags(pack: JobPack, flags: Any) -> JobPack:
    jobdict = dict(pack.jobdict)
    m, r, s, n, (fl, fr) = flags
    scheduler = dict(jobdict["scheduler"])
    for key, value in (("map?", m), ("reduce?", r), ("reduce_shuffle?", s)):
        jobdict.pop(key, None)
        if value is not _ABSENT:
            jobdict[key] = value
    for key, value in (("force_local", fl), ("force_remote", fr)):
        scheduler.pop(key, None)
        if value is not _ABSENT:
            scheduler[key] = value
    jobdict["nr_reduces"] = n
    jobdict["scheduler"] = scheduler
    return JobPack(1, jobdict, pack.jobenvs, pack.jobhome, pack.jobdata)


def sweep() -> List[st.SearchStrategy[bytes]]:
    """One strategy per STANDARD snippet and place, and per version-1 flag
    combination (see malformed.sweep)."""
    out = []
    for snippet, is_string in STANDARD:
        for place in ("value", "key", "last") if is_string else ("value", "last"):
            out.append(_varied(None, (place, snippet)))
    out += [_varied(1, None, flags) for flags in V1_FLAG_COMBINATIONS]
    out += [_varied(version, None, None, fields) for version, fields in FIELD_EDGES]
    return out


# An integer of more digits than jobpack converts (dialect.MAX_INT_DIGITS,
# 20,000: longer ones are read as dialect.HugeInt), so its section is longer
# than that too: which decoder reads it first depends on the process's
# int_max_str_digits, and the value must not.
LONG_INTEGER_DIGITS = 25_000
_MARKER = 10 ** 40 + 14   # an integer no strategy draws, replaced in the text


@st.composite
def _with_long_integer(draw: Any) -> bytes:
    """A valid version-2 pack with one more input whose size has
    LONG_INTEGER_DIGITS digits.  The jobdict is raw UTF-8 with no \\u
    escape, which Python's json reads (it leaves a surrogate escape to the
    core), and json.dumps cannot write such an integer under the default
    int_max_str_digits: a marker is written, then replaced."""
    pack = draw(_JOBPACKS[2])
    jobdict = {**pack.jobdict, "inputs": [*pack.jobdict["inputs"], [0, _MARKER, ["raw://x"]]]}
    section = json.dumps(jobdict, ensure_ascii=False).encode("utf-8")
    marker = b"%d" % _MARKER
    assert section.count(marker) == 1, "the marker is drawn elsewhere"
    section = section.replace(marker, b"9" * LONG_INTEGER_DIGITS)
    return _assemble(2, section, json.dumps(pack.jobenvs).encode("ascii"),
                     bytes(pack.jobhome), bytes(pack.jobdata))


def long_integer_sweep() -> List[st.SearchStrategy[bytes]]:
    """Valid packs holding an integer longer than jobpack converts (see
    LONG_INTEGER_DIGITS), one strategy (see malformed.sweep)."""
    return [_with_long_integer()]


# Field values the master accepts at the ends of its rules: replicas that
# are deep lists of bytes 0 and 255, save_info of exactly four characters
# (as text and as codes), codes at the ends of the code range after them.
FIELD_EDGES: List[Tuple[int, Dict[str, Any]]] = [
    (1, {"input": [["raw://a/", [0, 255, ["x", 104]]], [[255], "raw://b/"]]}),
    (1, {"input": ["dir://h/x", ["dir://h/y", 5], [[0]]]}),
    (2, {"save_info": "ddfs"}), (2, {"save_info": "hdfs", "save_results": True}),
    (2, {"save_info": [100, 100, 102, 115]}), (1, {"save_info": [104, 100, 102, 115, 0x10FFFF]}),
    (2, {"save_info": [100, 100, 102, 115, 0x110000]}), (2, {"save_info": [104, 100, 102, 115, -1]}),
    (2, {"save_info": [100, 100, 102, 115, [0, 255]]}),
    (2, {"save_info": [100, 100, 102, 115, 255]}), (1, {"save_info": [104, 100, 102, 115, 256]}),
]


def varied_jobpacks(version: Optional[int] = None) -> st.SearchStrategy[bytes]:
    """Bytes of ``jobpacks(version)`` with the JSON sections in drawn
    standard spellings (whitespace, every escape form, raw UTF-8): what
    another client may write, sometimes with one more member (``x-edge``)
    holding a value at an edge of standard JSON (``master_json.STANDARD``).
    The master and strict validation accept them."""
    if version not in _VARIED:
        raise InvalidArgument(f"version must be 1, 2 or None, not {version!r}")
    return _VARIED[version]
