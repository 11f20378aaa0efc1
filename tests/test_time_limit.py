"""The per-test time limit of conftest.py ("never ... hang") can fail a test.

Runs a throwaway test module under this suite's conftest in a subprocess:
a Python-level hang fails its test and the run goes on; a hang where the
alarm cannot be handled (SIGALRM blocked, as in a C call that never
returns) ends the process with every thread's stack on stderr.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

PYTHON_HANG = '''
import pytest

@pytest.mark.timeout(0.5)
def test_python_hang():
    while True:
        pass

def test_after_the_hang_still_runs():
    assert True
'''

STUCK = '''
import signal, pytest

@pytest.mark.timeout(0.5)
def test_hang_the_alarm_cannot_interrupt():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
    while True:
        pass
'''


def run_under_our_conftest(tmp_path, module, env=None):
    # Outside JOBPACK_SLOW unless env sets it (its factor multiplies limits).
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JOBPACK_")},
           **(env or {})}
    (tmp_path / "conftest.py").write_text(
        # the helpers it imports from the suite's fuzz/ directory
        f"import sys; sys.path.insert(0, {str(CONFTEST.parent.parent / 'fuzz')!r})\n"
        f"exec(compile(open({str(CONFTEST)!r}).read(), 'conftest.py', 'exec'))\n"
        "HARD_EXIT_AFTER_S = 0.5\nPYPY_FACTOR = 1\n")
    (tmp_path / "test_hangs.py").write_text(module)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env=env)
    return proc, proc.stdout + proc.stderr


def test_a_hanging_test_fails_and_the_run_goes_on(tmp_path):
    proc, out = run_under_our_conftest(tmp_path, PYTHON_HANG)
    assert "test_python_hang FAILED" in out, out
    assert "ran past its 0.5 s limit" in out, out
    assert "test_after_the_hang_still_runs PASSED" in out, out
    assert proc.returncode == 1


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX only")
def test_a_stuck_test_ends_the_run_with_its_stack(tmp_path):
    proc, out = run_under_our_conftest(tmp_path, STUCK)
    # the stuck test never reports: faulthandler ends the process
    assert "Timeout (0:00:01)!" in out, out
    assert "test_hang_the_alarm_cannot_interrupt" in out.split("Timeout")[-1], out
    assert proc.returncode != 0


SCALED = '''
import pytest
from conftest import examples

def test_examples_are_scaled():
    assert examples(2) == 6

@pytest.mark.timeout(0.25)
def test_limit_is_scaled():
    while True:
        pass
'''


def test_the_slow_pass_scales_examples_and_limits_by_its_factor(tmp_path):
    proc, out = run_under_our_conftest(
        tmp_path, SCALED, {"JOBPACK_SLOW": "1", "JOBPACK_EXAMPLES_FACTOR": "3"})
    assert "test_examples_are_scaled PASSED" in out, out
    assert "ran past its 0.75 s limit" in out, out


def test_a_bad_examples_factor_is_refused_with_what_to_give(tmp_path):
    proc, out = run_under_our_conftest(
        tmp_path, SCALED, {"JOBPACK_SLOW": "1", "JOBPACK_EXAMPLES_FACTOR": "0"})
    assert proc.returncode != 0
    assert "JOBPACK_EXAMPLES_FACTOR='0': give a whole number >= 1" in out, out
