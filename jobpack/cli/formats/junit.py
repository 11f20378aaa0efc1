"""``--format junit``: JUnit XML, one test case per pack.

A pack that fails has a ``<failure>`` whose type is its first problem's
code and whose text lists every problem; a file that could not be read has
an ``<error>``.  Names and messages go through escape.name/inert like every
format's; ``_xml`` then also keeps out what XML 1.0 cannot hold at all.
"""
import re
from typing import Any, List, Tuple

from ..common import _display
from ..escape import inert, name
from . import Reporter, Verdict

# What XML 1.0 cannot hold, what parsers turn into something else (CR), and
# C1 controls, which XML allows but terminals act on.
_NOT_XML = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """``text`` (already display-escaped) without what XML 1.0 cannot hold."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


class JUnitReporter(Reporter):
    def __init__(self, *args: Any):
        super().__init__(*args)
        from xml.etree import ElementTree  # only this format needs it
        self.ET = ElementTree
        self.suite = ElementTree.Element("testsuite", name="jobpack validate")

    def _case(self, path: str) -> Any:
        shown = _xml(name(_display(path)))
        return self.ET.SubElement(self.suite, "testcase", name=shown,
                                  classname="jobpack.validate", file=shown)

    def show(self, verdict: Verdict) -> None:
        case = self._case(verdict.path)
        if verdict.problems:
            first = verdict.problems[0]
            failure = self.ET.SubElement(case, "failure", type=first.code,
                                         message=_xml(inert(str(first))))
            failure.text = "".join(f"{_xml(inert(str(p)))}\n" for p in verdict.problems)

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        for path, reason in io_errors:
            message = f"cannot read {name(_display(path))}: {inert(reason)}"
            self.ET.SubElement(self._case(path), "error", type="unreadable",
                               message=_xml(message))
        failures = self.count - self.valid
        for key, value in (("tests", self.count + len(io_errors)), ("failures", failures),
                           ("errors", len(io_errors)), ("skipped", 0)):
            self.suite.set(key, str(value))
        root = self.ET.Element("testsuites", name="jobpack", tests=self.suite.get("tests", ""),
                               failures=str(failures), errors=str(len(io_errors)))
        root.append(self.suite)
        self.ET.indent(root)
        self._write('<?xml version="1.0" encoding="UTF-8"?>\n'
                    + self.ET.tostring(root, encoding="unicode") + "\n")


REPORTER = JUnitReporter
