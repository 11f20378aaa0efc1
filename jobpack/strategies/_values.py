"""Building blocks: text, JSON values of a wanted (or unwanted) type, paths, URLs."""
from typing import Any, Literal, Tuple

from hypothesis import strategies as st


MAGIC = 0xD5C0
HEADER_SIZE = 128
GROUPINGS = ("split", "group_label", "group_all", "group_node", "group_node_label")
_KNOWN_KEYS = ("prefix", "owner", "worker", "save_results", "save_info", "scheduler",
               "pipeline", "inputs", "input", "nr_reduces", "map?", "reduce?",
               "reduce_shuffle?")

# Every strategy object below is built once, at import: Hypothesis validates
# a strategy the first time it draws from it, and building new ones inside
# each draw (``jobdicts(worker=...)`` per pack) made drawing ten times slower.

# -- building blocks ----------------------------------------------------

# Text the master reads back as json.dumps (ensure_ascii) wrote it: no lone
# surrogates and no U+FFFE/U+FFFF, whose \u escapes the master refuses.
_NO_SURROGATES: Tuple[Literal["Cs"]] = ("Cs",)
_chars = st.characters(exclude_categories=_NO_SURROGATES, exclude_characters="\ufffe\uffff")


def _text(min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(_chars, min_size=min_size, max_size=max_size)


_TEXT = _text()
_KEY_TEXT = _text(1)
_scalars = (st.none() | st.booleans() | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False) | _TEXT)
_json = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=3)
                     | st.dictionaries(_text(max_size=6), kids, max_size=3), max_leaves=6)


def _json_except(*types: type) -> st.SearchStrategy[Any]:
    """JSON values of none of ``types`` (bool is not int here, as in Erlang)."""
    def ok(v: Any) -> bool:
        return not any(type(v) is t or (t is not int and isinstance(v, t)) for t in types)
    return _json.filter(ok)


# JSON values of a type other than the one a field wants.  A list is also
# an Erlang string (of character codes), so "not a string" excludes lists.
_not_bool = _json_except(bool)
_not_str = _json_except(str, list)
_not_dict = _json_except(dict)
_not_list = _json_except(list)
_not_int = _json_except(int)
_not_text = _json_except(str)
_not_text_or_list = _json_except(str, list)
_not_iodata_leaf = st.one_of(_json_except(str, list, int), st.integers(256),
                             st.integers(max_value=-1))


def _ascii(alphabet: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    # st.text over a short alphabet: from_regex costs seconds to set up.
    return st.text(st.sampled_from(alphabet), min_size=min_size, max_size=max_size)


_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_portable_prefix = st.one_of(st.sampled_from(["WordCount", "job", "test_1"]),
                             _ascii(_ALNUM + "_", 1, 16))

_segment = st.one_of(
    st.sampled_from(["job", "lib", "worker.py", "modules", "util.py"]),
    st.text(st.sampled_from("abcxyzABC019_-.\u00e9\u6f22"), min_size=1, max_size=10)
    .filter(lambda s: not s.startswith(".")))
_WORKER_PATHS = st.one_of(st.sampled_from(["job/worker.py", "worker", "lib/worker.py"]),
                          st.lists(_segment, min_size=1, max_size=3).map("/".join))


def worker_paths() -> st.SearchStrategy[str]:
    """Safe relative paths for a worker or module: ``job/worker.py``, ``a/b``.

    No absolute paths, ``..``, backslashes, drive letters or dot-files (the
    job home's ``.disco`` folder belongs to Disco)."""
    return _WORKER_PATHS


def _urls(*schemes: str) -> st.SearchStrategy[str]:
    host = st.builds("{}{}{}".format, st.sampled_from("abcdefghxyz"),
                     _ascii(_ALNUM[:26] + "0123456789-", 0, 8),
                     st.one_of(st.just(""), st.integers(1, 65535).map(":{}".format)))
    path = _ascii(_ALNUM + "_./-", 0, 16)
    return st.one_of(st.builds("{}://{}/{}".format, st.sampled_from(schemes), host, path),
                     _text(max_size=20))


_URLS = _urls("raw", "http", "disco", "tag", "hdfs", "file")
_V1_URLS = _urls("raw", "http", "disco", "tag", "dir")
_PLAIN_URLS = _urls("raw", "http")

