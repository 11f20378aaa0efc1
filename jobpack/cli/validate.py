"""``jobpack validate``: check packs the way the Disco master does."""
import argparse
import fnmatch
import operator
import os
import re
import stat
import sys
import time
from typing import Callable, List, Optional, Sequence, TextIO, Tuple

from .. import _files, errors
from ..validate import Problem, validate
from . import config, rules
from .common import ERROR, FAIL, OK, STDIN, CLIError, _os_reason
from .escape import name, unfiltered
from .formats import reporter

PROGRESS_MIN_PACKS = 50
PROGRESS_INTERVAL = 0.1


MAGIC = b"\xd5\xc0"  # a job pack's first two bytes
DEFAULT_INCLUDE = ["*.jobpack"]
_MAGIC = re.compile(r"[*?\[/]")  # what makes a glob's text more than a literal ending


def _matcher(globs: Sequence[str]) -> Optional[Callable[[str], bool]]:
    """Whether a path under the walked directory ('/'-separated) matches one
    of ``globs``: a glob without '/' matches the name, one with '/' the path.
    (fnmatchcase's own regexes, joined: one match a file, not one a glob.)
    None when no glob is given: nothing matches, and the walk skips the call."""
    if not globs:
        return None
    suffixes = [g[1:] for g in globs if g.startswith("*") and not _MAGIC.search(g[1:])]
    if len(suffixes) == len(globs):  # "*.jobpack": the name's ending, no regex
        ends = tuple(suffixes)

        def ends_with(relpath: str) -> bool:
            return relpath.endswith(ends)
        return ends_with
    by_name = [fnmatch.translate(g) for g in globs if "/" not in g]
    by_path = [fnmatch.translate(g) for g in globs if "/" in g]
    name_match = re.compile("|".join(by_name)).match if by_name else None
    path_match = re.compile("|".join(by_path)).match if by_path else None

    def matches(relpath: str) -> bool:
        if name_match is not None and name_match(relpath[relpath.rfind("/") + 1:]):
            return True
        return path_match is not None and path_match(relpath) is not None
    return matches


def _nothing(relpath: str) -> bool:
    return False


def _starts_with_magic(path: str) -> bool:
    try:
        fd, _size = _files.open_regular(path)  # never blocks on a FIFO swapped in
    except errors.SourceError:
        return False
    try:
        return os.read(fd, len(MAGIC)) == MAGIC
    finally:
        os.close(fd)


# The walk's (sort key, path) pairs are sorted by the key alone: the keys are
# unique (one relative path each), and a tuple compare first tests its items'
# equality.
_SORT_KEY = operator.itemgetter(0)


def _walk_files(top: str, include: Sequence[str], exclude: Sequence[str],
                problems: List[Tuple[str, str]]) -> List[str]:
    """The packs under ``top``: regular files (symlinks to files too) whose name
    matches ``include`` or that start with the magic, less ``exclude``; sorted.

    os.walk's walk (top-down, symlinked directories not entered), on scandir's
    entries: a regular file's type comes with its name (no stat per file, a
    tenth of a small pack's validation)."""
    # (sort key, path): the path under top with '/' as NUL, which no name
    # holds, sorts as its list of components would, and is no container for
    # the garbage collector to walk while the packs are validated.
    found: List[Tuple[str, str]] = []
    included, excluded = _matcher(include) or _nothing, _matcher(exclude)
    pending = [(top, "")]  # (directory, its '/'-separated path under top plus '/')
    while pending:
        dirpath, prefix = pending.pop()
        try:
            with os.scandir(dirpath) as listing:
                entries = list(listing)
        except OSError as e:
            problems.append((e.filename or dirpath, _os_reason(e)))
            continue
        subdirs = []
        for entry in entries:
            rel = prefix + entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if excluded is None or not excluded(rel):
                    subdirs.append((entry.path, rel + "/"))
                continue
            if excluded is not None and excluded(rel):
                continue
            path = entry.path
            try:
                if not entry.is_file(follow_symlinks=False):  # symlinks and the rest: stat
                    if not stat.S_ISREG(os.stat(path).st_mode):
                        continue
                if included(rel) or _starts_with_magic(path):
                    found.append((rel.replace("/", "\0"), path))
            except OSError as e:
                problems.append((path, _os_reason(e)))
        # Depth first, in listing order, as os.walk; a symlinked directory is not entered.
        pending.extend(d for d in reversed(subdirs) if not os.path.islink(d[0]))
    found.sort(key=_SORT_KEY)
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
        if len(paths) == 1:
            return files  # one walk gives each file once: no set of 10,000 paths
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
    select, ignore = settings["select"], settings["ignore"]
    select_all = select is None and not ignore
    verdict, wants_size, show_progress = report.verdict, report.wants_size, progress.enabled
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
        problems = found if select_all else _select(found, select, ignore)
        failed += bool(problems)
        verdict(path, problems, found, _size(path, data) if wants_size else None)
        if show_progress:
            progress.update(i + 1, failed)
    progress.clear()
    report.finish(io_errors)
    if io_errors:
        return ERROR
    return FAIL if failed and not settings["exit_zero"] else OK
