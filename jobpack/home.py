"""The job home: the ZIP archive a job pack carries for its worker.

Reading goes through the C core (``jp_zip_scan``), which checks every offset
of the central directory and of each local header against the buffer, in one
call and without copying: ``scan`` is the fast full check, ``entries`` lists
what is inside, ``contains`` answers "is the worker in the home?".

``build`` writes a deterministic home from a directory, and ``extract`` is the
careful counterpart of the master's unzip: it refuses path traversal,
symlinks and zip bombs before writing anything, and counts the bytes it
actually inflates so that a header lying about sizes cannot fill the disk.
"""
from __future__ import annotations

import errno
import io
import os
import shutil
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple, Union

from jobpack import _files
from jobpack._native import ffi, lib
from jobpack.errors import ZipError

__all__ = [
    "ABSOLUTE", "DOTDOT", "BACKSLASH", "NUL", "ENCRYPTED", "DIRECTORY", "SYMLINK",
    "UNSAFE", "BOMB_RATIO", "BOMB_FLOOR", "FIXED_DATE_TIME",
    "MAX_ENTRIES", "MAX_NAME_BYTES", "MAX_DEPTH", "MAX_COMPONENT_BYTES",
    "ZipEntry", "ZipScan", "scan", "entries", "contains", "expands_too_much",
    "build", "extract",
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

#: extract() refuses, before writing anything, more entries than this (by
#: default), entry names longer than MAX_NAME_BYTES, deeper than MAX_DEPTH
#: components, or with a component longer than MAX_COMPONENT_BYTES (NAME_MAX).
MAX_ENTRIES = 1 << 20
MAX_NAME_BYTES = 4096
MAX_DEPTH = 256
MAX_COMPONENT_BYTES = 255

#: The DOS epoch: every entry of a built home carries it, so the bytes do not
#: depend on file mtimes.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)

_UTF8_FLAG = 0x800
_UNIX_HOST = 3
_CHUNK = 1 << 16

BytesLike = Union[bytes, bytearray, memoryview]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


def _status_error(status: int, info, length: int) -> ZipError:
    """A ZipError that says what the C core found and where."""
    message = ffi.string(lib.jp_status_message(status)).decode()
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
        detail = f"status {ffi.string(lib.jp_status_name(status)).decode()}"
    return ZipError(f"{message}: {detail}", offset)


def _scan(buf, length: int, array, capacity: int):
    info = ffi.new("jp_zip_info *")
    status = lib.jp_zip_scan(buf, length, array, capacity, info)
    if status != lib.JP_OK:
        raise _status_error(status, info, length)
    return info


def _to_scan(info) -> ZipScan:
    first = int(info.first_flagged)
    return ZipScan(
        entries=int(info.entry_count),
        total_uncompressed=int(info.total_uncompressed),
        total_compressed=int(info.total_compressed),
        flags_union=int(info.flags_union),
        first_flagged=None if first < 0 else first,
        cd_offset=int(info.cd_offset),
        cd_size=int(info.cd_size),
    )


def scan(zip_bytes: BytesLike) -> ZipScan:
    """Check the whole archive and summarise it, without building entries.

    One C call over the caller's buffer (zero copy, so a memoryview of an
    mmap works); raises ZipError when any offset or size is out of bounds.
    """
    with ffi.from_buffer("uint8_t[]", zip_bytes) as buf:
        return _to_scan(_scan(buf, len(buf), ffi.NULL, 0))


def _read_array(buf, length: int):
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
    raise ImportError("jp_zip_entry layout changed; update _ENTRY_FORMAT in jobpack/home.py")


def _entries(buf, length: int, start: int = 0,
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
    return _to_scan(info), out


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
    return summary.total_uncompressed > max(ratio * zip_len, floor)


# ---------------------------------------------------------------- build


def _walk(root: str) -> List[Tuple[str, bool, int, str]]:
    """(posix relative path, is_dir, st_mode, source path) for the tree."""
    real_root = os.path.realpath(root)
    found = []
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(root, rel) if rel else root) as it:
            for de in it:
                path = f"{rel}/{de.name}" if rel else de.name
                try:
                    path.encode("utf-8")
                except UnicodeEncodeError:
                    raise ZipError(f"cannot build job home: file name {path!r} is not UTF-8")
                if "\\" in de.name:
                    raise ZipError(f"cannot build job home: {path!r} has a backslash, "
                                   "which unzip tools read as a directory separator")
                st = de.stat(follow_symlinks=False)
                source = de.path
                if stat.S_ISLNK(st.st_mode):
                    target = os.path.realpath(de.path)
                    if os.path.commonpath([real_root, target]) != real_root:
                        raise ZipError(f"cannot build job home: symlink {path!r} points "
                                       f"outside the directory, to {target!r}")
                    try:
                        st = os.stat(target)
                    except OSError:
                        raise ZipError(f"cannot build job home: symlink {path!r} is dangling")
                    if not stat.S_ISREG(st.st_mode):
                        raise ZipError(f"cannot build job home: symlink {path!r} does not "
                                       "point to a regular file")
                    source = target
                elif stat.S_ISDIR(st.st_mode):
                    stack.append(path)
                elif not stat.S_ISREG(st.st_mode):
                    raise ZipError(f"cannot build job home: {path!r} is not a regular "
                                   "file, directory or symlink")
                found.append((path, stat.S_ISDIR(st.st_mode), st.st_mode, source))
    found.sort(key=lambda item: item[0])
    return found


def build(directory: Union[str, "os.PathLike[str]"], *,
          compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A deterministic job home from ``directory``.

    Entries are sorted by POSIX relative path, stamped 1980-01-01 00:00:00 and
    marked as made on Unix with their permission bits (directories included,
    as ``name/`` entries), so the same tree always gives the same bytes (for a
    given zlib).  A symlink to a regular file inside the directory is stored
    as that file's content and mode; symlinks that point outside, dangle or
    point to a directory are refused, as are special files: the master's
    unzip must never see a link.
    """
    root = os.fspath(directory)
    if not os.path.isdir(root):
        raise ZipError(f"cannot build job home: {root!r} is not a directory")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression, allowZip64=True) as zf:
        for path, is_dir, mode, source in _walk(root):
            perm = stat.S_IMODE(mode)
            if is_dir:
                info = zipfile.ZipInfo(path + "/", date_time=FIXED_DATE_TIME)
                info.create_system = _UNIX_HOST
                info.external_attr = ((stat.S_IFDIR | perm) << 16) | 0x10  # MS-DOS dir bit
                info.compress_type = zipfile.ZIP_STORED
                zf.writestr(info, b"")
                continue
            info = zipfile.ZipInfo(path, date_time=FIXED_DATE_TIME)
            info.create_system = _UNIX_HOST
            info.external_attr = (stat.S_IFREG | perm) << 16
            info.compress_type = compression
            with open(source, "rb") as src:
                info.file_size = os.fstat(src.fileno()).st_size
                with zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    return out.getvalue()


# ---------------------------------------------------------------- extract


def _parts(entry: ZipEntry) -> List[str]:
    # "./a//b" and "a/b" are the same file; "." and "" components vanish.
    return [p for p in entry.name.split("/") if p not in ("", ".")]


def _check_all(zip_len: int, items: List[ZipEntry], summary: ZipScan,
               max_total_size: int, max_ratio: Optional[float], max_entries: int) -> None:
    """Refuse the archive before anything is written.  Time O(n log n) and
    memory linear in the names: one key per entry, sorted, instead of every
    path prefix of every entry (quadratic in the depth)."""
    if len(items) > max_entries:
        raise ZipError(f"job home has {len(items)} entries, more than the limit of "
                       f"{max_entries}")
    if summary.total_uncompressed > max_total_size:
        raise ZipError(f"job home declares {summary.total_uncompressed} bytes, "
                       f"more than the limit of {max_total_size}")
    if max_ratio is not None and expands_too_much(summary, zip_len, ratio=max_ratio):
        raise ZipError(f"job home declares {summary.total_uncompressed} bytes, "
                       f"more than {max_ratio} times its size (zip bomb)")
    keys: List[Tuple[str, bool, int]] = []
    for index, e in enumerate(items):
        where = e.header_offset
        if e.unsafe:
            raise ZipError(f"unsafe entry name {e.raw_name!r}: absolute, '..', "
                           "backslash or NUL", where)
        if e.is_symlink:
            raise ZipError(f"entry {e.name!r} is a symbolic link", where)
        if e.is_encrypted:
            raise ZipError(f"entry {e.name!r} is encrypted", where)
        if len(e.raw_name) > MAX_NAME_BYTES:
            raise ZipError(f"entry name of {len(e.raw_name)} bytes, more than the limit of "
                           f"{MAX_NAME_BYTES} ({e.name[:60]!r}...)", where)
        parts = _parts(e)
        if len(parts) > MAX_DEPTH:
            raise ZipError(f"entry {e.name[:60]!r}... has {len(parts)} path components, "
                           f"more than the limit of {MAX_DEPTH}", where)
        for part in parts:
            if len(os.fsencode(part)) > MAX_COMPONENT_BYTES:
                raise ZipError(f"entry {e.name[:60]!r}... has a path component longer than "
                               f"{MAX_COMPONENT_BYTES} bytes", where)
        if not e.is_dir:
            if e.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ZipError(f"entry {e.name!r} uses compression method {e.method}; "
                               "only stored (0) and deflated (8) are supported", where)
            if not parts:
                raise ZipError(f"file entry {e.name!r} has an empty path", where)
        # NUL (refused above) sorts first, so whatever lies under a path
        # sorts right after that path.
        keys.append(("\0".join(parts), e.is_dir, index))
    keys.sort()
    for (key, is_dir, i), (next_key, _, j) in zip(keys, keys[1:]):
        if is_dir:
            continue
        later = items[max(i, j)]
        if next_key == key:
            raise ZipError(f"entry {later.name!r} is a duplicate or clashes with a "
                           "directory", later.header_offset)
        if next_key.startswith(key + "\0"):
            raise ZipError(f"entry {items[j].name!r} lies under the file "
                           f"{items[i].name!r}", items[j].header_offset)


def _open_dir(root_fd: int, parts: List[str]) -> int:
    """An fd for root/parts..., creating directories and never following a
    symlink, so that no write can leave the root."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            new = _files.open_dir_at(fd, part)
            os.close(fd)
            fd = new
    except BaseException:
        os.close(fd)
        raise
    return fd


def _inflate(entry: ZipEntry, data: memoryview) -> Iterator[Union[bytes, memoryview]]:
    """The entry's bytes in chunks, never more than its declared size."""
    written = 0
    crc = 0

    def check(chunk: Union[bytes, memoryview]) -> None:
        nonlocal written, crc
        written += len(chunk)
        if written > entry.size:
            raise ZipError(f"entry {entry.name!r} inflates past its declared size of "
                           f"{entry.size} bytes (lying header or zip bomb)",
                           entry.header_offset)
        crc = zlib.crc32(chunk, crc)

    if entry.method == zipfile.ZIP_STORED:
        for pos in range(0, len(data), _CHUNK):
            chunk = data[pos:pos + _CHUNK]
            check(chunk)
            yield chunk
    else:
        inflater = zlib.decompressobj(-15)
        pos, pending = 0, b""
        while not inflater.eof:
            if not pending and pos < len(data):
                pending = data[pos:pos + _CHUNK]
                pos += _CHUNK
            try:
                chunk = inflater.decompress(pending, _CHUNK)
            except zlib.error as exc:
                raise ZipError(f"entry {entry.name!r}: corrupt deflate data ({exc})",
                               entry.data_offset) from None
            pending = inflater.unconsumed_tail
            if not chunk and not pending and pos >= len(data) and not inflater.eof:
                raise ZipError(f"entry {entry.name!r}: deflate data ends early",
                               entry.data_offset)
            if chunk:
                check(chunk)
                yield chunk
    if written != entry.size:
        raise ZipError(f"entry {entry.name!r} has {written} bytes, its header says "
                       f"{entry.size}", entry.header_offset)
    if crc != entry.crc32:
        raise ZipError(f"entry {entry.name!r} fails its CRC-32 check", entry.header_offset)


def _write_file(parent_fd: int, leaf: str, entry: ZipEntry, data: memoryview) -> None:
    def fill(fd: int) -> None:
        with open(fd, "wb", closefd=False) as out:
            for chunk in _inflate(entry, data):
                out.write(chunk)
        if entry.mode is not None:
            os.fchmod(fd, entry.mode & 0o777)

    _files.create_at(parent_fd, leaf, fill)


def _open_root(root: str, follow_symlinks: bool) -> int:
    parent = os.path.dirname(os.path.abspath(root))
    os.makedirs(parent, exist_ok=True)
    try:
        os.mkdir(root, 0o755)
    except FileExistsError:
        pass
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
    if follow_symlinks:
        return os.open(root, flags)
    try:
        return os.open(root, flags | os.O_NOFOLLOW)
    except OSError as e:
        if e.errno not in (errno.ENOTDIR, errno.ELOOP):
            raise
        raise _files._not_a_directory(root) from None


def _why(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "it is a symbolic link, which extraction never follows"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "it (or a directory on its path) exists and is not a directory"
    return exc.strerror or str(exc)


def extract(zip_bytes: BytesLike, directory: Union[str, "os.PathLike[str]"], *,
            max_total_size: int = 1 << 30,
            max_ratio: Optional[float] = BOMB_RATIO,
            max_entries: int = MAX_ENTRIES,
            follow_symlinks: bool = True) -> List[str]:
    """Unzip a job home into ``directory``, safely; returns the entry names.

    Before writing, the whole archive is checked: no absolute, ``..``,
    backslash or NUL names, no symlinks, no encryption, no duplicates, only
    stored/deflated data, declared sizes within ``max_total_size`` and, unless
    ``max_ratio`` is None, within ``expands_too_much``, at most
    ``max_entries`` entries, names of at most MAX_NAME_BYTES bytes,
    MAX_DEPTH components and MAX_COMPONENT_BYTES per component.  While inflating, each
    entry is cut off at its declared size and must match its CRC-32.  Every
    path is opened relative to ``directory`` without following symlinks (POSIX
    ``dir_fd``), so nothing is ever written outside it.  Files and
    directories keep their permission bits (``mode & 0o777``); directory
    modes are applied last.  ``directory`` is made if missing; a
    ``directory`` that is a file, or with ``follow_symlinks=False`` a
    symbolic link, is refused (ZipError).  Every failure is a ZipError.  On
    error the file being written is removed; files already written stay.
    """
    with ffi.from_buffer("uint8_t[]", zip_bytes) as buf:
        summary, items = _entries(buf, len(buf))
        _check_all(len(buf), items, summary, max_total_size, max_ratio, max_entries)
    if not (os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd):
        raise ZipError("safe extraction needs dir_fd support (POSIX)")
    root = os.fspath(directory)
    try:
        root_fd = _open_root(root, follow_symlinks)
    except OSError as exc:
        raise ZipError(f"cannot extract job home into {root!r}: {_why(exc)}") from exc
    dir_modes = []
    names = []
    try:
        with ffi.from_buffer("uint8_t[]", zip_bytes) as buf:
            whole = memoryview(ffi.buffer(buf, len(buf)))
            try:
                for e in items:
                    parts = _parts(e)
                    if e.is_dir:
                        if parts:
                            os.close(_open_dir(root_fd, parts))
                            if e.mode is not None:
                                dir_modes.append((parts, e.mode & 0o777))
                    else:
                        data = whole[e.data_offset:e.data_offset + e.compressed_size]
                        parent_fd = _open_dir(root_fd, parts[:-1])
                        try:
                            _write_file(parent_fd, parts[-1], e, data)
                        finally:
                            os.close(parent_fd)
                    names.append(e.name)
            finally:
                whole.release()
        for parts, mode in sorted(dir_modes, key=lambda item: -len(item[0])):
            fd = _open_dir(root_fd, parts)
            try:
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
    except OSError as exc:
        raise ZipError(f"cannot extract job home into {root!r}: {_why(exc)}"
                       f"{'' if exc.filename is None else f' ({exc.filename})'}") from exc
    finally:
        os.close(root_fd)
    return names
