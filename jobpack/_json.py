"""JSON sections: written as Disco writes them, read back as standard JSON
or, failing that, as the master reads them (``jobpack.dialect``)."""
import json
import math
import re
import secrets
from typing import Any, Dict, List, Set, Tuple

from . import dialect, errors
from ._bigint import int_to_text


class _HugeInts:
    """json.dumps ``default`` that writes long integers as their digits.

    Python's int -> str refuses more than 4300 digits (and is quadratic), so
    long ints and dialect.HugeInt go out as placeholder strings, replaced by
    their digits after encoding: the bytes are what Disco's json.dumps writes."""

    def __init__(self) -> None:
        self.texts: Dict[str, str] = {}
        self.nonce = ""

    def __call__(self, value: Any) -> str:
        if isinstance(value, dialect.HugeInt):
            text = value.text
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        if not self.nonce:
            # Random, so no string in the value can look like a placeholder
            # (substitute() also checks each occurs exactly once).
            self.nonce = secrets.token_hex(16)
        token = f"\0jobpack-int-{self.nonce}-{len(self.texts)}\0"
        self.texts[json.dumps(token)] = text
        return token

    def substitute(self, encoded: str) -> str:
        for token, text in self.texts.items():
            if encoded.count(token) != 1:
                raise ValueError("integer placeholder collision; encode again")
            encoded = encoded.replace(token, text)
        return encoded


def _long_ints_as_huge(value: Any) -> Any:
    """value with ints beyond Python's str() limit wrapped as HugeInt."""
    if type(value) is int:
        return dialect.HugeInt(_int_text(value)) if value.bit_length() > 14000 else value
    if isinstance(value, dict):
        # json.dumps writes an int key as the string of its digits.
        return {(_int_text(k) if type(k) is int and k.bit_length() > 14000 else k):
                _long_ints_as_huge(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_long_ints_as_huge(v) for v in value]
    return value


def _int_text(value: int) -> str:
    # Not str(): it refuses more than int_max_str_digits digits.
    return int_to_text(value)


# Disco's encoding is json.dumps' defaults (", " and ": ", ASCII only, keys in
# insertion order); allow_nan=False because the master cannot read NaN.  One
# shared encoder: json.dumps with any option builds a new one per call.
_ENCODER = json.JSONEncoder(allow_nan=False)


def encode_section(value: Any, name: str) -> bytes:
    try:
        try:
            encoded = _ENCODER.encode(value)
        except (TypeError, ValueError):
            encoded = _encode_with_long_ints(value)  # or the same error again
        return encoded.encode("ascii")
    except ValueError as e:
        hint = (" (NaN and Infinity are not JSON the master reads)"
                if "Out of range float" in str(e) else "")
        raise errors.EncodeError(f"{name} cannot be encoded for the master: {e}{hint}") from None
    except TypeError as e:
        raise errors.EncodeTypeError(f"{name} cannot be encoded as JSON: {e}; "
                                 f"convert it to dicts, lists, str, int, float, bool or None") from None
    except RecursionError:
        return _encode_iterative(value).encode("ascii")


def _encode_iterative(value: Any) -> str:
    """json.dumps(value) with Disco's defaults, without recursion: for
    nesting deeper than the json module's encoder follows (the master and
    loads() read any depth).  Same bytes as json.dumps where both work."""
    out: List[str] = []
    # Work items: a value to encode, or a literal string to emit.  active
    # holds the ids of the containers being written (circular references).
    stack: List[Tuple[Any, Any]] = [(value, None)]
    active: Set[int] = set()
    while stack:
        item, done = stack.pop()
        if done is not None:        # a container is finished
            out.append(item)
            active.discard(done)
            continue
        if isinstance(item, str):
            out.append(_encode_string(item))
        elif item is None:
            out.append("null")
        elif item is True:
            out.append("true")
        elif item is False:
            out.append("false")
        elif isinstance(item, int):
            out.append(int.__repr__(item) if item.bit_length() <= 14000 else _int_text(item))
        elif isinstance(item, float):
            out.append(_float_text(item))
        elif isinstance(item, dialect.HugeInt):
            out.append(item.text)
        elif isinstance(item, (list, tuple, dict)):
            if id(item) in active:
                raise ValueError("Circular reference detected")
            active.add(id(item))
            is_dict = isinstance(item, dict)
            parts: List[Tuple[Any, Any]] = [("}" if is_dict else "]", id(item))]
            members = list(item.items()) if isinstance(item, dict) else list(item)
            for i in range(len(members) - 1, -1, -1):
                if is_dict:
                    key, child = members[i]
                    parts.append((child, None))
                    parts.append((("" if i == 0 else ", ") + _encode_string(_key_text(key)) + ": ",
                                  -1))
                else:
                    parts.append((members[i], None))
                    if i:
                        parts.append((", ", -1))
            parts.append(("{" if is_dict else "[", -1))
            stack.extend(parts)
        else:
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
    return "".join(out)


_encode_string = json.encoder.encode_basestring_ascii


def _float_text(value: float) -> str:
    if value != value or value in (math.inf, -math.inf):
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    return float.__repr__(value)


def _key_text(key: Any) -> str:
    """A dict key as json.dumps writes it (before quoting)."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key) if key.bit_length() <= 14000 else _int_text(key)
    if isinstance(key, float):
        return _float_text(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _encode_with_long_ints(value: Any) -> str:
    """The slow path: ints over str()'s 4300-digit limit and HugeInt."""
    huge = _HugeInts()
    encoder = json.JSONEncoder(allow_nan=False, default=huge)
    try:
        encoded = encoder.encode(value)
    except ValueError as e:
        if "integer string conversion" not in str(e):
            raise
        encoded = encoder.encode(_long_ints_as_huge(value))
    return huge.substitute(encoded)


def decode_section(section: memoryview, name: str, base: int) -> Any:
    """Standard JSON (what dumps() writes) or, failing that, the master's
    dialect; the master's error if neither reads it.  Where both read a
    section they give the same value, so the cheaper one goes first."""
    raw = bytes(section)
    try:
        # A long digit run: Python's int() would refuse it (or, with the
        # digit limit lifted, take quadratic time); the dialect's int
        # conversion bounds both and gives the same value as dialect.loads.
        decoder = _LONG_INT_JSON if _LONG_DIGIT_RUN.search(raw) else _STANDARD_JSON
        return decoder.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        # Not UTF-8, not standard, too deep or too long an int for Python's
        # json: the master's reading decides.
        return dialect.loads(section, name=name, base_offset=base)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise ValueError(f"{text} overflows a double")
    return value


_LONG_DIGIT_RUN = re.compile(rb"[0-9]{%d}" % (dialect.MAX_FAST_INT_DIGITS + 1))

# Standard JSON plus NaN, Infinity and -Infinity, which Disco's json.dumps
# writes (so loads() reads every pack Disco writes; the master and
# master_only=True refuse them, dumps() refuses to write them).  No float
# that overflows: Disco never writes 1e400, and the master refuses it.
_STANDARD_JSON = json.JSONDecoder(parse_float=_finite_float)
_LONG_INT_JSON = json.JSONDecoder(parse_float=_finite_float, parse_int=dialect._parse_int)


