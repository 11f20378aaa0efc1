"""Packs the master accepts but a careful check refuses, labelled with the strict code."""
import io
import re
import struct
import zipfile
from typing import Any, Dict, Iterable, List, Optional, Tuple

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._values import (_KEY_TEXT, _TEXT, _WORKER_PATHS, _json, _not_text)
from .master_json import AT_END, DEPTH_PAST_LIMIT, DIALECT, insert_member
from .malformed import (_base, _insert)
from ..home import BOMB_FLOOR, BOMB_RATIO
from .valid import (_JOBPACKS, _draw_home_files, _encode, _zip, disco_dumps)

# -- strict violations --------------------------------------------------

STRICT_CODES: Tuple[str, ...] = (
    "reserved_bytes_nonzero", "json_dialect_only", "duplicate_key", "prefix_not_portable",
    "worker_not_in_home", "worker_path_unsafe", "jobhome_not_zip", "zip_path_traversal",
    "zip_bomb",
)


def _fresh_key(taken: Dict[str, Any], candidates: Iterable[str]) -> str:
    for key in candidates:
        if key not in taken:
            return key
    raise AssertionError("unreachable: more candidates than keys")


@st.composite
def _reserved(draw: st.DrawFn) -> Tuple[bytes, str]:
    data = bytearray(disco_dumps(draw(_JOBPACKS[None])))
    for at in draw(st.lists(st.integers(20, 127), min_size=1, max_size=4, unique=True)):
        data[at] = draw(st.integers(1, 255))
    return bytes(data), "reserved_bytes_nonzero"


# Strings only the master's dialect reads, and the text they decode to.
_ODD_STRINGS = [
    (b'"a\x01b"', "a\x01b"), (b'"\x00"', "\x00"), (b'"tab\there"', "tab\there"),
    (b'"line\nbreak"', "line\nbreak"), (b'"\\x41"', "\\x41"), (b"\"\\'\"", "\\'"),
    (b'"\\a"', "\\a"), (b'"\\u+041"', "A"), (b'"\xed\xa0\x80"', "\udced\udca0\udc80"),
    (b'"\xf4\x90\x80\x80"', "\udcf4\udc90\udc80\udc80"),
    (b'"\xe0\x80\x80"', "\udce0\udc80\udc80"),
    (b'"\xf0\x80\x80\x80"', "\udcf0\udc80\udc80\udc80"),
]
_DIALECT_FORMS = st.sampled_from(["trailing_comma", "odd_value", "odd_key", "nonstring_key",
                                  "table_value", "table_key", "at_end", "two"])
_DIALECT_ANY = st.sampled_from([s for s, _ in DIALECT])
_DIALECT_STRING = st.sampled_from([s for s, is_string in DIALECT if is_string])


@st.composite
def _dialect(draw: st.DrawFn, forms: Optional[st.SearchStrategy[Any]] = None,
             snippet: Optional[bytes] = None) -> Tuple[bytes, str]:
    b = draw(_base())
    in_jobenvs = draw(st.booleans()) and (snippet is None or snippet.startswith(b'"'))
    target = b.jobenvs if in_jobenvs else b.jobdict
    section = _encode(target)
    form = draw(forms if forms is not None else _DIALECT_FORMS)
    if in_jobenvs and form == "nonstring_key":
        form = "odd_key"   # the master refuses non-string keys in the jobenvs
    fresh = _encode(_fresh_key(target, ("k", "note", "x_" * 8)))
    rest = b", " + section[1:] if section != b"{}" else b"}"
    if form == "trailing_comma":
        if section == b"{}":
            section = b'{"A": "1"}'
        raw = section[:-1] + draw(st.sampled_from([b",", b", ", b",\n"])) + b"}"
    elif form == "odd_value":
        raw = b"{" + fresh + b": " + draw(st.sampled_from(_ODD_STRINGS))[0] + rest
    elif form == "odd_key":
        keys = [raw for raw, text in _ODD_STRINGS if text not in target]
        raw = b"{" + draw(st.sampled_from(keys)) + b': "v"' + rest
    elif form in ("table_value", "two"):
        odd = snippet or draw(_DIALECT_STRING if in_jobenvs else _DIALECT_ANY)
        raw = insert_member(section, b'"x-odd"', odd, empty=not target)
        if form == "two":   # a second feature after the first
            raw = insert_member(raw, b'"x-odd-2"', draw(_DIALECT_STRING), last=True)
    elif form == "table_key":
        raw = insert_member(section, b'"x-odd-' + (snippet or draw(_DIALECT_STRING))[1:], b'"v"',
                            empty=not target)
    elif form == "at_end":
        raw = insert_member(section, b'"x-odd"', snippet or draw(st.sampled_from(AT_END)), last=True,
                            empty=not target)
    else:
        key = _fresh_key(target, ("1", "null", "true", "false", "-2.5e3", "12345678901234567890"))
        raw = b"{" + key.encode() + b": " + _encode(draw(_json)) + rest
    if in_jobenvs:
        return b.pack(raw_jobenvs=raw), "json_dialect_only"
    return b.pack(raw_jobdict=raw), "json_dialect_only"


def _object(pairs: List[Tuple[str, bytes]]) -> bytes:
    return b"{" + b", ".join(_encode(k) + b": " + v for k, v in pairs) + b"}"


# ("long_jobdict" is swept only: see late_sweep.)
_DUPLICATE_PLACES = st.sampled_from(["jobdict", "scheduler", "jobenvs", "every_object"])
_LOSER = st.one_of(_json, st.just("a/b"))


@st.composite
def _duplicate(draw: st.DrawFn, places: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    b = draw(_base())
    where = draw(places if places is not None else _DUPLICATE_PLACES)
    if where == "jobenvs":   # the master keeps both pairs
        key = draw(st.one_of(st.sampled_from(list(b.jobenvs) or ["A"]), _KEY_TEXT))
        pairs = [(key, _encode(draw(_TEXT)))] + [(k, _encode(v)) for k, v in b.jobenvs.items()]
        if key not in b.jobenvs:
            pairs.append((key, _encode(draw(_TEXT))))
        return b.pack(raw_jobenvs=_object(pairs)), "duplicate_key"
    if where == "long_jobdict":
        # Every object repeats a key, as for "every_object" below, and the
        # first holds more keys than strict's C pass follows (1,024 slots),
        # so that the pass gives up before any object closes: Python's json
        # (or jobpack.dialect, past the digit limit) notes the repeats.
        big = [("k0", b"1")] + [(f"k{i}", b"0") for i in range(1100)]
        return (b.pack(raw_jobdict=_object([("x_long", _object(big))] + _repeating_pairs(b))),
                "duplicate_key")
    if where in ("scheduler", "every_object"):   # a nested object (and the jobdict)
        scheduler = b.jobdict["scheduler"]
        inner = ([("max_cores", _encode(draw(st.integers(1, 64))))]
                 + [(k, _encode(v)) for k, v in scheduler.items()])
        if "max_cores" not in scheduler:
            inner.append(("max_cores", _encode(draw(st.integers(1, 64)))))
        pairs = [(k, _object(inner) if k == "scheduler" else _encode(v))
                 for k, v in b.jobdict.items()]
        if where == "every_object":
            # No object of the jobdict without a repeated key, and plain
            # ASCII (no surrogate-pair escape), which Python's json reads
            # first: its duplicate flag decides.
            pairs = _repeating_pairs(b)
        return b.pack(raw_jobdict=_object(pairs)), "duplicate_key"
    # The first of two values loses (the master keeps the last), even one
    # the master would refuse.
    key = draw(st.sampled_from(list(b.jobdict)))
    pairs = [(key, _encode(draw(_LOSER)))] + [(k, _encode(v)) for k, v in b.jobdict.items()]
    return b.pack(raw_jobdict=_object(pairs)), "duplicate_key"


def _repeating_pairs(b: Any) -> List[Tuple[str, bytes]]:
    """A jobdict's members in which every object repeats a key."""
    rest = ({"pipeline": b'[["map", "split", false]]', "inputs": b"[]"}
            if b.version == 2 else {"input": b"[]", "nr_reduces": b"1"})
    return [("owner", b'"a/b"'), ("owner", b'"alice"'), ("prefix", b'"job"'),
            ("worker", _encode(b.jobdict["worker"])),
            ("scheduler", b'{"max_cores": 1, "max_cores": 2}'), *rest.items()]


_UNPORTABLE = st.one_of(
    st.sampled_from(["", "a-b", "a b", "j\u00f6b", "job\n"]),
    _TEXT.filter(lambda s: not re.fullmatch(r"[A-Za-z0-9_]+", s) and "/" not in s
                 and "." not in s),
    st.lists(st.integers(0, 127).filter(lambda c: c not in (46, 47)), max_size=4))


@st.composite
def _unportable_prefix(draw: st.DrawFn, value: Any = None) -> Tuple[bytes, str]:
    b = draw(_base())
    return b.changed("prefix", draw(_UNPORTABLE) if value is None else value), \
        "prefix_not_portable"


# Prefixes the master takes as lists of codes, at the ends of the code range
# (the master keeps a list with codes outside 0..0x10FFFF as it is).
# (the master keeps a list with codes outside 0..0x10FFFF as it is), and at
# the ends of the byte range, where jobinfo's byte strings end.
_CODE_LIST_PREFIXES = [[], [0], [0x10FFFF], [-1], [0x110000], [106, 111, 98], [255], [97, 256]]


@st.composite
def _worker_not_in_home(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    names = set(zipfile.ZipFile(io.BytesIO(b.home)).namelist())
    if draw(st.booleans()):
        worker = draw(_WORKER_PATHS.filter(lambda w: w not in names))
    else:   # the master takes any JSON value as the worker
        worker = draw(_not_text)
    if draw(st.integers(0, 3)) == 0:
        b.home = b""     # an empty job home is an empty archive
    return b.changed("worker", worker), "worker_not_in_home"


_UNSAFE_WORKER_FORMS = [
    st.builds("../{}".format, _WORKER_PATHS), st.builds("/{}".format, _WORKER_PATHS),
    st.builds("{}/../../{}".format, _WORKER_PATHS, _WORKER_PATHS),
    st.builds("{}:{}".format, st.sampled_from("CcZ"), _WORKER_PATHS),
    st.builds("\\{}".format, _WORKER_PATHS), st.just("..\\..\\evil")]
_UNSAFE_WORKER = st.one_of(_UNSAFE_WORKER_FORMS)


@st.composite
def _worker_path_unsafe(draw: st.DrawFn,
                        form: Optional[st.SearchStrategy[str]] = None) -> Tuple[bytes, str]:
    b = draw(_base())
    return b.changed("worker", draw(_UNSAFE_WORKER if form is None else form)), "worker_path_unsafe"


_NOT_ZIP_FAULTS = st.sampled_from(["junk", "cut", "cd_size", "cd_signature"])
_JUNK = st.one_of(st.sampled_from([b"not a zip", b"\x1f\x8b\x08\x00gzip", b"PK"]),
                  st.binary(min_size=1, max_size=64))


@st.composite
def _not_zip(draw: st.DrawFn, faults: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    b = draw(_base())
    fault = draw(faults if faults is not None else _NOT_ZIP_FAULTS)
    home = b.home
    if fault == "junk":
        home = draw(_JUNK)
    elif fault == "cut":
        home = home[:draw(st.integers(1, len(home) - 1))]
    elif home.count(b"PK\x05\x06") == 1:
        eocd = home.rindex(b"PK\x05\x06")
        cd_offset, = struct.unpack("<I", home[eocd + 16:eocd + 20])
        if fault == "cd_size":   # the directory runs past the end record
            size = eocd - cd_offset + draw(st.integers(1, 1000))
            home = home[:eocd + 12] + struct.pack("<I", size) + home[eocd + 16:]
        else:                    # the first directory entry's signature is wrong
            home = home[:cd_offset] + b"PK\x01\x03" + home[cd_offset + 4:]
    else:
        home = b"not a zip"
    if fault in ("junk", "cut"):   # no end record left anywhere
        home = home.replace(b"PK\x05\x06", b"PK\x05\x07")
    b.home = home
    return b.pack(), "jobhome_not_zip"


_TRAVERSAL_NAMES = st.one_of(
    st.sampled_from(["../../etc/cron.d/x", "/etc/passwd", "C:/x", "a\\b", "..\\x", "../"]),
    st.builds("../{}".format, _WORKER_PATHS), st.builds("/{}".format, _WORKER_PATHS),
    st.builds("{}/../../{}".format, _WORKER_PATHS, _WORKER_PATHS))


@st.composite
def _traversal(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    files, dirs = _draw_home_files(draw, b.jobdict["worker"])
    files = _insert(files, draw, (draw(_TRAVERSAL_NAMES), b"x", 0o100644, zipfile.ZIP_STORED))
    b.home = _zip(files, dirs)
    return b.pack(), "zip_path_traversal"


@st.composite
def _bomb(draw: st.DrawFn) -> Tuple[bytes, str]:
    """A home whose directory declares more than 64 MiB (the strict floor)
    and more than 100 times its size: one entry's uncompressed size lies."""
    b = draw(_base())
    home = bytearray(b.home)
    eocd = home.rindex(b"PK\x05\x06")
    count, = struct.unpack("<H", home[eocd + 10:eocd + 12])
    cd_offset, = struct.unpack("<I", home[eocd + 16:eocd + 20])
    pos = cd_offset
    for _ in range(draw(st.integers(0, count - 1))):
        pos += 46 + sum(struct.unpack("<HHH", home[pos + 28:pos + 34]))
    home[pos + 24:pos + 28] = struct.pack("<I", draw(st.integers((64 << 20) + 1, 0xFFFFFFFE)))
    b.home = bytes(home)
    return b.pack(), "zip_bomb"


@st.composite
def _at_the_bomb_ratio(draw: st.DrawFn) -> bytes:
    """A valid pack whose home declares more than the 64 MiB floor but
    exactly BOMB_RATIO times its size, which strict mode accepts (zip_bomb
    needs both): a stored entry of zeros makes the home big enough (656
    KiB), its declared size makes up the rest."""
    b = draw(_base())
    files, dirs = _draw_home_files(draw, b.jobdict["worker"])
    taken = {name for name, *_ in files} | {d.rstrip("/") for d in dirs}
    pad = _fresh_key(dict.fromkeys(taken), ("~pad", "~pad~", "~~pad"))
    files.append((pad, bytes(BOMB_FLOOR // BOMB_RATIO + 1), 0o100644, zipfile.ZIP_STORED))
    home = bytearray(_zip(files, dirs))
    eocd = home.rindex(b"PK\x05\x06")
    count, = struct.unpack("<H", home[eocd + 10:eocd + 12])
    pos, = struct.unpack("<I", home[eocd + 16:eocd + 20])
    total = 0
    for _ in range(count):   # the padding is the last entry
        last = pos
        total += struct.unpack("<I", home[pos + 24:pos + 28])[0]
        pos += 46 + sum(struct.unpack("<HHH", home[pos + 28:pos + 34]))
    declared, = struct.unpack("<I", home[last + 24:last + 28])
    home[last + 24:last + 28] = struct.pack("<I", declared + BOMB_RATIO * len(home) - total)
    b.home = bytes(home)
    return b.pack()


def valid_sweep() -> List[st.SearchStrategy[bytes]]:
    """Valid packs at the edge of a strict rule, one strategy each (see
    malformed.sweep): a home at the zip bomb ratio."""
    return [_at_the_bomb_ratio()]


_STRICT = {
    "reserved_bytes_nonzero": _reserved(), "json_dialect_only": _dialect(),
    "duplicate_key": _duplicate(), "prefix_not_portable": _unportable_prefix(),
    "worker_not_in_home": _worker_not_in_home(), "worker_path_unsafe": _worker_path_unsafe(),
    "jobhome_not_zip": _not_zip(), "zip_path_traversal": _traversal(), "zip_bomb": _bomb(),
}
_ALL_STRICT = st.one_of([_STRICT[k] for k in STRICT_CODES])


def strict_violations(kind: Optional[str] = None) -> st.SearchStrategy[Tuple[bytes, str]]:
    """``(bytes, code)``: a pack the master accepts that
    ``jobpack.validate(data, strict=True)`` rejects with exactly ``code``
    (one of ``STRICT_CODES``; ``kind`` picks one, None draws from all):
    non-zero reserved header bytes, JSON only the master's dialect reads
    (trailing commas, raw control characters, odd escapes, non-string keys,
    lax UTF-8), duplicate keys, a non-portable prefix, a worker that is not
    in the job home or points outside it, a job home that is not a ZIP
    archive, ZIP entries that climb out of the job's directory, and a zip
    bomb.  Each is a valid pack with that one fault.

    Two shapes that third-party clients write are not here, because the
    master rejects them: a two-element pipeline stage and a string
    scheduler (``malformed_jobpacks("pipeline")`` and ``("wrong_type")``
    produce them; strict mode explains them)."""
    if kind is None:
        return _ALL_STRICT
    if kind not in _STRICT:
        raise InvalidArgument(f"unknown kind {kind!r}: expected one of {', '.join(STRICT_CODES)}")
    return _STRICT[kind]


def sweep() -> List[Tuple[str, st.SearchStrategy[Tuple[bytes, str]]]]:
    """(code, strategy) for every form each strict family can plant, one
    strategy per form (see malformed.sweep)."""
    out: List[Tuple[str, st.SearchStrategy[Tuple[bytes, str]]]] = []
    just = st.just
    for form in ("trailing_comma", "odd_value", "odd_key", "nonstring_key", "two"):
        out.append(("json_dialect_only", _dialect(just(form))))
    for snippet, is_string in DIALECT:
        out.append(("json_dialect_only", _dialect(just("table_value"), snippet)))
        if is_string:
            out.append(("json_dialect_only", _dialect(just("table_key"), snippet)))
    for snippet in AT_END:
        out.append(("json_dialect_only", _dialect(just("at_end"), snippet)))
    out += [("prefix_not_portable", _unportable_prefix(value))
            for value in _CODE_LIST_PREFIXES]
    out += [("duplicate_key", _duplicate(just(p)))
            for p in ("jobdict", "scheduler", "jobenvs", "every_object")]
    out += [("jobhome_not_zip", _not_zip(just(f)))
            for f in ("junk", "cut", "cd_size", "cd_signature")]
    out += [("worker_path_unsafe", _worker_path_unsafe(form)) for form in _UNSAFE_WORKER_FORMS]
    out.append(("json_too_deep", _too_deep()))
    return out


def late_sweep() -> List[Tuple[str, st.SearchStrategy[Tuple[bytes, str]]]]:
    """Forms added after sweep()'s, swept at the end of the draw so that the
    others keep their places (and seeds): repeated keys in a jobdict too
    long for Python's json to read first, and for strict's C pass to follow."""
    return [("duplicate_key", _duplicate(st.just("long_jobdict")))]


@st.composite
def _too_deep(draw: st.DrawFn) -> Tuple[bytes, str]:
    """A valid pack with one more jobdict member nested one level past
    jobpack's limit (200 KB of brackets).  The master reads it (its decoder
    has no depth limit) and ignores the member; validate() stops there with
    json_too_deep, marked beyond_master, even without strict: not one of
    STRICT_CODES (whose packs plain validate() passes), swept only."""
    b = draw(_base())
    return (b.pack(raw_jobdict=insert_member(_encode(b.jobdict), b'"x-deep"', DEPTH_PAST_LIMIT)),
            "json_too_deep")
