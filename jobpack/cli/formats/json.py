"""``--format json``: one JSON document, streamed pack by pack."""
import json
from typing import Callable, List, TextIO, Tuple

from ... import __version__
from ...validate import Problem
from ..common import _problem_json
from ..escape import json_name, to_json
from . import Reporter


class JSONReporter(Reporter):
    def __init__(self, strict: bool, quiet: bool, out: TextIO,
                 before_write: Callable[[], None]):
        super().__init__(strict, quiet, out, before_write)
        self.first = True
        self.out.write('{"jobpack": %s, "strict": %s, "packs": [' % (
            json.dumps(__version__), json.dumps(strict)))

    def show(self, path: str, problems: List[Problem]) -> None:
        valid = not problems
        item = {**json_name("path", path), "valid": valid,
                "master_accepts": not any(not p.beyond_master for p in problems),
                "problems": [_problem_json(p) for p in problems]}
        self._write(("\n  " if self.first else ",\n  ") + to_json(item))
        self.first = False

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        invalid = self.count - self.valid
        errors_json = [{**json_name("path", p), "error": reason} for p, reason in io_errors]
        summary = {"packs": self.count, "valid": self.valid, "invalid": invalid,
                   "errors": len(io_errors)}
        self._write("%s],\n \"errors\": %s,\n \"summary\": %s}\n" % (
            "\n " if not self.first else "", to_json(errors_json), to_json(summary)))


REPORTER = JSONReporter
