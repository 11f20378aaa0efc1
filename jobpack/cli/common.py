"""What every command shares: exit codes, the one-line error, reading inputs."""
import sys
from typing import TYPE_CHECKING, Any, Dict

from .. import _files, errors

if TYPE_CHECKING:  # imported where used: `jobpack --version` needs neither
    from ..pack import PackView
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
    """An input file's bytes: a regular file, a pipe or '-' (standard input),
    never more than any pack holds; a device or directory is refused."""
    label = f"{what} " if what else ""
    try:
        if path == STDIN:
            return _files.read_stream(sys.stdin.buffer.read)
        return _files.read_input(path)
    except OSError as e:
        raise CLIError(f"cannot read {label}{path}: {_os_reason(e)}") from e
    except errors.SourceError as e:
        raise CLIError(f"cannot read {label}{_display(path)}: {e}") from e


def _os_reason(e: OSError) -> str:
    return e.strerror or str(e)


def _open_view(path: str) -> "PackView":
    """A header-checked view of a pack (a file is mapped when large)."""
    from ..pack import JobPack, PackView
    try:
        if path == STDIN:
            return PackView.from_buffer(_files.read_stream(sys.stdin.buffer.read))
        return JobPack.view(path)
    except OSError as e:
        raise CLIError(f"cannot read {path}: {_os_reason(e)}") from e
    except errors.SourceError as e:
        raise CLIError(f"cannot read {_display(path)}: {e}") from e
    except errors.HeaderError as e:
        raise CLIError(f"{_display(path)}: invalid header: {e}", FAIL) from e


def _problem_json(problem: "Problem") -> Dict[str, Any]:
    return {"code": problem.code, "message": problem.message, "offset": problem.offset,
            "beyond_master": problem.beyond_master}
