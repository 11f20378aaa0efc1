"""``--format json``: one JSON document, streamed pack by pack.

The document is the same for ``validate`` and ``inspect`` (README.md, "The
JSON document", documents it); SCHEMA_VERSION changes when a field changes
meaning or goes away, not when one is added.  It is ASCII with control
characters as ``\\u`` escapes (escape.to_json), and a path that is not UTF-8
comes with ``path_bytes`` (escape.json_name).
"""
from typing import Any, Callable, Dict, List, TextIO, Tuple

from ... import __version__
from ..common import _problem_json
from ..escape import json_name, to_json
from . import Reporter, Verdict

SCHEMA_VERSION = 1


def pack_json(verdict: Verdict) -> Dict[str, Any]:
    """The fields every pack entry has, in validate's and inspect's output."""
    return {**json_name("path", verdict.path), "valid": verdict.valid,
            "master_accepts": verdict.master_accepts,
            "problems": [_problem_json(p) for p in verdict.problems]}


class JSONDocument:
    """Writes the document: the head at once, a pack entry at a time, then the tail."""

    def __init__(self, out: TextIO, command: str, strict: bool,
                 before_write: Callable[[], None] = lambda: None,
                 dumps: Callable[[Any], str] = to_json):
        self.out, self.before_write, self.dumps = out, before_write, dumps
        self.first = True
        head = {"schema_version": SCHEMA_VERSION, "command": command, "jobpack": __version__,
                "strict": strict}
        self.out.write(to_json(head)[:-1] + ', "packs": [')

    def pack(self, item: Dict[str, Any]) -> None:
        self.before_write()
        self.out.write(("\n  " if self.first else ",\n  ") + self.dumps(item))
        self.first = False

    def close(self, io_errors: List[Tuple[str, str]], count: int, valid: int) -> None:
        errors_json = [{**json_name("path", p), "error": reason} for p, reason in io_errors]
        summary = {"packs": count, "valid": valid, "invalid": count - valid,
                   "errors": len(io_errors)}
        self.before_write()
        self.out.write("%s],\n \"errors\": %s,\n \"summary\": %s}\n" % (
            "\n " if not self.first else "", to_json(errors_json), to_json(summary)))


class JSONReporter(Reporter):
    def __init__(self, strict: bool, quiet: bool, out: TextIO,
                 before_write: Callable[[], None]):
        super().__init__(strict, quiet, out, before_write)
        self.document = JSONDocument(out, "validate", strict, before_write)

    def show(self, verdict: Verdict) -> None:
        self.document.pack(pack_json(verdict))

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        self.document.close(io_errors, self.count, self.valid)


REPORTER = JSONReporter
