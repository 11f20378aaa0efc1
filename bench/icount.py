#!/usr/bin/env python
"""Instruction counts per call (callgrind) for the CPU-bound cases of run.py.

Wall-clock ratios on a shared, noisy machine wander by 10-30 %; instruction
counts do not.  This runs one Python process under
``valgrind --tool=callgrind`` per case; inside it, ``callgrind_control -d``
dumps the counters between variants, so each variant's count is read from
its own dump (minus the cost of an empty dump, measured the same way).

    python bench/icount.py                 # all cases (several minutes)
    python bench/icount.py dumps_1k header # some cases
    python bench/icount.py --keep DIR      # keep the callgrind files, for
                                           # callgrind_annotate DIR/cg.<case>.<pid>.<n>

Instructions are not time (memory traffic and syscalls do not show), so
this is for the small, CPU-bound cases only; run.py stays the judge.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

KiB, MiB = 1 << 10, 1 << 20


def _cases(only=None):
    """case -> (calls, {variant: fn}); ours first.  With ``only``, the other
    cases are named but not built (building a 1 MiB case under callgrind is
    slow): their value is None."""
    return {name: (make() if only in (None, name) else None) for name, make in _factories().items()}


def _factories():
    """case -> a function that builds (calls, {variant: fn})."""
    import baselines as B
    from jobpack import JobPack, _core, dialect
    from jobpack.validate import validate
    from run import (_jobdict_of, _jobenvs_of, _kind_pack, _valid_pack, _vector_packs,
                     make_packs, small_home)

    out = {}

    def dumps(n, full):
        ours, disco, best, ref = make_packs(n)
        header = ref[:128]
        jd, je, home, data = ours.jobdict, ours.jobenvs, ours.jobhome, ours.jobdata
        variants = {"ours": ours.dumps, "best": best.dumps}
        if full:
            variants.update(disco=disco.dumps, floor=lambda: B.floor_dumps(header, jd, je, home, data))
        return 2000, variants

    for label, n, full in (("dumps_0", 0, False), ("dumps_100", 100, False),
                           ("dumps_1k", KiB, True), ("dumps_16k", 16 * KiB, True)):
        out[label] = lambda n=n, full=full: dumps(n, full)

    def header():
        ref = make_packs(KiB)[3]
        return 20000, {"ours": lambda: _core.decode_header(ref),
                       "py": lambda: B.BestPack.decode_header(ref, len(ref))}
    out["header"] = header

    def dialect_case(make, pairs, size, calls):
        text = make(size)
        hook = list if pairs else None
        return calls, {"ours": lambda: dialect.loads(text, pairs=pairs),
                       "json.loads": lambda: json.loads(text, object_pairs_hook=hook),
                       "scan only": lambda: _core.scan_json(text)}
    for label, make, pairs, size, calls in (
            ("dialect_jobdict_1k", _jobdict_of, False, KiB, 2000),
            ("dialect_jobenvs_1k", _jobenvs_of, True, KiB, 2000),
            ("dialect_jobdict_1m", _jobdict_of, False, MiB, 3),
            ("dialect_jobenvs_1m", _jobenvs_of, True, MiB, 3)):
        out[label] = lambda a=(make, pairs, size, calls): dialect_case(*a)

    def loads_case(kind, size, calls):
        data = _kind_pack(kind, size)
        return calls, {"ours": lambda: JobPack.loads(data), "best": lambda: B.BestPack.loads(data)}
    for kind in B.KINDS:
        for label, size, calls in (("100", 100, 2000), ("10k", 10 * KiB, 200), ("1m", MiB, 2)):
            out[f"loads_{kind}_{label}"] = lambda a=(kind, size, calls): loads_case(*a)

    def validate_case(jobdict, entries, calls):
        data = _valid_pack(jobdict, entries)
        return calls, {"ours": lambda: validate(data),
                       "strict": lambda: validate(data, strict=True),
                       "plain": lambda: B.plain_validate(data)}
    for kind, size, calls in (("string", 100, 2000), ("int", 100, 2000), ("int", 10 * KiB, 200)):
        out[f"validate_{kind}_{size}"] = lambda a=(kind, size, calls): validate_case(
            B.kind_jobdict(a[0], a[1]), 1, a[2])
    for entries in (1, 100):  # run.py's "home" rows
        out[f"validate_home_{entries}"] = lambda n=entries: validate_case(B.example_jobdict(), n, 2000)

    def vectors_case():
        vectors = _vector_packs()
        return 3, {"ours": lambda: [validate(p) for p in vectors],
                   "strict": lambda: [validate(p, strict=True) for p in vectors],
                   "plain": lambda: [B.plain_validate(p) for p in vectors]}
    out["validate_vectors"] = vectors_case

    def loads_small():
        pack = JobPack(2, B.example_jobdict(n_inputs=8), B.EXAMPLE_JOBENVS, small_home(),
                       b"\x80\x04" + b"w" * 2046).dumps()
        return 2000, {"ours": lambda: JobPack.loads(pack), "best": lambda: B.BestPack.loads(pack)}
    out["loads_small"] = loads_small
    return out


def child(case: str, out_dir: str) -> None:
    """Runs under callgrind: dump counters around each variant."""
    calls, variants = _cases(case)[case]
    pid = str(os.getpid())

    def dump(label):
        subprocess.run(["callgrind_control", "-d", label, pid], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    for fn in variants.values():  # warm up
        fn()
    dump("setup")
    dump("empty")
    for name, fn in variants.items():
        for _ in range(calls):
            fn()
        dump(f"variant {name}")
    with open(os.path.join(out_dir, f"{case}.meta.json"), "w") as f:
        json.dump({"calls": calls, "variants": list(variants)}, f)


def run_case(case: str, out_dir: str) -> dict:
    prefix = os.path.join(out_dir, f"cg.{case}")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={prefix}.%p",
           sys.executable, os.path.abspath(__file__), "--child", case, out_dir]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(out_dir, f"{case}.meta.json")) as f:
        meta = json.load(f)
    totals = {}
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            text = f.read(1 << 16)
        trigger = re.search(r"^desc: Trigger: dump (.*)$", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if trigger and total:
            totals[trigger.group(1)] = int(total.group(1))
    empty = totals["empty"]
    per_call = {name: (totals[f"variant {name}"] - empty) / meta["calls"] for name in meta["variants"]}
    return {"calls": meta["calls"], "instructions_per_call": per_call}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="*")
    ap.add_argument("--keep", metavar="DIR", help="keep the callgrind output files in DIR")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind (callgrind) is not installed: nothing to count")
        return 0
    names = list(_factories())
    for c in args.cases:
        if c not in names:
            ap.error(f"unknown case {c!r}: choose from {', '.join(names)}")
    out_dir = args.keep or tempfile.mkdtemp(prefix="jobpack-icount-")
    os.makedirs(out_dir, exist_ok=True)
    results = {}
    try:
        print(f"{'case':22s} {'variant':12s} {'instr/call':>14s} {'ours/this':>10s}")
        for case in args.cases or names:
            r = run_case(case, out_dir)
            results[case] = r
            per = r["instructions_per_call"]
            ours = per["ours"]
            for name, n in per.items():
                print(f"{case:22s} {name:12s} {n:14,.0f} {ours / n:10.3f}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(out_dir, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
