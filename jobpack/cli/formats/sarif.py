"""``--format sarif``: SARIF 2.1.0, as GitHub code scanning reads it.

One rule per problem code (rules.RULES, with its help text), one result per
problem.  A pack is binary, so a result's place is a byte region:
``byteOffset`` where the problem was found and ``byteLength`` 1 (0 at the
end of the file: something is missing there).  ``beyond_master`` and the full
code (``missing_key:prefix``) are result properties.  Files that could not
be read are tool execution notifications, and make the run unsuccessful.
"""
import os
from typing import Any, Dict, List, Tuple
from urllib.parse import quote

from ... import __version__
from ..common import STDIN, _display
from ..escape import inert, name, to_json
from ..rules import RULES, rule_of
from . import Reporter, Verdict

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULE_INDEX = {code: i for i, code in enumerate(RULES)}


def artifact_uri(path: str) -> str:
    """A URI reference for a path: relative stays relative (GitHub wants paths
    from the repository root), absolute becomes file://.  Percent-encoding
    leaves no control character in it."""
    if path == STDIN:
        return "stdin"
    raw = os.fsencode(path)
    if os.path.isabs(path):
        return "file://" + quote(raw)
    return quote(os.path.normpath(raw).replace(os.fsencode(os.sep), b"/"))


def _rule_json(code: str) -> Dict[str, Any]:
    rule = RULES[code]
    return {"id": code, "name": code,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.help},
            "help": {"text": rule.help},
            "defaultConfiguration": {"level": "error"},
            "properties": {"beyond_master": rule.beyond_master}}


class SARIFReporter(Reporter):
    wants_size = True  # an artifact's length, and whether an offset is at its end

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.artifacts: List[Dict[str, Any]] = []
        self.results: List[Dict[str, Any]] = []

    def show(self, verdict: Verdict) -> None:
        index = len(self.artifacts)
        artifact: Dict[str, Any] = {"location": {"uri": artifact_uri(verdict.path)}}
        if verdict.size is not None:
            artifact["length"] = verdict.size
        self.artifacts.append(artifact)
        for p in verdict.problems:
            location: Dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(verdict.path),
                                                             "index": index}}
            if p.offset is not None:
                at_end = verdict.size is not None and p.offset >= verdict.size
                location["region"] = {"byteOffset": p.offset, "byteLength": 0 if at_end else 1}
            code = rule_of(p.code)
            result: Dict[str, Any] = {
                "ruleId": code, "level": "error",
                "message": {"text": inert(p.message)},
                "locations": [{"physicalLocation": location}],
                "properties": {"code": p.code, "beyond_master": p.beyond_master},
            }
            if code in RULE_INDEX:
                result["ruleIndex"] = RULE_INDEX[code]
            self.results.append(result)

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        notifications = [
            {"level": "error",
             "message": {"text": f"cannot read {name(_display(path))}: {inert(reason)}"},
             "locations": [{"physicalLocation": {"artifactLocation": {
                 "uri": artifact_uri(path)}}}]}
            for path, reason in io_errors]
        run = {
            "tool": {"driver": {"name": "jobpack", "version": __version__,
                                "semanticVersion": __version__,
                                "rules": [_rule_json(code) for code in RULES]}},
            "invocations": [{"executionSuccessful": not io_errors,
                             "toolExecutionNotifications": notifications}],
            "artifacts": self.artifacts,
            "results": self.results,
            "properties": {"strict": self.strict, "summary": self.summary(io_errors)},
        }
        document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
        self._write(to_json(document, indent=2) + "\n")


REPORTER = SARIFReporter
