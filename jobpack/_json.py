"""JSON sections: written as Disco writes them, read back as standard JSON
or, failing that, as the master reads them (``jobpack.dialect``)."""
import codecs
import json
import json.scanner
import math
import re
import sys
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, Union

from . import _core, dialect, errors
from .dialect import WHITESPACE, Scanner, scanner_of


class _HugeInts:
    """json.dumps ``default`` that writes long integers as their digits.

    Python's int -> str refuses more than 4300 digits (and is quadratic), so
    long ints and dialect.HugeInt go out as placeholder strings, replaced by
    their digits after encoding: the bytes are what Disco's json.dumps writes."""

    def __init__(self) -> None:
        self.texts: Dict[str, str] = {}
        self.nonce = ""

    def __call__(self, value: Any) -> str:
        if isinstance(value, dialect.HugeInt):
            text = value.text
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        if not self.nonce:
            # Random, so no string in the value can look like a placeholder
            # (substitute() also checks each occurs exactly once).
            import secrets  # only for long ints: costly to import (hashlib)
            self.nonce = secrets.token_hex(16)
        token = f"\0jobpack-int-{self.nonce}-{len(self.texts)}\0"
        self.texts[json.dumps(token)] = text
        return token

    def substitute(self, encoded: str) -> str:
        for token, text in self.texts.items():
            if encoded.count(token) != 1:
                raise ValueError("integer placeholder collision; encode again")
            encoded = encoded.replace(token, text)
        return encoded


def _long_ints_as_huge(value: Any) -> Any:
    """value with ints beyond Python's str() limit wrapped as HugeInt."""
    if type(value) is int:
        return value if _fits_str(value) else dialect.HugeInt(_int_text(value))
    if isinstance(value, dict):
        # json.dumps writes an int key as the string of its digits.
        return {(_int_literal(k) if type(k) is int else k):
                _long_ints_as_huge(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_long_ints_as_huge(v) for v in value]
    return value


def _fits_str(value: int) -> bool:
    """Can str() convert this int now, under the process's int_max_str_digits?
    (An int of b bits has at most b * log10(2) + 1 digits.)"""
    return value.bit_length() * 0.30103 + 1 <= dialect.fast_int_digits()


def _int_literal(value: int) -> str:
    return int.__repr__(value) if _fits_str(value) else _int_text(value)


def _int_text(value: int) -> str:
    # Not str(): it refuses more than int_max_str_digits digits (and not
    # Decimal alone: PyPy's is limited the same way).
    from ._bigint import int_to_text  # rarely needed; not at import time
    return int_to_text(value)


# Disco's encoding is json.dumps' defaults (", " and ": ", ASCII only, keys in
# insertion order); allow_nan=False because the master cannot read NaN.  One
# shared encoder: json.dumps with any option builds a new one per call.
_ENCODER = json.JSONEncoder(allow_nan=False)
# What _ENCODER.encode() runs on CPython, called directly: JSONEncoder.encode
# and iterencode are two Python frames and a closure per call, more than
# encoding a small section.  The arguments are iterencode's (a fresh markers
# dict each call, as there: it is the circular-reference check's state).
_C_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ENCODER_ARGS = (_ENCODER.default, json.encoder.encode_basestring_ascii, _ENCODER.indent,
                 _ENCODER.key_separator, _ENCODER.item_separator, _ENCODER.sort_keys,
                 _ENCODER.skipkeys, _ENCODER.allow_nan)


def encode_section(value: Any, name: str) -> bytes:
    try:
        return _encode(value).encode("ascii")
    except ValueError as e:
        hint = (" (NaN and Infinity are not JSON the master reads)"
                if "Out of range float" in str(e) else "")
        raise errors.EncodeError(f"{name} cannot be encoded for the master: {e}{hint}") from None
    except TypeError as e:
        raise errors.EncodeTypeError(f"{name} cannot be encoded as JSON: {e}; "
                                 f"convert it to dicts, lists, str, int, float, bool or None") from None


def _encode(value: Any) -> str:
    if sys.getrecursionlimit() > _DEFAULT_RECURSION_LIMIT and _deeper_than(value, _SAFE_DEPTH):
        # Python's json encoder recurses per level: under a raised recursion
        # limit a deep value overflows the C stack before RecursionError.
        return _encode_iterative(value)
    try:
        try:
            if _C_MAKE_ENCODER is None:  # PyPy
                return _ENCODER.encode(value)
            return "".join(_C_MAKE_ENCODER({}, *_ENCODER_ARGS)(value, 0))
        except (TypeError, ValueError):
            return _encode_with_long_ints(value)  # or the same error again
    except RecursionError:
        return _encode_iterative(value)
    except TypeError:
        # PyPy can turn a RecursionError met while it records the context of
        # another exception into a TypeError ("couldn't record exception
        # context"): a deep value gets the iterative encoder, which raises
        # the real TypeError if there is one.
        if _deeper_than(value, _SAFE_DEPTH):
            return _encode_iterative(value)
        raise


# CPython's default: within it, Python's recursive json raises RecursionError
# before it can overflow the C stack; above it, it may crash instead.
_DEFAULT_RECURSION_LIMIT = 1000
_SAFE_DEPTH = dialect.SAFE_DEPTH


def _deeper_than(value: Any, limit: int) -> bool:
    """Is value nested more than limit containers deep?  Level by level,
    without recursion."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    for _ in range(limit):
        if not level:
            return False
        level = [child for item in level
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, _CONTAINERS)]
    return bool(level)


_CONTAINERS = (dict, list, tuple)


def _encode_iterative(value: Any) -> str:
    """json.dumps(value) with Disco's defaults, without recursion: for
    nesting deeper than the json module's encoder follows (the master and
    loads() read any depth).  Same bytes as json.dumps where both work."""
    out: List[str] = []
    # Work items: a value to encode, or a literal string to emit.  active
    # holds the ids of the containers being written (circular references).
    stack: List[Tuple[Any, Any]] = [(value, None)]
    active: Set[int] = set()
    while stack:
        item, done = stack.pop()
        if done is not None:        # a container is finished
            out.append(item)
            active.discard(done)
            continue
        if isinstance(item, str):
            out.append(_encode_string(item))
        elif item is None:
            out.append("null")
        elif item is True:
            out.append("true")
        elif item is False:
            out.append("false")
        elif isinstance(item, int):
            out.append(_int_literal(item))
        elif isinstance(item, float):
            out.append(_float_text(item))
        elif isinstance(item, dialect.HugeInt):
            out.append(item.text)
        elif isinstance(item, (list, tuple, dict)):
            if id(item) in active:
                raise ValueError("Circular reference detected")
            active.add(id(item))
            is_dict = isinstance(item, dict)
            parts: List[Tuple[Any, Any]] = [("}" if is_dict else "]", id(item))]
            members = list(item.items()) if isinstance(item, dict) else list(item)
            for i in range(len(members) - 1, -1, -1):
                if is_dict:
                    key, child = members[i]
                    parts.append((child, None))
                    parts.append((("" if i == 0 else ", ") + _encode_string(_key_text(key)) + ": ",
                                  -1))
                else:
                    parts.append((members[i], None))
                    if i:
                        parts.append((", ", -1))
            parts.append(("{" if is_dict else "[", -1))
            stack.extend(parts)
        else:
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
    return "".join(out)


_encode_string = json.encoder.encode_basestring_ascii


def _float_text(value: float) -> str:
    if value != value or value in (math.inf, -math.inf):
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    return float.__repr__(value)


def _key_text(key: Any) -> str:
    """A dict key as json.dumps writes it (before quoting)."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return _int_literal(key)
    if isinstance(key, float):
        return _float_text(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _encode_with_long_ints(value: Any) -> str:
    """The slow path: ints over str()'s 4300-digit limit and HugeInt."""
    huge = _HugeInts()
    try:
        encoded = json.JSONEncoder(allow_nan=False, default=huge).encode(value)
    except ValueError as e:
        if "integer string conversion" not in str(e):
            raise
        # Afresh: placeholders of HugeInts met before the failure are not
        # in this output.
        huge = _HugeInts()
        encoded = json.JSONEncoder(allow_nan=False, default=huge).encode(_long_ints_as_huge(value))
    return huge.substitute(encoded)


def decode_section(section: Any, name: str, base: int) -> Any:
    """Standard JSON (what dumps() and Disco write) or the master's dialect,
    the master's error if neither reads it; where both read a section they
    give the same value.  Python's json first when that is safe, else (or
    when it fails) one C scan, then one json.loads or, past SAFE_DEPTH, the
    iterative decoder.

    The section is copied first, and scanned and decoded from that copy: a
    buffer that another thread changes meanwhile gives a consistent value
    or a JSONDecodeError, never a UnicodeDecodeError or a crash."""
    raw = bytes(section)
    if _json_may_go_first():
        # A float that overflows must be refused, not read as inf: checked
        # per float (a Python call each) only in a section where the core's
        # one cheap pass finds a float that might.
        return _either(raw, _STANDARD_SCAN if _UNCHECKED_SCAN is None
                       or _float_check(raw, len(raw)) else _UNCHECKED_SCAN, name, base)
    return _decode_scanned(raw, name, base)


def decode_pack(data: bytes) -> Tuple["_core.Header", Any, Any]:
    """(header, jobdict, jobenvs) of a whole pack in bytes, as
    decode_section reads each section (a HeaderError if the header fails),
    with the header checks and both sections' float checks in one C call:
    on a small pack the crossings cost more than the C work."""
    if _UNCHECKED_SCAN is None or not _json_may_go_first():
        # No float check to save (PyPy checks every float), or json may
        # not go first: the header alone, then each section as any other.
        header = _core.decode_header(data)
        if header.status:
            raise header.error()
        d, e, h, _ = header.offsets
        return (header, decode_section(data[d:e], "jobdict", d),
                decode_section(data[e:h], "jobenvs", e))
    header, risk_d, risk_e = _core.pack_float_check(data)
    if header.status:
        raise header.error()
    d, e, h, _ = header.offsets
    # Views, not slices: the text is decoded from the pack itself (bytes do
    # not change), without first copying each section out (at 16 MiB the
    # copy and its page faults cost 4-8% of the whole loads).
    view = memoryview(data)
    return (header,
            _either(view[d:e], _STANDARD_SCAN if risk_d else _UNCHECKED_SCAN, "jobdict", d),
            _either(view[e:h], _STANDARD_SCAN if risk_e else _UNCHECKED_SCAN, "jobenvs", e))


def _either(raw: "Union[bytes, memoryview]", scanner: "Scanner", name: str, base: int) -> Any:
    """raw (bytes, or a view of immutable bytes) read by Python's json with
    this scanner, else by the core's scan."""
    value = _standard_first(raw, scanner)
    if value is _UNREADABLE:
        return _decode_scanned(raw if type(raw) is bytes else bytes(raw), name, base)
    return value


# A section held in a view is decoded with codecs' decoder: PyPy's
# str(view, "utf-8") lets encoded surrogates through, which bytes.decode and
# this refuse (jobpack.validate uses it too).
_utf_8_decode = codecs.utf_8_decode


def _standard_first(raw: "Union[bytes, memoryview]", scanner: "Scanner") -> Any:
    """raw read by Python's json with this scanner, or _UNREADABLE."""
    # JSONDecoder.decode inlined: its scanner called directly, with the
    # same whitespace rule around the value (decode and raw_decode cost
    # two Python calls and two regex matches a section).
    try:
        text = raw.decode("utf-8") if type(raw) is bytes else _utf_8_decode(raw, "strict", True)[0]
        value, end = scanner(text, 0 if text[:1] == "{" else _WHITESPACE(text).end())
        if end == len(text) or _WHITESPACE(text, end).end() == len(text):
            return value
    except (ValueError, RecursionError, StopIteration):  # StopIteration: no value
        pass  # not standard JSON, too deep, or an integer over the limit
    return _UNREADABLE


def _decode_scanned(raw: bytes, name: str, base: int) -> Any:
    """raw as the core's scan finds it: the dialect, standard JSON with
    NaN or Infinity, or the master's error."""
    scan = _core.scan_json(raw)
    if not scan.readable:
        value = _decode_with_constants(raw)
        if value is not _UNREADABLE:
            return value
        raise dialect.error(scan, raw, name, base)
    return dialect.decode(raw, scan)


def _json_may_go_first() -> bool:
    """May Python's json read a section before the scan?  Yes when it can
    neither overflow the C stack (a recursion limit of at most CPython's
    default: it raises RecursionError first) nor spend quadratic time on a
    long integer (an int_max_str_digits of at most MAX_INT_DIGITS: it raises
    ValueError first).  Then the scan, which would add its own pass, is
    only for what json refuses."""
    return (sys.getrecursionlimit() <= _DEFAULT_RECURSION_LIMIT
            and 0 < dialect.int_max_str_digits() <= dialect.MAX_INT_DIGITS)


# NaN, Infinity or -Infinity standing as a whole value outside strings (a
# string is matched first, so its contents are skipped).
_CONSTANT = re.compile(rb'"(?:[^"\\]|\\.)*"|(?:^|(?<=[\[,:\s]))(NaN|-?Infinity)(?=[\],}\s]|$)')
# Same-length numbers the scan accepts where a constant stands.
_CONSTANT_STAND_IN = {b"NaN": b"0e0", b"Infinity": b"0.000000", b"-Infinity": b"-0.000000"}
_UNREADABLE = object()


def _decode_with_constants(raw: bytes) -> Any:
    """Standard JSON with NaN, Infinity or -Infinity (Disco's json.dumps
    writes them) that Python's json did not read first (a raised recursion
    limit, deep nesting, long integers): the scan checks the section with
    each constant replaced by a number of the same length, and if that is
    standard JSON the section decodes as any other, the constants as floats.
    _UNREADABLE if the section is not that."""
    if b"NaN" not in raw and b"Infinity" not in raw:
        return _UNREADABLE
    found = False

    def stand_in(m: "re.Match[bytes]") -> bytes:
        nonlocal found
        constant: Optional[bytes] = m.group(1)
        if constant is None:
            return m.group(0)  # a string: as it is
        found = True
        return _CONSTANT_STAND_IN[constant]

    checked = _CONSTANT.sub(stand_in, raw)
    if not found:
        return _UNREADABLE
    scan = _core.scan_json(checked)
    if not scan.readable or scan.features & _core.DIALECT_ONLY:
        return _UNREADABLE  # the master's dialect is never mixed with constants
    return dialect.decode(raw, scan)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise ValueError(f"{text} overflows a double")
    return value


# Standard JSON plus NaN, Infinity and -Infinity, which Disco's json.dumps
# writes (so loads() reads every pack Disco writes; the master and
# master_only=True refuse them, dumps() refuses to write them; sections
# Python's json does not read first get them through _decode_with_constants).
# No float that overflows: Disco never writes 1e400, and the master refuses it.
_STANDARD_JSON = json.JSONDecoder(parse_float=_finite_float)
# The same without the per-float check, for sections jp_json_float_check
# clears.  Only with CPython's C scanner, which reads ASCII digits only as the
# core does (the pure-Python one's \d also takes other digits: "1e\u0664\u0660\u0660").
_FLOATS_UNCHECKED: Optional[json.JSONDecoder] = (
    json.JSONDecoder() if sys.implementation.name == "cpython"
    and getattr(json.scanner, "c_make_scanner", None) is not None else None)
_float_check = _core.json_float_check


_WHITESPACE = WHITESPACE
_STANDARD_SCAN = scanner_of(_STANDARD_JSON)
_UNCHECKED_SCAN = None if _FLOATS_UNCHECKED is None else scanner_of(_FLOATS_UNCHECKED)
