"""The public Hypothesis strategies (jobpack.strategies) against validate().

Each strategy promises a verdict: jobpacks() the master accepts and strict
mode too, malformed_jobpacks() the master rejects with the labelled code,
strict_violations() the master accepts and strict mode rejects with the
labelled code.  These tests hold them to it.  JOBPACK_SLOW=1 runs 20x more
examples.
"""
import io
import json
import os
import warnings
import zipfile

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, Phase, find, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import InvalidArgument  # noqa: E402

from jobpack import JobPack, _core, dialect, home, strategies as jps  # noqa: E402
from jobpack.home.scan import too_much  # noqa: E402
from jobpack.validate import jobinfo, validate  # noqa: E402

from conftest import SLOW, examples  # noqa: E402

# Hypothesis' engine caches test cases under tuples of choices that mix bytes
# and ints; on a hash collision it compares them, which -bb turns into an
# error.  Harmless, and not about jobpack (see shrunk() below).
pytestmark = pytest.mark.filterwarnings("ignore::BytesWarning")


def quick(n: int) -> settings:
    return settings(max_examples=examples(n), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


ALL_MALFORMED_CODES = {code for codes in jps.MALFORMED_CODES.values() for code in codes}


def codes(data, strict=False):
    return [p.code for p in validate(data, strict=strict)]


# -- valid packs --------------------------------------------------------

@quick(40)
@given(jps.jobpacks())
def test_jobpacks_are_accepted_by_the_master_and_by_strict_mode(pack):
    assert validate(pack) == []
    assert validate(pack, strict=True) == []
    info = jobinfo(pack)
    assert info["worker"] == pack.jobdict["worker"]
    assert home.contains(pack.jobhome, pack.jobdict["worker"])


@quick(40)
@given(jps.jobpacks())
def test_jobpack_bytes_are_disco_dumps_and_load_back(pack):
    data = jps.disco_dumps(pack)
    assert pack.dumps() == data
    assert JobPack.loads(data) == pack
    assert JobPack.loads(data, master_only=True) == pack


@quick(20)
@given(jps.packed_jobpacks(1), jps.packed_jobpacks(2))
def test_packed_jobpacks_have_the_version_asked_for(v1, v2):
    assert v1[:4] == b"\xd5\xc0\x00\x01" and v2[:4] == b"\xd5\xc0\x00\x02"
    assert codes(v1, strict=True) == codes(v2, strict=True) == []


@quick(25)
@given(jps.jobdicts(1), jps.jobdicts(2))
def test_jobdicts_have_the_keys_of_their_version(v1, v2):
    assert {"prefix", "owner", "worker", "scheduler", "input", "nr_reduces"} <= set(v1)
    assert {"prefix", "owner", "worker", "scheduler", "pipeline", "inputs"} <= set(v2)
    assert "pipeline" not in v1 and "input" not in v2


@quick(25)
@given(jps.jobhomes(worker="job/worker.py"), jps.jobhomes())
def test_jobhomes_are_real_zip_archives_with_the_worker(fixed, drawn):
    for archive in (fixed, drawn):
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            assert zf.testzip() is None
            names = zf.namelist()
        assert not home.scan(archive).unsafe
        assert [e.name for e in home.entries(archive)] == names
    assert home.contains(fixed, "job/worker.py")


@quick(25)
@given(jps.jobenvs())
def test_jobenvs_map_strings_to_strings(envs):
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in envs.items())


# -- packs the master rejects -------------------------------------------

@quick(60)
@given(jps.malformed_jobpacks())
def test_malformed_jobpacks_fail_with_their_code(case):
    data, code = case
    assert code in ALL_MALFORMED_CODES
    assert codes(data) == [code]


@pytest.mark.parametrize("kind", jps.MALFORMED_KINDS)
@quick(8)
@given(data=st.data())
def test_each_malformed_kind_gives_its_codes(kind, data):
    pack, code = data.draw(jps.malformed_jobpacks(kind))
    assert code in jps.MALFORMED_CODES[kind]
    assert codes(pack) == [code]


REACHABLE = [(kind, code) for kind, kinds in jps.MALFORMED_CODES.items() for code in kinds]


@pytest.mark.parametrize("kind, code", REACHABLE, ids=[f"{k}-{c}" for k, c in REACHABLE])
def test_every_code_of_every_kind_is_produced(kind, code):
    found = find(jps.malformed_jobpacks(kind), lambda case: case[1] == code,
                 settings=settings(max_examples=500, database=None, phases=[Phase.generate],
                                   derandomize=True, suppress_health_check=list(HealthCheck)))
    assert codes(found[0]) == [code]


class _NoStrCompare(bytes):
    """Bytes that fail the test when compared with a str: the comparison
    python -bb makes an error (BytesWarning), caught here under any flags."""

    __hash__ = bytes.__hash__

    def __eq__(self, other):
        assert not isinstance(other, str), f"{bytes(self)!r} compared with {other!r}"
        return bytes.__eq__(self, other)

    def __ne__(self, other):
        assert not isinstance(other, str), f"{bytes(self)!r} compared with {other!r}"
        return bytes.__ne__(self, other)


def _no_str_compare(value):
    if type(value) is bytes:
        return _NoStrCompare(value)
    return tuple(map(_no_str_compare, value)) if type(value) is tuple else value


@settings(max_examples=1, database=None, deadline=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_json_faults_never_compare_bytes_with_str(data):
    """Regression: a fault with bytes third (("trailing", b"x", b"")) was
    compared with ("jobenvs",), a BytesWarning that made
    test_cli_formats fail under -bb with --hypothesis-seed=1."""
    faults = jps.malformed._sweep_json_faults() + [("trailing", b"}", b"jobenvs")]
    assert [f for f in faults if jps.malformed._names_the_jobenvs(_no_str_compare(f))] == [
        ("empty", b"", "jobenvs")]
    # One pack of each shape with a third element (the rest have none to compare).
    shapes = {f[0] + str(type(f[2])): f for f in reversed(faults) if len(f) >= 3}
    for fault in shapes.values():
        pack, code = data.draw(jps.malformed._json_faults(st.just(_no_str_compare(fault))))
        assert codes(pack) == [code]


def test_malformed_kinds_cover_the_spec_rejections():
    assert set(jps.MALFORMED_KINDS) == {
        "header", "truncated", "json", "missing_key", "wrong_type", "prefix", "save_info",
        "save_results", "pipeline", "grouping", "repeated_stages", "inputs", "version"}
    master_codes = {"invalid_header", "invalid_prefix", "unsupported_version",
                    "invalid_job_inputs", "invalid_pipeline", "invalid_grouping",
                    "repeated_pipeline_stages", "invalid_job_save_info",
                    "invalid_job_save_results"}
    assert master_codes <= ALL_MALFORMED_CODES


# -- packs only strict mode rejects ----------------------------------------

def check_strict_violation(data, code):
    assert validate(data) == [], "the master must accept a strict violation"
    problems = validate(data, strict=True)
    assert [p.code for p in problems] == [code]
    assert problems[0].beyond_master


@quick(40)
@given(jps.strict_violations())
def test_strict_violations_pass_the_master_and_fail_strict_mode(case):
    check_strict_violation(*case)


@pytest.mark.parametrize("kind", jps.STRICT_CODES)
@quick(8)
@given(data=st.data())
def test_each_strict_violation(kind, data):
    pack, code = data.draw(jps.strict_violations(kind))
    assert code == kind
    check_strict_violation(pack, code)


# -- any standard spelling ------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\ufffe\uffff")),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids,
                                                               max_size=3), max_leaves=8)


@quick(60)
@given(data=st.data(), value=JSON_VALUES)
def test_render_json_is_standard_json_of_the_value_that_the_master_reads_alike(data, value):
    text = data.draw(jps.render_json(value))
    assert json.loads(text) == value
    scan = _core.scan_json(text)
    assert scan.ok and scan.dialect_features == 0
    assert dialect.loads(text) == value


def test_render_json_draws_every_spelling():
    seen = []
    value = {"k": ["\u00e9\U0001f600\"/\n\x01", 1.5, True, None, {}]}

    @settings(max_examples=150, derandomize=True, database=None, phases=[Phase.generate])
    @given(jps.render_json(value))
    def collect(text):
        seen.append(text)

    collect()
    text = b"".join(seen)
    for spelling in (b"\xc3\xa9", b"\\u00e9", b"\\u00E9", b"\xf0\x9f\x98\x80",
                     b"\\ud83d\\ude00", b"\\/", b"\\n", b"\\u000a", b"\t", b"\r", b"E"):
        assert spelling in text, spelling


@quick(30)
@given(jps.varied_jobpacks())
def test_varied_jobpacks_are_accepted_by_the_master_and_by_strict_mode(data):
    assert codes(data, strict=True) == []
    jobinfo(data)


@quick(3)
@given(jps.strict.valid_sweep()[0])
def test_a_home_at_the_bomb_ratio_is_valid_and_exactly_at_it(data):
    """Declared sizes above the floor, at the ratio exactly: strict mode
    accepts it, one declared byte more would be a zip bomb."""
    assert codes(data, strict=True) == []
    pack = JobPack.loads(data)
    zip_bytes = bytes(pack.jobhome)
    total = home.scan(zip_bytes).total_uncompressed
    assert total == home.BOMB_RATIO * len(zip_bytes) > home.BOMB_FLOOR
    assert too_much(total + 1, len(zip_bytes)) and not too_much(total, len(zip_bytes))


def test_labelled_draw_is_deterministic_and_labelled():
    a = jps.labelled_draw(30, 5)
    assert a == jps.labelled_draw(30, 5)
    assert {c.kind for c in a} == {"valid", "malformed", "strict"}
    assert [c.data for c in a] != [c.data for c in jps.labelled_draw(30, 6)]
    for case in a:
        if case.kind == "malformed":
            assert codes(case.data) == [case.code]
        else:
            assert codes(case.data) == [] and codes(case.data, strict=True) == (
                [] if case.kind == "valid" else [case.code])
    with pytest.raises(InvalidArgument):
        jps.labelled_draw(3, 1, kinds=["bogus"])


# -- shrinking and arguments ---------------------------------------------

SHRINK = settings(database=None, max_examples=200, derandomize=True,
                  suppress_health_check=list(HealthCheck))


def shrunk(strategy, condition=lambda value: True):
    """The smallest example that satisfies condition, as a failing test shows it."""
    with warnings.catch_warnings():
        # Hypothesis' shrinker compares its cache keys, which mix bytes and
        # ints; -bb would turn that harmless comparison into an error.
        warnings.simplefilter("ignore", BytesWarning)
        return find(strategy, condition, settings=SHRINK)


REQUIRED = {1: {"prefix", "owner", "worker", "scheduler", "input", "nr_reduces"},
            2: {"prefix", "owner", "worker", "scheduler", "pipeline", "inputs"}}


def test_a_failing_pack_shrinks_to_a_small_readable_one():
    smallest = shrunk(jps.jobpacks())
    assert smallest.jobenvs == {} and smallest.jobdata == b""
    assert set(smallest.jobdict) == REQUIRED[smallest.version]
    # The worker alone; a directory entry of its own parents may stay (the
    # shrinker does not always drop that choice: seen on 3.9), nothing else.
    worker = smallest.jobdict["worker"]
    names = [e.name for e in home.entries(smallest.jobhome)]
    assert [n for n in names if not n.endswith("/")] == [worker]
    assert all(worker.startswith(n) for n in names if n.endswith("/"))
    assert len(jps.disco_dumps(smallest)) < 600


@pytest.mark.slow
@pytest.mark.skipif(not SLOW, reason="a few shrinks take ~30 s: run with JOBPACK_SLOW=1")
def test_shrinking_keeps_the_fault_and_drops_the_rest():
    v2 = shrunk(jps.jobpacks(), lambda pack: pack.version == 2)
    assert set(v2.jobdict) == REQUIRED[2] and len(jps.disco_dumps(v2)) < 600
    data, code = shrunk(jps.malformed_jobpacks("pipeline"))
    assert code == "invalid_pipeline" and len(data) < 600
    data, code = shrunk(jps.strict_violations("worker_path_unsafe"))
    assert code == "worker_path_unsafe" and len(data) < 600


def test_bad_arguments_are_refused():
    for make in (lambda: jps.jobdicts(3), lambda: jps.jobpacks(0),
                 lambda: jps.packed_jobpacks("2"), lambda: jps.malformed_jobpacks("nope"),
                 lambda: jps.strict_violations("invalid_prefix")):
        with pytest.raises(InvalidArgument):
            make()
