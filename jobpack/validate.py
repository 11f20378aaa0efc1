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
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple, Union, cast

from . import _core, dialect, errors, home
from ._native import lib
from .pack import JobPack, PackView, Source, _read_source

__all__ = ["Problem", "validate", "jobinfo", "MasterRejection"]

DEFAULT_MAX_CORES = 1 << 31
GROUPINGS = ("split", "group_label", "group_all", "group_node", "group_node_label")
PORTABLE_PREFIX = re.compile(r"[A-Za-z0-9_]+\Z")
_HOST = re.compile(rb"[a-zA-Z0-9]+://([^/:]*)")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a pack."""

    code: str
    message: str
    offset: Optional[int] = None
    beyond_master: bool = False

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
        super().__init__(code)
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


def _as_text(x: Any) -> Any:
    """An Erlang string (binary or list of codes) as Python text, when it is one."""
    if isinstance(x, list) and all(type(c) is int and 0 <= c <= 0x10FFFF for c in x):
        return "".join(map(chr, x))
    return x


def _describe(x: Any) -> str:
    try:
        text = repr(x)
    except RecursionError:  # the master reads any depth; repr does not
        return f"a deeply nested {type(x).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


# -- the master, step by step -----------------------------------------

class _Pack:
    """A pack as the master reads it, decoded lazily in the master's order."""

    def __init__(self, view: PackView):
        self.view = view
        self.offsets = view.offsets

    def jobdict(self) -> Dict[str, Any]:
        value = self._json(self.view.jobdict, "jobdict", self.offsets[0], pairs=False)
        if not isinstance(value, dict):
            raise _Reject("jobdict_not_object",
                          f"the jobdict must be a JSON object, found {type(value).__name__}",
                          self.offsets[0])
        return value

    def jobenvs(self) -> List[Tuple[str, str]]:
        section = self.view.jobenvs
        scan = _core.scan_json(section)
        pairs = self._json(section, "jobenvs", self.offsets[1], pairs=True, scan=scan)
        if scan.top_type != lib.JP_JSON_OBJECT:
            raise _Reject("jobenvs_not_object",
                          f"the jobenvs must be a JSON object of strings, found {_describe(pairs)}",
                          self.offsets[1])
        if scan.features & lib.JP_JSON_NONSTRING_KEY:
            raise _Reject("jobenvs_not_strings", "jobenvs keys must be strings",
                          self.offsets[1] + scan.feature_offset)
        for key, value in pairs:
            if not isinstance(value, str):
                raise _Reject("jobenvs_not_strings",
                              f"jobenvs value of {key!r} must be a string, found {_describe(value)}",
                              self.offsets[1])
        return [(k, v) for k, v in pairs]

    @staticmethod
    def _json(section: Any, name: str, base: int, pairs: bool,
              scan: Optional[_core.JSONScan] = None) -> Any:
        try:
            return dialect.loads(section, name=name, base_offset=base, pairs=pairs, scan=scan)
        except errors.JSONDecodeError as e:
            if e.status == "JP_ERR_JSON_TOO_DEEP":  # the master might read it: we stop
                raise _Reject("json_too_deep", f"{e.message}; not checked further (the "
                              f"master would decode it, at great cost)", e.offset, True) from None
            code = "invalid_utf8" if e.status == "JP_ERR_JSON_UTF8" else "invalid_json"
            raise _Reject(code, e.message, e.offset) from None


def _find(d: Dict[str, Any], key: str) -> Any:
    if key not in d:
        raise _Reject(f"missing_key:{key}", f"the jobdict has no {key!r}")
    return d[key]


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
    return _as_text(value)


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
    return _as_text(value)


def _check_pipeline(pipeline: Any) -> List[Tuple[str, str, bool]]:
    """validate_pipeline/1: [[stage, grouping, concurrent], ...], unique stages."""
    if not isinstance(pipeline, list):
        raise _Reject("invalid_pipeline", f"pipeline must be a list, found {_describe(pipeline)}")
    for stage in pipeline:
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
    names = [stage[0] for stage in pipeline]
    if len(set(names)) != len(names):
        raise _Reject("repeated_pipeline_stages",
                      f"pipeline stage names must be unique, found {_describe(names)}")
    for stage in pipeline:
        if stage[1] not in GROUPINGS:
            raise _Reject("invalid_grouping",
                          f"invalid grouping {stage[1]!r}: expected one of {', '.join(GROUPINGS)}")
    return [(s[0], s[1], s[2]) for s in pipeline]


def _check_inputs(inputs: Any) -> List[Dict[str, Any]]:
    """validate_inputs/1: [[label, size_hint, [url, ...]], ...]."""
    def bad(found: Any) -> _Reject:
        return _Reject("invalid_job_inputs",
                       f"inputs must be a list of [label:int, size_hint:int, [url, ...]], "
                       f"found {_describe(found)}")

    if not isinstance(inputs, list):
        raise bad(inputs)
    for item in inputs:
        if not (isinstance(item, list) and len(item) == 3 and _is_int(item[0])
                and _is_int(item[1]) and isinstance(item[2], list)
                and all(isinstance(u, str) for u in item[2])):
            raise bad(item)
    return [{"id": i, "type": "data", "label": label, "size": size,
             "replicas": [[u, preferred_host(u)] for u in urls]}
            for i, (label, size, urls) in enumerate(inputs)]


def _v1_input(item: Any) -> Dict[str, Any]:
    """task_input/1 of a version-1 input, or _Reject where the master crashes."""
    def is_dir(x: Any) -> bool:
        return isinstance(x, str) and _binary(x).startswith(b"dir://")

    if is_dir(item):
        return {"type": "dir", "host": preferred_host(item), "url": item, "labels": []}
    if isinstance(item, list) and item and is_dir(item[0]):
        return {"type": "dir", "host": preferred_host(item[0]), "url": item[0], "labels": []}
    replicas = [item] if isinstance(item, str) else item
    if not isinstance(replicas, list) or not all(_is_iodata(r) for r in replicas):
        raise _Reject("invalid_v1_input",
                      f"a version-1 input must be a URL string or a list of URL strings, "
                      f"found {_describe(item)}")
    return {"type": "data", "label": 0, "size": 0,
            "replicas": [[r, preferred_host(r)] for r in replicas]}


_REDUCE_ONLY = {"one": [("reduce", "group_all", False)],
                True: [("reduce", "group_label", False), ("reduce_shuffle", "group_node", False)],
                False: [("reduce", "group_label", False)]}


def _v1_pipeline(map_: Any, reduce: Any, shuffle: Any, nr_reduces: Any) -> List[Tuple[str, str, bool]]:
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


def _master(pack: _Pack) -> Dict[str, Any]:
    """jobpack:valid/1 + jobinfo/1, step by step; _Reject on the first failure."""
    jobdict = pack.jobdict()
    prefix = _find(jobdict, "prefix")
    save_results = jobdict.get("save_results", False)
    save_info = jobdict.get("save_info", "ddfs")
    # The #jobinfo{} record's fields are evaluated in the record's definition
    # order (disco.hrl), not in the order jobpack.erl writes them.
    info: Dict[str, Any] = {"jobenvs": pack.jobenvs()}
    info["owner"] = _find(jobdict, "owner")
    info["worker"] = _find(jobdict, "worker")
    if not _is_bool(save_results):
        raise _Reject("invalid_job_save_results",
                      f"save_results must be true or false, found {_describe(save_results)}")
    info["save_results"] = save_results
    info["save_info"] = _check_save_info(save_info)
    info["prefix"] = _check_prefix(prefix)

    version = pack.view.version
    if version == 1:
        scheduler = _scheduler(jobdict)
        job_input = _find(jobdict, "input")
        nr_reduces = _find(jobdict, "nr_reduces")
        if not isinstance(job_input, list):
            raise _Reject("invalid_v1_input",
                          f"input must be a list of URLs, found {_describe(job_input)}")
        inputs = [_v1_input(item) for item in job_input]
        pipeline = _v1_pipeline(jobdict.get("map?", False), jobdict.get("reduce?", False),
                                jobdict.get("reduce_shuffle?", False), nr_reduces)
        locality = ("local" if scheduler.get("force_local", False) is True
                    else "remote" if scheduler.get("force_remote", False) is True else "none")
        inputs = [dict(id=i, **item) for i, item in enumerate(inputs)]
    elif version == 2:
        pipeline_spec = _find(jobdict, "pipeline")
        inputs_spec = _find(jobdict, "inputs")
        scheduler = _scheduler(jobdict)
        pipeline = _check_pipeline(pipeline_spec)
        inputs = _check_inputs(inputs_spec)
        locality = "none"
    else:
        raise _Reject("unsupported_version",
                      f"unsupported version {version}: the master reads versions 1 and 2", 2)
    info["pipeline"] = [list(stage) for stage in pipeline]
    info["inputs"] = inputs
    info["schedule"] = {"locality": locality,
                        "max_cores": scheduler.get("max_cores", DEFAULT_MAX_CORES)}
    order = ("prefix", "worker", "owner", "save_results", "save_info", "jobenvs",
             "pipeline", "inputs", "schedule")
    info["jobenvs"] = [list(pair) for pair in info["jobenvs"]]
    return {key: info[key] for key in order}


def _view(source: Union[Source, JobPack]) -> Tuple[Optional[PackView], Optional[Problem], _core.Header]:
    data = _read_source(source.dumps() if isinstance(source, JobPack) else source, None)
    buf = memoryview(data).cast("B") if not isinstance(data, memoryview) else data.cast("B")
    header = _core.decode_header(buf)
    if not header.ok:
        err = header.error()
        return None, Problem("invalid_header", err.message, err.offset), header
    return PackView(header, buf), None, header


def validate(source: Union[Source, JobPack], *, strict: bool = False) -> List[Problem]:
    """Problems with a pack (bytes-like, path, binary file or JobPack).

    Empty means the master accepts it.  Without ``strict`` the list is the
    master's verdict: at most one problem, the one the master reports."""
    view, header_problem, header = _view(source)
    problems: List[Problem] = []
    if header_problem is not None:
        problems.append(header_problem)
    else:
        assert view is not None  # for mypy: a good header gives a view
        try:
            _master(_Pack(view))
        except _Reject as r:
            problems.append(r.problem)
    if strict:
        if header.reserved_nonzero is not None:
            problems.append(Problem(
                "reserved_bytes_nonzero",
                "header bytes 20-127 are reserved and should be zero (the master ignores them; "
                "some clients leave them uninitialised)", header.reserved_nonzero, True))
        if view is not None:
            problems.extend(_strict_checks(view))
    return problems


def jobinfo(source: Union[Source, JobPack]) -> Dict[str, Any]:
    """What the master derives from a pack it accepts: prefix, worker, owner,
    save_results, save_info, jobenvs (pairs in file order), pipeline
    ([stage, grouping, concurrent]; version 1 converted as the master does),
    inputs and schedule.  Raises MasterRejection if the master rejects it."""
    view, header_problem, _ = _view(source)
    if header_problem is not None:
        raise MasterRejection(header_problem)
    assert view is not None  # for mypy: a good header gives a view
    try:
        return _master(_Pack(view))
    except _Reject as r:
        raise MasterRejection(r.problem) from None


# -- beyond the master -------------------------------------------------

def _strict(code: str, message: str, offset: Optional[int] = None) -> Problem:
    return Problem(code, message, offset, True)


def _strict_checks(view: PackView) -> Iterable[Problem]:
    offsets = view.offsets
    jobdict: Any = None
    for i, (section, name) in enumerate(((view.jobdict, "jobdict"), (view.jobenvs, "jobenvs"))):
        scan = _core.scan_json(section)
        if not scan.ok:
            continue
        if scan.dialect_features:
            yield _strict("json_dialect_only",
                          f"{name} uses JSON that only the master's decoder reads "
                          f"({', '.join(scan.feature_names())}); standard JSON readers "
                          f"reject or misread it", offsets[i] + scan.feature_offset)
        pairs = dialect.loads(section, name=name, pairs=True, scan=scan)
        duplicate = _first_duplicate_key(pairs)
        if duplicate is not None:
            keeps = "the last value" if name == "jobdict" else "both pairs"
            yield _strict("duplicate_key",
                          f"{name} repeats the key {duplicate!r}; the master keeps {keeps}, "
                          f"other readers may not", offsets[i])
        if i == 0 and isinstance(pairs, list):
            jobdict = dict(pairs) if scan.top_type == lib.JP_JSON_OBJECT else None

    if isinstance(jobdict, dict) and "prefix" in jobdict:
        prefix = jobdict["prefix"]
        if not (isinstance(prefix, str) and PORTABLE_PREFIX.match(prefix)):
            yield _strict("prefix_not_portable",
                          f"prefix should be non-empty and use only [a-zA-Z0-9_] "
                          f"(Disco's documented rule), found {_describe(prefix)}", offsets[0])
    if isinstance(jobdict, dict):
        yield from _third_party_shapes(jobdict, view.version, offsets[0])

    home_offset = offsets[2]
    zip_bytes = view.jobhome
    zip_scan: Optional[home.ZipScan]
    try:
        zip_scan = home.scan(zip_bytes)
    except errors.ZipError as e:
        yield _strict("jobhome_not_zip", f"the job home is not a valid ZIP archive: {e.message}",
                      home_offset + (e.offset or 0))
        zip_scan = None
    if zip_scan is not None:
        if zip_scan.first_flagged is not None:
            entry = home.entries(zip_bytes, start=zip_scan.first_flagged, limit=1)[0]
            yield _strict("zip_path_traversal",
                          f"job home entry {entry.name!r} is absolute or climbs out with '..'; "
                          f"the master would unzip it outside the job's directory", home_offset)
        if home.expands_too_much(zip_scan, len(zip_bytes)):
            yield _strict("zip_bomb",
                          f"the job home expands to {zip_scan.total_uncompressed} bytes from "
                          f"{len(zip_bytes)}: refuse it as a zip bomb", home_offset)
    if isinstance(jobdict, dict) and "worker" in jobdict:
        worker = jobdict["worker"]
        if not isinstance(worker, str):
            yield _strict("worker_not_in_home",
                          f"worker must be a path in the job home, found {_describe(worker)}")
        elif _unsafe_path(worker):
            yield _strict("worker_path_unsafe",
                          f"worker {worker!r} points outside the job home; the master would "
                          f"chmod a file outside the job's directory", offsets[0])
        elif zip_scan is not None and not home.contains(zip_bytes, worker):
            yield _strict("worker_not_in_home",
                          f"worker {worker!r} is not a file in the job home; the job would "
                          f"fail when the master starts it", home_offset)


def _unsafe_path(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return path.startswith(("/", "\\")) or ".." in parts or bool(re.match(r"[A-Za-z]:", path))


def _third_party_shapes(jobdict: Dict[str, Any], version: int, offset: int) -> Iterable[Problem]:
    if version == 2 and isinstance(jobdict.get("pipeline"), list):
        for stage in jobdict["pipeline"]:
            if isinstance(stage, list) and len(stage) == 2:
                yield _strict("pipeline_stage_two_elements",
                              f"pipeline stage {_describe(stage)} has two elements, as some "
                              f"third-party clients write; the master needs "
                              f"[name, grouping, concurrent]", offset)
                break
    if isinstance(jobdict.get("scheduler"), str):
        yield _strict("scheduler_is_string",
                      "scheduler is a string, as some third-party clients write; the master "
                      "needs a JSON object such as {}", offset)


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
