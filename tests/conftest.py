"""Shared fixtures and helpers of the jobpack test suite.

Tests import the installed package (run pytest from outside the source tree,
after ``pip install -e .``); importing ``jobpack._native`` here fails at once
if the compiled cffi extension is missing, instead of in every test.
"""
import faulthandler
import importlib.machinery
import json
import os
import platform
import signal
import sys
import warnings
from pathlib import Path

import pytest

import jobpack
import jobpack._native

# The compiled cffi extension, not a pure-Python stand-in.
assert jobpack._native.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), \
    jobpack._native.__file__
assert hasattr(jobpack._native, "ffi") and hasattr(jobpack._native, "lib")

# Hypothesis's example cache keys mix ints and bytes, and hash(0) == hash(b""):
# a collision makes the dict compare 0 with b"", which -bb turns into an
# error inside Hypothesis (seen in the JOBPACK_SLOW pass).  -bb is for our
# code's bytes/str mix-ups, not the test library's.
warnings.filterwarnings("ignore", category=BytesWarning, module=r"hypothesis\.")

VECTORS_DIR = Path(__file__).parent / "vectors"

# fuzz/ holds the harness helpers the tests share (and the generator-power
# scripts some tests import).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
from _harness import same_json  # noqa: E402  exact JSON equality, iterative

# Property tests run a quick smoke by default.  JOBPACK_SLOW=1 runs the slow
# tests too and every property test with 20x the examples (the thorough
# pass); JOBPACK_EXAMPLES_FACTOR=N sets that factor (CI's slow step runs 5x:
# a fifth of the time, every slow test still run).
SLOW = os.environ.get("JOBPACK_SLOW", "") not in ("", "0")


def _examples_factor() -> int:
    text = os.environ.get("JOBPACK_EXAMPLES_FACTOR", "20")
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"JOBPACK_EXAMPLES_FACTOR={text!r}: give a whole number >= 1")
    return int(text)


SLOW_FACTOR = _examples_factor() if SLOW else 1


def examples(n: int) -> int:
    """max_examples for a property test: n, or n times the factor (20 by
    default) under JOBPACK_SLOW=1."""
    return n * SLOW_FACTOR


# -- "never hangs": every test has a time limit --------------------------------
#
# Most tests feed hostile input (truncated, corrupt, nested, bomb-shaped
# packs), so the limit is on every test rather than on a list that could
# miss one.  @pytest.mark.timeout(seconds) changes it for one test.  Two
# layers: SIGALRM fails the test with a clear message when the hang is in
# Python code (the run goes on); if a C call never returns (the handler
# cannot run), faulthandler dumps every thread's stack and ends the process
# a little later, so CI fails instead of stalling.  No pytest-timeout
# dependency: this is all it would do here, and the tests must run with the
# two test extras only.
DEFAULT_TIMEOUT_S = 60.0
HARD_EXIT_AFTER_S = 30.0  # on top of the test's limit
# PyPy runs short, Hypothesis-heavy tests 2-3x slower than CPython (no time
# for the JIT to warm up), and CI runs it beside another leg on 2 cores: a
# test taking 10 s on CPython passed 60 s there.  A hang still fails.
PYPY = platform.python_implementation() == "PyPy"
PYPY_FACTOR = 3


class HangError(Exception):
    """A test ran past its time limit: a hang."""


_stderr_fd = 2


def pytest_configure(config):
    # Output capture is off between tests: fd 2 is the real standard error
    # here.  The hard exit writes there (captured output dies with the process).
    global _stderr_fd
    _stderr_fd = os.dup(2)
    config.addinivalue_line("markers", "timeout(seconds): this test's time limit "
                            f"(default {DEFAULT_TIMEOUT_S:g} s, times the examples factor under "
                            "JOBPACK_SLOW=1, "
                            f"{PYPY_FACTOR}x on PyPy)")


@pytest.fixture(autouse=True)
def _time_limit(request):
    if not hasattr(signal, "setitimer"):  # not POSIX: no limit
        yield
        return
    marker = request.node.get_closest_marker("timeout")
    limit = float(marker.args[0]) if marker else DEFAULT_TIMEOUT_S
    limit *= SLOW_FACTOR
    if PYPY:
        limit *= PYPY_FACTOR

    def on_alarm(signum, frame):
        raise HangError(f"{request.node.nodeid} ran past its {limit:g} s limit "
                          "(a hang on hostile input?)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    faulthandler.dump_traceback_later(limit + HARD_EXIT_AFTER_S, exit=True, file=_stderr_fd)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
PACKS_DIR = VECTORS_DIR / "packs"


def _read_jsonl(path: Path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_verdicts():
    """The master's verdicts, one dict per pack file (vectors/README.md)."""
    return _read_jsonl(VECTORS_DIR / "verdicts.jsonl")


def load_dumps_vectors():
    """Serialisation vectors: inputs and Disco 0.5's exact dumps() bytes."""
    return _read_jsonl(VECTORS_DIR / "dumps_vectors.jsonl")


def pack_bytes(name: str) -> bytes:
    return (PACKS_DIR / name).read_bytes()


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return VECTORS_DIR


@pytest.fixture(scope="session")
def verdicts():
    return load_verdicts()


@pytest.fixture(scope="session")
def dumps_vectors():
    return load_dumps_vectors()
