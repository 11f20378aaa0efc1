"""The core codec: JobPack.dumps/loads/load/dump, the header, PackView, and
the exception tree, against Disco 0.5's bytes (vectors/dumps_vectors.jsonl),
the master's verdicts (vectors/verdicts.jsonl) and SPEC.md's header rules."""
import array
import errno
import io
import json
import math
import mmap
import os
import pathlib
import struct
import sys
import tempfile
import threading
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import jobpack
from jobpack import (BadMagicError, BadOffsetsError, DecodeError, EncodeError, HeaderError,
                     JobPack, JobPackError, JSONDecodeError, PackTooLargeError, PackView,
                     TruncatedError, UnsupportedVersionError, _core, dialect)
from jobpack._native import lib

from conftest import PACKS_DIR, examples, load_dumps_vectors, load_verdicts

MAGIC16 = 0xD5C0
DUMPS_VECTORS = load_dumps_vectors()
VERDICTS = load_verdicts()


@contextmanager
def unlimited_int_digits():
    """Python's own json.dumps of ints beyond the 4300-digit str() limit."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def disco_dumps(version, jobdict, jobenvs, jobhome=b"", jobdata=b""):
    """Disco 0.5's JobPack.dumps(), written out (lib/disco/job.py)."""
    jd = json.dumps(jobdict).encode()
    je = json.dumps(jobenvs).encode()
    offsets = [128, 128 + len(jd), 128 + len(jd) + len(je), 128 + len(jd) + len(je) + len(jobhome)]
    head = struct.pack("!IIIII", (MAGIC16 << 16) | version, *offsets)
    return head + b"\0" * (128 - len(head)) + jd + je + bytes(jobhome) + bytes(jobdata)


def raw_pack(jobdict: bytes, jobenvs: bytes, jobhome: bytes = b"", jobdata: bytes = b"",
             version: int = 2) -> bytes:
    """A pack of raw section bytes (JSON or not)."""
    d = 128
    e = d + len(jobdict)
    h = e + len(jobenvs)
    a = h + len(jobhome)
    return JobPack.header([d, e, h, a], version=version) + jobdict + jobenvs + jobhome + jobdata


TYPICAL = JobPack(
    2,
    {"prefix": "WordCount", "save_results": False, "save_info": "ddfs", "scheduler": {},
     "owner": "alice@laptop", "worker": "worker.py",
     "pipeline": [["map", "split", False]], "inputs": [[0, 0, ["http://x/y"]]]},
    {"PYTHONPATH": "lib"}, b"PK\x05\x06" + b"\0" * 18, b"job data \x00\xff")


# ====================================================================
# Known-answer vectors: Disco 0.5's exact bytes


@pytest.mark.parametrize("vec", DUMPS_VECTORS, ids=[v["name"] for v in DUMPS_VECTORS])
def test_dumps_vectors(vec):
    pack = JobPack(vec["version"], vec["jobdict"], vec["jobenvs"],
                   bytes.fromhex(vec["jobhome_hex"]), bytes.fromhex(vec["jobdata_hex"]))
    data = pack.dumps()
    assert data.hex() == vec["expected_hex"]
    assert len(data) == vec["expected_len"]
    assert JobPack.offsets(data) == vec["offsets"]
    assert disco_dumps(pack.version, pack.jobdict, pack.jobenvs, pack.jobhome,
                       pack.jobdata) == data
    back = JobPack.loads(data)
    assert back == pack
    assert back.version == vec["version"]
    assert back.dumps() == data
    # The same bytes from bytearray and memoryview sections.
    again = JobPack(pack.version, pack.jobdict, pack.jobenvs, bytearray(pack.jobhome),
                    memoryview(pack.jobdata))
    assert again.dumps() == data


def test_lone_surrogate_loads_back_but_not_for_the_master():
    # Disco's json.dumps writes a lone surrogate as \ud800, which the master
    # rejects; loads() falls back to Python's json, master_only does not.
    pack = JobPack(2, {"owner": "bad\ud800x"}, {"K": "\udc00"})
    data = pack.dumps()
    assert JobPack.loads(data) == pack
    with pytest.raises(JSONDecodeError) as info:
        JobPack.loads(data, master_only=True)
    assert info.value.offset == 128 + data[128:].index(b"\\ud800")


# ====================================================================
# The master's verdicts on real packs


@pytest.mark.parametrize("verdict", VERDICTS, ids=[v["file"] for v in VERDICTS])
def test_vector_packs(verdict):
    data = (PACKS_DIR / verdict["file"]).read_bytes()
    assert len(data) == verdict["size"]
    header = _core.decode_header(data)
    # The header rules are exactly the master's "invalid header".
    assert header.ok == (verdict["master_error_kind"] != "invalid_header")
    try:
        pack = JobPack.loads(data)
    except JobPackError as e:
        assert not verdict["master_valid"]
        assert e.offset is not None and 0 <= e.offset <= len(data), e
        if not header.ok:
            assert isinstance(e, HeaderError)
            assert e.offset == header.error().offset
        else:
            assert e.offset >= 128, e  # the header passed: a section failed
        pack = None
    if verdict["master_valid"]:
        assert pack is not None
        strict = JobPack.loads(data, master_only=True)
        assert strict == pack and strict.version in (1, 2)
        for section in (PackView.from_buffer(data).jobdict, PackView.from_buffer(data).jobenvs):
            assert _core.scan_json(section).ok
    if header.ok and header.version not in (1, 2):
        with pytest.raises(UnsupportedVersionError):
            JobPack.loads(data, master_only=True)
    if verdict["master_error_kind"] == "payload:throw:invalid_utf8":
        view = PackView.from_buffer(data)
        scans = [_core.scan_json(view.jobdict), _core.scan_json(view.jobenvs)]
        assert any(s.status == lib.JP_ERR_JSON_UTF8 for s in scans)


JSON_FAMILIES = ("json_", "ws_", "utf8_")


@pytest.mark.parametrize("verdict", [v for v in VERDICTS if v["file"].startswith(JSON_FAMILIES)],
                         ids=lambda v: v["file"])
def test_vector_json_dialect(verdict):
    """Packs that differ from a valid one only in their JSON: the master
    accepts exactly those whose two sections its dialect reads as objects."""
    view = PackView.from_buffer((PACKS_DIR / verdict["file"]).read_bytes())
    scans = [_core.scan_json(view.jobdict), _core.scan_json(view.jobenvs)]
    readable = all(s.ok and s.top_type == lib.JP_JSON_OBJECT for s in scans)
    assert readable == verdict["master_valid"]


def test_load_sources_agree(tmp_path):
    for verdict in VERDICTS:
        if not verdict["master_valid"]:
            continue
        path = PACKS_DIR / verdict["file"]
        data = path.read_bytes()
        expected = JobPack.loads(data)
        with open(path, "rb") as f:
            from_file = JobPack.load(f)
        for got in (JobPack.load(path), JobPack.load(str(path)), from_file,
                    JobPack.load(data), JobPack.load(bytearray(data)),
                    JobPack.load(memoryview(data)), JobPack.load(io.BytesIO(data)),
                    JobPack.loads(array.array("B", data)),
                    JobPack.loads(memoryview(bytearray(data)).cast("B", (1, len(data)))),
                    JobPack.load(path, mmap=True), JobPack.load(path, mmap=False)):
            assert got == expected
            assert bytes(got.jobhome) + bytes(got.jobdata) == data[JobPack.offsets(data)[2]:]
        assert JobPack.offsets(path) == JobPack.offsets(data)
        with open(path, "rb") as f:
            assert JobPack.offsets(f) == JobPack.offsets(data)


# ====================================================================
# The drop-in API


def test_class_attributes():
    assert JobPack.MAGIC == 0xD5C0 << 16
    assert JobPack.HEADER_SIZE == 128 == struct.calcsize(JobPack.HEADER_FORMAT) + 108
    assert JobPack.HEADER_FORMAT == "!IIIII"
    assert JobPack.VERSION == 1
    assert (jobpack.VERSION1, jobpack.VERSION2) == (1, 2)
    assert "VERSION1" in jobpack.__all__ and "VERSION2" in jobpack.__all__


def test_header_defaults():
    offsets = [128, 200, 300, 400]
    expected = struct.pack("!IIIII", JobPack.MAGIC + JobPack.VERSION, *offsets)
    assert JobPack.header(offsets) == expected + b"\0" * 108
    assert JobPack.header(tuple(offsets), version=2) == \
        struct.pack("!IIIII", JobPack.MAGIC + 2, *offsets) + b"\0" * 108


U32 = st.integers(0, 2**32 - 1)
ANY_INT = st.one_of(U32, st.integers(-2**40, 2**40), st.sampled_from([-1, 2**32, 2**32 - 1, 0]))


@settings(max_examples=examples(200), deadline=None)
@given(st.data())
def test_header_matches_struct(data):
    if data.draw(st.booleans()):
        magic = data.draw(U32)
        version = data.draw(st.integers(0, 2**32 - 1 - magic))
        offsets = data.draw(st.lists(U32, min_size=4, max_size=4))
    else:
        magic, version = data.draw(ANY_INT), data.draw(ANY_INT)
        offsets = data.draw(st.lists(ANY_INT, min_size=4, max_size=4))
    try:
        expected = struct.pack("!IIIII", magic + version, *offsets) + b"\0" * 108
    except struct.error:
        with pytest.raises(EncodeError, match="32 bits|2\\*\\*32-1") as info:
            JobPack.header(offsets, magic=magic, version=version)
        assert info.value.offset is None  # nothing was read: no byte to point at
        return
    got = JobPack.header(offsets, magic=magic, version=version)
    assert got == expected
    # decode_header reads back what header() wrote, valid or not.
    h = _core.decode_header(got)
    word = magic + version
    assert (h.magic, h.version, h.offsets) == (word >> 16, word & 0xFFFF, tuple(offsets))
    assert h.length == 128 and h.reserved_nonzero is None


@pytest.mark.parametrize("offsets", [[128, 130, 132], [128, 130, 132, 133, 134], [128, -1, 0, 0],
                                     [128, 2**32, 0, 0], [128.0, 130, 132, 132]])
def test_header_bad_offsets_raise_encode_error(offsets):
    with pytest.raises(EncodeError):
        JobPack.header(offsets)


@pytest.mark.parametrize("magic, version", [(JobPack.MAGIC, 2**16 * 0x2A40), (-JobPack.MAGIC, 0),
                                            (0xFFFFFFFF, 1)])
def test_header_bad_word_raises_encode_error(magic, version):
    with pytest.raises(EncodeError, match="must fit in 32 bits") as info:
        JobPack.header([128, 130, 132, 132], magic=magic, version=version)
    assert str(magic) in str(info.value) or str(magic + version) in str(info.value)
    # Ours, and what Disco raised (struct.error), so both kinds of handler work.
    assert isinstance(info.value, JobPackError) and isinstance(info.value, struct.error)


# ====================================================================
# Errors: one class per failure, with what was found and where


def test_error_hierarchy_is_the_documented_one():
    # README "Errors": one hierarchy under JobPackError, itself a ValueError.
    # (Tests elsewhere check each error's message, offset and state; the
    # class tree is stated once, here.)
    # The second bases are what Disco raised in the same place (README
    # "Migrating from disco.job.JobPack"), so handlers written for Disco work.
    from jobpack import EncodeTypeError, HeaderFieldError, ZipError
    from jobpack.validate import MasterRejection
    tree = {JobPackError: (ValueError,), HeaderError: (JobPackError,),
            BadMagicError: (HeaderError, AssertionError),
            UnsupportedVersionError: (HeaderError,),
            BadOffsetsError: (HeaderError, AssertionError),
            TruncatedError: (HeaderError, struct.error), DecodeError: (JobPackError,),
            JSONDecodeError: (DecodeError, json.JSONDecodeError),
            EncodeError: (JobPackError,), EncodeTypeError: (EncodeError, TypeError),
            HeaderFieldError: (EncodeError, struct.error),
            PackTooLargeError: (HeaderFieldError,), ZipError: (JobPackError,),
            MasterRejection: (JobPackError,)}
    for cls, bases in tree.items():
        assert cls.__bases__ == bases, cls


def good_header(d=128, e=130, h=132, a=132, word=(MAGIC16 << 16) | 2):
    return struct.pack("!IIIII", word, d, e, h, a) + b"\0" * 108


HEADER_FIELD_AT = {lib.JP_ERR_HEADER_MAGIC: 0, lib.JP_ERR_HEADER_DICT_OFFSET: 4,
                   lib.JP_ERR_HEADER_ENVS_OFFSET: 8, lib.JP_ERR_HEADER_HOME_OFFSET: 12,
                   lib.JP_ERR_HEADER_DATA_OFFSET: 16}


@pytest.mark.parametrize("data, found", [
    (good_header(word=0xD4C00002) + b"{}{}", "found magic 0xd4c0"),
    (good_header(d=129) + b"{}{}", "found jobdict offset 129"),
    (good_header(e=100) + b"{}{}", "found jobenvs offset 100 after jobdict offset 128"),
    (good_header(h=129) + b"{}{}", "found jobhome offset 129 after jobenvs offset 130"),
    (good_header(a=131) + b"{}{}", "found jobdata offset 131 after jobhome offset 132"),
    (good_header(a=133) + b"{}{}", "jobdata offset is 133 but the pack has 132 bytes"),
    (good_header()[:19], "the pack has only 19 bytes"),
])
def test_a_header_error_says_what_it_found_in_every_field(data, found):
    from jobpack.validate import validate
    h = _core.decode_header(data)
    assert h.error_message == f"{_core.status_message(h.status)}; {found}"
    assert h.error().message == h.error_message
    [problem] = validate(data)
    assert (problem.code, problem.message, problem.offset) == (
        "invalid_header", h.error_message, h.error_offset)


@pytest.mark.parametrize("data, cls, status, found", [
    (good_header(word=0xD4C00002) + b"{}{}", BadMagicError, lib.JP_ERR_HEADER_MAGIC, "0xd4c0"),
    (good_header(word=0xC0D50002) + b"{}{}", BadMagicError, lib.JP_ERR_HEADER_MAGIC, "0xc0d5"),
    (good_header(word=0) + b"{}{}", BadMagicError, lib.JP_ERR_HEADER_MAGIC, "0x0000"),
    (good_header(d=0) + b"{}{}", BadOffsetsError, lib.JP_ERR_HEADER_DICT_OFFSET, "0"),
    (good_header(d=129) + b"{}{}", BadOffsetsError, lib.JP_ERR_HEADER_DICT_OFFSET, "129"),
    (good_header(e=128) + b"{}{}", BadOffsetsError, lib.JP_ERR_HEADER_ENVS_OFFSET, "128"),
    (good_header(e=100) + b"{}{}", BadOffsetsError, lib.JP_ERR_HEADER_ENVS_OFFSET, "100"),
    (good_header(h=129) + b"{}{}", BadOffsetsError, lib.JP_ERR_HEADER_HOME_OFFSET, "129"),
    (good_header(a=131) + b"{}{}", BadOffsetsError, lib.JP_ERR_HEADER_DATA_OFFSET, "131"),
    (good_header(h=2**32 - 1, a=2**32 - 1) + b"{}{}", TruncatedError, lib.JP_ERR_TRUNCATED,
     "4294967295"),
    (good_header(a=133) + b"{}{}", TruncatedError, lib.JP_ERR_TRUNCATED, "133"),
    (good_header()[:128] + b"{", TruncatedError, lib.JP_ERR_TRUNCATED, "132"),
    (good_header()[:19], TruncatedError, lib.JP_ERR_HEADER_SHORT, "19"),
    (b"", TruncatedError, lib.JP_ERR_HEADER_SHORT, "0"),
])
def test_header_errors(data, cls, status, found):
    h = _core.decode_header(data)
    assert h.status == status
    for call in (JobPack.loads, JobPack.load, PackView.from_buffer, JobPack.offsets):
        with pytest.raises(cls) as info:
            call(data)
        e = info.value
        assert type(e) is cls
        assert found in str(e), str(e)
        # The offset points at the field that is wrong, or at the end of a
        # pack that ends too early.
        assert e.offset == HEADER_FIELD_AT.get(status, len(data)), str(e)


@pytest.mark.parametrize("jobdict, jobenvs, where, status", [
    (b'{"a": 1 "b": 2}', b"{}", 128 + 8, lib.JP_ERR_JSON_SYNTAX),
    (b'{"a": NaM}', b"{}", 128 + 6, lib.JP_ERR_JSON_SYNTAX),
    (b"   ", b"{}", 128 + 3, lib.JP_ERR_JSON_EMPTY),
    (b"{}", b'{"K": "\xff"}', 130 + 7, lib.JP_ERR_JSON_UTF8),
    (b"{}", b'{"K": "v"', 130 + 9, lib.JP_ERR_JSON_SYNTAX),
    (b"{}", b"", 130, lib.JP_ERR_JSON_EMPTY),
    (b'{"a": "\\u12G4"}', b"{}", 128 + 7, lib.JP_ERR_JSON_ESCAPE),
    (b"{} {}", b"{}", 128 + 3, lib.JP_ERR_JSON_TRAILING),
])
def test_json_errors_have_absolute_offsets(jobdict, jobenvs, where, status):
    data = raw_pack(jobdict, jobenvs, b"home", b"data")
    for master_only in (False, True):
        with pytest.raises(JSONDecodeError) as info:
            JobPack.loads(data, master_only=master_only)
        e = info.value
        assert e.status == _core.status_name(status), e.status
        assert e.offset == where, str(e)
        assert _core.status_message(status) in str(e)
        assert ("jobdict" if where <= 128 + len(jobdict) and status != lib.JP_ERR_JSON_EMPTY
                or jobenvs == b"{}" else "jobenvs") in str(e)


def test_json_only_python_reads():
    """\ufffe: the master cannot read it; loads() falls back to standard JSON
    (what dumps() writes) unless master_only."""
    data = raw_pack(b'{"a": "\\ufffe"}', b"{}")
    assert JobPack.loads(data).jobdict == {"a": "\ufffe"}
    with pytest.raises(JSONDecodeError) as info:
        JobPack.loads(data, master_only=True)
    assert info.value.offset == 128 + 7


@pytest.mark.parametrize("jobdict, at", [(b'{"a": 1e400}', 6), (b'\xef\xbb\xbf{"a": 1}', 0),
                                         ('{"a": 1}'.encode("utf-16"), 0)])
def test_fallback_is_only_what_dumps_can_write(jobdict, at):
    """The standard-JSON fallback takes neither an overflowing float (it
    would load as inf, which dumps() refuses), nor a BOM, nor UTF-16."""
    with pytest.raises(JSONDecodeError) as info:
        JobPack.loads(raw_pack(jobdict, b"{}"))
    assert info.value.offset == 128 + at


# Floats at the edge of a double: what the master refuses (it reads no value
# that overflows one) loads() refuses too; the rest loads as Python reads it,
# underflow included (1e-400 is 0.0).
_FLOAT_EDGES = [
    "1.7976931348623157e308", "-1.7976931348623157e308", "1e308", "1.8e308", "-1.8e308",
    "1e400", "1E+400", "-1e400", "1e-400", "0.0000001e315", "0.1e309", "100e307",
    "17976931348623157" + "0" * 292 + ".0",       # 309 digits: DBL_MAX
    "18" + "0" * 307 + ".0",                      # 309 digits: over it
    "9" * 308 + ".5", "9" * 309 + ".0",
    "1" + "0" * 299 + "e9", "2" + "0" * 299 + "e9",  # a long mantissa, a short exponent
    "1" + "0" * 400 + "e-100", "0." + "0" * 400 + "1e710",
]


@pytest.mark.parametrize("text", _FLOAT_EDGES)
def test_float_edges_load_as_the_master_reads_them(text):
    overflows = math.isinf(float(text))
    assert _core.scan_json(text.encode()).ok != overflows     # the master's verdict
    for jobdict in (f'{{"a": {text}}}', f'{{"s": "1e400", "a": [{text}]}}'):
        data = raw_pack(jobdict.encode(), b"{}")
        if overflows:
            with pytest.raises(JSONDecodeError) as info:
                JobPack.loads(data)
            assert info.value.offset == 128 + jobdict.rindex(text)
        else:
            value = JobPack.loads(data).jobdict["a"]
            assert value in (float(text), [float(text)])


def test_numbers_inside_strings_are_strings():
    data = raw_pack(b'{"a": "1e400", "b": "' + b"9" * 400 + b'.0", "c": 1.5}', b"{}")
    assert JobPack.loads(data).jobdict == {"a": "1e400", "b": "9" * 400 + ".0", "c": 1.5}


@given(st.text(), st.sampled_from(["1e400", "-1.8e308", "1" + "0" * 309 + ".0"]))
def test_float_risk_finds_an_overflow_after_any_string(text, number):
    """The check skips strings as JSON delimits them (escaped quotes and
    backslashes included): a float after one is still seen."""
    for section in (f"[{json.dumps(text)}, {number}]", f'{{{json.dumps(text)}: {number}}}',
                    f"[{json.dumps(text, ensure_ascii=False)}, {number}]"):
        raw = section.encode("utf-8", "surrogatepass")
        assert lib.jp_json_float_risk(raw, len(raw)) != lib.JP_OK, section


def test_float_risk_skips_digits_inside_strings():
    raw = b'{"a": "1e400", "b": "x\\\\", "c": "\\"9e999"}'
    assert lib.jp_json_float_risk(raw, len(raw)) == lib.JP_OK
    raw = b'{"a": "x\\"", "b": 1e400}'
    assert lib.jp_json_float_risk(raw, len(raw)) != lib.JP_OK


@given(st.integers(1, 400), st.integers(0, 30), st.booleans(), st.integers(-800, 800),
       st.data())
@example(309, 1, False, 0, None)   # 309 digits with a fraction
def test_float_risk_flags_every_float_that_overflows(n_int, n_frac, exp, exponent, data):
    """jp_json_float_risk may flag a float that fits (loads() then checks
    each float), never miss one that overflows."""
    digits = "1" * n_int if data is None else data.draw(
        st.text("0123456789", min_size=n_int, max_size=n_int).map(lambda t: "1" + t[1:]))
    text = digits + ("." + "9" * n_frac if n_frac or not exp else "") + (
        f"e{exponent}" if exp else "")
    if math.isinf(float(text)):
        assert lib.jp_json_float_risk(text.encode(), len(text)) != lib.JP_OK, text


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: abs(x) < 1e307))
def test_float_risk_clears_floats_python_writes(value):
    """Floats as json.dumps writes them (repr) below 1e307 are cleared: the
    check sends no ordinary section to the per-float path."""
    text = json.dumps({"a": [value, -value, "x"]}).encode()
    assert lib.jp_json_float_risk(text, len(text)) == lib.JP_OK


_NUMBER = st.builds(
    lambda sign, int_part, frac, exp: sign + int_part + frac + exp,
    st.sampled_from(["", "-"]),
    st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,400}", fullmatch=True)),
    st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,20}", fullmatch=True)),
    st.one_of(st.just(""), st.from_regex(r"[eE][-+]?[0-9]{1,4}", fullmatch=True)))
_TOKEN = st.one_of(_NUMBER, st.sampled_from(["true", "false", "null", "[]", "{}"]),
                   st.text().map(lambda t: json.dumps(t, ensure_ascii=False)))


@given(st.lists(_TOKEN, max_size=12), st.sampled_from([", ", ",", " ,\n "]))
def test_float_risk_flags_any_valid_section_with_an_overflowing_float(tokens, comma):
    """Numbers of every shape among strings and literals, as a valid JSON
    array: whenever one reads as an infinity, the section is flagged."""
    text = "[" + comma.join(tokens) + "]"
    raw = text.encode("utf-8", "surrogatepass")
    floats = [t for t in tokens if t[:1] in "-0123456789" and ("." in t or "e" in t.lower())]
    if any(math.isinf(float(t)) for t in floats):
        assert lib.jp_json_float_risk(raw, len(raw)) != lib.JP_OK, text
    if not floats:  # integers (of any length), strings and literals only
        assert lib.jp_json_float_risk(raw, len(raw)) == lib.JP_OK, text


@pytest.mark.parametrize("tail", [b"1", b"1.", b"1e", b"1e+", b"1.5E-", b"9" * 400, b"", b"e400"])
def test_float_risk_at_the_end_of_the_section(tail):
    text = b'{"a": ' + tail
    assert lib.jp_json_float_risk(text, len(text)) == lib.JP_OK
    assert lib.jp_json_float_risk(tail + b", 5e400", len(tail) + 7) != lib.JP_OK


def _float_verdicts(raw):
    return lib.jp_json_float_check(raw, len(raw)), lib.jp_json_float_risk(raw, len(raw))


# Pieces of numbers, well formed or not, and of strings: concatenated, they
# put '.', 'e' and 'E' after digits at every position of a 16-byte block.
_FLOAT_PIECE = st.one_of(
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{0,3})?([eE][-+]?[0-9]{0,4})?", fullmatch=True),
    st.integers(300, 320).map(lambda n: "9" * n),
    st.sampled_from([".", "e", "E", "e400", "E+309", "e-5", ".e400", '"', '\\"', ", ", "x",
                     "1.e400", "0.5e308", "1e308", "9" * 308 + ".5"]))


@given(st.lists(_FLOAT_PIECE, max_size=30), st.integers(0, 31))
@example(["9" * 309, ".0"], 0)
@example(["1.e400"], 13)
@example(["0.", "5e308"], 15)
@example(["7", "e", "4", "00"], 14)
@example(["123.4e306"], 3)
def test_float_check_answers_as_the_exact_pass(pieces, pad):
    """jp_json_float_check (SSE2 blocks, a byte-by-byte tail, the exact
    pass behind them) gives jp_json_float_risk's answer for any bytes,
    with every mark shifted to every position of a block."""
    raw = (" " * pad + "".join(pieces)).encode()
    check, risk = _float_verdicts(raw)
    assert check == risk, raw


@pytest.mark.parametrize("pad", range(33))
@pytest.mark.parametrize("number, flagged", [
    ("9" * 309 + ".0", True), ("9" * 308 + ".0", False), ("1" * 309, False),
    ("1e309", True), ("1e307", False), ("1e308", True), ("0.5e307", False), ("0.5e308", True),
    ("1" * 200 + "e109", True), ("1" * 200 + ".5e108", False),
    ("1" * 200 + ".5e109", True), ("123.4e306", True), ("12.3456e306", False), ("1" * 200 + "e-109", False),
    ("1" * 400 + "e-50", True), ("1.0e-400", False), ("12.34E+307", True), ("1e+0307", False),
    ("1.e400", True), ("1" * 10 + "." + "5" * 320 + "e299", True)])
def test_float_check_at_every_position_and_the_end(pad, number, flagged):
    """A number at each offset of a block, at the end of the buffer or
    followed by more (enough for its block to be a whole one, not the
    byte-by-byte tail), and the same text inside a string (not a number).
    Flagged: integer digits plus exponent over 308 (every float that
    overflows, and some that do not)."""
    assert flagged or not math.isinf(float(number.replace(".e", ".0e")))
    for tail in ("", "]", ", 1]", " " * 40 + "]"):
        raw = ("[" + " " * pad + number + tail).encode()
        assert _float_verdicts(raw) == ((lib.JP_ERR_JSON_NUMBER,) * 2 if flagged
                                        else (lib.JP_OK,) * 2), raw
    quoted = ('["' + " " * pad + number + '"]').encode()
    assert _float_verdicts(quoted) == (lib.JP_OK, lib.JP_OK)


def _outcome(call):
    try:
        pack = call()
    except JobPackError as e:
        return type(e), getattr(e, "offset", None), str(e)
    return pack.version, pack.jobdict, pack.jobenvs, bytes(pack.jobhome), bytes(pack.jobdata)


@pytest.mark.parametrize("jobdict, jobenvs", [
    (b'{"a": 1e400}', b"{}"), (b'{"a": 1.5}', b'{"X": 1e400}'), (b'{"a": "1e400"}', b"{}"),
    (b'{"a": [1.5e300, 2E-400, ' + b"9" * 309 + b'.0]}', b"{}"),
    (b'{"a": ' + b"9" * 308 + b'.0}', b"{}"), (b'{"a": [1, 2,]}', b"{}"),
    (b'{"a": NaN}', b"{}"), (b'{"a": "\\ud800"}', b"{}"), (b'  {"a": 1}  ', b" {} "),
    (b'{"a": 1} x', b"{}"), (b"", b"{}"), (b'{"a": 1}', b"")])
@pytest.mark.parametrize("recursion_limit", [None, 5000])
def test_loads_of_bytes_reads_as_loads_of_other_buffers(jobdict, jobenvs, recursion_limit):
    """loads(bytes) checks the header and the floats in one C call; other
    buffers copy each section first: same value or same error (also with a
    raised recursion limit, where Python's json does not go first)."""
    data = raw_pack(jobdict, jobenvs, b"home", b"data")
    old_limit = sys.getrecursionlimit()
    if recursion_limit:
        sys.setrecursionlimit(recursion_limit)
    try:
        expected = _outcome(lambda: JobPack.loads(bytearray(data)))
        assert _outcome(lambda: JobPack.loads(data)) == expected
        assert _outcome(lambda: JobPack.loads(memoryview(data))) == expected
        assert _outcome(lambda: JobPack.loads(data[:-1])) == _outcome(
            lambda: JobPack.loads(bytearray(data[:-1])))
    finally:
        sys.setrecursionlimit(old_limit)


@given(st.binary(max_size=200))
def test_float_check_reads_any_bytes(raw):
    assert _float_verdicts(raw)[0] == _float_verdicts(raw)[1]


@pytest.mark.parametrize("jobdict, found", [
    ({"a": float("nan")}, "nan"),
    ({"a": [float("inf")]}, "inf"),
    ({"a": -float("inf")}, "inf"),
    ({"a": {1, 2}}, "set"),
    ({"a": b"bytes"}, "bytes"),
    ({"a": object()}, "object"),
    ({b"key": 1}, "bytes"),
    ({(1, 2): 1}, "tuple"),
])
def test_encode_errors(jobdict, found):
    for pack, section in ((JobPack(2, jobdict, {}), "jobdict"), (JobPack(2, {}, jobdict), "jobenvs")):
        with pytest.raises(EncodeError) as info:
            pack.dumps()
        e = info.value
        assert found in str(e).lower(), str(e)
        assert str(e).startswith(section), str(e)  # names the section to fix
        out = io.BytesIO()
        with pytest.raises(EncodeError):
            pack.dump(out)
        assert out.getvalue() == b""  # nothing written: never a half pack


@pytest.mark.parametrize("jobhome, jobdata", [("text", b""), (b"", "text"), (None, b""), (b"", 7)])
def test_encode_errors_sections(jobhome, jobdata):
    with pytest.raises(EncodeError):
        JobPack(2, {}, {}, jobhome, jobdata).dumps()


def test_sections_of_any_flat_byte_buffer():
    h = bytearray(b"home")
    m = memoryview(bytearray(b"abcdef")).cast("B", (2, 3))
    pack = JobPack(2, {"a": 1}, {}, h, m)
    assert pack.dumps() == disco_dumps(2, {"a": 1}, {}, b"home", b"abcdef")


def test_sections_of_other_buffer_types():
    m = mmap.mmap(-1, 10)
    m.write(b"0123456789")
    for home, data in ((array.array("B", b"zip"), b""), (b"", m)):
        expected = disco_dumps(2, {}, {}, bytes(home), bytes(data))
        assert JobPack(2, {}, {}, home, data).dumps() == expected
        out = io.BytesIO()
        JobPack(2, {}, {}, home, data).dump(out)
        assert out.getvalue() == expected


def test_non_contiguous_section():
    view = memoryview(b"abcdef")[::2]
    for call in (lambda p: p.dumps(), lambda p: p.dump(io.BytesIO())):
        try:
            out = call(JobPack(2, {}, {}, view))
        except EncodeError:
            continue
        if out is not None:
            assert out == disco_dumps(2, {}, {}, b"ace")


@pytest.mark.parametrize("version", [70000, -1, 2**16, "2", 2.0, None])
def test_unwritable_versions(version):
    with pytest.raises(UnsupportedVersionError) as info:
        JobPack(version, {}, {}).dumps()
    e = info.value
    assert e.offset == 2  # the version field
    assert repr(version) in str(e) or str(version) in str(e)


@pytest.mark.parametrize("version", [0, 3, 0xFFFF])
def test_any_16_bit_version_writes_and_reads(version):
    data = JobPack(version, {"a": 1}, {}).dumps()
    assert data[:4] == struct.pack("!I", (MAGIC16 << 16) | version)
    assert JobPack.loads(data).version == version
    with pytest.raises(UnsupportedVersionError) as info:
        JobPack.loads(data, master_only=True)
    assert str(version) in str(info.value)


def test_layout_too_large():
    limit = 2**32 - 1
    assert _core.layout(2, limit - 128, 0, 0, 0)[:20] == \
        struct.pack("!IIIII", (MAGIC16 << 16) | 2, 128, limit, limit, limit)
    assert _core.layout(2, 1, 1, 1, limit - 131)[4:20] == struct.pack("!IIII", 128, 129, 130, 131)
    for lengths in ([2**32, 0, 0, 0], [limit - 127, 0, 0, 0], [0, 0, 0, limit - 127],
                    [2**31, 2**31, 0, 0], [1, 1, 1, 2**64 - 1], [2**63, 2**63, 2**63, 2**63]):
        with pytest.raises(PackTooLargeError) as info:
            _core.layout(2, *lengths)
        e = info.value
        assert str(128 + sum(lengths)) in str(e) and "4 GiB" in str(e)


@pytest.fixture
def four_gib_view(tmp_path):
    """A 4 GiB bytes-like object that costs no memory: a read-only map of a
    sparse file (no page is ever touched)."""
    path = tmp_path / "sparse"
    with open(path, "wb") as f:
        try:
            f.truncate(2**32)
        except OSError as e:
            pytest.skip(f"no sparse files here: {e}")
    with open(path, "rb") as f:
        try:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError, OverflowError) as e:
            pytest.skip(f"cannot map 4 GiB here: {e}")
    view = memoryview(m)
    yield view
    view.release()
    m.close()


def test_dumps_refuses_a_4_gib_pack(four_gib_view, tmp_path):
    assert four_gib_view.nbytes == 2**32
    for pack in (JobPack(2, {}, {}, b"", four_gib_view), JobPack(2, {}, {}, four_gib_view, b"")):
        with pytest.raises(PackTooLargeError):
            pack.dumps()
        out = io.BytesIO()
        with pytest.raises(PackTooLargeError):
            pack.dump(out)
        assert out.getvalue() == b""
        target = tmp_path / "out.jobpack"
        with pytest.raises(PackTooLargeError):
            pack.dump(target)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["sparse"]


# ====================================================================
# Round trips and Disco's formula (property tests)

# Text: every code point but surrogates (unpaired or paired, a surrogate
# pair in a str would come back as one astral character), with control
# characters and astral ones made likely.
texts = st.text(st.one_of(st.characters(exclude_categories=("Cs",)),
                          st.characters(min_codepoint=0, max_codepoint=0x1F),
                          st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
                          st.sampled_from('"\\/\u2028\u2029\x7f\ufffe\uffff')), max_size=12)
ints = st.one_of(st.integers(), st.integers(-2**64, 2**64),
                 st.integers(3900, 4300).map(lambda n: 10**(n - 1) + 12345),
                 st.integers(3900, 4299).map(lambda n: -(10**(n - 1) + 7)))
floats = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | ints | floats | texts,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(texts, c, max_size=4),
    max_leaves=20)
jobdicts = st.dictionaries(texts, json_values, max_size=6)
jobenvs_st = st.dictionaries(texts, texts, max_size=4)
versions = st.one_of(st.sampled_from([1, 2]), st.integers(0, 0xFFFF))
blobs = st.binary(max_size=300)
packs = st.builds(JobPack, versions, jobdicts, jobenvs_st, blobs, blobs)


def has_nonchar(value) -> bool:
    if isinstance(value, str):
        return "\ufffe" in value or "\uffff" in value
    if isinstance(value, dict):
        return any(has_nonchar(k) or has_nonchar(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(has_nonchar, value))
    return False


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packs)
def test_round_trip_and_disco_formula(pack):
    data = pack.dumps()
    assert data == disco_dumps(pack.version, pack.jobdict, pack.jobenvs, pack.jobhome,
                               pack.jobdata)
    back = JobPack.loads(data)
    assert back == pack
    assert back.dumps() == data
    if pack.version in (1, 2):
        if has_nonchar(pack.jobdict) or has_nonchar(pack.jobenvs):
            # json.dumps escapes U+FFFE/U+FFFF as \ufffe, which the master rejects.
            with pytest.raises(JSONDecodeError):
                JobPack.loads(data, master_only=True)
        else:
            assert JobPack.loads(data, master_only=True) == pack
    out = io.BytesIO()
    pack.dump(out)
    assert out.getvalue() == data
    # Header encode/decode.
    h = _core.decode_header(data)
    assert h.ok and (h.magic, h.version) == (MAGIC16, pack.version)
    assert list(h.offsets) == JobPack.offsets(data)
    assert h.section_sizes == (len(json.dumps(pack.jobdict)), len(json.dumps(pack.jobenvs)),
                               len(pack.jobhome), len(pack.jobdata))
    assert JobPack.header(h.offsets, version=pack.version) == data[:128]


def test_round_trip_ints_beyond_4300_digits():
    # Regression (fixed in 696d17d): dumps() raised EncodeError for ints over
    # Python's 4300-digit str() limit.
    for n in (10**4300, -(10**5000) + 3, 7 * 10**19999, -(10**19999)):
        pack = JobPack(2, {"n": n, "l": [n, {"m": n}]}, {})
        data = pack.dumps()
        with unlimited_int_digits():
            assert data == disco_dumps(2, pack.jobdict, {})
        assert JobPack.loads(data) == pack
        assert JobPack.loads(data).dumps() == data


def test_long_int_conversion_without_decimal():
    """The fallback PyPy takes (its decimal is limited like str()): pieces
    short enough for int()/str() under the lowest limit Python allows."""
    from jobpack import _bigint
    numbers = [0, 7, 10**600 - 1, 10**600, 2**1801, 10**4300, 3 * 10**9000 + 17,
               int.from_bytes(bytes(range(256)) * 40, "big")]
    with unlimited_int_digits():
        expected = [str(n) for n in numbers]
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        for n, text in zip(numbers, expected):
            assert _bigint._digits(n, 0) == text and _bigint._value(text) == n
            assert _bigint.int_to_text(-n) == ("-" + text if n else "0")
            assert _bigint.text_to_int("-" + text) == -n
        assert _bigint._digits(5, 4) == "0005"
    finally:
        sys.set_int_max_str_digits(old)


def test_huge_int_pack_redumps():
    # Regression (fixed in 696d17d): a loaded dialect.HugeInt (> 20000
    # digits) could not be dumped again.
    for digits in (b"9" * 30000, b"-" + b"12" * 15000):
        data = raw_pack(b'{"n": ' + digits + b', "l": [' + digits + b"]}", b"{}")
        pack = JobPack.loads(data)
        assert isinstance(pack.jobdict["n"], dialect.HugeInt)
        assert pack.dumps() == data
        big = int(pack.jobdict["n"])
        with unlimited_int_digits():
            assert JobPack(2, {"n": big, "l": [big]}, {}).dumps() == data


def test_long_int_placeholder_does_not_capture_strings():
    # Regression (fixed in 9fb331a): a str equal to the internal placeholder
    # of a long int was written as the int's digits.
    jobdict = {"n": 10**5000, "s": "\x00jobpack-int-0\x00", "t": "\x00jobpack-int-1\x00"}
    with unlimited_int_digits():
        expected = disco_dumps(2, jobdict, {})
    assert JobPack(2, jobdict, {}).dumps() == expected


def test_long_int_key():
    # Regression (fixed in 9fb331a): EncodeError for int keys over 4300 digits.
    jobdict = {10**5000: 1, "x": [10**4400], -(10**4301): {10**6000: -(10**7000)}}
    with unlimited_int_digits():
        expected = disco_dumps(2, jobdict, {})
    assert JobPack(2, jobdict, {}).dumps() == expected


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(st.tuples(texts, json_values), max_size=5), versions)
def test_key_order_is_kept(items, version):
    jobdict = dict(items)
    data = JobPack(version, jobdict, {}).dumps()
    assert list(JobPack.loads(data).jobdict) == list(jobdict)


def test_deep_jobdict_round_trip():
    # Deeper than the C scratch stack of a pack scan and than Python's json.
    data = raw_pack(b'{"d": ' + b"[" * 40000 + b"]" * 40000 + b"}", b"{}")
    pack = JobPack.loads(data, master_only=True)
    v, depth = pack.jobdict["d"], 0
    while v:
        v, depth = v[0], depth + 1
    assert depth == 39999


# ====================================================================
# Truncation and header corruption


def spec_header_status(data: bytes) -> int:
    """SPEC.md "What the master accepts", header part, in plain Python."""
    if len(data) < 20:
        return lib.JP_ERR_HEADER_SHORT
    word, d, e, h, a = struct.unpack_from("!IIIII", data)
    if word >> 16 != MAGIC16:
        return lib.JP_ERR_HEADER_MAGIC
    if d != 128:
        return lib.JP_ERR_HEADER_DICT_OFFSET
    if e <= d:
        return lib.JP_ERR_HEADER_ENVS_OFFSET
    if h < e:
        return lib.JP_ERR_HEADER_HOME_OFFSET
    if a < h:
        return lib.JP_ERR_HEADER_DATA_OFFSET
    if len(data) < a:
        return lib.JP_ERR_TRUNCATED
    return lib.JP_OK


STATUS_CLASS = {
    lib.JP_ERR_HEADER_SHORT: TruncatedError, lib.JP_ERR_TRUNCATED: TruncatedError,
    lib.JP_ERR_HEADER_MAGIC: BadMagicError, lib.JP_ERR_HEADER_DICT_OFFSET: BadOffsetsError,
    lib.JP_ERR_HEADER_ENVS_OFFSET: BadOffsetsError, lib.JP_ERR_HEADER_HOME_OFFSET: BadOffsetsError,
    lib.JP_ERR_HEADER_DATA_OFFSET: BadOffsetsError,
}


def check_against_spec(data: bytes):
    """loads(data) agrees with the SPEC header rules: a header error of the
    right class, or a header that passes (then only JSON can fail)."""
    expected = spec_header_status(data)
    h = _core.decode_header(data)
    assert h.status == expected
    if len(data) >= 20:
        reserved = next((i for i in range(20, min(128, len(data))) if data[i]), None)
        assert h.reserved_nonzero == reserved
    try:
        pack = JobPack.loads(data)
    except JobPackError as e:
        if expected == lib.JP_OK:
            assert isinstance(e, JSONDecodeError), e
            assert e.offset >= 128
        else:
            assert type(e) is STATUS_CLASS[expected], e
        return None
    assert expected == lib.JP_OK
    assert pack.version == struct.unpack_from("!I", data)[0] & 0xFFFF
    return pack


def test_every_truncation():
    data = TYPICAL.dumps()
    data_offset = JobPack.offsets(data)[3]
    for n in range(len(data) + 1):
        cut = data[:n]
        if n < data_offset:
            with pytest.raises(TruncatedError):
                JobPack.loads(cut)
            with pytest.raises(TruncatedError):
                JobPack.offsets(cut)
        else:
            pack = JobPack.loads(cut)
            assert bytes(pack.jobdata) == TYPICAL.jobdata[:n - data_offset]
            assert (pack.jobdict, pack.jobenvs, bytes(pack.jobhome)) == \
                (TYPICAL.jobdict, TYPICAL.jobenvs, TYPICAL.jobhome)
        assert check_against_spec(cut) is not None or n < data_offset


@pytest.mark.parametrize("base", ["typical", "empty"])
def test_every_header_byte_corruption(base):
    data = TYPICAL.dumps() if base == "typical" else JobPack(1, {}, {}).dumps()
    for i in range(128):
        for value in {0x00, 0x01, 0x7F, 0x80, 0xFF, data[i] ^ 0x01, data[i] ^ 0x80}:
            corrupt = data[:i] + bytes([value]) + data[i + 1:]
            pack = check_against_spec(corrupt)
            if 20 <= i < 128:
                # Reserved bytes: the master ignores them.
                assert pack == JobPack.loads(data)


@settings(max_examples=examples(150), deadline=None)
@given(st.data())
def test_random_header_corruption(data):
    base = TYPICAL.dumps()
    corrupt = bytearray(base)
    for _ in range(data.draw(st.integers(1, 6))):
        corrupt[data.draw(st.integers(0, 19))] = data.draw(st.integers(0, 255))
    check_against_spec(bytes(corrupt))


# ====================================================================
# Robustness: any input either loads or raises a JobPackError


def loads_or_jobpack_error(data):
    for master_only in (False, True):
        try:
            JobPack.loads(data, master_only=master_only)
        except JobPackError:
            pass


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(max_size=400))
@example(b"\xd5\xc0\x00\x02" + struct.pack("!IIII", 128, 129, 129, 129) + b"\0" * 108 + b"[")
def test_loads_random_bytes(data):
    loads_or_jobpack_error(data)


@settings(max_examples=examples(300), deadline=None)
@given(st.data())
def test_loads_random_sections(data):
    """A valid header over random section bytes: the JSON decoders see it."""
    d = data.draw(st.binary(min_size=1, max_size=60))
    e = data.draw(st.one_of(st.binary(max_size=30),
                            st.sampled_from([b"{}", b'{"a": "b"}', b"\x00{\x00}\x00", b"[]"])))
    loads_or_jobpack_error(raw_pack(d, e, data.draw(st.binary(max_size=10)),
                                    version=data.draw(st.integers(0, 3))))


@settings(max_examples=examples(200), deadline=None)
@given(st.data())
def test_loads_mutated_packs(data):
    base = bytearray(TYPICAL.dumps() if data.draw(st.booleans())
                     else (PACKS_DIR / data.draw(st.sampled_from(
                         sorted(v["file"] for v in VERDICTS if v["master_valid"])))).read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["set", "set", "insert", "delete"]))
        at = data.draw(st.integers(0, len(base)))
        if op == "set" and at < len(base):
            base[at] = data.draw(st.integers(0, 255))
        elif op == "insert":
            base[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del base[at:at + data.draw(st.integers(1, 4))]
    loads_or_jobpack_error(bytes(base))


# ====================================================================
# dump(): to a path (atomically) or a file object


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".jobpack-"))


def test_dump_to_path_and_file_object(tmp_path):
    data = TYPICAL.dumps()
    target = tmp_path / "a.jobpack"
    TYPICAL.dump(target)
    assert target.read_bytes() == data
    TYPICAL.dump(str(tmp_path / "b.jobpack"))
    assert (tmp_path / "b.jobpack").read_bytes() == data
    out = io.BytesIO()
    TYPICAL.dump(out)
    assert out.getvalue() == data
    with open(tmp_path / "c.jobpack", "wb") as f:
        TYPICAL.dump(f)
    assert (tmp_path / "c.jobpack").read_bytes() == data
    assert leftovers(tmp_path) == []
    # Overwrite an existing pack.
    other = JobPack(1, {"x": 1}, {})
    other.dump(target)
    assert target.read_bytes() == other.dumps()
    assert JobPack.load(target) == other


def test_dump_handles_partial_writes(tmp_path, monkeypatch):
    real_write_some = jobpack.pack._write_some
    calls = []

    def short_write(fd, buffers):
        calls.append(len(buffers))
        first = memoryview(buffers[0])[:7]
        return real_write_some(fd, [first])

    monkeypatch.setattr(jobpack.pack, "_write_some", short_write)
    pack = JobPack(2, {"k": "v" * 50}, {"E": "x"}, b"h" * 33, memoryview(b"d" * 21))
    pack.dump(tmp_path / "p")
    assert (tmp_path / "p").read_bytes() == pack.dumps()
    assert len(calls) > 5


def test_dump_without_writev(tmp_path, monkeypatch):
    """PyPy has no os.writev: dump() writes buffer by buffer instead."""
    monkeypatch.delattr(os, "writev", raising=False)
    big = JobPack(2, {"k": "v"}, {}, b"h" * 70000, memoryview(b"d" * 300000))
    for pack in (TYPICAL, big):
        pack.dump(tmp_path / "p")
        assert (tmp_path / "p").read_bytes() == pack.dumps()


@pytest.mark.parametrize("fail_in", ["_write_some", "fsync", "replace"])
@pytest.mark.parametrize("existing", [False, True])
def test_dump_is_atomic(tmp_path, monkeypatch, fail_in, existing):
    target = tmp_path / "t.jobpack"
    old = b"the old pack, untouched"
    if existing:
        target.write_bytes(old)
    where = jobpack.pack if fail_in == "_write_some" else os
    real = getattr(where, fail_in)
    state = {"calls": 0}

    def failing(*args):
        state["calls"] += 1
        if fail_in == "_write_some" and state["calls"] == 1:
            fd, buffers = args
            return real(fd, [memoryview(buffers[0])[:50]])   # some bytes, then the disk fills
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(where, fail_in, failing)
    with pytest.raises(OSError):
        TYPICAL.dump(target)
    monkeypatch.undo()
    assert leftovers(tmp_path) == []
    if existing:
        assert target.read_bytes() == old
    else:
        assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["t.jobpack"] if existing else [])


def _can_preallocate(directory):
    with open(os.path.join(directory, "probe"), "wb") as f:
        supported = lib.jp_preallocate(f.fileno(), 4096) == 0
    os.unlink(os.path.join(directory, "probe"))
    return supported


@pytest.fixture
def reserving_dir(tmp_path):
    """A directory where space can be reserved: tmp_path, or (where that
    is tmpfs, as on many CI machines) a new one beside the tests."""
    if _can_preallocate(tmp_path):
        yield tmp_path
        return
    import shutil
    here = tempfile.mkdtemp(prefix=".reserve-", dir=os.path.dirname(os.path.abspath(__file__)))
    try:
        if not _can_preallocate(here):
            pytest.skip("no file system here can reserve space (not Linux, or tmpfs only)")
        yield pathlib.Path(here)
    finally:
        shutil.rmtree(here, ignore_errors=True)


def test_dump_reserves_the_whole_pack_before_writing(reserving_dir, monkeypatch):
    """The temporary file already has the pack's length (its blocks are
    allocated) when the first byte is written."""
    tmp_path = reserving_dir
    pack = JobPack(2, {"k": "v"}, {}, b"h" * 70000, b"d" * 300000)
    sizes = []
    real = jobpack.pack._writev_all

    def writev_all(fd, parts):
        sizes.append(os.fstat(fd).st_size)
        real(fd, parts)

    monkeypatch.setattr(jobpack.pack, "_writev_all", writev_all)
    pack.dump(tmp_path / "p")
    assert sizes == [len(pack.dumps())]
    assert (tmp_path / "p").read_bytes() == pack.dumps()


def test_dump_with_no_room_fails_before_writing(reserving_dir):
    """A pack that cannot fit (here: past RLIMIT_FSIZE, so EFBIG) fails at
    the reservation, with what to do, and leaves no temporary file and the
    old pack as it was."""
    tmp_path = reserving_dir
    target = tmp_path / "t.jobpack"
    target.write_bytes(b"old")
    script = (
        "import resource, signal, sys\n"
        "import jobpack.pack\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, resource.RLIM_INFINITY))\n"
        "def never(fd, parts): raise AssertionError('wrote a byte')\n"
        "jobpack.pack._writev_all = never\n"
        "try:\n"
        "    jobpack.JobPack(2, {}, {}, b'', b'x' * (1 << 17)).dump(sys.argv[1])\n"
        "except OSError as e:\n"
        "    print(e.errno, e.filename, e.strerror)\n")
    import subprocess
    out = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    code, name, message = out.split(" ", 2)
    assert int(code) == errno.EFBIG and name == str(target)
    assert "no room for the 131204-byte pack" in message and "elsewhere" in message
    assert os.listdir(tmp_path) == ["t.jobpack"] and target.read_bytes() == b"old"


def test_preallocate_reports_errors_and_never_fails_on_nothing(tmp_path):
    r, w = os.pipe()
    try:
        assert lib.jp_preallocate(w, 0) == 0         # nothing to reserve
        assert lib.jp_preallocate(w, 10) not in (0, errno.ENOSPC, errno.EFBIG)  # a pipe
    finally:
        os.close(r)
        os.close(w)
    assert lib.jp_preallocate(w, 10) in (errno.EBADF, -1)   # closed: refused, no crash
    with open(tmp_path / "f", "wb") as f:
        assert lib.jp_preallocate(f.fileno(), 1 << 63) in (errno.EFBIG, errno.EINVAL, -1)


def test_dump_refuses_a_write_that_stops_short(tmp_path, monkeypatch):
    """A reserved file is already the pack's length: a write that stopped
    short without an error would leave zeros in the pack, so it is refused
    (whether or not the file system reserved anything)."""
    target = tmp_path / "t.jobpack"
    target.write_bytes(b"old")
    pack = JobPack(2, {"k": "v"}, {}, b"h" * 5000, b"d" * 5000)
    monkeypatch.setattr(jobpack.pack, "_writev_all", lambda fd, parts: os.write(fd, parts[0]))
    with pytest.raises(OSError, match="wrote 128 of the pack's 10140 bytes"):
        pack.dump(target)
    assert os.listdir(tmp_path) == ["t.jobpack"] and target.read_bytes() == b"old"


def test_dump_temp_name_is_cut_at_64_bytes(tmp_path):
    name = "\U0001F600" * 60 + ".jobpack"   # 248 bytes: a valid name, too long to add to
    seen = []
    real = jobpack.pack._writev_all

    def writev_all(fd, parts):
        seen.extend(os.listdir(tmp_path))
        real(fd, parts)

    import unittest.mock
    with unittest.mock.patch.object(jobpack.pack, "_writev_all", writev_all):
        TYPICAL.dump(tmp_path / name)
    assert (tmp_path / name).read_bytes() == TYPICAL.dumps()
    temp = os.fsencode(seen[0])
    assert temp.startswith(b"." + os.fsencode("\U0001F600" * 16) + b".")
    assert len(temp) == 1 + 64 + 1 + 8 + len(b".jobpack-tmp")


def test_preallocate_reserves_nothing_on_tmpfs():
    """On tmpfs a reservation would only zero pages the write overwrites."""
    shm = "/dev/shm"
    if not os.path.isdir(shm) or "tmpfs" not in _mount_type(shm):
        pytest.skip("no tmpfs at /dev/shm")
    fd, path = tempfile.mkstemp(dir=shm)
    try:
        assert lib.jp_preallocate(fd, 1 << 20) == errno.EOPNOTSUPP
        assert os.fstat(fd).st_size == 0
    finally:
        os.close(fd)
        os.unlink(path)


def _mount_type(path):
    best = ("", "")
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and (path + "/").startswith(fields[1].rstrip("/") + "/") \
                    and len(fields[1]) >= len(best[0]):
                best = (fields[1], fields[2])
    return best[1]


def test_dump_keeps_the_mode_of_an_existing_file(tmp_path):
    target = tmp_path / "t.jobpack"
    for mode in (0o600, 0o640, 0o755):
        target.write_bytes(b"old")
        os.chmod(target, mode)
        TYPICAL.dump(target)
        assert os.stat(target).st_mode & 0o7777 == mode
        assert target.read_bytes() == TYPICAL.dumps()


@contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_dump_new_file_mode_with_default_umask(tmp_path):
    with umask(0o022):
        TYPICAL.dump(tmp_path / "n.jobpack")
    assert os.stat(tmp_path / "n.jobpack").st_mode & 0o777 == 0o644


# Regression (fixed in 696d17d): dump() gave a new file a fixed 0o644.
def test_dump_new_file_mode_follows_umask(tmp_path):
    for mask in (0o077, 0o002, 0o027):
        target = tmp_path / f"n{mask:o}.jobpack"
        with umask(mask):
            TYPICAL.dump(target)
            with open(tmp_path / f"ref{mask:o}", "wb"):
                pass
        assert os.stat(target).st_mode & 0o777 == os.stat(tmp_path / f"ref{mask:o}").st_mode & 0o777


# ====================================================================
# load(): memory maps, and zero-copy views


@pytest.fixture
def big_pack_path(tmp_path):
    pack = JobPack(2, {"prefix": "big"}, {}, b"PK home", b"\xab" * jobpack.MMAP_THRESHOLD)
    path = tmp_path / "big.jobpack"
    pack.dump(path)
    assert path.stat().st_size >= jobpack.MMAP_THRESHOLD
    return pack, path


def test_load_maps_big_files(big_pack_path):
    pack, path = big_pack_path
    loaded = JobPack.load(path, zero_copy=True)
    assert isinstance(loaded.jobhome, memoryview) and isinstance(loaded.jobhome.obj, mmap.mmap)
    assert isinstance(loaded.jobdata.obj, mmap.mmap)
    assert loaded == pack
    with open(path, "rb") as f:
        from_file = JobPack.load(f, zero_copy=True)
    assert isinstance(from_file.jobdata.obj, mmap.mmap) and from_file == pack
    read = JobPack.load(path, mmap=False, zero_copy=True)
    assert not isinstance(read.jobhome.obj, mmap.mmap) and read == pack
    view = JobPack.view(path)
    assert isinstance(view.jobdata.obj, mmap.mmap)
    assert bytes(view.jobdict) == json.dumps(pack.jobdict).encode()


def test_load_reads_small_files(tmp_path):
    path = tmp_path / "small.jobpack"
    TYPICAL.dump(path)
    loaded = JobPack.load(path, zero_copy=True)
    assert not isinstance(loaded.jobhome.obj, mmap.mmap)
    assert loaded == TYPICAL
    forced = JobPack.load(path, mmap=True, zero_copy=True)
    assert isinstance(forced.jobhome.obj, mmap.mmap) and forced == TYPICAL
    empty = tmp_path / "empty.jobpack"
    empty.write_bytes(b"")
    with pytest.raises(TruncatedError):
        JobPack.load(empty)
    with pytest.raises(TruncatedError):
        JobPack.load(empty, mmap=True)


def test_load_from_positioned_file_and_pipe(tmp_path, big_pack_path):
    for pack, path in ((TYPICAL, tmp_path / "small.jobpack"), big_pack_path):
        pack.dump(path)
        with open(path, "rb") as f:
            f.seek(10)
            assert JobPack.load(f) == pack
    data = TYPICAL.dumps()
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(w, data), os.close(w)))
    writer.start()
    with os.fdopen(r, "rb") as f:
        assert JobPack.load(f) == TYPICAL
    writer.join()


def test_concurrent_loads():
    """The C structs are reused per thread; threads must not see each
    other's results (cffi releases the GIL during C calls)."""
    cases = [(d, JobPack.loads(d)) for d in (
        TYPICAL.dumps(),
        JobPack(1, {"k": list(range(300))}, {"A": "b" * 1000}, b"h" * 5000).dumps(),
        raw_pack(b'{"t": [1,], "s": "\xed\xa0\x80", 7: null}', b'{"E": "v",}'),
        raw_pack(b'{"d": ' + b"[" * 600 + b"]" * 600 + b"}", b"{}"),
    )]
    bad = raw_pack(b'{"x": [1 2]}', b"{}")
    failures = []

    def work(seed):
        try:
            for i in range(60):
                data, expected = cases[(seed + i) % len(cases)]
                assert JobPack.loads(data) == expected
                with pytest.raises(JSONDecodeError) as info:
                    JobPack.loads(bad)
                assert info.value.offset == 128 + 9
        except BaseException as e:  # noqa: B902 -- reported below
            failures.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_pack_view_is_zero_copy():
    data = bytearray(TYPICAL.dumps())
    view = PackView.from_buffer(data)
    d, e, h, a = view.offsets
    sections = (view.jobdict, view.jobenvs, view.jobhome, view.jobdata)
    assert all(isinstance(s, memoryview) and s.obj is data for s in sections)
    assert [bytes(s) for s in sections] == [bytes(data[d:e]), bytes(data[e:h]),
                                            bytes(data[h:a]), bytes(data[a:])]
    data[a] ^= 0xFF                     # the view sees the change: no copy
    assert view.jobdata[0] == data[a]
    loaded = JobPack.loads(data, zero_copy=True)
    assert loaded.jobhome.obj is data and loaded.jobdata.obj is data
    raw = bytes(data)
    assert JobPack.view(raw).jobhome.obj is raw
    assert JobPack.loads(raw, zero_copy=True).jobdata.obj is raw


def test_encoder_without_json_c_encoder_writes_the_same_bytes(monkeypatch):
    """PyPy has no json C encoder: JSONEncoder.encode then writes sections,
    byte for byte what the direct C-encoder call writes on CPython."""
    from jobpack import _json
    values = [{"a": [1, 2.5, None, True], "\u00e9": "\u2028\ud800"}, [], "x", -0.0, {1: 2}]
    direct = [_json.encode_section(v, "jobdict") for v in values]
    monkeypatch.setattr(_json, "_C_MAKE_ENCODER", None)
    assert [_json.encode_section(v, "jobdict") for v in values] == direct
    with pytest.raises(EncodeError, match="NaN"):
        _json.encode_section({"x": float("nan")}, "jobdict")
