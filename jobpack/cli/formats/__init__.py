"""validate's output formats: one module per format, each a Reporter.

A format is a module in this package named as ``--format`` spells it, whose
``REPORTER`` subclasses Reporter; adding one is adding that file and its name
to FORMATS.  A format's module is imported only when it is chosen.
"""
import importlib
import operator
from typing import TYPE_CHECKING, Callable, List, Optional, TextIO, Tuple, Type

from ..._record import record
from ..escape import unfiltered

if TYPE_CHECKING:  # `jobpack --version` imports this package: not the library
    from ...validate import Problem

FORMATS = ("text", "json", "github", "sarif", "junit")

_BEYOND_MASTER = operator.attrgetter("beyond_master")  # (map: no generator frame a pack)


def master_accepts(found: "List[Problem]") -> bool:
    """Whether the master accepts a pack with these problems (all of them,
    before --select/--ignore): none is the master's own."""
    return not found or all(map(_BEYOND_MASTER, found))


@record(frozen=True)
class Verdict:
    """One pack's result, as every format gets it."""

    path: str                # as given ('-' is standard input)
    problems: "List[Problem]"  # those --select/--ignore keep, in validate's order
    master_accepts: bool     # whatever --select/--ignore keep
    size: Optional[int] = None  # the pack's length in bytes, when known (Reporter.wants_size)

    def __init__(self, path: str, problems: "List[Problem]", master_accepts: bool,
                 size: Optional[int] = None):
        # record's generic __init__ costs more than a small pack's reporting;
        # the instance dict filled in place (frozen: no attribute assignment)
        fields = self.__dict__
        fields["path"], fields["problems"] = path, problems
        fields["master_accepts"], fields["size"] = master_accepts, size

    @property
    def valid(self) -> bool:
        return not self.problems


class Reporter:
    """Writes verdicts as they come (the problems are computed once, by
    validate), then a summary after the last one."""

    #: Whether show() reads Verdict.size (a stat per pack that others skip).
    wants_size = False
    #: Whether every write already passed escape.inert/name (or is ASCII JSON):
    #: such a reporter writes under escape.install()'s filter, which would
    #: only check each character again (a third of a small pack's report).
    escapes_itself = False

    def __init__(self, strict: bool, quiet: bool, out: TextIO,
                 before_write: Callable[[], None]):
        self.strict, self.quiet, self.out = strict, quiet, out
        self.before_write = before_write  # clears the progress line
        self.count = self.valid = 0

    def _write(self, text: str) -> None:
        self.before_write()
        self.out.write(text)

    def verdict(self, path: str, problems: "List[Problem]", found: "List[Problem]",
                size: Optional[int] = None) -> None:
        """One pack's result: ``problems`` are those --select/--ignore keep of
        ``found``, all that validate found; ``size`` only if wants_size."""
        self.count += 1
        self.valid += not problems
        self.show(Verdict(path, problems, master_accepts(found), size))

    def show(self, verdict: Verdict) -> None:
        """Write one pack's verdict; no problems means the pack passes."""
        raise NotImplementedError

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        """The summary line; ``io_errors`` are (path, reason) for unreadable files."""
        self._write(f"jobpack: {self.summary(io_errors)}\n")

    def summary(self, io_errors: List[Tuple[str, str]]) -> str:
        invalid = self.count - self.valid
        parts = [f"{self.count} pack{'s' if self.count != 1 else ''}",
                 f"{self.valid} valid", f"{invalid} invalid"]
        if io_errors:
            parts.append(f"{len(io_errors)} unreadable")
        mode = " (strict)" if self.strict else ""
        return f"{', '.join(parts)}{mode}"


def reporter(name: str, strict: bool, quiet: bool, out: TextIO,
             before_write: Callable[[], None]) -> Reporter:
    """The Reporter of the format called ``name`` (one of FORMATS)."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}, expected one of {', '.join(FORMATS)}")
    module = importlib.import_module(f"{__name__}.{name}")
    cls: Type[Reporter] = module.REPORTER
    if cls.escapes_itself:
        out = unfiltered(out)
    return cls(strict, quiet, out, before_write)
