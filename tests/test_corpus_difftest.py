"""``jobpack corpus`` and ``jobpack difftest`` (jobpack.corpus, jobpack.difftest).

The differential driver is run against deliberately wrong readers written
here, each a small script: it must find their mistakes, shrink each to a
small pack that still shows it, and find nothing in a correct reader.
"""
import json
import os
import sys
import textwrap

import pytest

pytest.importorskip("hypothesis")

from jobpack import corpus, difftest  # noqa: E402
from jobpack.cli import main  # noqa: E402
from jobpack.validate import jobinfo, validate  # noqa: E402


def read_manifest(directory):
    with open(os.path.join(directory, "MANIFEST.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# -- corpus --------------------------------------------------------------------

def test_corpus_writes_packs_and_a_true_manifest(tmp_path):
    entries = corpus.write_corpus(str(tmp_path / "c"), 45, 3)
    manifest = read_manifest(tmp_path / "c")
    assert [e["file"] for e in manifest] == [e["file"] for e in entries]
    assert len(manifest) >= 40
    assert sorted(os.listdir(tmp_path / "c")) == sorted([e["file"] for e in manifest]
                                                        + ["MANIFEST.jsonl"])
    kinds = set()
    for entry in manifest:
        data = (tmp_path / "c" / entry["file"]).read_bytes()
        kinds.add(entry["kind"])
        problems = [p.code for p in validate(data)]
        if entry["verdict"] == "accept":
            assert problems == []
            expected = json.loads(json.dumps(jobinfo(data), default=int))
            assert entry["jobinfo"] == expected
            strict = [p.code for p in validate(data, strict=True)]
            assert strict == ([] if entry["kind"] == "valid" else [entry["strict_code"]])
        else:
            assert entry["kind"] == "malformed" and entry["jobinfo"] is None
            assert problems == [entry["code"]]
    assert kinds == {"valid", "malformed", "strict"}


def test_corpus_is_deterministic_per_seed(tmp_path):
    a = corpus.write_corpus(str(tmp_path / "a"), 20, 9)
    b = corpus.write_corpus(str(tmp_path / "b"), 20, 9)
    c = corpus.write_corpus(str(tmp_path / "c"), 20, 10)
    assert a == b
    for entry in a:
        assert (tmp_path / "a" / entry["file"]).read_bytes() == \
            (tmp_path / "b" / entry["file"]).read_bytes()
    assert [(tmp_path / "a" / e["file"]).read_bytes() for e in a] != \
        [(tmp_path / "c" / e["file"]).read_bytes() for e in c]


def test_corpus_kind_filter(tmp_path):
    entries = corpus.write_corpus(str(tmp_path), 12, 1, ["malformed"])
    assert entries and {e["kind"] for e in entries} == {"malformed"}
    assert all(e["verdict"] == "reject" for e in entries)


def test_corpus_never_writes_through_symlinks(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    target = tmp_path / "c"
    target.mkdir()
    first = corpus._file_name(0, "valid", None)
    os.symlink(victim, target / first)
    os.symlink(victim, target / "MANIFEST.jsonl")
    corpus.write_corpus(str(target), 6, 2, ["valid"])
    assert victim.read_bytes() == b"keep me"
    assert not os.path.islink(target / first)
    # A directory that is a symlink is refused, not followed.
    os.symlink(target, tmp_path / "link")
    with pytest.raises(OSError, match="not a symlink"):
        corpus.write_corpus(str(tmp_path / "link"), 3, 2)


def test_corpus_cli(tmp_path, capsys):
    assert main(["corpus", str(tmp_path / "c"), "--count", "9", "--seed", "4",
                 "--kind", "valid,strict"]) == 0
    out = capsys.readouterr().out
    assert "wrote 9 packs" in out and "MANIFEST.jsonl" in out
    assert {e["kind"] for e in read_manifest(tmp_path / "c")} <= {"valid", "strict"}
    with pytest.raises(SystemExit) as usage:
        main(["corpus", str(tmp_path / "d"), "--kind", "bogus"])
    assert usage.value.code == 2
    assert "expected a comma-separated list" in capsys.readouterr().err
    (tmp_path / "file").write_bytes(b"")
    assert main(["corpus", str(tmp_path / "file"), "--count", "1"]) == 2
    assert "must be a real directory" in capsys.readouterr().err


# -- difftest ------------------------------------------------------------------

def reader(tmp_path, name, body):
    """A reader script: exit 0 = accept.  Runs without site (fast start)."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return f"{sys.executable} -S {path} {{}}"


# Shell readers start fast; the Python ones below only run over a few packs.
ACCEPT_ALL = "true"
REJECT_ALL = "false"
# Crashes on every pack holding a JSON object (all of them), so the test does
# not depend on what the draw happens to contain on this interpreter (PyPy's
# draw for seed 3 had no ",}").
SEGFAULT_ON_AN_OBJECT = "sh -c 'grep -qa \"{\" \"$1\" && kill -SEGV $$; exit 0' sh {}"

# Checks the header only, like a reader that never looks inside the sections.
HEADER_ONLY = """
import struct, sys
data = open(sys.argv[1], "rb").read()
if len(data) < 20:
    sys.exit(1)
word, d, e, h, a = struct.unpack("!IIIII", data[:20])
ok = word >> 16 == 0xD5C0 and d == 128 and e > d and h >= e and a >= h and len(data) >= a
sys.exit(0 if ok and word & 0xFFFF in (1, 2) else 1)
"""

# Reads the sections with standard JSON: refuses what only the master reads.
STANDARD_JSON = HEADER_ONLY.replace("sys.exit(0 if ok and word & 0xFFFF in (1, 2) else 1)",
                                    "ok = ok and word & 0xFFFF in (1, 2)") + """
import json
if not ok:
    sys.exit(1)
try:
    for section in (data[d:e], data[e:h]):
        json.loads(section.decode("utf-8"))
except ValueError:
    sys.exit(1)
"""

def test_difftest_finds_and_shrinks_what_an_accept_everything_reader_gets_wrong(tmp_path):
    found = difftest.difftest(ACCEPT_ALL, count=24, seed=5, kinds=["malformed"],
                              shrink_runs=100)
    assert len(found) >= 20          # every malformed pack (a few drawn twice are dropped)
    for item in found:
        assert item.reader_status == "accept" and not item.master_accepts
        assert validate(item.shrunk) != []          # still a disagreement
        assert len(item.shrunk) <= len(item.original)
    assert min(len(i.shrunk) for i in found) < 40   # truncation faults shrink to a few bytes


def test_difftest_on_a_header_only_reader(tmp_path):
    found = difftest.difftest(reader(tmp_path, "hdr", HEADER_ONLY), count=10, seed=1,
                              kinds=["malformed"], shrink_runs=25)
    assert found
    for item in found:
        # Its header checks are right: every miss is past the header.
        assert item.code not in ("invalid_header", "unsupported_version")
        assert item.reader_status == "accept"
        assert validate(item.shrunk) != [] and len(item.shrunk) < len(item.original)


def test_difftest_on_a_standard_json_reader(tmp_path):
    found = difftest.difftest(reader(tmp_path, "std", STANDARD_JSON), count=6, seed=2,
                              kinds=["strict"], shrink_runs=12)
    assert found and all(i.code == "json_dialect_only" for i in found)
    for item in found:
        assert item.master_accepts and item.reader_status == "reject"
        assert validate(item.shrunk) == []


def test_difftest_reports_crashes(tmp_path):
    # Every pack crashes the reader, so a few packs and a short shrink show
    # it (30 packs and 40 shrink runs took over 60 s on a loaded PyPy).
    found = difftest.difftest(SEGFAULT_ON_AN_OBJECT, count=6, seed=3, kinds=["strict"],
                              shrink_runs=10)
    assert any(i.reader_status == "crash (signal 11)" for i in found)


def test_difftest_finds_nothing_in_a_correct_reader(tmp_path):
    correct = tmp_path / "correct.py"
    correct.write_text("import sys\nfrom jobpack.validate import validate\n"
                       "sys.exit(1 if validate(open(sys.argv[1], 'rb').read()) else 0)\n")
    assert difftest.difftest(f"{sys.executable} {correct}", count=6, seed=4) == []


def test_reader_command_placeholder():
    assert difftest.reader_command("r --check {} -v", "/p") == ["r", "--check", "/p", "-v"]
    assert difftest.reader_command("r 'a b'", "/p") == ["r", "a b", "/p"]
    assert difftest.reader_command("r --in={}", "/p") == ["r", "--in=/p"]
    with pytest.raises(ValueError, match="empty"):
        difftest.reader_command("  ", "/p")


def test_difftest_cli(tmp_path, capsys):
    save = tmp_path / "saved"
    assert main(["difftest", "--reader", ACCEPT_ALL, "--count", "6", "--seed", "1",
                 "--kind", "malformed", "--save", str(save)]) == 1
    out = capsys.readouterr().out
    assert "the master rejects" in out and "disagreement" in out
    saved = sorted(os.listdir(save))
    assert saved and all(validate((save / n).read_bytes()) for n in saved)
    assert main(["difftest", "--reader", REJECT_ALL, "--count", "6", "--kind", "malformed"]) == 0
    assert "no disagreement" in capsys.readouterr().out
    assert main(["difftest", "--reader", "/nonexistent/reader {}", "--count", "2"]) == 2
    assert "cannot run the reader" in capsys.readouterr().err
