"""The one exception tree of jobpack.

Everything that goes wrong with a pack raises a subclass of ``JobPackError``
(itself a ``ValueError``), so ``except JobPackError`` catches all of it.  Each
error carries ``offset``: the byte offset in the pack (or section, as the
message says) where the problem was found, or None.

Code written against Disco's ``JobPack`` catches what Disco raised; where
that costs nothing, our classes are also instances of it (a second base):
``AssertionError`` (``offsets()``'s magic and offset checks), ``struct.error``
(a header too short to unpack, a header field out of range),
``json.JSONDecodeError`` and ``TypeError`` (a value JSON cannot hold).
README.md's migration table lists the rest.
"""
import json
import struct
from typing import Optional, Tuple, Type

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
    "EncodeTypeError",
    "HeaderFieldError",
    "PackTooLargeError",
    "ZipError",
    "SourceError",
]


class JobPackError(ValueError):
    """Base class of every jobpack error."""

    def __init__(self, message: str, offset: Optional[int] = None):
        # Not super(): a second base such as json.JSONDecodeError has its own
        # __init__ signature.  BaseException's sets args for all of them.
        ValueError.__init__(self, message)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at byte {self.offset})"


class HeaderError(JobPackError):
    """The 128-byte header is not one the master accepts."""


class BadMagicError(HeaderError, AssertionError):
    """The first two bytes are not the job pack magic d5 c0.  Also an
    ``AssertionError``, as Disco's ``offsets()`` raised."""


class UnsupportedVersionError(HeaderError):
    """The header's version is neither 1 nor 2."""


class BadOffsetsError(HeaderError, AssertionError):
    """The section offsets are not 128, increasing, and inside the pack.
    Also an ``AssertionError``, as Disco's ``offsets()`` raised."""


class TruncatedError(HeaderError, struct.error):
    """The pack ends before its header or before its jobdata offset.  Also a
    ``struct.error``, as Disco's ``offsets()`` raised for a short header."""


class DecodeError(JobPackError):
    """A section cannot be decoded."""


class JSONDecodeError(DecodeError, json.JSONDecodeError):
    """The jobdict or jobenvs is not JSON the master can read.

    ``status`` is the C core's status name for what failed, such as
    ``"JP_ERR_JSON_UTF8"`` or ``"JP_ERR_JSON_SYNTAX"``.  Also a
    ``json.JSONDecodeError`` (what Disco's ``json.loads`` raised), whose
    ``pos`` is here the byte offset in the pack and ``doc`` is empty."""

    def __init__(self, message: str, offset: Optional[int] = None, status: Optional[str] = None):
        DecodeError.__init__(self, message, offset)
        self.status = status
        # json.JSONDecodeError's fields, without its __init__ (which would
        # rewrite args): the section text is not kept, so line 1, column pos+1.
        self.msg = message
        self.doc = ""
        self.pos = 0 if offset is None else offset
        self.lineno = 1
        self.colno = self.pos + 1

    def __reduce__(self) -> Tuple[Type["JSONDecodeError"], Tuple[str, Optional[int], Optional[str]]]:
        # json.JSONDecodeError's __reduce__ passes (msg, doc, pos): not our signature.
        return type(self), (self.message, self.offset, self.status)


class EncodeError(JobPackError):
    """A value cannot be written into a pack the master can read."""


class EncodeTypeError(EncodeError, TypeError):
    """A value of a type a pack cannot hold: not JSON in the jobdict or
    jobenvs, not bytes-like in the jobhome or jobdata, not an int in a
    header.  Also a ``TypeError``, as Disco raised."""


class HeaderFieldError(EncodeError, struct.error):
    """``header()`` or ``offsets()`` got a field its struct format cannot
    hold (an offset, magic or version out of range, the wrong number of
    offsets) or an invalid format.  Also a ``struct.error``, as Disco raised."""


class PackTooLargeError(HeaderFieldError):
    """The pack would be 4 GiB or larger; its offsets are 32-bit (Disco's
    ``struct.error`` when packing the header)."""


class ZipError(JobPackError):
    """The job home is not a ZIP archive that can be read safely."""


class SourceError(JobPackError):
    """What was given to read a pack from cannot hold one: a path naming a
    directory, FIFO, device or socket (refused without blocking), or a
    stream longer than any pack (4 GiB)."""
