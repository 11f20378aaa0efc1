"""``--format github``: GitHub Actions workflow commands (``::error``)."""
from typing import List

from ...validate import Problem
from ..escape import inert, name
from . import Reporter


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


class GitHubReporter(Reporter):
    def show(self, path: str, problems: List[Problem]) -> None:
        for p in problems:
            self._write(f"::error file={_gh_property(name(path))}::{_gh_data(inert(str(p)))}\n")


REPORTER = GitHubReporter
