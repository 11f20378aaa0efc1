"""``jobpack pack``: build a pack from a jobdict, jobenvs, job home and data."""
import argparse
import json
import os
import stat
import sys
from typing import Any, List, Optional, Tuple, Type

from .. import _core, dialect, errors, home
from ..pack import JobPack
from ..validate import validate
from .common import FAIL, OK, STDIN, CLIError, _display, _os_reason, _read_bytes
from .escape import inert, name
from .pretty import _short


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _deep_json(path: str, what: str, data: bytes) -> Any:
    """Standard JSON too deep for Python's json, read by the library's own
    non-recursive reader (up to dialect.MAX_DEPTH levels)."""
    scan = _core.scan_json(data)
    if not scan.ok:
        raise CLIError(f"{what} {_display(path)} cannot be read: "
                       f"{_core.status_message(scan.status)} (at byte {scan.error_offset})")
    if scan.dialect_features:
        raise CLIError(f"{what} {_display(path)} is not standard JSON (it uses "
                       f"{', '.join(scan.feature_names())}); fix it, or pass --verbatim to "
                       f"embed it byte for byte")
    return dialect.loads(data, name=what, scan=scan)


def _parse_json_file(path: str, what: str, data: bytes) -> Any:
    try:
        # Long integers stay digits (dialect.HugeInt): int() is quadratic.
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant,
                           parse_int=dialect._parse_int)
    except RecursionError:
        value = _deep_json(path, what, data)
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


def _with_verbatim(pack_class: Type[JobPack]) -> Type[JobPack]:
    """``pack_class`` whose jobdict and jobenvs are already bytes, written as they are."""
    class _Verbatim(pack_class):  # type: ignore[valid-type,misc]
        def _sections(self) -> List[Any]:
            return [self.jobdict, self.jobenvs, self.jobhome, self.jobdata]
    return _Verbatim


RESERVED = slice(20, 128)  # the header bytes after the five words
RESERVED_SIZE = RESERVED.stop - RESERVED.start


def _with_reserved(pack_class: Type[JobPack], reserved: bytes) -> Type[JobPack]:
    """``pack_class``, writing ``reserved`` as header bytes 20-127 instead of zeros."""
    class _Reserved(pack_class):  # type: ignore[valid-type,misc]
        def _header_for(self, sections: List[Any]) -> bytes:
            header: bytes = super()._header_for(sections)
            return header[:RESERVED.start] + reserved + header[RESERVED.stop:]
    return _Reserved


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
        count = home.scan(zip_bytes).entries
        names = [e.name for e in home.entries(zip_bytes, limit=100) if not e.is_dir]
    except errors.ZipError as e:
        return f"the job home {home_path} is not a readable ZIP archive: {e}"
    listing = ", ".join(name(n) for n in names[:5])
    if count > len(names[:5]):
        listing += f", ... ({count} entries)"
    return (f"the jobdict's worker {worker!r} is not a file in the job home {home_path} "
            f"(it has: {listing or 'no files'})")


def run(args: argparse.Namespace) -> int:
    stdin_users = [name for name, value in (("--jobdict", args.jobdict),
                                            ("--jobenvs", args.jobenvs),
                                            ("--data", args.data)) if value == STDIN]
    if len(stdin_users) > 1:
        raise CLIError(f"only one of {' and '.join(stdin_users)} can read standard input")
    dict_bytes = _read_bytes(args.jobdict, "jobdict")
    envs_bytes = b"{}" if args.jobenvs is None else _read_bytes(args.jobenvs, "jobenvs")
    data = b"" if args.data is None else _read_bytes(args.data, "job data")
    zip_bytes, built = _load_home(args.home)

    pack_class: Type[JobPack] = JobPack
    if args.reserved is not None:
        reserved = _read_bytes(args.reserved, "reserved bytes")
        if len(reserved) != RESERVED_SIZE:
            raise CLIError(f"--reserved {_display(args.reserved)} must hold exactly "
                           f"{RESERVED_SIZE} bytes (header bytes 20-127), found {len(reserved)}")
        pack_class = _with_reserved(pack_class, reserved)
    if args.verbatim:
        try:
            jobdict = dialect.loads(dict_bytes)
        except errors.JSONDecodeError as e:
            if not args.no_worker_check:
                raise CLIError(f"cannot check the worker: {e} (--no-worker-check builds "
                               f"the pack anyway)", FAIL) from e
            jobdict = None
        verbatim: Any = _with_verbatim(pack_class)  # its jobdict and jobenvs are bytes
        pack: JobPack = verbatim(args.pack_version, dict_bytes, envs_bytes, zip_bytes, data)
    else:
        jobdict = _parse_json_file(args.jobdict, "jobdict", dict_bytes)
        jobenvs = _parse_json_file(args.jobenvs or "{}", "jobenvs", envs_bytes)
        pack = pack_class(args.pack_version, jobdict, jobenvs, zip_bytes, data)
    if not args.no_worker_check:
        problem = _worker_problem(jobdict, zip_bytes, args.home)
        if problem is not None:
            raise CLIError(f"{problem}; refusing to build a pack whose job would fail "
                           f"(--no-worker-check builds it anyway)", FAIL)

    to_file = False
    if args.output == STDIN:
        pack.dump(sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        try:
            pack.dump(args.output)  # a FIFO or device is written in place: a stream
            to_file = stat.S_ISREG(os.stat(args.output).st_mode)
        except OSError as e:
            raise CLIError(f"cannot write {args.output}: {_os_reason(e)}") from e
    if to_file:
        print(f"wrote {name(args.output)}: {os.path.getsize(args.output)} bytes, version "
              f"{args.pack_version}, job home {len(zip_bytes)} bytes "
              f"{'built from' if built else 'copied from'} {name(args.home)}")
    # Building a pack that fails validation is allowed (test packs): say so.
    for p in validate(args.output if to_file else pack.dumps(), strict=True):
        what = "strict validation fails" if p.beyond_master else "the master would reject it"
        print(f"jobpack pack: warning: {what}: {inert(str(p))}", file=sys.stderr)
    return OK
