"""Decimal text <-> int beyond Python's int/str digit limit (4300 by default).

CPython's C ``decimal`` converts without the limit, in near-linear time.
Where ``decimal`` is the pure-Python one (PyPy), it goes through ``str()``
and hits the limit, so the conversion falls back to splitting the number
into pieces short enough for ``int()``/``str()`` under any limit Python
allows (640 digits at least).  Never touches the process-wide limit.
"""
import functools

_PIECE = 600  # digits; the lowest limit sys.set_int_max_str_digits accepts is 640


@functools.lru_cache(maxsize=64)
def _ten_to(k: int) -> int:
    power: int = 10 ** k  # int ** int is Any to mypy (a negative k gives a float)
    return power


def int_to_text(value: int) -> str:
    """The decimal digits of any int, as ``str()`` writes it without a limit."""
    import decimal  # rarely needed; not at import time
    try:
        return format(decimal.Decimal(value), "f")
    except ValueError:  # pure-Python decimal: str() inside, limited
        pass
    sign = "-" if value < 0 else ""
    return sign + _digits(abs(value), 0)


def _digits(n: int, width: int) -> str:
    """n >= 0 in decimal, left-padded with zeros to width."""
    if n < _ten_to(_PIECE):  # str() takes it; and each split below shrinks n
        return str(n).zfill(width)
    k = max(_PIECE, int(n.bit_length() * 0.30103) // 2)
    high, low = divmod(n, _ten_to(k))
    return _digits(high, max(0, width - k)) + _digits(low, k)


def text_to_int(text: str) -> int:
    """int(text) for a decimal integer literal (optional '-') of any length."""
    import decimal  # rarely needed; not at import time
    try:
        return int(decimal.Decimal(text))
    except ValueError:  # pure-Python decimal: int(str) inside, limited
        pass
    negative = text.startswith("-")
    value = _value(text[1:] if negative else text)
    return -value if negative else value


def _value(digits: str) -> int:
    if len(digits) <= _PIECE:
        return int(digits)
    k = len(digits) // 2
    return _value(digits[:-k]) * _ten_to(k) + _value(digits[-k:])
