#!/usr/bin/env python
"""Plot dumps() time against pack size, ours and the baselines.

    python bench/run.py --json bench/results.json
    python bench/plot.py [bench/results.json] [-o bench/dumps.png]

Reads the JSON that run.py writes (default: bench/results.json, else
bench/latest.json) and saves a log-log plot of median time per call, with
a second panel of ours / baseline.  matplotlib is optional: without it
this prints a message and exits 0.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SERIES = (("ours", "jobpack (ours)", "C0", "o-"),
          ("best", "best plain Python", "C2", "s--"),
          ("floor", "floor: one b\"\".join", "C7", "^:"),
          ("disco", "Disco 0.5 style", "C3", "x--"))


def dumps_series(results):
    rows = sorted((r for r in results["rows"] if r["case"] == "dumps"),
                  key=lambda r: r["size_bytes"])
    sizes = [r["size_bytes"] for r in rows]
    times = {"ours": [r["ours_ns"] for r in rows]}
    ratios = {}
    for key in ("best", "floor", "disco"):
        times[key] = [r["baselines_ns"].get(key) for r in rows]
        ratios[key] = [r["ratios"].get(key) for r in rows]
    return sizes, times, ratios


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="?")
    ap.add_argument("-o", "--output", default=os.path.join(HERE, "dumps.png"))
    args = ap.parse_args(argv)
    path = args.results
    if path is None:
        for candidate in ("results.json", "latest.json"):
            path = os.path.join(HERE, candidate)
            if os.path.exists(path):
                break
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return 0
    with open(path) as f:
        results = json.load(f)
    sizes, times, ratios = dumps_series(results)
    if not sizes:
        print(f"{path} has no dumps rows: run bench/run.py with the dumps case")
        return 0

    fig, (ax, bx) = plt.subplots(2, 1, figsize=(8, 8), sharex=True,
                                 gridspec_kw={"height_ratios": [3, 2]})
    for key, label, color, style in SERIES:
        ys = times[key]
        pts = [(x, y / 1e3) for x, y in zip(sizes, ys) if y]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=color, label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_ylabel("median time per dumps() (µs)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    m = results.get("machine", {})
    ax.set_title(f"JobPack.dumps: {m.get('nproc', '?')} x {m.get('cpu', '?')}, "
                 f"Python {m.get('python', '?')}" + (" (quick)" if results.get("quick") else ""))

    for key, label, color, style in SERIES[1:]:
        pts = [(x, r) for x, r in zip(sizes, ratios[key]) if r]
        bx.plot([p[0] for p in pts], [p[1] for p in pts], style, color=color, label=f"ours / {label}")
    bx.axhline(1.10, color="C2", lw=0.8, ls="--")
    bx.axhline(1.15, color="C7", lw=0.8, ls=":")
    bx.axhline(1 / 1.8, color="C3", lw=0.8, ls="--")
    bx.set_yscale("log")
    bx.set_ylabel("ours / baseline")
    bx.set_xlabel("payload bytes (job home + job data)")
    bx.grid(True, which="both", alpha=0.3)
    bx.legend(fontsize="small")
    ticks = [s for s in sizes]
    bx.set_xticks(ticks)
    bx.set_xticklabels([_size(s) for s in ticks], rotation=45)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"saved {args.output}")
    return 0


def _size(n: int) -> str:
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= scale:
            return f"{n // scale}{unit}"
    return str(n)


if __name__ == "__main__":
    sys.exit(main())
