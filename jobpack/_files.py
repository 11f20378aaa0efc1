"""Opening the files a user points us at, and writing the ones we make.

The one place for file-system safety, used by ``JobPack.load``/``dump``, the
job home extraction and the command line.  Paths and the directories they
sit in are untrusted:

- reading: ``open_regular`` opens with O_NONBLOCK (a FIFO without a writer
  would block ``open()``), then refuses anything but a regular file; streams
  are read in chunks and never past ``MAX_STREAM_BYTES``;
- writing a named file: ``write_file`` writes a regular file atomically
  (a temporary ``.<name>.XXXXXXXX.jobpack-tmp`` beside it, then rename) and
  writes FIFOs and character devices in place; it never replaces a symbolic
  link or follows one to a file, and never carries setuid/setgid/sticky bits;
- writing inside a directory: ``create_at`` makes a new file relative to a
  directory fd, never following a link and never writing through an old
  (hard-linked) file; ``open_dir_at`` opens or makes a subdirectory without
  following a link.
"""
import errno
import os
import stat
import threading
from typing import Any, Callable, List, Optional, Tuple, Union

from . import errors
from ._native import lib

__all__ = ["MAX_STREAM_BYTES", "TEMP_SUFFIX", "open_regular", "read_regular", "read_input",
           "read_stream",
           "write_file", "create_at", "open_dir_at"]

#: The most a stream (a pipe, standard input, a file object) is read for one
#: pack: dumps() refuses packs of 4 GiB or more, so a longer stream is not one.
MAX_STREAM_BYTES = 1 << 32
#: The temporary files of write_file end with this, after ".<target name>."
#: and 8 random characters: a SIGKILL mid-write leaves one to clean up.
TEMP_SUFFIX = ".jobpack-tmp"
_CHUNK = 1 << 20
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)

PathArg = Union[str, "os.PathLike[str]"]


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


# -- reading -------------------------------------------------------------------

def open_regular(path: PathArg) -> Tuple[int, int]:
    """(fd, size) of a regular file opened for reading, else SourceError.

    O_NONBLOCK makes opening a FIFO return at once (so it can be refused)
    instead of waiting for a writer; reads of regular files ignore it."""
    fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise errors.SourceError(
                f"{os.fsdecode(path)} is {_kind(st.st_mode)}, not a regular file: packs are "
                f"read from files (or pass an open binary stream, read up to 4 GiB)")
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def read_input(path: PathArg) -> bytes:
    """The bytes of a regular file, or of a FIFO (a shell's ``<(...)``), up to
    MAX_STREAM_BYTES; a device, directory or socket is refused (SourceError).
    Opening never blocks: a FIFO without a writer reads as empty."""
    fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode):
            return read_stream(lambda n: os.read(fd, n), first=st.st_size + 1)
        if stat.S_ISFIFO(st.st_mode):
            os.set_blocking(fd, True)
            return read_stream(lambda n: os.read(fd, n))
        raise errors.SourceError(f"{os.fsdecode(path)} is {_kind(st.st_mode)}: "
                                 f"pass a regular file, a pipe or '-'")
    finally:
        os.close(fd)


def read_stream(read: Callable[[int], Any], limit: Optional[int] = None,
                first: int = _CHUNK) -> bytes:
    """Everything ``read`` gives until end of file, refused (SourceError)
    past ``limit`` (default MAX_STREAM_BYTES) bytes: memory stays bounded
    whatever the stream."""
    if limit is None:
        limit = MAX_STREAM_BYTES
    chunks: List[bytes] = []
    total = 0
    size = max(1, min(first, limit + 1))
    while True:
        chunk = read(size)
        if chunk is None:  # a non-blocking stream with nothing yet
            raise errors.SourceError("the stream has no data ready (non-blocking): "
                                     "pass a blocking stream or the pack's bytes")
        if isinstance(chunk, str):
            raise TypeError("job packs are binary: open the file in binary mode ('rb')")
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise errors.SourceError(f"the stream holds more than {limit} bytes, more than "
                                     f"any job pack (offsets are 32-bit)")
        size = _CHUNK
    return chunks[0] if len(chunks) == 1 and type(chunks[0]) is bytes else b"".join(chunks)


def read_regular(fd: int, size: int, use_mmap: bool) -> Union[bytes, memoryview]:
    """A regular file's bytes: a read-only map when ``use_mmap`` (and the
    file is not empty), else read.  A file emptied since fstat cannot be
    mapped (ValueError): it is read instead, and gives what it holds."""
    if use_mmap and size:
        import mmap
        try:
            return memoryview(mmap.mmap(fd, 0, access=mmap.ACCESS_READ))
        except ValueError:
            pass
    # A short read of a regular file is its end: no second read (which would
    # allocate a whole _CHUNK to find nothing).  A file that grew since fstat
    # reads on, as a stream, within the same bound.
    first = min(size, MAX_STREAM_BYTES) + 1
    chunk = os.read(fd, first)
    if len(chunk) < first:
        return chunk
    chunks = [chunk]
    return read_stream(lambda n: chunks.pop() if chunks else os.read(fd, n), first=first)


# -- writing a named file ------------------------------------------------------

def write_file(path: PathArg, write: Callable[[int], None], size: int = 0) -> None:
    """Call ``write(fd)`` to fill ``path`` with ``size`` bytes (0: unknown),
    per kind of what is there:

    - nothing, or a regular file: a new file written beside it, fsynced, then
      renamed over it (atomic); an existing file's permission bits are kept
      (never setuid, setgid or sticky), a new one gets 0666 & ~umask.  Its
      ``size`` bytes are reserved first (Linux, but not on tmpfs), so a full
      disk fails before anything is written;
    - a FIFO or character device (``/dev/stdout`` and other links to one
      included): written in place, as shell redirection does;
    - a symbolic link to anything else, a directory, a block device or a
      socket: refused with OSError, nothing written.
    """
    name = os.fspath(path)
    try:
        st: Optional[os.stat_result] = os.lstat(name)
    except FileNotFoundError:
        st = None
    if st is None or stat.S_ISREG(st.st_mode):
        mode = 0o666 & ~_umask() if st is None else stat.S_IMODE(st.st_mode) & 0o777
        _replace(name, mode, write, size)
        return
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        try:
            mode = os.stat(name).st_mode
        except OSError:
            mode = 0
        if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            raise OSError(errno.ELOOP, "is a symbolic link: a pack is never written through "
                          "a link to a file, nor over the link; pass its target "
                          "(os.path.realpath) or remove it", name)
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        _write_in_place(name, write)
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", name)
    raise OSError(errno.EINVAL, f"is {_kind(mode)}: packs are written to regular files, "
                  f"FIFOs and character devices only", name)


def _write_in_place(name: str, write: Callable[[int], None]) -> None:
    # No O_CREAT/O_TRUNC: if the node was swapped for a file meanwhile,
    # opening it changes nothing, and the check below refuses it.
    fd = os.open(name, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | _O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            raise OSError(errno.EAGAIN, "changed while being opened; try again", name)
        write(fd)
    finally:
        os.close(fd)


# What jp_preallocate may answer when the pack cannot fit; any other failure
# (the file system cannot reserve space) leaves the write to find out.
_NO_ROOM = frozenset((errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)))


def _replace(name: str, mode: int, write: Callable[[int], None], size: int) -> None:
    directory, base = os.path.split(os.path.abspath(name))
    fd, tmp = _new_temp(directory, base)
    try:
        try:
            if size:
                err = lib.jp_preallocate(fd, size)
                if err in _NO_ROOM:
                    raise OSError(err, f"{os.strerror(err)}: no room for the {size}-byte "
                                  f"pack; free space, or write it elsewhere", name)
            write(fd)
            written = os.lseek(fd, 0, os.SEEK_CUR) if size else size
            if written != size:  # never a reserved, unwritten tail
                raise OSError(errno.EIO, f"wrote {written} of the pack's {size} bytes", name)
            os.fchmod(fd, mode)  # only now: while it is written, only we can open it
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _new_temp(directory: str, base: str) -> Tuple[int, str]:
    """A new empty file ``.<base>.XXXXXXXX.jobpack-tmp`` in directory, mode
    0600: O_EXCL, so never a file or link that was there.  (What
    tempfile.mkstemp does, at half its cost: ~25 µs of a 1 MiB dump.)"""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
    # The target's name cut at 64 bytes (not characters: 64 four-byte ones
    # would pass NAME_MAX with the rest).
    prefix = os.path.join(directory, f".{os.fsdecode(os.fsencode(base)[:64])}.")
    for _ in range(100):
        tmp = f"{prefix}{os.urandom(4).hex()}{TEMP_SUFFIX}"
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue  # a name taken, by chance or by someone else: another
    raise FileExistsError(errno.EEXIST, "100 temporary names in a row were taken; "
                          "check who creates files in this directory", directory)


def _unlink_quietly(path: str, dir_fd: Optional[int] = None) -> None:
    try:
        os.unlink(path, dir_fd=dir_fd)
    except OSError:
        pass


_umask_lock = threading.Lock()


def _umask() -> int:
    try:  # Linux reports it without changing it, so no race with other threads.
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


# -- writing inside a directory ------------------------------------------------

def create_at(dir_fd: int, name: str, write: Callable[[int], None], mode: int = 0o644) -> None:
    """A new file ``name`` in the directory ``dir_fd``, filled by ``write(fd)``.

    Whatever was there is unlinked first (a link is removed, not followed; a
    hard-linked file is not written through), then the file is created with
    O_EXCL | O_NOFOLLOW, so a link planted meanwhile fails the open.  On any
    failure the partial file is removed."""
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC,
                 mode, dir_fd=dir_fd)
    try:
        write(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(name, dir_fd)
        raise
    os.close(fd)


def open_dir_at(dir_fd: int, name: str, create: bool = True) -> int:
    """An fd of the directory ``name`` in ``dir_fd``, made if missing; a
    symbolic link there fails with ELOOP, anything else with ENOTDIR."""
    if create:
        try:
            os.mkdir(name, 0o755, dir_fd=dir_fd)
        except FileExistsError:
            pass
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC,
                       dir_fd=dir_fd)
    except (NotADirectoryError, OSError) as e:
        if e.errno not in (errno.ENOTDIR, errno.ELOOP):
            raise
        raise _not_a_directory(name, dir_fd) from None


def _not_a_directory(name: str, dir_fd: Optional[int] = None) -> OSError:
    """The error for a path that a no-follow directory open refused: Linux
    says ENOTDIR for a link too, so look."""
    try:
        is_link = stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        is_link = False
    if is_link:
        return OSError(errno.ELOOP, "is a symbolic link, which is never followed", name)
    return NotADirectoryError(errno.ENOTDIR, "exists and is not a directory", name)


def write_all(fd: int, data: Any) -> None:
    """os.write until every byte of ``data`` (bytes-like) is written."""
    view = memoryview(data).cast("B")
    while view.nbytes:
        view = view[os.write(fd, view):]
