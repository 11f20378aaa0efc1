"""The pre-commit hooks (.pre-commit-hooks.yaml), end to end.

``pre-commit try-repo`` clones a copy of this source tree, installs it into
a fresh virtualenv with pip (building the C extension) and runs a hook on a
throwaway git repository holding a good and a bad pack.  pip is pointed at a
wheelhouse made up front (with whatever index or cache pip is configured
for) and told not to use an index, so the hook's install needs no network.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_cli import INVALID, WORDCOUNT, jobdict_v2, zip_with
from jobpack import JobPack

# Each test builds the C extension in a fresh virtualenv: .ci/run runs them
# on one interpreter's leg, not on all four (-m "not install" elsewhere).
pytestmark = pytest.mark.install

SOURCE = Path(__file__).resolve().parent.parent
# What the copy needs to install; everything else in the tree is left out.
SOURCE_FILES = ["setup.py", "pyproject.toml", "MANIFEST.in", "README.md",
                ".pre-commit-hooks.yaml", "csrc", "jobpack"]


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com",
                    "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                   cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """A git repository holding this source tree (as the hook's users would clone)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    ignore = shutil.ignore_patterns("*.so", "*.pyc", "__pycache__", "_native.c", "*.o")
    for name in SOURCE_FILES:
        src = SOURCE / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=ignore)
        else:
            shutil.copy(src, repo / name)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "jobpack", cwd=repo)
    return repo


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory):
    """pip settings under which the hook's install uses no index."""
    wheelhouse = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(wheelhouse),
                    "setuptools>=61", "wheel", "cffi>=1.15"],
                   check=True, capture_output=True, timeout=600)
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse),
               PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")))
    env.pop("PIP_EXTRA_INDEX_URL", None)
    env.pop("PIP_INDEX_URL", None)
    return env


@pytest.fixture
def work(tmp_path):
    """The user's repository: a good pack, a bad one, one only --strict refuses."""
    shutil.copy(WORDCOUNT, tmp_path / "good.jobpack")
    shutil.copy(INVALID, tmp_path / "bad.jobpack")
    home = zip_with({"worker.py": "print(1)\n", "../escape.sh": "echo gotcha\n"})
    JobPack(2, jobdict_v2(), {}, home, b"").dump(str(tmp_path / "unsafe.jobpack"))
    (tmp_path / "README.txt").write_text("not a pack\n")
    git("init", "-q", cwd=tmp_path)
    git("add", "-A", cwd=tmp_path)
    return tmp_path


def try_repo(hook_repo, hook, work, env, *files):
    pre_commit = shutil.which("pre-commit", path=os.path.dirname(sys.executable))
    assert pre_commit is not None, "pre-commit is missing: pip install -e '.[test]'"
    selection = ["--files", *files] if files else ["--all-files"]
    proc = subprocess.run([pre_commit, "try-repo", str(hook_repo), hook, *selection,
                           "--color", "never"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=900)
    return proc


@pytest.mark.timeout(900)  # builds the C extension in a fresh virtualenv
def test_hooks_pass_good_packs_and_fail_bad_ones(hook_repo, offline_env, work):
    proc = try_repo(hook_repo, "jobpack-validate", work, offline_env,
                    "good.jobpack", "unsafe.jobpack", "README.txt")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "jobpack validate" in proc.stdout and "Passed" in proc.stdout

    proc = try_repo(hook_repo, "jobpack-validate", work, offline_env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Failed" in proc.stdout
    assert "bad.jobpack: INVALID" in proc.stdout and "invalid_prefix" in proc.stdout
    assert "README.txt" not in proc.stdout.split("Failed", 1)[1]  # not a pack: not passed in
    assert "good.jobpack" not in proc.stdout.split("Failed", 1)[1]  # --quiet: failures only

    # The strict hook also refuses what the master accepts but is unsafe.
    proc = try_repo(hook_repo, "jobpack-validate-strict", work, offline_env,
                    "good.jobpack", "unsafe.jobpack")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "unsafe.jobpack: INVALID (strict; the master accepts it)" in proc.stdout
    assert "zip_path_traversal" in proc.stdout
