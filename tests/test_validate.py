"""validate() and jobinfo() against the real master's verdicts, and strict mode."""
import io
import json
import struct
import zipfile
from pathlib import Path

import pytest

from jobpack import JobPack, JSONDecodeError, _core, dialect
from jobpack._native import lib
from jobpack.validate import MasterRejection, Problem, jobinfo, validate

VECTORS = Path(__file__).parent / "vectors"
VERDICTS = [json.loads(line) for line in (VECTORS / "verdicts.jsonl").read_text().splitlines()]
MASTER_CODES = {"invalid_header", "invalid_prefix", "unsupported_version", "invalid_job_inputs",
                "invalid_pipeline", "invalid_grouping", "repeated_pipeline_stages",
                "invalid_job_save_info", "invalid_job_save_results"}


def as_verdict_json(value):
    """jobinfo values as verdicts.jsonl spells them (invalid UTF-8 as hex)."""
    if isinstance(value, str):
        raw = value.encode("utf-8", "surrogateescape")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return {"invalid_utf8_hex": raw.hex()}
    if isinstance(value, (list, tuple)):
        return [as_verdict_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_verdict_json(v) for k, v in value.items()}
    return value


def pack_bytes(vector):
    return (VECTORS / "packs" / vector["file"]).read_bytes()


# -- what our rules predict where the master crashes ---------------------
#
# On 91 of the rejected vectors the master crashes ("invalid payload: ...")
# instead of naming a problem, so there is no master code to compare with.
# predicted_code() derives our code for such a pack from the rules alone
# (SPEC.md "Order of the master's checks", README's list of our codes), in
# plain Python, without calling validate(); the test then requires
# validate() to agree, and the prediction to be a code the master's crash
# can stand for (CRASH_CAN_MEAN: which Erlang error each check raises).

CRASH_CAN_MEAN = {
    # the JSON decoder's own throw on bad UTF-8 in a string
    "payload:throw:invalid_utf8": {"invalid_utf8"},
    # mochijson2's state machine meeting a token it has no clause for, or the
    # decode result not matching {struct, _}
    "payload:error:case_clause": {"invalid_json"},
    "payload:error:badmatch": {"invalid_json", "jobenvs_not_object"},
    "payload:error:if_clause": {"invalid_json"},
    # a guard (is_binary, is_list, is_boolean...) on a field of the wrong type
    "payload:error:function_clause": {"jobdict_not_object", "prefix_not_string",
                                      "save_info_not_string", "scheduler_not_object",
                                      "invalid_v1_input", "invalid_v1_flags"},
    # list_to_binary / binary_to_float / unicode escapes on bad values
    "payload:error:badarg": {"jobenvs_not_strings", "invalid_json"},
    # a list comprehension over something that is not a list
    "payload:error:bad_generator": {"invalid_v1_input"},
}


def _decode(section, **kwargs):
    """(value, None), or (None, our code for a section that does not decode)."""
    try:
        return dialect.loads(section, **kwargs), None
    except JSONDecodeError as e:
        return None, "invalid_utf8" if e.status == "JP_ERR_JSON_UTF8" else "invalid_json"


def _is_string(x):
    """What the master's string guards let through: a binary or a list."""
    return isinstance(x, (str, list))


def _v1_input_ok(item):
    return isinstance(item, str) or (isinstance(item, list) and all(_is_string(r) for r in item))


def predicted_code(data: bytes) -> str:
    """Our code for a pack whose header passes, from the rules, first fault wins."""
    _, d, e, h, _ = struct.unpack_from("!IIIII", data)
    version = struct.unpack_from("!H", data, 2)[0]
    jobdict, bad = _decode(data[d:e])
    if bad:
        return bad
    if not isinstance(jobdict, dict):
        return "jobdict_not_object"
    if "prefix" not in jobdict:
        return "missing_key:prefix"
    envs_section = data[e:h]
    envs, bad = _decode(envs_section)
    if bad:
        return bad
    if not isinstance(envs, dict):
        return "jobenvs_not_object"
    nonstring_key = _core.scan_json(envs_section).features & lib.JP_JSON_NONSTRING_KEY
    if nonstring_key or not all(isinstance(v, str) for _, v in dialect.loads(envs_section, pairs=True)):
        return "jobenvs_not_strings"
    for key in ("owner", "worker"):
        if key not in jobdict:
            return f"missing_key:{key}"
    if jobdict.get("save_results", False) not in (True, False):
        return "invalid_job_save_results"
    save_info = jobdict.get("save_info", "ddfs")
    if not _is_string(save_info):
        return "save_info_not_string"
    if not (save_info[:4] in ([104, 100, 102, 115], [100, 100, 102, 115])
            or isinstance(save_info, str) and save_info.startswith(("hdfs", "ddfs"))):
        return "invalid_job_save_info"
    prefix = jobdict["prefix"]
    if not _is_string(prefix):
        return "prefix_not_string"
    if any(c in ("/", ".", 46, 47) for c in prefix):
        return "invalid_prefix"
    required = {1: ("scheduler", "input", "nr_reduces"), 2: ("pipeline", "inputs", "scheduler")}
    if version not in required:
        return "unsupported_version"
    for key in required[version]:
        if key not in jobdict:
            return f"missing_key:{key}"
    if version == 2:
        if not isinstance(jobdict["scheduler"], dict):
            return "scheduler_not_object"
        return "a master code (pipeline or inputs)"
    if not isinstance(jobdict["scheduler"], dict):
        return "scheduler_not_object"
    if not (isinstance(jobdict["input"], list) and all(map(_v1_input_ok, jobdict["input"]))):
        return "invalid_v1_input"
    flags = [jobdict.get("map?", False), jobdict.get("reduce?", False)]
    if jobdict.get("reduce?", False) is True and jobdict["nr_reduces"] != 1:
        flags.append(jobdict.get("reduce_shuffle?", False))
    if not all(f is True or f is False for f in flags):
        return "invalid_v1_flags"
    return "accepted"


MASTER_CRASHES = [v for v in VERDICTS if (v["master_error_kind"] or "").startswith("payload:")]
MASTER_NAMED = [v for v in VERDICTS if v["master_error_kind"] and v not in MASTER_CRASHES]


def test_the_vector_counts_the_readme_gives():
    # README: 105 codes compared exactly, 91 master crashes predicted.
    assert (len(VERDICTS), len(MASTER_NAMED), len(MASTER_CRASHES)) == (360, 105, 91)


@pytest.mark.parametrize("vector", VERDICTS, ids=[v["file"] for v in VERDICTS])
def test_verdict_and_code_agree_with_master(vector):
    problems = validate(pack_bytes(vector))
    assert (not problems) == vector["master_valid"], problems
    assert all(isinstance(p, Problem) and not p.beyond_master for p in problems)
    assert len(problems) <= 1
    kind = vector["master_error_kind"]
    if kind and not kind.startswith("payload:"):
        assert problems[0].code == kind


@pytest.mark.parametrize("vector", MASTER_CRASHES, ids=[v["file"] for v in MASTER_CRASHES])
def test_code_where_the_master_crashes_is_the_predicted_one(vector):
    data = pack_bytes(vector)
    expected = predicted_code(data)
    assert expected in CRASH_CAN_MEAN[vector["master_error_kind"]], (expected, vector["desc"])
    [problem] = validate(data)
    assert problem.code == expected, vector["desc"]
    # Our own codes for the master's crashes never borrow its vocabulary.
    assert problem.code not in MASTER_CODES


def test_predicted_code_follows_the_rules_on_packs_the_master_names():
    # The predictor itself can fail: on the 105 packs the master names a
    # problem for (header ones aside), it must give the master's code where
    # that code comes from the steps it models.
    modelled = [v for v in MASTER_NAMED if v["master_error_kind"] != "invalid_header"]
    for vector in modelled:
        got = predicted_code(pack_bytes(vector))
        if got != "a master code (pipeline or inputs)":
            assert got == vector["master_error_kind"], vector["file"]


ACCEPTED = [v for v in VERDICTS if v["master_valid"]]


@pytest.mark.parametrize("vector", ACCEPTED, ids=[v["file"] for v in ACCEPTED])
def test_jobinfo_agrees_with_master(vector):
    assert as_verdict_json(jobinfo(pack_bytes(vector))) == vector["jobinfo"]


def test_agreement_counts():
    # The figures README.md gives: 360/360 verdicts, 105/105 master codes
    # exact, 91/91 codes where the master crashes as predicted.
    verdicts = exact = predicted = 0
    for vector in VERDICTS:
        problems = validate(pack_bytes(vector))
        verdicts += (not problems) == vector["master_valid"]
        kind = vector["master_error_kind"]
        if vector in MASTER_NAMED:
            exact += problems[0].code == kind
        elif vector in MASTER_CRASHES:
            predicted += problems[0].code == predicted_code(pack_bytes(vector))
    assert (verdicts, exact, predicted) == (len(VERDICTS), len(MASTER_NAMED), len(MASTER_CRASHES))


def test_jobinfo_raises_master_rejection_with_the_problem():
    rejected = next(v for v in VERDICTS if v["master_error_kind"] == "invalid_prefix")
    with pytest.raises(MasterRejection) as info:
        jobinfo(pack_bytes(rejected))
    assert info.value.problem.code == "invalid_prefix"
    assert info.value.offset == info.value.problem.offset
    assert "invalid_prefix" in str(info.value) and info.value.problem.message in str(info.value)


def test_validate_accepts_paths_files_and_jobpacks(tmp_path):
    vector = ACCEPTED[0]
    data = pack_bytes(vector)
    path = tmp_path / "x.pack"
    path.write_bytes(data)
    assert validate(path) == validate(str(path)) == validate(io.BytesIO(data)) == []
    assert validate(JobPack.loads(data)) == validate(memoryview(data)) == []


# -- building packs for the rule tests ---------------------------------

def home_zip(names=("job/worker.py",), mode=0o100755):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, b"print('hi')\n")
    return buf.getvalue()


def v2_jobdict(**changes):
    jobdict = {"prefix": "WordCount", "owner": "alice@host", "worker": "job/worker.py",
               "pipeline": [["map", "split", False]], "inputs": [[0, 0, ["raw://x"]]],
               "scheduler": {}, "save_results": False, "save_info": "ddfs"}
    jobdict.update(changes)
    for key, value in list(jobdict.items()):
        if value is DROP:
            del jobdict[key]
    return jobdict


DROP = object()


def raw_pack(jobdict_bytes, jobenvs_bytes=b"{}", home=None, version=2, data=b""):
    home = home_zip() if home is None else home
    d, e = jobdict_bytes, jobenvs_bytes
    offsets = [128, 128 + len(d), 128 + len(d) + len(e), 128 + len(d) + len(e) + len(home)]
    return JobPack.header(offsets, version=version) + d + e + home + data


def make(version=2, jobenvs=None, home=None, **changes):
    return raw_pack(json.dumps(v2_jobdict(**changes)).encode(), json.dumps(jobenvs or {}).encode(),
                    home=home, version=version)


def codes(data, strict=False):
    return [p.code for p in validate(data, strict=strict)]


def test_clean_pack_passes_strict():
    assert validate(make(), strict=True) == []


@pytest.mark.parametrize("changes, code", [
    ({"prefix": DROP}, "missing_key:prefix"),
    ({"worker": DROP}, "missing_key:worker"),
    ({"owner": DROP}, "missing_key:owner"),
    ({"prefix": "a.b"}, "invalid_prefix"),
    ({"prefix": [97, 47]}, "invalid_prefix"),
    ({"save_info": "s3://x"}, "invalid_job_save_info"),
    ({"save_info": [100, 100, 102]}, "invalid_job_save_info"),
    ({"save_results": "yes"}, "invalid_job_save_results"),
    ({"pipeline": [["map", "split"]]}, "invalid_pipeline"),
    ({"pipeline": [["map", "split", False], ["map", "group_all", False]]}, "repeated_pipeline_stages"),
    ({"pipeline": [["map", "bogus", False]]}, "invalid_grouping"),
    ({"inputs": [[0, 0, "raw://x"]]}, "invalid_job_inputs"),
    ({"inputs": [[True, 0, ["raw://x"]]]}, "invalid_job_inputs"),
    ({"pipeline": DROP}, "missing_key:pipeline"),
    ({"scheduler": "x"}, "scheduler_not_object"),
    ({"prefix": 5}, "prefix_not_string"),
])
def test_master_rules(changes, code):
    assert codes(make(**changes)) == [code]


def test_master_accepts_what_it_does_not_type_check():
    for changes in ({"worker": None}, {"owner": 5}, {"prefix": []}, {"prefix": ""},
                    {"scheduler": {"max_cores": "x"}}, {"save_info": [104, 100, 102, 115, [1]]},
                    {"prefix": ["a", 46.0]}):
        assert codes(make(**changes)) == [], changes


def test_record_fields_fail_in_the_masters_order():
    # #jobinfo{} fields run in disco.hrl's order: jobenvs, owner, worker,
    # save_results, save_info; then the prefix characters; then the version.
    both = make(jobenvs={"A": "1"}, owner=DROP, worker=DROP)
    assert codes(both) == ["missing_key:owner"]
    assert codes(make(worker=DROP, save_results=1)) == ["missing_key:worker"]
    assert codes(make(save_results=1, save_info="x")) == ["invalid_job_save_results"]
    assert codes(make(save_info="x", prefix="a/b")) == ["invalid_job_save_info"]
    assert codes(make(prefix="a/b", version=3)) == ["invalid_prefix"]
    assert codes(make(version=3, pipeline=DROP)) == ["unsupported_version"]
    bad_envs = raw_pack(json.dumps(v2_jobdict(owner=DROP)).encode(), b'{"A": 1}')
    assert codes(bad_envs) == ["jobenvs_not_strings"]
    assert codes(raw_pack(json.dumps(v2_jobdict(prefix=DROP)).encode(), b"[]")) == ["missing_key:prefix"]


def test_version1_conversion_and_crashes():
    v1 = {"prefix": "P", "owner": "o", "worker": "job/worker.py", "scheduler": {"force_remote": True},
          "input": ["http://h1/a", ["http://h2/b", "http://h3/c"], "dir://n1/x"],
          "nr_reduces": 4, "map?": True, "reduce?": True, "reduce_shuffle?": True}
    info = jobinfo(raw_pack(json.dumps(v1).encode(), version=1))
    assert info["pipeline"] == [["map", "split", False], ["map_shuffle", "group_node", False],
                                ["reduce", "group_label", False], ["reduce_shuffle", "group_node", False]]
    assert info["inputs"][1]["replicas"] == [["http://h2/b", "h2"], ["http://h3/c", "h3"]]
    assert info["inputs"][2] == {"id": 2, "type": "dir", "host": "n1", "url": "dir://n1/x", "labels": []}
    assert info["schedule"] == {"locality": "remote", "max_cores": 2 ** 31}
    for change, code in (({"input": "http://x"}, "invalid_v1_input"), ({"input": [5]}, "invalid_v1_input"),
                         ({"input": [[5.0]]}, "invalid_v1_input"), ({"map?": "yes"}, "invalid_v1_flags"),
                         ({"reduce_shuffle?": None}, "invalid_v1_flags"), ({"nr_reduces": 1.0,
                          "reduce_shuffle?": 3}, "invalid_v1_flags")):
        assert codes(raw_pack(json.dumps({**v1, **change}).encode(), version=1)) == [code], change
    # nr_reduces = 1 makes reduce_shuffle? irrelevant; an iolist replica is fine.
    fine = {**v1, "nr_reduces": 1, "reduce_shuffle?": "x", "input": [[[104, "ttp://a"]]]}
    assert codes(raw_pack(json.dumps(fine).encode(), version=1)) == []


# -- strict mode: each check, on a pack the master accepts ------------

def strict_only(data, code):
    assert validate(data) == [], "the master must accept this pack"
    found = [p for p in validate(data, strict=True) if p.code == code]
    assert found and all(p.beyond_master for p in found), validate(data, strict=True)
    return found[0]


def test_strict_worker_missing_from_home():
    strict_only(make(worker="job/other.py"), "worker_not_in_home")


def test_strict_worker_outside_home():
    strict_only(make(worker="../evil.py"), "worker_path_unsafe")
    strict_only(make(worker="/usr/bin/evil"), "worker_path_unsafe")


def test_strict_zip_traversal():
    problem = strict_only(make(home=home_zip(("job/worker.py", "../../etc/cron.d/x"))),
                          "zip_path_traversal")
    assert "../../etc/cron.d/x" in problem.message
    strict_only(make(home=home_zip(("job/worker.py", "/etc/passwd"))), "zip_path_traversal")


def test_strict_home_not_zip():
    strict_only(make(home=b"this is not a zip archive"), "jobhome_not_zip")


def test_strict_zip_bomb():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("job/worker.py", b"x")
        zf.writestr("job/bomb", b"\0" * (200 << 20))
    strict_only(make(home=buf.getvalue()), "zip_bomb")


def test_strict_prefix_not_portable():
    for prefix in ("", "a-b", "a b", "jöb", []):
        strict_only(make(prefix=prefix), "prefix_not_portable")


def test_strict_dialect_only_json():
    jobdict = json.dumps(v2_jobdict()).encode()
    trailing = jobdict[:-1] + b", }"
    problem = strict_only(raw_pack(trailing), "json_dialect_only")
    assert problem.offset == 128 + trailing.rindex(b"}")
    strict_only(raw_pack(jobdict.replace(b'"alice@host"', b'"al\\xice"')), "json_dialect_only")
    strict_only(raw_pack(jobdict.replace(b'{"prefix"', b'{1: 2, "prefix"')), "json_dialect_only")
    strict_only(raw_pack(jobdict.replace(b"alice", b"al\x01ice")), "json_dialect_only")
    strict_only(raw_pack(jobdict.replace(b"alice", b"al\xed\xa0\x80ice")), "json_dialect_only")


def test_strict_duplicate_keys():
    jobdict = json.dumps(v2_jobdict()).encode()
    strict_only(raw_pack(jobdict.replace(b'{"prefix"', b'{"owner": "x", "prefix"')), "duplicate_key")
    strict_only(raw_pack(jobdict, b'{"A": "1", "A": "2"}'), "duplicate_key")


def test_strict_duplicate_keys_in_json_only_the_master_reads():
    # Such a jobdict is decoded once, by the core's scan and jobpack.dialect,
    # noting repeated keys as it goes (also past Python's recursion depth).
    jobdict = json.dumps(v2_jobdict()).encode()
    trailing = jobdict[:-1] + b", }"
    assert "duplicate_key" not in codes(raw_pack(trailing), strict=True)
    repeated = trailing.replace(b'{"prefix"', b'{"owner": "x", "prefix"')
    problem = strict_only(raw_pack(repeated), "duplicate_key")
    assert "'owner'" in problem.message and problem.offset == 128
    assert jobinfo(raw_pack(repeated))["owner"] == v2_jobdict()["owner"]  # the last value
    deep = b'[' * 2000 + b'{"a": 1, "b": 2,}' + b']' * 2000
    deep_dict = jobdict[:-1] + b', "params": ' + deep + b"}"
    assert "duplicate_key" not in codes(raw_pack(deep_dict), strict=True)
    deep_repeat = deep_dict.replace(b'"b": 2', b'"a": 2')
    assert "'a'" in strict_only(raw_pack(deep_repeat), "duplicate_key").message


def test_strict_reserved_header_bytes():
    data = bytearray(make())
    data[100] = 7
    assert strict_only(bytes(data), "reserved_bytes_nonzero").offset == 100


def test_strict_third_party_shapes_are_explained():
    found = validate(make(pipeline=[["map", "split"]]), strict=True)
    assert found[0].code == "invalid_pipeline" and not found[0].beyond_master
    assert "pipeline_stage_two_elements" in [p.code for p in found if p.beyond_master]
    found = validate(make(scheduler="local"), strict=True)
    assert "scheduler_is_string" in [p.code for p in found if p.beyond_master]


def test_strict_reports_master_problem_first():
    problems = validate(make(prefix="a/b", worker="../x"), strict=True)
    assert problems[0].code == "invalid_prefix" and not problems[0].beyond_master
    assert any(p.beyond_master for p in problems[1:])


def test_header_problem_has_offset():
    data = make()
    bad = data[:4] + struct.pack("!I", 129) + data[8:]
    [problem] = validate(bad)
    assert problem.code == "invalid_header" and problem.offset == 4


# -- the master's byte-string values (prefix, save_info) ------------------

# The master keeps a JSON string as the list of its UTF-8 bytes and a JSON
# array of integers as that list: equal master values must be equal here,
# as the str whose surrogateescape encoding is the master's bytes.  A list
# that is not a flat list of bytes is no byte string and stays a list.
BYTE_STRINGS = [
    # (JSON text of prefix, JSON text of save_info, the master's bytes or list)
    (b'"\\u00e9"', b'"ddfs\\u00e9"', b"\xc3\xa9"),
    (b'"\xc3\xa9"', b'"ddfs\xc3\xa9"', b"\xc3\xa9"),
    (b"[195, 169]", b"[100, 100, 102, 115, 195, 169]", b"\xc3\xa9"),
    (b"[233]", b"[100, 100, 102, 115, 233]", b"\xe9"),          # not UTF-8
    (b'"\xed\xa0\x80"', b'"ddfs\xed\xa0\x80"', b"\xed\xa0\x80"),  # lax UTF-8
    (b"[237, 160, 128]", b"[100, 100, 102, 115, 237, 160, 128]", b"\xed\xa0\x80"),
    (b"[]", b'"ddfs"', b""),
    (b"[1000, 2000]", b"[100, 100, 102, 115, 1000, 2000]", [1000, 2000]),
    (b"[55296]", b"[100, 100, 102, 115, 55296]", [55296]),
    (b"[[104], 105]", b"[100, 100, 102, 115, [104], 105]", [[104], 105]),
    (b"[104, true]", b"[100, 100, 102, 115, 104.0]", [104, True]),
]


def _with(field, json_text, **changes):
    base = json.dumps(v2_jobdict(**{field: "@"}, **changes)).encode()
    return raw_pack(base.replace(b'"@"', json_text))


@pytest.mark.parametrize("prefix, save_info, master", BYTE_STRINGS,
                         ids=[repr(case[0])[:30] for case in BYTE_STRINGS])
def test_jobinfo_byte_strings_are_the_masters(prefix, save_info, master):
    got, twin = jobinfo(_with("prefix", prefix))["prefix"], jobinfo(_with("save_info", save_info))
    if isinstance(master, bytes):
        assert type(got) is str and got.encode("utf-8", "surrogateescape") == master
        assert twin["save_info"] == "ddfs" + got
    else:
        assert got == master and twin["save_info"] == json.loads(save_info)


def test_the_issue_table():
    prefix = [jobinfo(_with("prefix", text))["prefix"]
              for text in (b'"\xc3\xa9"', b"[195,169]", b"[233]", b"[55296]")]
    assert prefix == ["\u00e9", "\u00e9", "\udce9", [55296]]
    save_info = [jobinfo(_with("save_info", text))["save_info"]
                 for text in (b'"ddfs\xc3\xa9"', b"[100,100,102,115,195,169]",
                              b"[100,100,102,115,233]")]
    assert save_info == ["ddfs\u00e9", "ddfs\u00e9", "ddfs\udce9"]


def test_a_view_of_the_pack_gets_the_same_problems():
    """Sections sliced from a view (mapped files, bytearrays) are decoded
    from the view: the same problems as from bytes, on every interpreter
    (PyPy's str(view, "utf-8") lets encoded surrogates through)."""
    from conftest import load_verdicts, pack_bytes
    names = [v["file"] for v in load_verdicts()]
    assert any("cesu" in n for n in names)
    for name in names:
        data = pack_bytes(name)
        for strict in (False, True):
            assert validate(bytearray(data), strict=strict) == validate(data, strict=strict), name
