"""The master's JSON reading (mochijson2), production by production.

Three tables of raw JSON snippets, each at the boundary of one rule of the
master's dialect (SPEC.md, "The master's JSON dialect"):

- ``STANDARD``: standard JSON at its edges, which the master reads as any
  reader does (numbers next to the double range, 4001-digit integers,
  nesting 401 deep, raw UTF-8 of each length at each end of its range,
  every escape form);
- ``DIALECT``: what only the master reads (trailing commas in each
  container, raw control bytes, escapes it keeps literally or reads with a
  sign, non-string keys of each kind, lax UTF-8 of each kind);
- ``REFUSED``: what it refuses, with the code ``validate`` reports
  (``invalid_json``, or ``invalid_utf8`` for bad UTF-8 and unclosed
  strings): each near-miss of a rule above.

Strings are marked as such (they can go in the jobenvs, whose values must
be strings).  A few productions only exist at the end of a section (a
``\\u`` with fewer than four bytes left is a literal backslash there);
``AT_END`` and ``REFUSED_AT_END`` list them as section tails.

Two more, kept apart for their size (200 KB each): ``DEPTH_AT_LIMIT``
and ``DEPTH_PAST_LIMIT``, arrays nested so that a member of an object
section reaches jobpack's nesting limit (``dialect.MAX_DEPTH``) exactly, or
goes one level past it (the malformed and strict sweeps use them once each,
at the end, so short draws stay small).
"""
from typing import List, Tuple

from ..dialect import MAX_DEPTH

# Just below the smallest decimal that rounds to infinity (csrc/mochijson.c's
# overflow_digits): DBL_MAX's halfway point to the next power of two.
_HALFWAY = (b"17976931348623158079372897140530341507993413271003782693617377898044"
            b"49682927647509466490179775872070963302864166928879109465555478519404"
            b"02630657488671505820681908902000708383676273854845817711531764475730"
            b"27006985557136695962284291481986083493647529271907416844436551070434"
            b"2711559699508093042880177904174497792")
_BELOW_HALFWAY = _HALFWAY[:-1] + b"1"


def _s(body: bytes) -> bytes:
    return b'"' + body + b'"'


_UTF8_OK = [b"\xc2\x80", b"\xdf\xbf", b"\xe0\xa0\x80", b"\xe1\x80\x80", b"\xec\xbf\xbf",
            b"\xed\x80\x80", b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xef\xbf\xbd",
            b"\xf0\x90\x80\x80", b"\xf1\x80\x80\x80", b"\xf3\xbf\xbf\xbf", b"\xf4\x80\x80\x80",
            b"\xf4\x8f\xbf\xbf"]
_ESCAPES_OK = [b'\\"', b"\\\\", b"\\/", b"\\b", b"\\f", b"\\n", b"\\r", b"\\t", b"\\u0041",
               b"\\u00e9", b"\\u00E9", b"\\uFFFD", b"\\ufffd", b"\\uD7FF", b"\\uE000",
               b"\\u0000", b"\\u001f", b"\\ud83d\\ude00", b"\\uDBFF\\uDFFF",
               b"\\ud800\\udc00", b"\\uD800\\uDFFF", b"\\u0aF0"]

# Floats on each side of the core's "might this overflow?" estimate
# (jp_json_float_risk: integer digits + exponent > 308, or integer digits >
# 308 + |exponent| when it is negative), each of which a double holds: the
# estimate's edge in every form (e and E, signs, a fraction, leading zeros,
# an exponent past its saturation at 10^9).
_FLOAT_RISK_EDGES = [
    b"1e307", b"1e308", b"1E308", b"1e+307", b"1E+308", b"-1e308", b"10e307", b"9.9e307",
    b"99.9e306", b"1.0e308", b"1e000000000000307", b"1e0000000000308",
    b"1" * 308 + b".5", b"1" * 309 + b".5", b"1" * 309 + b"e-1", b"1" * 310 + b"e-1",
    b"1" * 310 + b"E-2", b"1" * 311 + b"e-2", b"1" * 309 + b"e-0", b"0." + b"1" * 400,
    b"1e-1000000000", b"1" * 310 + b"e-9999999999", b"0e1000000000", b"0E+999999999",
]
# Digits inside strings are not numbers, however the string's quotes are
# escaped; after a string that ends in backslashes, they are again.
_DIGITS_IN_STRINGS = [b"1e400", b'\\"1e400', b'\\\\\\"1e400\\"', b"a\\\\1e400",
                      b"\\u00221e400"]
_AFTER_A_STRING = [b'["\\\\", 1e308]', b'["a\\\\\\\\", 1e308]', b'["\\"", 1e308]',
                   b'["", 1e308]', b'["x", "1e308"]']

# (snippet, is_string)
STANDARD: List[Tuple[bytes, bool]] = (
    [(v, False) for v in (
        b"0", b"-0", b"0.5", b"-0.0e0", b"1E+2", b"1e-2", b"12e0", b"10E-1", b"1e-99999999999",
        b"0e99999999999", b"0.0e400", b"1.7976931348623157e308", b"17976931348623157e292",
        b"-1.7976931348623157E+308", _BELOW_HALFWAY, _BELOW_HALFWAY + b".0", _HALFWAY, b"0." + _BELOW_HALFWAY + b"e309",
        b"1797693134862315807937289714053034150799341327e263",
        b"1" * 4000, b"9" * 4001, b"-" + b"1" * 4001, b"true", b"false", b"null", b"[]",
        b"{}", b"[ ]", b"{\t}", b"[1, 2.5, \"x\", null]", b'{"a": {"b": []}}',
        b"[" * 401 + b"]" * 401, b'{"a":' * 401 + b"1" + b"}" * 401,
        # a member nested to the core's JP_JSON_DEEP_LIMIT (400) levels, and one past
        b"[" * 399 + b"]" * 399, b"[" * 400 + b"]" * 400)]
    + [(v, False) for v in _FLOAT_RISK_EDGES] + [(v, False) for v in _AFTER_A_STRING]
    + [(_s(u), True) for u in _UTF8_OK] + [(_s(e), True) for e in _ESCAPES_OK]
    + [(_s(b), True) for b in _DIGITS_IN_STRINGS]
    + [(_s(b"x" * 9 + b"\\n" + b"y" * 17), True)])

_LAX_UTF8 = [b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
             b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf4\xbf\xbf\xbf"]
_ODD_ESCAPES = [b"\\x41", b"\\'", b"\\a", b"\\0", b"\\U0041", b"\\u+041", b"\\u-000",
                b"\\u+00e9", b"\\v"]
_NONSTRING_KEYS = [b"1", b"-2.5e3", b"0", b"9", b"true", b"false", b"null", b"1" * 4001]

DIALECT: List[Tuple[bytes, bool]] = (
    [(_s(b"a" + bytes([c]) + b"b"), True) for c in range(0x20)]
    + [(_s(u), True) for u in _LAX_UTF8] + [(_s(e), True) for e in _ODD_ESCAPES]
    + [(v, False) for v in (b"[1,]", b"[[],]", b'{"a": 1,}', b'{"a": [1, ],\n}', b"[{},]",
                            b'[{"a": {},},]')]
    + [(b"{" + k + b": 1}", False) for k in _NONSTRING_KEYS]
    + [(b'{"a": 1, ' + k + b": [true]}", False) for k in (b"2", b"null")])

# Section tails the master reads only at the very end: a short \u escape.
AT_END: List[bytes] = [_s(b"\\u"), _s(b"\\u1"), _s(b"x\\u")]

# (snippet, code)
_J, _U = "invalid_json", "invalid_utf8"
REFUSED: List[Tuple[bytes, str]] = (
    [(v, _J) for v in (
        b"-", b"-a", b"-}", b"1.", b"1.e5", b"1e", b"1ex", b"1e+", b"1E-", b"01", b"00", b"-01",
        b"1.5e309", b"2e308", b"-1e309", b"1e1000000000000", _HALFWAY + b".0",
        _HALFWAY + b"1e0",
        b"0." + _HALFWAY + b"e309", b"1.8e308",
        b"+1", b".5", b"NaN", b"Infinity", b"tru", b"nul", b"fals", b"True", b"None",
        b"[1}", b'{"a": 1]', b"[1 2]", b"[1: 2]", b"[,1]", b"[1,,2]", b"[}", b"{{}}",
        b"{[]: 1}", b"{,}", b"{:1}", b"{]", b'{"a" 1}', b'{"a"}', b'{"a": }', b"[1]]",
        b"{1 2}", b"'a'", b"0x10", b'["a"1e400]')]
    + [(_s(e), _J) for e in (
        b"\\u+zzz", b"\\u12g4", b"\\u/000", b"\\u:000", b"\\u@000", b"\\uG000",
        b"\\u`000", b"\\ug000", b"\\u-123", b"\\udc00", b"\\udfff", b"\\ud800",
        b"\\ud800xxxxxx", b"\\ud800\\n0000", b"\\ud800\\uzzzz", b"\\ud800\\u0041",
        b"\\ud800\\ue000", b"\\udbff\\ud800", b"\\ufffe", b"\\uffff", b"\\uFFFE",
        b"\\ud800\\u+dc0", b"\\ud800\\udbff", b"\\udc00\\udc00", b"\\u-001")]
    + [(_s(u), _U) for u in (
        b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xc2A", b"\xc2\x7f", b"\xc2\xc0", b"\xdfA",
        b"\xe0A\x80", b"\xe0\x80A", b"\xe0\xc0\x80", b"\xef\xbfA", b"\xf0\x80\x80A",
        b"\xf0A\x80\x80", b"\xf0\x80A\x80", b"\xf4\x80\x80\xc0", b"\xf5\x80\x80\x80",
        b"\xf8\x80\x80\x80", b"\xff", b"\xfe")])

# Section tails (the section is cut here) and their codes: strings left open
# mid-character or mid-escape, containers left open, a short escape that is
# not short enough.
REFUSED_AT_END: List[Tuple[bytes, str]] = [
    (b'"\xc3', _U), (b'"\xe2\x82', _U), (b'"\xf0\x9f\x98', _U), (b'"\\', _U), (b'"abc', _U),
    (b'"', _U), (b'"a\\"', _U), (b'"abcdefg', _U),
    (b'"\xc3\xa9', _U), (b'"\xe2\x82\xac', _U), (b'"\xf0\x9f\x98\x80', _U),
    (b'"\\ud83d\\ude00', _U), (b'"\\ud83d\\ude0', _J),
    (b'"\\ud800"}', _J), (b'"\\u12"}', _J), (b'"\\uab"}', _J), (b"[1,", _J), (b'{"a": ', _J), (b'{"a"', _J),
    (b"[", _J), (b"-", _J), (b"1e", _J), (b"1.", _J), (b"t", _J),
    (b"1", _J), (b"[true", _J), (b'"v"', _J)]

# Bytes that are not whitespace to the master (it skips only space, tab,
# CR and LF).
NOT_WHITESPACE = [b"\x0c", b"\x0b", b"\xc2\xa0", b"\xa0", b"\xef\xbb\xbf", b"\x00",
                  b"\xe3\x80\x80", b"\x85", b"\x1f", b"\x08", b"\x0e"]


# A member's value at depth 2 (the section's object is depth 1).
DEPTH_AT_LIMIT = b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)
# The same at the nesting the core's default scratch stack holds (4096
# bytes, a bit a level: jobpack._core's first buffer; callers retry with more).
DEPTH_AT_SCRATCH = b"[" * (4096 * 8 - 1) + b"]" * (4096 * 8 - 1)
DEPTH_PAST_LIMIT = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH


def insert_member(section: bytes, key: bytes, value: bytes, *, last: bool = False,
                  empty: bool = False) -> bytes:
    """An object section with one more member, ``key: value`` (raw JSON),
    first or ``last`` (then nothing follows the value but the closing
    brace).  ``empty`` says the object has no member yet."""
    if last:
        end = section.rindex(b"}")
        head = section[:end].rstrip(b" \t\r\n")
        return head + (b"" if empty else b", ") + key + b": " + value + b"}"
    start = section.index(b"{") + 1
    return section[:start] + key + b": " + value + (b"" if empty else b", ") + section[start:]
