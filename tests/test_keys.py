"""The C core's repeated-key pass (csrc/keys.c), which strict validation
trusts instead of a Python hook per object: its answer must equal what
Python's json sees, for every spelling of a key."""
import json
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobpack import JobPack, validate
from jobpack._core import decode_header_keys
from jobpack._native import ffi, lib

from conftest import examples

UNIQUE, REPEATED, UNKNOWN = lib.JP_KEYS_UNIQUE, lib.JP_KEYS_REPEATED, lib.JP_KEYS_UNKNOWN


def answer(text, slots=1024):
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    # An exact-size copy: a bytes object has a NUL past its end, so ASan
    # (fuzz/test_under_sanitizers.sh) would not see a read one byte over.
    exact = ffi.new("uint8_t[]", max(len(data), 1))
    ffi.memmove(exact, data, len(data))
    scratch = ffi.new("jp_key_slot[]", max(slots, 1))
    return lib.jp_json_repeated_key(exact, len(data), scratch, slots)


class Repeated(Exception):
    pass


def python_answer(text):
    def hook(pairs):
        if len(dict(pairs)) != len(pairs):
            raise Repeated
        return dict(pairs)
    try:
        json.loads(text, object_pairs_hook=hook)
    except Repeated:
        return REPEATED
    return UNIQUE


@pytest.mark.parametrize("text, expected", [
    ('{"a": 1, "b": 2}', UNIQUE),
    ('{"a": 1, "a": 2}', REPEATED),
    ('{"a": 1, "\\u0061": 2}', REPEATED),                   # an escape names the same key
    ('{"\\u0041": 1, "\\u0061": 2}', UNIQUE),               # hex case is the value's, not the key's
    ('{"a\\"b": 1, "a\\u0022b": 2}', REPEATED),             # two spellings of a quote
    ('{"a\\\\": 1, "a\\u005c": 2}', REPEATED),
    ('{"a/": 1, "a\\/": 2}', REPEATED),
    ('{"\\n": 1, "\\u000a": 2, "n": 3}', REPEATED),
    ('{"\\n": 1, "n": 2}', UNIQUE),
    ('{"é": 1, "\\u00e9": 2}', REPEATED),                   # raw UTF-8 against its escape
    ('{"\U0001F600": 1, "\\ud83d\\ude00": 2}', REPEATED),   # a surrogate pair is one code point
    ('{"\\ud83d\\ude00": 1, "\\ud83d": 2}', UNIQUE),
    ('{"a": {"a": 1}, "b": [{"a": 1, "b": 2}]}', UNIQUE),  # same names, other objects
    ('{"a": {"b": 1, "b": 2}}', REPEATED),                  # deep in a value
    ('[{"x": 1}, {"x": 2}]', UNIQUE),
    ('[[], {"k": [1, {"k": 2}], "k": 3}]', REPEATED),      # after a nested object closes
    ('{"a": "b", "b": "a"}', UNIQUE),                      # string values are not keys
    ('{"a": ["a", "a"], "c": "a"}', UNIQUE),
    ('{"": 1, "": 2}', REPEATED),
    ('{}', UNIQUE), ('[]', UNIQUE), ('"a"', UNIQUE), ('12', UNIQUE), ('', UNIQUE),
])
def test_answers_as_python_json_reads_the_keys(text, expected):
    assert answer(text) == expected
    if text:
        assert python_answer(text) == expected


def test_many_keys_take_the_sorted_path():
    keys = [f"key{i}" for i in range(500)]
    unique = json.dumps({k: i for i, k in enumerate(keys)})
    assert answer(unique) == UNIQUE
    # a repeat far apart, spelled with an escape, among more than 32 keys
    assert answer(unique[:-1] + ', "\\u006bey7": 0}') == REPEATED
    assert answer(unique[:-1] + ', "key499": 0}') == REPEATED


@pytest.mark.parametrize("text", [
    '{"a": 1', '{"a": 1]', '[1}', '}', ']', '{"a', '{"a\\', '"\\', '{"a": [1, 2}',
])
def test_unbalanced_or_unterminated_text_cannot_be_told(text):
    assert answer(text) == UNKNOWN


def test_more_open_keys_than_slots_cannot_be_told():
    text = json.dumps({f"k{i}": i for i in range(40)})
    assert answer(text, slots=41) == UNIQUE       # the object's slot and its 40 keys
    assert answer(text, slots=40) == UNKNOWN
    assert answer("[" * 50 + "]" * 50, slots=49) == UNKNOWN
    assert answer("[" * 50 + "]" * 50, slots=50) == UNIQUE
    assert answer("{}", slots=0) == UNKNOWN


_KEY_CHARS = st.sampled_from(["a", "b", "é", "\U0001F600", '"', "\\", "/", "\n", "\t", "\r",
                              "\b", "\f", "\x7f", "\u2028", "\ud800", "\udc00"])


def _spell(key, draw):
    """key as a JSON string, each character raw or escaped (as json.dumps
    does, or as \\uXXXX, surrogate pairs for astral characters)."""
    out = []
    for ch in key:
        how = draw(st.integers(0, 2))
        if "\ud800" <= ch <= "\udfff":   # a lone surrogate: only as an escape
            out.append(f"\\u{ord(ch):04{draw(st.sampled_from('xX'))}}")
        elif how == 0 or ch in '"\\' or ch < " ":
            out.append(json.dumps(ch)[1:-1])
        elif how == 1:
            out.append(ch)
        else:   # \uXXXX, surrogate pairs for astral characters, either hex case
            units = ch.encode("utf-16-be")
            hexcase = draw(st.sampled_from("xX"))
            out.extend(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04{hexcase}}"
                       for i in range(0, len(units), 2))
    return '"' + "".join(out) + '"'


@st.composite
def json_texts(draw, depth=0):
    """JSON text whose objects often repeat a key, each key spelled its own way."""
    kind = draw(st.integers(0, 3 if depth < 3 else 1))
    if kind == 0:
        return draw(st.sampled_from(["1", "-2.5e3", "true", "null", '"a"', '"\\u0061"']))
    if kind == 1:
        return _spell(draw(st.text(_KEY_CHARS, max_size=3)), draw)
    if kind == 2:
        items = draw(st.lists(json_texts(depth + 1), max_size=4))
        return "[" + ", ".join(items) + "]"
    keys = draw(st.lists(st.text(_KEY_CHARS, max_size=2), max_size=40))
    members = [f"{_spell(k, draw)}: {draw(json_texts(depth + 1))}" for k in keys]
    return "{" + ",".join(members) + "}"


@given(json_texts())
@settings(max_examples=examples(300), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_answer_equals_pythons_on_any_json(text):
    assert answer(text) == python_answer(text)


@given(st.binary(max_size=200))
@settings(max_examples=examples(300), deadline=None)
def test_any_bytes_get_an_answer_without_leaving_the_buffer(data):
    # (under JOBPACK_SANITIZE, ASan checks every read stays in bounds)
    assert answer(data, slots=8) in (UNIQUE, REPEATED, UNKNOWN)


def _pack(jobdict):
    home = JobPack(2, {}, {}, b"", b"").jobhome
    return JobPack.header([128, 128 + len(jobdict), 130 + len(jobdict), 130 + len(jobdict)]) \
        + jobdict + b"{}" + home


def test_header_and_keys_in_one_call():
    header, repeated = decode_header_keys(_pack(b'{"a": 1, "\\u0061": 2}'))
    assert header.ok and repeated is True
    header, repeated = decode_header_keys(_pack(b'{"a": 1, "b": 2}'))
    assert header.ok and repeated is False
    header, repeated = decode_header_keys(_pack(b'{"a": 1'))
    assert header.ok and repeated is None
    header, repeated = decode_header_keys(b"\xd5\xc0\x00\x02" + b"\0" * 20)
    assert not header.ok and repeated is None
    header, repeated = decode_header_keys(memoryview(_pack(b'{"a": 1, "a": 2}')))
    assert header.ok and repeated is True


def test_strict_validate_finds_a_key_repeated_by_escape():
    jobdict = json.dumps({"prefix": "p", "scheduler": {}, "worker": "job.py", "owner": "me",
                          "pipeline": [["map", "split", False]], "input": ["raw://a"],
                          "save_results": False, "save_info": "ddfs"}).encode()
    spelled = jobdict[:-1] + b', "\\u006fwner": "you"}'
    problems = validate(_pack(spelled), strict=True)
    found = [p for p in problems if p.code == "duplicate_key"]
    assert found and "'owner'" in found[0].message, problems
    assert not [p for p in validate(_pack(jobdict), strict=True) if p.code == "duplicate_key"]


def test_strict_validate_past_the_slots_asks_python():
    """A jobdict with more keys than the C pass follows still gets its
    repeated key found (by the Python hook)."""
    many = {"prefix": "p", "owner": "me", "worker": "job.py", "scheduler": {},
            "pipeline": [["map", "split", False]], "input": ["raw://a"],
            "save_results": False, "save_info": "ddfs",
            "params": {f"p{i}": i for i in range(3000)}}
    jobdict = json.dumps(many).encode()
    assert decode_header_keys(_pack(jobdict))[1] is None
    assert not [p for p in validate(_pack(jobdict), strict=True) if p.code == "duplicate_key"]
    repeated = jobdict[:-2] + b', "p7": 0}}'
    assert decode_header_keys(_pack(repeated))[1] is None
    found = [p for p in validate(_pack(repeated), strict=True) if p.code == "duplicate_key"]
    assert found and "'p7'" in found[0].message


def test_fast_path_past_the_slots_asks_python(monkeypatch):
    """Where Python's json reads the jobdict first (any jobdict of at most
    MAX_INT_DIGITS bytes) but the C pass runs out of slots, Python's json
    notes the repeated keys itself."""
    import jobpack.validate  # noqa: F401  (the module, not the function)
    module = sys.modules["jobpack.validate"]
    noted = []
    real = module._NOTING_SCAN

    def noting(text, start):
        noted.append(len(text))
        return real(text, start)

    monkeypatch.setattr(module, "_NOTING_SCAN", noting)
    many = {"params": {f"p{i}": i for i in range(1100)}, "prefix": "p", "owner": "me",
            "worker": "job.py", "scheduler": {}, "pipeline": [["map", "split", False]],
            "input": ["raw://a"], "save_results": False, "save_info": "ddfs"}
    jobdict = json.dumps(many).encode()
    assert strict_scan_answer(_pack(jobdict)) is None
    assert not [p for p in validate(_pack(jobdict), strict=True) if p.code == "duplicate_key"]
    repeated = jobdict[:-1] + b', "owner": "you"}'
    found = [p for p in validate(_pack(repeated), strict=True) if p.code == "duplicate_key"]
    assert found and "'owner'" in found[0].message
    assert noted == [len(jobdict), len(repeated)]   # Python's json noted them, once each


def strict_scan_answer(data):
    return decode_header_keys(data)[1]
