"""A structure-aware mutator for fuzzing readers of job packs: the C core's
``jp_mutate`` (csrc/mutate.c), for atheris' ``custom_mutator`` or any
fuzzer that asks for the next input."""
from typing import TYPE_CHECKING

from ._core import _as_c_buffer
from ._native import ffi, lib

if TYPE_CHECKING:
    from typing_extensions import Buffer

# The output buffer is max_size bytes, but no bigger than this much room
# beyond the input: an edit that does not fit is skipped, so a huge
# max_size (atheris passes libFuzzer's -max_len) costs no huge allocation.
_HEADROOM = 65536
_SEED_MASK = (1 << 64) - 1


def mutate(data: "Buffer", seed: int, max_size: int) -> bytes:
    """A mutant of ``data`` at most ``max_size`` bytes long.

    Edits a job pack at its own level: sections resized or moved with the
    header's offsets rewritten, or an offset set at a boundary (equal to its
    neighbour, one off, past the end); JSON tokens in the master's dialect
    (trailing commas, literals, number forms, raw control bytes and odd
    UTF-8, keys duplicated, dropped or given another type); the job home's
    ZIP entries and central directory.  A bare ZIP archive or JSON text is
    edited as such, and anything else byte by byte.  The same
    ``(data, seed, max_size)`` always gives the same mutant; any int is a
    seed (taken modulo 2**64).  Never raises for any bytes."""
    if max_size < 0:
        raise ValueError(f"max_size must be 0 or more, not {max_size}")
    cin = _as_c_buffer(data)
    n = len(cin) if type(cin) is bytes else ffi.sizeof(cin)
    cap = min(max_size, n + _HEADROOM)
    out = ffi.new("uint8_t[]", max(cap, 1))
    out_len = ffi.new("size_t *")
    lib.jp_mutate(cin, n, out, cap, seed & _SEED_MASK, out_len)
    return ffi.buffer(out, out_len[0])[:]
