"""``--format text``: a line per pack (and its problems), for people."""
from typing import List, Tuple

from ...validate import Problem
from ..common import _display
from ..escape import inert, name
from . import Reporter


class TextReporter(Reporter):
    def show(self, path: str, problems: List[Problem]) -> None:
        valid = not problems
        if valid:
            if not self.quiet:
                self._write(f"{name(_display(path))}: ok\n")
            return
        master_ok = all(p.beyond_master for p in problems)
        note = " (strict; the master accepts it)" if master_ok else ""
        lines = [f"{name(_display(path))}: INVALID{note}\n"]
        lines += [f"  {inert(str(p))}\n" for p in problems]
        self._write("".join(lines))

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        # One pack, all shown: its line says it all.
        if self.count == 1 and not io_errors and not self.quiet:
            return
        super().finish(io_errors)


REPORTER = TextReporter
