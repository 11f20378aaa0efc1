"""Regression tests for what the fuzzers found (inputs in fuzz/regressions/).

Each input is also replayed by fuzz/run_smoke.sh.  A bug that is still open
gets a strict xfail test here (and, if a long fuzz run would keep tripping
on it, a KNOWN_ISSUES entry in the harness): the test fails the day the bug
is fixed, as a reminder to drop the marker.  BUG-1 to BUG-4 are fixed
(BUG-2 to BUG-4 in 7f36368).
"""
import json
import sys
from pathlib import Path

import pytest

from jobpack import JobPack, JobPackError, JSONDecodeError, home
from jobpack.validate import MasterRejection, jobinfo, validate

from conftest import same_json

REGRESSIONS = Path(__file__).resolve().parent.parent / "fuzz" / "regressions"


def regression(name: str) -> bytes:
    path = REGRESSIONS / name
    if not path.exists():
        pytest.skip(f"{path} is not in this checkout")
    return path.read_bytes()


def round_trips(data: bytes) -> bool:
    """The round-trip property of fuzz/fuzz_roundtrip.py, for a pack that
    must load: it re-dumps and re-loads to an equal pack.  A pack that does
    not load is a failure here (the fuzz harness may skip those; the tests
    built on this helper guard packs that loads() must accept)."""
    pack = JobPack.loads(data)
    out = pack.dumps()
    again = JobPack.loads(out)
    return (again.version == pack.version and same_json(again.jobdict, pack.jobdict)
            and same_json(again.jobenvs, pack.jobenvs) and again.dumps() == out)


def test_round_trips_fails_on_a_pack_that_does_not_load():
    # The helper must not pass vacuously: the checks built on it guard
    # packs that loads() has to accept.
    with pytest.raises(JobPackError):
        round_trips(b"not a pack")


def test_every_regression_input_has_a_test():
    tested = {"bug1_loads_1e400_inf.jobpack", "bug2_deep_nesting.jobpack",
              "bug3_contains_same_raw_name.zip", "bug4_validate_deep_prefix.jobpack",
              "bug4_validate_deep_worker.jobpack",
              "bug5_mutate_local_name_past_entry.zip"}  # the mutator's: test_mutate.py
    if REGRESSIONS.exists():
        assert {p.name for p in REGRESSIONS.iterdir() if not p.name.startswith(".")} <= tested


def test_bug1_loads_refuses_1e400_instead_of_reading_inf():
    # fuzz_roundtrip: JobPack.loads fell back to Python's json, which reads
    # 1e400 as inf, and dumps() then refused the pack (EncodeError).  The
    # master refuses 1e400 (SPEC.md); so must loads.
    data = regression("bug1_loads_1e400_inf.jobpack")
    assert [p.code for p in validate(data)] == ["invalid_json"]
    with pytest.raises(JSONDecodeError) as info:
        JobPack.loads(data)
    assert info.value.offset == 128 + data[128:].index(b"1e400")


def test_bug2_deeply_nested_pack_round_trips():
    # The master accepts deep nesting (SPEC.md) and loads() reads any depth
    # without recursion, but dumps() raised EncodeError "nested too deeply"
    # past ~990 levels (json.dumps recurses).
    data = regression("bug2_deep_nesting.jobpack")
    assert validate(data) == []
    assert round_trips(data)


def test_bug2_shallower_nesting_round_trips():
    jobdict = {"prefix": "p", "owner": "o", "worker": "job/worker.py", "pipeline": [],
               "inputs": [], "scheduler": {}, "x": json.loads("[" * 900 + "]" * 900)}
    assert round_trips(JobPack(2, jobdict, {}).dumps())


def test_bug3_contains_finds_every_entry_name():
    # Two entries with the raw name b"\xe9": the first with the UTF-8 flag
    # (name "\udce9"), the second without (cp437: "Θ").  entries() listed
    # "Θ", contains("Θ") said False: jp_zip_find returns the first raw match
    # and contains() gave up when its flags decoded the name differently.
    zip_bytes = regression("bug3_contains_same_raw_name.zip")
    names = [e.name for e in home.entries(zip_bytes)]
    assert names == ["\udce9", "\u0398"]
    assert all(home.contains(zip_bytes, name) for name in names)


def test_bug4_validate_reports_a_deeply_nested_prefix():
    # The master accepts deep nesting, so a prefix such as {"a": [[[...]]]}
    # (2000 deep) is a plain prefix_not_string; validate() raised
    # RecursionError from _describe() -> repr() instead.
    data = regression("bug4_validate_deep_prefix.jobpack")
    assert [p.code for p in validate(data)] == ["prefix_not_string"]
    with pytest.raises(MasterRejection):
        jobinfo(data)


def test_bug4_strict_mode_reports_a_deeply_nested_worker():
    # The master takes any JSON value as the worker; strict mode says
    # worker_not_in_home, and must not recurse to say it.
    data = regression("bug4_validate_deep_worker.jobpack")
    assert validate(data) == []
    assert [p.code for p in validate(data, strict=True)] == ["worker_not_in_home"]


def _json_values():
    from hypothesis import strategies as st
    scalars = (st.none() | st.booleans() | st.integers()
               | st.floats(allow_nan=False, allow_infinity=False)
               | st.text(st.characters(exclude_categories=("Cs",)), max_size=8))
    return st.recursive(scalars, lambda kids: st.lists(kids, max_size=3)
                        | st.dictionaries(st.text(max_size=4), kids, max_size=3), max_leaves=8)


def test_bug2_fix_deep_dumps_writes_what_json_dumps_writes():
    # The fix encodes deep values without recursion; its bytes must be
    # json.dumps's (Disco's), which the json module writes given the stack.
    pytest.importorskip("hypothesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_json_values(), st.lists(st.sampled_from(["list", "dict"]), min_size=1000,
                                    max_size=1010))
    def check(inner, wrappers):
        value = inner
        for kind in wrappers:
            value = [value, 1] if kind == "list" else {"k": value, "z": [None]}
        pack = JobPack(2, {"prefix": "p", "x": value}, {"A": "1"})
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(20000)
        try:
            expected = json.dumps({"prefix": "p", "x": value}).encode("ascii")
        finally:
            sys.setrecursionlimit(limit)
        data = pack.dumps()
        assert data[128:128 + len(expected)] == expected
        assert round_trips(data)

    check()
