"""JobPack: the Disco job pack as a record (a dataclass), byte-identical to Disco 0.5.

Reading never copies more than it must: ``PackView`` is a header-checked,
zero-copy view of a pack's four raw sections; ``JobPack.load`` decodes the
two JSON sections and keeps the job home and job data as views.

Memory-mapped files: ``load(path)`` maps files of MMAP_THRESHOLD bytes or more
(so a 1 GiB pack loads as fast as a 1 MiB one) and reads smaller ones.  A
mapped file that another process truncates kills the reader with SIGBUS on
the next access to the lost pages: do not truncate or rewrite a pack in place
while a loaded pack or its views are alive (replace it by rename, as
``dump`` does), or pass ``mmap=False`` to read it into memory instead.
"""
import io
import os
import stat
import struct
from typing import Any, BinaryIO, Dict, List, Optional, Tuple, Union

from . import _core, _files, dialect, errors
from ._json import decode_section, encode_section
from ._record import record

__all__ = ["JobPack", "PackView", "VERSION1", "VERSION2", "MMAP_THRESHOLD"]

VERSION1 = 1
VERSION2 = 2
SUPPORTED_VERSIONS = (VERSION1, VERSION2)
MMAP_THRESHOLD = 1 << 20
_HEADER = struct.Struct("!IIIII108x")  # magic|version and the four offsets, zero padded
_MAX_PACK = 0xFFFFFFFF  # offsets are 32-bit: jp_layout refuses larger packs

Source = Union[str, "os.PathLike[str]", BinaryIO, bytes, bytearray, memoryview]


def _read_source(source: Source, use_mmap: Optional[bool]) -> Any:
    """A bytes-like object with the whole pack, from a path, a binary file
    object or a bytes-like object (returned as it is)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return source
    if isinstance(source, (str, os.PathLike)):
        fd, size = _files.open_regular(source)
        try:
            return _files.read_regular(fd, size, _maps(size, use_mmap))
        finally:
            os.close(fd)
    if hasattr(source, "read"):
        return _read_file(source, use_mmap)
    try:
        return memoryview(source)
    except TypeError:
        raise TypeError(f"cannot read a job pack from {type(source).__name__}: pass a path, "
                        f"a binary file object or a bytes-like object") from None


def _maps(size: int, use_mmap: Optional[bool]) -> bool:
    return bool(size) and bool(use_mmap or (use_mmap is None and size >= MMAP_THRESHOLD))


def _read_file(f: BinaryIO, use_mmap: Optional[bool]) -> Any:
    try:
        fileno = f.fileno()
        st = os.fstat(fileno)
    except (OSError, AttributeError, io.UnsupportedOperation):
        st = None
    if st is not None and stat.S_ISREG(st.st_mode) and _maps(st.st_size, use_mmap):
        if hasattr(f, "tell") and f.tell() == 0:
            return _files.read_regular(fileno, st.st_size, True)
    if hasattr(f, "seek"):
        try:
            f.seek(0)
        except (OSError, io.UnsupportedOperation):
            pass
    # A pipe, a device or a socket: bounded, never an unbounded read().
    return _files.read_stream(f.read)


@record(frozen=True)
class PackView:
    """Zero-copy view of a pack whose header passed the master's checks.

    ``jobdict``, ``jobenvs``, ``jobhome`` and ``jobdata`` are memoryviews of
    the raw sections; nothing is decoded."""

    header: _core.Header
    buffer: memoryview

    def __init__(self, header: _core.Header, buffer: memoryview):
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "buffer", buffer)

    def __repr__(self) -> str:
        return f"PackView(header={self.header!r})"

    @classmethod
    def from_buffer(cls, data) -> "PackView":
        buf = _byte_view(data)
        return cls(_checked_header(buf), buf)

    @classmethod
    def open(cls, source: Source, *, mmap: Optional[bool] = None) -> "PackView":
        return cls.from_buffer(_read_source(source, mmap))

    @property
    def version(self) -> int:
        return self.header.version

    @property
    def offsets(self) -> Tuple[int, int, int, int]:
        return self.header.offsets

    def _section(self, i: int) -> memoryview:
        bounds = self.header.offsets + (len(self.buffer),)
        return self.buffer[bounds[i]:bounds[i + 1]]

    jobdict = property(lambda self: self._section(0), doc="raw jobdict bytes")
    jobenvs = property(lambda self: self._section(1), doc="raw jobenvs bytes")
    jobhome = property(lambda self: self._section(2), doc="raw job home (ZIP) bytes")
    jobdata = property(lambda self: self._section(3), doc="raw job data bytes")


def _checked_header(buf: memoryview) -> _core.Header:
    """The header of a whole pack, or the HeaderError the master's checks give."""
    header = _core.decode_header(buf)
    if not header.ok:
        raise header.error()
    return header


def _byte_view(data: Any) -> memoryview:
    """A flat unsigned-byte memoryview of any bytes-like object (a strided
    one, such as memoryview(data)[::2], is copied into bytes, in order)."""
    buf = data if isinstance(data, memoryview) else memoryview(data)
    if not buf.c_contiguous:
        return memoryview(buf.tobytes())
    if buf.format != "B" or buf.ndim != 1:
        buf = buf.cast("B")
    return buf


def _check_writable_version(version: Any) -> int:
    # Like Disco, any 16-bit version can be written; the master reads 1 and 2.
    if type(version) is not int or not 0 <= version <= 0xFFFF:
        raise errors.UnsupportedVersionError(
            f"cannot write job pack version {version!r}: the header holds a 16-bit version "
            f"(the master reads versions 1 and 2)", 2)
    return version


def _as_bytes_like(value: Any, name: str) -> Any:
    """A section as something b"".join and os.writev take: any buffer of
    bytes (bytes, bytearray, memoryview, array, mmap...)."""
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        raise errors.EncodeError(f"{name} must be bytes, not str: encode it first")
    try:
        view = memoryview(value)
    except TypeError:
        raise errors.EncodeError(f"{name} must be bytes-like, not {type(value).__name__}") from None
    if not view.c_contiguous:
        return view.tobytes()  # a strided view: its bytes, in order
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


@record()
class JobPack:
    """A Disco job pack: ``JobPack(version, jobdict, jobenvs, jobhome, jobdata)``.

    A drop-in for ``disco.job.JobPack``: the same constructor, ``dumps()``,
    ``load()``, ``header()``, ``offsets()`` and class attributes, and the same
    bytes.  A loaded pack keeps its version and re-dumps to the same bytes
    when it was written by ``dumps()``."""

    version: int
    jobdict: Dict[str, Any]
    jobenvs: Dict[str, str]
    jobhome: Any = b""
    jobdata: Any = b""

    def __init__(self, version: int, jobdict: Dict[str, Any], jobenvs: Dict[str, str],
                 jobhome: Any = b"", jobdata: Any = b""):
        self.version = version
        self.jobdict = jobdict
        self.jobenvs = jobenvs
        self.jobhome = jobhome
        self.jobdata = jobdata

    MAGIC = 0xD5C0 << 16
    MAGIC_MASK = 0xFFFF << 16
    VERSION = VERSION1
    HEADER_FORMAT = "!IIIII"
    HEADER_SIZE = _core.HEADER_SIZE

    # -- writing -------------------------------------------------------

    @classmethod
    def header(cls, offsets, magic: int = MAGIC, version: int = VERSION, **_ignored: Any) -> bytes:
        """Any 128-byte header, valid or not (for tests and fuzzers)."""
        offsets = list(offsets)
        word = magic + version
        if len(offsets) != 4 or not all(type(o) is int and 0 <= o <= 0xFFFFFFFF for o in offsets):
            raise errors.EncodeError(f"a header holds four offsets from 0 to 2**32-1, got {offsets!r}")
        if type(word) is not int or not 0 <= word <= 0xFFFFFFFF:
            raise errors.EncodeError(f"magic + version must fit in 32 bits, got {word!r}")
        return _core.write_header(word, offsets)

    def _sections(self) -> List[Any]:
        """The four sections, each bytes or a flat byte memoryview (so len()
        is its size in bytes)."""
        version, home, data = self.version, self.jobhome, self.jobdata
        # The common cases inline (a Python call costs as much as a small
        # section's copy): an int version, bytes sections.
        if type(version) is not int or not 0 <= version <= 0xFFFF:
            _check_writable_version(version)
        return [encode_section(self.jobdict, "jobdict"), encode_section(self.jobenvs, "jobenvs"),
                home if type(home) is bytes else _as_bytes_like(home, "jobhome"),
                data if type(data) is bytes else _as_bytes_like(data, "jobdata")]

    def _header_for(self, sections: List[Any]) -> bytes:
        d, e, h, a = sections
        o_envs = _core.HEADER_SIZE + len(d)
        o_home = o_envs + len(e)
        o_data = o_home + len(h)
        if o_data + len(a) <= _MAX_PACK:
            # One struct call: a cffi call to jp_layout costs more than the
            # whole header (bench/README.md, "What limits the misses").
            return _HEADER.pack(JobPack.MAGIC | self.version, _core.HEADER_SIZE,
                                o_envs, o_home, o_data)
        return _core.layout(self.version, len(d), len(e), len(h), len(a))  # raises

    def dumps(self) -> bytes:
        """The pack's bytes: exactly what Disco 0.5's ``dumps()`` writes."""
        d, e, h, a = sections = self._sections()
        return b"".join((self._header_for(sections), d, e, h, a))

    def dump(self, target: Union[str, "os.PathLike[str]", BinaryIO]) -> None:
        """Write the pack to a path or to a binary file object, without
        building the whole pack in memory.

        A path that is a regular file, or nothing yet, is written atomically:
        a temporary ``.<name>.XXXXXXXX.jobpack-tmp`` beside it, fsync, then
        rename; an existing file keeps its permission bits (never setuid,
        setgid or sticky).  A FIFO or character device (``/dev/stdout``) is
        written in place.  A symbolic link to a file, a directory, a block
        device or a socket is refused with OSError, nothing written."""
        sections = self._sections()
        parts = [self._header_for(sections)] + sections
        if not isinstance(target, (str, os.PathLike)):
            for part in parts:
                target.write(part)
            return
        _files.write_file(target, lambda fd: _writev_all(fd, parts))

    # -- reading -------------------------------------------------------

    @classmethod
    def offsets(cls, jobfile: Source, **_ignored: Any) -> List[int]:
        """The four section offsets, after the master's header checks."""
        if isinstance(jobfile, (bytes, bytearray, memoryview)):
            header = _core.decode_header(jobfile)
        elif isinstance(jobfile, (str, os.PathLike)):
            fd, size = _files.open_regular(jobfile)
            try:
                header = _core.decode_header(os.read(fd, cls.HEADER_SIZE), size)
            finally:
                os.close(fd)
        else:
            jobfile.seek(0, io.SEEK_END)
            size = jobfile.tell()
            jobfile.seek(0)
            header = _core.decode_header(jobfile.read(cls.HEADER_SIZE), size)
        if not header.ok:
            raise header.error()
        return list(header.offsets)

    @classmethod
    def loads(cls, data, *, master_only: bool = False) -> "JobPack":
        """A pack from a bytes-like object.  Job home and job data stay views
        of ``data`` (memoryviews) until you ask for ``bytes``.

        JSON is read as standard JSON or as the master reads it (see
        ``jobpack.dialect``), so both what the master accepts and what
        Disco's own dumps() writes load (Disco writes lone surrogates such as
        "\\ud800", which the master rejects).  ``master_only`` accepts only
        the master's dialect and versions 1 and 2.  Use ``jobpack.validate``
        for the master's full verdict."""
        buf = _byte_view(data)
        if master_only:
            return cls._loads_master_only(buf)
        header = _checked_header(buf)
        d, e, h, a = header.offsets
        jobdict = decode_section(buf[d:e], "jobdict", d)
        jobenvs = decode_section(buf[e:h], "jobenvs", e)
        return cls(header.version, jobdict, jobenvs, buf[h:a], buf[a:])

    @classmethod
    def _loads_master_only(cls, buf: memoryview) -> "JobPack":
        immutable = type(buf.obj) is bytes
        if immutable:
            # One C call checks the header and scans both JSON sections.
            header, scans = _core.scan_pack(buf)
        else:
            header, scans = _core.decode_header(buf), None
        if not header.ok:
            raise header.error()
        version = header.version
        if version not in SUPPORTED_VERSIONS:
            raise errors.UnsupportedVersionError(
                f"unsupported job pack version {version}: the master reads versions 1 and 2", 2)
        d, e, h, a = header.offsets
        if immutable:
            jobdict = dialect.loads(buf[d:e], name="jobdict", base_offset=d,
                                    scan=_core.json_scan_of(scans[0]))
            jobenvs = dialect.loads(buf[e:h], name="jobenvs", base_offset=e,
                                    scan=_core.json_scan_of(scans[1]))
        else:
            # A buffer another thread may change: scan and decode one copy
            # of each section, so both see the same bytes.
            jobdict = dialect.loads(bytes(buf[d:e]), name="jobdict", base_offset=d)
            jobenvs = dialect.loads(bytes(buf[e:h]), name="jobenvs", base_offset=e)
        return cls(version, jobdict, jobenvs, buf[h:a], buf[a:])

    @classmethod
    def load(cls, jobfile: Source, *, mmap: Optional[bool] = None,
             master_only: bool = False) -> "JobPack":
        """A pack from a path, a binary file object or a bytes-like object."""
        return cls.loads(_read_source(jobfile, mmap), master_only=master_only)

    @classmethod
    def view(cls, source: Source, *, mmap: Optional[bool] = None) -> PackView:
        """A zero-copy, header-checked view of the four raw sections."""
        return PackView.open(source, mmap=mmap)


def _writev_all(fd: int, parts: List[Any]) -> None:
    views = [memoryview(p).cast("B") for p in parts if len(p)]
    while views:
        written = os.writev(fd, views[:512])
        while views and written >= views[0].nbytes:
            written -= views[0].nbytes
            views.pop(0)
        if written:
            views[0] = views[0][written:]
