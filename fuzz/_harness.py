"""Shared runner of the atheris harnesses (fuzz/fuzz_*.py).

A harness defines ``test_one_input(data: bytes)`` and calls ``main``:

    python fuzz/fuzz_loads.py fuzz/corpus/pack -max_total_time=600   # atheris
    python fuzz/fuzz_loads.py --replay fuzz/corpus/pack crash-1234     # replay files
    python fuzz/fuzz_loads.py -runs=3000 fuzz/corpus/pack             # atheris, or
                                                   # the pure-Python mutator without it

With atheris installed, every argument goes to libFuzzer (``-runs``,
``-max_total_time``, corpus directories, ``-artifact_prefix`` ...), and
``jobpack`` is imported with atheris' coverage instrumentation.  Without it
(or with ``--no-atheris``), ``-runs=N`` replays the corpus and then runs N
inputs made by a small seeded mutator (bit flips, byte runs, splices,
u32 offsets, JSON tokens), which is what the CI smoke uses when atheris is
not installed.  ``--replay`` only runs the given files and directories.

New inputs come from ``jobpack.mutate``, the structure-aware mutator of the
C core (atheris' ``custom_mutator``; one in four still from libFuzzer's own
mutators, which a custom mutator otherwise replaces), or, in the pure-Python
mode, from it and the small mutator in turns.  ``--no-jobpack-mutator`` or
``JOBPACK_FUZZ_MUTATOR=0`` turns it off: libFuzzer's (or the small
mutator's) edits only.

An input fails when the harness raises anything: the failing input is
written to ``crash-<sha1>`` (in ``-artifact_prefix`` or the current
directory), and the process exits with status 1 after printing the input's
name and the traceback.
"""
import hashlib
import importlib
import importlib.util
import math
import os
import random
import struct
import sys
import time
import traceback
from typing import Callable, List

TestOneInput = Callable[[bytes], None]


def import_instrumented():
    """Import jobpack, under atheris' instrumentation when it is available
    and we are going to fuzz with it."""
    modules = ("jobpack", "jobpack.validate", "jobpack.home")
    if _use_atheris(sys.argv):
        import atheris
        with atheris.instrument_imports(include=["jobpack"]):
            for name in modules:
                importlib.import_module(name)
    for name in modules:
        importlib.import_module(name)


def same_json(a, b) -> bool:
    """a == b for decoded JSON, without recursion (packs nest thousands of
    levels deep) and stricter than ==: exact types (true is not 1, 1 is not
    1.0), keys in the same order, -0.0 is not 0.0, and NaN is NaN.  The one
    comparison the harnesses and the tests use (tests/conftest.py)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if list(x) != list(y):
                return False
            stack.extend(zip(x.values(), y.values()))
        elif isinstance(x, (list, tuple)):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif isinstance(x, float):
            if x != x or y != y:
                if not (x != x and y != y):
                    return False
            elif x != y or math.copysign(1.0, x) != math.copysign(1.0, y):
                return False
        elif x != y:
            return False
    return True


def same_pack(p, q) -> bool:
    """JobPack equality by same_json: version, both JSON sections (keys in
    the same order), job home and job data bytes."""
    return (p.version == q.version and same_json(p.jobdict, q.jobdict)
            and same_json(p.jobenvs, q.jobenvs) and bytes(p.jobhome) == bytes(q.jobhome)
            and bytes(p.jobdata) == bytes(q.jobdata))


def _use_atheris(argv: List[str]) -> bool:
    if "--replay" in argv or "--no-atheris" in argv:
        return False
    return importlib.util.find_spec("atheris") is not None


def _use_jobpack_mutator(argv: List[str]) -> bool:
    off = os.environ.get("JOBPACK_FUZZ_MUTATOR", "1").lower() in ("0", "off", "no", "false")
    return not off and "--no-jobpack-mutator" not in argv


def _custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """atheris' custom_mutator: jobpack.mutate, and libFuzzer's own
    mutators (dictionary, comparison operands) for one mutant in four."""
    if seed % 4 == 0:
        import atheris
        return atheris.Mutate(data, max_size)
    from jobpack import mutate
    return mutate(data, seed, max_size)


def _files(paths: List[str]) -> List[str]:
    found = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                found += [os.path.join(root, n) for n in sorted(names) if not n.startswith(".")]
        elif os.path.exists(path):
            found.append(path)
        else:
            raise SystemExit(f"no such file or directory: {path}")
    return found


def _run_one(test: TestOneInput, data: bytes, name: str, artifact_prefix: str) -> None:
    try:
        test(data)
    except BaseException:
        artifact = f"{artifact_prefix}crash-{hashlib.sha1(data).hexdigest()}"
        with open(artifact, "wb") as f:
            f.write(data)
        sys.stderr.write(f"\n=== failure on {name} ({len(data)} bytes), saved as {artifact}\n")
        traceback.print_exc()
        sys.exit(1)


_TOKENS = [b"{", b"}", b"[", b"]", b":", b",", b'"', b"\\u", b"\\ud800", b"1e400", b"NaN", b"-",
           b"true", b"null", b"\xed\xa0\x80", b"\xff", b"PK\x05\x06", b"PK\x01\x02", b"PK\x03\x04",
           b'"prefix": ', b'"pipeline": ', b'"inputs": ', b'"worker": ', b"[" * 600, b"9" * 4500]


def _mutate(rng: random.Random, data: bytes, pool: List[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 5))):
        op = rng.randrange(9)
        at = rng.randrange(len(buf) + 1)
        if len(buf) > 160 and rng.random() < 0.8:   # mostly past the header
            at = rng.randrange(128, len(buf) + 1)
        if op == 0 and buf:                      # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:                    # a random byte
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 2:                            # delete a run
            del buf[at:at + rng.randint(1, 64)]
        elif op == 3:                            # insert random bytes
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 4:                            # insert a token
            buf[at:at] = rng.choice(_TOKENS)
        elif op == 5 and len(buf) >= 20:         # a header field
            field = rng.randrange(5) * 4
            value = rng.choice((0, 128, 129, len(buf), len(buf) + 1, 0xFFFFFFFF,
                                rng.randrange(len(buf) + 1), 0xD5C00000 | rng.randrange(4)))
            buf[field:field + 4] = struct.pack("!I", value)
        elif op == 6 and pool:                   # splice with another input
            other = rng.choice(pool)
            j = rng.randrange(len(other) + 1)
            buf[at:] = other[j:j + rng.randint(0, 256)]
        elif op == 7:                            # truncate
            del buf[at:]
        elif op == 8 and buf:                    # duplicate a run
            run = buf[at:at + rng.randint(1, 32)]
            buf[at:at] = run
    return bytes(buf)


def _pure_python_fuzz(test: TestOneInput, corpus: List[str], runs: int, seed: int,
                      max_time: float, artifact_prefix: str, structured: bool) -> None:
    pool = []
    for path in _files(corpus):
        with open(path, "rb") as f:
            pool.append(f.read())
    for i, data in enumerate(pool):
        _run_one(test, data, f"seed #{i}", artifact_prefix)
    rng = random.Random(seed)
    seeds = pool or [b""]
    if structured:
        from jobpack import mutate
    start = time.monotonic()
    done = 0
    for done in range(1, runs + 1):
        data = rng.choice(seeds)
        if structured and done % 2:
            data = mutate(data, rng.getrandbits(64), len(data) + 4096)
        else:
            data = _mutate(rng, data, pool)
        _run_one(test, data, f"mutant #{done} (seed {seed})", artifact_prefix)
        if max_time and time.monotonic() - start > max_time:
            break
    how = "jobpack.mutate and the small mutator" if structured else "the small mutator"
    print(f"pure-Python fuzz ({how}): {len(pool)} seeds replayed, {done} mutants, seed {seed}, "
          f"{time.monotonic() - start:.1f}s, no failure", file=sys.stderr)


def main(test: TestOneInput, argv: List[str] = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    flags = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in argv[1:]
             if a.startswith("-") and "=" in a}
    artifact_prefix = flags.get("-artifact_prefix", "")
    paths = [a for a in argv[1:] if not a.startswith("-")]
    if "--replay" in argv:
        files = _files(paths)
        for path in files:
            with open(path, "rb") as f:
                _run_one(test, f.read(), path, artifact_prefix)
        print(f"replayed {len(files)} inputs, no failure", file=sys.stderr)
        return
    if _use_atheris(argv):
        import atheris
        if _use_jobpack_mutator(argv):
            atheris.Setup(argv, test, custom_mutator=_custom_mutator)
        else:
            atheris.Setup(argv, test)
        atheris.Fuzz()
        return
    runs = int(flags.get("-runs", "1000"))
    seed = int(flags.get("-seed", "1"))
    max_time = float(flags.get("-max_total_time", "0"))
    _pure_python_fuzz(test, paths, runs, seed, max_time, artifact_prefix,
                      _use_jobpack_mutator(argv))
