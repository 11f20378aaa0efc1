"""Packs the master rejects, each a valid pack with one fault, labelled with its code."""
import struct
from typing import Any, Dict, List, Optional, Tuple

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ..pack import JobPack
from .master_json import DEPTH_AT_LIMIT, DEPTH_AT_SCRATCH, NOT_WHITESPACE, REFUSED, REFUSED_AT_END
from ._values import (GROUPINGS, MAGIC, _KEY_TEXT, _PLAIN_URLS, _TEXT, _URLS, _json, _not_bool, _not_dict, _not_int, _not_iodata_leaf, _not_list, _not_str, _not_text, _not_text_or_list, _text)
from .valid import (_JOBPACKS, _assemble, _encode)

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

    def __init__(self, pack: JobPack, header_version: int):
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
def _base_strategy(draw: st.DrawFn, version: Optional[int], any_header_version: bool) -> _Base:
    pack = draw(_JOBPACKS[version])
    header_version = pack.version
    if any_header_version:
        header_version = draw(st.one_of(st.just(pack.version), st.integers(0, 0xFFFF)))
    return _Base(pack, header_version)


_BASES = {(v, a): _base_strategy(v, a) for v in (None, 1, 2) for a in (False, True)}


def _base(version: Optional[int] = None,
          any_header_version: bool = False) -> st.SearchStrategy[_Base]:
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
def _header_faults(draw: st.DrawFn, faults: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    b = draw(_base(any_header_version=True))
    data = b.pack()
    d, e, h, a = struct.unpack("!IIII", data[4:20])
    fault = draw(faults if faults is not None else _HEADER_FAULTS)
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
def _truncated(draw: st.DrawFn, at: Optional[int] = None) -> Tuple[bytes, str]:
    data = draw(_base(any_header_version=True)).pack()
    (jobdata_offset,) = struct.unpack("!I", data[16:20])
    cut = draw(st.integers(0, jobdata_offset - 1)) if at is None else at
    return data[:cut], "invalid_header"


# Cuts at each end of the header's fields (five words, then the reserved
# bytes) and one byte either side.
_HEADER_CUTS = [0, 1, 3, 4, 5, 7, 8, 12, 15, 16, 17, 19, 20, 21, 23, 24, 25, 127, 128, 129]


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
_BAD_WHITESPACE = NOT_WHITESPACE
# Byte sequences inside a string that are not UTF-8 even by mochijson2's lax rules.
_BAD_UTF8 = st.one_of(
    st.integers(0x80, 0xBF).map(lambda c: bytes([c])),                            # continuation
    st.tuples(st.sampled_from([0xC0, 0xC1]), st.integers(0x80, 0xBF)).map(bytes),  # overlong
    st.integers(0xF5, 0xFF).map(lambda c: bytes([c, 0x80, 0x80, 0x80])),
    st.sampled_from([b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3A", b"\xe2\x28\xa1"]),
)
_REFUSED_STRINGS = [(s, code) for s, code in REFUSED if s.startswith(b'"')]
_JSON_FAULTS = st.one_of(
    st.tuples(st.just("value"), st.sampled_from(_BAD_VALUES)),
    st.tuples(st.just("value"), st.integers(309, 5000).map(lambda e: b"1e%d" % e)),
    st.tuples(st.just("whitespace"), st.sampled_from(_BAD_WHITESPACE), st.integers(0, 3)),
    st.tuples(st.just("refused"), st.sampled_from(REFUSED)),
    st.tuples(st.just("refused_key"), st.sampled_from(_REFUSED_STRINGS)),
    st.tuples(st.just("refused_tail"), st.sampled_from(REFUSED_AT_END)),
    st.tuples(st.just("trailing"), st.binary(min_size=1, max_size=1).filter(
        lambda c: c not in b" \t\r\n"), st.binary(max_size=8)),
    st.tuples(st.just("unclosed")),
    st.tuples(st.just("empty"), st.sampled_from([b"", b" ", b"\r\n\t "])),
    st.tuples(st.just("utf8"), st.sampled_from([b"", b"a", b"\xc3\xa9"]), _BAD_UTF8,
              st.sampled_from([b"", b"b"])),
    st.tuples(st.just("unclosed_string")),
)


def _after_first_colon(section: bytes) -> int:
    """Just past the first member's ':' of an object json.dumps wrote (a
    key may hold ':' itself), or 1 in an empty object."""
    if section[1:2] != b'"':
        return 1
    i = 2
    while section[i:i + 1] != b'"':   # to the key's closing quote
        i += 2 if section[i:i + 1] == b"\\" else 1
    return i + 2


def _break_json(section: bytes, fault: Tuple[Any, ...]) -> Tuple[bytes, str]:
    """A JSON object section broken in one place, with its code."""
    body = section[1:]  # after the opening brace: '}' or '"key": ...}'

    def member(value: bytes) -> bytes:
        return b'{"k": ' + value + (b", " + body if body != b"}" else b"}")

    name = fault[0]
    if name == "value":
        return member(fault[1]), "invalid_json"
    if name == "deep_then":   # nesting at a limit, then a byte no value takes
        return b'{"k": ' + fault[1] + b" x}", "invalid_json"
    if name == "alone":   # nothing else in the section: plain ASCII, which Python's json reads first
        return b'{"k": ' + fault[1] + b"}", "invalid_json"
    if name == "alone_then":   # the same: a whole value, then bytes after it
        return b'{"k": "v"}' + fault[1], "invalid_json"
    if name == "whitespace":
        ws, where = fault[1], fault[2]
        at = (0, 1, len(section) - 1, _after_first_colon(section))[where]
        return section[:at] + ws + section[at:], "invalid_json"
    if name == "refused":
        return member(fault[1][0]), fault[1][1]
    if name == "refused_key":   # inside a key: the master reads keys as strings too
        return b'{"k' + fault[1][0][1:] + b": 1" + (b", " + body if body != b"}" else b"}"), \
            fault[1][1]
    if name == "refused_tail":
        return b'{"k": ' + fault[1][0], fault[1][1]
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


def _names_the_jobenvs(fault: Tuple[Any, ...]) -> bool:
    """Whether the fault must go into the jobenvs: ("empty", b"", "jobenvs"),
    an empty jobenvs, its offsets equal (which the header allows).  Other
    faults hold bytes where that one holds "jobenvs", and bytes == str is a
    BytesWarning (an error under python -bb): only a str is compared."""
    return len(fault) == 3 and isinstance(fault[2], str) and fault[2] == "jobenvs"


@st.composite
def _json_faults(draw: st.DrawFn, faults: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    b = draw(_base(any_header_version=True))
    fault = draw(faults if faults is not None else _JSON_FAULTS)
    in_jobenvs = _names_the_jobenvs(fault) or draw(st.booleans())
    broken, code = _break_json(_encode(b.jobenvs if in_jobenvs else b.jobdict), fault)
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
def _missing_key(draw: st.DrawFn, faults: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    version, key, *unread = draw(faults if faults is not None else _MISSING)
    b = draw(_base(version, any_header_version=key in _COMMON_KEYS))
    jobdict = {k: v for k, v in b.jobdict.items() if k != key}
    if key == "prefix" and draw(st.booleans()):
        jobdict = {}
    return b.pack(jobdict, raw_jobenvs=unread[0] if unread else None), "missing_key:" + key


# A jobenvs the master never reads (it stops at a jobdict without a prefix)
# that strict mode still checks: dialect only (a trailing comma), a repeated key.
_UNREAD_JOBENVS = b'{"A": "1", "A": "2",}'


# Whole sections that are one value, not an object: a number that runs to
# the last byte of the section, a literal, a string, an array.
_BARE = [b"12", b"-3.5e7", b"0.25", b"1.5", b"-0", b"true", b"null", b'"s"', b"[]",
         b"\t1E+5\n"]
_WRONG_TYPE_FAULTS = (["jobdict", "jobenvs", "jobenvs_value", "jobenvs_key", "scheduler",
                       "v1_flag", "v1_shuffle", "scheduler_text", "jobenvs_value_repeats"]
                      + [(where, raw) for where in ("jobdict_bare", "jobenvs_bare")
                         for raw in _BARE])
_WRONG_TYPE = st.sampled_from(_WRONG_TYPE_FAULTS)
_NONSTRING_KEYS = [b"1", b"null", b"true", b"-2.5e3"]


@st.composite
def _wrong_type(draw: st.DrawFn, faults: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    fault = draw(faults if faults is not None else _WRONG_TYPE)
    if fault in ("scheduler", "scheduler_text", "v1_flag", "v1_shuffle"):
        b = draw(_base(1 if fault.startswith("v1") else None))
    else:
        b = draw(_base(any_header_version=True))
    if fault == "jobdict":
        return b.pack(raw_jobdict=_encode(draw(_not_dict))), "jobdict_not_object"
    if isinstance(fault, tuple):
        where, raw = fault
        if where == "jobdict_bare":
            return b.pack(raw_jobdict=raw), "jobdict_not_object"
        return b.pack(raw_jobenvs=raw), "jobenvs_not_object"
    if fault == "scheduler_text":   # some third-party clients write a string
        return b.changed("scheduler", draw(_TEXT)), "scheduler_not_object"
    if fault == "jobenvs":
        return b.pack(raw_jobenvs=_encode(draw(_not_dict))), "jobenvs_not_object"
    if fault == "jobenvs_value":
        envs = dict(b.jobenvs)
        envs[draw(_KEY_TEXT)] = draw(_not_text)
        return b.pack(jobenvs_=envs), "jobenvs_not_strings"
    if fault == "jobenvs_value_repeats":
        # The only value an object with a repeated key (strict notes it), and
        # no string value, at which a duplicate search could switch modes.
        return b.pack(raw_jobenvs=b'{"A": {"k": 1, "k": 2}}'), "jobenvs_not_strings"
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
def _bad_prefix(draw: st.DrawFn, faults: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    b = draw(_base(any_header_version=True))
    fault = draw(faults if faults is not None else _THREE)
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
_BAD_SAVE_INFO_CODES = st.lists(st.one_of(st.integers(0, 200),
                                          st.lists(st.integers(0, 200), max_size=2)),
                                max_size=6).filter(
    lambda c: not _good_save_info_codes(c))


@st.composite
def _bad_save_info(draw: st.DrawFn, faults: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    b = draw(_base(any_header_version=True))
    fault = draw(faults if faults is not None else _THREE)
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
def _bad_pipeline(draw: st.DrawFn, faults: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    b = draw(_base(2))
    fault = draw(faults if faults is not None else _PIPELINE_FAULTS)
    good = ["stage_x", "split", False]
    if fault == "not_list":
        return b.changed("pipeline", draw(_not_list)), "invalid_pipeline"
    if fault == "stage_not_list":
        bad = draw(_not_list)
    elif isinstance(fault, tuple) and fault[0] == "stage":   # this stage, as it is
        bad = fault[1]
    elif fault == "length" or isinstance(fault, tuple):   # two elements: the third-party shape
        length = fault[1] if isinstance(fault, tuple) else draw(st.sampled_from([2, 0, 1, 4, 5]))
        bad = (good + [draw(_json)] * 2)[:length]
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


_INPUT_FAULT_LIST = ([(2, f) for f in ("not_list", "item", "length", "label", "size", "urls", "url")]
                     + [(1, f) for f in ("not_list", "item", "replica", "replica_deep")])
_INPUT_FAULTS = st.one_of(st.sampled_from(_INPUT_FAULT_LIST[:7]),
                          st.sampled_from(_INPUT_FAULT_LIST[7:]))
_NOT_URL_LIST = st.one_of(_URLS, _not_list)


@st.composite
def _bad_inputs(draw: st.DrawFn, faults: Optional[st.SearchStrategy[Any]] = None) -> Tuple[bytes, str]:
    version, fault, *forced = draw(faults if faults is not None else _INPUT_FAULTS)
    b = draw(_base(version))
    if version == 1:
        if fault == "not_list":
            return b.changed("input", draw(_not_list)), "invalid_v1_input"
        if fault == "item":
            bad = draw(_not_text_or_list)
        else:   # a list of replicas with one that is not iodata
            leaf = forced[0] if forced else draw(_not_iodata_leaf)
            if fault == "replica_deep":   # deep inside a replica that is a list
                leaf = _insert(draw(st.lists(st.integers(0, 255), max_size=2)), draw, leaf)
            bad = _insert(draw(st.lists(_PLAIN_URLS, max_size=2)), draw, leaf)
            if isinstance(bad[0], str) and bad[0].startswith("dir://"):
                bad[0] = "raw://x"   # a dir:// first replica: the master looks no further
        return b.changed("input", _insert(b.jobdict["input"], draw, bad)), "invalid_v1_input"
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




# After a whole value in a section Python's json reads first: a byte no
# value takes, and the four whitespace bytes then a near-whitespace one.
_AFTER_THE_VALUE = [b"x", b" \t\r\n\x0c"]


# Pipeline stages that are not lists, of types len() refuses, and an object
# of three members (len() 3, no stage[0]): the master's check must ask for a
# list before it looks inside.
_UNSIZED_STAGES: List[Any] = [1, None, True, {"a": 1, "b": 2, "c": 3}]


# An exponent of 17 digits: the core's scan stops adding digits to it at
# 10^15 (EXP10_CAP in csrc/mochijson.c); far past a double's range.
_PAST_EXPONENT_CAP = b"1e" + b"1" * 17


def _sweep_json_faults() -> List[Tuple[Any, ...]]:
    faults: List[Tuple[Any, ...]] = [("value", v) for v in _BAD_VALUES]
    faults += [("alone", v) for v in _BAD_VALUES]
    faults += [("whitespace", ws, where) for ws in _BAD_WHITESPACE for where in range(4)]
    faults += [("refused", entry) for entry in REFUSED]
    faults += [("refused_key", entry) for entry in _REFUSED_STRINGS]
    faults += [("refused_tail", entry) for entry in REFUSED_AT_END]
    faults += [("unclosed",), ("unclosed_string",), ("empty", b""), ("empty", b" \t\r\n"),
               ("trailing", b"x", b""), ("trailing", b"}", b""), ("utf8", b"a", b"\xc3", b"b"),
               ("deep_then", DEPTH_AT_SCRATCH), ("deep_then", DEPTH_AT_LIMIT),
               ("empty", b"", "jobenvs")]
    return faults


def sweep() -> List[Tuple[str, st.SearchStrategy[Tuple[bytes, str]]]]:
    """(kind, strategy) for every fault each malformed family can plant,
    one strategy per fault: a draw that takes one pack from each reaches
    every fault, whatever the odds of drawing it at random."""
    families: List[Tuple[str, Any, List[Any]]] = [
        ("header", _header_faults, ["magic", "jobdict", "jobenvs", "jobhome", "jobdata",
                                    "past_end", "empty_jobdict"]),
        ("json", _json_faults, _sweep_json_faults()),
        ("missing_key", _missing_key, [(v, k) for v, keys in sorted(_REQUIRED.items())
                                       for k in keys]),
        ("wrong_type", _wrong_type, _WRONG_TYPE_FAULTS),
        ("prefix", _bad_prefix, ["text", "codes", "type"]),
        ("save_info", _bad_save_info, ["text", "codes", "type"]),
        ("pipeline", _bad_pipeline, ["not_list", "stage_not_list", "name", "grouping_type",
                                     "concurrent"] + [("length", n) for n in (0, 1, 2, 4, 5)]),
        ("inputs", _bad_inputs, _INPUT_FAULT_LIST + [  # bytes one past each end
            (1, fault, leaf) for fault in ("replica", "replica_deep") for leaf in (-1, 256)]),
        ("truncated", _truncated, _HEADER_CUTS),
        # Last, so the faults above keep their places (labelled_draw seeds by place).
        ("json", _json_faults, [("alone_then", tail) for tail in _AFTER_THE_VALUE]
         + [("alone", _PAST_EXPONENT_CAP)]),
        ("missing_key", _missing_key, [(2, "prefix", _UNREAD_JOBENVS)]),
        ("pipeline", _bad_pipeline, [("stage", stage) for stage in _UNSIZED_STAGES]),
    ]
    return [(kind, make(fault) if kind == "truncated" else make(st.just(fault)))
            for kind, make, faults in families for fault in faults]
