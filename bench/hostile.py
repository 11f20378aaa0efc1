"""Benchmark: time and peak memory on the hostile inputs of issue 10 (items 4-8).

Each case runs in its own child process (so its peak RSS is its own, from
wait4) with a wall-clock timeout; the inputs are built in a temp directory.

Run:  python bench/hostile.py [CASE...]     (default: every case)
"""
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from typing import Callable, Dict, List, Tuple

from jobpack import JobPack

TIMEOUT = 120


def stored_zip(names: List[bytes]) -> bytes:
    """A ZIP of empty stored entries, written with struct (fast for 10^6 entries)."""
    local, central = [], []
    offset = 0
    crc = zlib.crc32(b"")
    for name in names:
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 0, 0, 0x21, crc, 0, 0,
                             len(name), 0) + name
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x314, 20, 0x800, 0, 0,
                                   0x21, crc, 0, 0, len(name), 0, 0, 0, 0,
                                   0o100644 << 16, offset) + name)
        local.append(header)
        offset += len(header)
    cd = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(len(names), 0xFFFF),
                      min(len(names), 0xFFFF), len(cd), offset, 0)
    if len(names) > 0xFFFF:  # ZIP64 end records
        z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(names),
                          len(names), len(cd), offset)
        loc = struct.pack("<IIQI", 0x07064B50, 0, offset + len(cd), 1)
        end = z64 + loc + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF,
                                      0xFFFFFFFF, 0xFFFFFFFF, 0)
    return b"".join(local) + cd + end


def raw_pack(jobdict: bytes, jobenvs: bytes = b"{}", home: bytes = b"", data: bytes = b"") -> bytes:
    o = [128, 128 + len(jobdict)]
    o += [o[1] + len(jobenvs), o[1] + len(jobenvs) + len(home)]
    return JobPack.header(o, version=2) + jobdict + jobenvs + home + data


JOBDICT = (b'{"prefix": "J", "owner": "o", "worker": "job.py", "scheduler": {}, '
           b'"pipeline": [["map", "split", false]], "inputs": []}')


def case_deep_names(tmp: str) -> Tuple[str, List[str]]:
    # Item 4: two entries of 32,000 path components each (128 KB of names).
    names = [b"d/" * 32000 + b"f", b"e/" * 32000 + b"f"]
    path = os.path.join(tmp, "deep_names.zip")
    with open(path, "wb") as f:
        f.write(stored_zip(names))
    code = ("import sys; from jobpack import home, errors\n"
            "try: home.extract(open(sys.argv[1], 'rb').read(), sys.argv[2])\n"
            "except errors.ZipError as e: print('ZipError', str(e)[:70])\n")
    return "python", ["-c", code, path, os.path.join(tmp, "out4")]


def _million_entry_pack(tmp: str) -> str:
    path = os.path.join(tmp, "million.jobpack")
    if not os.path.exists(path):
        names = [b"job.py"] + [b"e%07d" % i for i in range(999_999)]
        with open(path, "wb") as f:
            f.write(raw_pack(JOBDICT, home=stored_zip(names)))
    return path


def case_million_flagged_strict(tmp: str) -> Tuple[str, List[str]]:
    # Item 5 as reported: the same home with a '../' entry last, so strict
    # mode must name it.
    path = os.path.join(tmp, "million-flagged.jobpack")
    if not os.path.exists(path):
        names = [b"job.py"] + [b"e%07d" % i for i in range(999_998)] + [b"../escape"]
        with open(path, "wb") as f:
            f.write(raw_pack(JOBDICT, home=stored_zip(names)))
    return "cli", ["validate", "--strict", path]


def case_million_strict(tmp: str) -> Tuple[str, List[str]]:
    return "cli", ["validate", "--strict", _million_entry_pack(tmp)]


def case_million_plain(tmp: str) -> Tuple[str, List[str]]:
    return "cli", ["validate", _million_entry_pack(tmp)]


def case_million_inspect(tmp: str) -> Tuple[str, List[str]]:
    return "cli", ["inspect", _million_entry_pack(tmp)]


def case_long_ints_inspect(tmp: str) -> Tuple[str, List[str]]:
    # Item 6: 16 integers of 100,000 digits in the jobdict.
    ints = b", ".join(b"9" * 100_000 for _ in range(16))
    path = os.path.join(tmp, "ints.jobpack")
    with open(path, "wb") as f:
        f.write(raw_pack(JOBDICT[:-1] + b', "n": [' + ints + b"]}"))
    return "cli", ["inspect", path]


def _deep_pack(tmp: str) -> str:
    # Item 7: 8 million nested arrays (16 MB) inside a jobdict.
    path = os.path.join(tmp, "deep.jobpack")
    if not os.path.exists(path):
        depth = 8_000_000
        with open(path, "wb") as f:
            f.write(raw_pack(JOBDICT[:-1] + b', "x": ' + b"[" * depth + b"]" * depth + b"}"))
    return path


def case_deep_strict(tmp: str) -> Tuple[str, List[str]]:
    return "cli", ["validate", "--strict", _deep_pack(tmp)]


def case_deep_load(tmp: str) -> Tuple[str, List[str]]:
    code = ("import sys; from jobpack import JobPack, errors\n"
            "try: JobPack.load(sys.argv[1])\n"
            "except errors.JobPackError as e: print(type(e).__name__, str(e)[:70])\n")
    return "python", ["-c", code, _deep_pack(tmp)]


def case_dev_zero(tmp: str) -> Tuple[str, List[str]]:
    # Item 8, capped at 2 GiB of address space so the old code fails fast.
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
            "from jobpack import JobPack, errors\n"
            "try: JobPack.load('/dev/zero')\n"
            "except (errors.JobPackError, MemoryError) as e: print(type(e).__name__, str(e)[:70])\n")
    return "python", ["-c", code]


def case_fifo(tmp: str) -> Tuple[str, List[str]]:
    path = os.path.join(tmp, "fifo")
    if not os.path.exists(path):
        os.mkfifo(path)
    return "cli", ["validate", path]


CASES: Dict[str, Callable[[str], Tuple[str, List[str]]]] = {
    "4-deep-names-extract": case_deep_names,
    "5-million-entries-validate": case_million_plain,
    "5-million-entries-strict": case_million_strict,
    "5-million-entries-inspect": case_million_inspect,
    "5-million-flagged-strict": case_million_flagged_strict,
    "6-long-ints-inspect": case_long_ints_inspect,
    "7-deep-arrays-strict": case_deep_strict,
    "7-deep-arrays-load": case_deep_load,
    "8-dev-zero-load": case_dev_zero,
    "8-fifo-validate": case_fifo,
}


def run_case(kind: str, args: List[str]) -> Tuple[float, float, str]:
    """(seconds, peak RSS in MiB, outcome); /usr/bin/time measures the peak, since
    a child forked from this process would inherit its high-water mark."""
    cmd = [sys.executable] + (["-m", "jobpack"] if kind == "cli" else []) + args
    with tempfile.NamedTemporaryFile("r") as report:
        cmd = ["/usr/bin/time", "-o", report.name, "-f", "%M"] + cmd
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return TIMEOUT, float("nan"), f"timeout {TIMEOUT} s (killed)"
        elapsed = time.perf_counter() - start
        peak_kib = int(report.read().strip().splitlines()[-1])
    out = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    last = out[-1][:90] if out else ""
    return elapsed, peak_kib / 1024, f"exit {proc.returncode}: {last}"


def main() -> None:
    wanted = sys.argv[1:] or list(CASES)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    tmp = tempfile.mkdtemp()
    try:
        print(f"{'case':<28} {'time s':>8} {'peak MiB':>9}  result")
        for name in wanted:
            kind, args = CASES[name](tmp)
            elapsed, peak, result = run_case(kind, args)
            print(f"{name:<28} {elapsed:>8.2f} {peak:>9.0f}  {result}", flush=True)
    finally:
        subprocess.run(["rm", "-rf", tmp])  # shutil.rmtree recurses: too deep for it


if __name__ == "__main__":
    main()
