"""The ``jobpack`` command line: validate, inspect, pack and unpack job packs.

A thin layer over the library: ``jobpack.validate`` decides, ``JobPack``
reads and writes, ``jobpack.home`` builds and extracts job homes.  Exit
codes: 0 success (every pack passes), 1 a pack fails or is refused, 2 usage
or I/O errors.  Errors are one line on standard error; ``--debug`` adds the
traceback.
"""
import argparse
import importlib
import os
import signal
import sys
import threading
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence

from .. import __version__, errors
from . import escape, formats
from .common import ERROR, FAIL, CLIError

__all__ = ["main"]


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
  jobpack validate --strict packs/                  the packs under packs/, recursively
  jobpack validate --format github packs/           annotations in a GitHub Actions job
  jobpack validate --format sarif packs/ > jobpack.sarif    for GitHub code scanning
  jobpack validate --strict --ignore zip_bomb,duplicate_key packs/
  jobpack validate --format json - < job.jobpack    '-' reads a pack from standard input

Without --strict a pack fails when the Disco master would reject it, and the one
problem shown is the one the master reports.  --strict also fails packs that the
master accepts but that break at run time or are unsafe (worker missing from the
job home, '../' zip entries, zip bombs, JSON only the master reads, ...); those
problems are marked [strict].  --select and --ignore take problem codes or their
prefixes (zip_ is zip_bomb and zip_path_traversal).

In a directory, the packs are the files named *.jobpack (or as --include says)
and the files that start with the job pack magic (0xd5c0), less those matching
--exclude; a file named on the command line is always validated.  A glob without
'/' matches file and directory names, one with '/' the path under the directory.

Settings come from [tool.jobpack] in the nearest pyproject.toml (from the current
directory upwards): strict, format, select, ignore, exit-zero, include, exclude.
Flags override them.

exit codes: 0 every pack passes (or --exit-zero), 1 any pack fails, 2 usage or I/O
error (a missing or unreadable file is reported on standard error, and the other
packs are still validated)
"""

INSPECT_EPILOG = """\
examples:
  jobpack inspect examples/wordcount-v2.jobpack
  jobpack inspect --format json job.jobpack | jq '.packs[0].jobinfo.pipeline'

Shows the header (version, offsets, section sizes, reserved bytes), the jobdict and
jobenvs pretty-printed, the job home's entries, the job data size and the effective
job the master derives (pipeline, inputs, schedule) or why the master rejects the
pack.  A pack whose JSON is broken is still shown as far as it can be read.  The
json format is validate's document (strict problems), each pack with these details.

exit codes: 0 shown (even if the master rejects a pack), 1 a header is not a job
pack header, 2 usage or I/O error
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
  reserved.bin                header bytes 20-127, only when they are not zero
and prints the 'jobpack pack' command that rebuilds the pack byte for byte (from
jobhome.zip; after editing home/, give '--home DIR/home' instead).

exit codes: 0 unpacked, 1 bad header or a job home that cannot be extracted
safely (the other files are still written), 2 usage or I/O error
"""


CORPUS_EPILOG = """\
examples:
  jobpack corpus corpus/ --count 500 --seed 1
  jobpack corpus malformed/ --count 200 --kind malformed

Writes COUNT packs (every production of the master's JSON reading and every
fault first, then random ones) named NNNNN-KIND-CODE.pack, and MANIFEST.jsonl:
one JSON object a line with file, kind (valid, malformed, strict), verdict
(accept or reject: what the Disco master does), code (why it rejects), strict_code
(what strict validation refuses in a pack the master accepts) and, for accepted
packs, the jobinfo the master derives.  The same seed gives the same files.
Needs the hypothesis package.

exit codes: 0 written, 2 usage or I/O error
"""

DIFFTEST_EPILOG = """\
examples:
  jobpack difftest --reader 'myreader check {}' --count 500
  jobpack difftest --reader 'python3 reader.py' --seed 7 --kind malformed

Runs READER on each generated pack ({} is the pack's path; without {} the path is
appended): exit status 0 means the reader accepts the pack.  Every pack on which
its verdict differs from the Disco master's (as jobpack.validate computes it) is
reported, shrunk to a small pack on which they still differ; --save DIR keeps the
shrunk packs.  Needs the hypothesis package.

exit codes: 0 the reader agrees on every pack, 1 it disagrees on some, 2 usage or
I/O error (the reader cannot be run)
"""


def _kinds(text: str) -> List[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in ("valid", "malformed", "strict")]
    if not kinds or bad:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of valid, malformed, strict; found {text!r}")
    return kinds


def _count(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a count >= 0, found {text!r}")
    return value


# jobpack.pack.VERSION2, without importing the library to parse arguments
# (tests/test_cli.py checks they agree).
_VERSION2 = 2


def _pack_version(text: str) -> int:
    try:
        version = int(text, 10)
    except ValueError:
        version = -1
    if not 0 <= version <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"expected 1 or 2, found {text!r}")
    return version


def _codes(text: str) -> List[str]:
    codes = [part.strip() for part in text.split(",") if part.strip()]
    if not codes:
        raise argparse.ArgumentTypeError("expected problem codes or prefixes, such as zip_")
    from . import rules  # only for --select/--ignore: not at start-up
    bad = rules.unknown_selectors(codes)
    if bad:
        raise argparse.ArgumentTypeError(
            f"no problem code is or starts with {', '.join(map(repr, bad))} "
            f"(codes: {', '.join(rules.RULES)})")
    return codes


class _BuildFormatter(argparse.RawDescriptionHelpFormatter):
    """The formatter while the parsers are built: argparse makes one per
    argument (to check its metavar), and a formatter without a width imports
    shutil (with bz2, lzma) for the terminal's; building needs no width.
    _build_parser puts the real formatter back for help and errors."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: Optional[int] = None):
        super().__init__(prog, indent_increment, max_help_position, 80 if width is None else width)


def _add_validate(sub: Any, common: argparse.ArgumentParser, formatter: Any) -> None:
    p = sub.add_parser("validate", parents=[common], formatter_class=formatter,
                       epilog=VALIDATE_EPILOG, help="check packs the way the Disco master does",
                       description="Check job packs the way the Disco master does.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a pack file, a directory (its packs, recursively) or '-'")
    # None means "not given": the config file's value, or the default, stands.
    p.add_argument("--strict", action=argparse.BooleanOptionalAction, default=None,
                   help="also fail what the master accepts but breaks later or is unsafe")
    p.add_argument("--format", choices=formats.FORMATS, default=None,
                   help="text (default), json, github (workflow annotations), sarif "
                        "(code scanning) or junit (test reports)")
    p.add_argument("--select", type=_codes, metavar="CODES",
                   help="report only these problem codes or code prefixes (comma-separated)")
    p.add_argument("--ignore", type=_codes, metavar="CODES",
                   help="never report these problem codes or code prefixes (comma-separated)")
    p.add_argument("--exit-zero", action=argparse.BooleanOptionalAction, default=None,
                   help="exit 0 even if packs fail (2 for usage or I/O errors still)")
    p.add_argument("--include", action="append", metavar="GLOB",
                   help="in directories, validate files matching GLOB (repeatable; "
                        "default *.jobpack) besides those that start with the magic")
    p.add_argument("--exclude", action="append", metavar="GLOB",
                   help="in directories, skip files and directories matching GLOB "
                        "(repeatable)")
    p.add_argument("--config", metavar="FILE",
                   help="read [tool.jobpack] from this file instead of the nearest "
                        "pyproject.toml")
    p.add_argument("--isolated", action="store_true",
                   help="ignore every configuration file")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="text format: print only the packs that fail, and the summary")


def _add_inspect(sub: Any, common: argparse.ArgumentParser, formatter: Any) -> None:
    p = sub.add_parser("inspect", parents=[common], formatter_class=formatter,
                       epilog=INSPECT_EPILOG, help="show what is inside packs",
                       description="Show what is inside job packs.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a pack file, or '-' for standard input")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default) or json (the same document as validate's)")
    p.add_argument("--json", action="store_const", const="json", dest="format",
                   help="the same as --format json")


def _add_pack(sub: Any, common: argparse.ArgumentParser, formatter: Any) -> None:
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
    p.add_argument("--version", type=_pack_version, default=_VERSION2, metavar="1|2",
                   dest="pack_version", help="job pack version: 1 (Disco 0.4 map/reduce "
                   "jobdict) or 2 (0.5+ pipeline jobdict, the default); other 16-bit "
                   "versions are written with a warning, the master rejects them")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="the pack to write ('-' for standard output)")
    p.add_argument("--verbatim", action="store_true",
                   help="embed the jobdict and jobenvs files byte for byte instead of "
                        "re-encoding them (to rebuild an unpacked pack exactly)")
    p.add_argument("--reserved", metavar="FILE",
                   help="header bytes 20-127 (108 bytes) from FILE instead of zeros, as "
                        "'unpack' writes them for a pack whose reserved bytes are not zero")
    p.add_argument("--no-worker-check", action="store_true",
                   help="build even if the worker is not a file in the job home "
                        "(for test packs)")


def _add_unpack(sub: Any, common: argparse.ArgumentParser, formatter: Any) -> None:
    p = sub.add_parser("unpack", parents=[common], formatter_class=formatter,
                       epilog=UNPACK_EPILOG, help="write a pack's sections into a directory",
                       description="Write a job pack's sections into a directory.")
    p.add_argument("path", metavar="PATH", help="a pack file, or '-' for standard input")
    p.add_argument("-d", "--directory", required=True, metavar="DIR",
                   help="where to write (created if missing; must be empty unless --force)")
    p.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    p.add_argument("--max-home-size", type=int, default=1 << 30, metavar="BYTES",
                   help="refuse a job home that expands to more (default: 1 GiB)")


def _add_corpus(sub: Any, common: argparse.ArgumentParser, formatter: Any) -> None:
    p = sub.add_parser("corpus", parents=[common], formatter_class=formatter,
                       epilog=CORPUS_EPILOG, help="write a labelled corpus of packs",
                       description="Write generated packs and a MANIFEST.jsonl of the "
                                   "master's verdicts.")
    p.add_argument("directory", metavar="DIR", help="where to write (created if missing)")
    p.add_argument("--count", type=_count, default=500, help="how many packs (default 500)")
    p.add_argument("--seed", type=int, default=0, help="the draw's seed (default 0)")
    p.add_argument("--kind", type=_kinds, default=["valid", "malformed", "strict"],
                   help="comma-separated kinds: valid, malformed, strict (default: all)")


def _add_difftest(sub: Any, common: argparse.ArgumentParser, formatter: Any) -> None:
    p = sub.add_parser("difftest", parents=[common], formatter_class=formatter,
                       epilog=DIFFTEST_EPILOG, help="compare another reader with the master",
                       description="Run another job pack reader over generated packs and "
                                   "report where it disagrees with the master.")
    p.add_argument("--reader", required=True, metavar="'CMD {}'",
                   help="the reader's command line; {} is the pack's path")
    p.add_argument("--count", type=_count, default=200, help="how many packs (default 200)")
    p.add_argument("--seed", type=int, default=0, help="the draw's seed (default 0)")
    p.add_argument("--kind", type=_kinds, default=["valid", "malformed", "strict"],
                   help="comma-separated kinds: valid, malformed, strict (default: all)")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds per reader run before it counts as hung (default 10)")
    p.add_argument("--save", metavar="DIR", help="also write each shrunk pack into DIR")


_COMMANDS: Dict[str, Callable[[Any, argparse.ArgumentParser, Any], None]] = {
    "validate": _add_validate,
    "inspect": _add_inspect,
    "pack": _add_pack,
    "unpack": _add_unpack,
    "corpus": _add_corpus,
    "difftest": _add_difftest,
}


def _command_in(argv: Sequence[str]) -> Optional[str]:
    """The subcommand ``argv`` runs, when nothing but --debug comes before
    its name; None when that is not plain (help, --version, a typo, an
    abbreviation): then every subcommand's parser is built, as argparse
    needs them all to answer."""
    for arg in argv:
        if arg != "--debug":
            return arg if arg in _COMMANDS else None
    return None


def _build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of ``only`` (what _command_in
    found): one subcommand's is a fifth of the cost of them all, and of a
    run on a pack or two."""
    formatter = _BuildFormatter
    parser = _Parser(prog="jobpack", formatter_class=formatter, epilog=MAIN_EPILOG,
                     description="Validate, inspect, build and unpack Disco job packs.")
    parser.add_argument("--version", action="version", version=f"jobpack {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error")
    # --debug after the subcommand too; SUPPRESS keeps the main default.
    common = _Parser(add_help=False, formatter_class=formatter)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    for name, add in _COMMANDS.items():
        if only is None or name == only:
            add(sub, common, formatter)
    common.formatter_class = argparse.HelpFormatter
    for built in (parser, *sub.choices.values()):
        built.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


# -- main --------------------------------------------------------------------

def _setup_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    _setup_streams()
    # Nothing written to the terminal is a control sequence (escape.py).
    restore_streams = escape.install()
    restore_signals = _exit_cleanly_on_signals()
    # Print any integer a pack holds (jobpack keeps ints over 20,000 digits
    # as HugeInt, so this costs little); restored for in-process callers.
    old_limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
    if old_limit is not None:
        sys.set_int_max_str_digits(0)
    try:
        return _run(argv)
    finally:
        restore_signals()
        restore_streams()
        if old_limit is not None:
            sys.set_int_max_str_digits(old_limit)


def _exit_cleanly_on_signals() -> Any:
    """SIGTERM and SIGHUP raise SystemExit(128 + signal), so that a pack
    being written removes its temporary file (only SIGKILL cannot)."""
    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    saved = []
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None:
                saved.append((signum, signal.signal(signum, handler)))

    def restore() -> None:
        for signum, previous in saved:
            signal.signal(signum, previous)

    return restore


def _command(name: str) -> Any:
    """The module that runs a command, imported only when that command runs."""
    return importlib.import_module(f"{__name__}.{name}")


def _run(argv: Optional[Sequence[str]]) -> int:
    parser = _build_parser(_command_in(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if not getattr(args, "debug", False):
        args.debug = False
    if args.command is None:
        parser.print_help(sys.stderr)
        return ERROR
    try:
        status: int = _command(args.command).run(args)
        return status
    except CLIError as e:
        if args.debug:
            raise
        print(f"jobpack {args.command}: {escape.inert(str(e))}", file=sys.stderr)
        return e.code
    except errors.SourceError as e:  # not a file a pack can be read from: I/O
        if args.debug:
            raise
        print(f"jobpack {args.command}: {escape.inert(str(e))}", file=sys.stderr)
        return ERROR
    except errors.JobPackError as e:
        if args.debug:
            raise
        print(f"jobpack {args.command}: {escape.inert(str(e))}", file=sys.stderr)
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
        print(f"jobpack {args.command}: internal error: {type(e).__name__}: "
              f"{escape.inert(str(e))} "
              f"(run with --debug for the traceback)", file=sys.stderr)
        return ERROR

