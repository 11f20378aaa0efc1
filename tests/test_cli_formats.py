"""validate's output formats, read back by the tools CI uses.

SARIF goes through sarif-tools (``sarif summary``, ``sarif csv``), JUnit
through junitparser; every format has a snapshot (tests/snapshots/) of the
same packs, one of them named and built with unprintable characters.
Regenerate the snapshots with JOBPACK_UPDATE_SNAPSHOTS=1 after a deliberate
output change, and read the diff.
"""
import csv
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from jobpack import JobPack, __version__
from jobpack import strategies as jps
from jobpack.cli.formats import FORMATS
from jobpack.cli.rules import RULES, rule_of
from jobpack.validate import validate

from test_cli import CLASSIC, INVALID, PACKS, WORDCOUNT, jobdict_v2, run, zip_with

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("JOBPACK_UPDATE_SNAPSHOTS", "") not in ("", "0")
ODD_NAME = "odd \x1b[31mred\x07\x7f\u0085 name.jobpack"  # ESC, BEL, DEL, C1 NEL


def tool(name):
    """A console script installed next to this Python (the test extra's tools)."""
    path = shutil.which(name, path=os.path.dirname(sys.executable))
    assert path is not None, f"{name} is missing: pip install -e '.[test]'"
    return path


@pytest.fixture
def packs_dir(tmp_path):
    """good, failing, strict-only, truncated and oddly named packs, in one folder."""
    root = tmp_path / "packs"
    root.mkdir()
    shutil.copy(WORDCOUNT, root / "good.jobpack")
    shutil.copy(INVALID, root / "bad-prefix.jobpack")
    (root / "cut.jobpack").write_bytes(WORDCOUNT.read_bytes()[:300])
    home = zip_with({"worker.py": "print(1)\n", "../escape.sh": "echo gotcha\n"})
    JobPack(2, jobdict_v2(), {}, home, b"").dump(str(root / "traversal.jobpack"))
    # A prefix with control characters: the master rejects it ('/'), and the
    # message quotes it.
    JobPack(2, jobdict_v2(prefix="a/\x1b]0;owned\x07\r\x9b"), {"K": "\x1b[2J"},
            zip_with({"worker.py": "pass\n"}), b"").dump(str(root / ODD_NAME))
    return root


def validate_cli(fmt, cwd, *extra):
    return run("validate", "--strict", "--isolated", "--format", fmt, *extra, ".",
               "missing.jobpack", cwd=cwd)


# -- rules ------------------------------------------------------------------------

def test_every_code_in_the_vectors_has_a_rule_with_help():
    seen = set()
    for path in sorted(PACKS.iterdir()):
        for p in validate(str(path), strict=True):
            seen.add(p.code)
            assert rule_of(p.code) in RULES, p.code
            assert RULES[rule_of(p.code)].beyond_master == p.beyond_master, p.code
    assert len(seen) > 25
    for rule in RULES.values():
        assert rule.summary and len(rule.help) > 30, rule.code


def test_every_code_in_validate_s_source_has_a_rule():
    module = importlib.import_module("jobpack.validate")  # the module, not the function
    source = Path(module.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'(?:_Reject|_strict|Problem)\(\s*f?"([a-z][a-z0-9_]*)', source))
    for pair in re.findall(r'code = "([a-z0-9_]+)" if .* else "([a-z0-9_]+)"', source):
        codes.update(pair)
    assert {"invalid_header", "missing_key", "invalid_v1_flags", "zip_bomb",
            "invalid_json", "invalid_utf8"} <= codes
    assert codes - set(RULES) == set()


@settings(max_examples=60, suppress_health_check=list(HealthCheck), deadline=None)
@given(case=jps.malformed_jobpacks() | jps.strict_violations())
def test_every_code_the_strategies_provoke_has_a_rule(case):
    data = case[0] if isinstance(case, tuple) else case
    for p in validate(data, strict=True):
        assert rule_of(p.code) in RULES, p.code


# -- SARIF -----------------------------------------------------------------------

def test_sarif_is_read_by_sarif_tools(packs_dir):
    proc = validate_cli("sarif", packs_dir)
    assert proc.returncode == 2, proc.err  # the missing file
    doc = json.loads(proc.out)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = doc["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)
    by_uri = {}
    for result in run_["results"]:
        loc = result["locations"][0]["physicalLocation"]
        by_uri.setdefault(loc["artifactLocation"]["uri"], []).append(result)
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["properties"]["beyond_master"] == rules[result["ruleIndex"]][
            "properties"]["beyond_master"]
        assert not any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0
                       for c in loc["artifactLocation"]["uri"])
    assert "good.jobpack" not in by_uri
    (traversal,) = by_uri["traversal.jobpack"]
    assert traversal["ruleId"] == "zip_path_traversal"
    assert traversal["properties"] == {"code": "zip_path_traversal", "beyond_master": True}
    pack = JobPack.load(str(packs_dir / "traversal.jobpack"))
    region = traversal["locations"][0]["physicalLocation"]["region"]
    home_offset = 128 + len(json.dumps(pack.jobdict)) + len(json.dumps(pack.jobenvs))
    assert region == {"byteOffset": home_offset, "byteLength": 1}
    (cut,) = by_uri["cut.jobpack"]
    assert cut["ruleId"] == "invalid_header"
    assert cut["locations"][0]["physicalLocation"]["region"]["byteOffset"] == 300
    assert cut["locations"][0]["physicalLocation"]["region"]["byteLength"] == 0  # at the end
    odd_uri = "odd%20%1B%5B31mred%07%7F%C2%85%20name.jobpack"
    assert [r["ruleId"] for r in by_uri[odd_uri]] == ["invalid_prefix", "prefix_not_portable"]
    artifacts = {a["location"]["uri"]: a["length"] for a in run_["artifacts"]}
    assert artifacts["cut.jobpack"] == 300
    (invocation,) = run_["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert "missing.jobpack" in note["message"]["text"]

    sarif_file = packs_dir.parent / "out.sarif"
    sarif_file.write_text(proc.out)
    summary = subprocess.run([tool("sarif"), "summary", str(sarif_file)], capture_output=True,
                             text=True, timeout=120)
    assert summary.returncode == 0, summary.stderr
    assert "error: 6" in summary.stdout, summary.stdout
    for code in ("invalid_header", "invalid_prefix", "prefix_not_portable",
                 "zip_path_traversal"):
        assert code in summary.stdout
    out_csv = packs_dir.parent / "out.csv"
    subprocess.run([tool("sarif"), "csv", "--output", str(out_csv), str(sarif_file)],
                   check=True, capture_output=True, timeout=120)
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert sorted((r["Location"], r["Code"]) for r in rows) == sorted(
        [("bad-prefix.jobpack", "invalid_prefix"), ("bad-prefix.jobpack", "prefix_not_portable"),
         ("cut.jobpack", "invalid_header"), ("traversal.jobpack", "zip_path_traversal"),
         (odd_uri, "invalid_prefix"), (odd_uri, "prefix_not_portable")])
    assert {r["Severity"] for r in rows} == {"error"}
    # sarif --check fails the job on errors, as CI would use it
    check = subprocess.run([tool("sarif"), "--check", "error", "summary", str(sarif_file)],
                           capture_output=True, timeout=120)
    assert check.returncode != 0


def test_sarif_of_clean_packs_has_no_results(tmp_path):
    proc = run("validate", "--isolated", "--format", "sarif", WORDCOUNT, CLASSIC)
    assert proc.returncode == 0
    (run_,) = json.loads(proc.out)["runs"]
    assert run_["results"] == [] and run_["invocations"][0]["executionSuccessful"] is True
    assert len(run_["artifacts"]) == 2 and "file://" in run_["artifacts"][0]["location"]["uri"]


# -- JUnit -----------------------------------------------------------------------

def test_junit_is_read_by_junitparser(packs_dir):
    from junitparser import Error, Failure, JUnitXml
    proc = validate_cli("junit", packs_dir)
    assert proc.returncode == 2
    xml = JUnitXml.fromstring(proc.stdout)
    (suite,) = list(xml)
    cases = {case.name: case for case in suite}
    assert suite.tests == 6 and suite.failures == 4 and suite.errors == 1
    assert cases["./good.jobpack"].is_passed
    (failure,) = cases["./bad-prefix.jobpack"].result
    assert isinstance(failure, Failure) and failure.type == "invalid_prefix"
    assert "invalid_prefix" in failure.text and "prefix_not_portable" in failure.text
    (error,) = cases["missing.jobpack"].result
    assert isinstance(error, Error) and "No such file" in error.message
    odd = [name for name in cases if name.startswith("./odd ")]
    assert len(odd) == 1 and not any(ord(c) < 32 for c in odd[0])


# -- JSON and GitHub ---------------------------------------------------------------

PACK_FIELDS = {"path", "valid", "master_accepts", "problems"}
PROBLEM_FIELDS = {"code", "message", "offset", "beyond_master"}
INSPECT_FIELDS = {"size", "header", "jobdict", "jobdict_error", "jobenvs", "jobenvs_is_object",
                  "jobenvs_error", "home", "jobdata_size", "jobinfo", "rejection"}
TOP_FIELDS = {"schema_version", "command", "jobpack", "strict", "packs", "errors", "summary"}


def test_json_schema_is_shared_by_validate_and_inspect(packs_dir):
    proc = validate_cli("json", packs_dir)
    doc = json.loads(proc.out)
    assert set(doc) == TOP_FIELDS and doc["schema_version"] == 1
    assert doc["command"] == "validate" and doc["jobpack"] == __version__
    assert doc["errors"] == [{"path": "missing.jobpack", "error": "No such file or directory"}]
    assert doc["summary"] == {"packs": 5, "valid": 1, "invalid": 4, "errors": 1}
    for pack in doc["packs"]:
        assert set(pack) == PACK_FIELDS
        assert all(set(p) == PROBLEM_FIELDS for p in pack["problems"])
    assert any(p["path"] == "./" + ODD_NAME for p in doc["packs"])

    proc = run("inspect", "--format", "json", INVALID, WORDCOUNT, packs_dir / "cut.jobpack",
               packs_dir / "nope.jobpack")
    assert proc.returncode == 2  # the missing file; the truncated one alone would be 1
    doc = json.loads(proc.out)
    assert set(doc) == TOP_FIELDS and doc["command"] == "inspect" and doc["strict"] is True
    assert [p["path"] for p in doc["packs"]] == [str(INVALID), str(WORDCOUNT)]
    bad, good = doc["packs"]
    assert set(bad) == set(good) == PACK_FIELDS | INSPECT_FIELDS
    assert bad["valid"] is False and bad["master_accepts"] is False
    assert [p["code"] for p in bad["problems"]] == ["invalid_prefix", "prefix_not_portable"]
    assert good["valid"] is True and good["jobinfo"]["prefix"] == "WordCount"
    assert [e["path"] for e in doc["errors"]] == [str(packs_dir / "cut.jobpack"),
                                                  str(packs_dir / "nope.jobpack")]
    assert doc["summary"] == {"packs": 2, "valid": 1, "invalid": 1, "errors": 2}
    assert "invalid header" in proc.err and "nope.jobpack" in proc.err


def test_inspect_many_paths_in_text(tmp_path):
    proc = run("inspect", WORDCOUNT, CLASSIC)
    assert proc.returncode == 0
    assert proc.out.count(" bytes\nheader\n") == 2
    assert f"\n\n{CLASSIC}: " in proc.out
    proc = run("inspect", WORDCOUNT, PACKS / "hdr_magic_zero.jobpack")
    assert proc.returncode == 1 and "invalid header: bad magic" in proc.err
    assert proc.out.startswith(f"{WORDCOUNT}: ")


def test_github_annotates_unreadable_files_too(packs_dir):
    proc = validate_cli("github", packs_dir)
    lines = proc.out.splitlines()
    assert ("::error file=missing.jobpack,title=jobpack%3A unreadable::cannot read "
            "missing.jobpack: No such file or directory") in lines
    assert any(line.startswith("::error file=./traversal.jobpack,title=jobpack "
                               "zip_path_traversal (strict)::") for line in lines)


# -- snapshots ---------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_snapshot(fmt, packs_dir):
    proc = validate_cli(fmt, packs_dir)
    assert proc.returncode == 2
    text = proc.out.replace(__version__, "<version>")
    path = SNAPSHOTS / f"validate.{fmt}"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    # Nothing from a pack or a file name reaches the terminal raw, in any format.
    assert not any(ord(c) < 32 and c != "\n" or 0x7f <= ord(c) < 0xa0 for c in text)
    assert ODD_NAME not in text and "\x1b" not in text


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("quiet", [False, True])
def test_text_verdict_writes_what_show_of_a_verdict_writes(strict, quiet):
    """TextReporter.verdict writes a pack's lines itself (no Verdict): the
    same text as Reporter.verdict's way, show(Verdict(...)), for every vector
    pack, with problems kept or dropped by --select/--ignore."""
    from jobpack.cli.formats import Verdict, master_accepts, reporter
    vectors = sorted(str(PACKS / name) for name in os.listdir(PACKS))
    # (name shown, pack validated): the vectors, and names to escape on packs of theirs
    cases = [(v, v) for v in vectors] + list(zip(["-", ODD_NAME, "back\\slash.jobpack"] * 3,
                                                vectors[:9]))
    lean, full = io.StringIO(), io.StringIO()
    lean_report = reporter("text", strict, quiet, lean, lambda: None)
    full_report = reporter("text", strict, quiet, full, lambda: None)
    shown = set()
    for path, pack in cases:
        found = validate(pack, strict=strict)
        for problems in (found, found[1:]):  # [1:]: as if --ignore dropped the first
            lean_report.verdict(path, problems, found, None)
            full_report.count += 1
            full_report.valid += not problems
            full_report.show(Verdict(path, problems, master_accepts(found)))
            shown.add((bool(problems), master_accepts(found)))
    assert lean.getvalue() == full.getvalue()
    assert (lean_report.count, lean_report.valid) == (full_report.count, full_report.valid)
    assert "<stdin>: " in lean.getvalue() or quiet
    assert "\\x1b" in lean.getvalue() and "\x1b" not in lean.getvalue()  # ODD_NAME, escaped
    assert {(True, False), (False, True)} <= shown and (strict is False or (True, True) in shown)


def test_readme_documents_the_json_fields():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### The JSON document", 1)[1].split("\n#", 1)[0]
    table = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert table == TOP_FIELDS
    prose = section.split("Each pack has", 1)[1]
    for field in PACK_FIELDS | PROBLEM_FIELDS | INSPECT_FIELDS:
        assert f"`{field}`" in prose or f'"{field}"' in prose, field


def test_a_file_name_that_is_not_utf8_in_every_format(tmp_path):
    raw = b"latin-\xe9.jobpack"
    with open(os.path.join(os.fsencode(tmp_path), raw), "wb") as f:
        f.write(INVALID.read_bytes())
    outs = {fmt: run("validate", "--isolated", "--format", fmt, ".", cwd=tmp_path)
            for fmt in FORMATS}
    assert all(proc.returncode == 1 for proc in outs.values())
    (pack,) = json.loads(outs["json"].out)["packs"]
    assert pack["path"] == "./latin-\ufffd.jobpack"
    assert bytes.fromhex(pack["path_bytes"]) == b"./" + raw
    (run_,) = json.loads(outs["sarif"].out)["runs"]
    assert run_["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"] == "latin-%E9.jobpack"
    assert "./latin-\\xe9.jobpack: INVALID" in outs["text"].out
    assert "::error file=./latin-\\xe9.jobpack,title=" in outs["github"].out
    from junitparser import JUnitXml
    (suite,) = list(JUnitXml.fromstring(outs["junit"].stdout))
    assert [case.name for case in suite] == ["./latin-\\xe9.jobpack"]
