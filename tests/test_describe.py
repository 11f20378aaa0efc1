"""Problem messages show values through jobpack._describe.describe: repr()
cut to a width, for any decoded value (deep, huge, long).  Small values take
repr itself; the test holds it to the general walk's text."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from jobpack import _describe, dialect
from jobpack._describe import describe


def walk(value, width=60):
    """The general path alone: what describe() gives without its shortcut."""
    text = "".join(_describe._repr_pieces(value))
    return text if len(text) <= width else text[:width - 3] + "..."


leaves = (st.none() | st.booleans() | st.floats(allow_nan=False)
          | st.integers() | st.integers(min_value=2 ** 1990, max_value=2 ** 2010)
          | st.text(max_size=30) | st.sampled_from(["'", '"', "'\"", "\\", "\x00", "\udcff"]))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=6)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=4)
                      | st.lists(inner, max_size=3).map(tuple), max_leaves=80)


@settings(max_examples=examples(300), deadline=None)
@given(values, st.sampled_from([10, 60, 200]))
def test_describe_is_repr_cut_to_the_width(value, width):
    text = describe(value, width)
    assert text == walk(value, width)
    assert len(text) <= width
    if value is not None and not (type(value) is int and value.bit_length() > 2000):
        whole = repr(value)
        assert text == (whole if len(whole) <= width else whole[:width - 3] + "...")


@pytest.mark.parametrize("value", [
    [[0, 0, ["http://a"]]] * 30,               # more nodes than the shortcut takes
    ["x" * 5000],                              # a string longer than it takes
    [2 ** 3000],                               # an int longer than it takes
    [dialect.HugeInt("9" * 5000)],             # a type of its own: its repr, via the walk
    {"a": [1, 2, {"b": (3,)}], "c": ()},
])
def test_values_past_the_shortcut_read_the_same_through_the_walk(value):
    assert describe(value) == walk(value)


def test_deep_and_huge_values_are_described_without_recursion_or_digit_limits():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert describe(deep) == "[" * 57 + "..."
    huge = 10 ** 20_000  # str() refuses it under the default int_max_str_digits
    assert describe(huge) == ("1" + "0" * 56 + "...")
    assert describe("ab'c" * 100, 12) == repr("ab'c" * 100)[:9] + "..."


@pytest.mark.parametrize("huge", [[0] * 1_000_000, dict.fromkeys(range(300_000), 0)],
                         ids=["list", "dict"])
def test_a_huge_container_is_described_by_the_walk(huge):
    assert describe(huge) == walk(huge)


@pytest.mark.parametrize("huge", [[0] * 1_000_000, dict.fromkeys(range(300_000), 0)],
                         ids=["list", "dict"])
def test_a_huge_container_is_not_copied_to_be_described(huge):
    tracemalloc = pytest.importorskip("tracemalloc", reason="PyPy has no tracemalloc to measure with")
    tracemalloc.start()
    try:
        describe(huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000, peak  # the walk stops at the width; nothing is copied
