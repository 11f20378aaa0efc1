"""``jobpack validate``: check packs the way the Disco master does."""
import argparse
import os
import stat
import sys
import time
from typing import Any, List, Sequence, TextIO, Tuple

from .. import _files, errors
from ..validate import validate
from .common import ERROR, FAIL, OK, STDIN, CLIError, _os_reason
from .escape import name, unfiltered
from .formats import reporter

PROGRESS_MIN_PACKS = 50
PROGRESS_INTERVAL = 0.1


def _walk_files(top: str, problems: List[Tuple[str, str]]) -> List[str]:
    """Every regular file under ``top`` (symlinks to files too), sorted by path."""
    found = []

    def onerror(e: OSError) -> None:
        problems.append((e.filename or top, _os_reason(e)))

    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):
        for leaf in filenames:
            path = os.path.join(dirpath, leaf)
            try:
                if stat.S_ISREG(os.stat(path).st_mode):
                    found.append(path)
            except OSError as e:
                problems.append((path, _os_reason(e)))
    found.sort(key=lambda p: os.path.relpath(p, top).split(os.sep))
    return found


def _targets(paths: Sequence[str], io_errors: List[Tuple[str, str]]) -> List[str]:
    """The packs to validate, in order, without repeats."""
    out: List[str] = []
    seen = set()
    if list(paths).count(STDIN) > 1:
        raise CLIError("'-' (standard input) can be given only once")
    for path in paths:
        if path != STDIN and os.path.isdir(path):
            files = _walk_files(path, io_errors)
            if not files:
                io_errors.append((path, "no files in this directory"))
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


def run(args: argparse.Namespace) -> int:
    io_errors: List[Tuple[str, str]] = []
    targets = _targets(args.paths, io_errors)
    for path, reason in io_errors:  # directories that could not be (fully) read
        print(f"jobpack validate: {name(path)}: {reason}", file=sys.stderr)
    progress = _Progress(len(targets), unfiltered(sys.stderr))
    report = reporter(args.format, args.strict, args.quiet, sys.stdout, progress.clear)
    failed = 0
    for i, path in enumerate(targets):
        try:
            source: Any = (_files.read_stream(sys.stdin.buffer.read) if path == STDIN
                           else path)
            problems = validate(source, strict=args.strict)
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
        failed += bool(problems)
        report.verdict(path, problems)
        progress.update(i + 1, failed)
    progress.clear()
    report.finish(io_errors)
    if io_errors:
        return ERROR
    return FAIL if failed else OK
