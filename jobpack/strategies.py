"""Hypothesis strategies for Disco job packs: valid, malformed and borderline.

Install with the ``hypothesis`` extra (``pip install jobpack[hypothesis]``).
They are meant for testing *other* job pack readers too (a Disco master, a
client library, a CI gate), so the bytes are built here from the format
(SPEC.md), not with ``JobPack.dumps``:

- ``jobdicts(version)``, ``jobenvs()``, ``jobhomes()``: the parts of a pack;
  ``jobhomes()`` are real ZIP archives holding a worker file and modules;
- ``jobpacks(version)``: ``JobPack`` values the master accepts (and that
  ``jobpack.validate(..., strict=True)`` finds nothing wrong with);
  ``packed_jobpacks(version)``: their bytes, as Disco 0.5's ``dumps()``
  writes them;
- ``malformed_jobpacks(kind)``: ``(bytes, code)`` pairs, packs the master
  rejects, each with the problem code ``jobpack.validate(data)[0].code``
  reports (``MALFORMED_KINDS`` lists the kinds, ``MALFORMED_CODES`` the codes
  of each);
- ``strict_violations(kind)``: ``(bytes, code)`` pairs, packs the master
  accepts but a careful check refuses, labelled with the strict code
  (``STRICT_CODES``).

Each pack has one fault, on top of a valid pack, so a failing test shrinks to
a small pack with that fault and nothing else.

Testing another reader (here a hypothetical ``myreader``)::

    import pytest
    from hypothesis import given
    from jobpack import strategies as jps

    @given(jps.packed_jobpacks())
    def test_reads_what_the_master_accepts(data):
        myreader.parse(data)                     # must not raise

    @given(jps.malformed_jobpacks())
    def test_refuses_what_the_master_refuses(case):
        data, code = case
        with pytest.raises(myreader.Error):
            myreader.parse(data)

    @given(jps.malformed_jobpacks("pipeline"))   # one family only
    def test_explains_bad_pipelines(case):
        data, code = case
        assert "pipeline" in str(myreader.check(data))

    @given(jps.strict_violations())
    def test_ci_gate_refuses_what_strict_mode_refuses(case):
        data, code = case                        # e.g. "zip_path_traversal"
        assert not myreader.gate(data)
"""
import io
import json
import re
import struct
import zipfile
from typing import Any, Dict, Iterable, List, Literal, Optional, Tuple

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .pack import JobPack

__all__ = [
    "jobdicts", "jobenvs", "jobhomes", "jobpacks", "packed_jobpacks",
    "malformed_jobpacks", "strict_violations", "worker_paths", "disco_dumps",
    "MALFORMED_KINDS", "MALFORMED_CODES", "STRICT_CODES", "GROUPINGS",
]

MAGIC = 0xD5C0
HEADER_SIZE = 128
GROUPINGS = ("split", "group_label", "group_all", "group_node", "group_node_label")
_KNOWN_KEYS = ("prefix", "owner", "worker", "save_results", "save_info", "scheduler",
               "pipeline", "inputs", "input", "nr_reduces", "map?", "reduce?",
               "reduce_shuffle?")

# Every strategy object below is built once, at import: Hypothesis validates
# a strategy the first time it draws from it, and building new ones inside
# each draw (``jobdicts(worker=...)`` per pack) made drawing ten times slower.

# -- building blocks ----------------------------------------------------

# Text the master reads back as json.dumps (ensure_ascii) wrote it: no lone
# surrogates and no U+FFFE/U+FFFF, whose \u escapes the master refuses.
_NO_SURROGATES: Tuple[Literal["Cs"]] = ("Cs",)
_chars = st.characters(exclude_categories=_NO_SURROGATES, exclude_characters="\ufffe\uffff")


def _text(min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(_chars, min_size=min_size, max_size=max_size)


_TEXT = _text()
_KEY_TEXT = _text(1)
_scalars = (st.none() | st.booleans() | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False) | _TEXT)
_json = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=3)
                     | st.dictionaries(_text(max_size=6), kids, max_size=3), max_leaves=6)


def _json_except(*types: type) -> st.SearchStrategy[Any]:
    """JSON values of none of ``types`` (bool is not int here, as in Erlang)."""
    def ok(v: Any) -> bool:
        return not any(type(v) is t or (t is not int and isinstance(v, t)) for t in types)
    return _json.filter(ok)


# JSON values of a type other than the one a field wants.  A list is also
# an Erlang string (of character codes), so "not a string" excludes lists.
_not_bool = _json_except(bool)
_not_str = _json_except(str, list)
_not_dict = _json_except(dict)
_not_list = _json_except(list)
_not_int = _json_except(int)
_not_text = _json_except(str)
_not_text_or_list = _json_except(str, list)
_not_iodata_leaf = st.one_of(_json_except(str, list, int), st.integers(256),
                             st.integers(max_value=-1))


def _ascii(alphabet: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    # st.text over a short alphabet: from_regex costs seconds to set up.
    return st.text(st.sampled_from(alphabet), min_size=min_size, max_size=max_size)


_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_portable_prefix = st.one_of(st.sampled_from(["WordCount", "job", "test_1"]),
                             _ascii(_ALNUM + "_", 1, 16))

_segment = st.one_of(
    st.sampled_from(["job", "lib", "worker.py", "modules", "util.py"]),
    st.text(st.sampled_from("abcxyzABC019_-.\u00e9\u6f22"), min_size=1, max_size=10)
    .filter(lambda s: not s.startswith(".")))
_WORKER_PATHS = st.one_of(st.sampled_from(["job/worker.py", "worker", "lib/worker.py"]),
                          st.lists(_segment, min_size=1, max_size=3).map("/".join))


def worker_paths() -> st.SearchStrategy[str]:
    """Safe relative paths for a worker or module: ``job/worker.py``, ``a/b``.

    No absolute paths, ``..``, backslashes, drive letters or dot-files (the
    job home's ``.disco`` folder belongs to Disco)."""
    return _WORKER_PATHS


def _urls(*schemes: str) -> st.SearchStrategy[str]:
    host = st.builds("{}{}{}".format, st.sampled_from("abcdefghxyz"),
                     _ascii(_ALNUM[:26] + "0123456789-", 0, 8),
                     st.one_of(st.just(""), st.integers(1, 65535).map(":{}".format)))
    path = _ascii(_ALNUM + "_./-", 0, 16)
    return st.one_of(st.builds("{}://{}/{}".format, st.sampled_from(schemes), host, path),
                     _text(max_size=20))


_URLS = _urls("raw", "http", "disco", "tag", "hdfs", "file")
_V1_URLS = _urls("raw", "http", "disco", "tag", "dir")
_PLAIN_URLS = _urls("raw", "http")

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
_V1_INPUTS = st.lists(_V1_URLS | st.lists(_V1_URLS, min_size=1, max_size=3), max_size=4)
_SAVE_INFO = st.one_of(st.sampled_from(["ddfs", "hdfs"]),
                       st.builds("{}{}".format, st.sampled_from(["ddfs", "hdfs"]), _TEXT))
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


# -- malformed packs ----------------------------------------------------

MALFORMED_CODES: Dict[str, Tuple[str, ...]] = {
    "header": ("invalid_header",),
    "truncated": ("invalid_header",),
    "json": ("invalid_json", "invalid_utf8"),
    "missing_key": tuple("missing_key:" + k for k in (
        "prefix", "owner", "worker", "pipeline", "inputs", "scheduler", "input",
        "nr_reduces")),
    "wrong_type": ("jobdict_not_object", "jobenvs_not_object", "jobenvs_not_strings",
                   "scheduler_not_object", "invalid_v1_flags"),
    "prefix": ("invalid_prefix", "prefix_not_string"),
    "save_info": ("invalid_job_save_info", "save_info_not_string"),
    "save_results": ("invalid_job_save_results",),
    "pipeline": ("invalid_pipeline",),
    "grouping": ("invalid_grouping",),
    "repeated_stages": ("repeated_pipeline_stages",),
    "inputs": ("invalid_job_inputs", "invalid_v1_input"),
    "version": ("unsupported_version",),
}
MALFORMED_KINDS: Tuple[str, ...] = tuple(MALFORMED_CODES)


class _Base:
    """A valid pack taken apart, to be broken in one place."""

    def __init__(self, pack: JobPack, header_version: int) -> None:
        self.version = pack.version           # the version the jobdict is valid for
        self.header_version = header_version  # the version the header says
        self.jobdict = dict(pack.jobdict)
        self.jobenvs = dict(pack.jobenvs)
        self.home = bytes(pack.jobhome)
        self.data = bytes(pack.jobdata)

    def pack(self, jobdict: Any = None, jobenvs_: Any = None, *,
             raw_jobdict: Optional[bytes] = None, raw_jobenvs: Optional[bytes] = None) -> bytes:
        d = raw_jobdict if raw_jobdict is not None else _encode(
            self.jobdict if jobdict is None else jobdict)
        e = raw_jobenvs if raw_jobenvs is not None else _encode(
            self.jobenvs if jobenvs_ is None else jobenvs_)
        return _assemble(self.header_version, d, e, self.home, self.data)

    def changed(self, key: str, value: Any) -> bytes:
        jobdict = dict(self.jobdict)
        jobdict[key] = value
        return self.pack(jobdict)


@st.composite
def _base_strategy(draw: st.DrawFn, version: Optional[int], any_header_version: bool) -> "_Base":
    pack = draw(_JOBPACKS[version])
    header_version = pack.version
    if any_header_version:
        header_version = draw(st.one_of(st.just(pack.version), st.integers(0, 0xFFFF)))
    return _Base(pack, header_version)


_BASES = {(v, a): _base_strategy(v, a) for v in (None, 1, 2) for a in (False, True)}


def _base(version: Optional[int] = None,
          any_header_version: bool = False) -> "st.SearchStrategy[_Base]":
    """A valid pack to break; with any_header_version, the header may claim
    any version (for faults the master finds before it looks at it)."""
    return _BASES[version, any_header_version]


def _replace_u32(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + struct.pack("!I", value) + data[at + 4:]


_HEADER_FAULTS = st.sampled_from(["magic", "jobdict", "jobenvs", "jobhome", "jobdata",
                                  "past_end", "empty_jobdict"])
_BAD_MAGIC = st.one_of(st.sampled_from([0xC0D5, 0xD4C0, 0]),
                       st.integers(0, 0xFFFF)).filter(lambda m: m != MAGIC)


@st.composite
def _header_faults(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base(any_header_version=True))
    data = b.pack()
    d, e, h, a = struct.unpack("!IIII", data[4:20])
    fault = draw(_HEADER_FAULTS)
    if fault == "magic":
        data = _replace_u32(data, 0, (draw(_BAD_MAGIC) << 16) | b.header_version)
    elif fault == "jobdict":
        offset = draw(st.integers(0, 2 ** 32 - 2))
        data = _replace_u32(data, 4, offset + (offset >= 128))
    elif fault == "jobenvs":
        data = _replace_u32(data, 8, draw(st.integers(0, 128)))
    elif fault == "jobhome":
        data = _replace_u32(data, 12, draw(st.integers(0, e - 1)))
    elif fault == "jobdata":
        data = _replace_u32(data, 16, draw(st.integers(0, h - 1)))
    elif fault == "past_end":
        data = _replace_u32(data, 16, draw(st.integers(len(data) + 1, 2 ** 32 - 1)))
    else:
        data = _assemble(b.header_version, b"", _encode(b.jobenvs), b.home, b.data)
    return data, "invalid_header"


@st.composite
def _truncated(draw: st.DrawFn) -> Tuple[bytes, str]:
    data = draw(_base(any_header_version=True)).pack()
    (jobdata_offset,) = struct.unpack("!I", data[16:20])
    return data[:draw(st.integers(0, jobdata_offset - 1))], "invalid_header"


# Values the master's JSON reader refuses (SPEC.md, "The master's JSON
# dialect"), as they appear in place of a value.
_BAD_VALUES = [
    b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-2.5E+309", b"01", b"-01", b"+1", b".5",
    b"5.", b"-", b"1e", b"1e+", b"True", b"nul", b"'a'", b"undefined", b"0x10", b"[,1]",
    b"[1,,2]", b"{,}", b'{"a" 1}', b'{"a":}', b"[1 2]", b'{"a": 1 "b": 2}', b"/* c */ 1",
    b'"\\ud800"', b'"\\udc00"', b'"\\ufffe"', b'"\\uffff"', b'"\\uzzzz"', b'"\\ud800\\u0041"',
    b'"\\u-123"', b"[1]]", b"{]",
]
# Bytes that are not whitespace to the master (a BOM, form feed, NBSP, ...).
_BAD_WHITESPACE = [b"\x0c", b"\x0b", b"\xc2\xa0", b"\xef\xbb\xbf", b"\x00", b"\xe3\x80\x80", b"\x85"]
# Byte sequences inside a string that are not UTF-8 even by mochijson2's lax rules.
_BAD_UTF8 = st.one_of(
    st.integers(0x80, 0xBF).map(lambda c: bytes([c])),                            # continuation
    st.tuples(st.sampled_from([0xC0, 0xC1]), st.integers(0x80, 0xBF)).map(bytes),  # overlong
    st.integers(0xF5, 0xFF).map(lambda c: bytes([c, 0x80, 0x80, 0x80])),
    st.sampled_from([b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3A", b"\xe2\x28\xa1"]),
)
_JSON_FAULTS = st.one_of(
    st.tuples(st.just("value"), st.sampled_from(_BAD_VALUES)),
    st.tuples(st.just("value"), st.integers(309, 5000).map(lambda e: b"1e%d" % e)),
    st.tuples(st.just("whitespace"), st.sampled_from(_BAD_WHITESPACE), st.integers(0, 2)),
    st.tuples(st.just("trailing"), st.binary(min_size=1, max_size=1).filter(
        lambda c: c not in b" \t\r\n"), st.binary(max_size=8)),
    st.tuples(st.just("unclosed")),
    st.tuples(st.just("empty"), st.sampled_from([b"", b" ", b"\r\n\t "])),
    st.tuples(st.just("utf8"), st.sampled_from([b"", b"a", b"\xc3\xa9"]), _BAD_UTF8,
              st.sampled_from([b"", b"b"])),
    st.tuples(st.just("unclosed_string")),
)


def _break_json(section: bytes, fault: Tuple[Any, ...]) -> Tuple[bytes, str]:
    """A JSON object section broken in one place, with its code."""
    body = section[1:]  # after the opening brace: '}' or '"key": ...}'

    def member(value: bytes) -> bytes:
        return b'{"k": ' + value + (b", " + body if body != b"}" else b"}")

    name = fault[0]
    if name == "value":
        return member(fault[1]), "invalid_json"
    if name == "whitespace":
        ws, where = fault[1], fault[2]
        at = (0, 1, len(section) - 1)[where]
        return section[:at] + ws + section[at:], "invalid_json"
    if name == "trailing":
        return section + fault[1] + fault[2], "invalid_json"
    if name == "unclosed":
        return section[:-1], "invalid_json"
    if name == "empty":
        return fault[1], "invalid_json"
    if name == "utf8":
        return member(b'"' + fault[1] + fault[2] + fault[3] + b'"'), "invalid_utf8"
    # a string still open at the end of the section
    return (section[:-1] + (b", " if body != b"}" else b"") + b'"k": "never closed',
            "invalid_utf8")


@st.composite
def _json_faults(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base(any_header_version=True))
    in_jobenvs = draw(st.booleans())
    broken, code = _break_json(_encode(b.jobenvs if in_jobenvs else b.jobdict), draw(_JSON_FAULTS))
    if in_jobenvs:
        return b.pack(raw_jobenvs=broken), code
    # An empty jobdict is a header fault (its offsets are equal).
    return b.pack(raw_jobdict=broken or b" "), code


_COMMON_KEYS = ("prefix", "owner", "worker")
_REQUIRED = {1: _COMMON_KEYS + ("scheduler", "input", "nr_reduces"),
             2: _COMMON_KEYS + ("pipeline", "inputs", "scheduler")}
_MISSING = st.one_of(*[st.tuples(st.just(v), st.sampled_from(keys))
                       for v, keys in sorted(_REQUIRED.items(), reverse=True)])


@st.composite
def _missing_key(draw: st.DrawFn) -> Tuple[bytes, str]:
    version, key = draw(_MISSING)
    b = draw(_base(version, any_header_version=key in _COMMON_KEYS))
    jobdict = {k: v for k, v in b.jobdict.items() if k != key}
    if key == "prefix" and draw(st.booleans()):
        jobdict = {}
    return b.pack(jobdict), "missing_key:" + key


_WRONG_TYPE = st.sampled_from(["jobdict", "jobenvs", "jobenvs_value", "jobenvs_key",
                               "scheduler", "v1_flag", "v1_shuffle"])
_NONSTRING_KEYS = [b"1", b"null", b"true", b"-2.5e3"]


@st.composite
def _wrong_type(draw: st.DrawFn) -> Tuple[bytes, str]:
    fault = draw(_WRONG_TYPE)
    if fault in ("scheduler", "v1_flag", "v1_shuffle"):
        b = draw(_base(1 if fault.startswith("v1") else None))
    else:
        b = draw(_base(any_header_version=True))
    if fault == "jobdict":
        return b.pack(raw_jobdict=_encode(draw(_not_dict))), "jobdict_not_object"
    if fault == "jobenvs":
        return b.pack(raw_jobenvs=_encode(draw(_not_dict))), "jobenvs_not_object"
    if fault == "jobenvs_value":
        envs = dict(b.jobenvs)
        envs[draw(_KEY_TEXT)] = draw(_not_text)
        return b.pack(jobenvs_=envs), "jobenvs_not_strings"
    if fault == "jobenvs_key":
        key = draw(st.sampled_from(_NONSTRING_KEYS))
        raw = b"{" + key + b': "x"' + (b", " + _encode(b.jobenvs)[1:] if b.jobenvs else b"}")
        return b.pack(raw_jobenvs=raw), "jobenvs_not_strings"
    if fault == "scheduler":
        return b.changed("scheduler", draw(_not_dict)), "scheduler_not_object"
    jobdict = dict(b.jobdict)
    if fault == "v1_flag":
        jobdict[draw(st.sampled_from(["map?", "reduce?"]))] = draw(_not_bool)
    else:
        # reduce_shuffle? matters only with reduce? true and nr_reduces not 1.
        jobdict.update({"reduce?": True, "reduce_shuffle?": draw(_not_bool),
                        "nr_reduces": draw(st.integers(0, 64).filter(lambda n: n != 1))})
    return b.pack(jobdict), "invalid_v1_flags"


_THREE = st.sampled_from(["text", "codes", "type"])
_SLASH_OR_DOT = st.builds("{}{}{}".format, _text(max_size=6), st.sampled_from(["/", "."]),
                          _text(max_size=6))
_SMALL_CODES = st.lists(st.integers(0, 127), max_size=4)


@st.composite
def _bad_prefix(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base(any_header_version=True))
    fault = draw(_THREE)
    if fault == "text":
        return b.changed("prefix", draw(_SLASH_OR_DOT)), "invalid_prefix"
    if fault == "codes":   # a list of character codes, as Erlang strings are
        return b.changed("prefix", _insert(draw(_SMALL_CODES), draw,
                                           draw(st.sampled_from([46, 47])))), "invalid_prefix"
    return b.changed("prefix", draw(_not_str)), "prefix_not_string"


def _good_save_info_codes(codes: List[Any]) -> bool:
    return len(codes) >= 4 and codes[:4] in ([104, 100, 102, 115], [100, 100, 102, 115])


_BAD_SAVE_INFO = st.one_of(
    st.sampled_from(["", "ddf", "s3://bucket/x", "DDFS", " ddfs", "file:///tmp"]),
    _TEXT).filter(lambda s: s.encode("utf-8")[:4] not in (b"ddfs", b"hdfs"))
_BAD_SAVE_INFO_CODES = st.lists(st.integers(0, 200), max_size=6).filter(
    lambda c: not _good_save_info_codes(c))


@st.composite
def _bad_save_info(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base(any_header_version=True))
    fault = draw(_THREE)
    if fault == "text":
        return b.changed("save_info", draw(_BAD_SAVE_INFO)), "invalid_job_save_info"
    if fault == "codes":
        return b.changed("save_info", draw(_BAD_SAVE_INFO_CODES)), "invalid_job_save_info"
    return b.changed("save_info", draw(_not_str)), "save_info_not_string"


_BAD_SAVE_RESULTS = st.one_of(st.sampled_from([None, 0, 1, "true", "false"]), _not_bool)


@st.composite
def _bad_save_results(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base(any_header_version=True))
    return b.changed("save_results", draw(_BAD_SAVE_RESULTS)), "invalid_job_save_results"


def _insert(items: List[Any], draw: st.DrawFn, value: Any) -> List[Any]:
    items = list(items)
    items.insert(draw(st.integers(0, len(items))), value)
    return items


_PIPELINE_FAULTS = st.sampled_from(["not_list", "stage_not_list", "length", "name",
                                    "grouping_type", "concurrent"])


@st.composite
def _bad_pipeline(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base(2))
    fault = draw(_PIPELINE_FAULTS)
    good = ["stage_x", "split", False]
    if fault == "not_list":
        return b.changed("pipeline", draw(_not_list)), "invalid_pipeline"
    if fault == "stage_not_list":
        bad = draw(_not_list)
    elif fault == "length":   # two elements: the third-party shape
        bad = (good + [draw(_json)] * 2)[:draw(st.sampled_from([2, 0, 1, 4, 5]))]
    elif fault == "name":
        bad = [draw(_not_text)] + good[1:]
    elif fault == "grouping_type":
        bad = [good[0], draw(_not_text), False]
    else:
        bad = good[:2] + [draw(_not_bool)]
    return b.changed("pipeline", _insert(b.jobdict["pipeline"], draw, bad)), "invalid_pipeline"


_BAD_GROUPING = st.one_of(
    st.sampled_from(["Split", "group", "group_nodes", "split ", "", "reduce"]),
    _TEXT).filter(lambda g: g not in GROUPINGS)


@st.composite
def _bad_grouping(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base(2))
    stages = [list(s) for s in b.jobdict["pipeline"]]
    stages[draw(st.integers(0, len(stages) - 1))][1] = draw(_BAD_GROUPING)
    return b.changed("pipeline", stages), "invalid_grouping"


@st.composite
def _repeated_stages(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base(2))
    stages = b.jobdict["pipeline"]
    twin = [draw(st.sampled_from([s[0] for s in stages])), draw(st.sampled_from(GROUPINGS)),
            draw(st.booleans())]
    return b.changed("pipeline", _insert(stages, draw, twin)), "repeated_pipeline_stages"


_V1_INPUT_FAULTS = st.sampled_from(["not_list", "item", "replica"])
_V2_INPUT_FAULTS = st.sampled_from(["not_list", "item", "length", "label", "size", "urls", "url"])
_NOT_URL_LIST = st.one_of(_URLS, _not_list)


@st.composite
def _bad_inputs(draw: st.DrawFn) -> Tuple[bytes, str]:
    version = draw(st.sampled_from([2, 1]))
    b = draw(_base(version))
    if version == 1:
        fault = draw(_V1_INPUT_FAULTS)
        if fault == "not_list":
            return b.changed("input", draw(_not_list)), "invalid_v1_input"
        if fault == "item":
            bad = draw(_not_text_or_list)
        else:   # a list of replicas with one that is not iodata
            bad = _insert(draw(st.lists(_PLAIN_URLS, max_size=2)), draw, draw(_not_iodata_leaf))
            if isinstance(bad[0], str) and bad[0].startswith("dir://"):
                bad[0] = "raw://x"   # a dir:// first replica: the master looks no further
        return b.changed("input", _insert(b.jobdict["input"], draw, bad)), "invalid_v1_input"
    fault = draw(_V2_INPUT_FAULTS)
    good = [0, 0, ["raw://x"]]
    if fault == "not_list":
        return b.changed("inputs", draw(_not_list)), "invalid_job_inputs"
    if fault == "item":
        bad = draw(_not_list)
    elif fault == "length":
        bad = (good + [0, 0])[:draw(st.sampled_from([2, 0, 1, 4]))]
    elif fault == "label":
        bad = [draw(_not_int)] + good[1:]
    elif fault == "size":
        bad = [0, draw(_not_int), good[2]]
    elif fault == "urls":
        bad = [0, 0, draw(_NOT_URL_LIST)]
    else:
        bad = [0, 0, _insert(["raw://x"], draw, draw(_not_text))]
    return b.changed("inputs", _insert(b.jobdict["inputs"], draw, bad)), "invalid_job_inputs"


_UNSUPPORTED_VERSION = st.integers(0, 0xFFFF).filter(lambda v: v not in (1, 2))


@st.composite
def _bad_version(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    b.header_version = draw(_UNSUPPORTED_VERSION)
    return b.pack(), "unsupported_version"


_MALFORMED = {
    "header": _header_faults(), "truncated": _truncated(), "json": _json_faults(),
    "missing_key": _missing_key(), "wrong_type": _wrong_type(), "prefix": _bad_prefix(),
    "save_info": _bad_save_info(), "save_results": _bad_save_results(),
    "pipeline": _bad_pipeline(), "grouping": _bad_grouping(),
    "repeated_stages": _repeated_stages(), "inputs": _bad_inputs(), "version": _bad_version(),
}
_ALL_MALFORMED = st.one_of([_MALFORMED[k] for k in MALFORMED_KINDS])


def malformed_jobpacks(kind: Optional[str] = None) -> st.SearchStrategy[Tuple[bytes, str]]:
    """``(bytes, code)``: a pack the master rejects, and the problem code
    that ``jobpack.validate(data)[0].code`` reports for it.

    Each pack is a valid pack with one fault.  ``kind`` (one of
    ``MALFORMED_KINDS``) picks a family; None draws from all of them:

    - ``header``: bad magic, jobdict offset not 128, offsets out of order or
      past the end, empty jobdict -> ``invalid_header``;
    - ``truncated``: cut anywhere before the jobdata -> ``invalid_header``;
    - ``json``: what the master's JSON reader refuses (NaN, 1e400, leading
      zeros, BOM or form feed as whitespace, trailing bytes, bad escapes,
      unclosed values, empty sections) -> ``invalid_json``; invalid UTF-8
      or an unclosed string -> ``invalid_utf8``;
    - ``missing_key``: ``missing_key:<key>``;
    - ``wrong_type``: jobdict or jobenvs not an object, jobenvs values or
      keys not strings, scheduler not an object, version-1 flags not
      booleans;
    - ``prefix``, ``save_info``, ``save_results``, ``pipeline``,
      ``grouping``, ``repeated_stages``, ``inputs``, ``version``: the
      master's own checks of those fields.

    The master's own error kinds are used where it has one
    (``invalid_prefix``, ``invalid_pipeline``, ...); where the master only
    crashes, the code is jobpack's (``jobdict_not_object``, ...).
    ``MALFORMED_CODES[kind]`` lists the codes of a kind."""
    if kind is None:
        return _ALL_MALFORMED
    if kind not in _MALFORMED:
        raise InvalidArgument(f"unknown kind {kind!r}: expected one of {', '.join(MALFORMED_KINDS)}")
    return _MALFORMED[kind]


# -- strict violations --------------------------------------------------

STRICT_CODES: Tuple[str, ...] = (
    "reserved_bytes_nonzero", "json_dialect_only", "duplicate_key", "prefix_not_portable",
    "worker_not_in_home", "worker_path_unsafe", "jobhome_not_zip", "zip_path_traversal",
    "zip_bomb",
)


def _fresh_key(taken: Dict[str, Any], candidates: Iterable[str]) -> str:
    for key in candidates:
        if key not in taken:
            return key
    raise AssertionError("unreachable: more candidates than keys")


@st.composite
def _reserved(draw: st.DrawFn) -> Tuple[bytes, str]:
    data = bytearray(disco_dumps(draw(_JOBPACKS[None])))
    for at in draw(st.lists(st.integers(20, 127), min_size=1, max_size=4, unique=True)):
        data[at] = draw(st.integers(1, 255))
    return bytes(data), "reserved_bytes_nonzero"


# Strings only the master's dialect reads, and the text they decode to.
_ODD_STRINGS = [
    (b'"a\x01b"', "a\x01b"), (b'"\x00"', "\x00"), (b'"tab\there"', "tab\there"),
    (b'"line\nbreak"', "line\nbreak"), (b'"\\x41"', "\\x41"), (b"\"\\'\"", "\\'"),
    (b'"\\a"', "\\a"), (b'"\\u+041"', "A"), (b'"\xed\xa0\x80"', "\udced\udca0\udc80"),
    (b'"\xf4\x90\x80\x80"', "\udcf4\udc90\udc80\udc80"),
    (b'"\xe0\x80\x80"', "\udce0\udc80\udc80"),
    (b'"\xf0\x80\x80\x80"', "\udcf0\udc80\udc80\udc80"),
]
_DIALECT_FORMS = st.sampled_from(["trailing_comma", "odd_value", "odd_key", "nonstring_key"])


@st.composite
def _dialect(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    in_jobenvs = draw(st.booleans())
    target = b.jobenvs if in_jobenvs else b.jobdict
    section = _encode(target)
    form = draw(_DIALECT_FORMS)
    if in_jobenvs and form == "nonstring_key":
        form = "odd_key"   # the master refuses non-string keys in the jobenvs
    fresh = _encode(_fresh_key(target, ("k", "note", "x_" * 8)))
    rest = b", " + section[1:] if section != b"{}" else b"}"
    if form == "trailing_comma":
        if section == b"{}":
            section = b'{"A": "1"}'
        raw = section[:-1] + draw(st.sampled_from([b",", b", ", b",\n"])) + b"}"
    elif form == "odd_value":
        raw = b"{" + fresh + b": " + draw(st.sampled_from(_ODD_STRINGS))[0] + rest
    elif form == "odd_key":
        keys = [raw for raw, text in _ODD_STRINGS if text not in target]
        raw = b"{" + draw(st.sampled_from(keys)) + b': "v"' + rest
    else:
        key = _fresh_key(target, ("1", "null", "true", "false", "-2.5e3", "12345678901234567890"))
        raw = b"{" + key.encode() + b": " + _encode(draw(_json)) + rest
    if in_jobenvs:
        return b.pack(raw_jobenvs=raw), "json_dialect_only"
    return b.pack(raw_jobdict=raw), "json_dialect_only"


def _object(pairs: List[Tuple[str, bytes]]) -> bytes:
    return b"{" + b", ".join(_encode(k) + b": " + v for k, v in pairs) + b"}"


_DUPLICATE_PLACES = st.sampled_from(["jobdict", "scheduler", "jobenvs"])
_LOSER = st.one_of(_json, st.just("a/b"))


@st.composite
def _duplicate(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    where = draw(_DUPLICATE_PLACES)
    if where == "jobenvs":   # the master keeps both pairs
        key = draw(st.one_of(st.sampled_from(list(b.jobenvs) or ["A"]), _KEY_TEXT))
        pairs = [(key, _encode(draw(_TEXT)))] + [(k, _encode(v)) for k, v in b.jobenvs.items()]
        if key not in b.jobenvs:
            pairs.append((key, _encode(draw(_TEXT))))
        return b.pack(raw_jobenvs=_object(pairs)), "duplicate_key"
    if where == "scheduler":   # a nested object
        scheduler = b.jobdict["scheduler"]
        inner = ([("max_cores", _encode(draw(st.integers(1, 64))))]
                 + [(k, _encode(v)) for k, v in scheduler.items()])
        if "max_cores" not in scheduler:
            inner.append(("max_cores", _encode(draw(st.integers(1, 64)))))
        pairs = [(k, _object(inner) if k == "scheduler" else _encode(v))
                 for k, v in b.jobdict.items()]
        return b.pack(raw_jobdict=_object(pairs)), "duplicate_key"
    # The first of two values loses (the master keeps the last), even one
    # the master would refuse.
    key = draw(st.sampled_from(list(b.jobdict)))
    pairs = [(key, _encode(draw(_LOSER)))] + [(k, _encode(v)) for k, v in b.jobdict.items()]
    return b.pack(raw_jobdict=_object(pairs)), "duplicate_key"


_UNPORTABLE = st.one_of(
    st.sampled_from(["", "a-b", "a b", "j\u00f6b", "job\n"]),
    _TEXT.filter(lambda s: not re.fullmatch(r"[A-Za-z0-9_]+", s) and "/" not in s
                 and "." not in s),
    st.lists(st.integers(0, 127).filter(lambda c: c not in (46, 47)), max_size=4))


@st.composite
def _unportable_prefix(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    return b.changed("prefix", draw(_UNPORTABLE)), "prefix_not_portable"


@st.composite
def _worker_not_in_home(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    names = set(zipfile.ZipFile(io.BytesIO(b.home)).namelist())
    if draw(st.booleans()):
        worker = draw(_WORKER_PATHS.filter(lambda w: w not in names))
    else:   # the master takes any JSON value as the worker
        worker = draw(_not_text)
    if draw(st.integers(0, 3)) == 0:
        b.home = b""     # an empty job home is an empty archive
    return b.changed("worker", worker), "worker_not_in_home"


_UNSAFE_WORKER = st.one_of(
    st.builds("../{}".format, _WORKER_PATHS), st.builds("/{}".format, _WORKER_PATHS),
    st.builds("{}/../../{}".format, _WORKER_PATHS, _WORKER_PATHS),
    st.builds("{}:{}".format, st.sampled_from("CcZ"), _WORKER_PATHS),
    st.builds("\\{}".format, _WORKER_PATHS), st.just("..\\..\\evil"))


@st.composite
def _worker_path_unsafe(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    return b.changed("worker", draw(_UNSAFE_WORKER)), "worker_path_unsafe"


_NOT_ZIP_FAULTS = st.sampled_from(["junk", "cut", "cd_size", "cd_signature"])
_JUNK = st.one_of(st.sampled_from([b"not a zip", b"\x1f\x8b\x08\x00gzip", b"PK"]),
                  st.binary(min_size=1, max_size=64))


@st.composite
def _not_zip(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    fault = draw(_NOT_ZIP_FAULTS)
    home = b.home
    if fault == "junk":
        home = draw(_JUNK)
    elif fault == "cut":
        home = home[:draw(st.integers(1, len(home) - 1))]
    elif home.count(b"PK\x05\x06") == 1:
        eocd = home.rindex(b"PK\x05\x06")
        cd_offset, = struct.unpack("<I", home[eocd + 16:eocd + 20])
        if fault == "cd_size":   # the directory runs past the end record
            size = eocd - cd_offset + draw(st.integers(1, 1000))
            home = home[:eocd + 12] + struct.pack("<I", size) + home[eocd + 16:]
        else:                    # the first directory entry's signature is wrong
            home = home[:cd_offset] + b"PK\x01\x03" + home[cd_offset + 4:]
    else:
        home = b"not a zip"
    if fault in ("junk", "cut"):   # no end record left anywhere
        home = home.replace(b"PK\x05\x06", b"PK\x05\x07")
    b.home = home
    return b.pack(), "jobhome_not_zip"


_TRAVERSAL_NAMES = st.one_of(
    st.sampled_from(["../../etc/cron.d/x", "/etc/passwd", "C:/x", "a\\b", "..\\x", "../"]),
    st.builds("../{}".format, _WORKER_PATHS), st.builds("/{}".format, _WORKER_PATHS),
    st.builds("{}/../../{}".format, _WORKER_PATHS, _WORKER_PATHS))


@st.composite
def _traversal(draw: st.DrawFn) -> Tuple[bytes, str]:
    b = draw(_base())
    files, dirs = _draw_home_files(draw, b.jobdict["worker"])
    files = _insert(files, draw, (draw(_TRAVERSAL_NAMES), b"x", 0o100644, zipfile.ZIP_STORED))
    b.home = _zip(files, dirs)
    return b.pack(), "zip_path_traversal"


@st.composite
def _bomb(draw: st.DrawFn) -> Tuple[bytes, str]:
    """A home whose directory declares more than 64 MiB (the strict floor)
    and more than 100 times its size: one entry's uncompressed size lies."""
    b = draw(_base())
    home = bytearray(b.home)
    eocd = home.rindex(b"PK\x05\x06")
    count, = struct.unpack("<H", home[eocd + 10:eocd + 12])
    cd_offset, = struct.unpack("<I", home[eocd + 16:eocd + 20])
    pos = cd_offset
    for _ in range(draw(st.integers(0, count - 1))):
        pos += 46 + sum(struct.unpack("<HHH", home[pos + 28:pos + 34]))
    home[pos + 24:pos + 28] = struct.pack("<I", draw(st.integers((64 << 20) + 1, 0xFFFFFFFE)))
    b.home = bytes(home)
    return b.pack(), "zip_bomb"


_STRICT = {
    "reserved_bytes_nonzero": _reserved(), "json_dialect_only": _dialect(),
    "duplicate_key": _duplicate(), "prefix_not_portable": _unportable_prefix(),
    "worker_not_in_home": _worker_not_in_home(), "worker_path_unsafe": _worker_path_unsafe(),
    "jobhome_not_zip": _not_zip(), "zip_path_traversal": _traversal(), "zip_bomb": _bomb(),
}
_ALL_STRICT = st.one_of([_STRICT[k] for k in STRICT_CODES])


def strict_violations(kind: Optional[str] = None) -> st.SearchStrategy[Tuple[bytes, str]]:
    """``(bytes, code)``: a pack the master accepts that
    ``jobpack.validate(data, strict=True)`` rejects with exactly ``code``
    (one of ``STRICT_CODES``; ``kind`` picks one, None draws from all):
    non-zero reserved header bytes, JSON only the master's dialect reads
    (trailing commas, raw control characters, odd escapes, non-string keys,
    lax UTF-8), duplicate keys, a non-portable prefix, a worker that is not
    in the job home or points outside it, a job home that is not a ZIP
    archive, ZIP entries that climb out of the job's directory, and a zip
    bomb.  Each is a valid pack with that one fault.

    Two shapes that third-party clients write are not here, because the
    master rejects them: a two-element pipeline stage and a string
    scheduler (``malformed_jobpacks("pipeline")`` and ``("wrong_type")``
    produce them; strict mode explains them)."""
    if kind is None:
        return _ALL_STRICT
    if kind not in _STRICT:
        raise InvalidArgument(f"unknown kind {kind!r}: expected one of {', '.join(STRICT_CODES)}")
    return _STRICT[kind]
