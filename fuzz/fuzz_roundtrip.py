#!/usr/bin/env python3
"""atheris harness: the differential round trip loads -> dumps -> loads.

The property, for any input that ``JobPack.loads`` accepts:

1. ``pack.dumps()`` works (the one documented EncodeError for a loaded
   pack: NaN or Infinity, which Disco writes and loads() reads but the
   master cannot) and writes each JSON section as ``json.dumps`` does
   (Disco's bytes), at any depth.  An open, reported bug that a long run would keep
   tripping on goes in KNOWN_ISSUES (with a strict xfail test in
   tests/test_fuzz_regressions.py) so the fuzzer keeps looking for others;
2. ``JobPack.loads(pack.dumps()) == pack`` (same version, equal JSON values,
   same job home and job data) and dumping that again gives the same bytes;
3. the master's verdict survives: if the master accepts the input, it
   accepts the re-dumped pack, unless a string holds a character that the
   master reads raw but refuses as a \\u escape: a lone surrogate (from
   invalid UTF-8 the master lets through, spelled with Python's
   surrogateescape, see jobpack.dialect) or U+FFFE/U+FFFF.  json.dumps
   (ensure_ascii, as Disco writes) escapes them, so for those packs only 2.
   holds; Disco's own dumps() does the same.

Lone surrogates, big integers (HugeInt) and deep nesting are all values the
dialect produces; they are expected to round-trip by 2.

    python fuzz/fuzz_roundtrip.py fuzz/corpus/pack -max_total_time=600
    python fuzz/fuzz_roundtrip.py --replay fuzz/corpus/pack
"""
import json
import math
import sys

import _harness

_harness.import_instrumented()

from jobpack import EncodeError, JobPack, JobPackError  # noqa: E402
from jobpack.validate import validate  # noqa: E402

# Open bugs, reported to the lead: name -> (pack, exception) -> bool, which
# excuses only the failure it names.  None open: BUG-1 (1e400 read as inf)
# and BUG-2 (dumps() refused nesting deeper than ~990) are fixed.
KNOWN_ISSUES = {}


def _disco_json(value):
    """json.dumps(value) as Disco writes it, given the stack it needs, or
    None where Python's json cannot (ints beyond its 4300-digit limit)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 30000))
    try:
        return json.dumps(value).encode("ascii")
    except (ValueError, TypeError, RecursionError):
        return None
    finally:
        sys.setrecursionlimit(limit)


def _walk(value):
    """Every value inside value, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _unescapable(c: str) -> bool:
    return "\ud800" <= c <= "\udfff" or c in "\ufffe\uffff"


def _has_unescapable(pack) -> bool:
    """A string with a character the master refuses as a \\u escape."""
    return any(isinstance(v, str) and any(map(_unescapable, v))
               for section in (pack.jobdict, pack.jobenvs) for v in _walk(section))


def _has_non_finite(pack) -> bool:
    """NaN or +-Infinity: loads() reads them, dumps() refuses them."""
    return any(isinstance(v, float) and not math.isfinite(v)
               for section in (pack.jobdict, pack.jobenvs) for v in _walk(section))


def test_one_input(data: bytes) -> None:
    try:
        pack = JobPack.loads(data)
    except JobPackError:
        return
    try:
        out = pack.dumps()
    except EncodeError as exc:
        if _has_non_finite(pack) and "NaN and Infinity" in str(exc):
            return
        if any(known(pack, exc) for known in KNOWN_ISSUES.values()):
            return
        raise
    except JobPackError as exc:
        if any(known(pack, exc) for known in KNOWN_ISSUES.values()):
            return
        raise
    d, e, h = (int.from_bytes(out[i:i + 4], "big") for i in (4, 8, 12))
    for section, value in ((out[d:e], pack.jobdict), (out[e:h], pack.jobenvs)):
        expected = _disco_json(value)
        assert expected is None or section == expected, (section[:200], expected[:200])
    again = JobPack.loads(out)
    assert _harness.same_pack(again, pack), (pack, again)
    assert again.dumps() == out
    if _has_unescapable(pack):
        return
    if not validate(data):
        assert validate(out) == [], validate(out)
    try:
        JobPack.loads(data, master_only=True)
    except JobPackError:
        return
    # What the master can read, re-dumped, the master can still read.
    assert _harness.same_pack(JobPack.loads(out, master_only=True), pack)


if __name__ == "__main__":
    _harness.main(test_one_input)
