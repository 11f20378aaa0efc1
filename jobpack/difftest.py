"""Differential testing of another job pack reader against the master.

``difftest(reader, count, seed)`` writes each pack of the seeded draw
(``jobpack.strategies.draw``) to a private temporary file, runs the reader
command on it (exit status 0 = the reader accepts the pack, anything else =
it rejects it) and compares with the master's verdict as ``validate``
computes it.  Every pack where they differ is shrunk -- sections emptied,
then chunks of bytes dropped, the header's offsets kept consistent -- to a
small pack on which they still differ, and reported.

The reader is a command line with ``{}`` where the pack's path goes
(``"myreader --check {}"``); without ``{}`` the path is appended.
"""
import os
import shlex
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

from . import _core
from .validate import validate

__all__ = ["Disagreement", "difftest", "reader_command"]

HEADER_SIZE = 128


@dataclass(frozen=True)
class Disagreement:
    """A pack on which the reader and the master disagree."""

    index: int              # position in the draw
    kind: str               # the draw's label: valid, malformed or strict
    code: Optional[str]     # the master's code (or the strict code)
    master_accepts: bool
    reader_status: str      # "accept", "reject", "crash (signal N)" or "timeout"
    original: bytes
    shrunk: bytes           # a smaller pack with the same disagreement

    def describe(self) -> str:
        master = "accepts" if self.master_accepts else f"rejects ({self.code})"
        return (f"pack #{self.index} ({self.kind}): the master {master}, the reader says "
                f"{self.reader_status}; shrunk from {len(self.original)} to "
                f"{len(self.shrunk)} bytes: {_preview(self.shrunk)}")


def _preview(data: bytes, limit: int = 300) -> str:
    header = _core.decode_header(data)
    if header.ok:
        d, e, h, a = header.offsets
        parts = (f"header v{header.version}, jobdict {bytes(data[d:e])!r}, jobenvs "
                 f"{bytes(data[e:h])!r}, jobhome {a - h} bytes, jobdata {len(data) - a} bytes")
    else:
        parts = f"{bytes(data[:limit])!r}"
    return parts if len(parts) <= limit else parts[:limit - 3] + "..."


def reader_command(template: str, path: str) -> List[str]:
    """The argv for one run: the template split as a shell would, with {}
    replaced by the path (appended when there is no {})."""
    argv = shlex.split(template)
    if not argv:
        raise ValueError("the reader command is empty: give a command such as 'myreader {}'")
    if any("{}" in arg for arg in argv):
        return [arg.replace("{}", path) for arg in argv]
    return argv + [path]


class _Reader:
    def __init__(self, template: str, workdir: str, timeout: float):
        self.template, self.timeout = template, timeout
        self.path = os.path.join(workdir, "pack.bin")
        self.runs = 0

    def status(self, data: bytes) -> str:
        with open(self.path, "wb") as f:
            f.write(data)
        self.runs += 1
        try:
            done = subprocess.run(reader_command(self.template, self.path),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return "timeout"
        except OSError as e:
            raise OSError(e.errno, f"cannot run the reader {self.template!r}: {e.strerror}; "
                                   f"check the command") from e
        if done.returncode < 0:
            return f"crash (signal {-done.returncode})"
        return "accept" if done.returncode == 0 else "reject"


def _master_accepts(data: bytes) -> bool:
    # A beyond_master problem (json_too_deep) is jobpack's limit, not the master's.
    return all(p.beyond_master for p in validate(data))


def _assemble(version_word: bytes, sections: Sequence[bytes]) -> bytes:
    offsets, at = [], HEADER_SIZE
    for section in sections[:3]:
        offsets.append(at)
        at += len(section)
    offsets.append(at)
    return version_word + struct.pack("!IIII", *offsets) + bytes(HEADER_SIZE - 20) + \
        b"".join(sections)


def _ddmin(items: bytes, fails: Callable[[bytes], bool], budget: Callable[[], bool]) -> bytes:
    """Drop chunks of bytes (halves, quarters, ... single bytes) while the
    failure stays."""
    chunk = max(1, len(items) // 2)
    while chunk >= 1 and items and budget():
        at, changed = 0, False
        while at < len(items) and budget():
            candidate = items[:at] + items[at + chunk:]
            if fails(candidate):
                items, changed = candidate, True
            else:
                at += chunk
        if not changed:
            chunk //= 2
    return items


def shrink(data: bytes, fails: Callable[[bytes], bool], max_runs: int = 300) -> bytes:
    """A smaller pack for which fails() still holds (fails(data) must)."""
    runs = [0]

    def check(candidate: bytes) -> bool:
        runs[0] += 1
        return fails(candidate)

    def budget() -> bool:
        return runs[0] < max_runs

    header = _core.decode_header(data)
    if not header.ok or len(data) < HEADER_SIZE:
        return _ddmin(data, check, budget)
    d, e, h, a = header.offsets
    word = data[:4]
    sections = [data[d:e], data[e:h], data[h:a], data[a:]]
    # Whole sections first (an empty job home is an empty ZIP archive),
    # then bytes within each, last section first.
    for i, simpler in ((3, b""), (2, b""), (1, b"{}")):
        trial = sections[:i] + [simpler] + sections[i + 1:]
        if sections[i] != simpler and budget() and check(_assemble(word, trial)):
            sections = trial
    for i in (3, 2, 1, 0):
        def with_section(s: bytes, i: int = i) -> bool:
            return check(_assemble(word, sections[:i] + [s] + sections[i + 1:]))
        sections[i] = _ddmin(sections[i], with_section, budget)
    shrunk = _assemble(word, sections)
    return shrunk if fails(shrunk) else data


def difftest(reader: str, count: int = 200, seed: int = 0,
             kinds: Sequence[str] = ("valid", "malformed", "strict"),
             timeout: float = 10.0, shrink_runs: int = 300,
             on_pack: Optional[Callable[[int, int], None]] = None) -> List[Disagreement]:
    """Every pack of the draw on which the reader's verdict differs from the
    master's, each with a shrunk reproducer."""
    from .strategies.draw import labelled_draw

    cases = labelled_draw(count, seed, kinds)
    workdir = tempfile.mkdtemp(prefix="jobpack-difftest-")
    found = []
    try:
        run = _Reader(reader, workdir, timeout)
        for index, case in enumerate(cases):
            if on_pack is not None:
                on_pack(index, len(cases))
            master = case.master_accepts
            status = run.status(case.data)
            if (status == "accept") == master:
                continue

            def still_differs(candidate: bytes) -> bool:
                return (run.status(candidate) == "accept") != _master_accepts(candidate)

            found.append(Disagreement(index, case.kind, case.code, master, status, case.data,
                                      shrink(case.data, still_differs, shrink_runs)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return found
