"""Every limit README.md documents, tested at the limit and one either side.

An off-by-one in a limit (``>=`` for ``>``) passes any test that stays far
from it; these tests sit on the edge.  The limits:

- ``MMAP_THRESHOLD`` (1 MiB): files of that size or more are mapped, smaller
  ones read (both for a path and for an open file);
- the zip-bomb limit of strict mode and ``home.extract``: a home may declare
  up to max(100 x its size, 64 MiB), on both sides of the max;
- ``home.extract(max_total_size=...)`` (1 GiB by default): the declared
  total may equal it;
- packs of 4 GiB or more are refused (offsets are 32-bit);
- integers of more than 20,000 digits stay ``dialect.HugeInt``;
- the ``validate`` progress line: only for more than 50 packs.
"""
import io
import json
import mmap
import struct
import sys
import zipfile

import pytest

import jobpack
from jobpack import JobPack, PackTooLargeError, ZipError, _core, cli, dialect, home
from jobpack.cli import validate as cli_validate
from jobpack.validate import validate

EITHER_SIDE = (-1, 0, 1)


# -- MMAP_THRESHOLD ------------------------------------------------------------

def pack_of_size(size: int) -> bytes:
    base = JobPack(2, {"prefix": "m"}, {}).dumps()
    data = JobPack(2, {"prefix": "m"}, {}, b"", b"\xab" * (size - len(base))).dumps()
    assert len(data) == size
    return data


def test_the_limits_are_the_documented_figures():
    # README.md gives these numbers; the tests below use the constants.
    assert jobpack.MMAP_THRESHOLD == 1 << 20
    assert (home.BOMB_RATIO, home.BOMB_FLOOR) == (100, 64 << 20)
    assert dialect.MAX_INT_DIGITS == 20000
    assert cli_validate.PROGRESS_MIN_PACKS == 50


@pytest.mark.parametrize("delta", EITHER_SIDE)
def test_mmap_threshold_is_inclusive(tmp_path, delta):
    size = jobpack.MMAP_THRESHOLD + delta
    path = tmp_path / "p.jobpack"
    path.write_bytes(pack_of_size(size))
    mapped = size >= jobpack.MMAP_THRESHOLD
    # zero_copy: the sections stay views, showing what was read or mapped.
    loaded = JobPack.load(path, zero_copy=True)
    assert isinstance(loaded.jobdata.obj, mmap.mmap) == mapped
    assert len(loaded.jobdata) == size - JobPack.offsets(path)[3]
    with open(path, "rb") as f:  # the file-object path decides on its own
        from_file = JobPack.load(f, zero_copy=True)
        assert isinstance(from_file.jobdata.obj, mmap.mmap) == mapped
    assert isinstance(JobPack.view(path).jobdata.obj, mmap.mmap) == mapped
    assert not isinstance(JobPack.load(path, mmap=False, zero_copy=True).jobdata.obj, mmap.mmap)
    assert from_file == loaded


# -- the zip-bomb limit: max(BOMB_RATIO x size, BOMB_FLOOR) ----------------------

def home_declaring(total: int, pad: int = 0) -> bytes:
    """A valid job home (with the worker) whose entries declare ``total``
    uncompressed bytes; ``pad`` stored bytes make the archive itself bigger."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("big"), b"\0" * 1000, zipfile.ZIP_DEFLATED)
        zf.writestr(zipfile.ZipInfo("job/worker.py"), b"print(1)\n")
        if pad:
            zf.writestr(zipfile.ZipInfo("pad"), b"\0" * pad)
    data = bytearray(buf.getvalue())
    honest = home.scan(bytes(data)).total_uncompressed
    claim = 1000 + total - honest  # what "big" must declare
    # "big" is the first entry: its local and central headers come first.
    struct.pack_into("<I", data, data.find(b"PK\x03\x04") + 22, claim)
    struct.pack_into("<I", data, data.find(b"PK\x01\x02") + 24, claim)
    assert home.scan(bytes(data)).total_uncompressed == total
    return bytes(data)


def strict_codes(zip_bytes: bytes):
    jobdict = {"prefix": "p", "owner": "o", "worker": "job/worker.py", "pipeline": [],
               "inputs": [], "scheduler": {}}
    data = JobPack(2, jobdict, {}, zip_bytes).dumps()
    return [p.code for p in validate(data, strict=True)]


def check_bomb_limit(make, limit, delta, tmp_path):
    zip_bytes = make(limit + delta)
    bomb = delta > 0
    assert home.expands_too_much(home.scan(zip_bytes), len(zip_bytes)) == bomb
    assert ("zip_bomb" in strict_codes(zip_bytes)) == bomb
    # extract checks the same limit before writing; under it, it goes on to
    # inflate "big" and finds the lie there instead.
    with pytest.raises(ZipError, match="zip bomb" if bomb else "declared size|header says"):
        home.extract(zip_bytes, tmp_path / "out")


@pytest.mark.parametrize("delta", EITHER_SIDE)
def test_zip_bomb_floor(tmp_path, delta):
    small = len(home_declaring(home.BOMB_FLOOR))
    assert home.BOMB_RATIO * small < home.BOMB_FLOOR  # the floor is the limit here
    check_bomb_limit(home_declaring, home.BOMB_FLOOR, delta, tmp_path)


@pytest.mark.parametrize("delta", EITHER_SIDE)
def test_zip_bomb_ratio(tmp_path, delta):
    pad = home.BOMB_FLOOR // home.BOMB_RATIO + 4096  # big enough for the ratio to rule
    size = len(home_declaring(home.BOMB_FLOOR * 2, pad))  # its size does not depend on the claim
    limit = home.BOMB_RATIO * size
    assert limit > home.BOMB_FLOOR
    check_bomb_limit(lambda total: home_declaring(total, pad), limit, delta, tmp_path)


@pytest.mark.parametrize("delta", EITHER_SIDE)
def test_extract_max_total_size_is_inclusive(tmp_path, delta):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a", b"x" * 300)
        zf.writestr("b", b"y" * 200)
    total = 500
    target = tmp_path / "out"
    if delta < 0:
        with pytest.raises(ZipError, match=f"declares {total} bytes, more than the limit of {total - 1}"):
            home.extract(buf.getvalue(), target, max_total_size=total + delta)
        assert not target.exists()
    else:
        assert home.extract(buf.getvalue(), target, max_total_size=total + delta) == ["a", "b"]
        assert (target / "b").read_bytes() == b"y" * 200


@pytest.mark.parametrize("delta", EITHER_SIDE)
def test_extract_default_max_total_size_is_1_gib(tmp_path, delta):
    limit = 1 << 30
    zip_bytes = home_declaring(limit + delta)
    # max_ratio=None: only the total-size limit stands between the claim and
    # the inflater, which then finds the lie.
    match = f"more than the limit of {limit}" if delta > 0 else "declared size|header says"
    with pytest.raises(ZipError, match=match):
        home.extract(zip_bytes, tmp_path / "out", max_ratio=None)


# -- 4 GiB: offsets are 32-bit -------------------------------------------------

@pytest.mark.parametrize("size", [2**32 - 2, 2**32 - 1, 2**32, 2**32 + 1])
def test_pack_size_limit_is_4_gib(size):
    jobdata = size - 128 - 2
    if size < 2**32:
        header = _core.layout(2, 1, 1, 0, jobdata)
        assert struct.unpack_from("!IIII", header, 4) == (128, 129, 130, 130)
    else:
        with pytest.raises(PackTooLargeError, match=f"a pack of {size} bytes is too large"):
            _core.layout(2, 1, 1, 0, jobdata)


# -- HugeInt: more than dialect.MAX_INT_DIGITS digits ----------------------------

def raw_pack(jobdict: bytes) -> bytes:
    end = 128 + len(jobdict) + 2
    return JobPack.header([128, 128 + len(jobdict), end, end]) + jobdict + b"{}"


@pytest.mark.parametrize("delta", EITHER_SIDE)
@pytest.mark.parametrize("sign", ["", "-"])
def test_huge_int_limit(delta, sign):
    digits = dialect.MAX_INT_DIGITS + delta
    text = sign + "7" * digits
    # 77...7 by arithmetic: str() and Decimal conversions are limited on PyPy.
    expected = (-1 if sign else 1) * 7 * (10 ** digits - 1) // 9
    section = b'{"n": ' + text.encode() + b"}"
    for value in (dialect.loads(section)["n"],
                  JobPack.loads(raw_pack(section)).jobdict["n"]):
        if delta > 0:
            assert type(value) is dialect.HugeInt and value.text == text
        else:
            assert type(value) is int and value == expected


# -- the process's int_max_str_digits: integers one digit either side of it ---

NO_DIGIT_LIMIT = ("this Python has no sys.set_int_max_str_digits (PyPy, or CPython "
                  "before 3.11): there is no limit to be either side of")


@pytest.fixture
def digit_limit():
    """Run the test under int_max_str_digits = 640, CPython's lowest limit."""
    if not hasattr(sys, "set_int_max_str_digits"):
        pytest.skip(NO_DIGIT_LIMIT)
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        yield 640
    finally:
        sys.set_int_max_str_digits(old)


@pytest.mark.parametrize("delta", EITHER_SIDE)
def test_int_values_either_side_of_the_process_digit_limit(digit_limit, delta):
    text = "7" * (digit_limit + delta)
    section = b'{"n": ' + text.encode() + b', "s": [1,]}'   # [1,]: the master's dialect
    expected = 7 * (10 ** len(text) - 1) // 9   # "77...7", without str() or Decimal
    assert dialect.loads(section)["n"] == expected
    plain = b'{"n": ' + text.encode() + b"}"
    assert JobPack.loads(raw_pack(plain)).jobdict["n"] == expected


@pytest.mark.parametrize("delta", EITHER_SIDE)
def test_int_keys_either_side_of_the_default_digit_limit(delta):
    """dumps() writes an int key as its digits; str() refuses more than 4300."""
    if not hasattr(sys, "get_int_max_str_digits"):
        pytest.skip(NO_DIGIT_LIMIT)
    limit = sys.get_int_max_str_digits() or 4300
    key = 10 ** (limit - 1 + delta)             # limit + delta digits
    data = JobPack(2, {key: 1}, {}, b"", b"").dumps()
    digits = "1" + "0" * (limit - 1 + delta)
    assert b'{"' + digits.encode() + b'": 1}' in data


# -- the validate progress line: more than PROGRESS_MIN_PACKS packs ------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("delta", EITHER_SIDE)
def test_progress_line_only_for_more_than_50_packs(tmp_path, monkeypatch, capsys, delta):
    data = JobPack(2, {"prefix": "p"}, {}).dumps()
    for i in range(cli_validate.PROGRESS_MIN_PACKS + delta):
        (tmp_path / f"{i:03}.jobpack").write_bytes(data)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["validate", "--format", "json", str(tmp_path)]) == 1  # no owner, worker
    shown = "jobpack: checked " in terminal.getvalue()
    assert shown == (delta > 0), terminal.getvalue()
    assert json.loads(capsys.readouterr().out)["summary"]["packs"] == 50 + delta


# -- JobPack.header(): each offset is a 32-bit field --------------------------

@pytest.mark.parametrize("delta", EITHER_SIDE)
def test_header_offsets_up_to_2_32_minus_1(delta):
    top = 0xFFFFFFFF + delta
    if delta > 0:
        with pytest.raises(jobpack.HeaderFieldError, match="from 0 to 2\\*\\*32-1"):
            JobPack.header([128, 128, 128, top])
    else:
        head = JobPack.header([128, 128, 128, top])
        assert len(head) == 128
        assert struct.unpack_from(">4I", head, 4) == (128, 128, 128, top)
