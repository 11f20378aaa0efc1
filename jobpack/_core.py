"""Thin typed wrappers over the C core: one C call each, status codes mapped
to exceptions.  Private: the public modules build on these."""
import struct
import threading
from typing import TYPE_CHECKING, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from . import errors
from ._native import ffi, lib

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ._native import CData, _CBuffer

HEADER_SIZE = 128
DIALECT_ONLY = lib.JP_JSON_DIALECT_ONLY
FEATURE_NAMES = {
    lib.JP_JSON_TRAILING_COMMA: "trailing comma",
    lib.JP_JSON_RAW_CONTROL: "raw control character in a string",
    lib.JP_JSON_ODD_ESCAPE: "escape that only the master's decoder reads",
    lib.JP_JSON_NONSTRING_KEY: "non-string object key",
    lib.JP_JSON_LAX_UTF8: "invalid UTF-8 that the master lets through",
}

_HEADER_ERRORS = {
    lib.JP_ERR_HEADER_SHORT: errors.TruncatedError,
    lib.JP_ERR_HEADER_MAGIC: errors.BadMagicError,
    lib.JP_ERR_HEADER_DICT_OFFSET: errors.BadOffsetsError,
    lib.JP_ERR_HEADER_ENVS_OFFSET: errors.BadOffsetsError,
    lib.JP_ERR_HEADER_HOME_OFFSET: errors.BadOffsetsError,
    lib.JP_ERR_HEADER_DATA_OFFSET: errors.BadOffsetsError,
    lib.JP_ERR_TRUNCATED: errors.TruncatedError,
}


def status_message(status: int) -> str:
    text = _STATUS_MESSAGES.get(status)
    if text is None:
        text = _STATUS_MESSAGES[status] = ffi.string(lib.jp_status_message(status)).decode()
    return text


def status_name(status: int) -> str:
    text = _STATUS_NAMES.get(status)
    if text is None:
        text = _STATUS_NAMES[status] = ffi.string(lib.jp_status_name(status)).decode()
    return text


# The C core's text for each status, read once: a bad pack's message would
# otherwise cost two C calls and a decode (the tables are constant; a lost
# race between threads only reads the same text twice).
_STATUS_MESSAGES: Dict[int, str] = {}
_STATUS_NAMES: Dict[int, str] = {}


class _Scratch(threading.local):
    """Per-thread C structs and scratch, reused across calls: allocating
    them each time costs more than the C work on a small pack.  Per thread
    because cffi releases the GIL during C calls."""

    def __init__(self) -> None:
        self.header = ffi.new("jp_header *")
        self.results = ffi.new("jp_json_result[2]")
        self.header_bytes = ffi.new("uint8_t[128]")
        self.header_view = ffi.buffer(self.header_bytes)
        # Reading a struct through one struct.unpack of its bytes is several
        # times cheaper than reading its cdata fields one by one.
        self.header_raw = ffi.buffer(self.header)
        self.results_raw = ffi.buffer(self.results)
        self.bits = ffi.new("uint8_t[]", 4096)
        self.bits_len = 4096
        # What the wrappers need, fetched with one thread-local lookup.
        self.pack_args = (self.header, self.header_raw, self.results, self.bits, self.bits_len)
        self.header_args = (self.header, self.header_raw)
        floats = ffi.new("jp_pack_floats *")
        self.floats_args = (floats, ffi.buffer(floats))
        self.json_args = (self.results, self.results_raw, self.bits, self.bits_len)
        keys = ffi.new("jp_pack_keys *")
        self.keys_args = (keys, ffi.buffer(keys), ffi.new("jp_key_slot[]", _KEY_SLOTS))

    def grow_stack(self, section_len: int) -> None:
        need = section_len // 8 + 1
        if need > self.bits_len:
            self.bits = ffi.new("uint8_t[]", need)
            self.bits_len = need
            self.pack_args = (self.header, self.header_raw, self.results, self.bits,
                              self.bits_len)
            self.json_args = (self.results, self.results_raw, self.bits, self.bits_len)


# Open containers plus the keys of the open objects that jp_json_repeated_key
# can follow (16 bytes each): an honest jobdict needs a few dozen.
_KEY_SLOTS = 1024
_scratch = _Scratch()


class Header(NamedTuple):
    """A decoded header: what bytes 0-19 say, and what the checks found."""

    magic: int
    version: int
    offsets: Tuple[int, int, int, int]
    length: int
    reserved_nonzero: Optional[int]
    status: int
    error_offset: int

    @property
    def ok(self) -> bool:
        return self.status == lib.JP_OK

    @property
    def section_sizes(self) -> Tuple[int, int, int, int]:
        d, e, h, a = self.offsets
        return (e - d, h - e, a - h, self.length - a)

    @property
    def error_message(self) -> str:
        """What the failed check says, with what was found."""
        found = _HEADER_FOUND.get(self.status)
        return f"{status_message(self.status)}; {found(self) if found else ''}"

    def error(self) -> errors.HeaderError:
        """The exception for a failed check, with what was found."""
        cls = _HEADER_ERRORS.get(self.status, errors.HeaderError)
        return cls(self.error_message, self.error_offset)


# What Header.error_message says was found, for each failed check: only the
# one message needed is built.
_HEADER_FOUND: Dict[int, Callable[[Header], str]] = {
    lib.JP_ERR_HEADER_SHORT: lambda h: f"the pack has only {h.length} bytes",
    lib.JP_ERR_HEADER_MAGIC: lambda h: f"found magic 0x{h.magic:04x}",
    lib.JP_ERR_HEADER_DICT_OFFSET: lambda h: f"found jobdict offset {h.offsets[0]}",
    lib.JP_ERR_HEADER_ENVS_OFFSET:
        lambda h: f"found jobenvs offset {h.offsets[1]} after jobdict offset {h.offsets[0]}",
    lib.JP_ERR_HEADER_HOME_OFFSET:
        lambda h: f"found jobhome offset {h.offsets[2]} after jobenvs offset {h.offsets[1]}",
    lib.JP_ERR_HEADER_DATA_OFFSET:
        lambda h: f"found jobdata offset {h.offsets[3]} after jobhome offset {h.offsets[2]}",
    lib.JP_ERR_TRUNCATED:
        lambda h: f"jobdata offset is {h.offsets[3]} but the pack has {h.length} bytes",
}


_HEADER_LAYOUT = struct.Struct("=IHH4IQQq")   # jp_header, field by field
_RESULT_LAYOUT = struct.Struct("=QQQQQQIii4x")  # jp_json_result
_PACK_FLOATS_LAYOUT = struct.Struct("=IHH4IQQqii")  # jp_pack_floats
_PACK_KEYS_LAYOUT = struct.Struct("=IHH4IQQqi4x")  # jp_pack_keys
_new_header = tuple.__new__
if ((_HEADER_LAYOUT.size, _RESULT_LAYOUT.size, _PACK_FLOATS_LAYOUT.size, _PACK_KEYS_LAYOUT.size)
        != (ffi.sizeof("jp_header"), ffi.sizeof("jp_json_result"),
            ffi.sizeof("jp_pack_floats"), ffi.sizeof("jp_pack_keys"))):
    raise ImportError("jp_header, jp_json_result, jp_pack_floats or jp_pack_keys changed in "
                      "jobpack.h: update the struct layouts in jobpack/_core.py")


def _header_from(raw: "_CBuffer", status: int) -> Header:
    (_, magic, version, d, e, h, a, length, error_offset,
     reserved) = _HEADER_LAYOUT.unpack(raw)
    return _new_header(Header, (magic, version, (d, e, h, a), length,
                                None if reserved < 0 else reserved, status, error_offset))


def _as_c_buffer(buf: "Buffer") -> "Union[bytes, CData]":
    # bytes go to C as they are; other buffers through from_buffer, but a
    # strided one (memoryview(data)[::2]) has no flat bytes to lend: a copy.
    if type(buf) is bytes:
        return buf
    if isinstance(buf, memoryview) and not buf.c_contiguous:
        return buf.tobytes()
    return ffi.from_buffer(buf)


def decode_header(buf: "Buffer", pack_len: Optional[int] = None) -> Header:
    """Decode and check a header (never raises for a bad one: see .ok)."""
    # _header_from and (for bytes) _as_c_buffer inlined: on a valid pack this
    # call is most of validate()'s cost beyond the JSON itself.
    cbuf = buf if type(buf) is bytes else _as_c_buffer(buf)
    out, raw = _scratch.header_args
    n = len(cbuf)
    status = lib.jp_header_decode(cbuf, n, n if pack_len is None else pack_len, out)
    (_, magic, version, d, e, h, a, length, error_offset,
     reserved) = _HEADER_LAYOUT.unpack(raw)
    return _new_header(Header, (magic, version, (d, e, h, a), length,
                                None if reserved < 0 else reserved, status, error_offset))


def layout(version: int, dict_len: int, envs_len: int, home_len: int, data_len: int) -> bytes:
    """The 128-byte header for four sections of these lengths."""
    scratch = _scratch
    out = scratch.header
    status = lib.jp_layout(version, dict_len, envs_len, home_len, data_len, scratch.header_bytes, out)
    if status != lib.JP_OK:
        total = HEADER_SIZE + dict_len + envs_len + home_len + data_len
        raise errors.PackTooLargeError(
            f"a pack of {total} bytes is too large: offsets are 32-bit, so a pack must be "
            f"under 4 GiB; move bulk data out of jobdata and jobhome", out.error_offset)
    return scratch.header_view[:]


def write_header(magic_word: int, offsets: Sequence[int]) -> bytes:
    header = ffi.new("uint8_t[128]")
    lib.jp_header_write(magic_word, offsets, header)
    return ffi.buffer(header)[:]


class JSONScan(NamedTuple):
    """The core's scan of a JSON section.

    ``status`` and ``error_offset`` are the master's verdict.  The scan also
    reads the escapes only Python's json reads (lone surrogates, U+FFFE,
    U+FFFF: what json.dumps writes), so ``readable`` tells whether the
    section is either standard JSON or the master's dialect, which is what
    ``loads()`` reads; ``standard_json`` (with convert=True) is set then."""

    status: int
    error_offset: int
    features: int
    feature_offset: int
    max_depth: int
    top_type: int
    max_int_digits: int            # digits of the longest integer value
    readable: bool
    standard_json: Optional[bytes]

    @property
    def ok(self) -> bool:
        return self.status == lib.JP_OK

    @property
    def dialect_features(self) -> int:
        return self.features & DIALECT_ONLY

    def feature_names(self) -> List[str]:
        return [name for bit, name in FEATURE_NAMES.items() if self.features & bit]


def scan_json(section: "Buffer", convert: bool = False) -> JSONScan:
    """Check a section against the master's JSON grammar; with convert,
    also return it rewritten as standard JSON."""
    # _as_c_buffer inlined for bytes (dialect.loads of a small section).
    cin = section if type(section) is bytes else _as_c_buffer(section)
    n = len(cin)
    scratch = _scratch
    results, raw, bits, bits_len = scratch.json_args
    if n // 8 + 1 > bits_len:
        scratch.grow_stack(n)
        results, raw, bits, bits_len = scratch.json_args
    if convert:
        cap = lib.jp_json_out_bound(n)
        out = ffi.new("uint8_t[]", cap)
    else:
        cap, out = 0, ffi.NULL
    status = lib.jp_json_scan(cin, n, out, cap, bits, bits_len, results)
    return _json_scan_from(raw, status, convert, out)


_KEY_ANSWERS = (False, True, None)  # indexed by the C answer
if (lib.JP_KEYS_UNIQUE, lib.JP_KEYS_REPEATED, lib.JP_KEYS_UNKNOWN) != (0, 1, 2):
    raise ImportError("the JP_KEYS_* answers changed in jobpack.h: update _KEY_ANSWERS")


def decode_header_keys(buf: "Buffer") -> Tuple[Header, Optional[bool]]:
    """decode_header(buf) and, if it passed, whether an object in the
    jobdict names a key twice, in one C call.  The answer holds for a
    jobdict that Python's json reads; None: the C pass cannot tell (more
    open keys than its scratch holds, or not JSON), so ask Python's json."""
    cbuf = buf if type(buf) is bytes else _as_c_buffer(buf)
    out, raw, slots = _scratch.keys_args
    status = lib.jp_pack_key_check(cbuf, len(cbuf), out, slots, _KEY_SLOTS)
    (_, magic, version, d, e, h, a, length, error_offset,
     reserved, repeated) = _PACK_KEYS_LAYOUT.unpack(raw)
    return (_new_header(Header, (magic, version, (d, e, h, a), length,
                                 None if reserved < 0 else reserved, status, error_offset)),
            _KEY_ANSWERS[repeated])


_PY_ESCAPE = lib.JP_JSON_PY_ESCAPE
_OK = lib.JP_OK


def _json_scan_from(raw: "_CBuffer", status: int, convert: bool = False,
                    out: "Optional[CData]" = None) -> JSONScan:
    (error_offset, feature_offset, out_len, max_depth, escape_offset, max_int_digits,
     features, top_type, _) = _RESULT_LAYOUT.unpack_from(raw)
    # Standard JSON or the master's dialect, not a mix of the two (which
    # neither json.dumps nor the master's writers produce).
    readable = status == _OK and (
        not features & _PY_ESCAPE or not features & DIALECT_ONLY)
    text = ffi.buffer(out, out_len)[:] if convert and readable else None
    if features & _PY_ESCAPE and status in _AFTER_ESCAPE:
        # The master stops at the first escape only Python reads.
        status, error_offset = lib.JP_ERR_JSON_ESCAPE, escape_offset
    return tuple.__new__(JSONScan, (status, error_offset, features, feature_offset,
                                    max_depth, top_type, max_int_digits, readable, text))


# Statuses a scan can end with after it passed an escape only Python reads
# (the escape comes first, so the master's verdict is the escape).
_AFTER_ESCAPE = frozenset(range(lib.JP_OK, lib.JP_STATUS_COUNT)) - {lib.JP_ERR_BUFFER_TOO_SMALL}


# jp_json_float_check(section, len(section)) for a bytes section: non-zero if
# a float in it could overflow a double (jp_json_float_risk's answer, from a
# faster first pass).  The C function itself: a wrapper would cost as much
# as the check on a small section.
json_float_check = lib.jp_json_float_check


def pack_float_check(data: bytes) -> Tuple[Header, int, int]:
    """Header checks and jp_json_float_check of both JSON sections, in one
    C call: (header, jobdict's float risk, jobenvs' float risk), the risks
    non-zero where a float might overflow (JP_OK if the header failed)."""
    out, raw = _scratch.floats_args
    status = lib.jp_pack_float_check(data, len(data), out)
    (_, magic, version, d, e, h, a, length, error_offset,
     reserved, risk_d, risk_e) = _PACK_FLOATS_LAYOUT.unpack(raw)
    return (_new_header(Header, (magic, version, (d, e, h, a), length,
                                 None if reserved < 0 else reserved, status, error_offset)),
            risk_d, risk_e)


def scan_pack(buf: "Buffer") -> "Tuple[Header, CData]":
    """Header checks and a check-only scan of both JSON sections, in one C
    call: (header, jp_json_result[2]).  The results are this thread's
    scratch structs: read them (json_scan_of) before the next call."""
    cbuf = ffi.from_buffer(buf)
    header, raw, results, bits, bits_len = _scratch.pack_args
    status = lib.jp_pack_scan(cbuf, len(cbuf), header, results, bits, bits_len)
    return _header_from(raw, status), results


def json_scan_of(result: "CData") -> Optional[JSONScan]:
    """A JSONScan from a jp_json_result (see scan_pack); None if the section
    was nested too deep for the shared scratch (scan it with scan_json)."""
    if result.status == lib.JP_ERR_BUFFER_TOO_SMALL:
        return None
    return _json_scan_from(ffi.buffer(ffi.addressof(result)), result.status)
