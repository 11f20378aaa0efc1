#!/usr/bin/env python3
"""Every number in README.md and bench/README.md, from the command behind it.

The numbers live in generated blocks of the two READMEs, between
``<!-- claims:NAME -->`` and ``<!-- /claims:NAME -->``.  This script renders
each block from its source and writes it (``--write``), checks the committed
text against it (``--check``, exit 1 when a block is stale), or prints every
block with its source (default).

Sources, each produced by a documented command:

- ``bench/latest.json``: ``python bench/run.py --json bench/results.json``,
  then copied over (the full benchmark; a few minutes).  Blocks: highlights,
  zip, latest-results, targets, machine.
- ``bench/icount.json``: ``python bench/icount.py --json bench/icount.json``
  (callgrind; needs valgrind).  Block: icount.
- ``bench/cli.json``: ``python bench/claims.py --measure-cli`` (runs
  ``jobpack validate`` on the 360 vector packs; about 10 s).  Block: cli.
- the test vectors, live (deterministic, about 2 s): block vectors, with
  the code prediction of tests/test_validate.py.
- the constants of bench/run.py and of jobpack (limits), live.  Blocks:
  method, limits.  The limits are also each tested at the limit and one
  either side in tests/test_limits.py.

After re-running a benchmark: ``python bench/claims.py --write`` and commit
the READMEs with the JSON.  ``--check`` also says when a JSON predates
commits that change jobpack/ or csrc/ (a warning: the numbers are then of an
older build).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import textwrap
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

BENCH_JSON = os.path.join(HERE, "latest.json")
ICOUNT_JSON = os.path.join(HERE, "icount.json")
CLI_JSON = os.path.join(HERE, "cli.json")
READMES = (os.path.join(ROOT, "README.md"), os.path.join(HERE, "README.md"))
BLOCK = re.compile(r"(<!-- claims:([\w-]+) -->\n)(.*?)(<!-- /claims:\2 -->)", re.S)


def _load(path: str) -> Optional[Dict[str, Any]]:
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _rows(bench: Dict[str, Any]) -> Dict[Tuple[str, str], Dict[str, Any]]:
    return {(r["case"], r["size"]): r for r in bench["rows"]}


def _x(ratio: float) -> str:
    """1/ratio as 'N.N×' (how many times faster)."""
    return f"{1 / ratio:.1f}×"


def _span(values: List[float]) -> str:
    lo, hi = f"{min(values):.2f}", f"{max(values):.2f}"
    return lo if lo == hi else f"{lo}-{hi}"


def _source(bench: Dict[str, Any]) -> str:
    return (f"`bench/latest.json`: jobpack {bench['machine'].get('git', '?')}, "
            f"{bench['time'][:16].replace('T', ' ')} UTC")


# -- the blocks ---------------------------------------------------------------

def block_highlights(bench: Dict[str, Any], icount: Optional[Dict[str, Any]]) -> str:
    rows = _rows(bench)
    dumps = {r["size_bytes"]: r for r in bench["rows"] if r["case"] == "dumps"}
    big = [r["ratios"]["floor"] for n, r in dumps.items() if n >= 1 << 20]
    sizes = sorted(n for n in dumps if n >= 1 << 20)
    peak = [r for r in bench["rows"] if r["case"] == "dump→path peak memory"]
    load_1g = rows[("load(path), mmap", "1 GiB")]["ratios"]["other"]
    zip_info = rows[("zip scan (home.scan)", "10000 entries")]["info"]
    master = rows[("validate (master) vectors", "360 packs")]["info"]["packs_per_second"]
    strict = rows[("validate (strict) vectors", "360 packs")]["info"]["packs_per_second"]
    m = bench["machine"]
    small_load = ""
    if icount and "loads_small" in icount:
        per = icount["loads_small"]["instructions_per_call"]
        small_load = (f" loading a small pack costs {per['ours'] / per['best']:.2f}× the "
                      f"instructions of a plain `struct` + `json` decoder (`bench/icount.py`);")
    return (
        f"Highlights ({m['nproc']} × {m['cpu']}, Python {m['python']}; {_source(bench)}): "
        f"`dumps` is {_x(dumps[64 << 20]['ratios']['disco'])} faster than Disco's at 64 MiB "
        f"and takes {_span(big)}× the time of one `b\"\".join` of the same sections (the floor) "
        f"from {_size(sizes[0])} to {_size(sizes[-1])}; `dump` keeps peak memory at "
        f"{_kib(peak)} at {', '.join(_size_text(r['size']) for r in peak[:-1])} and "
        f"{peak[-1]['size']} (Disco's `write(dumps())`: twice the pack); loading a 1 GiB pack takes "
        f"{load_1g:.2f}× the time of a 1 MiB one (mmap);{small_load} "
        f"`home.scan`, which checks a job home's ZIP directory and returns totals, is "
        f"{zip_info['scan_speedup']:.0f}× faster than `zipfile`'s full parse, and "
        f"`home.entries`, which builds an object per entry as `zipfile` does (like for like), "
        f"{zip_info['entries_speedup']:.1f}× faster; validation runs at "
        f"{master:,.0f} packs/s ({strict:,.0f} strict) over the 360 vector packs.")


def _size(n: int) -> str:
    return f"{n >> 30} GiB" if n >= 1 << 30 else f"{n >> 20} MiB"


def _size_text(size: str) -> str:
    return size.replace(" MiB", "").replace(" GiB", "") if size != "" else size


def _kib(rows: List[Dict[str, Any]]) -> str:
    values = sorted({r["ours_text"] for r in rows})
    return " to ".join(values)


def block_zip(bench: Dict[str, Any], icount: Any) -> str:
    info = _rows(bench)[("zip scan (home.scan)", "10000 entries")]["info"]
    return (f"`scan(zip)` checks the whole central directory in one C call and returns "
            f"totals: {info['n_entries']:,} entries in {info['scan_s'] * 1e3:.2f} ms, "
            f"{info['scan_speedup']:.0f}× faster than `zipfile`'s full parse "
            f"({info['zipfile_infolist_s'] * 1e3:.1f} ms), which builds an object per entry; "
            f"`entries(zip)`, which builds one too (the like-for-like comparison), takes "
            f"{info['entries_s'] * 1e3:.1f} ms, {info['entries_speedup']:.1f}× faster "
            f"({_source(bench)}).")


def block_vectors(bench: Any, icount: Any) -> str:
    counts = vector_counts()
    return (f"On the {counts['packs']} real master verdicts in `tests/vectors/`: "
            f"{counts['verdicts']}/{counts['packs']} verdicts and "
            f"{counts['jobinfo']}/{counts['accepted']} `jobinfo` objects agree. Of the "
            f"{counts['rejected']} packs the master rejects, it names the problem for "
            f"{counts['named']}, and our code is exactly its code for "
            f"{counts['named_exact']}/{counts['named']}; on the other {counts['crashes']} it "
            f"crashes (`invalid payload: ...`), and our code is the one our rules predict for "
            f"{counts['crashes_predicted']}/{counts['crashes']} (`tests/test_validate.py`).")


def block_cli(bench: Any, icount: Any) -> str:
    cli = _load(CLI_JSON)
    if cli is None:
        return "(no `bench/cli.json`: run `python bench/claims.py --measure-cli`)"
    return (f"The {cli['packs']} vector packs validate in {cli['master_s']:.2f} s "
            f"({cli['strict_s']:.2f} s strict), of which {cli['startup_s']:.2f} s is the "
            f"interpreter's start-up and the import (median of 5; `python bench/claims.py "
            f"--measure-cli`, jobpack {cli['git']}, load average {cli['loadavg_at_start']:.1f} "
            f"on {cli['nproc']} cores).")


def block_latest_results(bench: Dict[str, Any], icount: Any) -> str:
    import run
    m = bench["machine"]
    load = m.get("loadavg_at_start")
    load_text = f", load average {load[0]:.1f} at the start" if load else ""
    return (f"{'Quick' if bench['quick'] else 'Full'} run of `python bench/run.py --json "
            f"bench/results.json` (copied to `latest.json`) at jobpack commit {m.get('git', '?')}, "
            f"{bench['time'][:16].replace('T', ' ')} UTC, {bench['elapsed_s']:.0f} s{load_text}. "
            f"`python bench/run.py --from-json bench/latest.json --markdown` prints this table.\n\n"
            + run.table([run.Row.from_json(r) for r in bench["rows"]], markdown=True))


def block_targets(bench: Dict[str, Any], icount: Any) -> str:
    lines = ["| case | size | target | ratio | holds? |", "|---|---|---|---|---|"]
    for r in bench["rows"]:
        for t in r.get("targets", []):
            ratio = r["ratios"]
            shown = ", ".join(f"÷{k} {v:.3g}" for k, v in ratio.items()) or (r["ours_text"] or "")
            lines.append(f"| {r['case']} | {r['size']} | {t['target']} | {shown} | "
                         f"{'yes' if t['ok'] else '**no**'} |")
    return "\n".join(lines)


def block_machine(bench: Dict[str, Any], icount: Any) -> str:
    m = bench["machine"]
    return (f"- {m['nproc']} × {m['cpu']} (`nproc`, `/proc/cpuinfo`), {m['platform']}\n"
            f"- {m['implementation']} {m['python']}; glibc mmap threshold fixed: "
            f"{m.get('malloc_fixed_mmap_threshold')}\n"
            f"- recorded by `bench/run.py` in `bench/latest.json` (`machine`)")


def block_icount(bench: Any, icount: Optional[Dict[str, Any]]) -> str:
    if icount is None:
        return ("(no `bench/icount.json` yet: run `python bench/icount.py --json bench/icount.json`, "
                "then `python bench/claims.py --write`)")
    lines = ["| case | variant | instructions per call | ours / variant |", "|---|---|---|---|"]
    for case, r in icount.items():
        per = r["instructions_per_call"]
        for name, n in per.items():
            if name != "ours":
                lines.append(f"| {case} | {name} | {per['ours']:,.0f} / {n:,.0f} | "
                             f"{per['ours'] / n:.2f} |")
    return "\n".join(lines)


def block_method(bench: Any, icount: Any) -> str:
    import run
    full, quick = run.Config(False), run.Config(True)
    return (f"- `time.perf_counter_ns` around a batch of calls. A batch is sized to take "
            f"about {full.sample_ns / 1e6:g} ms, or is a single call for slow cases. GC is off "
            f"while timing.\n"
            f"- In each round, every variant of a case runs once, starting from a different "
            f"variant each round, so ours and its baselines share the same noise. There are "
            f"{full.rounds} rounds for fast cases, {full.slow_rounds} for calls over 20 ms, "
            f"and {quick.rounds}/{quick.slow_rounds} with `--quick`.")


def block_limits(bench: Any, icount: Any) -> str:
    import jobpack
    from jobpack import dialect, home
    from jobpack.cli import validate as cli_validate
    return (f"Limits (each tested at the limit and one either side, `tests/test_limits.py`): "
            f"files of {jobpack.MMAP_THRESHOLD >> 20} MiB or more are memory-mapped; a job home "
            f"may declare up to max({home.BOMB_RATIO} × its size, {home.BOMB_FLOOR >> 20} MiB) "
            f"(strict mode's `zip_bomb`, `home.extract`), and `home.extract` takes at most 1 GiB "
            f"by default (`max_total_size`); packs are under 4 GiB; integers of more than "
            f"{dialect.MAX_INT_DIGITS:,} digits stay `dialect.HugeInt`; `jobpack validate` "
            f"shows progress for more than {cli_validate.PROGRESS_MIN_PACKS} packs.")


BLOCKS: Dict[str, Callable[[Any, Any], str]] = {
    "highlights": block_highlights, "zip": block_zip, "vectors": block_vectors,
    "cli": block_cli, "latest-results": block_latest_results, "targets": block_targets,
    "machine": block_machine, "icount": block_icount, "method": block_method,
    "limits": block_limits,
}


# -- live sources ----------------------------------------------------------------

def vector_counts() -> Dict[str, int]:
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import test_validate as tv  # the predictor of the 91 crash codes lives there
    from jobpack.validate import jobinfo, validate

    counts = dict.fromkeys(("packs", "verdicts", "accepted", "jobinfo", "rejected", "named",
                            "named_exact", "crashes", "crashes_predicted"), 0)
    for v in tv.VERDICTS:
        data = tv.pack_bytes(v)
        problems = validate(data)
        counts["packs"] += 1
        counts["verdicts"] += (not problems) == v["master_valid"]
        kind = v["master_error_kind"]
        if v["master_valid"]:
            counts["accepted"] += 1
            counts["jobinfo"] += tv.as_verdict_json(jobinfo(data)) == v["jobinfo"]
            continue
        counts["rejected"] += 1
        if kind.startswith("payload:"):
            counts["crashes"] += 1
            counts["crashes_predicted"] += bool(problems) and problems[0].code == tv.predicted_code(data)
        else:
            counts["named"] += 1
            counts["named_exact"] += bool(problems) and problems[0].code == kind
    return counts


def measure_cli() -> Dict[str, Any]:
    packs = os.path.join(ROOT, "tests", "vectors", "packs")
    py = sys.executable

    def wall(args: List[str]) -> float:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([py, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    import run
    return {"packs": len(os.listdir(packs)), "git": run._git_state(),
            "loadavg_at_start": os.getloadavg()[0], "nproc": os.cpu_count(),
            "master_s": wall(["-m", "jobpack", "validate", packs]),
            "strict_s": wall(["-m", "jobpack", "validate", "--strict", packs]),
            "startup_s": wall(["-c", "import jobpack.cli"])}


def stale_sources() -> List[str]:
    """JSON sources older than the last commit that changes jobpack/ or csrc/."""
    out = []
    for name, path, key in (("bench/latest.json", BENCH_JSON, lambda d: d["machine"].get("git")),
                            ("bench/cli.json", CLI_JSON, lambda d: d.get("git"))):
        data = _load(path)
        if data is None:
            continue
        commit = (key(data) or "").split(" ")[0]
        try:
            n = subprocess.run(["git", "rev-list", "--count", f"{commit}..HEAD", "--", "jobpack",
                                "csrc"], cwd=ROOT, capture_output=True, text=True, check=True)
            later = int(n.stdout.strip())
        except (subprocess.CalledProcessError, ValueError):
            out.append(f"{name}: measured at {commit!r}, not a commit of this repository")
            continue
        if later:
            out.append(f"{name}: measured at {commit}; {later} later commits change jobpack/ "
                       f"or csrc/: re-run its command")
    return out


def _wrap(text: str) -> str:
    """Prose wrapped like the rest of the READMEs, paragraph by paragraph;
    tables kept as they are, list items wrapped one by one."""
    if "\n\n" in text:
        return "\n\n".join(_wrap(part) for part in text.split("\n\n"))
    if text.startswith("|"):
        return text
    if text.startswith("- "):
        return "\n".join(textwrap.fill(item, width=90, subsequent_indent="  ",
                                        break_long_words=False, break_on_hyphens=False)
                         for item in text.split("\n"))
    return textwrap.fill(text, width=90, break_long_words=False, break_on_hyphens=False)


def render_all() -> Dict[str, str]:
    bench, icount = _load(BENCH_JSON), _load(ICOUNT_JSON)
    return {name: _wrap(fn(bench, icount).rstrip("\n")) for name, fn in BLOCKS.items()}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="rewrite the blocks in the READMEs")
    group.add_argument("--check", action="store_true", help="exit 1 if a block is stale")
    group.add_argument("--measure-cli", action="store_true", help="time the CLI, write bench/cli.json")
    args = ap.parse_args(argv)
    if args.measure_cli:
        result = measure_cli()
        with open(CLI_JSON, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
        print(json.dumps(result, indent=1))
        return 0
    blocks = render_all()
    if not (args.write or args.check):
        for name, text in blocks.items():
            print(f"== {name} ==\n{text}\n")
    status = 0
    seen = set()
    for path in READMES:
        with open(path, encoding="utf-8") as f:
            text = f.read()

        def fill(m: "re.Match[str]") -> str:
            seen.add(m.group(2))
            if m.group(2) not in blocks:
                raise SystemExit(f"{path}: unknown claims block {m.group(2)!r}")
            return m.group(1) + blocks[m.group(2)] + "\n" + m.group(4)

        new = BLOCK.sub(fill, text)
        if args.write and new != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print(f"rewrote {os.path.relpath(path, ROOT)}")
        elif args.check and new != text:
            print(f"{os.path.relpath(path, ROOT)}: a claims block is stale: run "
                  f"python bench/claims.py --write")
            status = 1
    missing = set(blocks) - seen
    if (args.write or args.check) and missing:
        print(f"blocks not in any README: {', '.join(sorted(missing))}")
        status = 1
    for warning in stale_sources():
        print(f"warning: {warning}")
    return status


if __name__ == "__main__":
    sys.exit(main())
