"""``jobpack validate``: check packs the way the Disco master does."""
import argparse
import fnmatch
import os
import stat
import sys
import time
from typing import List, Optional, Sequence, TextIO, Tuple

from .. import _files, errors
from ..validate import Problem, validate
from . import config, rules
from .common import ERROR, FAIL, OK, STDIN, CLIError, _os_reason
from .escape import name, unfiltered
from .formats import Verdict, reporter

PROGRESS_MIN_PACKS = 50
PROGRESS_INTERVAL = 0.1


MAGIC = b"\xd5\xc0"  # a job pack's first two bytes
DEFAULT_INCLUDE = ["*.jobpack"]


def _matches(relpath: str, globs: Sequence[str]) -> bool:
    """A glob without '/' matches the name, one with '/' the path under the walked directory."""
    name = relpath.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(relpath if "/" in g else name, g) for g in globs)


def _starts_with_magic(path: str) -> bool:
    try:
        fd, _size = _files.open_regular(path)  # never blocks on a FIFO swapped in
    except errors.SourceError:
        return False
    try:
        return os.read(fd, len(MAGIC)) == MAGIC
    finally:
        os.close(fd)


def _walk_files(top: str, include: Sequence[str], exclude: Sequence[str],
                problems: List[Tuple[str, str]]) -> List[str]:
    """The packs under ``top``: regular files (symlinks to files too) whose name
    matches ``include`` or that start with the magic, less ``exclude``; sorted."""
    found: List[Tuple[List[str], str]] = []  # (path components under top, path)

    def onerror(e: OSError) -> None:
        problems.append((e.filename or top, _os_reason(e)))

    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):
        # Paths under top, '/'-separated: once per directory, not per file (relpath is slow).
        under = os.path.relpath(dirpath, top).replace(os.sep, "/")
        prefix = "" if under == "." else under + "/"
        dirnames[:] = [d for d in dirnames if not _matches(prefix + d, exclude)]
        for leaf in filenames:
            rel = prefix + leaf
            if _matches(rel, exclude):
                continue
            path = os.path.join(dirpath, leaf)
            try:
                if not stat.S_ISREG(os.stat(path).st_mode):
                    continue
                if _matches(rel, include) or _starts_with_magic(path):
                    found.append((rel.split("/"), path))
            except OSError as e:
                problems.append((path, _os_reason(e)))
    found.sort()
    return [path for _parts, path in found]


def _targets(paths: Sequence[str], include: Sequence[str], exclude: Sequence[str],
             io_errors: List[Tuple[str, str]]) -> List[str]:
    """The packs to validate, in order, without repeats.  A file named on the
    command line is always validated; include/exclude pick within directories."""
    out: List[str] = []
    seen = set()
    if list(paths).count(STDIN) > 1:
        raise CLIError("'-' (standard input) can be given only once")
    for path in paths:
        if path != STDIN and os.path.isdir(path):
            files = _walk_files(path, include, exclude, io_errors)
            if not files:
                io_errors.append((path, f"no job packs in this directory (files named "
                                        f"{' or '.join(include)}, or starting with the "
                                        f"job pack magic)"))
        else:
            files = [path]
        for f in files:
            if f not in seen:
                seen.add(f)
                out.append(f)
    return out


class _Progress:
    """'checked N/M packs' on a terminal's standard error, redrawn in place."""

    def __init__(self, total: int, stream: TextIO):
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        self.enabled = tty and total > PROGRESS_MIN_PACKS
        self.total, self.stream = total, stream
        self.shown, self.last = False, 0.0

    def update(self, done: int, failed: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        self.stream.write(f"\r\x1b[Kjobpack: checked {done}/{self.total} packs, "
                          f"{failed} failed")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _select(problems: List[Problem], select: Optional[Sequence[str]],
            ignore: Sequence[str]) -> List[Problem]:
    return [p for p in problems
            if (select is None or rules.matches(p.code, select))
            and not rules.matches(p.code, ignore)]


def _size(path: str, data: Optional[bytes]) -> Optional[int]:
    if data is not None:
        return len(data)
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def run(args: argparse.Namespace) -> int:
    settings = config.resolve(args)
    io_errors: List[Tuple[str, str]] = []
    include = settings["include"] or DEFAULT_INCLUDE
    targets = _targets(args.paths, include, settings["exclude"], io_errors)
    for path, reason in io_errors:  # directories that could not be (fully) read
        print(f"jobpack validate: {name(path)}: {reason}", file=sys.stderr)
    progress = _Progress(len(targets), unfiltered(sys.stderr))
    strict = settings["strict"]
    report = reporter(settings["format"], strict, args.quiet, sys.stdout, progress.clear)
    failed = 0
    for i, path in enumerate(targets):
        try:
            data = _files.read_stream(sys.stdin.buffer.read) if path == STDIN else None
            found = validate(path if data is None else data, strict=strict)
        except (OSError, errors.SourceError) as e:
            reason = _os_reason(e) if isinstance(e, OSError) else str(e)
            io_errors.append((path, reason))
            progress.clear()
            print(f"jobpack validate: cannot read {name(path)}: {reason}", file=sys.stderr)
            continue
        except Exception as e:  # a bug: say which pack, keep going
            if args.debug:
                raise
            io_errors.append((path, f"internal error: {type(e).__name__}: {e}"))
            progress.clear()
            print(f"jobpack validate: internal error while validating {name(path)}: "
                  f"{type(e).__name__}: {e} (run with --debug for the traceback)",
                  file=sys.stderr)
            continue
        problems = _select(found, settings["select"], settings["ignore"])
        failed += bool(problems)
        report.verdict(Verdict(path, problems, all(p.beyond_master for p in found),
                               _size(path, data)))
        progress.update(i + 1, failed)
    progress.clear()
    report.finish(io_errors)
    if io_errors:
        return ERROR
    return FAIL if failed and not settings["exit_zero"] else OK
