#!/usr/bin/env python3
"""Does the seeded draw tell small faults in our replica of the master apart?

This judges the *generators* (jobpack.strategies), not the test suite: it
plants one small fault at a time in the replica -- jobpack/validate.py and
the C header checks and scanner (csrc/header.c's jp_header_decode,
csrc/mochijson.c) -- and replays the draw through the faulty copy.  The
mutant is killed when some pack gets a different answer than from the
original: for the Python, anything validate() (plain and strict) or
jobinfo() says (fuzz/generator_coverage.observe), of every pack of the draw
and of the other ways in (generator_coverage.probes: a few packs given as
other sources, the long ones under other int_max_str_digits); for the C, every result
fuzz/replica_replay.c prints (statuses, offsets, features, the converted
text), or a report of AddressSanitizer or UBSan, which the C mutants are
built with (a bound shifted by one reads past a section that ends there).

    python fuzz/generator_mutation.py [--count N] [--seed S] [--only py|c]
                                      [--every K] [--list]

Mutants: a comparison flipped (== and !=, < and >=, ...) or shifted by one
(< and <=, > and >=), a constant in a comparison or slice shifted by one, a
condition negated or dropped (an ``if`` that raises or fails never fires),
``and``/``or`` swapped, a default of ``.get`` changed, an element dropped
from a tuple of accepted words, a whitespace byte added to or dropped from
the scanner's table, a byte of the string table flipped, an escape case
dropped.  Each Python mutant replays in a child process, capped at
PY_TIME_FACTOR times the original's replay time and PY_EXTRA_MEMORY bytes
more than this process: a mutant that blows the cap is killed.  EQUIVALENT
lists the survivors that no input can tell apart, with the reason; the exit
status is 1 when the score (killed / non-equivalent) is below --min-score
(0.95) or a survivor is not listed.
"""
import argparse
import ast
import copy
import importlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

try:
    import resource
except ImportError:  # not POSIX: mutants replay without a memory cap
    resource = None  # type: ignore[assignment]

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generator_coverage as gc  # noqa: E402

# Survivors no input can tell apart from the original: mutant id -> why.
# Ids are stable while the source line does not change ("py:" or "c:",
# then the function, the line and the mutation; " (2)" for the second of
# two identical ones).
# The _decode gate: Python's json goes first only where it cannot overflow
# the C stack nor convert an integer of more than MAX_INT_DIGITS digits.
# The draw runs under CPython's default int_max_str_digits (4300) and, for
# its long packs (an integer of 25,000 digits among them), under 0 (the
# CLI's) and 40,000 (generator_coverage.probes): a mutant that opens the
# gate for such a section reads the integer as an int, not a HugeInt, and is
# killed.  These only close it somewhere, or differ where no limit can be:
_GATE_CLOSES = ("the mutant only closes the gate where the original opens it ({}): the "
                "section then goes to the core's scan and jobpack.dialect, which read it with "
                "the same value and verdict as Python's json (an integer of more than "
                "MAX_INT_DIGITS digits never passes an open gate: it does not fit in a "
                "section of MAX_INT_DIGITS bytes, and int() refuses it under a limit of at "
                "most MAX_INT_DIGITS); only the time changes")
_DUPLICATES = ("the duplicate flag is a shortcut for the strict jobdict: None (not noted) or "
               "True make _strict_checks look for a repeated key itself, with the same answer, "
               "and no other section's flag is read")
_SAVE_INFO_STR = ("reached only for a string whose first four characters are not ddfs or "
                  "hdfs (_master's inline test), and a decoded string's bytes start with "
                  "those four ASCII bytes exactly when its text does: ok is false here "
                  "whatever the test")
_SAVE_INFO_INLINE = ("the inline test is a shortcut: a string it no longer lets through goes "
                     "to _check_save_info, which applies the whole rule with the same result")
_SHORTCUT = ("the inline test is a shortcut for the checks after it, which accept exactly "
             "what it accepts: a stage it lets fall through passes them all")
_UNSAFE_SHORTCUT = ("the inline test only spares the split for the common safe path: a path "
                    "it lets through goes to the full test below, which gives the same answer")
EQUIVALENT: Dict[str, str] = {
    "py:_iodata_bytes:if isinstance(x, str)::drop check":
        "a str then goes through the list loop, which iterates it character by character "
        "and encodes each the same way: the same bytes",
    "py:_check_save_info:ok = (_flatlength(value) >= 4 and all(type(c) is int for c in head):"
    "const 4-1":
        "head == a 4-element list already implies at least 4 leaves",
    "py:_decode:if (len(section) <= _MAX_INT_DIGITS:Or->And": _GATE_CLOSES.format(
        "a section of at most MAX_INT_DIGITS bytes under a digit limit of 0 or above "
        "MAX_INT_DIGITS, a longer one under a limit of 1 to MAX_INT_DIGITS"),
    "py:_decode:if (len(section) <= _MAX_INT_DIGITS:shift LtE->Lt #0": _GATE_CLOSES.format(
        "a section of exactly MAX_INT_DIGITS bytes under a digit limit of 0 or above it"),
    "py:_decode:or 0 < dialect.int_max_str_digits() <= _MAX_INT_DIGITS) and (:shift LtE->Lt #1":
        _GATE_CLOSES.format("a section longer than MAX_INT_DIGITS bytes under a digit limit of "
                            "exactly MAX_INT_DIGITS"),
    "py:_decode:sys.getrecursionlimit() <= _DEFAULT_RECURSION_LIMIT)::shift LtE->Lt #0":
        _GATE_CLOSES.format("every section, at a recursion limit of exactly CPython's default "
                            "(1000)"),
    "py:_decode:or 0 < dialect.int_max_str_digits() <= _MAX_INT_DIGITS) and (:const 0+1":
        "1 < limit differs from 0 < limit only at a digit limit of 1, which no Python has "
        "(CPython takes 0 or at least 640; PyPy has none: 0)",
    "py:_decode:sys.getrecursionlimit() <= _DEFAULT_RECURSION_LIMIT)::flip LtE->Gt #0":
        "the same answers at every recursion limit, not the same safety: at CPython's default "
        "(1000) or below, where the draw runs and which validate() never changes, the mutant "
        "closes the gate for every section (the same answers, as above); above it, it opens "
        "the gate as the original would at the default (a section longer than "
        "MAX_INT_DIGITS bytes only under a digit limit of 1 to MAX_INT_DIGITS, where int() "
        "refuses a long integer itself), so Python's json reads the same values, but on a "
        "deeply nested section it may overflow the C stack on CPython 3.11 and older (a "
        "crash, not another answer; 3.12+ raises RecursionError, which falls back to the core)",
    'py:_decode:if "\\\\u" in text and _REFUSED_ESCAPE.search(text)::And->Or':
        "the search finds nothing without a \\u; with Or every section holding a \\u goes to "
        "the core's scan, which reads it alike (as for the gate above)",
    **{f'py:_decode:start = 0 if text[:1] == "{{" else _WHITESPACE(text).end():{m}':
       "text[:1] == '{' only spares the whitespace match, which finds no whitespace before "
       "a '{' either: [:0] never equals '{', [:2] only for the text '{'; the start is the same"
       for m in ("slice upper 1-1", "slice upper 1+1")},
    'py:_decode:start = 0 if text[:1] == "{" else _WHITESPACE(text).end():flip Eq->NotEq #0':
        "a text that starts with '{' has no whitespace to skip (start 0 either way); any "
        "other is scanned from 0: a value there reads alike, leading whitespace stops the "
        "scanner, and the section goes to the core's scan, which reads it alike (as for the "
        "gate above)",
    "py:_decode:elif note_duplicates::negate if":
        "the duplicate flag is read only by _strict_checks, on a pack decoded in strict mode: "
        "the mutant notes it in plain mode, where nothing reads it, and leaves it None in "
        "strict mode, where None makes _strict_checks look for a repeated key itself, with "
        "the same answer",
    'py:_decode:if end != len(text) and _WHITESPACE(text, end).end() != len(text)::And->Or':
        "raises for whitespace after the value too (for nothing after it the second test is "
        "false): such a section goes to the core's scan, which reads it alike (as for the "
        "gate above)",
    **{f"py:_Pack.json:offsets[i], self.strict and i == 0, self.repeated):{m}": _DUPLICATES
       for m in ("And->Or", "flip Eq->NotEq #0", "const 0-1", "const 0+1")},
    **{f'py:_check_save_info:ok = len(raw) >= 4 and raw[:4] in (b"hdfs", b"ddfs"):{m}':
       _SAVE_INFO_STR for m in ("flip GtE->Lt #0", "shift GtE->Gt #0", "const 4-1", "const 4+1",
                                "drop element 0 #1", "drop element 1 #1", "slice upper 4-1",
                                "slice upper 4+1")},
    **{f'py:_master:if not (type(save_info) is str and save_info[:4] in ("ddfs", "hdfs")):'
       f':{m}': _SAVE_INFO_INLINE for m in ("drop element 0 #1", "drop element 1 #1",
                                            "slice upper 4-1", "slice upper 4+1")},
    "py:_check_pipeline:and type(stage[1]) is str and (stage[2] is True or stage[2] is False)):"
    ":Or->And": _SHORTCUT,
    **{f"py:_master:if not want_info::drop check{n}":
       "validate() discards what _master returns: computing the jobinfo too changes the time "
       "only (jobinfo() computes it, without error, for every pack that gets there)"
       for n in ("", " (2)")},
    **{f"py:_json_problems:if has_duplicate is False or (i == 1 and accepted and "
       f"len(dict(value)) == len(value))::{m}":
       "the test is a shortcut: a jobenvs' flag is always None, and a jobdict's False means "
       "its decoder found no repeated key in any object; a section it no longer lets through "
       "is searched in full (_first_duplicate_pair, _first_duplicate_key), which finds "
       "nothing in either case" for m in ("Or->And", "const 1+1")},
    **{f"py:_decode:if duplicate is None:  # it could not tell: Python's json notes them:{m}":
        "the C pass's answer is a shortcut: negated, Python's json notes the repeated keys "
        "where the C pass answered (the same answer, exact for JSON json reads), and where "
        "it could not tell the flag stays None, which _json_problems resolves by decoding "
        "the jobdict as pairs: the same problems" for m in ("negate if", "flip Is->IsNot #0")},
    "py:_open:if strict:  # the jobdict's repeated keys looked for in the same C call:"
    "negate if":
        "both calls decode and check the header alike; the repeated-key answer is read only "
        "by a strict _Pack, which without it (None) has Python's json note the keys: the "
        "same verdicts, only the time changes",
    "py:_strict_checks:if total > _BOMB_FLOOR and too_much(total, home_len)::"
    "shift Gt->GtE #0":
        "too_much(total, n) already means total > max(BOMB_RATIO * n, BOMB_FLOOR): the first "
        "test only spares the call, and total == BOMB_FLOOR fails too_much either way",
    **{'py:_unsafe_path:if ".." not in path and "\\\\" not in path and path[:1] != "/" and '
       f'path[1:2] != ":"::{m}': _UNSAFE_SHORTCUT for m in ("drop check",)},
    # -- C: header.c
    **{f"c:header.c:jp_header_decode:len = (uint64_t)buf_len < pack_len ? buf_len : "
       f"(size_t)pack_len;:{m} @28":
       "validate() passes the whole pack as both the buffer and the claimed length "
       "(buf_len == pack_len): both arms are the same" for m in ("flip <->>=", "shift <-><=")},
    **{f"c:header.c:jp_header_decode:fields = len / 4 < 5 ? len / 4 : 5;:{m}":
       "the bound moves only where len / 4 == 5, and there both arms are 5"
       for m in ("shift <-><= @21", "const 5+1 @23")},
    "c:header.c:jp_header_decode:if (len > HEADER_FIELDS_SIZE) {:shift >->>= @12":
        "at len == 20 there are no reserved bytes: a memcmp of 0 bytes finds nothing",
    "c:header.c:jp_header_decode:size_t n = (len < HEADER_SIZE ? len : HEADER_SIZE) - "
    "HEADER_FIELDS_SIZE;:shift <-><= @24": "at len == 128 both arms are 128",
    # -- C: mochijson.c
    "c:mochijson.c:hex_value:if (c >= '0' && c <= '9'):const '0'-1 @13":
        "'/' then gives '/' - '0' == -1, 'not a hex digit', as before",
    "c:mochijson.c:hex_value:return -1;:const 1+1 @12": "callers only test for a negative value",
    **{f"c:mochijson.c:erlang_hex4:if (i == 4):{m}":
       "i is 0 or 1 there (a sign takes one byte of four): the test is defensive"
       for m in ("const 4-1 @13", "const 4+1 @13", "drop check")},
    **{f"c:mochijson.c:erlang_hex4:return 0;:{m}":
       "behind the defensive test above, which never holds" for m in ("const 0-1 @15",
                                                                      "const 0+1 @15")},
    "c:mochijson.c:erlang_hex4:return 1;:const 1+1 @11": "callers use it as a truth value",
    "c:mochijson.c:scan_literal:return 1;:const 1+1 @19": "callers use it as a truth value",
    "c:mochijson.c:float_overflows:return 1; /* exactly halfway, or more: rounds to infinity */"
    ":const 1+1 @11": "callers use it as a truth value",
    **{f"c:mochijson.c:scan_u_escape:if ((c >= 0xd800 && c <= 0xdfff) || c >= 0xfffe):{m}":
       "0xd800-0xdbff are high surrogates, taken by the branch above: from that range this "
       "test only sees 0xdc00-0xdfff" for m in ("shift >=->> @11", "const 0xd800+1 @14")},
    **{f"c:mochijson.c:scan_string:while (s->len - s->pos >= 8) {{:{m}":
       "the eight-bytes-a-step loop is a shortcut: the byte loop after it copies the rest "
       "of the same run" for m in ("shift >=->> @31", "const 8+1 @34")},
    **{f"c:mochijson.c:scan_string:uint8_t e = left >= 2 ? in[s->pos + 1] : 0;:{m}":
       "with one byte left e only has to be no escape letter: 0, 1 and 255 are none"
       for m in ("const 0-1 @53", "const 0+1 @53")},
    **{f"c:mochijson.c:scan_string:if (c < 0x20) {{:{m}":
       "0x20 (space) copies as is: the run loop above took it, it never gets here"
       for m in ("shift <-><= @14", "const 0x20+1 @16")},
    "c:mochijson.c:scan_string:} else if (c >= 0xe0 && c <= 0xef && left >= 3 &&:"
    "const 0xe0-1 @24":
        "0xdf followed by a continuation byte is taken by the two-byte branch first; "
        "otherwise the three-byte test fails on the same byte",
    "c:mochijson.c:scan_string:} else if (c >= 0xf0 && c <= 0xf4 && left >= 4 &&:"
    "const 0xf0-1 @24":
        "0xef followed by two continuation bytes is taken by the three-byte branch first; "
        "otherwise the four-byte test fails on the same byte",
    **{f"c:mochijson.c:float_overflows:return e > 308;:{m}":
       "e != 308 here (tested just above), so e > 307, e >= 308 and e > 308 agree"
       for m in ("shift >->>= @17", "const 308-1 @19")},
    **{f"c:mochijson.c:float_overflows:for (i = 0; i < sizeof overflow_digits - 1; i++) {{:{m}":
       "one more step compares a digit with the terminating NUL, only when every digit "
       "matched the halfway point, and returns 1 as the end of the loop does"
       for m in ("shift <-><= @18", "const 1-1 @45")},
    "c:mochijson.c:float_overflows:uint8_t have = first + i < total ? DIGIT_AT(first + i) : "
    "'0';:const '0'-1 @65":
        "past the token's digits a '0' pad goes on until a non-zero digit of the halfway "
        "point (it ends in 2), a '/' pad stops at once: both return 0",
    "c:mochijson.c:float_overflows:return have > (uint8_t)overflow_digits[i];:shift >->>= @24":
        "have != the digit here (tested just above): > and >= agree",
    **{f"c:mochijson.c:{f}:if (exp10 < {n}):shift <-><= @22":
       "the exponent saturates at 10^15 or at 10^16: either way far past any double's range "
       "and past the digit count of any buffer (under 2^32 bytes), so the verdict is the same"
       for f, n in (("scan_number", "EXP10_CAP"), ("float_may_overflow", "(uint64_t)EXP10_CAP"))},
    "c:mochijson.c:scan_number:if (!as_key && n_int > s->res->max_int_digits):shift >->>= @29":
        "assigns the value it already holds",
    "c:mochijson.c:push:if (s->depth > s->res->max_depth):shift >->>= @17":
        "assigns the value it already holds",
    **{f"c:mochijson.c:scan:s.stack_bits = scratch_len > SIZE_MAX / 8 ? SIZE_MAX : "
       f"scratch_len * 8;:{m}": "needs a scratch buffer of about SIZE_MAX / 8 bytes"
       for m in ("shift >->>= @31", "const 8-1 @44", "const 8+1 @44")},
    **{f"c:mochijson.c:scan:if (c == '{{' || c == '[' || c == ',' || c == ':' || c == ']'):{m}":
       "scan_const fails on each of these bytes (and on the mutant's '|', 'z', 'Z', '\\\\', "
       "'+', ';', '^') at the same offset with the same status"
       for m in ("const '{'-1 @21", "const '{'+1 @21", "const '['-1 @33", "const '['+1 @33",
                 "const ','-1 @45", "const ':'+1 @57", "const ']'-1 @69", "const ']'+1 @69",
                 "||->&& @25", "||->&& @37", "||->&& @49", "||->&& @61", "drop check")},
    **{f"c:mochijson.c:scan:if (c == ','):{m}":
       "a ',' where a value starts then fails in scan_const, at the same offset with the "
       "same status" for m in ("const ','-1 @21", "drop check")},
    "c:mochijson.c:string_end:while (i < len && (quote = memchr(in + i, '\"', len - i)) != NULL) {"
    ":shift <-><= @13": "at i == len memchr looks at 0 bytes and finds nothing: the loop ends alike",
    **{f"c:mochijson.c:string_end:for (k = i; k > at + 1 && in[k - 1] == '\\\\'; k--):{m}":
       "in[at] is the string's opening quote, never a backslash: the count stops there alike"
       for m in ("shift >->>= @22", "const 1-1 @29")},
    "c:mochijson.c:scan:if (s.overflow):drop check":
        "validate converts into jp_json_out_bound(len) bytes, which always suffice",
}

# -- Python mutants ------------------------------------------------------

# Functions of validate.py that are rules (not messages, not plumbing).
# (_repr_pieces builds messages: a mutant of its loop grows a list forever.)
PY_SKIP = {"_describe", "__str__", "__init__", "_strict", "validate", "jobinfo", "_view",
           "_json", "_snapshot", "_repr_parts", "_repr_pieces", "_long_int_text"}

_FLIP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt,
         ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
         ast.In: ast.NotIn, ast.NotIn: ast.In}
_SHIFT = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}


class _Site:
    """One place to mutate: a path of (field, index) from the module."""

    def __init__(self, path: Tuple[Tuple[str, Optional[int]], ...], func: str, line: str):
        self.path, self.func, self.line = path, func, line


def _get(tree: ast.AST, path) -> Any:
    node: Any = tree
    for field, index in path:
        node = getattr(node, field)
        if index is not None:
            node = node[index]
    return node


def _walk(node: ast.AST, path=()) -> Iterator[Tuple[Tuple, ast.AST]]:
    yield path, node
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield from _walk(item, path + ((field, i),))
        elif isinstance(value, ast.AST):
            yield from _walk(value, path + ((field, None),))


def _raises_or_fails(body: List[ast.stmt]) -> bool:
    return any(isinstance(s, ast.Raise) for s in body) or any(
        isinstance(s, ast.Return) for s in body)


def python_mutants(source: str, only: Optional[Set[str]] = None) -> List[Tuple[str, str]]:
    """(id, mutated source) for every mutant of validate.py (of those with
    an id in ``only``, if given: a mutant's source takes a copy of the whole
    tree to make)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out: List[Tuple[str, str]] = []
    seen: Dict[str, int] = {}

    def emit(desc: str, node: ast.AST, func: str, change: Callable[[Any], None], path) -> None:
        ident = _unique(f"py:{func}:{lines[node.lineno - 1].strip()}:{desc}", seen)
        if only is not None and ident not in only:
            return
        mutant = copy.deepcopy(tree)
        change(_get(mutant, path))
        out.append((ident, ast.unparse(mutant)))

    def visit(func_path, func_name: str, func_node: ast.AST) -> None:
        for rel, node in _walk(func_node):
            path = func_path + rel
            if isinstance(node, ast.FunctionDef) and rel:
                continue
            if isinstance(node, ast.Compare):
                for i, op in enumerate(node.ops):
                    for table, kind in ((_FLIP, "flip"), (_SHIFT, "shift")):
                        if type(op) in table:
                            new = table[type(op)]
                            emit(f"{kind} {type(op).__name__}->{new.__name__} #{i}", node,
                                 func_name, lambda n, i=i, new=new: n.ops.__setitem__(i, new()),
                                 path)
                for j, operand in enumerate([node.left] + node.comparators):
                    if isinstance(operand, ast.Constant) and type(operand.value) is int:
                        for delta in (-1, 1):
                            def change(n, j=j, delta=delta):
                                target = n.left if j == 0 else n.comparators[j - 1]
                                target.value += delta
                            emit(f"const {operand.value}{delta:+d}", node, func_name, change,
                                 path)
                    if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) and \
                            len(operand.elts) > 1:
                        for k in range(len(operand.elts)):
                            def change(n, j=j, k=k):
                                target = n.left if j == 0 else n.comparators[j - 1]
                                del target.elts[k]
                            emit(f"drop element {k} #{j}", node, func_name, change, path)
            elif isinstance(node, ast.Slice):
                for field in ("lower", "upper"):
                    bound = getattr(node, field)
                    if isinstance(bound, ast.Constant) and type(bound.value) is int:
                        for delta in (-1, 1):
                            emit(f"slice {field} {bound.value}{delta:+d}", bound, func_name,
                                 lambda n, f=field, d=delta: setattr(
                                     getattr(n, f), "value", getattr(n, f).value + d), path)
            elif isinstance(node, ast.If):
                emit("negate if", node, func_name,
                     lambda n: setattr(n, "test", ast.UnaryOp(ast.Not(), n.test)), path)
                if _raises_or_fails(node.body):
                    emit("drop check", node, func_name,
                         lambda n: setattr(n, "test", ast.Constant(False)), path)
            elif isinstance(node, ast.BoolOp):
                other = ast.Or if isinstance(node.op, ast.And) else ast.And
                emit(f"{type(node.op).__name__}->{other.__name__}", node, func_name,
                     lambda n, o=other: setattr(n, "op", o()), path)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "get" and len(node.args) == 2
                  and isinstance(node.args[1], ast.Constant)):
                value = node.args[1].value
                for new in _other_defaults(value):
                    emit(f"default {value!r}->{new!r}", node, func_name,
                         lambda n, new=new: setattr(n.args[1], "value", new), path)

    for i, node in enumerate(tree.body):
        if isinstance(node, ast.FunctionDef) and node.name not in PY_SKIP:
            visit((("body", i),), node.name, node)
        elif isinstance(node, ast.ClassDef):
            for k, item in enumerate(node.body):
                if isinstance(item, ast.FunctionDef) and item.name not in PY_SKIP:
                    visit((("body", i), ("body", k)), f"{node.name}.{item.name}", item)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "DEFAULT_MAX_CORES":
                emit("default +1", node, name, lambda n: setattr(
                    n, "value", ast.BinOp(n.value, ast.Add(), ast.Constant(1))),
                     (("body", i),))
            elif name == "GROUPINGS":
                for k in range(len(node.value.elts)):
                    emit(f"drop {node.value.elts[k].value}", node, name,
                         lambda n, k=k: n.value.elts.__delitem__(k), (("body", i),))
            elif name == "PORTABLE_PREFIX":
                emit("pattern allows '-'", node, name, lambda n: setattr(
                    n.value.args[0], "value", n.value.args[0].value.replace("_]", "_-]")),
                     (("body", i),))
    return out


def _unique(ident: str, seen: Dict[str, int]) -> str:
    """The id, with " (2)", " (3)", ... after it when the same mutation of
    the same line text was already made elsewhere (two ``is`` in one line,
    one check repeated in two branches): each mutant keeps its own result."""
    seen[ident] = seen.get(ident, 0) + 1
    return ident if seen[ident] == 1 else f"{ident} ({seen[ident]})"


def _other_defaults(value: Any) -> List[Any]:
    if value is False:
        return [True]
    if value is True:
        return [False]
    if isinstance(value, str):
        return {"ddfs": ["hdfs", "dfs"]}.get(value, [value + "x"])
    if isinstance(value, int):
        return [value + 1, value - 1]
    return []


def _load(source: str) -> types.ModuleType:
    module = types.ModuleType("jobpack._validate_mutant")
    module.__package__ = "jobpack"
    module.__file__ = "<mutant>"
    exec(compile(source, "<mutant>", "exec"), module.__dict__)
    return module


def _safe_observe(module: Any, probe: "gc.Probe") -> Any:
    try:
        return gc.observe_probe(module, probe)
    except Exception as e:  # a mutant that crashes is told apart
        return ("crash", type(e).__name__)


def run_python(cases: Sequence[Any], every: int = 1) -> Dict[str, bool]:
    """mutant id -> killed.  Each mutant replays the draw, then the other
    ways in (generator_coverage.probes: other sources, other digit limits)."""
    original = importlib.import_module("jobpack.validate")
    source = Path(original.__file__).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        probes = gc.plain(cases) + gc.probes(cases, Path(tmp))
        started = time.monotonic()
        expected = [gc.observe_probe(original, probe) for probe in probes]
        # Each mutant gets many times the original's replay time, and memory
        # beyond this process's: a mutant that loops or grows a list forever
        # is stopped there and told apart (the original, checked under the
        # same cap first, is not).
        seconds = PY_TIME_FACTOR * (time.monotonic() - started) + PY_TIME_SLACK_S
        base = _address_space()
        memory = base + PY_EXTRA_MEMORY if base and resource is not None else 0
        if _replay_capped(source, probes, expected, seconds, memory):
            raise RuntimeError("the original validate.py fails its own replay under the cap: "
                               f"raise PY_TIME_FACTOR ({PY_TIME_FACTOR}) or PY_EXTRA_MEMORY")
        return {ident: _replay_capped(text, probes, expected, seconds, memory)
                for ident, text in python_mutants(source)[::every]}


PY_TIME_FACTOR = 20
PY_TIME_SLACK_S = 10.0
PY_EXTRA_MEMORY = 2 << 30


def _address_space() -> int:
    """This process's virtual size (what RLIMIT_AS caps), 0 if unknown."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _replay(text: str, probes: Sequence["gc.Probe"], expected: Sequence[Any]) -> bool:
    """Whether the probes tell validate.py's text apart from the original."""
    try:
        module = _load(text)
    except Exception:
        return True   # does not even load
    return any(_safe_observe(module, probe) != want for probe, want in zip(probes, expected))


def _replay_capped(text: str, probes: Sequence["gc.Probe"], expected: Sequence[Any],
                   seconds: float, memory: int) -> bool:
    """_replay in a child process limited to ``seconds`` and ``memory``
    bytes of address space (memory 0: no limit); past either, told apart.
    Inline where there is no fork()."""
    if not hasattr(os, "fork"):
        return _replay(text, probes, expected)
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() beside other threads (the test
        # suite's faulthandler watchdog): the child only replays and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:   # the child: its exit status is the answer
        status = 2
        try:
            if memory:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            status = int(_replay(text, probes, expected))
        finally:
            os._exit(status)
    deadline = time.monotonic() + seconds
    while True:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            # 0: the same answers; 1: different ones; anything else (out of
            # memory outside Python code, a signal): told apart too.
            return os.waitstatus_to_exitcode(wait_status) != 0
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return True
        time.sleep(0.01)


# -- C mutants -----------------------------------------------------------

C_FILES = {"mochijson.c": None, "header.c": {"jp_header_decode"}}
C_SKIP_FUNCS = {"put", "put_byte", "put_u_escape", "put_char", "jp_json_out_bound",
                "jp_json_scan", "fail"}
_CMP = re.compile(r"(?<![<>=!\-])(==|!=|<=|>=|<|>)(?![<>=])")
_FLIP_C = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_SHIFT_C = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
_CONST = re.compile(r"(?<![\w.])(0x[0-9a-fA-F]+|\d+|'(?:\\.|[^'\\])')(?![\w.'])")
_FUNC = re.compile(r"^(?:static\s+)?(?:inline\s+)?[\w\s\*]+?\b(\w+)\s*\(")


def _functions(lines: List[str]) -> List[Optional[str]]:
    """The C function each line belongs to (None outside functions)."""
    owner: List[Optional[str]] = []
    current, depth = None, 0
    for line in lines:
        if depth == 0:
            m = _FUNC.match(line)
            if m and not line.rstrip().endswith(";"):
                current = m.group(1)
        depth += line.count("{") - line.count("}")
        owner.append(current if depth > 0 or "{" in line or "}" in line else None)
        if depth == 0 and "}" in line:
            current = None
    return owner


def _code_part(line: str) -> Tuple[str, str]:
    """(code, trailing comment) of a line; block comments are skipped."""
    at = line.find("/*")
    return (line, "") if at < 0 else (line[:at], line[at:])


def c_mutants(name: str, text: str) -> List[Tuple[str, str]]:
    lines = text.splitlines()
    owners = _functions(lines)
    wanted = C_FILES[name]
    out: List[Tuple[str, str]] = []
    seen: Dict[str, int] = {}
    in_comment = False

    def emit(i: int, new_line: str, desc: str) -> None:
        mutated = lines[:i] + [new_line] + lines[i + 1:]
        ident = _unique(f"c:{name}:{owners[i]}:{lines[i].strip()}:{desc}", seen)
        out.append((ident, "\n".join(mutated) + "\n"))

    for i, line in enumerate(lines):
        stripped = line.strip()
        if in_comment:
            in_comment = "*/" not in line
            continue
        if stripped.startswith("/*"):
            in_comment = "*/" not in line
            continue
        func = owners[i]
        if stripped.startswith("#") or func is None or func in C_SKIP_FUNCS:
            if name == "mochijson.c" and line.startswith("static const uint8_t is_ws_byte"):
                for ws in ("'\\t'", "'\\n'", "'\\r'", "' '"):
                    emit(i, line.replace(f"[{ws}] = 1", f"[{ws}] = 0"), f"ws drop {ws}")
                for ws in ("'\\f'", "'\\v'", "0xa0", "0"):
                    emit(i, line.replace("};", f", [{ws}] = 1}};"), f"ws add {ws}")
            continue
        if wanted is not None and func not in wanted:
            continue
        code, comment = _code_part(line)
        for m in _CMP.finditer(code):
            op = m.group(1)
            for table, kind in ((_FLIP_C, "flip"), (_SHIFT_C, "shift")):
                if op in table:
                    new = code[:m.start()] + table[op] + code[m.end():]
                    emit(i, new + comment, f"{kind} {op}->{table[op]} @{m.start()}")
        if _CMP.search(code) or "return" in code:
            for m in _CONST.finditer(code):
                for delta in ("-1", "+1"):
                    new = code[:m.start()] + f"({m.group(1)}{delta})" + code[m.end():]
                    emit(i, new + comment, f"const {m.group(1)}{delta} @{m.start()}")
        for op, other in (("&&", "||"), ("||", "&&")):
            for m in re.finditer(re.escape(op), code):
                emit(i, code[:m.start()] + other + code[m.end():] + comment,
                     f"{op}->{other} @{m.start()}")
        m = re.match(r"(\s*(?:\}\s*else\s+)?if\s*)\((.*)\)(\s*\{?\s*)$", code)
        if m and code.count("(") == code.count(")"):
            emit(i, f"{m.group(1)}(!({m.group(2)})){m.group(3)}{comment}", "negate if")
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if "return fail" in nxt or "return 0" in nxt or "return JP_ERR" in nxt:
                emit(i, f"{m.group(1)}(0 && ({m.group(2)})){m.group(3)}{comment}", "drop check")
        cm = re.match(r"(\s*)case '(.{1,2})': simple = .*", code)
        if cm:
            emit(i, f"{cm.group(1)}/* case dropped */", f"drop escape {cm.group(2)}")
    if name == "mochijson.c":
        # Bytes of the copies-as-is table, one at a time: 0x20 (first
        # printable), 0x21, 0x22 ("), 0x5c (\), 0x7e, 0x7f, 0x1f, 0x80.
        start = next(i for i, l in enumerate(lines) if "copies_as_is[256] = {" in l)
        rows = [start + 2 + r for r in range(8)]
        for byte in (0x1F, 0x20, 0x21, 0x22, 0x5C, 0x7E, 0x7F, 0x80, 0xC3):
            row, col = rows[byte // 32], byte % 32
            cells = lines[row].split(",")
            first = cells[col].strip()
            cells[col] = cells[col].replace(first, "1" if first == "0" else "0")
            emit(row, ",".join(cells), f"table byte 0x{byte:02x}")
    return out


def run_c(cases: Sequence[Any], every: int = 1) -> Dict[str, bool]:
    if shutil.which("gcc") is None:
        raise RuntimeError("gcc is needed for the C mutants")
    results: Dict[str, bool] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        records = tmp / "records.bin"
        gc.write_records(cases, records)
        base = tmp / "base"
        base.mkdir()
        expected = gc.run_driver(gc.build_driver(base, {}, SANITIZE), records)
        mutants = [(name, ident, text) for name in C_FILES
                   for ident, text in c_mutants(name, (gc.CSRC / name).read_text())]
        for n, (name, ident, text) in enumerate(mutants[::every]):
            work = tmp / f"m{n}"
            work.mkdir()
            src = work / name
            src.write_text(text)
            try:
                exe = _relink(base, work, name, src)
            except subprocess.CalledProcessError:
                results[ident] = True   # does not compile: not a mutant worth counting
                continue
            try:
                got = gc.run_driver(exe, records, timeout=20)
            except (RuntimeError, subprocess.TimeoutExpired):
                got = None   # crashed or hung: told apart
            results[ident] = got != expected
            shutil.rmtree(work)
    return results


# Built as the fuzz targets are: a mutant that reads a byte outside the
# pack (a bound shifted by one) stops with a sanitizer report, told apart,
# when the draw has a section that ends where it reads on.
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all")


def _relink(base: Path, work: Path, name: str, src: Path) -> Path:
    obj = work / (Path(name).stem + ".o")
    subprocess.run(["gcc", "-std=c99", "-O0", "-w", f"-I{gc.CSRC}", *SANITIZE, "-c", str(src),
                    "-o", str(obj)], check=True, capture_output=True)
    objects = [str(obj) if p.name == obj.name else str(p) for p in sorted(base.glob("*.o"))]
    exe = work / "replica_replay"
    subprocess.run(["gcc", *SANITIZE, *objects, "-o", str(exe)], check=True, capture_output=True)
    return exe


# -- report --------------------------------------------------------------

def score(results: Dict[str, bool]) -> Tuple[int, int, List[str], List[str]]:
    """(killed, counted, survivors listed as equivalent, unexplained survivors)."""
    equivalent = [m for m, killed in results.items() if not killed and
                  m in EQUIVALENT]
    unexplained = [m for m, killed in results.items() if not killed and m not in equivalent]
    killed = sum(results.values())
    return killed, len(results) - len(equivalent), equivalent, unexplained


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=gc.COUNT)
    parser.add_argument("--seed", type=int, default=gc.SEED)
    parser.add_argument("--only", choices=("py", "c"))
    parser.add_argument("--every", type=int, default=1, help="every K-th mutant only")
    parser.add_argument("--min-score", type=float, default=0.95)
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    args = parser.parse_args(argv)
    if args.list:
        source = Path(importlib.import_module("jobpack.validate").__file__).read_text()
        for ident, _ in python_mutants(source):
            print(ident)
        for name in C_FILES:
            for ident, _ in c_mutants(name, (gc.CSRC / name).read_text()):
                print(ident)
        return 0
    cases = gc.draw(args.count, args.seed)
    print(f"draw: {len(cases)} packs (count {args.count}, seed {args.seed})")
    status = 0
    for part, run in (("py", run_python), ("c", run_c)):
        if args.only not in (None, part):
            continue
        results = run(cases, args.every)
        killed, counted, equivalent, unexplained = score(results)
        ratio = killed / counted if counted else 1.0
        print(f"{part}: {len(results)} mutants, {killed} killed, {len(equivalent)} equivalent, "
              f"{len(unexplained)} survived: score {killed}/{counted} = {100 * ratio:.1f}%")
        for ident in equivalent:
            print(f"  equivalent {ident}\n      {EQUIVALENT[ident]}")
        for ident in unexplained:
            print(f"  SURVIVED {ident}")
        if ratio < args.min_score or unexplained:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
