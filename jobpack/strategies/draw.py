"""A fixed-size, seeded draw of labelled packs, outside any test.

``labelled_draw(count, seed)`` runs the strategies through Hypothesis'
generation phase with a fixed seed, so the same seed (and Hypothesis
version) gives the same packs: the corpus command writes them to disk, the
differential driver feeds them to another reader, and the generator-power
tests (branch coverage, mutation score) replay them through our replica of
the master.
"""
import contextlib
import functools
import warnings
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from . import malformed, strict, varied
from .malformed import MALFORMED_KINDS, malformed_jobpacks
from .strict import STRICT_CODES, strict_violations
from .valid import packed_jobpacks
from .varied import varied_jobpacks

__all__ = ["Case", "KINDS", "labelled_draw", "case_strategy", "sweep"]

KINDS = ("valid", "malformed", "strict")


@dataclass(frozen=True)
class Case:
    """One drawn pack and what the master says about it.

    ``kind`` is ``valid`` (the master and strict mode accept it), ``malformed``
    (the master rejects it with ``code``) or ``strict`` (the master accepts
    it, strict mode rejects it with ``code``).  One strict case of the
    sweep nests past jobpack's limit: ``code`` ``json_too_deep``, which
    ``validate`` reports even without strict, marked ``beyond_master``."""

    data: bytes
    kind: str
    code: Optional[str]

    @property
    def master_accepts(self) -> bool:
        return self.kind != "malformed"


def _valid() -> st.SearchStrategy[Tuple[bytes, Optional[str]]]:
    return st.one_of(packed_jobpacks(), varied_jobpacks()).map(lambda data: (data, None))


# Each kind's share is split equally between its families (a malformed kind,
# a strict code), so a family with many shapes does not crowd out the rest.
_FAMILIES: Dict[str, List[Callable[[], st.SearchStrategy[Tuple[bytes, Optional[str]]]]]] = {
    "valid": [_valid],
    "malformed": [functools.partial(malformed_jobpacks, k) for k in MALFORMED_KINDS],
    "strict": [functools.partial(strict_violations, k) for k in STRICT_CODES],
}


def _labelled(kind: str, family: Callable[[], st.SearchStrategy[Tuple[bytes, Optional[str]]]]
              ) -> st.SearchStrategy[Case]:
    return family().map(lambda pair: Case(pair[0], kind, pair[1]))


def case_strategy(kinds: Sequence[str] = KINDS) -> st.SearchStrategy[Case]:
    """Labelled packs of the given kinds (see Case)."""
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in _FAMILIES]
    if not kinds or unknown:
        raise InvalidArgument(f"kinds must be among {', '.join(KINDS)}, found {list(kinds)}")
    return st.one_of([_labelled(k, family) for k in kinds for family in _FAMILIES[k]])


def sweep(kinds: Sequence[str] = KINDS) -> List[st.SearchStrategy[Case]]:
    """One strategy per production of every table and every fault of every
    family (malformed.sweep, strict.sweep, varied.sweep, strict.valid_sweep,
    varied.long_integer_sweep, strict.late_sweep), of the kinds, taking the kinds in turn so
    that a short prefix has each of them."""
    lists: List[List[st.SearchStrategy[Case]]] = []
    if "valid" in kinds:
        lists.append([s.map(lambda data: Case(data, "valid", None))
                      for s in varied.sweep() + strict.valid_sweep()])
    if "malformed" in kinds:
        lists.append([s.map(lambda pair: Case(pair[0], "malformed", pair[1]))
                      for _, s in malformed.sweep()])
    if "strict" in kinds:
        lists.append([s.map(lambda pair: Case(pair[0], "strict", pair[1]))
                      for _, s in strict.sweep()])
    out: List[st.SearchStrategy[Case]] = []
    for i in range(max(map(len, lists), default=0)):
        out += [items[i] for items in lists if i < len(items)]
    # Added later, after all the others so that those keep their places
    # (labelled_draw seeds each by its place; the valid list is shorter than
    # the malformed one, so a pack added to it would move the malformed
    # ones after it).
    if "valid" in kinds:
        out += [s.map(lambda data: Case(data, "valid", None))
                for s in varied.long_integer_sweep()]
    if "strict" in kinds:
        out += [s.map(lambda pair: Case(pair[0], "strict", pair[1]))
                for _, s in strict.late_sweep()]
    return out


def labelled_draw(count: int, seed: int, kinds: Sequence[str] = KINDS) -> List[Case]:
    """``count`` labelled packs drawn with ``seed``: first one pack per
    production and fault (``sweep``, as many as fit), then random packs in
    equal shares of each kind (in ``kinds`` order).  The same list for the
    same arguments and Hypothesis version.  Duplicates are dropped, so the
    list can be a little shorter than ``count``."""
    if count < 0:
        raise ValueError(f"count must be >= 0, found {count}")
    case_strategy(kinds)  # checks kinds
    cases: List[Case] = []
    seen: Set[bytes] = set()
    for i, strategy in enumerate(sweep(kinds)[:count]):
        _collect(strategy, 1, seed * 100003 + i, cases, seen, skip=1)
    count -= len(cases)
    families = [(k, family) for k in kinds for family in _FAMILIES[k]]
    for i, kind in enumerate(kinds):
        share = count // len(kinds) + (i < count % len(kinds))
        mine = [family for k, family in families if k == kind]
        for j, family in enumerate(mine):
            n = share // len(mine) + (j < share % len(mine))
            if n:
                _collect(_labelled(kind, family), n,
                         seed * 1000 + KINDS.index(kind) * 100 + j, cases, seen)
    return cases


def _collect(strategy: st.SearchStrategy[Case], count: int, seed: int,
             cases: List[Case], seen: Set[bytes], skip: int = 0) -> None:
    """Add count new cases drawn with seed; the first ``skip`` drawn are
    used only if the later ones do not fill the count (Hypothesis draws its
    simplest example first, the same for every seed)."""
    drawn: List[Case] = []
    with _no_local_constants(), warnings.catch_warnings():
        # Hypothesis' case cache compares tuples of choices mixing bytes and
        # ints on a hash collision: harmless, but an error under python -bb.
        warnings.simplefilter("ignore", BytesWarning)
        _run(strategy, count + skip, seed, drawn)
    added = 0
    for case in drawn[skip:] + drawn[:skip]:
        if added < count and case.data not in seen:
            seen.add(case.data)
            cases.append(case)
            added += 1


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Recent Hypothesis versions sometimes draw constants found in the
    source of the caller's local modules (those in sys.modules, outside
    site-packages): the draw would then depend on what else the process has
    imported.  Hide them while drawing, so a seed gives the same packs from
    a script, a test run or the command line."""
    try:
        from hypothesis.internal.conjecture import providers
        # Hypothesis internal: Constants is not re-exported by providers.
        empty = providers.Constants()  # type: ignore[attr-defined]
        original = providers._get_local_constants
        cache = providers.CONSTANTS_CACHE.cache   # holds pools built with them
    except (ImportError, AttributeError):  # a version without the feature
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


def _run(strategy: st.SearchStrategy[Case], examples: int, seed: int,
         drawn: List[Case]) -> None:
    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck),
              derandomize=False)
    @given(strategy)
    def collect(case: Case) -> None:
        drawn.append(case)

    collect()
