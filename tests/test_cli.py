"""The jobpack command line, driven as a subprocess (``python -m jobpack``).

Every subcommand, exit code and output format, bad input included.  Each
subprocess costs about 0.2 s, so cases are grouped: keep this file fast.
"""
import argparse
import io
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jobpack import JobPack
from jobpack.validate import validate

HERE = Path(__file__).parent
VECTORS = HERE / "vectors"
PACKS = VECTORS / "packs"
EXAMPLES = HERE.parent / "examples"
VERDICTS = {v["file"]: v for v in map(json.loads, (VECTORS / "verdicts.jsonl").read_text().splitlines())}

WORDCOUNT = EXAMPLES / "wordcount-v2.jobpack"
CLASSIC = EXAMPLES / "classic-v1.jobpack"
INVALID = EXAMPLES / "invalid-prefix.jobpack"


def run(*args, stdin=None, cwd=None, check_one_line=True):
    """``python -m jobpack ARGS``; stderr is at most one line per error."""
    proc = subprocess.run([sys.executable, "-m", "jobpack", *map(str, args)],
                          input=stdin, capture_output=True, cwd=cwd, timeout=60)
    proc.out = proc.stdout.decode("utf-8", "backslashreplace")
    proc.err = proc.stderr.decode("utf-8", "backslashreplace")
    assert "Traceback" not in proc.err or "--debug" in args, proc.err
    assert "internal error" not in proc.err, proc.err  # bad input is never a bug
    return proc


def jobdict_v2(worker="worker.py", prefix="Job"):
    return {"prefix": prefix, "owner": "me@host", "worker": worker,
            "pipeline": [["map", "split", False]], "inputs": [[0, 0, ["raw://x"]]],
            "scheduler": {}}


def zip_with(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def traversal_pack(tmp_path):
    """A pack the master accepts whose home has a '../' entry."""
    path = tmp_path / "traversal.jobpack"
    home = zip_with({"worker.py": "print(1)\n", "../escape.sh": "echo gotcha\n"})
    JobPack(2, jobdict_v2(), {}, home, b"").dump(str(path))
    return path


# -- general -------------------------------------------------------------------

def test_version_and_usage_errors():
    proc = run("--version")
    assert proc.returncode == 0 and proc.out.startswith("jobpack ")
    proc = run("validate", "--format", "xml", "x")
    assert proc.returncode == 2
    assert proc.err.count("\n") == 1 and "invalid choice" in proc.err


def test_version_imports_neither_the_library_nor_the_formats():
    """`jobpack --version` (and argument parsing) stays a light process:
    the library, validate's rules and dataclasses load when a command runs."""
    probe = ("import sys; from jobpack import cli; cli._build_parser(); "
             "print(sorted(m for m in ('jobpack.pack', 'jobpack.validate', 'jobpack._core', "
             "'jobpack.cli.rules', 'dataclasses') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    from jobpack import VERSION2, cli
    assert cli._VERSION2 == VERSION2   # the pack command's default


def test_help_shows_an_example_for_every_subcommand(capsys):
    # In-process: argparse's output is the same, and subprocesses are slow.
    from jobpack import cli
    for argv in ([], ["validate"], ["inspect"], ["pack"], ["unpack"]):
        with pytest.raises(SystemExit) as exit:
            cli.main(argv + ["--help"])
        assert exit.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out and "exit codes:" in out
        assert f"jobpack {argv[0]} " in out if argv else "jobpack validate" in out
    assert cli.main([]) == 2  # no command: the help, on stderr
    assert "usage: jobpack" in capsys.readouterr().err


def _subparsers(parser):
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


def test_one_subcommand_s_parser_is_the_same_as_with_them_all(monkeypatch):
    """A run builds only its subcommand's parser (_command_in): its help, its
    usage errors and what it parses are those of the parser of every
    subcommand; the main help, built when no subcommand is plain, lists all."""
    from jobpack import cli
    monkeypatch.setenv("COLUMNS", "100")
    full = cli._build_parser()
    assert list(_subparsers(full)) == ["validate", "inspect", "pack", "unpack", "corpus",
                                       "difftest"] == list(cli._COMMANDS)
    assert all(f"    {name}  " in full.format_help() for name in cli._COMMANDS)
    argvs = {"validate": [["--strict", "--select", "zip_", "-q", "a", "b"], ["--no-strict", "x"],
                          ["--format", "json", "--debug", "--exclude", "o*", "-"]],
             "inspect": [["--json", "x"]], "unpack": [["x", "-d", "out", "--force"]],
             "pack": [["--jobdict", "j", "--home", "h", "-o", "o", "--version", "1"]],
             "corpus": [["dir", "--count", "3", "--kind", "valid"]],
             "difftest": [["--reader", "r {}", "--timeout", "2"]]}
    for name in cli._COMMANDS:
        lean = cli._build_parser(name)
        assert list(_subparsers(lean)) == [name]
        assert _subparsers(lean)[name].format_help() == _subparsers(full)[name].format_help()
        for argv in argvs[name]:
            for debug in ([], ["--debug"]):
                args = debug + [name] + argv
                assert cli._command_in(args) == name
                assert lean.parse_args(args) == full.parse_args(args)
    for argv in ([], ["--help", "validate"], ["-h"], ["--version"], ["valid", "x"],
                 ["--", "validate", "x"], ["--deb", "validate"], ["--debug"]):
        assert cli._command_in(argv) is None, argv  # every parser: argparse answers
    assert cli._command_in(["--debug", "--debug", "inspect", "validate"]) == "inspect"


def test_python_m_jobpack_help():
    proc = run("--help")
    assert proc.returncode == 0 and "examples:" in proc.out
    for cmd in ("validate", "inspect", "pack", "unpack"):
        assert cmd in proc.out


def test_console_script_is_the_same_program():
    script = shutil.which("jobpack", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the jobpack script is not installed next to this Python")
    proc = subprocess.run([script, "validate", str(WORDCOUNT)], capture_output=True)
    assert proc.returncode == 0 and proc.stdout.endswith(b": ok\n")


def test_debug_shows_the_traceback_otherwise_one_line(tmp_path):
    missing = tmp_path / "missing.jobpack"
    proc = run("inspect", missing)
    assert proc.returncode == 2
    assert proc.err.count("\n") == 1 and "No such file" in proc.err
    proc = run("inspect", missing, "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.err


# -- validate ------------------------------------------------------------------

def test_validate_valid_and_invalid_examples():
    proc = run("validate", WORDCOUNT, CLASSIC)
    assert proc.returncode == 0, proc.out + proc.err
    assert proc.out.splitlines()[:2] == [f"{WORDCOUNT}: ok", f"{CLASSIC}: ok"]
    assert proc.err == ""
    proc = run("validate", INVALID)
    assert proc.returncode == 1
    assert proc.out.splitlines() == [
        f"{INVALID}: INVALID",
        "  invalid_prefix: prefix must contain neither '/' nor '.', found 'a/b'"]


def test_missing_file_is_an_io_error_and_the_others_are_still_validated(tmp_path):
    missing = tmp_path / "nope.jobpack"
    proc = run("validate", missing, WORDCOUNT, INVALID)
    assert proc.returncode == 2
    assert f"cannot read {missing}: No such file or directory" in proc.err
    assert "nope" not in proc.out  # reported as missing, not as an invalid pack
    assert f"{WORDCOUNT}: ok" in proc.out and f"{INVALID}: INVALID" in proc.out
    assert "2 packs, 1 valid, 1 invalid, 1 unreadable" in proc.out


def test_truncated_pack_fails_with_invalid_header(tmp_path):
    cut = tmp_path / "cut.jobpack"
    cut.write_bytes(WORDCOUNT.read_bytes()[:300])  # inside the jobenvs
    proc = run("validate", "--format", "json", cut)
    assert proc.returncode == 1
    doc = json.loads(proc.out)
    (pack,) = doc["packs"]
    assert pack["valid"] is False and pack["problems"][0]["code"] == "invalid_header"
    assert pack["problems"][0]["offset"] is not None


MIXED = ["valid_v2_typical_00.jobpack", "valid_v1_typical_03.jobpack",
         "json_trailing_comma_object.jobpack", "trunc_in_dict_start.jobpack",
         "hdr_magic_zero.jobpack", "envs_val_int.jobpack", "v2_worker_traversal.jobpack",
         "json_invalid_missing_comma.jobpack", "trunc_in_data_last.jobpack"]


def test_directory_of_mixed_packs(tmp_path):
    root = tmp_path / "packs"
    (root / "sub" / "deeper").mkdir(parents=True)
    places = [root, root / "sub", root / "sub" / "deeper"]
    copied = []
    for i, name in enumerate(MIXED):
        target = places[i % 3] / name
        shutil.copy(PACKS / name, target)
        copied.append(target)
    expected_valid = sum(VERDICTS[name]["master_valid"] for name in MIXED)
    assert 0 < expected_valid < len(MIXED)

    proc = run("validate", "--format", "json", root)
    assert proc.returncode == 1
    doc = json.loads(proc.out)
    assert doc["summary"] == {"packs": len(MIXED), "valid": expected_valid,
                              "invalid": len(MIXED) - expected_valid, "errors": 0}
    paths = [p["path"] for p in doc["packs"]]
    assert sorted(paths) == sorted(map(str, copied))
    # sorted by path components: the top folder's files come first, then sub/...
    rel = [os.path.relpath(p, root).split(os.sep) for p in paths]
    assert rel == sorted(rel)
    for pack in doc["packs"]:
        verdict = VERDICTS[os.path.basename(pack["path"])]
        assert pack["valid"] == verdict["master_valid"] == pack["master_accepts"]
        kind = verdict["master_error_kind"]
        if kind and not kind.startswith("payload:"):
            assert pack["problems"][0]["code"] == kind

    # text, --quiet: only the failures and a summary; nothing on stderr (piped)
    proc = run("validate", "--quiet", root)
    assert proc.returncode == 1 and proc.err == ""
    assert (f"jobpack: {len(MIXED)} packs, {expected_valid} valid, "
            f"{len(MIXED) - expected_valid} invalid") in proc.out
    assert ": ok" not in proc.out and proc.out.count(": INVALID") == len(MIXED) - expected_valid


def test_strict_zip_traversal_and_stdin(traversal_pack):
    proc = run("validate", traversal_pack)
    assert proc.returncode == 0  # the master accepts it
    proc = run("validate", "--strict", traversal_pack)
    assert proc.returncode == 1
    lines = proc.out.splitlines()
    assert lines[0] == f"{traversal_pack}: INVALID (strict; the master accepts it)"
    assert lines[1].startswith("  zip_path_traversal at byte ")
    assert "'../escape.sh'" in lines[1] and lines[1].endswith("[strict]")
    # the same pack on standard input
    proc = run("validate", "--strict", "--format", "json", "-", stdin=traversal_pack.read_bytes())
    assert proc.returncode == 1
    doc = json.loads(proc.out)
    assert doc["strict"] is True
    (pack,) = doc["packs"]
    assert pack["path"] == "-" and pack["master_accepts"] is True and pack["valid"] is False
    assert [p["code"] for p in pack["problems"]] == ["zip_path_traversal"]
    assert pack["problems"][0]["beyond_master"] is True


def test_github_format_lines_and_escaping(tmp_path):
    odd = tmp_path / "odd, name: 100%.jobpack"
    odd.write_bytes(INVALID.read_bytes())
    ok = tmp_path / "ok.jobpack"
    ok.write_bytes(WORDCOUNT.read_bytes())
    cut = tmp_path / "cut.jobpack"
    cut.write_bytes(WORDCOUNT.read_bytes()[:64])
    proc = run("validate", "--format", "github", "--strict", odd, ok, cut)
    assert proc.returncode == 1
    errors = [line for line in proc.out.splitlines() if line.startswith("::error ")]
    escaped = str(odd).replace("%", "%25").replace(":", "%3A").replace(",", "%2C")
    assert (f"::error file={escaped},title=jobpack invalid_prefix::invalid_prefix: prefix "
            f"must contain neither '/' nor '.', found 'a/b'") in errors
    assert any(e.startswith(f"::error file={escaped},title=jobpack prefix_not_portable "
                            f"(strict)::prefix_not_portable at byte 128: ")
               and e.endswith("[strict]") for e in errors)
    assert any(e.startswith(f"::error file={cut},title=jobpack invalid_header::invalid_header "
                            f"at byte ") for e in errors)
    assert not any("ok.jobpack" in e for e in errors)
    assert proc.out.splitlines()[-1] == "jobpack: 3 packs, 1 valid, 2 invalid (strict)"


def test_whole_vector_folder_in_one_process_without_progress_when_piped():
    proc = run("validate", "--format", "json", PACKS)
    doc = json.loads(proc.out)
    files = sorted(os.listdir(PACKS))
    assert doc["summary"]["packs"] == len(files) > 50
    assert doc["summary"]["valid"] == sum(VERDICTS[f]["master_valid"] for f in files)
    assert proc.returncode == 1
    assert proc.err == ""  # no progress line: stderr is a pipe


def test_progress_line_on_a_terminal_only():
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "jobpack", "validate", str(PACKS)],
                              stdout=subprocess.DEVNULL, stderr=slave, timeout=60)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.returncode == 1
    assert b"jobpack: checked " in seen and seen.endswith(b"\r\x1b[K")


# -- inspect -------------------------------------------------------------------

def test_inspect_text_shows_every_part():
    proc = run("inspect", WORDCOUNT)
    assert proc.returncode == 0, proc.err
    out = proc.out
    size = WORDCOUNT.stat().st_size
    assert out.startswith(f"{WORDCOUNT}: {size} bytes\nheader\n  magic     0xd5c0\n")
    assert "  version   2\n" in out
    assert "  offsets   jobdict 128, jobenvs " in out
    assert "  reserved  bytes 20-127 all zero" in out
    assert '    "prefix": "WordCount",' in out
    assert '    "PYTHONPATH": "lib",' in out
    assert "0755 -rwxr-xr-x" in out and "wordcount.py" in out
    assert "0644 -rw-r--r--" in out and "lib/wordcount_lib.py" in out
    assert "job data: 0 bytes" in out
    assert "effective job (what the master runs)" in out
    assert "    1. map (split)\n    2. reduce (group_all)\n" in out
    assert "schedule      locality none, max_cores 8" in out


def test_inspect_json_and_rejection():
    proc = run("inspect", "--json", CLASSIC)
    assert proc.returncode == 0
    whole = json.loads(proc.out)
    assert whole["schema_version"] == 1 and whole["command"] == "inspect"
    assert whole["summary"] == {"packs": 1, "valid": 1, "invalid": 0, "errors": 0}
    (doc,) = whole["packs"]
    assert doc["valid"] is True and doc["master_accepts"] is True
    assert doc["header"]["version"] == 1 and doc["header"]["offsets"]["jobdict"] == 128
    assert sum(doc["header"]["sizes"].values()) + 128 == doc["size"] == CLASSIC.stat().st_size
    assert doc["jobdict"]["prefix"] == "ClassicWordCount"
    assert doc["jobenvs"] == [["LC_ALL", "C.UTF-8"]]
    (entry,) = doc["home"]["entries"]
    assert entry["name"] == "classic_worker.py" and entry["permissions"] == "-rwxr-xr-x"
    assert doc["jobdata_size"] == len(b"params: none\n")
    assert [s[0] for s in doc["jobinfo"]["pipeline"]] == ["map", "map_shuffle", "reduce"]
    assert doc["rejection"] is None and doc["problems"] == []

    proc = run("inspect", INVALID)
    assert proc.returncode == 0  # shown, with the master's reason
    assert ("effective job: none, the master rejects this pack\n  invalid_prefix: prefix "
            "must contain neither '/' nor '.', found 'a/b'") in proc.out


def test_inspect_broken_json_shows_what_it_can():
    pack = PACKS / "json_invalid_missing_comma.jobpack"
    proc = run("inspect", pack)
    assert proc.returncode == 0, proc.err
    assert "jobdict (" in proc.out and "  cannot be read: jobdict is not JSON" in proc.out
    assert "  raw: b'" in proc.out
    assert "job home (" in proc.out  # the rest is still shown
    assert "effective job: none, the master rejects this pack\n  invalid_json at byte" in proc.out


def test_inspect_bad_header_is_one_clear_line(tmp_path):
    proc = run("inspect", PACKS / "hdr_magic_zero.jobpack")
    assert proc.returncode == 1
    assert proc.out == ""
    assert proc.err.count("\n") == 1 and "invalid header: bad magic" in proc.err


# -- pack ----------------------------------------------------------------------

def make_home(root):
    (root / "lib").mkdir(parents=True)
    (root / "worker.py").write_text("print('work')\n")
    (root / "worker.py").chmod(0o755)
    (root / "lib" / "util.py").write_text("X = 1\n")
    (root / "lib" / "util.py").chmod(0o644)
    (root / "lib").chmod(0o755)
    return root


def test_pack_from_a_directory_is_deterministic_and_valid(tmp_path):
    home = make_home(tmp_path / "home")
    jobdict = tmp_path / "jobdict.json"
    jobdict.write_text(json.dumps(jobdict_v2(), indent=4))  # any formatting
    envs = tmp_path / "jobenvs.json"
    envs.write_text('{"A": "1"}')
    data = tmp_path / "data.bin"
    data.write_bytes(b"\x00\x01data")
    out1, out2 = tmp_path / "one.jobpack", tmp_path / "two.jobpack"
    proc = run("pack", "--jobdict", jobdict, "--jobenvs", envs, "--home", home,
               "--data", data, "-o", out1)
    assert proc.returncode == 0, proc.err
    assert proc.out.startswith(f"wrote {out1}: {out1.stat().st_size} bytes, version 2")
    os.utime(home / "worker.py", (1, 1))  # mtimes do not matter
    proc = run("pack", "--jobdict", "-", "--jobenvs", envs, "--home", home,
               "--data", data, "-o", out2, stdin=jobdict.read_bytes())
    assert proc.returncode == 0, proc.err
    assert out1.read_bytes() == out2.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".jobpack-")] == []

    pack = JobPack.load(str(out1))
    assert pack.version == 2 and bytes(pack.jobdata) == b"\x00\x01data"
    # The sections are what Disco's client writes for these values.
    raw = out1.read_bytes()
    assert raw[128:128 + len(json.dumps(jobdict_v2()))] == json.dumps(jobdict_v2()).encode()
    assert validate(raw, strict=True) == []
    names = zipfile.ZipFile(io.BytesIO(bytes(pack.jobhome))).namelist()
    assert names == ["lib/", "lib/util.py", "worker.py"]


def test_pack_version1_zip_home_as_is_and_stdout(tmp_path):
    home_zip = tmp_path / "home.zip"
    home_zip.write_bytes(zip_with({"classic.py": "pass\n"}))
    jobdict = tmp_path / "jobdict.json"
    jobdict.write_text(json.dumps({"prefix": "C", "owner": "o", "worker": "classic.py",
                                   "input": ["raw://a"], "map?": True, "nr_reduces": 1,
                                   "scheduler": {}}))
    proc = run("pack", "--jobdict", jobdict, "--home", home_zip, "--version", "1", "-o", "-")
    assert proc.returncode == 0, proc.err
    pack = JobPack.loads(proc.stdout)
    assert pack.version == 1 and pack.jobenvs == {}
    assert bytes(pack.jobhome) == home_zip.read_bytes()
    assert validate(proc.stdout) == []


def test_pack_refuses_a_worker_missing_from_the_home(tmp_path):
    home = make_home(tmp_path / "home")
    jobdict = tmp_path / "jobdict.json"
    jobdict.write_text(json.dumps(jobdict_v2(worker="bin/missing.py")))
    out = tmp_path / "out.jobpack"
    proc = run("pack", "--jobdict", jobdict, "--home", home, "-o", out)
    assert proc.returncode == 1
    assert proc.err.count("\n") == 1
    assert "'bin/missing.py' is not a file in the job home" in proc.err
    assert "worker.py" in proc.err  # says what the home has
    assert not out.exists()
    # unless asked to, for a test pack
    proc = run("pack", "--jobdict", jobdict, "--home", home, "-o", out, "--no-worker-check")
    assert proc.returncode == 0 and out.exists()
    assert "warning: strict validation fails: worker_not_in_home" in proc.err


def test_pack_bad_input_is_a_usage_error(tmp_path):
    home = make_home(tmp_path / "home")
    bad = tmp_path / "bad.json"
    bad.write_text('{"prefix": "x",}')
    proc = run("pack", "--jobdict", bad, "--home", home, "-o", tmp_path / "x.jobpack")
    assert proc.returncode == 2 and "is not standard JSON" in proc.err
    assert proc.err.count("\n") == 1
    proc = run("pack", "--jobdict", tmp_path / "nope.json", "--home", home,
               "-o", tmp_path / "x.jobpack")
    assert proc.returncode == 2 and "No such file" in proc.err
    assert not (tmp_path / "x.jobpack").exists()


# -- unpack --------------------------------------------------------------------

def test_unpack_writes_every_section(tmp_path):
    out = tmp_path / "wc"
    proc = run("unpack", WORDCOUNT, "-d", out)
    assert proc.returncode == 0, proc.err
    original = JobPack.load(str(WORDCOUNT))
    assert json.loads((out / "jobdict.json").read_text()) == original.jobdict
    assert (out / "jobdict.json").read_text().startswith('{\n  "prefix": "WordCount",\n')
    assert json.loads((out / "jobenvs.json").read_text()) == original.jobenvs
    assert (out / "jobdata.bin").read_bytes() == bytes(original.jobdata)
    assert (out / "jobhome.zip").read_bytes() == bytes(original.jobhome)
    worker = out / "home" / "wordcount.py"
    assert stat.S_IMODE(worker.stat().st_mode) == 0o755
    assert (out / "home" / "lib" / "wordcount_lib.py").is_file()
    # A non-empty directory is refused.
    proc = run("unpack", WORDCOUNT, "-d", out)
    assert proc.returncode == 2 and "not empty" in proc.err


def test_unpack_refuses_to_extract_an_unsafe_home(tmp_path, traversal_pack):
    out = tmp_path / "deep" / "out"
    proc = run("unpack", traversal_pack, "-d", out)
    assert proc.returncode == 1
    assert "the job home was not extracted" in proc.err and "../escape.sh" in proc.err
    assert not (tmp_path / "deep" / "escape.sh").exists()
    assert not (out / "home").exists()
    assert (out / "jobhome.zip").read_bytes() == bytes(JobPack.load(str(traversal_pack)).jobhome)
    assert "--home " + str(out / "jobhome.zip") in proc.out


def rebuild(proc, out_pack):
    """Run the 'rebuild with:' command that unpack printed."""
    (line,) = [l for l in proc.out.splitlines() if l.startswith("rebuild with: ")]
    argv = shlex.split(line[len("rebuild with: "):])
    assert argv[:2] == ["jobpack", "pack"] and argv[-2:] == ["-o", "OUT.jobpack"]
    return run(*argv[1:-1], out_pack)


# Standard JSON, JSON only the master reads, broken JSON, a worker outside
# the home, duplicate keys: unpack prints the flags each one needs.
ROUND_TRIP = ["valid_v2_typical_00.jobpack", "valid_v1_typical_03.jobpack",
              "json_trailing_comma_object.jobpack", "json_invalid_missing_comma.jobpack",
              "v2_worker_traversal.jobpack", "dup_prefix_good_then_bad.jobpack"]


# ... and header bytes 20-127 that are not zero (reserved.bin).
ROUND_TRIP += ["hdr_reserved_random.jobpack", "mut_v2small_054_insert_at76_n2.jobpack",
               "v2_worker_traversal.jobpack"]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_the_rebuild_command_of_unpack_gives_the_same_bytes(tmp_path, name):
    source = PACKS / name
    proc = run("unpack", source, "-d", tmp_path / "u")
    assert proc.returncode == 0, proc.err
    rebuilt = tmp_path / "rebuilt.jobpack"
    proc = rebuild(proc, rebuilt)
    assert proc.returncode == 0, proc.err
    assert rebuilt.read_bytes() == source.read_bytes()


def test_the_rebuild_command_after_an_unsafe_home_gives_the_same_bytes(tmp_path, traversal_pack):
    proc = run("unpack", traversal_pack, "-d", tmp_path / "u")
    assert proc.returncode == 1  # home/ not extracted, the rest written
    rebuilt = tmp_path / "rebuilt.jobpack"
    assert rebuild(proc, rebuilt).returncode == 0
    assert rebuilt.read_bytes() == traversal_pack.read_bytes()


def test_pack_reserved_bytes_must_be_108(tmp_path):
    bad = tmp_path / "reserved.bin"
    bad.write_bytes(b"\x01" * 107)
    proc = run("pack", "--jobdict", "-", "--home", tmp_path, "--no-worker-check",
               "--reserved", bad, "-o", tmp_path / "x.jobpack", stdin=b"{}")
    assert proc.returncode == 2 and "exactly 108 bytes" in proc.err
    bad.write_bytes(bytes(range(108)))
    proc = run("pack", "--jobdict", "-", "--home", tmp_path, "--no-worker-check",
               "--reserved", bad, "-o", tmp_path / "x.jobpack", stdin=b"{}")
    assert proc.returncode == 0, proc.err
    assert (tmp_path / "x.jobpack").read_bytes()[20:128] == bytes(range(108))
    assert "reserved_bytes_nonzero" in proc.err  # the strict warning


def test_unpack_pack_round_trip_is_byte_identical_with_the_exact_home(tmp_path):
    proc = run("unpack", "-", "-d", tmp_path / "u", stdin=CLASSIC.read_bytes())
    assert proc.returncode == 0, proc.err
    assert "--version 1" in proc.out
    out = tmp_path / "again.jobpack"
    proc = run("pack", "--version", "1", "--jobdict", tmp_path / "u" / "jobdict.json",
               "--jobenvs", tmp_path / "u" / "jobenvs.json",
               "--home", tmp_path / "u" / "jobhome.zip",
               "--data", tmp_path / "u" / "jobdata.bin", "-o", out)
    assert proc.returncode == 0, proc.err
    assert out.read_bytes() == CLASSIC.read_bytes()


# -- examples ------------------------------------------------------------------

def test_examples_regenerate_to_identical_bytes(tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLES / "make_examples.py"),
                           "--out", str(tmp_path)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == ["classic-v1.jobpack", "invalid-prefix.jobpack", "wordcount-v2.jobpack"]
    for name in built:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name
    assert [p.code for p in validate(str(WORDCOUNT), strict=True)] == []
    assert [p.code for p in validate(str(CLASSIC), strict=True)] == []
    assert [p.code for p in validate(str(INVALID))] == ["invalid_prefix"]
