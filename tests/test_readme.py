"""README.md's code blocks run as pasted.

Every ``python`` block runs, each on its own, in a temporary directory that
holds a copy of ``examples/`` (the README's examples run from a checkout).
A ``sh`` or ``console`` block says on the line before its fence whether it
runs (``<!-- readme-test: run -->``) or why not (``<!-- readme-test: skip
(reason) -->``); a block that says neither fails this test, so a new one gets a
decision.  ``sh`` blocks run under ``bash -e``; a ``console`` block's ``$``
commands must print exactly the lines shown and exit with the ``(exit N)``
shown (0 when none is).  ``toml`` blocks marked ``config`` must load as
``[tool.jobpack]`` settings.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jobpack.cli import config

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^(?:<!-- readme-test: (?P<mark>[^>]*?) -->\n)?```(?P<lang>\w*)\n"
                   r"(?P<body>.*?)^```$", re.M | re.S)
EXIT = re.compile(r"\s*\(exit (\d+)\)$")


def blocks():
    text = README.read_text(encoding="utf-8")
    found = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start("lang")) + 1
        found.append(pytest.param(m.group("lang"), m.group("mark") or "", m.group("body"),
                                  id=f"README.md:{line}:{m.group('lang') or 'plain'}"))
    return found


@pytest.fixture
def checkout(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path


def environment():
    bindir = os.path.dirname(sys.executable)  # jobpack and python of this install
    return dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))


def test_the_readme_has_blocks_of_each_kind():
    langs = [p.values[0] for p in blocks()]
    assert langs.count("python") >= 3 and "console" in langs and "sh" in langs
    assert sum(p.values[1] == "run" for p in blocks()) >= 4


@pytest.mark.parametrize("lang, mark, body", blocks())
def test_readme_block(lang, mark, body, checkout):
    if mark.startswith("skip (") and mark.endswith(")"):
        assert lang != "python", "python blocks always run"
        return  # documented as not runnable here, with the reason
    if lang == "python":
        proc = subprocess.run([sys.executable, "-c", body], cwd=checkout, env=environment(),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    elif lang == "toml" and mark == "config":
        (checkout / "pyproject.toml").write_text(body)
        settings = config.load(str(checkout / "pyproject.toml"))
        assert settings and set(settings) <= set(config.DEFAULTS)
    elif lang == "sh" and mark == "run":
        proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", body], cwd=checkout,
                              env=environment(), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    elif lang == "console" and mark == "run":
        run_console(body, checkout)
    else:
        pytest.fail(f"a {lang or 'plain'} block must be marked '<!-- readme-test: run -->' "
                    f"or '<!-- readme-test: skip (why) -->' on the line before it")


def run_console(body, cwd):
    sessions = re.split(r"^\$ ", body, flags=re.M)
    assert sessions[0].strip() == "", "a console block starts with a '$ ' command"
    for session in sessions[1:]:
        command, _, shown = session.partition("\n")
        lines = shown.rstrip("\n").split("\n")
        while lines and lines[-1] == "":
            lines.pop()
        code = 0
        if lines and EXIT.search(lines[-1]):
            code = int(EXIT.search(lines[-1]).group(1))
            lines[-1] = EXIT.sub("", lines[-1])
            if lines[-1] == "":
                lines.pop()
        proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=environment(),
                              capture_output=True, text=True, timeout=300)
        assert proc.stdout.rstrip("\n").split("\n") == lines, command
        assert proc.returncode == code, f"{command}: {proc.stderr}"
