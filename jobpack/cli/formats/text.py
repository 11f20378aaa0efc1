"""``--format text``: a line per pack (and its problems), for people."""
from typing import List, Tuple

from ..common import _display
from ..escape import inert, name
from . import Reporter, Verdict


class TextReporter(Reporter):
    escapes_itself = True  # names through name(), problems through inert(), the rest fixed text

    def verdict(self, verdict: Verdict) -> None:
        # Reporter.verdict, with a passing pack's line written here: the two
        # calls it saves (show, _write) are a tenth of the CLI's own work per pack.
        self.count += 1
        if verdict.problems:
            self.show(verdict)
            return
        self.valid += 1
        if not self.quiet:
            self.before_write()
            self.out.write(f"{name(_display(verdict.path))}: ok\n")

    def show(self, verdict: Verdict) -> None:
        problems = verdict.problems
        if not problems:
            if not self.quiet:
                self._write(f"{name(_display(verdict.path))}: ok\n")
            return
        note = " (strict; the master accepts it)" if verdict.master_accepts else ""
        head = f"{name(_display(verdict.path))}: INVALID{note}\n"
        if len(problems) == 1:  # the master's verdict: one line, without a list
            self._write(f"{head}  {inert(str(problems[0]))}\n")
        else:
            self._write(head + "".join([f"  {inert(str(p))}\n" for p in problems]))

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        # One pack, all shown: its line says it all.
        if self.count == 1 and not io_errors and not self.quiet:
            return
        super().finish(io_errors)


REPORTER = TextReporter
