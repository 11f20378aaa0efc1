"""Decoded JSON values for people: clipped, indented, kept on one line when short."""
import json
import re
from typing import Any, List, Tuple

from .. import dialect
from .escape import inert


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return repr(value)


def _dumps(value: Any, **options: Any) -> str:
    """json.dumps, with each dialect.HugeInt written as its digits: never
    converted to int, which is quadratic in the digits (16 integers of
    100,000 digits took 29 s to print)."""
    texts: List[str] = []
    import secrets  # costly to import (hashlib): only when printing huge ints
    nonce = secrets.token_hex(8)  # so no string in a pack can pose as a placeholder

    def default(item: Any) -> Any:
        if isinstance(item, dialect.HugeInt):
            texts.append(item.text)
            return f"\0{nonce}-{len(texts) - 1}\0"
        return _json_default(item)

    out = json.dumps(value, default=default, **options)
    if texts:
        token = re.compile('"\\\\u0000%s-([0-9]+)\\\\u0000"' % nonce)
        out = token.sub(lambda m: texts[int(m.group(1))], out)
    return out


MAX_SHOWN_DEPTH = 32
WIDTH = 88


def _is_pairs(value: Any) -> bool:
    return bool(value) and all(isinstance(p, tuple) and len(p) == 2 for p in value)


def _clip(value: Any, pairs: bool = False, max_depth: int = MAX_SHOWN_DEPTH) -> Any:
    """A copy of a decoded value with containers nested deeper than
    ``max_depth`` replaced by a note, so that printing never recurses without
    bound.  With ``pairs``, lists of (key, value) tuples (objects decoded
    with pairs=True) become dicts again.  Iterative."""
    root: List[Any] = [None]
    stack: List[Tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        src, parent, key, depth = stack.pop()
        if isinstance(src, (dict, list, tuple)) and depth >= max_depth:
            parent[key] = f"<nested deeper than {max_depth} levels: not shown>"
        elif pairs and isinstance(src, list) and _is_pairs(src):
            new: Any = dict.fromkeys(str(k) for k, _ in src)
            parent[key] = new
            stack.extend((v, new, str(k), depth + 1) for k, v in reversed(src))
        elif isinstance(src, dict):
            new = dict.fromkeys(src)
            parent[key] = new
            stack.extend((v, new, k, depth + 1) for k, v in src.items())
        elif isinstance(src, (list, tuple)):
            new = [None] * len(src)
            parent[key] = new
            stack.extend((v, new, i, depth + 1) for i, v in enumerate(src))
        else:
            parent[key] = src
    return root[0]


def _one_line(value: Any, ascii: bool = False) -> str:
    return _dumps(value, ensure_ascii=ascii)


def _pretty(value: Any, level: int = 0, ascii: bool = False) -> str:
    """Indented JSON, with any array or object that fits on one line kept on
    one line.  ``value`` must be clipped (see _clip)."""
    line = _one_line(value, ascii)
    if len(line) + 2 * level <= WIDTH or not isinstance(value, (dict, list)) or not value:
        return line
    pad = "  " * (level + 1)
    if isinstance(value, dict):
        items = [f"{pad}{_one_line(str(k), ascii)}: {_pretty(v, level + 1, ascii)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    items = [pad + _pretty(v, level + 1, ascii) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"


def _pairs_object_text(pairs: List[List[Any]]) -> str:
    """A JSON object from pairs, keeping repeated keys (as the master does)."""
    if not pairs:
        return "{}"
    lines = [f"  {_one_line(str(k))}: {_pretty(v, 1)}" for k, v in pairs]
    return "{\n" + ",\n".join(lines) + "\n}"


def _short(value: Any, limit: int = 100) -> str:
    """One line for people: at most ``limit`` characters, control characters escaped."""
    text = value if isinstance(value, str) else _one_line(value)
    return inert(text if len(text) <= limit else text[:limit - 3] + "...")
