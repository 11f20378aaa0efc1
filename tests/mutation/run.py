#!/usr/bin/env python3
"""Mutation check: does the test suite notice small bugs in jobpack/ and csrc/?

Each mutant is one exact text substitution (file, old, new): a comparison
flipped or shifted by one, a check dropped, a default changed, a limit moved.
The script copies the source tree to a temporary directory, builds the C
extension there in place (the tests import the copy through PYTHONPATH),
checks that the unmutated copy passes every test file used below, then for
each mutant: applies it, rebuilds the extension if a C file changed, runs
``pytest -x -q`` on the tests relevant to that file (one process at a time,
Hypothesis seed fixed), and restores the file.  A mutant is
killed when pytest fails (a failing test, a crash, or the per-test time
limit of tests/conftest.py).

The list is checked before anything runs: a mutant whose ``old`` text is not
found exactly once in its file stops the run with the list of stale mutants,
so a list that the code has moved away from is noticed, never silently
skipped.  ``--check`` does only that (a second, no build).

Usage (from the repository root):

    python tests/mutation/run.py             # all 75 mutants (timing below)
    python tests/mutation/run.py --check     # is the list still valid?
    python tests/mutation/run.py --only header-envs-offset-le,pack-mmap-path
    python tests/mutation/run.py --list

How long: one pytest process at a time.  On the shared 2-core machine, at
load average 8-19 from other sessions, a full run took 24 min of wall time
(7.4 min of CPU): about 20 s per mutant, a survivor up to a minute (it runs
its whole subset), plus a baseline of the unmutated copy.  Too slow for
every CI run; run it after changing the tests or the code's checks.

Last result (2026-11-29, a full run on main at 6a54c6c, load average
about 4 from other work: 1047 s): 69 of 71 killed (97.2 %); the 2
survivors are in EQUIVALENT with the reason each cannot be killed.

Exit status 0 when the kill rate is at least 95 % and every survivor is in
EQUIVALENT (with the reason it cannot be killed); 1 otherwise; 2 for a stale
list or a broken baseline.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_KILL_RATE = 0.95

# The tests that exercise each file (pytest -x stops at the first failure,
# so a killed mutant costs little; a survivor runs its whole subset).
TESTS = {
    "csrc/header.c": ("test_codec.py", "test_limits.py", "test_validate.py"),
    "csrc/mochijson.c": ("test_dialect.py", "test_codec.py"),
    "csrc/zipscan.c": ("test_home.py", "test_validate.py", "test_limits.py"),
    "csrc/floatcheck.c": ("test_codec.py",),
    "jobpack/pack.py": ("test_limits.py", "test_codec.py"),
    "jobpack/home/scan.py": ("test_limits.py", "test_home.py", "test_validate.py"),
    "jobpack/home/extract.py": ("test_limits.py", "test_home.py"),
    "jobpack/_files.py": ("test_codec.py",),
    "jobpack/validate.py": ("test_validate.py", "test_strategies.py"),
    "jobpack/_json.py": ("test_limits.py", "test_codec.py", "test_fuzz_regressions.py",
                         "test_dialect.py", "test_value_space.py", "test_disco_compat.py"),
    "jobpack/dialect.py": ("test_limits.py", "test_dialect.py", "test_codec.py"),
}


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str


M = Mutant
MUTANTS: Tuple[Mutant, ...] = (
    # -- csrc/header.c: the master's header checks and the 4 GiB layout limit
    M("header-short-shift", "csrc/header.c",
      "if (len < HEADER_FIELDS_SIZE) {", "if (len < HEADER_FIELDS_SIZE - 4) {"),
    M("header-magic-dropped", "csrc/header.c",
      "if (out->magic != MAGIC) {", "if (0 && out->magic != MAGIC) {"),
    M("header-dict-offset-shift", "csrc/header.c",
      "if (out->offsets[0] != HEADER_SIZE) {", "if (out->offsets[0] > HEADER_SIZE) {"),
    M("header-envs-offset-le", "csrc/header.c",
      "if (out->offsets[1] <= out->offsets[0]) {", "if (out->offsets[1] < out->offsets[0]) {"),
    M("header-home-offset-le", "csrc/header.c",
      "if (out->offsets[2] < out->offsets[1]) {", "if (out->offsets[2] <= out->offsets[1]) {"),
    M("header-data-offset-le", "csrc/header.c",
      "if (out->offsets[3] < out->offsets[2]) {", "if (out->offsets[3] <= out->offsets[2]) {"),
    M("header-truncated-le", "csrc/header.c",
      "if (pack_len < (uint64_t)out->offsets[3]) {", "if (pack_len <= (uint64_t)out->offsets[3]) {"),
    M("header-envs-error-offset", "csrc/header.c",
      "out->error_offset = 8;", "out->error_offset = 4;"),
    M("header-reserved-from-21", "csrc/header.c",
      "for (i = HEADER_FIELDS_SIZE; buf[i] == 0; i++)",
      "for (i = HEADER_FIELDS_SIZE + 1; buf[i] == 0; i++)"),
    M("header-fields-four", "csrc/header.c",
      "fields = len / 4 < 5 ? len / 4 : 5;", "fields = len / 4 < 4 ? len / 4 : 4;"),
    M("layout-limit-ge", "csrc/header.c",
      "if (lens[i] > limit || at > limit - lens[i]) {",
      "if (lens[i] > limit || at >= limit - lens[i]) {"),

    # -- csrc/floatcheck.c: the first pass in front of the float check
    M("float-check-run-limit-shift", "csrc/floatcheck.c",
      "return n_int > MAX_INT_DIGITS || (i < len",
      "return n_int > MAX_INT_DIGITS + 1 || (i < len"),
    M("float-check-dot-exponent-dropped", "csrc/floatcheck.c",
      "if (at + 1 < len && (in[at + 1] == 'e' || in[at + 1] == 'E'))", "if (0)"),
    M("float-check-run-before-dot-dropped", "csrc/floatcheck.c",
      "if (before > n_int)", "if (0)"),
    M("float-check-block-carry-dropped", "csrc/floatcheck.c",
      "& ((digits << 1) | carry);", "& (digits << 1);"),

    # -- csrc/mochijson.c: the master's JSON dialect
    M("json-utf8-2byte-c1", "csrc/mochijson.c",
      "if (c >= 0xc2 && c <= 0xdf && left >= 2", "if (c >= 0xc1 && c <= 0xdf && left >= 2"),
    M("json-surrogate-bytes-ge", "csrc/mochijson.c",
      "(c == 0xed && in[s->pos + 1] > 0x9f))", "(c == 0xed && in[s->pos + 1] >= 0x9f))"),
    M("json-above-10ffff-ge", "csrc/mochijson.c",
      "(c == 0xf4 && in[s->pos + 1] > 0x8f))", "(c == 0xf4 && in[s->pos + 1] >= 0x8f))"),
    M("json-escape-fffe-allowed", "csrc/mochijson.c",
      "|| c >= 0xfffe)", "|| c > 0xfffe)"),
    M("json-low-surrogate-range", "csrc/mochijson.c",
      "if (lo < 0xdc00 || lo > 0xdfff)", "if (lo < 0xdc00 || lo >= 0xdfff)"),
    M("json-raw-control-shift", "csrc/mochijson.c",
      "        if (c < 0x20) {\n            feature(s, JP_JSON_RAW_CONTROL",
      "        if (c < 0x1f) {\n            feature(s, JP_JSON_RAW_CONTROL"),
    M("json-big-int-ge", "csrc/mochijson.c",
      "if (n_int > JP_JSON_BIG_INT_DIGITS)", "if (n_int >= JP_JSON_BIG_INT_DIGITS)"),
    M("json-leading-zero-allowed", "csrc/mochijson.c",
      "if (in[s->pos] == '0') {\n        s->pos++;", "if (0) {\n        s->pos++;"),
    M("json-deep-limit-shift", "csrc/mochijson.c",
      "if (s->depth == (size_t)JP_JSON_DEEP_LIMIT + 1)",
      "if (s->depth == (size_t)JP_JSON_DEEP_LIMIT + 2)"),
    M("json-trailing-comma-object-unflagged", "csrc/mochijson.c",
      "if (c == '}') {\n                if (after_comma)", "if (c == '}') {\n                if (0)"),
    M("json-trailing-value-dropped", "csrc/mochijson.c",
      "if (state == ST_AFTER && s.depth == 0)\n            return fail(&s, JP_ERR_JSON_TRAILING",
      "if (0)\n            return fail(&s, JP_ERR_JSON_TRAILING"),
    M("json-short-u-escape-shift", "csrc/mochijson.c",
      "if (left < 6) {", "if (left < 5) {"),
    M("json-float-overflow-exponent", "csrc/mochijson.c",
      "if (e != 308)", "if (e != 309)"),
    M("json-exponent-needs-digit-dropped", "csrc/mochijson.c",
      "        if (s->pos >= s->len || !is_digit(in[s->pos]))\n            return fail(s, JP_ERR_JSON_SYNTAX, s->pos);\n        while",
      "        if (0)\n            return fail(s, JP_ERR_JSON_SYNTAX, s->pos);\n        while"),

    # -- csrc/zipscan.c: the job home's central directory
    M("zip-eocd-comment-le", "csrc/zipscan.c",
      "if (comment == room)", "if (comment <= room)"),
    M("zip-count-shift", "csrc/zipscan.c",
      "if (count > cd_size / CENTRAL_SIZE)", "if (count > cd_size / CENTRAL_SIZE + 1)"),
    M("zip-disk-check-dropped", "csrc/zipscan.c",
      "if (disk != 0 && disk != 0xFFFFu)", "if (0 && disk != 0 && disk != 0xFFFFu)"),
    M("zip-encrypted-bit", "csrc/zipscan.c",
      "if (rd16(c + 8) & 1u)", "if (rd16(c + 8) & 2u)"),
    M("zip-symlink-unix-only", "csrc/zipscan.c",
      "if ((made_by >> 8) == 3 &&", "if ((made_by >> 8) == 0 &&"),
    M("zip-dotdot-length", "csrc/zipscan.c",
      "if (i - comp_start == 2 && name[comp_start] == '.'",
      "if (i - comp_start == 3 && name[comp_start] == '.'"),
    M("zip-directory-size-check-dropped", "csrc/zipscan.c",
      "if (pos != cd_end)", "if (0)"),
    M("zip-first-flagged-le", "csrc/zipscan.c",
      "if ((flags & UNSAFE_FLAGS) && info->first_flagged < 0)",
      "if ((flags & UNSAFE_FLAGS) && info->first_flagged <= 0)"),
    M("zip-drive-letter-shift", "csrc/zipscan.c",
      "if (n >= 2 && name[1] == ':' &&", "if (n >= 3 && name[1] == ':' &&"),
    M("zip-total-counts-compressed", "csrc/zipscan.c",
      "sat_add(info->total_uncompressed, usize);", "sat_add(info->total_uncompressed, csize);"),
    M("zip-local-name-length-lt", "csrc/zipscan.c",
      "if (lname_len != name_len ||", "if (lname_len < name_len ||"),
    M("zip-find-empty-name", "csrc/zipscan.c",
      "if (name_len == 0 || memcmp(", "if (name_len == 1 || memcmp("),

    # -- jobpack/pack.py
    # one helper decides for paths and file objects; test_limits covers both
    M("pack-mmap-threshold-ge", "jobpack/pack.py",
      "(use_mmap is None and size >= MMAP_THRESHOLD)", "(use_mmap is None and size > MMAP_THRESHOLD)"),
    M("pack-mmap-threshold-moved", "jobpack/pack.py",
      "MMAP_THRESHOLD = 1 << 20", "MMAP_THRESHOLD = 1 << 21"),
    M("pack-header-offset-max", "jobpack/pack.py",
      "0 <= o <= 0xFFFFFFFF for o in offsets", "0 <= o < 0xFFFFFFFF for o in offsets"),
    M("pack-mmap-file-position-ignored", "jobpack/pack.py",
      'if hasattr(f, "tell") and f.tell() == 0:', 'if hasattr(f, "tell"):'),
    M("pack-master-only-version-dropped", "jobpack/pack.py",
      "if version not in SUPPORTED_VERSIONS:", "if False:"),
    M("pack-dump-fsync-dropped", "jobpack/_files.py",
      "            os.fsync(fd)\n", "            pass\n"),

    # -- jobpack/home/ (scan.py, extract.py) and jobpack/_files.py
    M("home-bomb-ge", "jobpack/home/scan.py",
      "return total_uncompressed > max(ratio * zip_len, floor)",
      "return total_uncompressed >= max(ratio * zip_len, floor)"),
    M("home-bomb-floor-moved", "jobpack/home/scan.py",
      "BOMB_FLOOR = 64 << 20", "BOMB_FLOOR = 65 << 20"),
    M("home-max-total-ge", "jobpack/home/extract.py",
      "if summary.total_uncompressed > max_total_size:",
      "if summary.total_uncompressed >= max_total_size:"),
    M("home-inflate-size-ge", "jobpack/home/extract.py",
      "if written > entry.size:", "if written >= entry.size:"),
    M("home-dot-components-kept", "jobpack/home/extract.py",
      'if p not in ("", ".")]', 'if p not in ("",)]'),
    M("home-symlink-check-dropped", "jobpack/home/extract.py",
      "        if e.is_symlink:\n", "        if False:\n"),
    M("home-method-check-dropped", "jobpack/home/extract.py",
      "if e.method not in (_STORED, _DEFLATED):", "if False:"),
    M("home-extract-default-limit", "jobpack/home/extract.py",
      "max_total_size: int = 1 << 30,", "max_total_size: int = 1 << 40,"),

    # -- jobpack/validate.py
    M("validate-save-info-length-gt", "jobpack/validate.py",
      'ok = len(raw) >= 4 and raw[:4] in (b"hdfs", b"ddfs")',
      'ok = len(raw) > 4 and raw[:4] in (b"hdfs", b"ddfs")'),
    M("validate-prefix-dot-dropped", "jobpack/validate.py",
      'bad = "/" in value or "." in value', 'bad = "/" in value'),
    M("validate-stage-length-lt", "jobpack/validate.py",
      "if len(stage) != 3:", "if len(stage) < 3:"),
    M("validate-repeated-stages-shift", "jobpack/validate.py",
      "if len(names) != len(pipeline):", "if len(names) + 1 < len(pipeline):"),
    M("validate-max-cores-default", "jobpack/validate.py",
      "DEFAULT_MAX_CORES = 1 << 31", "DEFAULT_MAX_CORES = 1 << 30"),
    M("validate-nr-reduces-one", "jobpack/validate.py",
      "if type(nr_reduces) is int and nr_reduces == 1:", "if type(nr_reduces) is int and nr_reduces == 2:"),
    M("validate-save-results-default", "jobpack/validate.py",
      'save_results = jobdict.get("save_results", False)', 'save_results = jobdict.get("save_results", True)'),
    M("validate-portable-prefix-empty", "jobpack/validate.py",
      'PORTABLE_PREFIX = re.compile(r"[A-Za-z0-9_]+\\Z")', 'PORTABLE_PREFIX = re.compile(r"[A-Za-z0-9_]*\\Z")'),
    M("validate-reserved-bytes-dropped", "jobpack/validate.py",
      "if header.reserved_nonzero is not None:", "if False:"),
    M("validate-dotdot-worker-dropped", "jobpack/validate.py",
      'or ".." in parts or', "or"),

    # -- jobpack/_json.py
    M("json-allow-nan", "jobpack/_json.py",
      "_ENCODER = json.JSONEncoder(allow_nan=False)", "_ENCODER = json.JSONEncoder(allow_nan=True)"),
    M("json-finite-float-dropped", "jobpack/_json.py",
      "    if value in (math.inf, -math.inf):\n        raise ValueError(f\"{text} overflows",
      "    if False:\n        raise ValueError(f\"{text} overflows"),
    M("json-constant-beside-dialect", "jobpack/_json.py",
      "if not scan.readable or scan.features & _core.DIALECT_ONLY:", "if not scan.readable:"),
    M("json-fits-str-shift", "jobpack/_json.py",
      "return value.bit_length() * 0.30103 + 1 <= dialect.fast_int_digits()",
      "return value.bit_length() * 0.30103 - 1 <= dialect.fast_int_digits()"),
    M("dialect-fast-int-digits-shift", "jobpack/dialect.py",
      "return MAX_FAST_INT_DIGITS if limit == 0 else min(limit, MAX_FAST_INT_DIGITS)",
      "return MAX_FAST_INT_DIGITS if limit == 0 else min(limit + 1, MAX_FAST_INT_DIGITS)"),

    # -- jobpack/dialect.py
    M("dialect-max-int-digits-moved", "jobpack/dialect.py",
      "MAX_INT_DIGITS = 20000", "MAX_INT_DIGITS = 20001"),
    M("dialect-huge-int-lt", "jobpack/dialect.py",
      "if digits <= MAX_INT_DIGITS:", "if digits < MAX_INT_DIGITS:"),
    M("dialect-sign-counted", "jobpack/dialect.py",
      'digits = len(text) - text.startswith("-")', "digits = len(text)"),
    M("dialect-pairs-ignored", "jobpack/dialect.py",
      "object_pairs_hook = list if pairs else dict", "object_pairs_hook = dict"),
    M("dialect-long-int-parser-shift", "jobpack/dialect.py",
      "if scan.max_int_digits > limit:", "if scan.max_int_digits > limit + 1:"),
)

# Survivors that no test can kill, each with the reason.  A survivor not
# listed here fails the run: add a test that kills it, or the reason here.
EQUIVALENT: Dict[str, str] = {
    "validate-save-info-length-gt":
        "_check_save_info's string branch is reached only from _master, after the "
        "inline test has let through every string starting 'ddfs' or 'hdfs'; a string "
        "reaching it does not start so, and its UTF-8 bytes (ASCII maps 1:1) cannot "
        "either, so ok is False whatever the length test says.",
    "pack-mmap-file-position-ignored":
        "a binary file object not at offset 0 is read (after seek(0)) instead of mapped; "
        "either way the pack is the whole file from byte 0, so only the buffer's type "
        "differs, which nothing promises for that case (README: files of MMAP_THRESHOLD "
        "or more are mapped; test_limits checks that for files at offset 0).",
}


def tracked_files(root: Path) -> List[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, check=True, capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p and (root / p).is_file()]


def stale_mutants(root: Path, mutants: Sequence[Mutant]) -> List[str]:
    problems = []
    for m in mutants:
        path = root / m.file
        if m.file not in TESTS:
            problems.append(f"{m.name}: no test subset for {m.file}")
            continue
        if not path.exists():
            problems.append(f"{m.name}: {m.file} does not exist")
            continue
        count = path.read_text(encoding="utf-8").count(m.old)
        if count != 1:
            problems.append(f"{m.name}: {m.old!r} occurs {count} times in {m.file} (need 1)")
    names = [m.name for m in mutants]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(f"{name}: duplicate mutant name")
    for name in EQUIVALENT:
        if name not in names:
            problems.append(f"{name}: in EQUIVALENT but not a mutant")
    return problems


def run(cmd: Sequence[str], cwd: Path, env: Optional[dict] = None, timeout: float = 1800,
        ) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, -9, e.stdout or "", f"timed out after {timeout} s")


class Workspace:
    """A copy of the tree with the extension built in place, imported through
    PYTHONPATH (ahead of any installed jobpack) by an interpreter that has
    cffi, pytest, hypothesis and setuptools (>= 77, for the SPDX license field)."""

    def __init__(self, base: Path, python: str, fresh_venv: bool):
        self.src = base / "src"
        self.src.mkdir()
        for rel in tracked_files(ROOT):
            (self.src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, self.src / rel)
        self.python = python
        if fresh_venv:
            venv_dir = base / "venv"
            subprocess.run([python, "-m", "venv", str(venv_dir)], check=True)
            self.python = str(venv_dir / "bin" / "python")
            proc = run([self.python, "-m", "pip", "install", "-q", "cffi>=1.15", "pytest>=7",
                        "hypothesis>=6.0", "setuptools>=77"], cwd=self.src)
            if proc.returncode:
                raise SystemExit(f"pip install failed:\n{proc.stdout}\n{proc.stderr}")
        self.env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(self.src))
        self.env.pop("JOBPACK_SLOW", None)
        if self.build().returncode:
            raise SystemExit("the unmutated copy does not build")
        self.built_clean = True
        where = run([self.python, "-c", "import jobpack._native as n; print(n.__file__)"],
                    cwd=self.src / "tests", env=self.env).stdout.strip()
        if not where.startswith(str(self.src)):
            raise SystemExit(f"the tests would import jobpack from {where!r}, not the copy")

    def build(self) -> subprocess.CompletedProcess:
        return run([self.python, "setup.py", "-q", "build_ext", "--inplace"], cwd=self.src,
                   env=self.env)

    def pytest(self, files: Sequence[str]) -> subprocess.CompletedProcess:
        shutil.rmtree(self.src / "tests" / ".hypothesis", ignore_errors=True)
        return run([self.python, "-bb", "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                    "--hypothesis-seed=0", *files], cwd=self.src / "tests", env=self.env)


def first_failure(proc: subprocess.CompletedProcess) -> str:
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0]
    if proc.returncode < 0 or proc.returncode > 5:
        return f"pytest ended with status {proc.returncode} (crash or timeout)"
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["?"]
    return tail[0][:120]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the list is current")
    parser.add_argument("--list", action="store_true", help="print the mutants")
    parser.add_argument("--only", help="comma-separated mutant names")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter with cffi, pytest, hypothesis and setuptools>=77 "
                             "(default: this one)")
    parser.add_argument("--fresh-venv", action="store_true",
                        help="install those into a temporary venv first (slower)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    mutants = list(MUTANTS)
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {m.name for m in mutants}
        if unknown:
            parser.error(f"unknown mutants: {', '.join(sorted(unknown))}")
        mutants = [m for m in mutants if m.name in wanted]
    if args.list:
        for m in mutants:
            print(f"{m.name:40} {m.file:22} {m.old!r} -> {m.new!r}")
        return 0
    stale = stale_mutants(ROOT, MUTANTS)
    if stale:
        print("STALE MUTANT LIST: the code no longer has these texts; update MUTANTS:",
              *stale, sep="\n  ", file=sys.stderr)
        return 2
    by_file: Dict[str, int] = {}
    for m in MUTANTS:
        by_file[m.file] = by_file.get(m.file, 0) + 1
    print(f"{len(MUTANTS)} mutants, all current: " +
          ", ".join(f"{f.split('/')[-1]} {n}" for f, n in by_file.items()))
    if args.check:
        return 0

    start = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="jobpack-mutation-"))
    try:
        ws = Workspace(base, args.python, args.fresh_venv)
        print(f"workspace {base} ready in {time.monotonic() - start:.0f} s; baseline...",
              flush=True)
        union = sorted({f for m in mutants for f in TESTS[m.file]})
        proc = ws.pytest(union)
        if proc.returncode:
            print(f"BASELINE FAILS on {' '.join(union)}: {first_failure(proc)}\n"
                  f"{proc.stdout[-3000:]}", file=sys.stderr)
            return 2
        print(f"baseline passes ({time.monotonic() - start:.0f} s)", flush=True)

        # C mutants first, so the extension is rebuilt clean once, before
        # the Python ones.
        ordered = sorted(mutants, key=lambda m: not m.file.startswith("csrc/"))
        results: List[Tuple[Mutant, str, str, float]] = []
        for i, m in enumerate(ordered, 1):
            t0 = time.monotonic()
            path = ws.src / m.file
            original = path.read_text(encoding="utf-8")
            is_c = m.file.startswith("csrc/")
            if not is_c and not ws.built_clean:
                if ws.build().returncode:
                    raise SystemExit("the clean tree does not build")
                ws.built_clean = True
            path.write_text(original.replace(m.old, m.new, 1), encoding="utf-8")
            try:
                if is_c:
                    ws.built_clean = False
                    built = ws.build()
                    if built.returncode:
                        status, why = "STILLBORN", "does not compile: " + built.stderr[-300:]
                        results.append((m, status, why, time.monotonic() - t0))
                        print(f"[{i}/{len(ordered)}] {m.name}: {status}", flush=True)
                        continue
                proc = ws.pytest(TESTS[m.file])
            finally:
                path.write_text(original, encoding="utf-8")
            if proc.returncode:
                status, why = "killed", first_failure(proc)
            else:
                status, why = "SURVIVED", EQUIVALENT.get(m.name, "NOT EXPLAINED: add a test")
            results.append((m, status, why, time.monotonic() - t0))
            print(f"[{i}/{len(ordered)}] {m.name}: {status} ({time.monotonic() - t0:.0f} s) {why}",
                  flush=True)
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)

    killed = sum(1 for r in results if r[1] == "killed")
    survivors = [r for r in results if r[1] == "SURVIVED"]
    stillborn = [r for r in results if r[1] == "STILLBORN"]
    valid = len(results) - len(stillborn)
    rate = killed / valid if valid else 0.0
    print(f"\nkilled {killed}/{valid} mutants ({100 * rate:.1f} %), "
          f"{len(survivors)} survived, {len(stillborn)} did not compile; "
          f"{time.monotonic() - start:.0f} s in all")
    for m, _, why, _ in survivors:
        print(f"  survivor {m.name} ({m.file}): {why}")
    for m, _, why, _ in stillborn:
        print(f"  stillborn {m.name} ({m.file}): {why}")
    unexplained = [r for r in survivors if r[0].name not in EQUIVALENT]
    return 0 if rate >= REQUIRED_KILL_RATE and not unexplained and not stillborn else 1


if __name__ == "__main__":
    sys.exit(main())
