"""What every command shares: verbosity options and the opened workspace."""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import click

from ..output import NORMAL, QUIET, VERBOSE, Reporter
from ..settings import load_settings
from ..stack import Workspace, recover

F = TypeVar("F", bound=Callable[..., Any])


def verbosity(func: F) -> F:
    """-q/--quiet and -v/--verbose, passed on as ``reporter``."""
    @click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
    @click.option("-v", "--verbose", is_flag=True, help="Print every file and hunk.")
    @functools.wraps(func)
    def wrapper(*args: Any, quiet: bool, verbose: bool, **kwargs: Any) -> Any:
        level = QUIET if quiet else (VERBOSE if verbose else NORMAL)
        return func(*args, reporter=Reporter(level), **kwargs)
    return wrapper  # type: ignore[return-value]


class Context:
    @staticmethod
    def reporter_for_errors() -> Reporter:
        return Reporter(NORMAL, out=sys.stderr, err=sys.stderr)

    @staticmethod
    def workspace(cwd: Optional[Path] = None, repair: bool = True) -> Workspace:
        """The workspace; first, unless ``repair`` is off (check writes nothing),
        finish or undo what a killed command left, so every command sees a sound state."""
        ws = Workspace.open(load_settings(cwd))
        if repair and ws.stack.journal():
            recover(ws, Context.reporter_for_errors())
            ws = Workspace.open(ws.settings)
        return ws
