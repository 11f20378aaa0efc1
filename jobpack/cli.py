"""The ``jobpack`` command line: validate, inspect, pack and unpack job packs.

A thin layer over the library: ``jobpack.validate`` decides, ``JobPack``
reads and writes, ``jobpack.home`` builds and extracts job homes.  Exit
codes: 0 success (every pack passes), 1 a pack fails or is refused, 2 usage
or I/O errors.  Errors are one line on standard error; ``--debug`` adds the
traceback.
"""
import argparse
import io
import json
import os
import re
import shlex
import stat
import sys
import time
from typing import Any, Dict, List, NoReturn, Optional, Sequence, TextIO, Tuple

from . import __version__, dialect, errors, home
from .pack import VERSION1, VERSION2, JobPack, PackView
from .validate import MasterRejection, Problem, jobinfo, validate

__all__ = ["main"]

OK, FAIL, ERROR = 0, 1, 2
PROGRESS_MIN_PACKS = 50
PROGRESS_INTERVAL = 0.1
STDIN = "-"


class CLIError(Exception):
    """A one-line error for standard error, with the exit code it implies."""

    def __init__(self, message: str, code: int = ERROR):
        super().__init__(message)
        self.code = code


# -- argument parsing ------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


MAIN_EPILOG = """\
examples:
  jobpack validate --strict packs/               every file under packs/, CI-style exit code
  jobpack inspect examples/wordcount-v2.jobpack  header, sections, job home, effective job
  jobpack unpack job.jobpack -d job/             edit job/jobdict.json or job/home/, then
  jobpack pack --jobdict job/jobdict.json --jobenvs job/jobenvs.json --home job/home \\
               --data job/jobdata.bin -o job.jobpack

exit codes: 0 success, 1 a pack fails validation or is refused, 2 usage or I/O error
"""

VALIDATE_EPILOG = """\
examples:
  jobpack validate job.jobpack
  jobpack validate --strict packs/                  every file under packs/, recursively
  jobpack validate --format github packs/*.jobpack  annotations in a GitHub Actions job
  jobpack validate --format json - < job.jobpack    '-' reads a pack from standard input

Without --strict a pack fails when the Disco master would reject it, and the one
problem shown is the one the master reports.  --strict also fails packs that the
master accepts but that break at run time or are unsafe (worker missing from the
job home, '../' zip entries, zip bombs, JSON only the master reads, ...); those
problems are marked [strict].

exit codes: 0 every pack passes, 1 any pack fails, 2 usage or I/O error (a missing
or unreadable file is reported on standard error, and the other packs are still
validated)
"""

INSPECT_EPILOG = """\
examples:
  jobpack inspect examples/wordcount-v2.jobpack
  jobpack inspect --json job.jobpack | jq .jobinfo.pipeline

Shows the header (version, offsets, section sizes, reserved bytes), the jobdict and
jobenvs pretty-printed, the job home's entries, the job data size and the effective
job the master derives (pipeline, inputs, schedule) or why the master rejects the
pack.  A pack whose JSON is broken is still shown as far as it can be read.

exit codes: 0 shown (even if the master rejects the pack), 1 the header is not a
job pack header, 2 usage or I/O error
"""

PACK_EPILOG = """\
examples:
  jobpack pack --jobdict jobdict.json --home src/ -o job.jobpack
  jobpack pack --jobdict jobdict.json --jobenvs jobenvs.json --home home.zip \\
               --data params.bin --version 1 -o job.jobpack
  jobpack unpack old.jobpack -d old/ && jobpack pack --jobdict old/jobdict.json \\
      --jobenvs old/jobenvs.json --home old/home --data old/jobdata.bin -o new.jobpack

The jobdict and jobenvs files are read as standard JSON and written the way Disco's
client writes them (json.dumps), so the same values always give the same bytes.
A --home directory becomes a deterministic ZIP (sorted entries, fixed timestamps,
modes kept); a --home file is used as it is.  The jobdict's worker must be a file
in the job home.  The pack is written atomically (temporary file, then rename);
'-o -' writes it to standard output.

exit codes: 0 written, 1 refused (worker missing, pack too large), 2 usage or I/O
error (unreadable file, JSON that does not parse)
"""

UNPACK_EPILOG = """\
examples:
  jobpack unpack job.jobpack -d job/
  jobpack unpack - -d job/ < job.jobpack

Writes into DIR:
  jobdict.json, jobenvs.json  the sections, pretty-printed when that loses nothing
                              (they are standard JSON written the way Disco writes
                              it, so 'pack' gives back the same bytes); otherwise
                              the exact section bytes, and 'pack --verbatim' is
                              needed to rebuild
  home/                       the job home extracted safely: no entry may land
                              outside home/, no symlinks, and sizes are checked
                              (--max-home-size, zip bomb ratio) before writing
  jobhome.zip                 the job home's exact bytes ('pack --home' takes it
                              as it is, for a byte-identical job home)
  jobdata.bin                 the job data's exact bytes
and prints the 'jobpack pack' command that rebuilds the pack.

exit codes: 0 unpacked, 1 bad header or a job home that cannot be extracted
safely (the other files are still written), 2 usage or I/O error
"""


def _pack_version(text: str) -> int:
    try:
        version = int(text, 10)
    except ValueError:
        version = -1
    if not 0 <= version <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"expected 1 or 2, found {text!r}")
    return version


def _build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="jobpack", formatter_class=formatter, epilog=MAIN_EPILOG,
                     description="Validate, inspect, build and unpack Disco job packs.")
    parser.add_argument("--version", action="version", version=f"jobpack {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error")
    # --debug after the subcommand too; SUPPRESS keeps the main default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("validate", parents=[common], formatter_class=formatter,
                       epilog=VALIDATE_EPILOG, help="check packs the way the Disco master does",
                       description="Check job packs the way the Disco master does.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a pack file, a directory (every file in it, recursively) or '-'")
    p.add_argument("--strict", action="store_true",
                   help="also fail what the master accepts but breaks later or is unsafe")
    p.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="text (default), one json document, or github workflow annotations")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="text format: print only the packs that fail, and the summary")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("inspect", parents=[common], formatter_class=formatter,
                       epilog=INSPECT_EPILOG, help="show what is inside a pack",
                       description="Show what is inside a job pack.")
    p.add_argument("path", metavar="PATH", help="a pack file, or '-' for standard input")
    p.add_argument("--json", action="store_true", help="one JSON document instead of text")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("pack", parents=[common], formatter_class=formatter,
                       epilog=PACK_EPILOG, help="build a pack",
                       description="Build a job pack from a jobdict, jobenvs, job home and data.")
    p.add_argument("--jobdict", required=True, metavar="FILE",
                   help="the jobdict, a JSON object ('-' for standard input)")
    p.add_argument("--jobenvs", metavar="FILE",
                   help="the jobenvs, a JSON object of strings (default: {})")
    p.add_argument("--home", required=True, metavar="DIR|ZIP",
                   help="a directory to zip deterministically, or a ZIP file used as it is")
    p.add_argument("--data", metavar="FILE", help="the job data, any bytes (default: none)")
    p.add_argument("--version", type=_pack_version, default=VERSION2, metavar="1|2",
                   dest="pack_version", help="job pack version: 1 (Disco 0.4 map/reduce "
                   "jobdict) or 2 (0.5+ pipeline jobdict, the default); other 16-bit "
                   "versions are written with a warning, the master rejects them")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="the pack to write ('-' for standard output)")
    p.add_argument("--verbatim", action="store_true",
                   help="embed the jobdict and jobenvs files byte for byte instead of "
                        "re-encoding them (to rebuild an unpacked pack exactly)")
    p.add_argument("--no-worker-check", action="store_true",
                   help="build even if the worker is not a file in the job home "
                        "(for test packs)")
    p.set_defaults(func=cmd_pack)

    p = sub.add_parser("unpack", parents=[common], formatter_class=formatter,
                       epilog=UNPACK_EPILOG, help="write a pack's sections into a directory",
                       description="Write a job pack's sections into a directory.")
    p.add_argument("path", metavar="PATH", help="a pack file, or '-' for standard input")
    p.add_argument("-d", "--directory", required=True, metavar="DIR",
                   help="where to write (created if missing; must be empty unless --force)")
    p.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    p.add_argument("--max-home-size", type=int, default=1 << 30, metavar="BYTES",
                   help="refuse a job home that expands to more (default: 1 GiB)")
    p.set_defaults(func=cmd_unpack)
    return parser


# -- shared helpers ----------------------------------------------------------

def _display(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def _read_bytes(path: str, what: str = "") -> bytes:
    label = f"{what} " if what else ""
    if path == STDIN:
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CLIError(f"cannot read {label}{path}: {_os_reason(e)}") from e


def _os_reason(e: OSError) -> str:
    return e.strerror or str(e)


def _open_view(path: str) -> PackView:
    """A header-checked view of a pack (a file is mapped when large)."""
    try:
        if path == STDIN:
            return PackView.from_buffer(sys.stdin.buffer.read())
        return JobPack.view(path)
    except OSError as e:
        raise CLIError(f"cannot read {path}: {_os_reason(e)}") from e
    except errors.HeaderError as e:
        raise CLIError(f"{_display(path)}: invalid header: {e}", FAIL) from e


def _json_default(value: Any) -> Any:
    if isinstance(value, dialect.HugeInt):
        return int(value) if len(value.text) <= 100_000 else repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return repr(value)


MAX_SHOWN_DEPTH = 32
WIDTH = 88


def _is_pairs(value: Any) -> bool:
    return bool(value) and all(isinstance(p, tuple) and len(p) == 2 for p in value)


def _clip(value: Any, pairs: bool = False, max_depth: int = MAX_SHOWN_DEPTH) -> Any:
    """A copy of a decoded value with containers nested deeper than
    ``max_depth`` replaced by a note, so that printing never recurses without
    bound.  With ``pairs``, lists of (key, value) tuples (objects decoded
    with pairs=True) become dicts again.  Iterative."""
    root: List[Any] = [None]
    stack: List[Tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        src, parent, key, depth = stack.pop()
        if isinstance(src, (dict, list, tuple)) and depth >= max_depth:
            parent[key] = f"<nested deeper than {max_depth} levels: not shown>"
        elif pairs and isinstance(src, list) and _is_pairs(src):
            new: Any = dict.fromkeys(str(k) for k, _ in src)
            parent[key] = new
            stack.extend((v, new, str(k), depth + 1) for k, v in reversed(src))
        elif isinstance(src, dict):
            new = dict.fromkeys(src)
            parent[key] = new
            stack.extend((v, new, k, depth + 1) for k, v in src.items())
        elif isinstance(src, (list, tuple)):
            new = [None] * len(src)
            parent[key] = new
            stack.extend((v, new, i, depth + 1) for i, v in enumerate(src))
        else:
            parent[key] = src
    return root[0]


def _one_line(value: Any, ascii: bool = False) -> str:
    return json.dumps(value, ensure_ascii=ascii, default=_json_default)


def _pretty(value: Any, level: int = 0, ascii: bool = False) -> str:
    """Indented JSON, with any array or object that fits on one line kept on
    one line.  ``value`` must be clipped (see _clip)."""
    line = _one_line(value, ascii)
    if len(line) + 2 * level <= WIDTH or not isinstance(value, (dict, list)) or not value:
        return line
    pad = "  " * (level + 1)
    if isinstance(value, dict):
        items = [f"{pad}{_one_line(str(k), ascii)}: {_pretty(v, level + 1, ascii)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    items = [pad + _pretty(v, level + 1, ascii) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"


def _pairs_object_text(pairs: List[List[Any]]) -> str:
    """A JSON object from pairs, keeping repeated keys (as the master does)."""
    if not pairs:
        return "{}"
    lines = [f"  {_one_line(str(k))}: {_pretty(v, 1)}" for k, v in pairs]
    return "{\n" + ",\n".join(lines) + "\n}"


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _show_bytes(text: str) -> str:
    """Bytes that are not UTF-8 (kept as U+DC80-U+DCFF) shown as \\xNN."""
    return _ESCAPED_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def _problem_json(problem: Problem) -> Dict[str, Any]:
    return {"code": problem.code, "message": problem.message, "offset": problem.offset,
            "beyond_master": problem.beyond_master}


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else _one_line(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# -- validate ----------------------------------------------------------------

def _walk_files(top: str, problems: List[Tuple[str, str]]) -> List[str]:
    """Every regular file under ``top`` (symlinks to files too), sorted by path."""
    found = []

    def onerror(e: OSError) -> None:
        problems.append((e.filename or top, _os_reason(e)))

    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):
        for name in filenames:
            path = os.path.join(dirpath, name)
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


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


class _Report:
    """Writes verdicts as they come, in one of the three formats."""

    def __init__(self, fmt: str, strict: bool, quiet: bool, out: TextIO, progress: _Progress):
        self.fmt, self.strict, self.quiet, self.out = fmt, strict, quiet, out
        self.progress = progress
        self.count = self.valid = 0
        self.first = True
        if fmt == "json":
            self.out.write('{"jobpack": %s, "strict": %s, "packs": [' % (
                json.dumps(__version__), json.dumps(strict)))

    def _write(self, text: str) -> None:
        self.progress.clear()
        self.out.write(text)

    def verdict(self, path: str, problems: List[Problem]) -> None:
        self.count += 1
        valid = not problems
        self.valid += valid
        if self.fmt == "json":
            item = {"path": path, "valid": valid,
                    "master_accepts": not any(not p.beyond_master for p in problems),
                    "problems": [_problem_json(p) for p in problems]}
            self._write(("\n  " if self.first else ",\n  ") + json.dumps(item))
            self.first = False
        elif self.fmt == "github":
            for p in problems:
                self._write(f"::error file={_gh_property(path)}::{_gh_data(str(p))}\n")
        else:
            if valid:
                if not self.quiet:
                    self._write(f"{_display(path)}: ok\n")
                return
            master_ok = all(p.beyond_master for p in problems)
            note = " (strict; the master accepts it)" if master_ok else ""
            lines = [f"{_display(path)}: INVALID{note}\n"]
            lines += [f"  {p}\n" for p in problems]
            self._write("".join(lines))

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        invalid = self.count - self.valid
        if self.fmt == "json":
            errors_json = [{"path": p, "error": reason} for p, reason in io_errors]
            summary = {"packs": self.count, "valid": self.valid, "invalid": invalid,
                       "errors": len(io_errors)}
            self._write("%s],\n \"errors\": %s,\n \"summary\": %s}\n" % (
                "\n " if not self.first else "", json.dumps(errors_json), json.dumps(summary)))
            return
        if self.count == 1 and not io_errors and self.fmt == "text" and not self.quiet:
            return
        parts = [f"{self.count} pack{'s' if self.count != 1 else ''}",
                 f"{self.valid} valid", f"{invalid} invalid"]
        if io_errors:
            parts.append(f"{len(io_errors)} unreadable")
        mode = " (strict)" if self.strict else ""
        self._write(f"jobpack: {', '.join(parts)}{mode}\n")


def cmd_validate(args: argparse.Namespace) -> int:
    io_errors: List[Tuple[str, str]] = []
    targets = _targets(args.paths, io_errors)
    for path, reason in io_errors:  # directories that could not be (fully) read
        print(f"jobpack validate: {path}: {reason}", file=sys.stderr)
    progress = _Progress(len(targets), sys.stderr)
    report = _Report(args.format, args.strict, args.quiet, sys.stdout, progress)
    failed = 0
    for i, path in enumerate(targets):
        try:
            source: Any = sys.stdin.buffer.read() if path == STDIN else path
            problems = validate(source, strict=args.strict)
        except OSError as e:
            io_errors.append((path, _os_reason(e)))
            progress.clear()
            print(f"jobpack validate: cannot read {path}: {_os_reason(e)}", file=sys.stderr)
            continue
        except Exception as e:  # a bug: say which pack, keep going
            if args.debug:
                raise
            io_errors.append((path, f"internal error: {type(e).__name__}: {e}"))
            progress.clear()
            print(f"jobpack validate: internal error while validating {path}: "
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


# -- inspect -----------------------------------------------------------------

def _decode_section(section: memoryview, name: str, base: int, pairs: bool) -> Tuple[Any, Any]:
    """(value, None) or (None, JSONDecodeError) as the master reads it."""
    try:
        return dialect.loads(section, name=name, base_offset=base, pairs=pairs), None
    except errors.JSONDecodeError as e:
        return None, e


def _home_entries(view: PackView) -> Tuple[List[home.ZipEntry], Optional[errors.ZipError]]:
    if len(view.jobhome) == 0:
        return [], None
    try:
        return home.entries(view.jobhome), None
    except errors.ZipError as e:
        return [], e


def _entry_flags(entry: home.ZipEntry) -> List[str]:
    flags = []
    if entry.is_absolute:
        flags.append("absolute path")
    if entry.has_dotdot:
        flags.append("'..' component")
    if entry.has_backslash:
        flags.append("backslash")
    if entry.has_nul:
        flags.append("NUL in name")
    if entry.is_symlink:
        flags.append("symlink")
    if entry.is_encrypted:
        flags.append("encrypted")
    return flags


def _permissions(entry: home.ZipEntry) -> Optional[str]:
    """ls-style permissions; the file type from the name when the mode has none."""
    if entry.mode is None:
        return None
    mode = entry.mode
    if not stat.S_IFMT(mode):
        mode |= stat.S_IFDIR if entry.is_dir else stat.S_IFREG
    return stat.filemode(mode)


def _inspect_data(path: str, view: PackView) -> Dict[str, Any]:
    """Everything inspect shows, as plain data (the --json document)."""
    header = view.header
    names = ("jobdict", "jobenvs", "jobhome", "jobdata")
    doc: Dict[str, Any] = {"path": path, "size": len(view.buffer)}
    doc["header"] = {
        "magic": f"0x{header.magic:04x}",
        "version": header.version,
        "version_supported": header.version in (VERSION1, VERSION2),
        "offsets": dict(zip(names, header.offsets)),
        "sizes": dict(zip(names, header.section_sizes)),
        "reserved_zero": header.reserved_nonzero is None,
        "reserved_first_nonzero": header.reserved_nonzero,
    }
    jobdict, dict_error = _decode_section(view.jobdict, "jobdict", header.offsets[0], False)
    envs, envs_error = _decode_section(view.jobenvs, "jobenvs", header.offsets[1], True)
    doc["jobdict"] = _clip(jobdict)
    doc["jobdict_error"] = None if dict_error is None else {
        "message": dict_error.message, "offset": dict_error.offset}
    # An object's pairs in file order, repeated keys kept (the master keeps
    # them in the jobenvs); anything else as it is.
    is_object = envs_error is None and bytes(view.jobenvs).lstrip(b" \t\r\n")[:1] == b"{"
    doc["jobenvs_is_object"] = is_object
    if is_object:
        doc["jobenvs"] = [[str(k), _clip(v, pairs=True)] for k, v in envs]
    else:
        doc["jobenvs"] = _clip(envs, pairs=True)
    doc["jobenvs_error"] = None if envs_error is None else {
        "message": envs_error.message, "offset": envs_error.offset}
    entries, zip_error = _home_entries(view)
    doc["home"] = {
        "size": len(view.jobhome),
        "entries": [{"name": e.name, "size": e.size, "compressed_size": e.compressed_size,
                     "mode": e.mode, "mode_octal": None if e.mode is None else f"{e.mode:o}",
                     "permissions": _permissions(e), "is_dir": e.is_dir, "method": e.method,
                     "flags": _entry_flags(e)}
                    for e in entries],
        "error": None if zip_error is None else str(zip_error),
    }
    doc["jobdata_size"] = len(view.jobdata)
    try:
        doc["jobinfo"], doc["rejection"] = _clip(jobinfo(view.buffer)), None
    except MasterRejection as r:
        doc["jobinfo"], doc["rejection"] = None, _problem_json(r.problem)
    doc["problems"] = [_problem_json(p) for p in validate(view.buffer, strict=True)]
    return doc


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


def _raw_preview(section: memoryview, limit: int = 200) -> str:
    raw = bytes(section[:limit])
    more = f" ... ({len(section) - limit} more bytes)" if len(section) > limit else ""
    return f"{raw!r}{more}"


def _print_inspect(doc: Dict[str, Any], view: PackView, out: TextIO) -> None:
    h = doc["header"]
    w = out.write
    w(f"{_display(doc['path'])}: {doc['size']} bytes\n")
    w("header\n")
    w(f"  magic     {h['magic']}\n")
    supported = "" if h["version_supported"] else " (the master reads only 1 and 2)"
    w(f"  version   {h['version']}{supported}\n")
    w("  offsets   " + ", ".join(f"{k} {v}" for k, v in h["offsets"].items()) + "\n")
    w("  sizes     " + ", ".join(f"{k} {v}" for k, v in h["sizes"].items()) + "\n")
    if h["reserved_zero"]:
        w("  reserved  bytes 20-127 all zero\n")
    else:
        w(f"  reserved  NOT all zero: first non-zero byte at {h['reserved_first_nonzero']} "
          f"(the master ignores them)\n")

    w(f"jobdict ({h['sizes']['jobdict']} bytes)\n")
    if doc["jobdict_error"] is None:
        w(_indent(_pretty(doc["jobdict"])) + "\n")
    else:
        w(f"  cannot be read: {doc['jobdict_error']['message']} "
          f"(at byte {doc['jobdict_error']['offset']})\n")
        w(f"  raw: {_raw_preview(view.jobdict)}\n")

    w(f"jobenvs ({h['sizes']['jobenvs']} bytes)\n")
    if doc["jobenvs_error"] is not None:
        w(f"  cannot be read: {doc['jobenvs_error']['message']} "
          f"(at byte {doc['jobenvs_error']['offset']})\n")
        w(f"  raw: {_raw_preview(view.jobenvs)}\n")
    elif doc["jobenvs_is_object"]:
        w(_indent(_pairs_object_text(doc["jobenvs"])) + "\n")
    else:
        w(_indent(_pretty(doc["jobenvs"])) + "\n")

    hm = doc["home"]
    entries = hm["entries"]
    total = sum(e["size"] for e in entries)
    w(f"job home ({hm['size']} bytes, {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
      f", {total} bytes uncompressed)\n")
    if hm["error"] is not None:
        w(f"  not a readable ZIP archive: {hm['error']}\n")
    if entries:
        size_w = max(4, max(len(str(e["size"])) for e in entries))
        comp_w = max(10, max(len(str(e["compressed_size"])) for e in entries))
        w(f"  {'mode':<4} {'permission':<10} {'size':>{size_w}} {'compressed':>{comp_w}}  name\n")
        for e in entries:
            octal = "-" if e["mode"] is None else f"{e['mode'] & 0o7777:04o}"
            perms = e["permissions"] or "-"
            flags = f"  [{', '.join(e['flags'])}]" if e["flags"] else ""
            w(f"  {octal:<4} {perms:<10} {e['size']:>{size_w}} {e['compressed_size']:>{comp_w}}"
              f"  {e['name']}{flags}\n")
    w(f"job data: {doc['jobdata_size']} bytes\n")

    info = doc["jobinfo"]
    if info is None:
        r = doc["rejection"]
        where = "" if r["offset"] is None else f" at byte {r['offset']}"
        w(f"effective job: none, the master rejects this pack\n  {r['code']}{where}: "
          f"{r['message']}\n")
    else:
        w("effective job (what the master runs)\n")
        for key in ("prefix", "owner", "worker", "save_results", "save_info"):
            w(f"  {key:<13} {_short(info[key])}\n")
        w(f"  {'jobenvs':<13} {len(info['jobenvs'])} variable(s)\n")
        stages = info["pipeline"]
        w(f"  {'pipeline':<13} {len(stages)} stage(s)\n")
        for n, (stage, grouping, concurrent) in enumerate(stages, 1):
            conc = ", concurrent" if concurrent else ""
            w(f"    {n}. {_short(stage, 40)} ({grouping}{conc})\n")
        inputs = info["inputs"]
        w(f"  {'inputs':<13} {len(inputs)}\n")
        for item in inputs[:20]:
            w(f"    {_describe_input(item)}\n")
        if len(inputs) > 20:
            w(f"    ... and {len(inputs) - 20} more\n")
        s = info["schedule"]
        w(f"  {'schedule':<13} locality {s['locality']}, max_cores {_short(s['max_cores'])}\n")

    strict = [p for p in doc["problems"] if p["beyond_master"]]
    if strict:
        w("beyond the master (validate --strict)\n")
        for p in strict:
            where = "" if p["offset"] is None else f" at byte {p['offset']}"
            w(f"  {p['code']}{where}: {p['message']}\n")


def _describe_input(item: Dict[str, Any]) -> str:
    if item.get("type") == "dir":
        return f"#{item['id']} dir {_short(item['url'], 80)} (host {_short(item['host'])})"
    replicas = ", ".join(_short(url, 80) for url, _host in item["replicas"][:3])
    more = f" (+{len(item['replicas']) - 3} replicas)" if len(item["replicas"]) > 3 else ""
    return (f"#{item['id']} label {_short(item['label'])}, size hint {_short(item['size'])}: "
            f"{replicas}{more}")


def cmd_inspect(args: argparse.Namespace) -> int:
    view = _open_view(args.path)
    doc = _inspect_data(args.path, view)
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2, default=_json_default) + "\n")
    else:
        text = io.StringIO()
        _print_inspect(doc, view, text)
        sys.stdout.write(_show_bytes(text.getvalue()))
    return OK


# -- pack --------------------------------------------------------------------

def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json_file(path: str, what: str, data: bytes) -> Any:
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as e:
        raise CLIError(f"{what} {_display(path)} is not UTF-8 (byte {e.start}); pass "
                       f"--verbatim to embed it byte for byte") from e
    except ValueError as e:
        raise CLIError(f"{what} {_display(path)} is not standard JSON: {e}; fix it, or pass "
                       f"--verbatim to embed it byte for byte") from e
    if not isinstance(value, dict):
        raise CLIError(f"{what} {_display(path)} must be a JSON object, found "
                       f"{type(value).__name__}", FAIL)
    return value


class _VerbatimPack(JobPack):
    """A JobPack whose jobdict and jobenvs are already bytes, written as they are."""

    def _sections(self) -> List[Any]:
        return [self.jobdict, self.jobenvs, self.jobhome, self.jobdata]


def _load_home(path: str) -> Tuple[bytes, bool]:
    """(zip bytes, built from a directory?) from a directory or a ZIP file."""
    if os.path.isdir(path):
        try:
            return home.build(path), True
        except OSError as e:
            raise CLIError(f"cannot build the job home from {path}: {_os_reason(e)}") from e
        except errors.ZipError as e:
            raise CLIError(str(e)) from e
    return _read_bytes(path, "job home"), False


def _worker_problem(jobdict: Any, zip_bytes: Any, home_path: str) -> Optional[str]:
    """Why the jobdict's worker is not a file in the job home, or None."""
    if not isinstance(jobdict, dict):
        return "cannot check the worker: the jobdict is not a JSON object"
    if "worker" not in jobdict:
        return "the jobdict names no 'worker' (the master requires one)"
    worker = jobdict["worker"]
    if not isinstance(worker, str):
        return f"the jobdict's worker must be a path in the job home, found {_short(worker)}"
    if worker.startswith(("/", "\\")) or ".." in worker.replace("\\", "/").split("/"):
        return f"the jobdict's worker {worker!r} points outside the job home"
    try:
        if home.contains(zip_bytes, worker):
            return None
        names = [e.name for e in home.entries(zip_bytes) if not e.is_dir]
    except errors.ZipError as e:
        return f"the job home {home_path} is not a readable ZIP archive: {e}"
    listing = ", ".join(names[:5]) + (f", ... ({len(names)} files)" if len(names) > 5 else "")
    return (f"the jobdict's worker {worker!r} is not a file in the job home {home_path} "
            f"(it has: {listing or 'no files'})")


def cmd_pack(args: argparse.Namespace) -> int:
    stdin_users = [name for name, value in (("--jobdict", args.jobdict),
                                            ("--jobenvs", args.jobenvs),
                                            ("--data", args.data)) if value == STDIN]
    if len(stdin_users) > 1:
        raise CLIError(f"only one of {' and '.join(stdin_users)} can read standard input")
    dict_bytes = _read_bytes(args.jobdict, "jobdict")
    envs_bytes = b"{}" if args.jobenvs is None else _read_bytes(args.jobenvs, "jobenvs")
    data = b"" if args.data is None else _read_bytes(args.data, "job data")
    zip_bytes, built = _load_home(args.home)

    if args.verbatim:
        try:
            jobdict = dialect.loads(dict_bytes)
        except errors.JSONDecodeError as e:
            if not args.no_worker_check:
                raise CLIError(f"cannot check the worker: {e} (--no-worker-check builds "
                               f"the pack anyway)", FAIL) from e
            jobdict = None
        pack: JobPack = _VerbatimPack(args.pack_version, dict_bytes, envs_bytes,
                                      zip_bytes, data)  # type: ignore[arg-type]
    else:
        jobdict = _parse_json_file(args.jobdict, "jobdict", dict_bytes)
        jobenvs = _parse_json_file(args.jobenvs or "{}", "jobenvs", envs_bytes)
        pack = JobPack(args.pack_version, jobdict, jobenvs, zip_bytes, data)
    if not args.no_worker_check:
        problem = _worker_problem(jobdict, zip_bytes, args.home)
        if problem is not None:
            raise CLIError(f"{problem}; refusing to build a pack whose job would fail "
                           f"(--no-worker-check builds it anyway)", FAIL)

    if args.output == STDIN:
        pack.dump(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        size = None
    else:
        try:
            pack.dump(args.output)
        except OSError as e:
            raise CLIError(f"cannot write {args.output}: {_os_reason(e)}") from e
        size = os.path.getsize(args.output)
    if size is not None:
        print(f"wrote {args.output}: {size} bytes, version {args.pack_version}, "
              f"job home {len(zip_bytes)} bytes {'built from' if built else 'copied from'} "
              f"{args.home}")
    # Building a pack that fails validation is allowed (test packs): say so.
    for p in validate(pack.dumps() if size is None else args.output, strict=True):
        what = "strict validation fails" if p.beyond_master else "the master would reject it"
        print(f"jobpack pack: warning: {what}: {p}", file=sys.stderr)
    return OK


# -- unpack ------------------------------------------------------------------

def _disco_json(value: Any) -> Optional[bytes]:
    try:
        return json.dumps(value, allow_nan=False).encode("ascii")
    except (ValueError, TypeError, RecursionError):
        return None


def _lossless_pretty(section: bytes) -> Optional[str]:
    """Pretty JSON of the section, when 'pack' would give back exactly these
    bytes (standard JSON, written the way Disco writes it); else None."""
    try:
        value = json.loads(section.decode("utf-8"), parse_constant=_reject_constant)
        if not isinstance(value, dict) or _disco_json(value) != section:
            return None
        return _pretty(value, ascii=True) + "\n"
    except (ValueError, RecursionError):
        return None


def _write_file(path: str, data: Any) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise CLIError(f"cannot write {path}: {_os_reason(e)}") from e


def cmd_unpack(args: argparse.Namespace) -> int:
    view = _open_view(args.path)
    out = args.directory
    try:
        if os.path.exists(out) and not os.path.isdir(out):
            raise CLIError(f"{out} exists and is not a directory")
        if os.path.isdir(out) and os.listdir(out) and not args.force:
            raise CLIError(f"{out} is not empty (pass --force to write into it)")
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise CLIError(f"cannot create {out}: {_os_reason(e)}") from e

    dict_raw, envs_raw = bytes(view.jobdict), bytes(view.jobenvs)
    dict_pretty, envs_pretty = _lossless_pretty(dict_raw), _lossless_pretty(envs_raw)
    verbatim = dict_pretty is None or envs_pretty is None
    if verbatim:
        # pack --verbatim takes both files byte for byte: keep both exact.
        _write_file(os.path.join(out, "jobdict.json"), dict_raw)
        _write_file(os.path.join(out, "jobenvs.json"), envs_raw)
    else:
        _write_file(os.path.join(out, "jobdict.json"), dict_pretty.encode("ascii"))
        _write_file(os.path.join(out, "jobenvs.json"), envs_pretty.encode("ascii"))
    _write_file(os.path.join(out, "jobdata.bin"), view.jobdata)
    _write_file(os.path.join(out, "jobhome.zip"), view.jobhome)

    home_dir = os.path.join(out, "home")
    home_arg = home_dir
    status = OK
    try:
        names = home.extract(view.jobhome, home_dir, max_total_size=args.max_home_size)
        home_note = f"home/ ({len(names)} entries)"
    except errors.ZipError as e:
        status = FAIL
        home_arg = os.path.join(out, "jobhome.zip")
        home_note = "jobhome.zip only (home/ not extracted)"
        print(f"jobpack unpack: {_display(args.path)}: the job home was not extracted: {e}",
              file=sys.stderr)

    note = ("jobdict.json and jobenvs.json hold the exact section bytes (not JSON that "
            "'pack' would write back the same)" if verbatim else
            "jobdict.json and jobenvs.json pretty-printed")
    print(f"unpacked {_display(args.path)} (version {view.version}) into {out}: "
          f"{home_note}, jobdata.bin ({len(view.jobdata)} bytes); {note}")
    # The command that rebuilds the pack, with the flags this pack needs.
    try:
        worker_ok = _worker_problem(dialect.loads(view.jobdict), view.jobhome, "") is None
    except errors.JobPackError:
        worker_ok = False
    cmd = ["jobpack", "pack", "--version", str(view.version),
           "--jobdict", os.path.join(out, "jobdict.json"),
           "--jobenvs", os.path.join(out, "jobenvs.json"),
           "--home", home_arg, "--data", os.path.join(out, "jobdata.bin")]
    if verbatim:
        cmd.append("--verbatim")
    if not worker_ok:
        cmd.append("--no-worker-check")
    cmd += ["-o", "OUT.jobpack"]
    print("rebuild with: " + " ".join(shlex.quote(c) for c in cmd))
    return status


# -- main --------------------------------------------------------------------

def _setup_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    _setup_streams()
    # Print any integer a pack holds (jobpack keeps ints over 20,000 digits
    # as HugeInt, so this costs little); restored for in-process callers.
    old_limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
    if old_limit is not None:
        sys.set_int_max_str_digits(0)
    try:
        return _run(argv)
    finally:
        if old_limit is not None:
            sys.set_int_max_str_digits(old_limit)


def _run(argv: Optional[Sequence[str]]) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "debug", False):
        args.debug = False
    if args.command is None:
        parser.print_help(sys.stderr)
        return ERROR
    try:
        return args.func(args)
    except CLIError as e:
        if args.debug:
            raise
        print(f"jobpack {args.command}: {e}", file=sys.stderr)
        return e.code
    except errors.JobPackError as e:
        if args.debug:
            raise
        print(f"jobpack {args.command}: {e}", file=sys.stderr)
        return FAIL
    except KeyboardInterrupt:
        print(f"jobpack {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, as other tools do.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return FAIL
    except Exception as e:
        if args.debug:
            raise
        print(f"jobpack {args.command}: internal error: {type(e).__name__}: {e} "
              f"(run with --debug for the traceback)", file=sys.stderr)
        return ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
