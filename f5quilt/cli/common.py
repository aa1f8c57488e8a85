"""What every command shares: verbosity options and the opened workspace."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, TypeVar

import click

from f5quilt.ops.stack.opening import open_workspace
from f5quilt.output import NORMAL, Reporter
from f5quilt.repo.layout import flock
from f5quilt.repo.settings import load_settings
from f5quilt.repo.workspace import Workspace

if TYPE_CHECKING:
    from f5quilt.output import Progress

F = TypeVar("F", bound=Callable[..., Any])


def _lock(directory: Path) -> None:
    ctx = click.get_current_context(silent=True)
    if ctx is not None and getattr(ctx, "_f5quilt_locked", None) == directory:
        return  # this command holds it already (status, check over several upstreams)
    fd = flock(directory)
    if fd is not None and ctx is not None:
        setattr(ctx, "_f5quilt_locked", directory)
        ctx.call_on_close(lambda: os.close(fd))  # closing the descriptor releases the lock


def errors_reporter() -> Reporter:
    """Where the error boundary and repair's notes write: stderr, red/yellow on a terminal."""
    import sys
    return Reporter(NORMAL, out=sys.stderr, err=sys.stderr)


def _command() -> Optional[str]:
    """The name the running command was called by (quilt's checks depend on it)."""
    ctx = click.get_current_context(silent=True)
    return ctx.info_name if ctx is not None else None


def terminal_bar() -> Optional[Progress]:
    """click's progress bar for long loops (pushing under -q, extracting a release), when
    stderr is a terminal; None otherwise. The commands hand it to the renderer and, through
    the workspace, to each Upstream (pip draws its own bar then)."""
    isatty = getattr(sys.stderr, "isatty", None)
    if not (isatty and isatty()):
        return None

    def bar(items: Sequence[object], label: str) -> Iterable[object]:
        with click.progressbar(items, label=label, file=sys.stderr) as shown:
            yield from shown
    return bar


class Context:
    argv: List[str] = []
    upstream: Optional[str] = None  # the group's -u NAME
    quiltrc: Optional[Dict[str, str]] = None  # quilt mode: the quiltrc main() read, for the settings
    @staticmethod
    def reporter_for_errors() -> Reporter:
        return errors_reporter()

    @staticmethod
    def workspace(cwd: Optional[Path] = None, repair: bool = True, stale_tree: str = "warn",
                  records: bool = True) -> Workspace:
        """The workspace; first, unless ``repair`` is off (check writes nothing),
        finish or undo what a killed command left, so every command sees a sound state.

        Commands that repair may write, so they also take an exclusive lock
        (flock on the repository root, or on the tree without settings; no
        file is created for it) until the command ends: a second f5quilt on
        the same tree is refused instead of interleaving its writes.

        A tree built from another pin than the settings name is said in one
        line (``stale_tree="warn"``), refused (``"refuse"``: push), or left to
        the command (``"ignore"``: upstream fetch --replace); ``records=False`` for a
        read-only query (ops/stack/opening.py)."""
        ws = open_workspace(_command(), lock=_lock, argv=Context.argv, cwd=cwd, upstream=Context.upstream,
                            quiltrc=Context.quiltrc, repair=repair, stale_tree=stale_tree, records=records,
                            warn=errors_reporter().warn)
        ws.progress = terminal_bar()
        return ws

    @staticmethod
    def upstreams(cwd: Optional[Path] = None) -> List[Optional[str]]:
        """The upstreams a command that covers them all (check, status) goes over: the one that
        -u or the current directory picks, else every one the settings list."""
        from f5quilt.repo.settings import UndecidedUpstream
        try:
            load_settings(cwd, upstream=Context.upstream, quiltrc=Context.quiltrc)
        except UndecidedUpstream as exc:
            return list(exc.names)
        return [Context.upstream]
