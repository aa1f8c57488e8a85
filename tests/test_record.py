"""f5quilt/record.py's @record behaves as @dataclass does for what Settings, Workspace, Series
and SeriesEntry use of it."""
from __future__ import annotations

import dataclasses
from typing import List

import pytest

from f5quilt.record import field, record


@record
class R:
    name: str
    strip: int = 1
    guards: List[str] = field(default_factory=list)


@dataclasses.dataclass
class D:
    name: str
    strip: int = 1
    guards: List[str] = dataclasses.field(default_factory=list)


def test_record_is_a_dataclass_for_what_f5quilt_uses() -> None:
    r, d = R("x", guards=["+a"]), D("x", guards=["+a"])
    assert repr(r) == repr(d).replace("D(", "R(")
    assert (r.name, r.strip, r.guards) == (d.name, d.strip, d.guards)
    assert R("x") == R("x", 1, []) and R("x") != R("y") and R("x") != R("x", 2)
    assert R("x").__eq__(D("x")) is NotImplemented
    assert R("x").guards is not R("x").guards  # a default made for each instance
    assert "guards" not in R.__dict__ and R.strip == 1  # as dataclasses leaves the class
    with pytest.raises(TypeError):
        hash(R("x"))
    with pytest.raises(TypeError):
        R()  # type: ignore[call-arg]


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="non-default field 'b'"):
        @record
        class Bad:
            a: int = 0
            b: int  # type: ignore[misc]
