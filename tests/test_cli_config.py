"""Choosing problems and files: --select/--ignore/--exit-zero, [tool.jobpack]
in pyproject.toml (and the TOML reader for Pythons without tomllib), and
which files a directory walk validates."""
import json
import shutil
import sys
from pathlib import Path

import pytest

from jobpack.cli import config, toml_subset
from jobpack.cli.common import CLIError

from test_cli import CLASSIC, INVALID, WORDCOUNT, EXAMPLES, jobdict_v2, run, zip_with
from jobpack import JobPack


@pytest.fixture
def traversal(tmp_path):
    path = tmp_path / "traversal.jobpack"
    home = zip_with({"worker.py": "print(1)\n", "../escape.sh": "echo gotcha\n"})
    JobPack(2, jobdict_v2(), {}, home, b"").dump(str(path))
    return path


def codes(proc):
    doc = json.loads(proc.out)
    return {p["path"]: [x["code"] for x in p["problems"]] for p in doc["packs"]}


# -- --select / --ignore / --exit-zero ------------------------------------------------

def test_select_and_ignore_by_code_and_prefix(traversal):
    both = ["--isolated", "--format", "json", "--strict", INVALID, traversal]
    assert codes(run("validate", *both)) == {
        str(INVALID): ["invalid_prefix", "prefix_not_portable"],
        str(traversal): ["zip_path_traversal"]}
    proc = run("validate", "--select", "zip_", *both)  # a prefix
    assert codes(proc) == {str(INVALID): [], str(traversal): ["zip_path_traversal"]}
    assert proc.returncode == 1
    proc = run("validate", "--ignore", "zip_path_traversal,invalid_prefix", *both)
    assert codes(proc) == {str(INVALID): ["prefix_not_portable"], str(traversal): []}
    proc = run("validate", "--ignore", "invalid_prefix,prefix_", *both)
    assert codes(proc) == {str(INVALID): [], str(traversal): ["zip_path_traversal"]}
    # master_accepts is the master's verdict, whatever is selected
    doc = json.loads(proc.out)
    assert [p["master_accepts"] for p in doc["packs"]] == [False, True]
    assert [p["valid"] for p in doc["packs"]] == [True, False]
    # select and ignore together: ignore wins
    proc = run("validate", "--select", "zip_,invalid", "--ignore", "zip_bomb,zip_path", *both)
    assert codes(proc) == {str(INVALID): ["invalid_prefix"], str(traversal): []}
    # without --strict the one master problem can be ignored: the pack passes
    proc = run("validate", "--isolated", "--ignore", "invalid_prefix", INVALID)
    assert proc.returncode == 0 and proc.out == f"{INVALID}: ok\n"


def test_select_missing_key_matches_each_key(tmp_path):
    pack = tmp_path / "nokey.jobpack"
    jobdict = jobdict_v2()
    del jobdict["owner"]
    JobPack(2, jobdict, {}, zip_with({"worker.py": ""}), b"").dump(str(pack))
    assert codes(run("validate", "--isolated", "--format", "json", "--select", "missing_key",
                     pack)) == {str(pack): ["missing_key:owner"]}
    assert codes(run("validate", "--isolated", "--format", "json", "--ignore",
                     "missing_key:owner", pack)) == {str(pack): []}


def test_unknown_code_is_a_usage_error():
    proc = run("validate", "--select", "zip_,no_such_code", WORDCOUNT)
    assert proc.returncode == 2 and proc.err.count("\n") == 1
    assert "no problem code is or starts with 'no_such_code'" in proc.err
    proc = run("validate", "--ignore", " , ", WORDCOUNT)
    assert proc.returncode == 2 and "expected problem codes or prefixes" in proc.err


def test_exit_zero_reports_but_passes():
    proc = run("validate", "--isolated", "--exit-zero", INVALID, WORDCOUNT)
    assert proc.returncode == 0 and f"{INVALID}: INVALID" in proc.out
    proc = run("validate", "--isolated", "--exit-zero", INVALID, "no-such.jobpack")
    assert proc.returncode == 2  # I/O errors still count


# -- [tool.jobpack] ------------------------------------------------------------------

PYPROJECT = """\
[project]
name = "demo"   # [tool.jobpack] in a comment is not a table

[tool.jobpack]
strict = true
ignore = [
    "prefix_not_portable",  # our prefixes are checked elsewhere
    "zip_bomb",
]
format = "json"

[tool.other]
strict = "not ours"
"""


@pytest.fixture
def project(tmp_path, traversal):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    sub = tmp_path / "ci" / "deeper"
    sub.mkdir(parents=True)
    shutil.copy(INVALID, sub / "bad.jobpack")
    return tmp_path, sub


def test_config_found_from_cwd_upwards_and_flags_override(project, traversal):
    root, sub = project
    proc = run("validate", "bad.jobpack", traversal, cwd=sub)
    doc = json.loads(proc.out)  # format from the config
    assert doc["strict"] is True
    assert codes(proc) == {"bad.jobpack": ["invalid_prefix"],
                           str(traversal): ["zip_path_traversal"]}
    proc = run("validate", "--no-strict", "--format", "text", "bad.jobpack", traversal, cwd=sub)
    assert proc.returncode == 1
    assert proc.out.splitlines()[:3] == [
        "bad.jobpack: INVALID",
        "  invalid_prefix: prefix must contain neither '/' nor '.', found 'a/b'",
        f"{traversal}: ok"]
    proc = run("validate", "--ignore", "invalid_prefix", "bad.jobpack", cwd=sub)
    assert codes(proc) == {"bad.jobpack": ["prefix_not_portable"]}  # the flag replaces the list
    proc = run("validate", "--isolated", "bad.jobpack", cwd=sub)
    assert proc.out.startswith("bad.jobpack: INVALID\n")  # no config: text, not strict
    proc = run("validate", "--config", root / "pyproject.toml", sub / "bad.jobpack", cwd="/")
    assert json.loads(proc.out)["strict"] is True


def test_config_exit_zero_include_exclude(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.jobpack]\n"exit-zero" = true\ninclude = ["*.pack"]\nexclude = ["old"]\n')
    (tmp_path / "old").mkdir()
    shutil.copy(INVALID, tmp_path / "a.pack")
    shutil.copy(INVALID, tmp_path / "old" / "b.pack")
    (tmp_path / "c.jobpack").write_bytes(b"not a pack")  # not included any more
    proc = run("validate", ".", cwd=tmp_path)
    assert proc.returncode == 0 and proc.out == "./a.pack: INVALID\n  invalid_prefix: " \
        "prefix must contain neither '/' nor '.', found 'a/b'\n"


@pytest.mark.parametrize("body, message", [
    ("[tool.jobpack]\nstrict = 1\n", "strict must be a boolean"),
    ("[tool.jobpack]\nselect = \"zip_\"\n", "select must be a list of strings"),
    ("[tool.jobpack]\nignore = [\"nonsense\"]\n", "no problem code is or starts with 'nonsense'"),
    ("[tool.jobpack]\nformat = \"xml\"\n", "format must be one of text, json, github"),
    ("[tool.jobpack]\nstirct = true\n", "unknown setting 'stirct'"),
    ("[tool.jobpack]\nstrict = tru\n", "invalid TOML"),
])
def test_bad_config_is_one_clear_line(tmp_path, body, message):
    (tmp_path / "pyproject.toml").write_text(body)
    proc = run("validate", WORDCOUNT, cwd=tmp_path)
    assert proc.returncode == 2 and proc.err.count("\n") == 1, proc.err
    assert message in proc.err and "pyproject.toml" in proc.err


@pytest.mark.parametrize("body", [
    "[[tool]]\nname = 'jobpack'\n",          # tool as an array of tables
    "tool = 'jobpack'\n",
    "tool = ['jobpack']\n",
])
def test_a_tool_key_that_is_not_a_table_holds_no_config(tmp_path, body):
    (tmp_path / "pyproject.toml").write_text(body)
    assert config._table(str(tmp_path / "pyproject.toml")) is None
    proc = run("validate", WORDCOUNT, cwd=tmp_path)
    assert proc.returncode == 0, proc.err


def test_a_pyproject_without_the_table_is_skipped(tmp_path, project):
    root, sub = project
    (sub / "pyproject.toml").write_text("[project]\nname = 'inner'\n")
    assert config.find(str(sub)) == str(root / "pyproject.toml")
    assert config.find(str(root.parent)) is None or config.find(str(root.parent)) != str(
        root / "pyproject.toml")


# -- which pyproject.toml files are read at all ----------------------------------------

ROOT_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

# Each defines tool.jobpack (tomllib reads them all): may_hold_table must say True.
HOLDS_TABLE = [
    "[tool.jobpack]\n",
    "[ tool . jobpack ]\nstrict = true\n",
    '["tool"."jobpack"]\n',
    "[tool.'jobpack']\r\nstrict = true\r\n",
    "[tool.jobpack.sub]\nx = 1\n",
    "[[tool.jobpack]]\n",
    "[tool]\njobpack = {strict = true}\n",
    "[tool]\n  jobpack.strict = true\n",
    "[tool]\n\"jobpack\" = {}\n",
    "[other]\nx = 1\n[ 'tool' ]\njobpack = {}\n",
    "tool.jobpack.strict = true\n",
    "tool = {jobpack = {strict = true}}\n",
    "tool = { other = 1, jobpack = {} }\n",
    '"tool" . "jobpack" = {}\n',
    # [tool] goes on after an array whose elements look like headers
    "[tool]\nx = [\n[1],\n[true]\n]\njobpack = {}\n",
    "[tool]\nx = [\n  [true]\n]\njobpack = {}\n",
    "[tool]\nx = [ # c\n  [true]]\njobpack = {}\n",
    # a header hidden from a line reader by a multi-line string
    '[tool]\na = """\n[other]\n"""\njobpack = {}\n',
    "[tool]\na = '''\n[other]\n'''\njobpack = {}\n",
    ROOT_PYPROJECT.read_text() + "\n[tool.jobpack]\nstrict = true\n",
    # "jobpack" spelled with an escape, and nowhere else
    '[tool]\n"job\\u0070ack" = {strict = true}\n',
    'tool."job\\U00000070ack" = {}\n',
    '[project]\ndependencies = ["jobpack"]\n[tool]\n"job\\u0070ack" = {}\n',
]

# None defines tool.jobpack: reading them is skipped.
NO_TABLE = [
    "",
    "[project]\nname = 'x'\n",
    '[project]\ndependencies = ["jobpack>=0.1", "cffi"]\n',
    '[project.scripts]\njobpack = "jobpack.cli:main"\n',
    '[tool.setuptools.package-data]\njobpack = ["py.typed"]\n',
    "[tool.setuptools.packages.find]\ninclude = ['jobpack', 'jobpack.*']\n",
    "# jobpack: not configured here\n[tool.ruff]\nline-length = 99\n",
    "jobpack = 1\n[tool]\nx = 1\n",
    "[[tool.mypy.overrides]]\nmodule = 'jobpack.x'\n",
    ROOT_PYPROJECT.read_text(),
]


@pytest.mark.parametrize("document", HOLDS_TABLE + NO_TABLE)
def test_a_pyproject_is_read_unless_it_cannot_hold_the_table(document):
    """may_hold_table skips reading the TOML only when no [tool.jobpack] can
    be there (this repository's own pyproject.toml names jobpack three times)."""
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    assert (tomllib.loads(document).get("tool", {}).get("jobpack") is not None) == (
        document in HOLDS_TABLE)
    assert config.may_hold_table(document) == (document in HOLDS_TABLE)


@pytest.mark.parametrize("document", [
    "[tool]\nx = 1\n[project]\nx = [\n['a']\n]\njobpack = 1\n",  # ['a'] in an array
    "[a]\nx = '''jobpack = 1'''\n",
    "[a]\nx = 1 # [\n[b]\njobpack = 1\n",
    "[a]\nx = {\n}\njobpack = 1\n",  # TOML 1.1's inline table over lines
    "[a]]\njobpack = 1\n",
    "[a]\nx = 'see jobpack = 1'\n",  # a value, but it reads as a key
])
def test_may_hold_table_leaves_to_the_toml_reader_what_a_line_reader_cannot_tell(document):
    assert config.may_hold_table(document)


# -- the TOML reader for Pythons without tomllib ---------------------------------------

SUBSET_DOCUMENTS = [
    PYPROJECT,
    "[tool.jobpack]\n",
    "[ tool . jobpack ]  # spaced\nselect=['zip_',\"invalid\\u005fprefix\",]\n",
    "[tool.jobpack]\nformat = 'sarif'\n'exit-zero' = false\nexclude = []\n",
    '[tool.jobpack]\ninclude = ["a\\\\b", "t\\tab", "q\\"uote"]\n[[tool.other]]\nx = 1\n',
    "[project]\nname = 'x'\n",
]


@pytest.mark.parametrize("document", SUBSET_DOCUMENTS)
def test_toml_subset_reads_what_tomllib_reads(document):
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    expected = tomllib.loads(document).get("tool", {}).get("jobpack")
    assert toml_subset.read_table(document) == expected


@pytest.mark.parametrize("document, where", [
    ("[tool.jobpack]\nstrict = 1\n", "line 2: values may be only"),
    ("[tool.jobpack]\nselect = [1]\n", "line 2: arrays may hold only strings"),
    ("[tool.jobpack]\nselect = ['a'\n", "an array is not closed"),
    ('[tool.jobpack]\nformat = "json\n', "a string is not closed"),
    ("[tool.jobpack]\nformat = 'json' x\n", "unexpected 'x'"),
    ("[tool.jobpack]\n[tool.jobpack]\n", "appears twice"),
    ("[tool.jobpack.more]\n", "has no sub-tables"),
    ('[tool.jobpack]\nformat = """json"""\n', "multi-line strings"),
])
def test_toml_subset_refuses_what_it_does_not_read(document, where):
    with pytest.raises(toml_subset.TOMLSubsetError, match="pip install tomli") as e:
        toml_subset.read_table(document)
    assert where in str(e.value)


def test_config_uses_the_subset_reader_without_tomllib_and_tomli(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tomllib", None)  # import fails, as on 3.9/3.10
    monkeypatch.setitem(sys.modules, "tomli", None)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert config.load(str(tmp_path / "pyproject.toml")) == {
        "strict": True, "ignore": ["prefix_not_portable", "zip_bomb"], "format": "json"}
    (tmp_path / "pyproject.toml").write_text("[tool.jobpack]\nstrict = 1\n")
    with pytest.raises(CLIError, match="line 2: .*pip install tomli"):
        config.load(str(tmp_path / "pyproject.toml"))


# -- which files a directory walk validates ---------------------------------------------

def test_walk_takes_jobpack_names_and_the_magic_only(tmp_path):
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "build" / "x").mkdir(parents=True)
    shutil.copy(WORDCOUNT, root / "a.jobpack")
    shutil.copy(CLASSIC, root / "sub" / "renamed.bin")  # found by its magic
    (root / "sub" / "notes.txt").write_text("not a pack\n")
    (root / "sub" / "broken.jobpack").write_bytes(b"{}")  # named as a pack: validated
    shutil.copy(INVALID, root / "build" / "x" / "old.jobpack")
    (root / "empty").mkdir()

    def found(*args):
        proc = run("validate", "--isolated", "--format", "json", *args, root)
        return sorted(p["path"][len(str(root)) + 1:] for p in json.loads(proc.out)["packs"])

    assert found() == ["a.jobpack", "build/x/old.jobpack", "sub/broken.jobpack",
                       "sub/renamed.bin"]
    assert found("--exclude", "build") == ["a.jobpack", "sub/broken.jobpack", "sub/renamed.bin"]
    assert found("--exclude", "sub/*.jobpack", "--exclude", "build/x") == [
        "a.jobpack", "sub/renamed.bin"]
    assert found("--include", "*.txt") == ["a.jobpack", "build/x/old.jobpack",
                                           "sub/notes.txt", "sub/renamed.bin"]
    # A file named on the command line is always validated.
    proc = run("validate", "--isolated", "--exclude", "*.txt", root / "sub" / "notes.txt")
    assert proc.returncode == 1 and "notes.txt: INVALID" in proc.out
    proc = run("validate", "--isolated", root / "empty")
    assert proc.returncode == 2 and "no job packs in this directory" in proc.err


def _walk_reference(top, include, exclude, problems):
    """The walk as os.walk + os.stat + fnmatch spell it (the rule _walk_files
    implements without a stat per file)."""
    import fnmatch
    import os
    import stat
    from jobpack.cli.validate import _starts_with_magic

    def matches(rel, globs):
        leaf = rel.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(rel if "/" in g else leaf, g) for g in globs)

    found = []
    for dirpath, dirnames, filenames in os.walk(top, onerror=lambda e: problems.append(
            (e.filename, e.strerror))):
        under = os.path.relpath(dirpath, top).replace(os.sep, "/")
        prefix = "" if under == "." else under + "/"
        dirnames[:] = [d for d in dirnames if not matches(prefix + d, exclude)]
        for leaf in filenames:
            rel, path = prefix + leaf, os.path.join(dirpath, leaf)
            if matches(rel, exclude):
                continue
            try:
                if stat.S_ISREG(os.stat(path).st_mode) and (
                        matches(rel, include) or _starts_with_magic(path)):
                    found.append((rel.split("/"), path))
            except OSError as e:
                problems.append((path, e.strerror))
    return [path for _, path in sorted(found)]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks and FIFOs")
def test_walk_agrees_with_os_walk_on_links_fifos_and_globs(tmp_path):
    """Symlinks to files are validated, symlinked directories not entered,
    dangling links reported, FIFOs and unreadable directories handled as
    os.walk + os.stat handle them; include/exclude globs by name and by path."""
    import os
    from jobpack.cli.validate import _walk_files
    root = tmp_path / "tree"
    for d in ("a/b/c", "a/skip", "x.jobpack.d", "locked"):
        (root / d).mkdir(parents=True)
    for f in ("p.jobpack", "a/q.jobpack", "a/b/r.JOBPACK", "a/b/c/s.jobpack", "a/skip/t.jobpack",
              "x.jobpack.d/u.jobpack", "a/notes.txt", "locked/v.jobpack"):
        (root / f).write_bytes(b"{}")
    shutil.copy(CLASSIC, root / "a" / "b" / "magic.bin")
    os.symlink(root / "p.jobpack", root / "a" / "link.jobpack")
    os.symlink(root / "a" / "b", root / "dirlink")
    os.symlink(root / "nowhere", root / "a" / "dangling.jobpack")
    os.mkfifo(root / "a" / "fifo.jobpack")
    os.chmod(root / "locked", 0)
    try:
        for include, exclude in ((["*.jobpack"], []), (["*.jobpack"], ["skip"]),
                                 (["a/b/*", "*.txt"], ["a/b/c", "*.bin"]),
                                 (["*.JOBPACK", "*.jobpack"], ["x.jobpack.d", "locked"])):
            ours, theirs = [], []
            got = _walk_files(str(root), include, exclude, ours)
            assert got == _walk_reference(str(root), include, exclude, theirs), (include, exclude)
            assert ours == theirs
        assert str(root / "a" / "link.jobpack") in got and not any("dirlink" in p for p in got)
        assert any(p.endswith("dangling.jobpack") for p, _ in ours)
    finally:
        os.chmod(root / "locked", 0o755)


def test_examples_folder_validates_its_packs_only():
    proc = run("validate", "--isolated", "--format", "json", EXAMPLES)
    paths = sorted(p["path"] for p in json.loads(proc.out)["packs"])
    assert [p.rsplit("/", 1)[1] for p in paths] == [
        "classic-v1.jobpack", "invalid-prefix.jobpack", "wordcount-v2.jobpack"]


@pytest.mark.parametrize("globs", [["*.jobpack"], ["*.jobpack", "*.pack"], ["*"], ["*a*"],
                                   ["*[1]"], ["a.*"], ["d/*"], ["*.jobpack", "d/*"], ["*]"],
                                   ["*\\"], ["*?"]])
def test_include_matcher_agrees_with_fnmatch(globs):
    # "*.suffix" globs take an endswith() shortcut; it must match what
    # fnmatchcase matches (the name for a glob without '/', else the path).
    import fnmatch
    from jobpack.cli.validate import _matcher
    matches = _matcher(globs)
    for rel in ["a.jobpack", "a.JOBPACK", "x.jobpack\n", ".jobpack", "jobpack", "d/a.jobpack",
                "d/a.jobpackx", "a.pack", "a*b", "x[1]", "x1", "a.jp", "a\\", "q]"]:
        base = rel[rel.rfind("/") + 1:]
        expected = any(fnmatch.fnmatchcase(rel if "/" in g else base, g) for g in globs)
        assert matches(rel) == expected, (globs, rel)


def test_targets_are_each_pack_once_in_order(tmp_path):
    """One directory is its walk as it is (no set of its paths is built);
    several paths give each pack once, where it first comes."""
    from jobpack.cli.validate import _targets, _walk_files
    (tmp_path / "sub").mkdir()
    for rel in ("b.jobpack", "a.jobpack", "sub/c.jobpack", "sub/a.jobpack"):
        shutil.copy(WORDCOUNT, tmp_path / rel)
    top, sub = str(tmp_path), str(tmp_path / "sub")
    walk = _walk_files(top, ["*.jobpack"], [], [])
    assert [p[len(top) + 1:] for p in walk] == ["a.jobpack", "b.jobpack", "sub/a.jobpack",
                                                 "sub/c.jobpack"]
    assert _targets([top], ["*.jobpack"], [], []) == walk
    again = _targets([walk[2], top, sub, walk[0], "-"], ["*.jobpack"], [], [])
    assert again == [walk[2], walk[0], walk[1], walk[3], "-"]
