"""``jobpack pack``: build a pack from a jobdict, jobenvs, job home and data."""
import argparse
import json
import os
import sys
from typing import Any, List, Optional, Tuple

from .. import dialect, errors, home
from ..pack import JobPack
from ..validate import validate
from .common import FAIL, OK, STDIN, CLIError, _display, _os_reason, _read_bytes
from .pretty import _short


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
