"""Reading a job home's ZIP directory through the C core (``jp_zip_scan``).

One C call checks every offset of the central directory and of each local
header against the buffer, without copying: ``scan`` is the fast full check,
``entries`` lists what is inside (or a slice of it), ``contains`` answers
"is the worker in the home?" without building an entry list.
"""
from __future__ import annotations

import struct
import threading
from typing import TYPE_CHECKING, Any, List, Optional, Tuple, Union

from jobpack._core import status_message, status_name
from jobpack._native import ffi, lib
from jobpack._record import record

if TYPE_CHECKING:
    from jobpack._native import CData
from jobpack.errors import ZipError

__all__ = [
    "ABSOLUTE", "DOTDOT", "BACKSLASH", "NUL", "ENCRYPTED", "DIRECTORY", "SYMLINK",
    "UNSAFE", "BOMB_RATIO", "BOMB_FLOOR", "ZipEntry", "ZipScan", "scan", "entries",
    "contains", "expands_too_much",
]

# JP_ZIP_* bits of ZipEntry.flags / ZipScan.flags_union, from the C header.
ABSOLUTE: int = lib.JP_ZIP_ABSOLUTE
DOTDOT: int = lib.JP_ZIP_DOTDOT
BACKSLASH: int = lib.JP_ZIP_BACKSLASH
NUL: int = lib.JP_ZIP_NUL
ENCRYPTED: int = lib.JP_ZIP_ENCRYPTED
DIRECTORY: int = lib.JP_ZIP_DIRECTORY
SYMLINK: int = lib.JP_ZIP_SYMLINK
#: Names that an unzip could write outside its target directory (or truncate).
UNSAFE: int = ABSOLUTE | DOTDOT | BACKSLASH | NUL

#: A home may expand to BOMB_RATIO times its size...
BOMB_RATIO = 100
#: ...but any home may expand to BOMB_FLOOR bytes.  Deflate's best case is
#: about 1000:1, so honest homes of text and code stay well under 100:1; the
#: floor keeps small homes with a few large, very regular files legal.
BOMB_FLOOR = 64 << 20

_UTF8_FLAG = 0x800
_UNIX_HOST = 3

BytesLike = Union[bytes, bytearray, memoryview]


@record(frozen=True)
class ZipEntry:
    """One central directory entry, as the C core read it."""

    name: str              # UTF-8 if gp flag bit 11, else cp437 (like zipfile)
    raw_name: bytes
    size: int              # declared uncompressed size
    compressed_size: int
    mode: Optional[int]    # Unix st_mode when written on Unix, else None
    method: int            # 0 stored, 8 deflated, ...
    crc32: int
    flags: int             # JP_ZIP_* bits
    is_dir: bool
    gp_flags: int = 0
    header_offset: int = 0  # local header
    data_offset: int = 0    # first byte of the compressed data

    @property
    def is_absolute(self) -> bool:
        return bool(self.flags & ABSOLUTE)

    @property
    def has_dotdot(self) -> bool:
        return bool(self.flags & DOTDOT)

    @property
    def has_backslash(self) -> bool:
        return bool(self.flags & BACKSLASH)

    @property
    def has_nul(self) -> bool:
        return bool(self.flags & NUL)

    @property
    def is_encrypted(self) -> bool:
        return bool(self.flags & ENCRYPTED)

    @property
    def is_symlink(self) -> bool:
        return bool(self.flags & SYMLINK)

    @property
    def unsafe(self) -> bool:
        """True when an unzip could write this entry outside its directory."""
        return bool(self.flags & UNSAFE)


@record(frozen=True)
class ZipScan:
    """Summary of a whole archive, from one C call."""

    entries: int
    total_uncompressed: int  # saturates at 2**64 - 1
    total_compressed: int
    flags_union: int
    first_flagged: Optional[int]  # first entry with an UNSAFE flag, or None
    cd_offset: int = 0
    cd_size: int = 0

    @property
    def unsafe(self) -> bool:
        return bool(self.flags_union & UNSAFE)


def _status_error(status: int, info: CData, length: int) -> ZipError:
    """A ZipError that says what the C core found and where."""
    message = status_message(status)
    offset = int(info.error_offset)
    if status == lib.JP_ERR_ZIP_NO_EOCD:
        detail = (f"no end-of-central-directory signature PK\\x05\\x06 in the last "
                  f"{min(length, 65535 + 22)} bytes of a {length}-byte archive")
    elif status == lib.JP_ERR_ZIP_BAD_DIRECTORY:
        detail = (f"directory of {int(info.cd_size)} bytes at offset {int(info.cd_offset)} "
                  f"in a {length}-byte archive")
    elif status == lib.JP_ERR_ZIP_BAD_ENTRY:
        detail = (f"a local header, or its name, extra field or data, lies outside the "
                  f"{int(info.cd_offset)} bytes before the central directory, or its "
                  f"name differs from the directory's")
    else:
        detail = f"status {status_name(status)}"
    return ZipError(f"{message}: {detail}", offset)


def _scan(buf: CData, length: int, array: CData, capacity: int) -> CData:
    info = ffi.new("jp_zip_info *")
    status = lib.jp_zip_scan(buf, length, array, capacity, info)
    if status != lib.JP_OK:
        raise _status_error(status, info, length)
    return info


class _Scratch(threading.local):
    """Per-thread C structs, reused: allocating them costs more than scanning
    a small home.  The entry array lets a small home be scanned and searched
    for the worker with one pass over its directory."""

    def __init__(self) -> None:
        self.info = ffi.new("jp_zip_info *")
        self.info_bytes = ffi.buffer(self.info)  # a view: reads the struct's current bytes
        self.array = ffi.new("jp_zip_entry[]", _SCRATCH_ENTRIES)
        self.named = (self.info, self.info_bytes)  # scan_for_worker's: one lookup, not two


_SCRATCH_ENTRIES = 1024  # 72 KiB per thread
_OK, _NULL = lib.JP_OK, ffi.NULL
_scratch = _Scratch()

# jp_zip_info read with one struct.unpack of its bytes: several times cheaper
# than one cffi attribute read per field.
_INFO_LAYOUT = struct.Struct("=6QI4xqq")
if (_INFO_LAYOUT.size != ffi.sizeof("jp_zip_info")
        or ffi.offsetof("jp_zip_info", "first_flagged") != _INFO_LAYOUT.size - 16
        or ffi.offsetof("jp_zip_info", "name_index") != _INFO_LAYOUT.size - 8
        or ffi.offsetof("jp_zip_info", "flags_union") != 48):  # pragma: no cover
    raise ImportError("jp_zip_info layout changed; update _INFO_LAYOUT in jobpack/home/scan.py")


# What scan_for_worker reads of a jp_zip_info: total_uncompressed, first_flagged
# and name_index (a 3-tuple costs less than the 9 fields); the C function as a
# module global (a lookup on lib costs more).
_NAMED_FIELDS = struct.Struct("=%dxQ%dxqq" % (ffi.offsetof("jp_zip_info", "total_uncompressed"),
                                             _INFO_LAYOUT.size - 16 - 32))
if (ffi.offsetof("jp_zip_info", "total_uncompressed") != 24
        or _NAMED_FIELDS.size != _INFO_LAYOUT.size):  # pragma: no cover
    raise ImportError("jp_zip_info layout changed; update _NAMED_FIELDS in jobpack/home/scan.py")
_scan_named = lib.jp_zip_scan_named


def _to_scan(info_bytes: Any) -> ZipScan:
    """The ZipScan of a jp_zip_info, from its bytes (_Scratch.info_bytes)."""
    (count, cd_offset, cd_size, total_uncompressed, total_compressed, _, flags_union,
     first, _) = _INFO_LAYOUT.unpack(info_bytes)
    summary = object.__new__(ZipScan)
    # Frozen dataclass __init__ costs a setattr per field (see _entries).
    object.__setattr__(summary, "__dict__", {
        "entries": count, "total_uncompressed": total_uncompressed,
        "total_compressed": total_compressed, "flags_union": flags_union,
        "first_flagged": None if first < 0 else first,
        "cd_offset": cd_offset, "cd_size": cd_size})
    return summary


def scan(zip_bytes: BytesLike) -> ZipScan:
    """Check the whole archive and summarise it, without building entries.

    One C call over the caller's buffer (zero copy, so a memoryview of an
    mmap works); raises ZipError when any offset or size is out of bounds.
    """
    info = _scratch.info
    if type(zip_bytes) is bytes:  # passed to C as it is
        length = len(zip_bytes)
        status = lib.jp_zip_scan(zip_bytes, length, ffi.NULL, 0, info)
    else:
        with ffi.from_buffer("uint8_t[]", zip_bytes) as buf:
            length = len(buf)
            status = lib.jp_zip_scan(buf, length, ffi.NULL, 0, info)
    if status != lib.JP_OK:
        raise _status_error(status, info, length)
    return _to_scan(_scratch.info_bytes)


def scan_and_contains(zip_bytes: BytesLike, name: str) -> Tuple[ZipScan, bool]:
    """``(scan(zip_bytes), contains(zip_bytes, name))``, with one pass over
    the central directory for homes of up to 1024 entries."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return scan(zip_bytes), False  # see contains()
    if type(zip_bytes) is bytes:  # passed to C as it is
        found = _scan_and_find(zip_bytes, len(zip_bytes), raw)
    else:
        with ffi.from_buffer("uint8_t[]", zip_bytes) as buf:
            found = _scan_and_find(buf, len(buf), raw)
    if found is None:  # more entries than the scratch array holds
        return scan(zip_bytes), contains(zip_bytes, name)
    summary, index, gp_flags = found
    # An ASCII name reads the same with or without the UTF-8 flag.
    if index >= 0 and (raw.isascii() or _decode_name(raw, gp_flags) == name):
        return summary, True
    return summary, contains(zip_bytes, name)  # other spellings (cp437): the full rule


def _scan_and_find(buf: Union[bytes, CData], length: int, raw: bytes) -> Optional[Tuple[ZipScan, int, int]]:
    scratch = _scratch
    info, array = scratch.info, scratch.array
    status = lib.jp_zip_scan(buf, length, array, _SCRATCH_ENTRIES, info)
    if status == lib.JP_ERR_BUFFER_TOO_SMALL:
        return None
    if status != lib.JP_OK:
        raise _status_error(status, info, length)
    summary = _to_scan(scratch.info_bytes)
    index = lib.jp_zip_find(buf, length, array, summary.entries, raw, len(raw))
    if index < 0 or raw.isascii():
        return summary, index, 0  # (the flags matter only to a non-ASCII name)
    return summary, index, int(array[index].gp_flags)


def scan_for_worker(data: BytesLike, worker: Optional[str], start: int = 0,
                    end: Optional[int] = None) -> Tuple[int, Optional[int], bool]:
    """What validate(strict=True) needs of the home ``data[start:end]`` (the
    whole of ``data`` by default): (total_uncompressed, first_flagged,
    whether ``worker`` is an entry: contains()).  A worker of None is not
    looked up.  Raises ZipError as scan() does, offsets relative to start.

    One C call (jp_zip_scan_named), on the pack's own buffer (the home is not
    copied out), for any home and an ASCII worker, which reads the same with
    or without the UTF-8 flag and in cp437, so a byte match is the whole
    rule; other names take scan_and_contains()."""
    length = (len(data) if end is None else end) - start
    if worker is not None and not worker.isascii():
        # The whole name rule (UTF-8 flag, cp437), in its one scan.
        summary, found = scan_and_contains(data[start:start + length], worker)
        return summary.total_uncompressed, summary.first_flagged, found
    raw = None if worker is None else worker.encode("ascii")
    info, info_bytes = _scratch.named
    name, name_len = (_NULL, 0) if raw is None else (raw, len(raw))
    if type(data) is bytes:  # passed to C as it is
        status = _scan_named(data, len(data), start, length, name, name_len, info)
    else:
        with ffi.from_buffer("uint8_t[]", data) as buf:
            status = _scan_named(buf, len(buf), start, length, name, name_len, info)
    if status != _OK:
        raise _status_error(status, info, length)
    total, first, index = _NAMED_FIELDS.unpack(info_bytes)
    return total, (None if first < 0 else first), index >= 0


def _read_array(buf: CData, length: int) -> Tuple[CData, CData, int]:
    info = _scan(buf, length, ffi.NULL, 0)
    count = int(info.entry_count)
    array = ffi.new("jp_zip_entry[]", max(count, 1))
    info = _scan(buf, length, array, count)
    return info, array, count


def _decode_name(raw: bytes, gp_flags: int) -> str:
    # zipfile's rule; surrogateescape keeps broken UTF-8 readable and exact.
    if gp_flags & _UTF8_FLAG:
        return raw.decode("utf-8", "surrogateescape")
    if raw.isascii():
        return raw.decode("ascii")  # same text as cp437, without its slow codec
    return raw.decode("cp437")


# jp_zip_entry as struct fields, so that all entries unpack in one C loop
# instead of one cffi attribute access per field.
_ENTRY_FIELDS = ("name_offset", "name_len", "flags", "compressed_size",
                 "uncompressed_size", "local_header_offset", "data_offset",
                 "crc32", "external_attr", "method", "gp_flags", "mod_time", "mod_date",
                 "version_made_by")
_ENTRY_CODES = "QIIQQQQIIHHHHH"
_ENTRY_SIZE = ffi.sizeof("jp_zip_entry")
# The struct's trailing padding, so iter_unpack steps a whole jp_zip_entry.
_ENTRY_FORMAT = "=" + _ENTRY_CODES + "%dx" % (_ENTRY_SIZE - struct.calcsize("=" + _ENTRY_CODES))


def _entry_layout_ok() -> bool:
    offset = 0
    for field, code in zip(_ENTRY_FIELDS, _ENTRY_CODES):
        if ffi.offsetof("jp_zip_entry", field) != offset:
            return False
        offset += struct.calcsize("=" + code)
    return struct.calcsize(_ENTRY_FORMAT) == _ENTRY_SIZE


if not _entry_layout_ok():  # pragma: no cover - a jobpack.h change without this file
    raise ImportError("jp_zip_entry layout changed; update _ENTRY_FORMAT in jobpack/home/scan.py")


def _entries(buf: CData, length: int, start: int = 0,
             limit: Optional[int] = None) -> Tuple[ZipScan, List[ZipEntry]]:
    info, array, count = _read_array(buf, length)
    start = min(max(start, 0), count)
    count = count - start if limit is None else min(count - start, max(limit, 0))
    data = memoryview(ffi.buffer(buf, length))
    new, set_dict = object.__new__, object.__setattr__
    out = []
    try:
        for (name_off, name_len, flags, csize, usize, lho, data_off, crc, attr, method,
             gp, _, _, made_by) in struct.iter_unpack(_ENTRY_FORMAT,
                                             ffi.buffer(array + start, count * _ENTRY_SIZE)):
            raw = bytes(data[name_off:name_off + name_len])
            unix = made_by >> 8 == _UNIX_HOST
            entry = new(ZipEntry)
            # Frozen dataclass __init__ costs a setattr per field; this is 3x
            # faster and gives an equal object.
            set_dict(entry, "__dict__", {
                "name": _decode_name(raw, gp), "raw_name": raw,
                "size": usize, "compressed_size": csize,
                "mode": (attr >> 16) if unix and attr >> 16 else None,
                "method": method, "crc32": crc, "flags": flags,
                "is_dir": bool(flags & DIRECTORY), "gp_flags": gp,
                "header_offset": lho, "data_offset": data_off,
            })
            out.append(entry)
    finally:
        data.release()
    return _to_scan(ffi.buffer(info)), out


def entries(zip_bytes: BytesLike, *, start: int = 0,
            limit: Optional[int] = None) -> List[ZipEntry]:
    """The central directory entries in directory order: every one, or from
    index ``start`` at most ``limit`` of them (a listing of a huge archive
    that must stay small; only the C scan's array grows with the archive)."""
    with ffi.from_buffer("uint8_t[]", zip_bytes) as buf:
        return _entries(buf, len(buf), start, limit)[1]


def contains(zip_bytes: BytesLike, name: str) -> bool:
    """True when an entry is named exactly ``name`` (the worker check).

    The name is compared as the bytes the archive would hold: UTF-8, or cp437
    for entries without the UTF-8 flag, and the match must decode back to
    ``name``.
    """
    try:
        candidates = [name.encode("utf-8", "surrogateescape")]
    except UnicodeEncodeError:
        # A surrogate outside U+DC80-U+DCFF (JSON "\ud800"): no entry name
        # decodes to one, so none can match.
        return False
    try:
        cp = name.encode("cp437")
    except UnicodeEncodeError:
        pass
    else:
        if cp != candidates[0]:
            candidates.append(cp)
    with ffi.from_buffer("uint8_t[]", zip_bytes) as buf:
        length = len(buf)
        _, array, count = _read_array(buf, length)
        for raw in candidates:
            # An entry with these bytes may decode to another name (its
            # UTF-8 flag differs); a later one may not.  No entry list is
            # built, so a huge directory costs only its C array.
            start = 0
            while start < count:
                index = lib.jp_zip_find(buf, length, array + start, count - start,
                                        raw, len(raw))
                if index < 0:
                    break
                start += index
                if _decode_name(raw, int(array[start].gp_flags)) == name:
                    return True
                start += 1
    return False


def expands_too_much(summary: ZipScan, zip_len: int, *, ratio: float = BOMB_RATIO,
                     floor: int = BOMB_FLOOR) -> bool:
    """The strict zip bomb test: declared sizes above max(ratio * size, floor)."""
    return too_much(summary.total_uncompressed, zip_len, ratio=ratio, floor=floor)


def too_much(total_uncompressed: int, zip_len: int, *, ratio: float = BOMB_RATIO,
             floor: int = BOMB_FLOOR) -> bool:
    """expands_too_much() of a home whose entries declare ``total_uncompressed`` bytes."""
    return total_uncompressed > max(ratio * zip_len, floor)
