"""The public API's types: correct uses type-check and run, misuses are
mypy errors (needs the 'typecheck' extra: mypy; .ci/run installs it)."""
import os
import re
from pathlib import Path

import pytest

import jobpack
import typing_usage

HERE = Path(__file__).parent

# Each line is a misuse mypy --strict must reject, with the words of its error.
MISUSES = [
    ("JobPack.loads(12)", "loads"),
    ("validate(3.5)", "validate"),
    ("jobinfo(None)", "jobinfo"),
    ("JobPack.load(b'x', mmap='yes')", "load"),
    ("JobPack(2, {}, {}, 12)", "JobPack"),
    ("JobPack('2', {}, {})", "JobPack"),
    ("JobPack(2, {}, {}).jobdata = 12", "Buffer"),
    ("JobPack.header('abc')", "header"),
    ("JobPack.offsets(3)", "offsets"),
    ("home.scan('PK')", "scan"),
    ("dialect.loads(7)", "loads"),
    ("mutate('text', 1, 10)", "mutate"),
    ("z: str = mutate(b'', 1, 10)", "assignment"),
    ("x: str = JobPack.loads(b'').dumps()", "assignment"),
    ("y: int = validate(b'')", "assignment"),
]


def test_correct_usage_runs():
    typing_usage.main()


def _mypy(monkeypatch, *args: str):
    api = pytest.importorskip("mypy.api", reason="mypy is in the 'typecheck' extra")
    package_dir = Path(jobpack.__file__).parent.parent
    if package_dir.name not in ("site-packages", "dist-packages"):
        # An editable install: mypy cannot follow its import hook.
        monkeypatch.setenv("MYPYPATH", str(package_dir))
    return api.run(["--strict", "--no-incremental", "--cache-dir", os.devnull, *args])


def test_correct_usage_and_the_package_type_check(monkeypatch):
    out, err, status = _mypy(monkeypatch, str(HERE / "typing_usage.py"))
    assert status == 0, out + err


def test_misuses_are_type_errors(tmp_path, monkeypatch):
    lines = ["from jobpack import JobPack, dialect, home, jobinfo, mutate, validate"]
    lines += [code for code, _ in MISUSES]
    snippet = tmp_path / "misuse.py"
    snippet.write_text("\n".join(lines) + "\n")
    out, err, status = _mypy(monkeypatch, str(snippet))
    assert status == 1, out + err
    errors = {}
    for line in out.splitlines():
        m = re.match(r".*misuse\.py:(\d+): error: (.*)", line)
        if m:
            errors.setdefault(int(m.group(1)), []).append(m.group(2))
    for number, (code, words) in enumerate(MISUSES, start=2):
        assert number in errors, f"mypy accepts {code!r}:\n{out}"
        assert any(words in e for e in errors[number]), (code, errors[number])
    assert set(errors) <= set(range(2, len(MISUSES) + 2)), out   # the import line is fine
