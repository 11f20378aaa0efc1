"""``record``: ``dataclasses.dataclass`` for jobpack's plain records, without
importing ``dataclasses``.

Importing ``dataclasses`` (it imports ``inspect``, ``ast``, ``dis``...) and
running its decorator (it compiles each class's methods with ``exec``) cost
about half of a bare Python start-up, for a few small classes (PackView,
Problem, the ZIP scan's records; JobPack is a plain class of its own, for
Disco's semantics): that was most of ``import jobpack``.  ``record`` gives the same class: ``__init__`` from
the annotated fields and their defaults (unless the class writes its own),
``__repr__``, ``__eq__``, and with ``frozen=True`` ``__hash__`` and fields
that cannot be assigned.  Type checkers see ``dataclasses.dataclass``.
"""
from typing import TYPE_CHECKING, Any, Callable, Dict, Tuple, TypeVar

_T = TypeVar("_T")
_MISSING = object()

__all__ = ["record", "FrozenInstanceError"]


class FrozenInstanceError(AttributeError):
    """A field of a frozen record was assigned (as ``dataclasses``' own)."""


def _record(frozen: bool = False) -> Callable[[_T], _T]:
    def wrap(cls: Any) -> Any:
        names = tuple(cls.__dict__.get("__annotations__", {}))
        defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
        cls._fields = names
        # Like dataclass, an __init__ or __repr__ the class writes is kept.
        if "__init__" not in cls.__dict__:
            cls.__init__ = _make_init(names, defaults, frozen)
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = lambda self: "%s(%s)" % (type(self).__qualname__, ", ".join(
                f"{n}={getattr(self, n)!r}" for n in names))

        def __eq__(self: Any, other: Any) -> Any:
            if other.__class__ is not self.__class__:
                return NotImplemented
            return all(getattr(self, n) == getattr(other, n) for n in names)
        cls.__eq__ = __eq__
        if frozen:
            cls.__hash__ = lambda self: hash(tuple(getattr(self, n) for n in names))
            cls.__setattr__ = _refuse
            cls.__delattr__ = _refuse
        else:
            cls.__hash__ = None
        return cls
    return wrap


def _make_init(names: Tuple[str, ...], defaults: Dict[str, Any], frozen: bool) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments, "
                            f"{len(args)} given")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names or key in values:
                raise TypeError(f"{type(self).__name__}() got an unexpected or repeated "
                                f"argument {key!r}")
            values[key] = value
        for name in names:
            if name not in values:
                default = defaults.get(name, _MISSING)
                if default is _MISSING:
                    raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
                values[name] = default
        if frozen:
            object.__setattr__(self, "__dict__", values)
        else:
            self.__dict__.update(values)
    return __init__


def _refuse(self: Any, name: str, *value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    record = _record
