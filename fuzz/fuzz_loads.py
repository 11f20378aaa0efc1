#!/usr/bin/env python3
"""atheris harness: JobPack.loads on any bytes.

Property: for any input, ``JobPack.loads`` (both modes), ``PackView`` and
``JobPack.offsets`` either work or raise a ``JobPackError`` subclass;
nothing else may escape.  What loads returns is checked for shape: a 16-bit
version, sections that add up to the input, and views that read back as
the input's bytes.  Where both modes load a pack (standard JSON first,
then the master's dialect; the dialect only), they give the same pack.

    python fuzz/fuzz_loads.py fuzz/corpus/pack -max_total_time=600
    python fuzz/fuzz_loads.py --replay fuzz/corpus/pack
    python fuzz/fuzz_loads.py -runs=3000 fuzz/corpus/pack    # pure Python without atheris
"""
import _harness

_harness.import_instrumented()

from jobpack import JobPack, JobPackError, PackView  # noqa: E402


def test_one_input(data: bytes) -> None:
    try:
        view = PackView.from_buffer(data)
    except JobPackError:
        view = None
    else:
        d, e, h, a = view.offsets
        assert 128 == d < e <= h <= a <= len(data), view.offsets
        assert (bytes(view.jobdict) + bytes(view.jobenvs) + bytes(view.jobhome)
                + bytes(view.jobdata)) == data[128:]
        assert JobPack.offsets(data) == [d, e, h, a]
    packs = []
    for master_only in (False, True):
        try:
            pack = JobPack.loads(data, master_only=master_only)
        except JobPackError:
            continue
        assert view is not None, "loads accepted a pack whose header PackView refuses"
        assert 0 <= pack.version <= 0xFFFF
        assert not master_only or pack.version in (1, 2)
        assert bytes(pack.jobhome) == bytes(view.jobhome)
        assert bytes(pack.jobdata) == bytes(view.jobdata)
        packs.append(pack)
    if len(packs) == 2:
        assert _harness.same_pack(packs[0], packs[1]), packs
    try:
        JobPack.loads(bytearray(data))
    except JobPackError:
        pass


if __name__ == "__main__":
    _harness.main(test_one_input)
