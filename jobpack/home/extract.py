"""Unzipping a job home: the careful counterpart of the master's unzip.

The whole archive is checked before anything is written (path traversal,
symlinks, zip bombs, bounded names and entries, in linear memory); while
inflating, each entry is cut off at its declared size, so a header lying
about sizes cannot fill the disk; every path is opened relative to the
target without following links.
"""
from __future__ import annotations

import errno
import os
import zlib
from typing import Iterator, List, Optional, Tuple, Union

from jobpack import _files
from jobpack._native import ffi
from jobpack.errors import ZipError

from .scan import BOMB_RATIO, BytesLike, ZipEntry, ZipScan, _entries, expands_too_much

_STORED, _DEFLATED = 0, 8  # zipfile.ZIP_STORED, ZIP_DEFLATED (zipfile is costly to import)

__all__ = ["MAX_ENTRIES", "MAX_NAME_BYTES", "MAX_DEPTH", "MAX_COMPONENT_BYTES", "extract"]

#: extract() refuses, before writing anything, more entries than this (by
#: default), entry names longer than MAX_NAME_BYTES, deeper than MAX_DEPTH
#: components, or with a component longer than MAX_COMPONENT_BYTES (NAME_MAX).
MAX_ENTRIES = 1 << 20
MAX_NAME_BYTES = 4096
MAX_DEPTH = 256
MAX_COMPONENT_BYTES = 255

_CHUNK = 1 << 16


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
            if e.method not in (_STORED, _DEFLATED):
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
    chunk: Union[bytes, memoryview]

    def check(chunk: Union[bytes, memoryview]) -> None:
        nonlocal written, crc
        written += len(chunk)
        if written > entry.size:
            raise ZipError(f"entry {entry.name!r} inflates past its declared size of "
                           f"{entry.size} bytes (lying header or zip bomb)",
                           entry.header_offset)
        crc = zlib.crc32(chunk, crc)

    if entry.method == _STORED:
        for pos in range(0, len(data), _CHUNK):
            chunk = data[pos:pos + _CHUNK]
            check(chunk)
            yield chunk
    else:
        inflater = zlib.decompressobj(-15)
        pending: Union[bytes, memoryview]
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
