"""``StrEnum``: an enum whose members are their string values. Apart from ``errors`` so that
importing an error (every module does) does not import ``enum``: a shell-prompt query's
start-up (fastpath.py) imports neither."""
from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """An enum whose members are their string values (in JSON, f-strings and comparisons),
    so mypy checks statuses while files and output keep the words users read."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
