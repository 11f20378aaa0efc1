"""``--format text``: a line per pack (and its problems), for people."""
from typing import TYPE_CHECKING, List, Optional, Tuple

from ..common import _display
from ..escape import inert, name
from . import Reporter, Verdict, master_accepts

if TYPE_CHECKING:
    from ...validate import Problem


class TextReporter(Reporter):
    escapes_itself = True  # names through name(), problems through inert(), the rest fixed text

    def verdict(self, path: str, problems: "List[Problem]", found: "List[Problem]",
                size: Optional[int] = None) -> None:
        # Reporter.verdict without its Verdict: a pack's lines are written
        # here, which halves the CLI's own work per pack (the Verdict, and the
        # calls to show and _write, cost as much as the text itself).
        self.count += 1
        if problems:
            text = self._lines(path, problems, master_accepts(found))
        else:
            self.valid += 1
            if self.quiet:
                return
            text = self._lines(path, problems, True)
        self.before_write()
        self.out.write(text)

    def show(self, verdict: Verdict) -> None:  # (Reporter's; verdict() skips it)
        if verdict.problems or not self.quiet:
            self._write(self._lines(verdict.path, verdict.problems, verdict.master_accepts))

    @staticmethod
    def _lines(path: str, problems: "List[Problem]", accepts: bool) -> str:
        """A pack's lines: "ok", or INVALID and its problems."""
        shown = name(_display(path))
        if not problems:
            return f"{shown}: ok\n"
        note = " (strict; the master accepts it)" if accepts else ""
        if len(problems) == 1:  # the master's verdict: one line, without a list (one f-string)
            return f"{shown}: INVALID{note}\n  {inert(str(problems[0]))}\n"
        return f"{shown}: INVALID{note}\n" + "".join([f"  {inert(str(p))}\n" for p in problems])

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        # One pack, all shown: its line says it all.
        if self.count == 1 and not io_errors and not self.quiet:
            return
        super().finish(io_errors)


REPORTER = TextReporter
