"""jobpack.mutate: the structure-aware mutator (csrc/mutate.c) for fuzzers."""
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jobpack
from jobpack import PackView, home, mutate, validate

from conftest import VECTORS_DIR, examples

REGRESSIONS = Path(__file__).resolve().parent.parent / "fuzz" / "regressions"


def _valid_packs():
    """The packs of the master's vectors that pass even the strict check:
    both versions, with and without a job home, written by several clients."""
    packs = [p.read_bytes() for p in sorted((VECTORS_DIR / "packs").glob("*.jobpack"))]
    return [d for d in packs if not validate(d, strict=True)]


VALID = _valid_packs()


def verdict(data: bytes) -> frozenset:
    """Every code the strict check gives, or {'ok'}."""
    return frozenset(p.code for p in validate(data, strict=True)) or frozenset({"ok"})


def byte_flipper(data: bytes, seed: int) -> bytes:
    """What a format-blind fuzzer does: flip bits, set bytes, drop short runs."""
    rng = random.Random(seed)
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3))):
        op = rng.randrange(3)
        if op == 0:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        else:
            at = rng.randrange(len(buf))
            del buf[at:at + rng.randint(1, 4)]
    return bytes(buf)


def test_there_are_valid_packs_of_both_versions_to_mutate():
    assert len(VALID) >= 20
    assert {PackView.from_buffer(d).version for d in VALID} >= {1, 2}
    assert any(len(PackView.from_buffer(d).jobhome) for d in VALID)


def test_same_data_and_seed_give_the_same_mutant():
    for i, data in enumerate(VALID[:10]):
        for seed in (0, 1, 2**32 + 5, 2**64 - 1):
            assert mutate(data, seed, len(data) + 100) == mutate(data, seed, len(data) + 100)
    # other seeds, other mutants, and never the input itself (an edit that
    # came to nothing is followed by another)
    data = VALID[0]
    mutants = {mutate(data, seed, len(data) + 4096) for seed in range(300)}
    assert len(mutants) >= 240
    assert data not in mutants


def test_seed_is_taken_modulo_2_to_the_64():
    data = VALID[1]
    assert mutate(data, -1, 5000) == mutate(data, 2**64 - 1, 5000)
    assert mutate(data, 2**64 + 7, 5000) == mutate(data, 7, 5000)


def test_any_buffer_gives_what_its_bytes_give():
    data = VALID[2]
    want = mutate(data, 9, len(data) + 64)
    assert mutate(bytearray(data), 9, len(data) + 64) == want
    assert mutate(memoryview(data), 9, len(data) + 64) == want
    assert mutate(memoryview(data + data)[::2], 9, len(data) + 64) == \
        mutate(bytes(memoryview(data + data)[::2]), 9, len(data) + 64)


def test_output_never_exceeds_max_size():
    for data in VALID[:8]:
        for max_size in (0, 1, 19, 20, 127, 128, len(data) // 2, len(data) - 1, len(data),
                         len(data) + 1):
            for seed in range(25):
                out = mutate(data, seed, max_size)
                assert type(out) is bytes and len(out) <= max_size


def test_a_huge_max_size_allocates_no_huge_buffer():
    # atheris passes libFuzzer's -max_len; the buffer follows the input.
    assert len(mutate(VALID[0], 3, 2**40)) < len(VALID[0]) + 70000


def test_a_negative_max_size_is_refused():
    with pytest.raises(ValueError, match="max_size"):
        mutate(b"x", 0, -1)


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=-2**70, max_value=2**70),
       st.integers(min_value=0, max_value=2000))
def test_never_raises_on_any_bytes(data, seed, max_size):
    out = mutate(data, seed, max_size)
    assert type(out) is bytes and len(out) <= max_size
    assert mutate(data, seed, max_size) == out


@settings(max_examples=examples(150), deadline=None)
@given(st.sampled_from(VALID), st.binary(max_size=64), st.integers(0, 2**64 - 1),
       st.integers(min_value=0, max_value=4000))
def test_never_raises_on_damaged_packs(pack, junk, seed, cut):
    # the parsers inside it see offsets, lengths and tokens that lie
    data = pack[:cut] + junk + pack[cut:]
    out = mutate(data, seed, len(data) + 300)
    assert len(out) <= len(data) + 300
    assert len(mutate(out, seed + 1, len(out))) <= len(out)


def test_regression_input_of_the_mutate_target():
    # bug5: a local header whose name ran past its central entry made the
    # consistent rename shift a pointer outside the buffer (UBSan, found by
    # fuzz/mutate_fuzzer.c).  Under the sanitizer build
    # (fuzz/test_under_sanitizers.sh) this is where a relapse shows.
    data = (REGRESSIONS / "bug5_mutate_local_name_past_entry.zip").read_bytes()
    for seed in range(400):
        for cap in (len(data) - 1, len(data), len(data) + 500):
            assert len(mutate(data, seed, cap)) <= cap


N_MUTANTS = 3000


def _verdicts(make) -> Counter:
    seen = Counter()
    for seed in range(N_MUTANTS):
        data = VALID[seed % len(VALID)]
        seen.update(verdict(make(data, seed)))
    return seen


@pytest.mark.timeout(120)
def test_mutants_of_valid_packs_reach_many_verdicts_a_byte_flipper_does_not():
    ours = _verdicts(lambda d, s: mutate(d, s, len(d) + 4096))
    flipped = _verdicts(byte_flipper)
    # Measured: 36 codes against the byte flipper's 16 (63 packs, 3000 each).
    assert len(ours) >= 33, sorted(ours)
    assert len(ours) >= len(flipped) * 1.6, (sorted(ours), sorted(flipped))
    # What each family of edits is there for:
    for code in ("invalid_header", "unsupported_version", "reserved_bytes_nonzero",  # header
                 "invalid_json", "invalid_utf8", "json_dialect_only", "duplicate_key",  # JSON
                 "missing_key:prefix", "missing_key:worker", "invalid_job_save_info",  # keys
                 "invalid_job_save_results", "scheduler_not_object", "prefix_not_string",
                 "invalid_pipeline", "invalid_v1_flags", "jobenvs_not_strings",
                 "jobhome_not_zip", "zip_path_traversal", "zip_bomb",  # job home
                 "worker_not_in_home", "ok"):
        assert ours[code], f"no mutant got {code}: {sorted(ours)}"
    # Most mutants get past the header: the offsets are kept consistent.
    assert ours["invalid_header"] < N_MUTANTS * 0.4


def test_zip_mutants_keep_the_directory_readable_often():
    zips = [bytes(PackView.from_buffer(d).jobhome) for d in VALID]
    zips = [z for z in zips if z]
    readable, renamed = 0, set()
    for seed in range(1500):
        z = zips[seed % len(zips)]
        try:
            names = [e.name for e in home.entries(mutate(z, seed, len(z) + 256))]
        except jobpack.ZipError:
            continue
        readable += 1
        renamed.update(n for n in names if ".." in n or n.startswith("/"))
    assert readable > 300
    assert renamed  # consistent renames to hostile names (local and central)


def test_json_text_is_edited_token_by_token():
    text = b'{"prefix": "p", "worker": "w", "owner": "o", "nr_reduces": 1, "map?": true}'
    mutants = {mutate(text, seed, 400) for seed in range(800)}
    assert any(m.count(b'"prefix"') == 2 for m in mutants)  # a duplicated key
    assert any(b'"prefix"' not in m and b'"worker"' in m for m in mutants)  # a dropped key
    assert any(b",}" in m.replace(b" ", b"") for m in mutants)  # a trailing comma
    assert any(b"1e400" in m or b"-0" in m or b"1.0" in m for m in mutants)  # a number's form
    assert any(b"\x00" in m or b"\xed\xa0\x80" in m for m in mutants)  # raw bytes in a string
