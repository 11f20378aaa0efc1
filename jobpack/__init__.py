"""jobpack: exact, fast, crash-proof codec and validator for Disco job packs.

    from jobpack import JobPack, JobPackError
    pack = JobPack(2, jobdict, jobenvs, jobhome, jobdata)
    data = pack.dumps()            # the bytes Disco 0.5 writes
    same = JobPack.loads(data)
"""
from .errors import (BadMagicError, BadOffsetsError, DecodeError, EncodeError, EncodeTypeError,
                     HeaderError, HeaderFieldError, JobPackError, JSONDecodeError,
                     PackTooLargeError, TruncatedError, UnsupportedVersionError, ZipError)
from .pack import MMAP_THRESHOLD, VERSION1, VERSION2, JobPack, PackView
from .validate import MasterRejection, Problem, jobinfo, validate

__version__ = "0.1.0"

__all__ = [
    "JobPack", "PackView", "VERSION1", "VERSION2", "MMAP_THRESHOLD",
    "JobPackError", "HeaderError", "BadMagicError", "UnsupportedVersionError",
    "BadOffsetsError", "TruncatedError", "DecodeError", "JSONDecodeError", "EncodeError",
    "EncodeTypeError", "HeaderFieldError", "PackTooLargeError", "ZipError", "MasterRejection", "Problem", "validate", "jobinfo",
]
