#!/usr/bin/env python3
"""How much of our replica of the master does the seeded draw reach?

The replica is ``jobpack/validate.py`` (Python) and the header checks and
mochijson2 scanner of the C core (``csrc/header.c``, ``csrc/mochijson.c``).
The draw is ``jobpack.strategies.draw.labelled_draw(COUNT, SEED)``.

    python fuzz/generator_coverage.py [--count N] [--seed S]

prints the branch coverage of both halves (coverage.py in branch mode for
the Python, ``gcc --coverage`` + ``gcov`` for the C, through
``fuzz/replica_replay.c``) and every branch missed that is not in the
UNREACHABLE lists below, each listed with the reason it cannot be reached
through ``validate()``.  tests/test_generator_power.py asserts that nothing
reachable is missed.  Needs ``coverage`` (the test extra), gcc and gcov.
"""
import argparse
import functools
import importlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
DRIVER = Path(__file__).resolve().parent / "replica_replay.c"
C_REPLICA = ("header.c", "mochijson.c")
C_SOURCES = ("status.c", "header.c", "mochijson.c")
COUNT = 1500
SEED = 14

# Branches of jobpack/validate.py no pack can take, as (source line,
# destination line), both stripped, with why.
PY_UNREACHABLE: Dict[Tuple[str, str], str] = {
    ('for item, ok, what in ((stage[0], isinstance(stage[0], str), "name string"),',
     "for stage in pipeline:"):
        "the loop runs to its end only for a list of three whose items are a str, a str "
        "and a bool, which the inline test above it already passes (JSON decodes to no "
        "subclasses of them): every stage that gets here raises inside the loop",
    # The section caches of _Pack: each pack is read by one validate() or
    # jobinfo() call, which opens its own _Pack.
    ("if done is None:", "value = done[0]"):
        "_Pack.jobdict is called once per pack, by _master, first: nothing has decoded the "
        "jobdict before it",
    ("if done is None:  # json(1) inlined", "pairs, features, feature_offset, is_object, _ = done"):
        "_Pack.jobenvs is called once per pack, by _master, and nothing else decodes the "
        "jobenvs before it",
    ("if done is None:", "return done"):
        "_Pack.json is called only by _strict_checks, for a section that is not decoded "
        "yet (pack.decoded[i] is None)",
}

# Reachable branches the draw does not take yet, with why.
PY_NOT_DRAWN: Dict[Tuple[str, str], str] = {}
C_NOT_DRAWN: Dict[Tuple[str, str, int], str] = {}

# Functions of the C replica measured: the header checks and the scanner
# (jp_layout and jp_header_write write packs; they are not the master).
C_FUNCTIONS = {"header.c": {"jp_header_decode"}, "mochijson.c": None}

# C branches no call from validate() can take: (function, source line
# stripped, its occurrence in the function) -> why.  Every branch of such a
# line is excused.
C_UNREACHABLE: Dict[Tuple[str, str, int], str] = {
    ("put", "if (n > s->cap - s->olen) {", 1):
        "validate converts into jp_json_out_bound(len) bytes, which always suffice",
    ("scan", "if (s.overflow)", 1): "as put: the output buffer always suffices",
    ("erlang_hex4", "if (i == 4)", 1):
        "defensive: i is 0 or 1 there (a sign takes one byte of four)",
    ("scan_u_escape", "if (signed_d)", 1):
        "a signed second unit has three hex digits: +0..+fff is below 0xdc00 and "
        "-fff..-1 is 0xf001..0xffff mod 2^16, so no signed unit is a low surrogate and "
        "the escape is refused one line earlier",
    ("jp_json_out_bound", "if (len > (SIZE_MAX - 16) / 6)", 1):
        "needs a section of more than SIZE_MAX / 6 bytes",
    ("scan", "s.stack_bits = scratch_len > SIZE_MAX / 8 ? SIZE_MAX : scratch_len * 8;", 1):
        "needs a scratch buffer of more than SIZE_MAX / 8 bytes",
}


@functools.lru_cache(maxsize=4)
def draw(count: int = COUNT, seed: int = SEED):
    from jobpack.strategies.draw import labelled_draw
    return tuple(labelled_draw(count, seed))


def observe(validate_module: Any, data: bytes) -> Tuple[Any, ...]:
    """Everything validate() and jobinfo() say about a pack (the verdict,
    each problem's code, message, offset and strictness, and the jobinfo)."""
    problems = tuple((p.code, p.message, p.offset, p.beyond_master)
                     for strict in (False, True)
                     for p in validate_module.validate(data, strict=strict))
    try:
        info: Any = validate_module.jobinfo(data)
    except validate_module.MasterRejection as e:
        info = ("rejected", e.problem.code, e.problem.offset)
    return problems, repr(info)


# -- Python ---------------------------------------------------------------

def python_coverage(cases: Sequence[Any]) -> Dict[str, Any]:
    """Branch coverage of jobpack/validate.py over the cases: the summary
    and the missed branches ([(function, line text, destination)])."""
    import coverage

    validate_module = importlib.import_module("jobpack.validate")

    path = validate_module.__file__
    cov = coverage.Coverage(branch=True, data_file=None, include=[path])
    cov.start()
    try:
        for case in cases:
            observe(validate_module, case.data)
        other_ways_in(validate_module, cases)
    finally:
        cov.stop()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "coverage.json")
        cov.json_report(outfile=out, include=[path])
        with open(out, encoding="utf-8") as f:
            report = json.load(f)
    data = next(iter(report["files"].values()))
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    missed = []
    for src, dst in data["missing_branches"]:
        where = lines[src - 1].strip()
        to = "exit" if dst < 0 else lines[dst - 1].strip()
        missed.append((where, to))
    summary = data["summary"]
    return {"branches": summary["num_branches"],
            "covered": summary["covered_branches"],
            "missed": missed,
            "statements_missed": [lines[n - 1].strip() for n in data["missing_lines"]]}


def other_ways_in(validate_module: Any, cases: Sequence[Any]) -> None:
    """Each probe (see probes) gets the same answers as its pack given as
    bytes, under the process's own int_max_str_digits."""
    with tempfile.TemporaryDirectory() as tmp:
        for probe in probes(cases, Path(tmp)):
            got, want = observe_probe(validate_module, probe), observe(validate_module, probe.data)
            if got != want:
                raise AssertionError(f"validate() of {probe.what} differs: {got} != {want}")


# -- other ways in ----------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """A pack of the draw (data) given to validate() and jobinfo() another
    way: as another source, or under another int_max_str_digits."""

    what: str
    data: bytes
    source: Any
    int_max_str_digits: Optional[int] = None   # None: the process's own


def plain(cases: Sequence[Any]) -> List[Probe]:
    """The draw as it is: each pack as bytes."""
    return [Probe("bytes", case.data, case.data) for case in cases]


def probes(cases: Sequence[Any], directory: Path) -> List[Probe]:
    """The other ways validate() is run, on a few packs of the draw (a path
    to one is written in directory):

    - a pack as each other source: a bytearray, a memoryview of bytes and of
      a bytearray, one of another format (a buffer of 4-byte items), a
      JobPack, a path;
    - every pack long enough for a section of more than
      dialect.MAX_INT_DIGITS bytes (the draw's 200 KB nests, an integer of
      25,000 digits) with int_max_str_digits lifted (0), as the command
      line runs it, and set above MAX_INT_DIGITS: there such a section
      skips Python's json, whose int() would be quadratic (the integer
      stays a dialect.HugeInt).  Without the limit (PyPy) the plain draw
      is already run that way.
    """
    from jobpack import JobPack, dialect

    out: List[Probe] = []
    valid = [c.data for c in cases if c.kind == "valid"]
    # A pack that JobPack.dumps() writes back byte for byte.
    first = next((data for data in valid if JobPack.loads(data).dumps() == data), None)
    if first is not None:
        path = directory / "first.jobpack"
        path.write_bytes(first)
        out += [Probe("a bytearray", first, bytearray(first)),
                Probe("a memoryview", first, memoryview(first)),
                Probe("a memoryview of a bytearray", first, memoryview(bytearray(first))),
                Probe("a JobPack", first, JobPack.loads(first)),
                Probe("a path", first, str(path))]
    quad = next((data for data in valid if len(data) % 4 == 0), None)
    if quad is not None:
        out.append(Probe("a memoryview of 4-byte items", quad, memoryview(quad).cast("I")))
    if hasattr(sys, "set_int_max_str_digits"):
        long_ones = [c.data for c in cases if len(c.data) > dialect.MAX_INT_DIGITS + 128]
        # 2 * MAX_INT_DIGITS: above the draw's longest integer too, which
        # int() then converts.
        out += [Probe(f"a long pack, int_max_str_digits {limit}", data, data, limit)
                for limit in (0, 2 * dialect.MAX_INT_DIGITS) for data in long_ones]
    return out


def observe_probe(validate_module: Any, probe: Probe) -> Tuple[Any, ...]:
    if probe.int_max_str_digits is None:
        return observe(validate_module, probe.source)
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(probe.int_max_str_digits)
    try:
        return observe(validate_module, probe.source)
    finally:
        sys.set_int_max_str_digits(limit)


# -- C ----------------------------------------------------------------------

def write_records(cases: Sequence[Any], path: Path) -> None:
    with open(path, "wb") as f:
        for case in cases:
            f.write(struct.pack("<I", len(case.data)))
            f.write(case.data)


def build_driver(out_dir: Path, sources: Dict[str, Path], flags: Sequence[str] = ()) -> Path:
    """Compile the replay driver against the core (sources: file name ->
    path, so a mutant can stand in for one file)."""
    objects = []
    for name in C_SOURCES + ("replica_replay.c",):
        src = sources.get(name) or (DRIVER if name == "replica_replay.c" else CSRC / name)
        obj = out_dir / (Path(name).stem + ".o")
        subprocess.run(["gcc", "-std=c99", "-O0", "-w", f"-I{CSRC}", *flags, "-c", str(src),
                        "-o", str(obj)], check=True, capture_output=True)
        objects.append(str(obj))
    exe = out_dir / "replica_replay"
    subprocess.run(["gcc", *flags, *objects, "-o", str(exe)], check=True, capture_output=True)
    return exe


def run_driver(exe: Path, records: Path, timeout: float = 60) -> List[str]:
    done = subprocess.run([str(exe), str(records)], capture_output=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{exe} failed ({done.returncode}): {done.stderr[-500:]!r}")
    return done.stdout.decode("ascii").splitlines()


def c_coverage(cases: Sequence[Any]) -> Dict[str, Any]:
    """Branch coverage (gcov -b) of header.c and mochijson.c over the
    cases: per file, branches, taken, and the missed ones as
    (function, line text, branch index)."""
    if shutil.which("gcc") is None or shutil.which("gcov") is None:
        raise RuntimeError("gcc and gcov are needed for the C coverage")
    result: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        exe = build_driver(tmp, {}, ["--coverage"])
        records = tmp / "records.bin"
        write_records(cases, records)
        run_driver(exe, records)
        for name in C_REPLICA:
            done = subprocess.run(["gcov", "--json-format", "--stdout", "--branch-probabilities",
                                   "-o", str(tmp / (Path(name).stem + ".o")), str(CSRC / name)],
                                  cwd=tmp, check=True, capture_output=True)
            report = json.loads(done.stdout.decode("utf-8").splitlines()[0])
            src_lines = (CSRC / name).read_text(encoding="utf-8").splitlines()
            total = taken = 0
            missed = []
            wanted = C_FUNCTIONS[name]
            seen: Dict[Tuple[str, str], int] = {}
            for entry in report["files"]:
                if not entry["file"].endswith(name):
                    continue
                for line in sorted(entry["lines"], key=lambda item: item["line_number"]):
                    func = line.get("function_name", "?")
                    if wanted is not None and func not in wanted:
                        continue
                    text = src_lines[line["line_number"] - 1].strip()
                    occurrence = seen[func, text] = seen.get((func, text), 0) + 1
                    for i, branch in enumerate(line["branches"]):
                        if branch.get("throw"):
                            continue
                        total += 1
                        if branch["count"] > 0:
                            taken += 1
                        else:
                            missed.append((func, text, occurrence, i))
            result[name] = {"branches": total, "covered": taken, "missed": missed}
    return result


# -- report -----------------------------------------------------------------

def unexplained_python(report: Dict[str, Any]) -> List[Tuple[str, str]]:
    return [m for m in report["missed"] if m not in PY_UNREACHABLE and m not in PY_NOT_DRAWN]


def unexplained_c(report: Dict[str, Any]) -> List[Tuple[str, str, int, int]]:
    return [m for name in C_REPLICA for m in report[name]["missed"]
            if m[:3] not in C_UNREACHABLE and m[:3] not in C_NOT_DRAWN]


def _percent(covered: int, total: int) -> str:
    return f"{covered}/{total} ({100.0 * covered / total:.1f}%)" if total else "0/0"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    cases = draw(args.count, args.seed)
    print(f"draw: {len(cases)} packs (count {args.count}, seed {args.seed})")
    py = python_coverage(cases)
    bad_py = unexplained_python(py)
    print(f"jobpack/validate.py: branches {_percent(py['covered'], py['branches'])}, "
          f"{len(py['missed']) - len(bad_py)} missed and unreachable, {len(bad_py)} missed")
    for where, to in bad_py:
        print(f"  MISSED {where!r} -> {to!r}")
    c = c_coverage(cases)
    bad_c = unexplained_c(c)
    for name in C_REPLICA:
        excused = len(c[name]["missed"]) - len([m for m in bad_c if m in c[name]["missed"]])
        print(f"csrc/{name}: branches {_percent(c[name]['covered'], c[name]['branches'])}, "
              f"{excused} missed and unreachable")
    for func, where, occurrence, i in bad_c:
        print(f"  MISSED {func}: {where!r} (#{occurrence}) branch {i}")
    return 1 if bad_py or bad_c else 0


if __name__ == "__main__":
    sys.exit(main())
