"""Plain-Python baselines that bench/run.py measures jobpack against.

Every codec here writes exactly the bytes Disco 0.5 writes (run.py checks that
before it times anything), so the only difference is how.

- ``DiscoPack``: Disco 0.5's ``disco.job.JobPack``, as shipped: the header
  from ``struct.pack`` plus ``b"\\0"`` padding, then ``header +
  b"".join(fields)`` (two copies of the payload); reading goes through
  ``PackedJobPack``, which re-reads and re-checks the header and seeks for
  every section.
- ``BestPack``: the best plain-Python codec we could write: one ``struct``
  call for the whole 128-byte header, one copy of the payload, a reusable
  JSON encoder, ``mmap`` for large files, the master's header checks; its
  ``dump`` is atomic like ``JobPack.dump`` (new file, fsync, rename).
- ``floor_*``: the physical floors: one ``b"".join`` of the sections for
  ``dumps``; ``os.writev`` of the sections (in place, ``O_TRUNC``) for a
  file; reading the 20 header bytes for ``load``.
"""
import json
import mmap
import os
import struct
from typing import Any, Dict, List, Sequence, Tuple

HEADER_SIZE = 128
MAGIC = 0xD5C0 << 16
MMAP_THRESHOLD = 1 << 20  # the same rule as jobpack.pack.MMAP_THRESHOLD

# ---------------------------------------------------------------------------
# Disco 0.5 (lib/disco/job.py), with the version as a parameter, since this
# project writes version 1 and 2 packs.


class DiscoPack:
    """disco.job.JobPack (Disco 0.5): two copies of the payload on dumps()."""

    MAGIC = MAGIC
    HEADER_FORMAT = "!IIIII"
    HEADER_SIZE = HEADER_SIZE

    def __init__(self, version: int, jobdict: Any, jobenvs: Any, jobhome: bytes, jobdata: bytes):
        self.version = version
        self.jobdict = jobdict
        self.jobenvs = jobenvs
        self.jobhome = jobhome
        self.jobdata = jobdata

    @classmethod
    def header(cls, offsets, magic=MAGIC, format=HEADER_FORMAT, size=HEADER_SIZE):
        from struct import pack
        toc = pack(format, magic, *(o for o in offsets))
        return toc + b"\0" * (size - len(toc))

    def contents(self, offset=HEADER_SIZE):
        cont = []
        for field in (json.dumps(self.jobdict).encode(),
                      json.dumps(self.jobenvs).encode(),
                      self.jobhome,
                      self.jobdata):
            cont.append((offset, field))
            offset += len(field)
        return cont

    def dumps(self) -> bytes:
        offsets, fields = zip(*self.contents())
        return self.header(offsets, magic=self.MAGIC + self.version) + b"".join(fields)

    def dump(self, path: str, fsync: bool = True) -> None:
        """Disco had no dump(): clients wrote dumps() (a whole-pack buffer)."""
        with open(path, "wb") as f:
            f.write(self.dumps())
            if fsync:
                f.flush()
                os.fsync(f.fileno())

    @classmethod
    def offsets(cls, jobfile, format=HEADER_FORMAT, size=HEADER_SIZE):
        from struct import calcsize, unpack
        jobfile.seek(0)
        header = [i for i in unpack(format, jobfile.read(calcsize(format)))]
        assert header[0] >> 16 == cls.MAGIC >> 16, "Invalid jobpack magic."
        assert header[1] == size, "Invalid jobpack header."
        assert header[1:] == sorted(header[1:]), "Invalid jobpack offsets."
        return header[1:]

    @classmethod
    def load(cls, jobfile) -> "PackedJobPack":
        return PackedJobPack(jobfile)

    @classmethod
    def load_path(cls, path: str) -> Tuple[Any, Any, bytes, bytes]:
        """What a Disco worker does with a pack file: open it and read the
        four sections through PackedJobPack."""
        with open(path, "rb") as f:
            pack = cls.load(f)
            return pack.jobdict, pack.jobenvs, pack.jobhome, pack.jobdata


class PackedJobPack(DiscoPack):
    """disco.job.PackedJobPack: every section re-reads the header and seeks."""

    def __init__(self, jobfile):
        self.jobfile = jobfile

    @property
    def jobdict(self):
        dict_offset, envs_offset, home_offset, data_offset = self.offsets(self.jobfile)
        self.jobfile.seek(dict_offset)
        return json.loads(self.jobfile.read(envs_offset - dict_offset).decode())

    @property
    def jobenvs(self):
        dict_offset, envs_offset, home_offset, data_offset = self.offsets(self.jobfile)
        self.jobfile.seek(envs_offset)
        return json.loads(self.jobfile.read(home_offset - envs_offset).decode())

    @property
    def jobhome(self):
        dict_offset, envs_offset, home_offset, data_offset = self.offsets(self.jobfile)
        self.jobfile.seek(home_offset)
        return self.jobfile.read(data_offset - home_offset)

    @property
    def jobdata(self):
        dict_offset, envs_offset, home_offset, data_offset = self.offsets(self.jobfile)
        self.jobfile.seek(data_offset)
        return self.jobfile.read()


# ---------------------------------------------------------------------------
# The best plain-Python codec.

_HEADER = struct.Struct("!IIIII108x")   # the whole 128-byte header in one call
_FIELDS = struct.Struct("!IIIII")
_ENCODE = json.JSONEncoder(allow_nan=False).encode  # built once, like json.dumps' default
_LIMIT = 0xFFFFFFFF


class BestPack:
    """One struct call per header, one copy of the payload, the master's
    header checks on load, mmap for large files."""

    __slots__ = ("version", "jobdict", "jobenvs", "jobhome", "jobdata")

    def __init__(self, version: int, jobdict: Any, jobenvs: Any, jobhome: Any, jobdata: Any):
        self.version = version
        self.jobdict = jobdict
        self.jobenvs = jobenvs
        self.jobhome = jobhome
        self.jobdata = jobdata

    def _parts(self) -> List[Any]:
        version = self.version
        if type(version) is not int or not 0 <= version <= 0xFFFF:
            raise ValueError(f"version {version!r} does not fit in 16 bits")
        d = _ENCODE(self.jobdict).encode("ascii")
        e = _ENCODE(self.jobenvs).encode("ascii")
        home, data = self.jobhome, self.jobdata
        o_envs = HEADER_SIZE + len(d)
        o_home = o_envs + len(e)
        o_data = o_home + len(home)
        if o_data + len(data) > _LIMIT:
            raise ValueError("a pack must be under 4 GiB")
        return [_HEADER.pack(MAGIC | version, HEADER_SIZE, o_envs, o_home, o_data), d, e, home, data]

    def dumps(self) -> bytes:
        return b"".join(self._parts())

    def dump(self, path: str, fsync: bool = True) -> None:
        """What JobPack.dump(path) promises, in plain Python: os.writev of
        the five parts (no whole-pack buffer) to a new file beside the
        target, fsync, then rename over the target (atomic replace)."""
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            writev_all(fd, self._parts())
            if fsync:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        os.replace(tmp, path)

    @staticmethod
    def decode_header(buf, pack_len: int) -> Tuple[int, int, int, int, int]:
        """struct.unpack_from plus the master's header checks, in its order."""
        if len(buf) < 20 or pack_len < 20:
            raise ValueError("header: fewer than 20 bytes")
        word, d, e, h, a = _FIELDS.unpack_from(buf)
        if word >> 16 != 0xD5C0:
            raise ValueError("header: bad magic")
        if d != HEADER_SIZE:
            raise ValueError("header: jobdict offset is not 128")
        if e <= d:
            raise ValueError("header: jobenvs offset before jobdict")
        if h < e:
            raise ValueError("header: jobhome offset before jobenvs")
        if a < h:
            raise ValueError("header: jobdata offset before jobhome")
        if pack_len < a:
            raise ValueError("header: pack shorter than its jobdata offset")
        return word & 0xFFFF, d, e, h, a

    @classmethod
    def loads(cls, data) -> "BestPack":
        version, d, e, h, a = cls.decode_header(data, len(data))
        view = memoryview(data)
        jobdict = json.loads(bytes(view[d:e]))
        jobenvs = json.loads(bytes(view[e:h]))
        return cls(version, jobdict, jobenvs, view[h:a], view[a:])

    @classmethod
    def load(cls, path: str) -> "BestPack":
        # Unbuffered: a BufferedReader (and its 8 KiB buffer) buys nothing
        # for one whole-file read.
        with open(path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            if size >= MMAP_THRESHOLD:
                data = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
            else:
                data = f.readall()
        return cls.loads(data)


# ---------------------------------------------------------------------------
# Physical floors.


def floor_dumps(header: bytes, jobdict: Any, jobenvs: Any, jobhome: Any, jobdata: Any) -> bytes:
    """The JSON sections must be encoded; then one b"".join copies the payload
    once.  The header is given (computed outside the timing)."""
    return b"".join([header, _ENCODE(jobdict).encode("ascii"), _ENCODE(jobenvs).encode("ascii"),
                     jobhome, jobdata])


def floor_dumps_join(parts: Sequence[Any]) -> bytes:
    """The bare copy: one b"".join of sections that are already encoded."""
    return b"".join(parts)


def writev_all(fd: int, parts: Sequence[Any]) -> None:
    views = [memoryview(p).cast("B") for p in parts if len(p)]
    while views:
        written = os.writev(fd, views[:512])
        while views and written >= views[0].nbytes:
            written -= views[0].nbytes
            views.pop(0)
        if written:
            views[0] = views[0][written:]


def floor_dump(path: str, parts: Sequence[Any], fsync: bool = True) -> None:
    """open, os.writev of the already-encoded parts, (fsync), close."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        writev_all(fd, parts)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def floor_load(path: str) -> bytes:
    """Open the file and read the 20 header bytes: nothing less can load it."""
    with open(path, "rb", buffering=0) as f:
        return f.read(20)


def example_jobdict(n_inputs: int = 2, pad: int = 0) -> Dict[str, Any]:
    """A version-2 jobdict like a classic worker's (about 350 bytes with two
    inputs; ``n_inputs`` and ``pad`` make it larger)."""
    return {
        "prefix": "WordCount",
        "owner": "alice@host1",
        "worker": "lib/disco/worker/classic/worker.py",
        "pipeline": [["map", "split", False], ["reduce", "group_all", False]],
        "inputs": [[0, 0, [f"http://discoproject.org/media/text/chekhov{i}.txt",
                           f"ddfs://data/chekhov/{i:06d}"]] for i in range(n_inputs)],
        "scheduler": {"max_cores": 16, "force_local": False, "force_remote": False},
        "save_results": False,
        "save_info": "ddfs",
        "comment": "x" * pad,
    }


EXAMPLE_JOBENVS = {"LD_LIBRARY_PATH": "lib", "PYTHONPATH": "lib:lib/site-packages"}
