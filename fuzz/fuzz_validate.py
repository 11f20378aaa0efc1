#!/usr/bin/env python3
"""atheris harness: jobpack.validate(strict=True), jobinfo and the job home
reader on any bytes.

Properties, for any input:
- ``validate`` (plain and strict) and ``jobinfo`` raise nothing but
  ``JobPackError`` subclasses;
- the plain verdict has at most one problem, the master's; the strict list
  starts with that same problem, and every other entry is ``beyond_master``;
- ``jobinfo`` raises ``MasterRejection`` carrying that problem exactly when
  there is one, and otherwise agrees with ``JobPack.loads(master_only=True)``
  on the worker and owner;
- ``jobpack.home.scan``/``entries``/``contains`` on the job home raise
  nothing but ``ZipError`` and agree on the number of entries.

    python fuzz/fuzz_validate.py fuzz/corpus/pack -max_total_time=600
    python fuzz/fuzz_validate.py --replay fuzz/corpus/pack
"""
import _harness

_harness.import_instrumented()

from jobpack import JobPack, JobPackError, PackView, ZipError, home  # noqa: E402
from jobpack.validate import MasterRejection, Problem, jobinfo, validate  # noqa: E402


def test_one_input(data: bytes) -> None:
    plain = validate(data)
    strict = validate(data, strict=True)
    assert isinstance(plain, list) and len(plain) <= 1, plain
    assert all(isinstance(p, Problem) for p in plain + strict)
    assert not any(p.beyond_master for p in plain)
    master = [p for p in strict if not p.beyond_master]
    assert master == plain, (master, plain)
    assert strict[:len(plain)] == plain

    try:
        info = jobinfo(data)
    except MasterRejection as rejection:
        assert plain and rejection.problem == plain[0], (rejection.problem, plain)
    else:
        assert not plain, plain
        pack = JobPack.loads(data, master_only=True)
        assert _harness.same_json(info["worker"], pack.jobdict["worker"])
        assert _harness.same_json(info["owner"], pack.jobdict["owner"])

    try:
        view = PackView.from_buffer(data)
    except JobPackError:
        return
    zip_bytes = view.jobhome
    try:
        summary = home.scan(zip_bytes)
    except ZipError:
        return
    items = home.entries(zip_bytes)
    assert len(items) == summary.entries
    for item in items[:4]:
        assert home.contains(zip_bytes, item.name), item
    home.contains(zip_bytes, "job/worker.py")


if __name__ == "__main__":
    _harness.main(test_one_input)
