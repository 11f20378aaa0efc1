"""The suite's own mutation list (tests/mutation/run.py) stays current.

A full mutation run takes tens of minutes, so CI does not run it; but a
mutant whose text the code has moved away from would make the next full
run stop on a stale list (or, worse, test nothing).  This is run.py's
``--check``, run on every change, so the list moves with the code.
"""
import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_module():
    spec = importlib.util.spec_from_file_location("mutation_run", ROOT / "tests" / "mutation" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_mutant_text_occurs_exactly_once_in_its_file():
    run = _run_module()
    assert run.stale_mutants(ROOT, run.MUTANTS) == []


def test_a_mutant_whose_text_moved_is_reported_stale(tmp_path):
    run = _run_module()
    mutant = run.MUTANTS[0]
    copy = tmp_path / mutant.file
    copy.parent.mkdir(parents=True)
    shutil.copy(ROOT / mutant.file, copy)

    def about_it():  # (the EQUIVALENT names of the other mutants show up too)
        return [p for p in run.stale_mutants(tmp_path, [mutant]) if p.startswith(mutant.name + ":")]

    assert about_it() == []
    copy.write_text(copy.read_text(encoding="utf-8").replace(mutant.old, mutant.old[:1] + "moved" + mutant.old[1:]),
                    encoding="utf-8")
    assert about_it() == [
        f"{mutant.name}: {mutant.old!r} occurs 0 times in {mutant.file} (need 1)"]
