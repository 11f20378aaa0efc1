"""A deterministic job home from a directory."""
from __future__ import annotations

import io
import os
import stat
from typing import List, Tuple, Union

from jobpack.errors import ZipError

from .scan import _UNIX_HOST

__all__ = ["FIXED_DATE_TIME", "build"]

#: The DOS epoch: every entry of a built home carries it, so the bytes do not
#: depend on file mtimes.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)


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
          compression: int = 8) -> bytes:
    """A deterministic job home from ``directory``.

    Entries are sorted by POSIX relative path, stamped 1980-01-01 00:00:00 and
    marked as made on Unix with their permission bits (directories included,
    as ``name/`` entries), so the same tree always gives the same bytes (for a
    given zlib).  A symlink to a regular file inside the directory is stored
    as that file's content and mode; symlinks that point outside, dangle or
    point to a directory are refused, as are special files: the master's
    unzip must never see a link.
    """
    import shutil  # here, not at import time: zipfile costs a fifth of a Python start-up
    import zipfile
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
