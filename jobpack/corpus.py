"""A labelled corpus of job packs, for fuzzers and test suites of any reader.

``write_corpus(directory, count, seed, kinds)`` writes the seeded draw of
``jobpack.strategies.draw`` as one file per pack plus ``MANIFEST.jsonl``:
one JSON object a line, in file order, with

- ``file``: the pack's file name in the directory;
- ``kind``: ``valid``, ``malformed`` or ``strict`` (see below);
- ``verdict``: ``accept`` or ``reject``, what the Disco master does;
- ``code``: why the master rejects it (``validate(data)[0].code``), else null;
- ``strict_code``: for ``strict`` packs, the problem ``validate(data,
  strict=True)`` reports although the master accepts it, else null;
- ``jobinfo``: for accepted packs, what the master derives from the pack
  (``jobpack.validate.jobinfo``), else null; null too for a pack nested
  past jobpack's limit (``strict_code`` ``json_too_deep``), which the master
  reads but jobpack does not.

``valid`` packs are accepted by the master and by strict validation,
``malformed`` ones rejected by the master, ``strict`` ones accepted by the
master but refused by strict validation.  The same seed and count give the
same files (with the same Hypothesis version).  Needs ``hypothesis``.
"""
import json
import os
import secrets
from typing import Any, Dict, List, Sequence

from .dialect import HugeInt
from .validate import MasterRejection, jobinfo

__all__ = ["write_corpus", "MANIFEST"]

MANIFEST = "MANIFEST.jsonl"


def _json_default(value: Any) -> Any:
    if isinstance(value, HugeInt):
        return int(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def manifest_entry(name: str, data: bytes, kind: str, code: Any) -> Dict[str, Any]:
    accepted = kind != "malformed"
    return {"file": name, "kind": kind, "verdict": "accept" if accepted else "reject",
            "code": None if accepted else code,
            "strict_code": code if kind == "strict" else None,
            "jobinfo": _jobinfo(data) if accepted else None}


def _jobinfo(data: bytes) -> Any:
    """jobinfo(data) of a pack the master accepts, or None where jobpack
    stops before the master would (json_too_deep: nesting past jobpack's
    limit, which the master reads)."""
    try:
        return jobinfo(data)
    except MasterRejection as e:
        if e.problem.beyond_master:
            return None
        raise


def _file_name(index: int, kind: str, code: Any) -> str:
    label = "ok" if code is None else "".join(c if c.isalnum() or c == "_" else "-" for c in code)
    return f"{index:05d}-{kind}-{label}.pack"


def _open_directory(directory: str) -> int:
    """A descriptor of the directory (made if missing), never through a
    symlink, so every file lands inside it whatever else changes."""
    try:
        os.mkdir(directory, 0o755)
    except FileExistsError:
        pass
    except OSError as e:
        raise OSError(e.errno, f"cannot create the corpus directory {directory!r}: "
                               f"{e.strerror}; pick a writable path") from e
    try:
        return os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as e:
        raise OSError(e.errno, f"cannot open the corpus directory {directory!r}: "
                               f"{e.strerror}; it must be a real directory, not a "
                               f"symlink or a file") from e


def _write_at(dir_fd: int, name: str, data: bytes) -> None:
    """Write name in the directory atomically: a fresh temporary file
    (O_EXCL, no symlink followed), then rename over name."""
    tmp = f".{name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644,
                 dir_fd=dir_fd)
    try:
        with open(fd, "wb", closefd=False) as f:
            f.write(data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.close(fd)
    os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def write_corpus(directory: str, count: int, seed: int,
                 kinds: Sequence[str] = ("valid", "malformed", "strict")) -> List[Dict[str, Any]]:
    """Write ``count`` labelled packs and MANIFEST.jsonl into directory;
    return the manifest entries."""
    from .strategies.draw import labelled_draw

    cases = labelled_draw(count, seed, kinds)
    dir_fd = _open_directory(directory)
    entries = []
    try:
        for index, case in enumerate(cases):
            name = _file_name(index, case.kind, case.code)
            _write_at(dir_fd, name, case.data)
            entries.append(manifest_entry(name, case.data, case.kind, case.code))
        lines = "".join(json.dumps(e, default=_json_default, sort_keys=True) + "\n"
                        for e in entries)
        _write_at(dir_fd, MANIFEST, lines.encode("utf-8"))
    finally:
        os.close(dir_fd)
    return entries
