"""Will the Disco master accept this pack, and if not, why?

``validate(pack)`` replays the master's ``jobpack:valid/1`` and ``jobinfo/1``
(master/src/jobpack.erl) check by check, in the master's order, so its first
problem is the one the master reports.  Where the master only crashes on a
bad payload, the code is one of ours (``jobdict_not_object``, ...); where it
has a word of its own, the code is that word (``invalid_prefix``, ...).

``validate(pack, strict=True)`` adds what the master lets through and fails
on later (or is harmful), each marked ``beyond_master``.

``jobinfo(pack)`` is what the master derives from a pack it accepts.

Erlang's view of JSON values, used throughout: a JSON string is a binary
(Python ``str``), an array is a list, which Erlang string functions also
take as a string of character codes, ``true``/``false``/``null`` are atoms.
"""
import json
import mmap
import re
import sys
from typing import Any, Dict, List, Optional, Set, Tuple, Union, cast

from . import _core, dialect, errors, home
from ._native import lib
from ._json import _DEFAULT_RECURSION_LIMIT, _utf_8_decode
from .dialect import WHITESPACE, scanner_of
from ._describe import describe as _describe
from ._record import record
from .home.scan import BOMB_FLOOR as _BOMB_FLOOR, scan_for_worker, too_much
from .pack import JobPack, Source, _read_source

__all__ = ["Problem", "validate", "jobinfo", "MasterRejection"]

DEFAULT_MAX_CORES = 1 << 31
GROUPINGS = ("split", "group_label", "group_all", "group_node", "group_node_label")
PORTABLE_PREFIX = re.compile(r"[A-Za-z0-9_]+\Z")
_HOST = re.compile(rb"[a-zA-Z0-9]+://([^/:]*)")
_DRIVE = re.compile(r"[A-Za-z]:")


@record(frozen=True)
class Problem:
    """One thing wrong with a pack."""

    code: str
    message: str
    offset: Optional[int] = None
    beyond_master: bool = False

    def __init__(self, code: str, message: str, offset: Optional[int] = None,
                 beyond_master: bool = False):
        object.__setattr__(self, "__dict__", {"code": code, "message": message,
                                              "offset": offset, "beyond_master": beyond_master})

    def __str__(self) -> str:
        where = "" if self.offset is None else f" at byte {self.offset}"
        extra = " [strict]" if self.beyond_master else ""
        return f"{self.code}{where}: {self.message}{extra}"


class MasterRejection(errors.JobPackError):
    """The master rejects the pack; ``problem`` says why."""

    def __init__(self, problem: Problem):
        super().__init__(f"the master rejects this pack: {problem.code}: {problem.message}",
                         problem.offset)
        self.problem = problem


class _Reject(Exception):
    """Internal: the master stops here."""

    def __init__(self, code: str, message: str, offset: Optional[int] = None,
                 beyond_master: bool = False):
        # (args is set by Exception.__new__: no super().__init__ call to pay)
        self.problem = Problem(code, message, offset, beyond_master)


# -- Erlang's view of values ------------------------------------------

def _is_int(x: Any) -> bool:
    return (type(x) is int) or isinstance(x, dialect.HugeInt)


def _is_bool(x: Any) -> bool:
    return x is True or x is False


def _binary(s: str) -> bytes:
    """The master's bytes for a decoded string."""
    return s.encode("utf-8", "surrogateescape")


def _flatlength(x: List[Any]) -> int:
    """lists:flatlength/1: leaves of a deep list."""
    count, stack = 0, [x]
    while stack:
        for item in stack.pop():
            if isinstance(item, list):
                stack.append(item)
            else:
                count += 1
    return count


def _is_iodata(x: Any) -> bool:
    """What re:run/3 takes as subject without crashing: a binary, or a deep
    list of bytes (0..255) and binaries."""
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


def _iodata_bytes(x: Any) -> bytes:
    if isinstance(x, str):
        return _binary(x)
    out = bytearray()
    stack = [iter(x)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out += _binary(item) if isinstance(item, str) else bytes([item])
        else:
            stack.pop()
    return bytes(out)


def preferred_host(url: Any) -> Optional[str]:
    """disco:preferred_host/1: the host of scheme://host..., or None."""
    m = _HOST.match(_iodata_bytes(url))
    return m.group(1).decode("utf-8", "surrogateescape") if m else None


def _byte_string(x: Any) -> Any:
    """The master's value of a field it reads as a string (prefix,
    save_info), in the library's convention.

    The master keeps a JSON string as the list of its UTF-8 bytes, and a
    JSON array of integers as that list, so ``"\u00e9"`` and ``[195, 169]``
    are one value (bytes C3 A9), and ``[233]`` is the byte E9: a flat list
    of integers 0-255 becomes the str whose surrogateescape encoding is
    those bytes, as a JSON string already is.  Any other list (codes above
    255 such as ``[1000, 2000]`` or ``[55296]``, nested lists, non-integers)
    is not a byte string and stays a list, so equal master values are equal
    Python values and unequal ones are not."""
    if isinstance(x, list) and all(type(c) is int and 0 <= c <= 255 for c in x):
        return bytes(x).decode("utf-8", "surrogateescape")
    return x


# -- the master, step by step -----------------------------------------

# A JSON section as the master reads it: (value, features, feature_offset,
# is_object, duplicate).  features: the JP_JSON_* bits of the core's scan (0
# on the fast path); is_object: the top-level value is an object; duplicate:
# a key is repeated in one object (None: not checked).  A plain tuple: a
# NamedTuple costs more to build than the checks it serves.
_Decoded = Tuple[Any, int, int, bool, Optional[bool]]


class _Pack:
    """A pack as the master reads it, each section decoded once, lazily, in
    the master's order.  ``data`` is bytes or a flat byte memoryview."""

    __slots__ = ("data", "header", "offsets", "strict", "repeated", "decoded", "tried")

    def __init__(self, data: Any, header: _core.Header, strict: bool = False,
                 repeated: Optional[bool] = None):
        self.data = data
        self.header = header
        self.offsets = header.offsets
        self.strict = strict
        # Strict: whether the jobdict repeats a key, if the C pass could
        # tell (it holds if Python's json reads the jobdict; else None).
        self.repeated = repeated
        self.decoded: List[Optional[_Decoded]] = [None, None]
        # Whether the master's checks decoded section i: tried and not
        # decoded is refused (the strict checks do not decode it again: its
        # scan and error text cost more than the rest of the pack).
        self.tried = [False, False]

    def section(self, i: int) -> Any:
        bounds = self.offsets + (len(self.data),)
        return self.data[bounds[i]:bounds[i + 1]]

    def json(self, i: int) -> _Decoded:
        """Section i (0 jobdict, 1 jobenvs) decoded, or _Reject."""
        done = self.decoded[i]
        if done is None:
            offsets = self.offsets
            done = self.decoded[i] = _decode(self.data[offsets[i]:offsets[i + 1]], i,
                                             offsets[i], self.strict and i == 0, self.repeated)
        return done

    def jobdict(self) -> Dict[str, Any]:
        # json(0) inlined: a Python call costs more than the checks around it.
        done = self.decoded[0]
        if done is None:
            offsets = self.offsets
            self.tried[0] = True
            done = self.decoded[0] = _decode(self.data[offsets[0]:offsets[1]], 0, offsets[0],
                                             self.strict, self.repeated)
        value = done[0]
        if type(value) is not dict:
            raise _Reject("jobdict_not_object",
                          f"the jobdict must be a JSON object, found {type(value).__name__}",
                          self.offsets[0])
        return value

    def jobenvs(self) -> List[Tuple[str, str]]:
        done = self.decoded[1]
        if done is None:  # json(1) inlined
            offsets = self.offsets
            self.tried[1] = True
            done = self.decoded[1] = _decode(self.data[offsets[1]:offsets[2]], 1, offsets[1],
                                             False, None)
        pairs, features, feature_offset, is_object, _ = done
        if not is_object:
            raise _Reject("jobenvs_not_object",
                          f"the jobenvs must be a JSON object of strings, found {_describe(pairs)}",
                          self.offsets[1])
        if features & lib.JP_JSON_NONSTRING_KEY:
            raise _Reject("jobenvs_not_strings", "jobenvs keys must be strings",
                          self.offsets[1] + feature_offset)
        for key, value in pairs:
            if type(value) is not str:
                raise _Reject("jobenvs_not_strings",
                              f"jobenvs value of {key!r} must be a string, found {_describe(value)}",
                              self.offsets[1])
        return pairs  # type: ignore[no-any-return]  # (typing.cast is a call)


_NAMES = ("jobdict", "jobenvs")


def _decode(section: Union[bytes, memoryview], i: int, base: int, note_duplicates: bool,
            repeated: Optional[bool]) -> _Decoded:
    """Section i as the master reads it; with note_duplicates, also whether
    an object repeats a key (``repeated``: the C pass's answer, if any).

    Fast path: standard JSON that Python's json reads exactly as the master
    does, with the master's refusals on top (NaN, 1e400, lone surrogate and
    U+FFFE escapes).  Everything else (the master's dialect, invalid UTF-8,
    deep nesting, long integers, errors) goes to the C core's scan and
    jobpack.dialect, which decide."""
    # Python's json goes first only where it can neither overflow the C stack
    # (a recursion limit of at most CPython's default makes it raise
    # RecursionError first) nor convert an integer longer than MAX_INT_DIGITS
    # digits in quadratic time (a section too short to hold one, or a digit
    # limit that refuses one, cheaply: the CLI lifts the limit).
    if (len(section) <= _MAX_INT_DIGITS
            or 0 < dialect.int_max_str_digits() <= _MAX_INT_DIGITS) and (
            sys.getrecursionlimit() <= _DEFAULT_RECURSION_LIMIT):
        # JSONDecoder.decode inlined: its scanner called directly, with the
        # same whitespace rule around the value (decode and raw_decode cost
        # two Python calls and two regex matches a section).
        try:
            # (_utf_8_decode for a view: see jobpack._json.)
            text = (section.decode("utf-8") if type(section) is bytes
                    else _utf_8_decode(section, "strict", True)[0])
            if "\\u" in text and _REFUSED_ESCAPE.search(text):
                raise ValueError("an escape the master may refuse")
            start = 0 if text[:1] == "{" else _WHITESPACE(text).end()
            duplicate = None
            if i:  # the jobenvs: pairs, in file order
                value, end = _PAIRS_SCAN(text, start)
            elif note_duplicates:
                value, end = _SCAN(text, start)
                duplicate = repeated  # the C pass's, exact for JSON that _SCAN reads
                if duplicate is None:  # it could not tell: Python's json notes them
                    try:
                        _NOTING_SCAN(text, start)
                        duplicate = False
                    except _DuplicateKey:
                        duplicate = True
            else:
                value, end = _SCAN(text, start)
            if end != len(text) and _WHITESPACE(text, end).end() != len(text):
                raise ValueError("extra data after the value")
            if i:
                return value, 0, 0, text[start] == "{", None
            return value, 0, 0, type(value) is dict, duplicate
        except (ValueError, RecursionError, StopIteration):  # StopIteration: no value
            pass
    scan = _core.scan_json(section)
    duplicate = None
    try:
        if note_duplicates:  # as on the fast path, in this one decode
            try:
                value = dialect.loads(section, name=_NAMES[i], base_offset=base, scan=scan,
                                      object_pairs_hook=_dict_refusing_duplicates)
                duplicate = False
            except _DuplicateKey:
                value = dialect.decode(section, scan)
                duplicate = True
        else:
            value = dialect.loads(section, name=_NAMES[i], base_offset=base, pairs=i == 1,
                                  scan=scan)
    except errors.JSONDecodeError as e:
        if e.status == "JP_ERR_JSON_TOO_DEEP":  # the master might read it: we stop
            raise _Reject("json_too_deep", f"{e.message}; not checked further (the "
                          f"master would decode it, at great cost)", e.offset, True) from None
        code = "invalid_utf8" if e.status == "JP_ERR_JSON_UTF8" else "invalid_json"
        raise _Reject(code, e.message, e.offset) from None
    return (value, scan.features, scan.feature_offset, scan.top_type == lib.JP_JSON_OBJECT,
            duplicate)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON the master reads")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (_INF, -_INF):
        raise ValueError(f"{text} overflows a double")
    return value


class _DuplicateKey(Exception):
    """Internal: an object repeats a key (not a ValueError: the section is
    valid JSON, decoded again without the check)."""


def _dict_refusing_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    # Raises rather than noting the find in shared state: no thread-local to
    # reset and read around each decode.
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _DuplicateKey
    return value


_INF = float("inf")
_DIALECT_ONLY = _core.DIALECT_ONLY
_MAX_INT_DIGITS = dialect.MAX_INT_DIGITS
_OK = lib.JP_OK

_REFUSED_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|[fF]{3}[eEfF])")
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
_PAIRS_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float,
                                  object_pairs_hook=list)
_NOTING_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float,
                                   object_pairs_hook=_dict_refusing_duplicates)
_SCAN = scanner_of(_DECODER)
_PAIRS_SCAN = scanner_of(_PAIRS_DECODER)
_NOTING_SCAN = scanner_of(_NOTING_DECODER)
_WHITESPACE = WHITESPACE


def _find(d: Dict[str, Any], key: str) -> Any:
    if key not in d:
        raise _missing(key)
    return d[key]


def _missing(key: str) -> "_Reject":
    return _Reject(f"missing_key:{key}", f"the jobdict has no {key!r}")


def _check_save_info(value: Any) -> Any:
    """validate_save_info/1: at least 4 characters, starting hdfs or ddfs."""
    if isinstance(value, str):
        raw = _binary(value)
        ok = len(raw) >= 4 and raw[:4] in (b"hdfs", b"ddfs")
    elif isinstance(value, list):
        head = value[:4]
        ok = (_flatlength(value) >= 4 and all(type(c) is int for c in head)
              and head in ([104, 100, 102, 115], [100, 100, 102, 115]))
    else:
        raise _Reject("save_info_not_string",
                      f"save_info must be a string starting with 'ddfs' or 'hdfs', "
                      f"found {_describe(value)}")
    if not ok:
        raise _Reject("invalid_job_save_info",
                      f"save_info must start with 'ddfs' or 'hdfs', found {_describe(value)}")
    return _byte_string(value)


def _check_prefix(value: Any) -> Any:
    """validate_prefix/1: neither '/' nor '.' (as bytes, or list elements)."""
    if isinstance(value, str):
        bad = "/" in value or "." in value
    elif isinstance(value, list):
        bad = any(type(c) is int and c in (46, 47) for c in value)
    else:
        raise _Reject("prefix_not_string",
                      f"prefix must be a string, found {_describe(value)}")
    if bad:
        raise _Reject("invalid_prefix",
                      f"prefix must contain neither '/' nor '.', found {_describe(value)}")
    return _byte_string(value)


def _check_pipeline(pipeline: Any) -> List[Any]:
    """validate_pipeline/1: [[stage, grouping, concurrent], ...], unique stages."""
    if not isinstance(pipeline, list):
        raise _Reject("invalid_pipeline", f"pipeline must be a list, found {_describe(pipeline)}")
    for stage in pipeline:
        if (type(stage) is list and len(stage) == 3 and type(stage[0]) is str
                and type(stage[1]) is str and (stage[2] is True or stage[2] is False)):
            continue  # the common case; below, which part is wrong
        if not isinstance(stage, list):
            raise _Reject("invalid_pipeline",
                          f"each pipeline stage must be a list, found {_describe(stage)}")
        if len(stage) != 3:
            hint = " (add the concurrent flag: [name, grouping, false])" if len(stage) == 2 else ""
            raise _Reject("invalid_pipeline",
                          f"each pipeline stage must be [name, grouping, concurrent], "
                          f"found {_describe(stage)}{hint}")
        for item, ok, what in ((stage[0], isinstance(stage[0], str), "name string"),
                               (stage[1], isinstance(stage[1], str), "grouping string"),
                               (stage[2], _is_bool(stage[2]), "concurrent boolean")):
            if not ok:
                raise _Reject("invalid_pipeline",
                              f"pipeline stage {_describe(stage)}: {what} expected, "
                              f"found {_describe(item)}")
    names = {stage[0] for stage in pipeline}
    if len(names) != len(pipeline):
        raise _Reject("repeated_pipeline_stages",
                      f"pipeline stage names must be unique, "
                      f"found {_describe([stage[0] for stage in pipeline])}")
    for stage in pipeline:
        if stage[1] not in GROUPINGS:
            raise _Reject("invalid_grouping",
                          f"invalid grouping {stage[1]!r}: expected one of {', '.join(GROUPINGS)}")
    return pipeline


def _check_inputs(inputs: Any) -> List[Any]:
    """validate_inputs/1: [[label, size_hint, [url, ...]], ...]."""
    if not isinstance(inputs, list):
        raise _bad_inputs(inputs)
    for item in inputs:
        if not (isinstance(item, list) and len(item) == 3 and _is_int(item[0])
                and _is_int(item[1]) and isinstance(item[2], list)
                and all(isinstance(u, str) for u in item[2])):
            raise _bad_inputs(item)
    return inputs


def _bad_inputs(found: Any) -> "_Reject":
    return _Reject("invalid_job_inputs",
                   f"inputs must be a list of [label:int, size_hint:int, [url, ...]], "
                   f"found {_describe(found)}")


def _inputs_info(inputs: List[Any]) -> List[Dict[str, Any]]:
    """The #task_input{}s jobinfo/1 derives from checked version-2 inputs."""
    return [{"id": i, "type": "data", "label": label, "size": size,
             "replicas": [[u, preferred_host(u)] for u in urls]}
            for i, (label, size, urls) in enumerate(inputs)]


def _is_dir_url(x: Any) -> bool:
    return isinstance(x, str) and _binary(x).startswith(b"dir://")


def _check_v1_input(item: Any) -> None:
    """What task_input/1 needs of a version-1 input (_Reject where the master crashes)."""
    if _is_dir_url(item) or (isinstance(item, list) and item and _is_dir_url(item[0])):
        return
    replicas = [item] if isinstance(item, str) else item
    if not isinstance(replicas, list) or not all(_is_iodata(r) for r in replicas):
        raise _Reject("invalid_v1_input",
                      f"a version-1 input must be a URL string or a list of URL strings, "
                      f"found {_describe(item)}")


def _v1_input_info(item: Any) -> Dict[str, Any]:
    """task_input/1 of a checked version-1 input."""
    if _is_dir_url(item):
        return {"type": "dir", "host": preferred_host(item), "url": item, "labels": []}
    if isinstance(item, list) and item and _is_dir_url(item[0]):
        return {"type": "dir", "host": preferred_host(item[0]), "url": item[0], "labels": []}
    replicas = [item] if isinstance(item, str) else item
    return {"type": "data", "label": 0, "size": 0,
            "replicas": [[r, preferred_host(r)] for r in replicas]}


_REDUCE_ONLY = {"one": [("reduce", "group_all", False)],
                True: [("reduce", "group_label", False), ("reduce_shuffle", "group_node", False)],
                False: [("reduce", "group_label", False)]}


def _v1_pipeline(map_: Any, reduce: Any, shuffle: Any, nr_reduces: Any) -> List[Any]:
    """pipeline1/4: the pipeline the master builds for a version-1 job."""
    if not (_is_bool(map_) and _is_bool(reduce)):
        raise _Reject("invalid_v1_flags",
                      f"map? and reduce? must be booleans, found {_describe(map_)} and {_describe(reduce)}")
    head = [("map", "split", False), ("map_shuffle", "group_node", False)] if map_ else []
    if not reduce:
        return head
    if type(nr_reduces) is int and nr_reduces == 1:
        return head + _REDUCE_ONLY["one"]
    if not _is_bool(shuffle):
        raise _Reject("invalid_v1_flags",
                      f"reduce_shuffle? must be a boolean, found {_describe(shuffle)}")
    return head + _REDUCE_ONLY[shuffle]


def _scheduler(jobdict: Dict[str, Any]) -> Dict[str, Any]:
    scheduler = _find(jobdict, "scheduler")
    if not isinstance(scheduler, dict):
        raise _Reject("scheduler_not_object",
                      f"scheduler must be a JSON object such as {{}}, found {_describe(scheduler)}")
    return scheduler


def _master(pack: _Pack, want_info: bool = True) -> Optional[Dict[str, Any]]:
    """jobpack:valid/1 + jobinfo/1, step by step; _Reject on the first
    failure.  Without want_info only the checks run (validate), and None
    is returned.  (Each check tests the common valid case inline first: a
    Python call costs more than most checks.)"""
    jobdict = pack.jobdict()
    if "prefix" not in jobdict:
        raise _missing("prefix")
    prefix = jobdict["prefix"]
    save_results = jobdict.get("save_results", False)
    save_info = jobdict.get("save_info", "ddfs")
    # The #jobinfo{} record's fields are evaluated in the record's definition
    # order (disco.hrl), not in the order jobpack.erl writes them.
    jobenvs = pack.jobenvs()
    if "owner" not in jobdict:
        raise _missing("owner")
    if "worker" not in jobdict:
        raise _missing("worker")
    if save_results is not False and save_results is not True:
        raise _Reject("invalid_job_save_results",
                      f"save_results must be true or false, found {_describe(save_results)}")
    if not (type(save_info) is str and save_info[:4] in ("ddfs", "hdfs")):
        save_info = _check_save_info(save_info)
    if not (type(prefix) is str and "/" not in prefix and "." not in prefix):
        prefix = _check_prefix(prefix)

    version = pack.header.version
    if version == 1:
        scheduler = _scheduler(jobdict)
        job_input = _find(jobdict, "input")
        nr_reduces = _find(jobdict, "nr_reduces")
        if not isinstance(job_input, list):
            raise _Reject("invalid_v1_input",
                          f"input must be a list of URLs, found {_describe(job_input)}")
        for item in job_input:
            _check_v1_input(item)
        pipeline = _v1_pipeline(jobdict.get("map?", False), jobdict.get("reduce?", False),
                                jobdict.get("reduce_shuffle?", False), nr_reduces)
        if not want_info:
            return None
        locality = ("local" if scheduler.get("force_local", False) is True
                    else "remote" if scheduler.get("force_remote", False) is True else "none")
        inputs = [dict(id=i, **_v1_input_info(item)) for i, item in enumerate(job_input)]
    elif version == 2:
        if "pipeline" not in jobdict:
            raise _missing("pipeline")
        if "inputs" not in jobdict:
            raise _missing("inputs")
        found = jobdict.get("scheduler")
        scheduler = found if type(found) is dict else _scheduler(jobdict)
        pipeline = _check_pipeline(jobdict["pipeline"])
        inputs_spec = _check_inputs(jobdict["inputs"])
        if not want_info:
            return None
        inputs = _inputs_info(inputs_spec)
        locality = "none"
    else:
        raise _Reject("unsupported_version",
                      f"unsupported version {version}: the master reads versions 1 and 2", 2)
    return {"prefix": _byte_string(prefix), "worker": jobdict["worker"], "owner": jobdict["owner"],
            "save_results": save_results, "save_info": _byte_string(save_info),
            "jobenvs": [list(pair) for pair in jobenvs],
            "pipeline": [[s[0], s[1], s[2]] for s in pipeline], "inputs": inputs,
            "schedule": {"locality": locality,
                         "max_cores": scheduler.get("max_cores", DEFAULT_MAX_CORES)}}


def _open(source: Any, strict: bool = False) -> Tuple[Optional[_Pack], Optional[Problem],
                                                       _core.Header]:
    data: Union[bytes, memoryview]
    if type(source) is bytes:
        data = source  # sliced as it is: the JSON sections are copied once either way
    else:
        if isinstance(source, JobPack):
            source = source.dumps()
        read = _read_source(source, None)
        data = read if type(read) is bytes else _snapshot(read)
    if strict:  # the jobdict's repeated keys looked for in the same C call
        header, repeated = _core.decode_header_keys(data)
    else:
        header, repeated = _core.decode_header(data), None
    if header.status != _OK:
        return None, Problem("invalid_header", header.error_message, header.error_offset), header
    return _Pack(data, header, strict, repeated), None, header


def _snapshot(data: Any) -> memoryview:
    """A flat byte view of the pack that nothing can change while it is
    checked: bytes and read-only file maps as they are, any other buffer
    (bytearray, array, a writable or strided memoryview) copied, so another
    thread changing it meanwhile cannot make one check see other bytes than
    the next."""
    view = data if isinstance(data, memoryview) else memoryview(data)
    if view.c_contiguous and (type(view.obj) is bytes or
                              (isinstance(view.obj, mmap.mmap) and view.readonly)):
        return view if view.format == "B" and view.ndim == 1 else view.cast("B")
    return memoryview(view.tobytes())


def validate(source: "Union[Source, JobPack]", *, strict: bool = False) -> List[Problem]:
    """Problems with a pack (bytes-like, path, binary file or JobPack).

    Empty means the master accepts it.  Without ``strict`` the list is the
    master's verdict: at most one problem, the one the master reports."""
    pack, header_problem, header = _open(source, strict)
    if pack is None:
        problems = [header_problem]
    else:
        try:
            _master(pack, want_info=False)
            problems = []
        except _Reject as r:
            problems = [r.problem]
    if strict:
        accepted = not problems
        if header.reserved_nonzero is not None:
            problems.append(Problem(
                "reserved_bytes_nonzero",
                "header bytes 20-127 are reserved and should be zero (the master ignores them; "
                "some clients leave them uninitialised)", header.reserved_nonzero, True))
        if pack is not None:
            problems.extend(_strict_checks(pack, accepted))
    return problems  # type: ignore[return-value]


def jobinfo(source: "Union[Source, JobPack]") -> Dict[str, Any]:
    """What the master derives from a pack it accepts: prefix, worker, owner,
    save_results, save_info, jobenvs (pairs in file order), pipeline
    ([stage, grouping, concurrent]; version 1 converted as the master does),
    inputs and schedule.  Raises MasterRejection if the master rejects it."""
    pack, header_problem, _ = _open(source)
    if pack is None:
        raise MasterRejection(header_problem)  # type: ignore[arg-type]
    try:
        return _master(pack)  # type: ignore[return-value]
    except _Reject as r:
        raise MasterRejection(r.problem) from None


# -- beyond the master -------------------------------------------------

def _strict(code: str, message: str, offset: Optional[int] = None) -> Problem:
    return Problem(code, message, offset, True)


def _strict_checks(pack: _Pack, accepted: bool) -> List[Problem]:
    """The checks beyond the master; ``accepted``: the master accepts the
    pack, so its jobdict is an object and its jobenvs flat string pairs.
    (The common valid case is tested inline first, as in _master.)"""
    offsets = pack.offsets
    jobdict: Any
    found: List[Problem]
    if accepted:  # both sections decoded, so their JSON is clean if:
        jobdict, features, _, _, repeated = pack.decoded[0]  # type: ignore[misc]
        pairs, envs_features = pack.decoded[1][:2]  # type: ignore[index]
        if ((features | envs_features) & _DIALECT_ONLY or repeated is not False
                or len(dict(pairs)) != len(pairs)):
            found, jobdict = _json_problems(pack, accepted)
        else:
            found = []
    else:
        found, jobdict = _json_problems(pack, accepted)

    is_dict = isinstance(jobdict, dict)
    if is_dict and "prefix" in jobdict:
        prefix = jobdict["prefix"]
        if not (isinstance(prefix, str) and PORTABLE_PREFIX.match(prefix)):
            found.append(_strict("prefix_not_portable",
                                 f"prefix should be non-empty and use only [a-zA-Z0-9_] "
                                 f"(Disco's documented rule), found {_describe(prefix)}",
                                 offsets[0]))
    if is_dict and not accepted:  # (the master refuses both shapes)
        _third_party_shapes(jobdict, pack.header.version, offsets[0], found)

    home_offset, home_len = offsets[2], offsets[3] - offsets[2]
    worker = jobdict.get("worker") if is_dict else None
    unsafe = isinstance(worker, str) and _unsafe_path(worker)
    try:  # (the home read in place: scan_for_worker takes the pack and its bounds)
        total, first_flagged, worker_found = scan_for_worker(
            pack.data, worker if isinstance(worker, str) and not unsafe else None,
            home_offset, offsets[3])
        scanned = True
    except errors.ZipError as e:
        found.append(_strict("jobhome_not_zip",
                             f"the job home is not a valid ZIP archive: {e.message}",
                             home_offset + (e.offset or 0)))
        scanned = False
    if scanned:
        if first_flagged is not None:
            entry = home.entries(pack.section(2), start=first_flagged, limit=1)[0]
            found.append(_strict("zip_path_traversal",
                                 f"job home entry {entry.name!r} is absolute or climbs out with "
                                 f"'..'; the master would unzip it outside the job's directory",
                                 home_offset))
        if total > _BOMB_FLOOR and too_much(total, home_len):
            found.append(_strict("zip_bomb",
                                 f"the job home expands to {total} bytes "
                                 f"from {home_len}: refuse it as a zip bomb", home_offset))
    if is_dict and "worker" in jobdict:
        if not isinstance(worker, str):
            found.append(_strict("worker_not_in_home",
                                 f"worker must be a path in the job home, found {_describe(worker)}"))
        elif unsafe:
            found.append(_strict("worker_path_unsafe",
                                 f"worker {worker!r} points outside the job home; the master "
                                 f"would chmod a file outside the job's directory", offsets[0]))
        elif scanned and not worker_found:
            found.append(_strict("worker_not_in_home",
                                 f"worker {worker!r} is not a file in the job home; the job "
                                 f"would fail when the master starts it", home_offset))
    return found


def _json_problems(pack: _Pack, accepted: bool) -> Tuple[List[Problem], Any]:
    """The strict problems of the two JSON sections (dialect-only JSON,
    repeated keys), and the jobdict if it is an object."""
    found: List[Problem] = []
    offsets = pack.offsets
    jobdict: Any = None
    for i in (0, 1):
        decoded = pack.decoded[i]
        if decoded is None:
            if pack.tried[i]:
                continue  # refused: the master's problem, already reported
            try:
                decoded = pack.json(i)
            except _Reject:
                continue  # refused, but after the master's own problem
        value, features, feature_offset, is_object, has_duplicate = decoded
        features &= _DIALECT_ONLY
        if features:
            name = _NAMES[i]
            names = [text for bit, text in _core.FEATURE_NAMES.items() if features & bit]
            found.append(_strict("json_dialect_only",
                                 f"{name} uses JSON that only the master's decoder reads "
                                 f"({', '.join(names)}); standard JSON readers "
                                 f"reject or misread it", offsets[i] + feature_offset))
        if has_duplicate is False or (i == 1 and accepted and len(dict(value)) == len(value)):
            duplicate = None  # (flat string pairs with distinct keys)
        elif i == 1:
            duplicate = _first_duplicate_pair(value) if is_object else _first_duplicate_key(value)
        else:  # the jobdict as pairs, to name the first repeated key
            duplicate = _first_duplicate_key(dialect.loads(pack.section(0), pairs=True))
        if duplicate is not None:
            name = _NAMES[i]
            keeps = "the last value" if i == 0 else "both pairs"
            found.append(_strict("duplicate_key",
                                 f"{name} repeats the key {duplicate!r}; the master keeps "
                                 f"{keeps}, other readers may not", offsets[i]))
        if i == 0 and is_object:
            jobdict = value
    return found, jobdict


def _unsafe_path(path: str) -> bool:
    if ".." not in path and "\\" not in path and path[:1] != "/" and path[1:2] != ":":
        return False  # the common case, without splitting
    parts = path.replace("\\", "/").split("/")
    return path.startswith(("/", "\\")) or ".." in parts or bool(_DRIVE.match(path))


def _third_party_shapes(jobdict: Dict[str, Any], version: int, offset: int,
                        found: List[Problem]) -> None:
    if version == 2 and isinstance(jobdict.get("pipeline"), list):
        for stage in jobdict["pipeline"]:
            if isinstance(stage, list) and len(stage) == 2:
                found.append(_strict("pipeline_stage_two_elements",
                                     f"pipeline stage {_describe(stage)} has two elements, as "
                                     f"some third-party clients write; the master needs "
                                     f"[name, grouping, concurrent]", offset))
                break
    if isinstance(jobdict.get("scheduler"), str):
        found.append(_strict("scheduler_is_string",
                             "scheduler is a string, as some third-party clients write; the "
                             "master needs a JSON object such as {}", offset))


def _first_duplicate_pair(pairs: List[Tuple[str, Any]]) -> Optional[str]:
    """_first_duplicate_key of an object's pairs, fast while the values are
    strings (the jobenvs the master accepts)."""
    seen = set()
    for key, value in pairs:
        if type(value) is not str:
            return _first_duplicate_key(pairs)
        if key in seen:
            return key
        seen.add(key)
    return None


def _first_duplicate_key(value: Any) -> Optional[str]:
    """The first key repeated within one object, anywhere (pairs form)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            if item and all(isinstance(p, tuple) and len(p) == 2 for p in item):
                seen: Set[str] = set()
                for key, child in item:
                    if key in seen:
                        return cast(str, key)
                    seen.add(key)
                    stack.append(child)
            else:
                stack.extend(item)
    return None
