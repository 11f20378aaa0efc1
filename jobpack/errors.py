"""The one exception tree of jobpack.

Everything that goes wrong with a pack raises a subclass of ``JobPackError``
(itself a ``ValueError``), so ``except JobPackError`` catches all of it.  Each
error carries ``offset``: the byte offset in the pack (or section, as the
message says) where the problem was found, or None.
"""
from typing import Optional

__all__ = [
    "JobPackError",
    "HeaderError",
    "BadMagicError",
    "UnsupportedVersionError",
    "BadOffsetsError",
    "TruncatedError",
    "DecodeError",
    "JSONDecodeError",
    "EncodeError",
    "PackTooLargeError",
    "ZipError",
    "SourceError",
]


class JobPackError(ValueError):
    """Base class of every jobpack error."""

    def __init__(self, message: str, offset: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at byte {self.offset})"


class HeaderError(JobPackError):
    """The 128-byte header is not one the master accepts."""


class BadMagicError(HeaderError):
    """The first two bytes are not the job pack magic d5 c0."""


class UnsupportedVersionError(HeaderError):
    """The header's version is neither 1 nor 2."""


class BadOffsetsError(HeaderError):
    """The section offsets are not 128, increasing, and inside the pack."""


class TruncatedError(HeaderError):
    """The pack ends before its header or before its jobdata offset."""


class DecodeError(JobPackError):
    """A section cannot be decoded."""


class JSONDecodeError(DecodeError):
    """The jobdict or jobenvs is not JSON the master can read.

    ``status`` is the C core's status name for what failed, such as
    ``"JP_ERR_JSON_UTF8"`` or ``"JP_ERR_JSON_SYNTAX"``."""

    def __init__(self, message: str, offset: Optional[int] = None, status: Optional[str] = None):
        super().__init__(message, offset)
        self.status = status


class EncodeError(JobPackError):
    """A value cannot be written into a pack the master can read."""


class PackTooLargeError(EncodeError):
    """The pack would be 4 GiB or larger; its offsets are 32-bit."""


class ZipError(JobPackError):
    """The job home is not a ZIP archive that can be read safely."""


class SourceError(JobPackError):
    """What was given to read a pack from cannot hold one: a path naming a
    directory, FIFO, device or socket (refused without blocking), or a
    stream longer than any pack (4 GiB)."""
