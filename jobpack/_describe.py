"""``describe(value)``: a decoded JSON value as a problem message shows it.

It is ``repr(value)`` cut to a width, for any value the decoders give:
nested 100,000 deep (repr would overflow the stack), integers of a million
digits (``str()`` refuses them past ``int_max_str_digits``, and converting
them is quadratic), strings of a gigabyte.  Most values in messages are
small (``[0, 0]``, ``'dd'``), and for those ``repr`` itself gives the same
text several times faster than the general walk, so they take it.
"""
from typing import Any, Iterator, Optional

__all__ = ["describe"]

# A value repr may render whole: at most this many nodes, strings of at most
# this many characters, integers of at most this many bits (under any digit
# limit: CPython's lowest is 640 digits, over 2,000 bits).
_SMALL_NODES = 64
_SMALL_STRING = 1024
_SMALL_INT_BITS = 2000
_PLAIN_LEAVES = (bool, float, type(None))


def describe(value: Any, width: int = 60) -> str:
    """repr(value), cut to ``width`` characters (ending in "...")."""
    text = _small_repr(value)
    if text is None:
        pieces, size = [], 0
        for piece in _repr_pieces(value):
            pieces.append(piece)
            size += len(piece)
            if size > width:
                break
        text = "".join(pieces)
    return text if len(text) <= width else text[:width - 3] + "..."


def _small_repr(value: Any) -> Optional[str]:
    """repr(value) if the value is small and plain (what _repr_pieces would
    give, all of it), else None."""
    if type(value) is str:
        return repr(value)  # _repr_pieces too renders a lone string whole
    nodes, stack = 0, [value]
    while stack:
        item = stack.pop()
        nodes += 1
        kind = type(item)
        if kind is list or kind is tuple:
            # Counted before they are copied: a list of ten million items
            # must cost no more than a small one.
            if nodes + len(stack) + len(item) > _SMALL_NODES:
                return None
            stack.extend(item)
        elif kind is dict:
            if nodes + len(stack) + 2 * len(item) > _SMALL_NODES:
                return None
            stack.extend(item.keys())
            stack.extend(item.values())
        elif kind is str:
            if len(item) > _SMALL_STRING:
                return None
        elif kind is int:
            if item.bit_length() > _SMALL_INT_BITS:
                return None
        elif kind not in _PLAIN_LEAVES:
            return None  # HugeInt and other types: their own repr, through the walk
    return repr(value)


def _repr_pieces(value: Any) -> Iterator[str]:
    """The pieces of repr(value) in order, without recursion."""
    stack = [_repr_parts(value)]
    while stack:
        part = next(stack[-1], None)
        if part is None:
            stack.pop()
        elif isinstance(part, str):
            yield part
        else:
            stack.append(_repr_parts(part[0]))


def _repr_parts(value: Any) -> Iterator[Any]:
    """The pieces of one value's repr: strings, and (child,) for a nested
    value whose pieces come next."""
    if isinstance(value, (list, tuple)):
        yield "[" if isinstance(value, list) else "("
        for i, item in enumerate(value):
            yield ", " if i else ""
            yield (item,)
        yield "]" if isinstance(value, list) else ("," if len(value) == 1 else "") + ")"
    elif isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield ", " if i else ""
            yield (key,)
            yield ": "
            yield (item,)
        yield "}"
    elif type(value) is int:
        yield int.__repr__(value) if value.bit_length() <= _SMALL_INT_BITS else _long_int_text(value)
    else:
        yield repr(value)


def _long_int_text(value: int) -> str:
    from ._bigint import int_to_text  # rarely needed; not at import time
    return int_to_text(value)
