"""``jobpack unpack``: write a pack's sections into a directory."""
import argparse
import json
import os
import shlex
import stat
import sys
from typing import Any, Optional

from .. import _files, dialect, errors, home
from .common import FAIL, OK, CLIError, _display, _open_view, _os_reason
from .escape import inert, name
from .pack import RESERVED, _reject_constant, _worker_problem
from .pretty import _pretty


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


def _write_file(dir_fd: int, out: str, leaf: str, data: Any) -> None:
    """DIR/leaf, new: an old file or link there is removed, never written
    through (so a planted DIR/jobdata.bin -> /etc/passwd stays untouched)."""
    try:
        _files.create_at(dir_fd, leaf, lambda fd: _files.write_all(fd, data))
    except OSError as e:
        raise CLIError(f"cannot write {os.path.join(out, leaf)}: {_os_reason(e)}") from e


def _open_out(out: str, force: bool) -> int:
    """An fd of DIR (made if missing), after checking that nothing will be
    written before an error: DIR empty (or --force), DIR/home absent or a
    real directory (not a link, not a file)."""
    try:
        os.makedirs(out, exist_ok=True)
        dir_fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except (FileExistsError, NotADirectoryError) as e:
        raise CLIError(f"{out} exists and is not a directory") from e
    except OSError as e:
        raise CLIError(f"cannot create {out}: {_os_reason(e)}") from e
    try:
        if os.listdir(dir_fd) and not force:
            raise CLIError(f"{out} is not empty (pass --force to write into it)")
        try:
            mode = os.stat("home", dir_fd=dir_fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            mode = stat.S_IFDIR
        if stat.S_ISLNK(mode):
            raise CLIError(f"{os.path.join(out, 'home')} is a symbolic link: unpack never "
                           f"extracts through a link; remove it or choose another DIR")
        if not stat.S_ISDIR(mode):
            raise CLIError(f"{os.path.join(out, 'home')} exists and is not a directory; "
                           f"remove it or choose another DIR")
    except OSError as e:
        os.close(dir_fd)
        raise CLIError(f"cannot read {out}: {_os_reason(e)}") from e
    except BaseException:
        os.close(dir_fd)
        raise
    return dir_fd


def run(args: argparse.Namespace) -> int:
    view = _open_view(args.path)
    out = args.directory
    dir_fd = _open_out(out, args.force)
    try:
        return _unpack(args, view, out, dir_fd)
    finally:
        os.close(dir_fd)


def _unpack(args: argparse.Namespace, view: Any, out: str, dir_fd: int) -> int:
    dict_raw, envs_raw = bytes(view.jobdict), bytes(view.jobenvs)
    dict_pretty, envs_pretty = _lossless_pretty(dict_raw), _lossless_pretty(envs_raw)
    verbatim = dict_pretty is None or envs_pretty is None
    if verbatim:
        # pack --verbatim takes both files byte for byte: keep both exact.
        _write_file(dir_fd, out, "jobdict.json", dict_raw)
        _write_file(dir_fd, out, "jobenvs.json", envs_raw)
    else:
        assert dict_pretty is not None and envs_pretty is not None  # for mypy: not verbatim
        _write_file(dir_fd, out, "jobdict.json", dict_pretty.encode("ascii"))
        _write_file(dir_fd, out, "jobenvs.json", envs_pretty.encode("ascii"))
    _write_file(dir_fd, out, "jobdata.bin", view.jobdata)
    _write_file(dir_fd, out, "jobhome.zip", view.jobhome)

    home_dir = os.path.join(out, "home")
    status = OK
    try:
        names = home.extract(view.jobhome, home_dir, max_total_size=args.max_home_size,
                             follow_symlinks=False)
        home_note = f"home/ ({len(names)} entries)"
    except errors.ZipError as e:
        status = FAIL
        home_note = "jobhome.zip only (home/ not extracted)"
        print(f"jobpack unpack: {name(_display(args.path))}: the job home was not "
              f"extracted: {inert(str(e))}", file=sys.stderr)

    note = ("jobdict.json and jobenvs.json hold the exact section bytes (not JSON that "
            "'pack' would write back the same)" if verbatim else
            "jobdict.json and jobenvs.json pretty-printed")
    print(f"unpacked {name(_display(args.path))} (version {view.version}) into {name(out)}: "
          f"{home_note}, jobdata.bin ({len(view.jobdata)} bytes); {note}")
    # The command that rebuilds the pack, with the flags this pack needs.
    try:
        worker_ok = _worker_problem(dialect.loads(view.jobdict), view.jobhome, "") is None
    except errors.JobPackError:
        worker_ok = False
    cmd = ["jobpack", "pack", "--version", str(view.version),
           "--jobdict", os.path.join(out, "jobdict.json"),
           "--jobenvs", os.path.join(out, "jobenvs.json"),
           "--home", os.path.join(out, "jobhome.zip"),  # the exact bytes, not home/ rezipped
           "--data", os.path.join(out, "jobdata.bin")]
    if view.header.reserved_nonzero is not None:  # pack writes zeros unless told
        _write_file(dir_fd, out, "reserved.bin", view.buffer[RESERVED])
        cmd += ["--reserved", os.path.join(out, "reserved.bin")]
    if verbatim:
        cmd.append("--verbatim")
    if not worker_ok:
        cmd.append("--no-worker-check")
    cmd += ["-o", "OUT.jobpack"]
    print("rebuild with: " + " ".join(shlex.quote(c) for c in cmd))
    return status
