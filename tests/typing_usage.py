"""Correct uses of jobpack's public API, type-checked with ``mypy --strict``
(.ci/run and tests/test_typing.py) and run by tests/test_typing.py.

Every annotation here is what a user would write; none needs a cast or a
``type: ignore``.  tests/test_typing.py also checks that misuses fail.
"""
import io
import os
import tempfile
from typing import Any, Dict, List, Optional, Tuple

import jobpack
from jobpack import (EncodeError, JobPack, JobPackError, JSONDecodeError, PackView, Problem,
                     home, validate)
from jobpack.dialect import loads as dialect_loads


def build_and_load(directory: str) -> Tuple[JobPack, bytes]:
    jobdict: Dict[str, Any] = {"prefix": "wc", "owner": "me@host", "worker": "job",
                               "pipeline": [["map", "split", False]], "inputs": [],
                               "scheduler": {}}
    jobenvs: Dict[str, str] = {"LANG": "C"}
    pack = JobPack(jobpack.VERSION2, jobdict, jobenvs, b"", bytearray(b"data"))
    data: bytes = pack.dumps()
    path = os.path.join(directory, "job.pack")
    pack.dump(path)
    loaded: JobPack = JobPack.load(path)
    also: JobPack = JobPack.loads(memoryview(data), master_only=True, zero_copy=True)
    from_file = JobPack.load(io.BytesIO(data), mmap=False)
    assert loaded == pack == also == from_file
    return loaded, data


def disco_api(pack: JobPack, data: bytes) -> List[int]:
    header: bytes = JobPack.header([128, 130, 132, 132], magic=JobPack.MAGIC, version=2,
                                   format=JobPack.HEADER_FORMAT, size=JobPack.HEADER_SIZE)
    contents: List[Tuple[int, Any]] = pack.contents(offset=JobPack.HEADER_SIZE)
    assert len(header) == 128 and len(contents) == 4
    word: int = JobPack.MAGIC & JobPack.MAGIC_MASK
    assert word == JobPack.MAGIC
    pack.jobdata = b"new data"
    key: int = hash(pack)
    assert key == hash(pack)
    return JobPack.offsets(io.BytesIO(data), magic=JobPack.MAGIC, format="!IIIII", size=128)


def inspect(data: bytes) -> Optional[str]:
    view: PackView = JobPack.view(data)
    version: int = view.version
    offsets: Tuple[int, int, int, int] = view.offsets
    raw: memoryview = view.jobdict
    problems: List[Problem] = validate(data, strict=True)
    info: Dict[str, Any] = jobpack.jobinfo(data)
    assert version == 2 and offsets[0] == 128 and len(raw) > 0 and info["prefix"] == "wc"
    for problem in problems:
        return f"{problem.code}: {problem.message} at {problem.offset}"
    return None


def handle_errors(data: bytes) -> str:
    try:
        JobPack.loads(JobPack.header([128, 131, 133, 133], version=2) + b"{x}{}" + data[:0])
    except JSONDecodeError as e:
        status: Optional[str] = e.status
        return f"{status} at {e.offset}"
    except JobPackError as e:
        offset: Optional[int] = e.offset
        return f"{e} at {offset}"
    try:
        JobPack(2, {"x": float("nan")}, {}).dumps()
    except EncodeError as e:
        return e.message
    return "no error"


def homes(zip_bytes: bytes) -> List[str]:
    scan: home.ZipScan = home.scan(zip_bytes)
    names: List[str] = [entry.name for entry in home.entries(zip_bytes)]
    assert scan.entries == len(names) and home.contains(zip_bytes, names[0])
    value: Any = dialect_loads(b'{"a": [1, 2,],}')
    assert value == {"a": [1, 2]}
    return names


def fuzz_input(data: bytes, seed: int) -> bytes:
    mutant: bytes = jobpack.mutate(data, seed, max_size=len(data) + 64)
    also: bytes = jobpack.mutate(memoryview(data), seed, len(data) + 64)
    assert mutant == also
    return mutant


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        pack, data = build_and_load(directory)
        assert disco_api(pack, data) == JobPack.offsets(data)
        assert inspect(data) is not None    # no worker in the home: strict says so
        assert "JP_ERR_JSON" in handle_errors(data)
        workdir = os.path.join(directory, "home")
        os.mkdir(workdir)
        with open(os.path.join(workdir, "job"), "w") as f:
            f.write("#!/bin/sh\n")
        assert homes(home.build(workdir)) == ["job"]
        assert len(fuzz_input(data, 7)) <= len(data) + 64


if __name__ == "__main__":
    main()
