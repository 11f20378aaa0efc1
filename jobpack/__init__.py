"""jobpack: exact, fast, crash-proof codec and validator for Disco job packs.

    from jobpack import JobPack, JobPackError
    pack = JobPack(2, jobdict, jobenvs, jobhome, jobdata)
    data = pack.dumps()            # the bytes Disco 0.5 writes
    same = JobPack.loads(data)

The names below are loaded on first use (PEP 562): ``import jobpack`` alone
costs next to nothing, which a command line or a worker that only checks
``jobpack.__version__`` notices.
"""
from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (mypy knows the name)

__version__ = "0.1.0"

__all__ = [
    "JobPack", "PackView", "VERSION1", "VERSION2", "MMAP_THRESHOLD",
    "JobPackError", "HeaderError", "BadMagicError", "UnsupportedVersionError",
    "BadOffsetsError", "TruncatedError", "DecodeError", "JSONDecodeError", "EncodeError",
    "EncodeTypeError", "HeaderFieldError", "PackTooLargeError", "ZipError", "MasterRejection",
    "Problem", "validate", "jobinfo", "mutate",
]

# name -> the submodule that defines it
_WHERE = dict.fromkeys(("JobPack", "PackView", "VERSION1", "VERSION2", "MMAP_THRESHOLD"), "pack")
_WHERE["mutate"] = "mutator"
_WHERE.update(dict.fromkeys(("MasterRejection", "Problem", "validate", "jobinfo"), "validate"))
_WHERE.update(dict.fromkeys(("JobPackError", "HeaderError", "BadMagicError",
                             "UnsupportedVersionError", "BadOffsetsError", "TruncatedError",
                             "DecodeError", "JSONDecodeError", "EncodeError", "EncodeTypeError",
                             "HeaderFieldError", "PackTooLargeError", "ZipError"), "errors"))

if TYPE_CHECKING:
    from typing import Any

    from .errors import (BadMagicError, BadOffsetsError, DecodeError, EncodeError,
                         EncodeTypeError, HeaderError, HeaderFieldError, JobPackError,
                         JSONDecodeError, PackTooLargeError, TruncatedError,
                         UnsupportedVersionError, ZipError)
    from .mutator import mutate
    from .pack import MMAP_THRESHOLD, VERSION1, VERSION2, JobPack, PackView
    from .validate import MasterRejection, Problem, jobinfo, validate


class _Package(type(sys)):  # type: ignore[misc]
    """The jobpack module's class: ``jobpack.validate`` stays the function
    (as it was when everything was imported eagerly), although importing
    the submodule jobpack.validate sets the package attribute of that name."""

    @property
    def validate(self) -> Any:
        return _load("validate")

    @validate.setter
    def validate(self, value: Any) -> None:
        pass  # the import system setting the submodule: keep the function


def _load(name: str) -> Any:
    from importlib import import_module
    value = getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    if name != "validate":
        globals()[name] = value  # next time, a plain attribute
    return value


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return _load(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> Any:
    return sorted(set(globals()) | set(__all__))


sys.modules[__name__].__class__ = _Package
