"""A faster ``__init__`` for the frozen, slotted dataclasses built for every transaction.

The ``__init__`` that ``dataclass(frozen=True)`` writes stores each field with
``object.__setattr__(self, "name", value)``, which looks the slot up by name every time.
:func:`direct_init` gives such a class an ``__init__`` with the same parameters and
defaults that stores each field through its slot descriptor, then calls
``__post_init__`` as before. Nothing else changes: instances stay frozen (assignment
raises ``FrozenInstanceError``), equality, hashing, ordering and ``repr`` are the
dataclass's own. The generated ``__init__`` is kept as ``__dataclass_init__`` so that
tests can compare the two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def direct_init(cls: type[T]) -> type[T]:
    """Class decorator, placed above ``@dataclass(frozen=True, slots=True)``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass")
    namespace: dict[str, Any] = {}
    parameters, body = [], []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init or field.kw_only or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: only plain positional fields are supported")
        namespace[f"_set_{field.name}"] = getattr(cls, field.name).__set__
        if field.default is dataclasses.MISSING:
            parameters.append(field.name)
        else:
            namespace[f"_default_{field.name}"] = field.default
            parameters.append(f"{field.name}=_default_{field.name}")
        body.append(f"    _set_{field.name}(self, {field.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(parameters)}):\n" + "\n".join(body or ["    pass"])
    exec(source, namespace)  # noqa: S102 - built from the class's own field names only
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__dataclass_init__ = cls.__init__  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def slot_constructor(cls: type[T]) -> Callable[..., T]:
    """``make(*fields)``: an instance of the frozen, slotted dataclass ``cls`` with each field
    stored through its slot, as :func:`direct_init`'s ``__init__`` does, without changing the
    class (for classes a layer uses but does not own). ``cls`` must have no ``__post_init__``,
    so that nothing its ``__init__`` would do is skipped."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass without __post_init__")
    names = [field.name for field in dataclasses.fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_cls": cls, "_new": object.__new__}
    body = []
    for name in names:
        namespace[f"_set_{name}"] = getattr(cls, name).__set__
        body.append(f"    _set_{name}(self, {name})")
    source = f"def make({', '.join(names)}):\n    self = _new(_cls)\n" + "\n".join(body) + "\n    return self"
    exec(source, namespace)  # noqa: S102 - built from the class's own field names only
    return namespace["make"]  # type: ignore[no-any-return]
