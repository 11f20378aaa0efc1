"""Valid packs and their parts: what the master (and strict mode) accepts."""
import io
import json
import struct
import zipfile
from typing import Any, Dict, List, Optional, Tuple

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ..pack import JobPack
from ._values import (GROUPINGS, HEADER_SIZE, MAGIC, _KEY_TEXT, _KNOWN_KEYS, _TEXT, _URLS, _PLAIN_URLS, _V1_URLS, _WORKER_PATHS, _json, _portable_prefix, _text)

# -- the parts of a pack ------------------------------------------------

_JOBENVS = st.dictionaries(
    st.one_of(st.sampled_from(["PATH", "LD_LIBRARY_PATH", "PYTHONPATH"]), _KEY_TEXT),
    _text(max_size=20), max_size=4)


def jobenvs() -> st.SearchStrategy[Dict[str, str]]:
    """Job environments: string names to string values."""
    return _JOBENVS


_stage_name = st.one_of(st.sampled_from(["map", "reduce", "map_shuffle", "reduce_shuffle"]),
                        _text(max_size=10))
_STAGES = st.lists(st.builds(lambda n, g, c: [n, g, c], _stage_name,
                             st.sampled_from(GROUPINGS), st.booleans()),
                   min_size=1, max_size=4, unique_by=lambda s: s[0])
_V2_INPUTS = st.lists(st.builds(lambda label, size, urls: [label, size, urls], st.integers(),
                                st.integers(), st.lists(_URLS, max_size=3)), max_size=4)
# A replica the master also takes as a deep list of bytes and binaries
# (Erlang iodata): ["raw://", [104, "ost"], 47].
_BYTE = st.integers(0, 255)
_IODATA = st.lists(st.one_of(_PLAIN_URLS, _BYTE, st.lists(st.one_of(_BYTE, _PLAIN_URLS),
                                                          max_size=2)), max_size=3)
_V1_INPUTS = st.lists(_V1_URLS | st.lists(_V1_URLS | _IODATA, min_size=1, max_size=3),
                      max_size=4)
# save_info as text, or as a list of character codes (an Erlang string),
# which may go on with any codes or nested lists after "ddfs"/"hdfs".
_SAVE_INFO = st.one_of(st.sampled_from(["ddfs", "hdfs"]),
                       st.builds("{}{}".format, st.sampled_from(["ddfs", "hdfs"]), _TEXT),
                       st.builds(lambda head, tail: head + tail,
                                 st.sampled_from([[104, 100, 102, 115], [100, 100, 102, 115]]),
                                 st.lists(st.one_of(st.integers(0, 0x10FFFF),
                                                    st.lists(_BYTE, max_size=2)), max_size=3)))
_EXTRAS = st.dictionaries(_text(max_size=10).filter(lambda k: k not in _KNOWN_KEYS),
                          _json, max_size=3)


def jobdicts(version: Optional[int] = None, *,
             worker: Optional[str] = None) -> st.SearchStrategy[Dict[str, Any]]:
    """Job dicts the master accepts for ``version`` (1, 2, or None for either).

    ``worker`` fixes the worker path; otherwise it is drawn from
    ``worker_paths()``.  The prefix uses only ``[A-Za-z0-9_]``, so strict
    validation is happy too.  Keys come in any order, with a few extra keys
    the master ignores."""
    if version is None:
        return st.one_of(jobdicts(2, worker=worker), jobdicts(1, worker=worker))
    if version not in (1, 2):
        raise InvalidArgument(f"version must be 1, 2 or None, not {version!r}")
    common = {"prefix": _portable_prefix,
              "owner": st.one_of(st.just("alice@host"), _text(max_size=20)),
              "worker": st.just(worker) if worker is not None else _WORKER_PATHS}
    optional = {"save_results": st.booleans(), "save_info": _SAVE_INFO}
    if version == 2:
        scheduler = st.fixed_dictionaries({}, optional={"max_cores": st.integers(1, 2 ** 31)})
        required: Dict[str, st.SearchStrategy[Any]] = {
            **common, "pipeline": _STAGES, "inputs": _V2_INPUTS, "scheduler": scheduler}
    else:
        scheduler = st.fixed_dictionaries({}, optional={
            "max_cores": st.integers(1, 2 ** 31), "force_local": st.booleans(),
            "force_remote": st.booleans()})
        required = {**common, "scheduler": scheduler, "input": _V1_INPUTS,
                    "nr_reduces": st.integers(0, 64)}
        optional = {**optional, "map?": st.booleans(), "reduce?": st.booleans(),
                    "reduce_shuffle?": st.booleans()}
    base = st.fixed_dictionaries(required, optional=optional)

    @st.composite
    def build(draw: st.DrawFn) -> Dict[str, Any]:
        jobdict = draw(base)
        jobdict.update(draw(_EXTRAS))
        order = draw(st.permutations(list(jobdict)))
        return {key: jobdict[key] for key in order}

    return build()


_JOBDICTS = {1: jobdicts(1), 2: jobdicts(2)}

_WORKER_SOURCE = (b"#!/usr/bin/env python\nfrom disco.worker.classic.worker import Worker\n"
                  b"if __name__ == '__main__':\n    Worker.main()\n")
_DOS_EPOCH = (1980, 1, 1, 0, 0, 0)
_METHOD = st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
_WORKER_BODY = st.one_of(st.just(_WORKER_SOURCE), st.binary(max_size=64))
_MODULE_BODY = st.one_of(st.none(), st.binary(max_size=64))   # None: a Python module
_MODULES = st.lists(_WORKER_PATHS, max_size=4)
_COMMENT = st.one_of(st.just(b""), st.binary(max_size=16).filter(lambda c: b"PK" not in c))


def _zip(files: List[Tuple[str, bytes, int, int]], dirs: List[str], comment: bytes = b"",
         zip64: bool = False) -> bytes:
    """A ZIP archive: directory entries, then files (name, content, unix
    mode, method), stamped with the DOS epoch so the bytes are reproducible."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", allowZip64=True) as zf:
        for name in dirs:
            info = zipfile.ZipInfo(name, date_time=_DOS_EPOCH)
            info.create_system = 3
            info.external_attr = (0o40755 << 16) | 0x10
            zf.writestr(info, b"")
        for name, content, mode, method in files:
            info = zipfile.ZipInfo(name, date_time=_DOS_EPOCH)
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = method
            with zf.open(info, "w", force_zip64=zip64) as f:
                f.write(content)
        zf.comment = comment
    return buf.getvalue()


def _parents(path: str) -> List[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _draw_home_files(draw: st.DrawFn, worker: str
                     ) -> Tuple[List[Tuple[str, bytes, int, int]], List[str]]:
    """(files, dirs) of a consistent home: the worker first, no name both a
    file and a directory, no duplicates."""
    files = [(worker, draw(_WORKER_BODY), draw(st.sampled_from([0o100755, 0o100644])),
              draw(_METHOD))]
    taken, dirs_taken = {worker}, set(_parents(worker))
    for name in draw(_MODULES):
        if name in taken or name in dirs_taken or any(p in taken for p in _parents(name)):
            continue
        body = draw(_MODULE_BODY)
        if body is None:
            body = f"# {name}\ndef run(task, data):\n    return data\n".encode("utf-8")
        files.append((name, body, 0o100644, draw(_METHOD)))
        taken.add(name)
        dirs_taken.update(_parents(name))
    dirs = sorted(d + "/" for d in dirs_taken) if draw(st.booleans()) else []
    return files, dirs


def _draw_home(draw: st.DrawFn, worker: str) -> bytes:
    files, dirs = _draw_home_files(draw, worker)
    return _zip(files, dirs, draw(_COMMENT), draw(st.booleans()))


@st.composite
def _jobhome(draw: st.DrawFn, worker: Optional[str]) -> bytes:
    return _draw_home(draw, draw(_WORKER_PATHS) if worker is None else worker)


def jobhomes(worker: Optional[str] = None) -> st.SearchStrategy[bytes]:
    """Job homes: real ZIP archives (stored or deflated, sometimes with
    directory entries, a comment, or ZIP64 local headers) that hold a worker
    file, ``worker`` when given, and a few modules.  Python's ``zipfile``
    reads every one of them, and strict validation finds nothing to say."""
    return _jobhome(worker)


@st.composite
def _jobpack(draw: st.DrawFn, version: Optional[int]) -> JobPack:
    if version is None:
        version = draw(st.sampled_from([2, 1]))
    worker = draw(_WORKER_PATHS)
    home = _draw_home(draw, worker)
    jobdict = draw(_JOBDICTS[version])
    jobdict["worker"] = worker   # keeps the key's place
    return JobPack(version, jobdict, draw(_JOBENVS), home, draw(st.binary(max_size=32)))


_JOBPACKS = {v: _jobpack(v) for v in (None, 1, 2)}


def jobpacks(version: Optional[int] = None) -> st.SearchStrategy[JobPack]:
    """``JobPack`` values the master accepts, version 1 or 2 (None: either),
    whose worker is a file of their job home; ``validate(pack, strict=True)``
    reports nothing."""
    if version not in _JOBPACKS:
        raise InvalidArgument(f"version must be 1, 2 or None, not {version!r}")
    return _JOBPACKS[version]


def _encode(value: Any) -> bytes:
    # Disco's encoding: json.dumps with its defaults.
    return json.dumps(value).encode("ascii")


def _header(version: int, offsets: List[int], magic: int = MAGIC) -> bytes:
    return struct.pack("!IIIII", (magic << 16) | version, *offsets) + bytes(HEADER_SIZE - 20)


def _assemble(version: int, jobdict: bytes, jobenvs_: bytes, home: bytes, data: bytes) -> bytes:
    """A pack from raw sections, laid out as SPEC.md says."""
    offsets, at = [], HEADER_SIZE
    for section in (jobdict, jobenvs_, home):
        offsets.append(at)
        at += len(section)
    offsets.append(at)
    return b"".join([_header(version, offsets), jobdict, jobenvs_, home, data])


def disco_dumps(pack: JobPack) -> bytes:
    """What Disco 0.5's ``JobPack.dumps()`` writes, built from SPEC.md alone
    (so a test can compare another writer, ``JobPack.dumps`` included)."""
    return _assemble(pack.version, _encode(pack.jobdict), _encode(pack.jobenvs),
                     bytes(pack.jobhome), bytes(pack.jobdata))


_PACKED = {v: s.map(disco_dumps) for v, s in _JOBPACKS.items()}


def packed_jobpacks(version: Optional[int] = None) -> st.SearchStrategy[bytes]:
    """The bytes of ``jobpacks(version)``: exactly what Disco 0.5 writes."""
    jobpacks(version)  # checks version
    return _PACKED[version]


