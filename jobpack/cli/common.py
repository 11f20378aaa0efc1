"""What every command shares: exit codes, the one-line error, reading inputs."""
import sys
from typing import Any, Dict

from .. import errors
from ..pack import JobPack, PackView
from ..validate import Problem

OK, FAIL, ERROR = 0, 1, 2
STDIN = "-"


class CLIError(Exception):
    """A one-line error for standard error, with the exit code it implies."""

    def __init__(self, message: str, code: int = ERROR):
        super().__init__(message)
        self.code = code


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


def _problem_json(problem: Problem) -> Dict[str, Any]:
    return {"code": problem.code, "message": problem.message, "offset": problem.offset,
            "beyond_master": problem.beyond_master}
