#!/usr/bin/env python3
"""atheris harness: jobpack.home.extract on any bytes taken as a job home.

Properties, for any input:
- ``extract`` raises nothing but ``JobPackError`` subclasses (``ZipError``);
- nothing is ever created outside the target directory, and nothing inside
  it is a symbolic link;
- when it succeeds, it returns the names ``entries`` lists, and every file
  entry is a regular file of its declared size.

    python fuzz/fuzz_extract.py fuzz/corpus/zip -max_total_time=600
    python fuzz/fuzz_extract.py --replay fuzz/corpus/zip
"""
import os
import shutil
import stat
import tempfile

import _harness

_harness.import_instrumented()

from jobpack import JobPackError, home  # noqa: E402

_OUTER = tempfile.mkdtemp(prefix="jobpack-fuzz-extract-")


def test_one_input(data: bytes) -> None:
    target = os.path.join(_OUTER, "home")
    try:
        names = home.extract(data, target, max_total_size=1 << 20)
    except JobPackError:
        names = None
    try:
        assert os.listdir(_OUTER) in ([], ["home"]), os.listdir(_OUTER)
        for root, dirs, files in os.walk(target):
            for name in dirs + files:
                mode = os.lstat(os.path.join(root, name)).st_mode
                assert not stat.S_ISLNK(mode), os.path.join(root, name)
        if names is not None:
            items = home.entries(data)
            assert names == [e.name for e in items]
            for e in items:
                if not e.is_dir:
                    path = os.path.join(target, *[p for p in e.name.split("/") if p not in ("", ".")])
                    st = os.lstat(path)
                    assert stat.S_ISREG(st.st_mode) and st.st_size == e.size, (e, st)
    finally:
        shutil.rmtree(target, ignore_errors=True)
        for leftover in os.listdir(_OUTER):
            shutil.rmtree(os.path.join(_OUTER, leftover), ignore_errors=True)


if __name__ == "__main__":
    try:
        _harness.main(test_one_input)
    finally:
        shutil.rmtree(_OUTER, ignore_errors=True)
