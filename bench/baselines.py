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
import re
import mmap
import os
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple

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


def floor_replace(path: str, parts: Sequence[Any]) -> None:
    """The floor of an atomic, durable dump: a new file beside the target,
    its length reserved (posix_fallocate: one allocation), os.writev of the
    already-encoded parts, fsync, close, rename over the target."""
    tmp = f"{path}.{os.getpid()}.floor-tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.posix_fallocate(fd, 0, sum(len(p) for p in parts))
        writev_all(fd, parts)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


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


# ---------------------------------------------------------------------------
# A plain-Python validator: the master's checks (jobpack:valid/1 and the
# parts of jobinfo/1 that can fail), in the master's order, written the way
# a Disco user would with struct and json.  It answers the first problem's
# code, or None when the master accepts the pack; tests/test_bench_baselines.py
# checks that it agrees with jobpack.validate on every vector.


class _Rejected(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (_INF, -_INF):
        raise ValueError("1e400 is not a double")
    return value


_INF = float("inf")
_JSON = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite)
_JSON_PAIRS = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite,
                               object_pairs_hook=list)
# Escapes Python's json reads but the master does not: lone surrogates, U+FFFE/U+FFFF.
_ODD_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|[fF]{3}[eEfF])")
_GROUPINGS = ("split", "group_label", "group_all", "group_node", "group_node_label")


def _plain_json(raw: bytes, pairs: bool) -> Any:
    """Standard JSON through Python's json, with the master's refusals on
    top (NaN, 1e400, lone surrogate escapes).  What json cannot read at all
    (the master's dialect: trailing commas, invalid UTF-8 it lets through,
    deep nesting, huge ints) has no plain-Python reader: this baseline then
    borrows jobpack.dialect, so it still agrees with the master.  The packs
    bench/run.py times never take that path (it checks)."""
    try:
        text = raw.decode("utf-8")
        if "\\u" in text and _ODD_ESCAPE.search(text):
            raise ValueError("escape the master may refuse")
        return (_JSON_PAIRS if pairs else _JSON).decode(text)
    except (ValueError, RecursionError):
        pass
    from jobpack import dialect, errors
    global DIALECT_FALLBACKS
    DIALECT_FALLBACKS += 1
    try:
        value = dialect.loads(raw, pairs=pairs)
    except errors.JSONDecodeError as e:
        raise _Rejected("invalid_utf8" if e.status == "JP_ERR_JSON_UTF8" else "invalid_json")
    if pairs and raw.lstrip(b" \t\r\n").startswith(b"{"):
        from jobpack import _core
        if _core.scan_json(raw).features & _core.lib.JP_JSON_NONSTRING_KEY:
            raise _Rejected("jobenvs_not_strings")  # dialect.loads made them strings
    return value


DIALECT_FALLBACKS = 0  # how often _plain_json needed jobpack.dialect


def _is_int(x: Any) -> bool:
    return type(x) is int or type(x).__name__ == "HugeInt"


def _is_bool(x: Any) -> bool:
    return x is True or x is False


def _leaves(x: list) -> int:
    n, stack = 0, [x]
    while stack:
        for item in stack.pop():
            if isinstance(item, list):
                stack.append(item)
            else:
                n += 1
    return n


def _iodata(x: Any) -> bool:
    if isinstance(x, str):
        return True
    if not isinstance(x, list):
        return False
    stack = [x]
    while stack:
        for item in stack.pop():
            if isinstance(item, list):
                stack.append(item)
            elif not (isinstance(item, str) or (type(item) is int and 0 <= item <= 255)):
                return False
    return True


def _need(d: Dict[str, Any], key: str) -> Any:
    if key not in d:
        raise _Rejected(f"missing_key:{key}")
    return d[key]


def _plain_checks(data: bytes) -> None:
    n = len(data)
    if n < 20:
        raise _Rejected("invalid_header")
    word, d, e, h, a = _FIELDS.unpack_from(data)
    if word >> 16 != 0xD5C0 or d != HEADER_SIZE or e <= d or h < e or a < h or n < a:
        raise _Rejected("invalid_header")
    jobdict = _plain_json(data[d:e], False)
    if not isinstance(jobdict, dict):
        raise _Rejected("jobdict_not_object")
    prefix = _need(jobdict, "prefix")
    save_results = jobdict.get("save_results", False)
    save_info = jobdict.get("save_info", "ddfs")
    envs_raw = data[e:h]
    jobenvs = _plain_json(envs_raw, True)
    if not isinstance(jobenvs, list) or not envs_raw.lstrip(b" \t\r\n").startswith(b"{"):
        raise _Rejected("jobenvs_not_object")
    for key, value in jobenvs:
        if not (isinstance(key, str) and isinstance(value, str)):
            raise _Rejected("jobenvs_not_strings")
    _need(jobdict, "owner")
    _need(jobdict, "worker")
    if not _is_bool(save_results):
        raise _Rejected("invalid_job_save_results")
    if isinstance(save_info, str):
        ok = save_info.encode("utf-8", "surrogateescape")[:4] in (b"hdfs", b"ddfs")
    elif isinstance(save_info, list):
        ok = _leaves(save_info) >= 4 and save_info[:4] in ([104, 100, 102, 115], [100, 100, 102, 115])
    else:
        raise _Rejected("save_info_not_string")
    if not ok:
        raise _Rejected("invalid_job_save_info")
    if isinstance(prefix, str):
        bad = "/" in prefix or "." in prefix
    elif isinstance(prefix, list):
        bad = any(type(c) is int and c in (46, 47) for c in prefix)
    else:
        raise _Rejected("prefix_not_string")
    if bad:
        raise _Rejected("invalid_prefix")
    version = word & 0xFFFF
    if version == 1:
        _plain_v1(jobdict)
    elif version == 2:
        _plain_v2(jobdict)
    else:
        raise _Rejected("unsupported_version")


def _scheduler_ok(jobdict: Dict[str, Any]) -> None:
    if not isinstance(_need(jobdict, "scheduler"), dict):
        raise _Rejected("scheduler_not_object")


def _plain_v1(jobdict: Dict[str, Any]) -> None:
    _scheduler_ok(jobdict)
    inputs = _need(jobdict, "input")
    nr_reduces = _need(jobdict, "nr_reduces")
    if not isinstance(inputs, list):
        raise _Rejected("invalid_v1_input")
    for item in inputs:
        if isinstance(item, str) and item.encode("utf-8", "surrogateescape").startswith(b"dir://"):
            continue
        if (isinstance(item, list) and item and isinstance(item[0], str)
                and item[0].encode("utf-8", "surrogateescape").startswith(b"dir://")):
            continue
        replicas = [item] if isinstance(item, str) else item
        if not isinstance(replicas, list) or not all(_iodata(r) for r in replicas):
            raise _Rejected("invalid_v1_input")
    map_, reduce = jobdict.get("map?", False), jobdict.get("reduce?", False)
    if not (_is_bool(map_) and _is_bool(reduce)):
        raise _Rejected("invalid_v1_flags")
    if reduce and not (type(nr_reduces) is int and nr_reduces == 1):
        if not _is_bool(jobdict.get("reduce_shuffle?", False)):
            raise _Rejected("invalid_v1_flags")


def _plain_v2(jobdict: Dict[str, Any]) -> None:
    pipeline = _need(jobdict, "pipeline")
    inputs = _need(jobdict, "inputs")
    _scheduler_ok(jobdict)
    if not isinstance(pipeline, list):
        raise _Rejected("invalid_pipeline")
    for stage in pipeline:
        if not (isinstance(stage, list) and len(stage) == 3 and isinstance(stage[0], str)
                and isinstance(stage[1], str) and _is_bool(stage[2])):
            raise _Rejected("invalid_pipeline")
    names = [stage[0] for stage in pipeline]
    if len(set(names)) != len(names):
        raise _Rejected("repeated_pipeline_stages")
    for stage in pipeline:
        if stage[1] not in _GROUPINGS:
            raise _Rejected("invalid_grouping")
    if not isinstance(inputs, list):
        raise _Rejected("invalid_job_inputs")
    for item in inputs:
        if not (isinstance(item, list) and len(item) == 3 and _is_int(item[0])
                and _is_int(item[1]) and isinstance(item[2], list)
                and all(isinstance(u, str) for u in item[2])):
            raise _Rejected("invalid_job_inputs")


def plain_validate(data: bytes) -> Optional[str]:
    """The code of the problem the master reports, or None if it accepts."""
    try:
        _plain_checks(data)
    except _Rejected as r:
        return r.args[0]
    return None


# ---------------------------------------------------------------------------
# Jobdicts of the shapes people load: the smallest valid one, grown with a
# "params" list of one kind to about a target size.

KINDS = ("string", "int", "float", "nested")


def minimal_jobdict() -> Dict[str, Any]:
    """The smallest version-2 jobdict the master accepts (about 100 bytes)."""
    return {"prefix": "W", "owner": "a@h", "worker": "w.py",
            "pipeline": [["map", "split", False]], "inputs": [], "scheduler": {}}


def _kind_item(kind: str, i: int, rnd: Any) -> Any:
    if kind == "string":
        return f"http://node{i % 97:02d}.example.org/data/part-{i:06d}.txt"
    if kind == "int":
        return rnd.choice((rnd.randrange(100), rnd.randrange(1 << 20), rnd.randrange(-(1 << 62), 1 << 62)))
    if kind == "float":
        return rnd.choice((rnd.random(), rnd.uniform(-1e6, 1e6), rnd.random() * 10 ** rnd.randrange(-30, 30)))
    return {"id": i, "tags": ["a", "b"], "cfg": {"w": [i, {"x": i * 0.5, "y": [True, None]}],
                                                   "name": f"n{i}"}}


def kind_jobdict(kind: str, size: int) -> Dict[str, Any]:
    """A valid jobdict whose JSON is about ``size`` bytes (at least the
    minimal one), its bulk a "params" list of ``kind`` items."""
    import random
    rnd = random.Random(11)
    jobdict = minimal_jobdict()
    params: List[Any] = []
    jobdict["params"] = params
    base = len(_ENCODE(jobdict))
    if base >= size:
        params.append(_kind_item(kind, 0, rnd))
        return jobdict
    per_item = len(_ENCODE(_kind_item(kind, 1, random.Random(1)))) + 2
    while True:
        have = len(_ENCODE(jobdict))
        if have >= size:
            return jobdict
        for _ in range(max(1, (size - have) // per_item // 2)):
            params.append(_kind_item(kind, len(params), rnd))
