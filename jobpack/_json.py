"""JSON sections: written as Disco writes them, read back as standard JSON
or, failing that, as the master reads them (``jobpack.dialect``)."""
import decimal
import json
import math
import secrets
from typing import Any, Dict

from . import dialect, errors


class _HugeInts:
    """json.dumps ``default`` that writes long integers as their digits.

    Python's int -> str refuses more than 4300 digits (and is quadratic), so
    long ints and dialect.HugeInt go out as placeholder strings, replaced by
    their digits after encoding: the bytes are what Disco's json.dumps writes."""

    def __init__(self):
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
    # Decimal formatting of an int is not subject to int_max_str_digits.
    return format(decimal.Decimal(value), "f")


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
        raise errors.EncodeError(f"{name} cannot be encoded as JSON: {e}; "
                                 f"convert it to dicts, lists, str, int, float, bool or None") from None
    except RecursionError:
        raise errors.EncodeError(f"{name} is nested too deeply to encode") from None


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
    try:
        return _STANDARD_JSON.decode(bytes(section).decode("utf-8"))
    except (ValueError, RecursionError):
        # Not UTF-8, not standard, too deep or too long an int for Python's
        # json: the master's reading decides.
        return dialect.loads(section, name=name, base_offset=base)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise ValueError(f"{text} overflows a double")
    return value


# Standard JSON limited to what dumps() writes: no NaN or Infinity, and no
# float that overflows (it would load as inf, which dumps() refuses).
_STANDARD_JSON = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


