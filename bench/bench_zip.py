"""Benchmark: jobpack.home.scan against zipfile on a 10,000-entry job home.

Run:  python bench/bench_zip.py [n_entries] [repeat]
Import:  from bench_zip import bench_zip_scan  (returns a dict of timings)
"""
import io
import statistics
import sys
import time
import zipfile
from typing import Callable, Dict

from jobpack import home


def make_home(n_entries: int) -> bytes:
    """A job home shaped like a real one: many small deflated modules."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n_entries):
            info = zipfile.ZipInfo(f"lib/pkg{i % 50:02d}/module_{i:05d}.py",
                                   date_time=home.FIXED_DATE_TIME)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, f"VALUE = {i}\n".encode())
    return buf.getvalue()


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_zip_scan(n_entries: int = 10000, repeat: int = 20) -> Dict[str, float]:
    """Median seconds of home.scan, home.entries and zipfile's infolist."""
    data = make_home(n_entries)
    assert home.scan(data).entries == n_entries
    scan_s = _median(lambda: home.scan(data), repeat)
    entries_s = _median(lambda: home.entries(data), repeat)
    zipfile_s = _median(lambda: zipfile.ZipFile(io.BytesIO(data)).infolist(), repeat)
    return {
        "n_entries": n_entries,
        "zip_bytes": len(data),
        "scan_s": scan_s,
        "entries_s": entries_s,
        "zipfile_infolist_s": zipfile_s,
        "scan_speedup": zipfile_s / scan_s,
        "entries_speedup": zipfile_s / entries_s,
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    r = bench_zip_scan(n, repeat)
    print(f"{r['n_entries']} entries, {r['zip_bytes']} bytes, median of {repeat}")
    print(f"  jobpack.home.scan     {r['scan_s'] * 1e3:9.3f} ms")
    print(f"  jobpack.home.entries  {r['entries_s'] * 1e3:9.3f} ms")
    print(f"  zipfile infolist      {r['zipfile_infolist_s'] * 1e3:9.3f} ms")
    print(f"  scan speed-up    x{r['scan_speedup']:.1f}")
    print(f"  entries speed-up x{r['entries_speedup']:.1f}")


if __name__ == "__main__":
    main()
