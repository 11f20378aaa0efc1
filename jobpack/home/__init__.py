"""The job home: the ZIP archive a job pack carries for its worker.

One module per concern: ``scan`` (reading the directory), ``build``,
``extract``; everything public is re-exported here.

Reading goes through the C core (``jp_zip_scan``), which checks every offset
of the central directory and of each local header against the buffer, in one
call and without copying: ``scan`` is the fast full check, ``entries`` lists
what is inside, ``contains`` answers "is the worker in the home?".

``build`` writes a deterministic home from a directory, and ``extract`` is the
careful counterpart of the master's unzip: it refuses path traversal,
symlinks and zip bombs before writing anything, and counts the bytes it
actually inflates so that a header lying about sizes cannot fill the disk.
"""
from .build import FIXED_DATE_TIME, build
from .extract import MAX_COMPONENT_BYTES, MAX_DEPTH, MAX_ENTRIES, MAX_NAME_BYTES, extract
from .scan import (ABSOLUTE, BACKSLASH, BOMB_FLOOR, BOMB_RATIO, DIRECTORY, DOTDOT, ENCRYPTED,
                   NUL, SYMLINK, UNSAFE, ZipEntry, ZipScan, contains, entries,
                   expands_too_much, scan)

__all__ = [
    "ABSOLUTE", "DOTDOT", "BACKSLASH", "NUL", "ENCRYPTED", "DIRECTORY", "SYMLINK",
    "UNSAFE", "BOMB_RATIO", "BOMB_FLOOR", "FIXED_DATE_TIME",
    "MAX_ENTRIES", "MAX_NAME_BYTES", "MAX_DEPTH", "MAX_COMPONENT_BYTES",
    "ZipEntry", "ZipScan", "scan", "entries", "contains", "expands_too_much",
    "build", "extract",
]
