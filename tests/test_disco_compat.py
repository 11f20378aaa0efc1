"""Code written against Disco 0.5's ``disco.job.JobPack`` keeps working.

Each test is an idiom a Disco client uses on a pack: bytes methods on the
job home and job data, concatenation, pickle, deepcopy, hashing,
``contents()``, every ``header()``/``offsets()`` argument, and catching the
exception types Disco raised.  Expected values come from ``struct`` and
``json`` (what Disco's code calls), never from jobpack itself.
"""
import copy
import io
import json
import math
import pickle
import struct
import zipfile

import pytest

import jobpack
from jobpack import (BadMagicError, BadOffsetsError, EncodeError, JobPack, JobPackError,
                     JSONDecodeError, PackTooLargeError, TruncatedError)

from test_codec import disco_dumps, raw_pack

MAGIC = 0xD5C0 << 16


def _zip(**files: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


HOME = _zip(job=b"#!/bin/sh\n")
JOBDICT = {"prefix": "wc", "owner": "alice@host", "worker": "job", "pipeline": [],
           "inputs": [], "scheduler": {}}
JOBENVS = {"LANG": "C"}
DATA = b"\x80\x03pickled worker\x00"
PACKED = disco_dumps(2, JOBDICT, JOBENVS, HOME, DATA)


def loaded_ways(tmp_path, data=PACKED):
    """The same pack loaded every way a client does: from bytes, a small
    file (read), a mapped file, a file object."""
    path = tmp_path / "job.pack"
    path.write_bytes(data)
    with open(path, "rb") as f:
        from_file = JobPack.load(f)
    return [JobPack.loads(data), JobPack.load(path), JobPack.load(path, mmap=True), from_file,
            JobPack.load(io.BytesIO(data))]


# ====================================================================
# Sections are bytes, as Disco's were


def test_loaded_sections_are_bytes_with_bytes_methods(tmp_path):
    for pack in loaded_ways(tmp_path):
        assert type(pack.jobhome) is bytes and type(pack.jobdata) is bytes
        assert pack.jobhome.startswith(b"PK\x03\x04") and pack.jobhome == HOME
        assert pack.jobdata.endswith(b"\x00") and pack.jobdata.find(b"worker") == 10
        assert pack.jobdata[2:9].decode("ascii") == "pickled"
        assert b"x" + pack.jobdata == b"x" + DATA and pack.jobdata + b"x" == DATA + b"x"
        assert pack.jobhome + pack.jobdata == PACKED[JobPack.offsets(PACKED)[2]:]
        assert hash(pack.jobdata) == hash(DATA)
        assert {pack.jobdata: 1}[DATA] == 1
        assert zipfile.ZipFile(io.BytesIO(pack.jobhome)).namelist() == ["job"]


def test_loading_a_big_file_copies_nothing_until_read(tmp_path):
    """load() stays O(1) in the section sizes: the map is read on demand."""
    # PyPy has no tracemalloc; the CPython legs of .ci/run measure this.
    tracemalloc = pytest.importorskip("tracemalloc", reason="no tracemalloc (PyPy)")
    size = 8 * jobpack.MMAP_THRESHOLD
    path = tmp_path / "big.pack"
    path.write_bytes(disco_dumps(2, JOBDICT, JOBENVS, HOME, b"\xab" * size))
    tracemalloc.start()
    try:
        pack = JobPack.load(path)
        loading = tracemalloc.get_traced_memory()[1]
        copy_path = tmp_path / "copy.pack"
        pack.dump(copy_path)            # an unread section is written from the map
        dumping = tracemalloc.get_traced_memory()[1]
        data = pack.jobdata             # the first read copies, once
        reading = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loading < size // 8 and dumping < size // 8, (loading, dumping)
    assert reading >= size
    assert type(data) is bytes and data == b"\xab" * size and pack.jobdata is data
    assert copy_path.read_bytes() == path.read_bytes()


def test_loading_from_a_writable_buffer_copies_at_once():
    """A bytearray may change or be resized by its owner after loads()."""
    data = bytearray(PACKED)
    pack = JobPack.loads(data)
    data[-1] ^= 0xFF
    data.extend(b"more")                # not pinned by a view
    assert pack.jobdata == DATA and type(pack.jobdata) is bytes


def test_zero_copy_is_an_explicit_opt_in():
    data = bytearray(PACKED)
    pack = JobPack.loads(data, zero_copy=True)
    assert isinstance(pack.jobdata, memoryview) and pack.jobdata.obj is data
    assert pack == JobPack.loads(PACKED)


def test_constructor_keeps_what_it_is_given():
    home = bytearray(HOME)
    pack = JobPack(2, JOBDICT, JOBENVS, home, memoryview(DATA))
    assert pack.jobhome is home
    assert pack.dumps() == PACKED
    pack.jobdata = b"other"             # a plain attribute, as in Disco
    assert pack.jobdata == b"other" and JobPack.loads(pack.dumps()).jobdata == b"other"


# ====================================================================
# pickle, copy, deepcopy, hash, ==


def test_pickle_and_copies_round_trip(tmp_path):
    packs = loaded_ways(tmp_path) + [JobPack.loads(PACKED, zero_copy=True),
                                     JobPack(2, JOBDICT, JOBENVS, memoryview(HOME), DATA)]
    for pack in packs:
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            again = pickle.loads(pickle.dumps(pack, protocol))
            assert again == pack and type(again.jobhome) is bytes
            assert again.dumps() == PACKED
        deep = copy.deepcopy(pack)
        assert deep == pack and deep.jobdict is not pack.jobdict
        deep.jobdict["prefix"] = "changed"
        assert pack.jobdict["prefix"] == "wc"
        shallow = copy.copy(pack)
        assert shallow == pack and shallow.jobdict is pack.jobdict


class MyPack(JobPack):
    """A client's subclass (pickle finds it by name, so at module level)."""


def test_pickle_keeps_subclass_and_added_attributes():
    pack = MyPack(1, JOBDICT, JOBENVS, HOME, DATA)
    pack.submitted_by = "alice"
    again = pickle.loads(pickle.dumps(pack))
    assert type(again) is MyPack and again.submitted_by == "alice" and again == pack


def test_hash_agrees_with_equality():
    a = JobPack.loads(PACKED)
    b = JobPack(2, dict(JOBDICT), dict(JOBENVS), HOME, DATA)
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    index = {a: "job"}
    a.jobdict["prefix"] = "renamed"     # edits to the jobdict keep it findable
    assert index[a] == "job"
    assert a != b and JobPack(1, JOBDICT, JOBENVS, HOME, DATA) != b
    assert (a == "pack") is False


# ====================================================================
# Disco's API: MAGIC_MASK, contents(), header(), offsets()


def test_magic_mask():
    assert JobPack.MAGIC_MASK == 0xFFFF0000
    assert JobPack.MAGIC & JobPack.MAGIC_MASK == JobPack.MAGIC == MAGIC
    word = struct.unpack("!I", PACKED[:4])[0]
    assert word & JobPack.MAGIC_MASK == JobPack.MAGIC and word & 0xFFFF == 2


def test_contents_like_disco():
    pack = JobPack.loads(PACKED)
    contents = pack.contents()
    offsets, fields = zip(*contents)
    assert list(offsets) == JobPack.offsets(PACKED)
    assert fields[0] == json.dumps(JOBDICT).encode() and fields[1] == json.dumps(JOBENVS).encode()
    assert fields[2] == HOME and fields[3] == DATA
    # Disco's dumps(): header(offsets, version=...) + the joined fields.
    assert JobPack.header(offsets, version=2) + b"".join(fields) == PACKED
    shifted = pack.contents(offset=0)
    assert [o for o, _ in shifted] == [o - 128 for o in offsets]
    assert [f for _, f in shifted] == list(fields)
    assert JobPack(1, {}, {}).contents(5) == [(5, b"{}"), (7, b"{}"), (9, b""), (9, b"")]


def test_header_honours_every_argument():
    offs = [128, 140, 150, 160]
    assert JobPack.header(offs) == struct.pack("!IIIII", MAGIC + 1, *offs) + bytes(108)
    assert JobPack.header(offs, magic=0x1234 << 16, version=7) == \
        struct.pack("!IIIII", (0x1234 << 16) + 7, *offs) + bytes(108)
    assert JobPack.header(offs, format="<IIIII") == struct.pack("<IIIII", MAGIC + 1, *offs) + \
        bytes(108)
    assert JobPack.header(offs, size=256) == struct.pack("!IIIII", MAGIC + 1, *offs) + bytes(236)
    assert JobPack.header(offs, size=20) == struct.pack("!IIIII", MAGIC + 1, *offs)
    assert JobPack.header(offs, size=8) == struct.pack("!IIIII", MAGIC + 1, *offs)  # never cut
    assert JobPack.header(offs + [170], format="!6I", version=2, size=24) == \
        struct.pack("!6I", MAGIC + 2, *offs, 170)
    assert JobPack.header(offs[:2], format="!IHH", size=0) == struct.pack("!IHH", MAGIC + 1, 128, 140)


@pytest.mark.parametrize("kwargs", [dict(offsets=[128, 2**32, 0, 0]),
                                    dict(offsets=[128, 1, 2]),
                                    dict(offsets=[1, 2, 3, 4], magic=2**32),
                                    dict(offsets=[128, 70000], format="!IHH"),
                                    dict(offsets=[1, 2, 3, 4], format="!IIII"),
                                    dict(offsets=[1, 2, 3, 4], format="!Q5")])
def test_header_field_errors_are_struct_errors(kwargs):
    with pytest.raises(struct.error) as info:
        JobPack.header(**kwargs)
    assert isinstance(info.value, EncodeError) and isinstance(info.value, JobPackError)


@pytest.mark.parametrize("kwargs", [dict(offsets=[128, 130.0, 132, 132]),
                                    dict(offsets=[1, 2, 3, 4], magic="d5c0"),
                                    dict(offsets=[1, 2, 3, 4], version=None)])
def test_header_type_errors_are_type_errors(kwargs):
    with pytest.raises(TypeError) as info:
        JobPack.header(**kwargs)
    assert isinstance(info.value, EncodeError)


def _little_endian_pack(magic=MAGIC, size=128):
    jd, je = b"{}", b"{}"
    offs = [size, size + 2, size + 4, size + 4]
    return JobPack.header(offs, magic=magic, version=2, format="<IIIII", size=size) + jd + je


def test_offsets_honours_every_argument(tmp_path):
    assert JobPack.offsets(io.BytesIO(PACKED)) == JobPack.offsets(PACKED) == \
        list(struct.unpack("!IIIII", PACKED[:20])[1:])
    little = _little_endian_pack()
    assert JobPack.offsets(io.BytesIO(little), format="<IIIII") == [128, 130, 132, 132]
    other = _little_endian_pack(magic=0xBEEF << 16, size=256)
    path = tmp_path / "other.pack"
    path.write_bytes(other)
    for source in (other, io.BytesIO(other), path, str(path)):
        assert JobPack.offsets(source, magic=0xBEEF << 16, format="<IIIII", size=256) == \
            [256, 258, 260, 260]
    # Disco's checks only: equal offsets and a short file pass.
    lax = JobPack.header([64, 64, 64, 900], size=64)
    assert JobPack.offsets(lax, size=64) == [64, 64, 64, 900]
    # Any version passes the mask.
    assert JobPack.offsets(JobPack.header([64, 64, 64, 64], version=0xFFFF, size=64), size=64)


@pytest.mark.parametrize("data, kwargs", [
    (_little_endian_pack(), {}),                                  # big-endian read: bad magic
    (_little_endian_pack(), dict(format="<IIIII", magic=0xBEEF << 16)),
    (_little_endian_pack(size=256), dict(format="<IIIII")),         # first offset is not 128
    (JobPack.header([64, 80, 70, 90], size=64), dict(size=64)),     # decreasing
    (raw_pack(b"{}", b"{}")[:4] + struct.pack("!I", 129) + raw_pack(b"{}", b"{}")[8:], {}),
])
def test_offsets_check_failures_are_assertion_errors(data, kwargs):
    for source in (data, io.BytesIO(data)):
        with pytest.raises(AssertionError) as info:
            JobPack.offsets(source, **kwargs)
        assert isinstance(info.value, (BadMagicError, BadOffsetsError))


@pytest.mark.parametrize("kwargs", [{}, dict(size=64), dict(format="!IIIIII")])
def test_offsets_of_a_short_header_is_a_struct_error(kwargs):
    short = PACKED[:19]
    for source in (short, io.BytesIO(short), b""):
        with pytest.raises(struct.error) as info:
            JobPack.offsets(source, **kwargs)
        assert isinstance(info.value, TruncatedError)


def test_offsets_with_an_invalid_format():
    with pytest.raises(struct.error) as info:
        JobPack.offsets(PACKED, format="!Z")
    assert isinstance(info.value, JobPackError)


# ====================================================================
# Catching what Disco raised


def test_disco_handlers_catch_our_errors():
    bad_magic = b"\x00\x00" + PACKED[2:]
    try:
        JobPack.load(io.BytesIO(bad_magic)).jobdict
    except AssertionError as e:     # Disco: assert ... "Invalid jobpack magic."
        assert isinstance(e, BadMagicError)
    else:
        pytest.fail("bad magic loaded")
    try:
        JobPack.load(io.BytesIO(PACKED[:10])).jobdict
    except struct.error as e:       # Disco: struct.unpack of a short header
        assert isinstance(e, TruncatedError)
    else:
        pytest.fail("short header loaded")
    bad_json = raw_pack(b'{"prefix": "a",, }', b"{}")
    try:
        JobPack.loads(bad_json)
    except json.JSONDecodeError as e:  # Disco: json.loads
        assert isinstance(e, JSONDecodeError) and e.pos == e.offset == 128 + 15
        assert e.msg and e.lineno == 1 and e.colno == e.pos + 1
    for value in ({"f": object()}, {"s": {1, 2}}):
        with pytest.raises(TypeError):    # Disco: json.dumps
            JobPack(2, value, {}).dumps()
    with pytest.raises(TypeError):        # Disco: b"".join of a str
        JobPack(2, {}, {}, "not bytes").dumps()
    with pytest.raises(TypeError):
        JobPack(2, {}, {}, b"", 12).dumps()
    assert issubclass(PackTooLargeError, struct.error)  # Disco: struct.pack of a big offset
    try:
        JobPack.loads(raw_pack(b'{"a": "\xff"}', b"{}"))
    except ValueError as e:          # Disco: UnicodeDecodeError, a ValueError
        assert isinstance(e, JSONDecodeError) and e.status == "JP_ERR_JSON_UTF8"
    else:
        pytest.fail("invalid UTF-8 loaded")
    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError) as info:  # Disco: json.dumps' circular reference
        JobPack(2, circular, {}).dumps()
    assert isinstance(info.value, EncodeError)


def test_our_errors_pickle():
    for error in (JSONDecodeError("bad", 130, "JP_ERR_JSON_SYNTAX"), BadMagicError("m", 0),
                  TruncatedError("t", 3), PackTooLargeError("big", None)):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)
        assert again.offset == error.offset
    assert pickle.loads(pickle.dumps(JSONDecodeError("bad", 130, "S"))).status == "S"


# ====================================================================
# NaN and Infinity: Disco writes them, loads() reads them


def test_loads_reads_nan_and_infinity_that_disco_writes(tmp_path):
    jobdict = dict(JOBDICT, ratio=float("nan"), top=float("inf"), low=-float("inf"))
    data = disco_dumps(2, jobdict, JOBENVS, HOME, DATA)
    assert b"NaN" in data and b"-Infinity" in data
    for pack in loaded_ways(tmp_path, data):
        assert math.isnan(pack.jobdict["ratio"])
        assert pack.jobdict["top"] == math.inf and pack.jobdict["low"] == -math.inf
    # The master cannot read them: master_only and validate say so ...
    with pytest.raises(JSONDecodeError):
        JobPack.loads(data, master_only=True)
    assert [p.code for p in jobpack.validate(data)] == ["invalid_json"]
    # ... and dumps() will not write them.
    with pytest.raises(EncodeError, match="NaN"):
        JobPack.loads(data).dumps()


# Python's json reads a section first only under CPython's default recursion
# limit and a digit limit in force, and refuses long integers and deep
# nesting; every other section goes through the core's scan, which refuses
# NaN as the master does.  NaN must load on those paths too.
LONG = "7" * 5000  # over Python's default 4300-digit limit


def _nan_sections(kind):
    constants = '"ratio": NaN, "top": Infinity, "low": -Infinity, "label": "NaN Infinity"'
    if kind == "deep":
        return ("[" * 2000 + "{" + constants + "}" + "]" * 2000).encode()
    return ("{" + constants + ', "big": ' + LONG + "}").encode()


@pytest.fixture(params=["long int", "deep", "recursion limit raised", "no digit limit"])
def nan_path(request):
    import sys
    kind = request.param
    limit = sys.getrecursionlimit()
    digits = getattr(sys, "get_int_max_str_digits", None)
    if kind == "no digit limit":
        if digits is None:
            pytest.skip("no int_max_str_digits on this Python")
        old = digits()
        sys.set_int_max_str_digits(0)
    if kind == "recursion limit raised":
        sys.setrecursionlimit(20000)
    try:
        yield kind
    finally:
        sys.setrecursionlimit(limit)
        if kind == "no digit limit":
            sys.set_int_max_str_digits(old)


def test_loads_reads_nan_beside_long_ints_and_deep_nesting(nan_path):
    section = _nan_sections(nan_path)
    data = raw_pack(section, b"{}")
    value = JobPack.loads(data).jobdict
    if nan_path == "deep":
        for _ in range(2000):
            value = value[0]
    else:
        assert value["big"] % 10**6 == 777777 and value["big"].bit_length() > 14000
    assert math.isnan(value["ratio"])
    assert value["top"] == math.inf and value["low"] == -math.inf
    assert value["label"] == "NaN Infinity"  # in a string: text
    with pytest.raises(JSONDecodeError):
        JobPack.loads(data, master_only=True)
    assert [p.code for p in jobpack.validate(data)] == ["invalid_json"]


@pytest.mark.parametrize("section", [b"[1NaN]", b"[-NaN]", b"[NaN1]", b"{NaN: 1}", b"[NaN,]",
                                     b"[NaN, 1,]", b"[Infinityx]", b"[nan]", b"['NaN', NaN]"])
def test_constants_disco_never_writes_are_refused_with_the_masters_error(section, nan_path):
    # Beside a long int, so Python's json alone does not decide.
    section = b"[" + LONG.encode() + b", " + section + b"]"
    data = raw_pack(section, b"{}")
    with pytest.raises(JSONDecodeError) as master:
        JobPack.loads(data, master_only=True)
    with pytest.raises(JSONDecodeError) as ours:
        JobPack.loads(data)
    assert ours.value.offset == master.value.offset
