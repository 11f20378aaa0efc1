"""``--format github``: GitHub Actions workflow commands (``::error``).

One annotation per problem, titled with its code, and one per file that
could not be read; GitHub shows them on the file (a pack has no lines).
"""
from typing import List, Tuple

from ..common import _display
from ..escape import inert, name
from . import Reporter, Verdict


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(path: str, title: str, message: str) -> str:
    return (f"::error file={_gh_property(name(_display(path)))},title={_gh_property(title)}"
            f"::{_gh_data(message)}\n")


class GitHubReporter(Reporter):
    def show(self, verdict: Verdict) -> None:
        for p in verdict.problems:
            strict = " (strict)" if p.beyond_master else ""
            self._write(_annotation(verdict.path, f"jobpack {p.code}{strict}", inert(str(p))))

    def finish(self, io_errors: List[Tuple[str, str]]) -> None:
        for path, reason in io_errors:
            self._write(_annotation(path, "jobpack: unreadable",
                                    f"cannot read {name(_display(path))}: {inert(reason)}"))
        super().finish(io_errors)


REPORTER = GitHubReporter
