"""loads(dumps(p)) == p over the whole JSON value space, and no crash or
foreign exception from loads/validate/jobinfo, whatever the process settings:
sys.setrecursionlimit (the default and 100,000) and sys.set_int_max_str_digits
(640, 4300 and 0), in every combination.

The value space: integers of any length (around every digit limit, and
dialect.HugeInt beyond 20,000 digits), lone surrogates, U+FFFE/U+FFFF,
control and astral characters, finite floats, nesting from flat to 100,000
deep; NaN and Infinity are refused by dumps().  Comparisons and walks here
are iterative: after sys.setrecursionlimit(100000), a recursive == on a deep
value would crash the test process itself.
"""
import math
import re
import sys
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobpack import EncodeError, JobPack, JobPackError, JSONDecodeError, dialect
from jobpack.errors import EncodeTypeError
from jobpack.validate import MasterRejection, jobinfo, validate

from conftest import examples, same_json

HAS_DIGIT_LIMIT = hasattr(sys, "set_int_max_str_digits")
NO_DIGIT_LIMIT = ("this Python has no sys.set_int_max_str_digits (PyPy, or CPython before "
                  "the 2022 security releases): its int/str conversion has no limit to vary")

SETTINGS = [(recursion, digits) for recursion in (None, 100_000) for digits in (640, 4300, 0)]


@pytest.fixture(params=SETTINGS, ids=[f"recursion={r or 'default'}-int_digits={d}"
                                      for r, d in SETTINGS])
def process_settings(request):
    recursion, digits = request.param
    if not HAS_DIGIT_LIMIT and digits != 4300:
        pytest.skip(NO_DIGIT_LIMIT)
    old_recursion = sys.getrecursionlimit()
    old_digits = sys.get_int_max_str_digits() if HAS_DIGIT_LIMIT else None
    if recursion is not None:
        sys.setrecursionlimit(recursion)
    if HAS_DIGIT_LIMIT:
        sys.set_int_max_str_digits(digits)
    try:
        yield request.param
    finally:
        sys.setrecursionlimit(old_recursion)
        if HAS_DIGIT_LIMIT:
            sys.set_int_max_str_digits(old_digits)


PROPERTY = settings(max_examples=examples(10), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])

# -- the value space ----------------------------------------------------


def _unpair(text: str) -> str:
    # A high surrogate followed by a low one is written as two \u escapes
    # that read back as one astral character: keep surrogates lone.
    return re.sub("([\ud800-\udbff])(?=[\udc00-\udfff])", "\\1_", text)


chars = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr),
                  st.sampled_from("\ufffe\uffff\x00\x1f\"\\/\u2028"),
                  st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF))
texts = st.text(chars, max_size=8).map(_unpair)

# Digit counts around every limit: 640 (lowest int_max_str_digits), 4000
# (where the C core flags a big int), 4300 (the default), 20000 (HugeInt).
DIGITS = [1, 19, 20, 639, 640, 641, 4000, 4001, 4300, 4301, 6000, 20000]
big_ints = st.builds(lambda n, k, sign: sign * (10 ** (n - 1) + k),
                     st.sampled_from(DIGITS), st.integers(0, 10**6), st.sampled_from([1, -1]))
huge_ints = st.builds(lambda n, d, sign: dialect.HugeInt(sign + str(d) + "0" * n),
                      st.integers(20001, 20050), st.integers(1, 9), st.sampled_from(["", "-"]))
ints = st.one_of(st.integers(), big_ints, huge_ints)
leaves = st.one_of(st.none(), st.booleans(), ints, texts,
                   st.floats(allow_nan=False, allow_infinity=False))
values = st.recursive(leaves, lambda c: st.lists(c, max_size=3)
                      | st.dictionaries(texts, c, max_size=3), max_leaves=8)


def nest(value, depth: int, in_dict: bool):
    for i in range(depth):
        value = {"k": value} if in_dict and i % 2 else [value]
    return value


nested_values = st.builds(nest, values, st.sampled_from([0, 1, 400, 401, 1500]), st.booleans())
jobdicts = st.dictionaries(texts, nested_values, max_size=4)
jobenvs = st.dictionaries(texts, texts, max_size=3)
blobs = st.binary(max_size=40)
packs = st.builds(JobPack, st.sampled_from([1, 2]), jobdicts, jobenvs, blobs, blobs)


# -- iterative helpers ---------------------------------------------------

def master_reads(*values) -> bool:
    """Does the master read what json.dumps writes for these values: no lone
    surrogate and no U+FFFE/U+FFFF in any string (key or value)?"""
    stack = list(values)
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if re.search("[\ud800-\udfff\ufffe\uffff]", item):
                return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def check_round_trip(pack: JobPack) -> None:
    data = pack.dumps()
    back = JobPack.loads(data)
    assert back.version == pack.version
    assert same_json(back.jobdict, pack.jobdict) and same_json(back.jobenvs, pack.jobenvs)
    assert back.dumps() == data
    if master_reads(pack.jobdict, pack.jobenvs):
        back = JobPack.loads(data, master_only=True)
        assert same_json(back.jobdict, pack.jobdict) and same_json(back.jobenvs, pack.jobenvs)
    else:
        with pytest.raises(JSONDecodeError):
            JobPack.loads(data, master_only=True)


# -- properties, under every process setting ------------------------------

@PROPERTY
@given(pack=packs)
def test_loads_reads_what_dumps_writes(process_settings, pack):
    check_round_trip(pack)


@PROPERTY
@given(value=nested_values, where=st.integers(0, 3), bad=st.sampled_from(
    [math.nan, math.inf, -math.inf]))
def test_dumps_refuses_nan_and_infinity_anywhere(process_settings, value, where, bad):
    jobdict = {"a": value, "b": nest([value, bad], where, True)}
    with pytest.raises(EncodeError, match="NaN and Infinity"):
        JobPack(2, jobdict, {}).dumps()


V2 = {"prefix": "p", "owner": "o", "worker": "w", "scheduler": {}, "pipeline": [],
      "inputs": []}


@PROPERTY
@given(field=st.sampled_from(["prefix", "save_info", "inputs", "owner", "worker",
                              "pipeline", "scheduler"]),
       value=nested_values, version=st.sampled_from([1, 2]))
def test_validate_and_jobinfo_never_crash(process_settings, field, value, version):
    # Any value in any field the master reads: a verdict, never a bare
    # ValueError (int_max_str_digits), RecursionError or crash.
    data = JobPack(version, {**V2, "input": [], "nr_reduces": 1, field: value},
                   {"K": "v"}).dumps()
    for strict in (False, True):
        problems = validate(data, strict=strict)
        assert all(len(p.message) < 1000 for p in problems)
    try:
        info = jobinfo(data)
    except MasterRejection as e:
        assert validate(data) == [e.problem]
    else:
        assert validate(data) == [] and set(info) >= {"prefix", "worker", "owner"}


# -- 100,000 deep ---------------------------------------------------------

@pytest.mark.parametrize("process_settings", [(100_000, 640), (100_000, 0), (None, 4300)],
                         ids=["recursion=100000-int_digits=640", "recursion=100000-int_digits=0",
                              "recursion=default-int_digits=4300"], indirect=True)
def test_deep_jobdict_with_every_feature(process_settings):
    # 100,000 deep after sys.setrecursionlimit(100000) crashed loads with
    # SIGSEGV inside Python's recursive json; with a big int and a lone
    # surrogate too, no path read it at all.  (A few settings only: each
    # deep pass costs about 0.4 s; the properties cover every setting.)
    recursion, _ = process_settings
    # {"deep": nest(leaf)} is depth + 2 levels: 100,000, jobpack's bound.
    depth = dialect.MAX_DEPTH - 2 if recursion else 5_000
    leaf = {"n": 10**4500 + 1, "s": "\uffff\ud800", "h": dialect.HugeInt("7" * 20001)}
    check_round_trip(JobPack(2, {"deep": nest(leaf, depth, True)}, {"K": "\ufffe"}))
    # The master's reading, and validation, of the same depth.
    data = JobPack(2, {**V2, "owner": nest({"n": -(10**700)}, depth, True)}, {}).dumps()
    assert same_json(JobPack.loads(data, master_only=True).jobdict["owner"],
                nest({"n": -(10**700)}, depth, True))
    assert [p.code for p in validate(data, strict=True)] == ["worker_not_in_home"]


# -- integers beyond str()'s limit in every message ------------------------

@pytest.mark.parametrize("changes, code", [
    ({"prefix": [10**4500, 47]}, "invalid_prefix"),
    ({"prefix": 10**5000}, "prefix_not_string"),
    ({"save_info": 10**19999}, "save_info_not_string"),
    ({"save_info": [10**4301] * 4}, "invalid_job_save_info"),
    ({"inputs": [[1, 2, 10**6000]]}, "invalid_job_inputs"),
    ({"worker": 10**4400}, "worker_not_in_home"),
])
def test_long_ints_in_messages(changes, code):
    # 4,301 to 20,000 digits under the default limit: validate() raised a
    # bare ValueError formatting its message.
    data = JobPack(2, {**V2, **changes}, {}).dumps()
    found = [p for p in validate(data, strict=True) if p.code == code]
    assert found and "10000000000" in found[0].message, validate(data, strict=True)


# -- a buffer another thread changes ---------------------------------------

VALID = JobPack(2, {**V2, "prefix": "job", "owner": "o" * 50}, {"K": "v" * 50}).dumps()


def test_sections_are_decoded_from_one_snapshot(monkeypatch):
    # The C scan runs without the GIL; a thread changing the buffer between
    # the scan and the decode used to let json's JSONDecodeError or a
    # UnicodeDecodeError escape.  Simulate the worst moment: change the
    # buffer right after each scan.  loads() and validate() work on one copy
    # of the bytes they decode, so they see the pack as it was.
    from jobpack import _core
    buf = bytearray(VALID)
    real_scan = _core.scan_json

    def scan_then_mutate(section, convert=False):
        result = real_scan(section, convert)
        buf[130:160] = b"\xff\"[{" * 7 + b"\xed\xa0"
        return result

    expected = (JobPack.loads(VALID).jobdict, JobPack.loads(VALID).jobdict, jobinfo(VALID),
                validate(VALID, strict=True))
    monkeypatch.setattr(_core, "scan_json", scan_then_mutate)
    calls = (lambda: JobPack.loads(buf).jobdict,
             lambda: JobPack.loads(buf, master_only=True).jobdict,
             lambda: jobinfo(buf), lambda: validate(buf, strict=True))
    for call, want in zip(calls, expected):
        buf[:] = VALID
        assert call() == want


def test_concurrent_mutation_raises_only_jobpack_errors():
    buf = bytearray(VALID)
    stop = threading.Event()

    def mutate():
        i = 0
        while not stop.is_set():
            i += 1
            at = 128 + i * 7 % (len(VALID) - 140)
            buf[at:at + 3] = (b"\xed\xa0\x80", b"\"\\u", b"]]]", VALID[at:at + 3])[i % 4]

    worker = threading.Thread(target=mutate)
    worker.start()
    try:
        for _ in range(200):
            for call in (JobPack.loads, lambda b: JobPack.loads(b, master_only=True),
                         validate, jobinfo):
                try:
                    call(buf)
                except JobPackError:
                    pass
    finally:
        stop.set()
        worker.join()


# -- buffers of any shape ---------------------------------------------------

def test_strided_buffers_are_read():
    doubled = bytes(b for c in VALID for b in (c, 0))
    strided = memoryview(doubled)[::2]
    assert not strided.c_contiguous
    assert same_json(JobPack.loads(strided).jobdict, JobPack.loads(VALID).jobdict)
    assert JobPack.loads(strided, master_only=True).jobenvs == {"K": "v" * 50}
    assert validate(strided, strict=True) == validate(VALID, strict=True)
    assert jobinfo(strided) == jobinfo(VALID)
    assert JobPack.offsets(strided) == JobPack.offsets(VALID)
    assert bytes(JobPack.view(strided).jobenvs) == bytes(JobPack.view(VALID).jobenvs)


def test_recursion_error_reported_as_type_error_falls_back(monkeypatch):
    # PyPy reports a RecursionError met while recording another exception's
    # context as TypeError("couldn't record exception context ..."); the
    # deep value must still be written, iteratively, with the same bytes.
    from jobpack import _json
    deep = nest({"h": dialect.HugeInt("9" * 5000)}, 2_000, True)
    expected = JobPack(2, {"deep": deep}, {}).dumps()
    real_encoder, real_long_ints = _json._ENCODER, _json._encode_with_long_ints

    def pypy_like(real):
        def encode(value):
            if _json._deeper_than(value, 100):
                raise TypeError("couldn't record exception context for exception 'TypeError', "
                                "got: RecursionError('maximum recursion depth exceeded')")
            return real(value)
        return encode

    class PyPyLikeEncoder:
        encode = staticmethod(pypy_like(real_encoder.encode))

    monkeypatch.setattr(_json, "_ENCODER", PyPyLikeEncoder())
    monkeypatch.setattr(_json, "_encode_with_long_ints", pypy_like(real_long_ints))
    assert JobPack(2, {"deep": deep}, {}).dumps() == expected
    # A real TypeError in a deep value is still reported as one.
    with pytest.raises(EncodeTypeError, match="object is not JSON serializable"):
        JobPack(2, {"deep": nest({"x": object()}, 2_000, True)}, {}).dumps()


def test_same_json_is_exact_and_iterative():
    # The comparison every round-trip test here rests on: if it were ==,
    # a reader turning 1 into true or -0.0 into 0.0 would pass them.
    assert same_json({"a": [1, -0.0, math.nan, None]}, {"a": [1, -0.0, math.nan, None]})
    for x, y in [(1, True), (1, 1.0), (-0.0, 0.0), (math.nan, 0.0), (0.0, math.nan),
                 ({"a": 1, "b": 2}, {"b": 2, "a": 1}), ([1], [1, 1]), ("1", b"1")]:
        assert not same_json(x, y) and not same_json([x], [y]), (x, y)
    assert same_json(nest(0, 50_000, True), nest(0, 50_000, True))
    assert not same_json(nest(0, 50_000, True), nest(0.0, 50_000, True))
