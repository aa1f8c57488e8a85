"""``@record``: the part of ``@dataclass`` the classes every command opens use (an ``__init__``
of the annotated fields in order, with defaults and ``field(default_factory=...)``; ``__eq__``
over the fields, hence unhashable; ``__repr__``), without importing ``dataclasses``.

Importing ``dataclasses`` brings ``inspect`` (ast, dis, tokenize...), and building a class with
it is a few hundred microseconds more: together about a fifth of a shell-prompt query's time
(``f5quilt top`` on each prompt line). ``Settings``, ``Workspace``, ``Series`` and ``SeriesEntry``
are records; mypy reads them as dataclasses (``dataclass_transform``). Anything more
(``replace``, ``asdict``, frozen, ordering) is ``dataclasses``' job.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing only for mypy: a shell-prompt query's start-up imports none
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, TypeVar, dataclass_transform

    T = TypeVar("T")
else:  # mypy reads typing's dataclass_transform; the program needs none
    def dataclass_transform(**kwargs):
        return lambda decorated: decorated


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], Any]) -> Any:
    """A field whose default is made anew for each instance (``dataclasses.field``'s
    ``default_factory``)."""
    return _Factory(default_factory)


_NO_DEFAULT = object()


@dataclass_transform(field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    names = [name for name, note in cls.__dict__.get("__annotations__", {}).items()
             if not str(note).startswith(("ClassVar", "typing.ClassVar"))]
    params: List[str] = []
    body: List[str] = []
    scope: Dict[str, Any] = {"_NO_DEFAULT": _NO_DEFAULT}
    seen_default = False
    for name in names:
        default = cls.__dict__.get(name, _NO_DEFAULT)
        if isinstance(default, _Factory):
            scope[f"_make_{name}"] = default.make
            params.append(f"{name}=_NO_DEFAULT")
            body.append(f"  self.{name} = _make_{name}() if {name} is _NO_DEFAULT else {name}")
            delattr(cls, name)  # as dataclasses does: no class attribute for a made default
            seen_default = True
        elif default is not _NO_DEFAULT:
            scope[f"_default_{name}"] = default
            params.append(f"{name}=_default_{name}")
            body.append(f"  self.{name} = {name}")
            seen_default = True
        else:
            if seen_default:
                raise TypeError(f"non-default field {name!r} follows a default one in {cls.__name__}")
            params.append(name)
            body.append(f"  self.{name} = {name}")
    fields = "".join(f"self.{n}, " for n in names)
    others = "".join(f"other.{n}, " for n in names)
    source = (f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["  pass"]) + "\n"
              f"def __eq__(self, other):\n"
              f"  if other.__class__ is not self.__class__:\n    return NotImplemented\n"
              f"  return ({fields}) == ({others})\n")
    exec(source, scope)  # noqa: S102 - built from the class's own field names, as dataclasses does
    qualname = cls.__qualname__

    def __repr__(self: Any) -> str:
        return f"{qualname}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    for name, function in (("__init__", scope["__init__"]), ("__eq__", scope["__eq__"]), ("__repr__", __repr__)):
        function.__qualname__ = f"{qualname}.{name}"
        setattr(cls, name, function)
    setattr(cls, "__hash__", None)  # equal by value, so unhashable (dataclasses' eq=True)
    setattr(cls, "__match_args__", tuple(names))
    return cls
