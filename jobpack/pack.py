"""JobPack: the Disco job pack, a drop-in for Disco 0.5's, byte-identical.

Reading never copies more than it must: ``PackView`` is a header-checked,
zero-copy view of a pack's four raw sections; ``JobPack.load`` decodes the
two JSON sections and copies the job home and job data out as bytes only
when they are read (``zero_copy=True``: memoryviews, never copied).

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
from typing import (TYPE_CHECKING, Any, BinaryIO, Dict, Iterable, List, Optional, Tuple, Union,
                    cast, overload)

from . import _core, _files, dialect, errors
from ._json import decode_pack, decode_section, encode_section
from ._record import record

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ._native import CData

__all__ = ["JobPack", "PackView", "VERSION1", "VERSION2", "MMAP_THRESHOLD"]

VERSION1 = 1
VERSION2 = 2
SUPPORTED_VERSIONS = (VERSION1, VERSION2)
MMAP_THRESHOLD = 1 << 20
_HEADER = struct.Struct("!IIIII108x")  # magic|version and the four offsets, zero padded
_MAX_PACK = 0xFFFFFFFF  # offsets are 32-bit: jp_layout refuses larger packs

# What load(), view() and offsets() read: a path, a binary file object or
# any bytes-like object (bytes, bytearray, memoryview, mmap, array...).
Source = Union[str, "os.PathLike[str]", BinaryIO, "Buffer"]


def _read_source(source: Source, use_mmap: Optional[bool]) -> "Buffer":
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
        return _read_file(cast(BinaryIO, source), use_mmap)
    try:
        return memoryview(source)
    except TypeError:
        raise TypeError(f"cannot read a job pack from {type(source).__name__}: pass a path, "
                        f"a binary file object or a bytes-like object") from None


def _maps(size: int, use_mmap: Optional[bool]) -> bool:
    return bool(size) and bool(use_mmap or (use_mmap is None and size >= MMAP_THRESHOLD))


def _read_file(f: BinaryIO, use_mmap: Optional[bool]) -> "Buffer":
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
    def from_buffer(cls, data: "Buffer") -> "PackView":
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


def _byte_view(data: "Buffer") -> memoryview:
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
        raise errors.EncodeTypeError(f"{name} must be bytes, not str: encode it first")
    try:
        view = memoryview(value)
    except TypeError:
        raise errors.EncodeTypeError(f"{name} must be bytes-like, not {type(value).__name__}") from None
    if not view.c_contiguous:
        return view.tobytes()  # a strided view: its bytes, in order
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


# Disco's header defaults (JobPack's class attributes).
_MAGIC = 0xD5C0 << 16
_HEADER_FORMAT = "!IIIII"
_HEADER_SIZE = _core.HEADER_SIZE


class _Unread:
    """A loaded section not yet copied out of the pack's buffer (read-only:
    bytes or a read-only map), so loading stays O(1) in the section's size."""

    __slots__ = ("view",)

    def __init__(self, view: memoryview):
        self.view = view


class _SectionField:
    """``jobhome`` and ``jobdata``: any bytes-like value is accepted; a
    loaded pack gives bytes (copied on first read) or, with zero_copy,
    memoryviews; otherwise what was assigned."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self.slot = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    @overload
    def __get__(self, obj: None, owner: type) -> "_SectionField": ...
    @overload
    def __get__(self, obj: "JobPack", owner: type) -> Any: ...

    def __get__(self, obj: "Optional[JobPack]", owner: type) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.slot]
        if type(value) is _Unread:
            # First read: the bytes Disco gave, copied once, and the view
            # dropped (so a fully read pack no longer pins a mapped file).
            value = obj.__dict__[self.slot] = value.view.tobytes()
        return value

    def __set__(self, obj: "JobPack", value: "Buffer") -> None:
        obj.__dict__[self.slot] = value


def _raw(value: Any) -> Any:
    """A section as stored: the value, or an unread section's view."""
    return value.view if type(value) is _Unread else value


class JobPack:
    """A Disco job pack: ``JobPack(version, jobdict, jobenvs, jobhome, jobdata)``.

    A drop-in for ``disco.job.JobPack``: the same constructor, ``dumps()``,
    ``contents()``, ``load()``, ``header()``, ``offsets()`` and class
    attributes, and the same bytes.  A loaded pack keeps its version and
    re-dumps to the same bytes when it was written by ``dumps()``.

    A loaded pack's ``jobhome`` and ``jobdata`` are ``bytes``, as Disco's
    were, copied out of the pack on first access (so ``load`` costs the same
    for 1 MiB or 1 GiB, and ``dumps``/``dump`` of an unread section copy
    nothing); ``zero_copy=True`` makes them memoryviews of the input instead.
    ``==`` compares values; ``hash`` agrees with it, using only the version
    and the section sizes (so mutating ``jobdict`` does not lose a pack in a
    set); pickling and ``copy.deepcopy`` give bytes sections."""

    jobhome = _SectionField("the job home (a ZIP archive), bytes-like")
    jobdata = _SectionField("the job data, bytes-like")

    def __init__(self, version: int, jobdict: Dict[str, Any], jobenvs: Dict[str, str],
                 jobhome: "Buffer" = b"", jobdata: "Buffer" = b"") -> None:
        self.version = version
        self.jobdict = jobdict
        self.jobenvs = jobenvs
        self._jobhome: "Union[Buffer, _Unread]" = jobhome
        self._jobdata: "Union[Buffer, _Unread]" = jobdata

    @classmethod
    def _loaded(cls, version: int, jobdict: Dict[str, Any], jobenvs: Dict[str, str],
                home: memoryview, data: memoryview, zero_copy: bool) -> "JobPack":
        pack = cls.__new__(cls)
        pack.version, pack.jobdict, pack.jobenvs = version, jobdict, jobenvs
        if zero_copy:
            pack._jobhome, pack._jobdata = home, data
        elif home.readonly:
            pack._jobhome, pack._jobdata = _Unread(home), _Unread(data)
        else:
            # A writable buffer (bytearray...) may change or be resized by its
            # owner: copy now rather than pin it and read it later.
            pack._jobhome, pack._jobdata = home.tobytes(), data.tobytes()
        return pack

    def _fields(self) -> Tuple[int, Dict[str, Any], Dict[str, str], Any, Any]:
        return (self.version, self.jobdict, self.jobenvs,
                _raw(self._jobhome), _raw(self._jobdata))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JobPack):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        # Consistent with ==, from what a pack rarely changes after it is
        # built: a dict or set keyed by packs survives edits to jobdict.
        _, _, _, home, data = self._fields()
        return hash((self.version, _nbytes(home), _nbytes(data)))

    def __repr__(self) -> str:
        _, _, _, home, data = self._fields()
        return (f"{type(self).__name__}(version={self.version!r}, jobdict={self.jobdict!r}, "
                f"jobenvs={self.jobenvs!r}, jobhome=<{_nbytes(home)} bytes>, "
                f"jobdata=<{_nbytes(data)} bytes>)")

    def __reduce__(self) -> Tuple[Any, ...]:
        # Sections as bytes (a memoryview cannot be pickled); any attributes
        # a caller added travel as state.
        state = {k: v for k, v in self.__dict__.items() if k not in _FIELD_SLOTS}
        return (type(self), (self.version, self.jobdict, self.jobenvs,
                             _as_bytes(self.jobhome), _as_bytes(self.jobdata)), state or None)

    MAGIC = _MAGIC
    MAGIC_MASK = 0xFFFF << 16
    VERSION = VERSION1
    HEADER_FORMAT = _HEADER_FORMAT
    HEADER_SIZE = _HEADER_SIZE

    # -- writing -------------------------------------------------------

    @classmethod
    def header(cls, offsets: Iterable[int], magic: int = MAGIC, version: int = VERSION,
               format: str = HEADER_FORMAT, size: int = HEADER_SIZE) -> bytes:
        """Any header, valid or not (for tests and fuzzers): as Disco's,
        ``struct.pack(format, magic + version, *offsets)`` padded with zero
        bytes to ``size`` (never cut).  A field the format cannot hold raises
        HeaderFieldError (a ``struct.error``), a non-integer EncodeTypeError."""
        offsets = list(offsets)
        if not all(type(o) is int for o in offsets) or type(magic) is not int \
                or type(version) is not int:
            raise errors.EncodeTypeError(
                f"header fields must be int: magic {magic!r}, version {version!r}, "
                f"offsets {offsets!r}")
        word = magic + version
        if format == _HEADER_FORMAT and size == _HEADER_SIZE:
            if len(offsets) != 4 or not all(0 <= o <= 0xFFFFFFFF for o in offsets):
                raise errors.HeaderFieldError(
                    f"a header holds four offsets from 0 to 2**32-1, got {offsets!r}")
            if not 0 <= word <= 0xFFFFFFFF:
                raise errors.HeaderFieldError(f"magic + version must fit in 32 bits, got {word!r}")
            return _core.write_header(word, offsets)
        try:
            toc = struct.pack(format, word, *offsets)
        except struct.error as e:
            raise errors.HeaderFieldError(
                f"header format {format!r} cannot hold magic + version {word!r} and offsets "
                f"{offsets!r}: {e}") from None
        return toc + bytes(max(0, size - len(toc)))

    def contents(self, offset: int = HEADER_SIZE) -> List[Tuple[int, Any]]:
        """``[(offset, section), ...]`` for the four sections, as Disco's:
        the encoded jobdict and jobenvs, then jobhome and jobdata, each with
        its offset when the first starts at ``offset``."""
        result = []
        for section in (encode_section(self.jobdict, "jobdict"),
                        encode_section(self.jobenvs, "jobenvs"), self.jobhome, self.jobdata):
            result.append((offset, section))
            offset += _nbytes(section)
        return result

    def _sections(self) -> List[Any]:
        """The four sections, each bytes or a flat byte memoryview (so len()
        is its size in bytes)."""
        # The stored sections (an unread one as its view: nothing is copied).
        version, home, data = self.version, self._jobhome, self._jobdata
        # The common cases inline (a Python call costs as much as a small
        # section's copy): an int version, bytes sections.
        if type(version) is not int or not 0 <= version <= 0xFFFF:
            _check_writable_version(version)
        return [encode_section(self.jobdict, "jobdict"), encode_section(self.jobenvs, "jobenvs"),
                home if type(home) is bytes else _as_bytes_like(_raw(home), "jobhome"),
                data if type(data) is bytes else _as_bytes_like(_raw(data), "jobdata")]

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
        a temporary ``.<name>.XXXXXXXX.jobpack-tmp`` beside it, its whole
        length reserved first on Linux (tmpfs excepted: a full disk fails
        before a byte is written),
        fsync, then rename; an existing file keeps its permission bits (never setuid,
        setgid or sticky).  A FIFO or character device (``/dev/stdout``) is
        written in place.  A symbolic link to a file, a directory, a block
        device or a socket is refused with OSError, nothing written."""
        sections = self._sections()
        parts = [self._header_for(sections)] + sections
        if not isinstance(target, (str, os.PathLike)):
            for part in parts:
                target.write(part)
            return
        _files.write_file(target, lambda fd: _writev_all(fd, parts),
                          sum(len(part) for part in parts))

    # -- reading -------------------------------------------------------

    @classmethod
    def offsets(cls, jobfile: Source, magic: int = MAGIC, format: str = HEADER_FORMAT,
                size: int = HEADER_SIZE) -> List[int]:
        """The section offsets of a pack (a path, binary file or bytes-like).

        With the default arguments, after the master's header checks.  With
        others, Disco's checks on ``struct.unpack(format, ...)`` of the
        header: ``word & MAGIC_MASK == magic``, the first offset is ``size``,
        the offsets never decrease.  A failed check raises BadMagicError or
        BadOffsetsError (both ``AssertionError``s, as Disco's), a header
        shorter than the format TruncatedError (a ``struct.error``)."""
        if (magic, format, size) != (_MAGIC, _HEADER_FORMAT, _HEADER_SIZE):
            return _disco_offsets(jobfile, magic, format, size)
        if isinstance(jobfile, (bytes, bytearray, memoryview)):
            header = _core.decode_header(jobfile)
        elif isinstance(jobfile, (str, os.PathLike)):
            fd, size = _files.open_regular(jobfile)
            try:
                header = _core.decode_header(os.read(fd, cls.HEADER_SIZE), size)
            finally:
                os.close(fd)
        else:
            stream = cast(BinaryIO, jobfile)
            stream.seek(0, io.SEEK_END)
            length = stream.tell()
            stream.seek(0)
            header = _core.decode_header(stream.read(cls.HEADER_SIZE), length)
        if not header.ok:
            raise header.error()
        return list(header.offsets)

    @classmethod
    def loads(cls, data: "Buffer", *, master_only: bool = False,
              zero_copy: bool = False) -> "JobPack":
        """A pack from a bytes-like object.  Job home and job data are bytes,
        copied from a read-only ``data`` on first access; ``zero_copy=True``
        makes them memoryviews of ``data`` instead.  The header is checked
        and the JSON decoded here, so errors come from loads(), never later.

        JSON is read as standard JSON or as the master reads it (see
        ``jobpack.dialect``), so both what the master accepts and what
        Disco's own dumps() writes load (Disco writes lone surrogates such as
        "\\ud800", which the master rejects).  ``master_only`` accepts only
        the master's dialect and versions 1 and 2.  Use ``jobpack.validate``
        for the master's full verdict."""
        if type(data) is bytes and not master_only:
            # Immutable: checked and decoded in place, header and float
            # checks in one C call.
            header, jobdict, jobenvs = decode_pack(data)
            _, _, h, a = header.offsets
            buf = memoryview(data)
            return cls._loaded(header.version, jobdict, jobenvs, buf[h:a], buf[a:], zero_copy)
        buf = _byte_view(data)
        if master_only:
            return cls._loads_master_only(buf, zero_copy)
        header = _checked_header(buf)
        d, e, h, a = header.offsets
        jobdict = decode_section(buf[d:e], "jobdict", d)
        jobenvs = decode_section(buf[e:h], "jobenvs", e)
        return cls._loaded(header.version, jobdict, jobenvs, buf[h:a], buf[a:], zero_copy)

    @classmethod
    def _loads_master_only(cls, buf: memoryview, zero_copy: bool) -> "JobPack":
        immutable = type(buf.obj) is bytes
        scans: "Optional[CData]" = None
        if immutable:
            # One C call checks the header and scans both JSON sections.
            header, scans = _core.scan_pack(buf)
        else:
            header = _core.decode_header(buf)
        if not header.ok:
            raise header.error()
        version = header.version
        if version not in SUPPORTED_VERSIONS:
            raise errors.UnsupportedVersionError(
                f"unsupported job pack version {version}: the master reads versions 1 and 2", 2)
        d, e, h, a = header.offsets
        if scans is not None:
            jobdict = dialect.loads(buf[d:e], name="jobdict", base_offset=d,
                                    scan=_core.json_scan_of(scans[0]))
            jobenvs = dialect.loads(buf[e:h], name="jobenvs", base_offset=e,
                                    scan=_core.json_scan_of(scans[1]))
        else:
            # A buffer another thread may change: scan and decode one copy
            # of each section, so both see the same bytes.
            jobdict = dialect.loads(bytes(buf[d:e]), name="jobdict", base_offset=d)
            jobenvs = dialect.loads(bytes(buf[e:h]), name="jobenvs", base_offset=e)
        return cls._loaded(version, jobdict, jobenvs, buf[h:a], buf[a:], zero_copy)

    @classmethod
    def load(cls, jobfile: Source, *, mmap: Optional[bool] = None, master_only: bool = False,
             zero_copy: bool = False) -> "JobPack":
        """A pack from a path, a binary file object or a bytes-like object
        (see ``loads``).  Unlike Disco's, which checked nothing until a field
        was read, a bad pack raises here."""
        return cls.loads(_read_source(jobfile, mmap), master_only=master_only,
                         zero_copy=zero_copy)

    @classmethod
    def view(cls, source: Source, *, mmap: Optional[bool] = None) -> PackView:
        """A zero-copy, header-checked view of the four raw sections."""
        return PackView.open(source, mmap=mmap)


_FIELD_SLOTS = ("version", "jobdict", "jobenvs", "_jobhome", "_jobdata")


def _nbytes(section: Any) -> int:
    try:
        return memoryview(section).nbytes
    except TypeError:
        return len(section)  # not bytes-like: dumps() will say so


def _as_bytes(section: Any) -> Any:
    """A bytes-like section as bytes (anything else as it is)."""
    if type(section) is bytes:
        return section
    try:
        return memoryview(section).tobytes()
    except TypeError:
        return section


def _disco_offsets(jobfile: Source, magic: int, format: str, size: int) -> List[int]:
    """offsets() with a non-default magic, format or size: Disco's checks."""
    try:
        need = struct.calcsize(format)
    except (struct.error, TypeError) as e:
        raise errors.HeaderFieldError(f"invalid header format {format!r}: {e}") from None
    head = _read_head(jobfile, need)
    if len(head) < need:
        raise errors.TruncatedError(
            f"the pack has {len(head)} bytes, fewer than the {need} of header format {format!r}",
            len(head))
    word, *offsets = struct.unpack(format, head)
    if word & JobPack.MAGIC_MASK != magic:
        raise errors.BadMagicError(f"invalid job pack magic: found 0x{word:08x}, expected "
                                   f"0x{magic:08x} in the top 16 bits", 0)
    if not offsets or offsets[0] != size:
        raise errors.BadOffsetsError(f"invalid job pack header: the first offset is "
                                     f"{offsets[0] if offsets else None}, expected {size}", 4)
    if offsets != sorted(offsets):
        raise errors.BadOffsetsError(f"invalid job pack offsets: {offsets} decrease", 4)
    return offsets


def _read_head(jobfile: Source, n: int) -> bytes:
    """The first n bytes (or fewer) of a path, binary file or bytes-like."""
    if isinstance(jobfile, (str, os.PathLike)):
        fd, _ = _files.open_regular(jobfile)
        try:
            return os.read(fd, n)
        finally:
            os.close(fd)
    if hasattr(jobfile, "read"):
        stream = cast(BinaryIO, jobfile)
        stream.seek(0)
        return bytes(stream.read(n))
    return _byte_view(jobfile)[:n].tobytes()


def _writev_all(fd: int, parts: List[Any]) -> None:
    views = [memoryview(p).cast("B") for p in parts if len(p)]
    while views:
        written = _write_some(fd, views[:512])
        while views and written >= views[0].nbytes:
            written -= views[0].nbytes
            views.pop(0)
        if written:
            views[0] = views[0][written:]


def _write_some(fd: int, views: List[memoryview]) -> int:
    """One os.writev, or one os.write of the first buffer where the platform
    has no writev (PyPy): the bytes written, which may be fewer than given."""
    writev = getattr(os, "writev", None)
    return writev(fd, views) if writev is not None else os.write(fd, views[0])
