"""What every command shares: verbosity options and the opened workspace."""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, TypeVar

import click

from f5quilt.errors import F5QuiltError
from f5quilt.output import NORMAL, Reporter
from f5quilt.repo.layout import unsettled
from f5quilt.repo.settings import Dialect, load_settings
from f5quilt.repo.workspace import Workspace
from .options import verbosity as verbosity  # declared there; commands once imported it here

F = TypeVar("F", bound=Callable[..., Any])


def _lock(directory: Path) -> None:
    import fcntl

    if not directory.is_dir():
        return
    ctx = click.get_current_context(silent=True)
    if ctx is not None and getattr(ctx, "_f5quilt_locked", None) == directory:
        return  # this command holds it already (status, check over several upstreams)
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise F5QuiltError(f"another f5quilt command is working on {directory}; try again when it ends") from None
    if ctx is not None:
        setattr(ctx, "_f5quilt_locked", directory)
        ctx.call_on_close(lambda: os.close(fd))  # closing the descriptor releases the lock


# quilt's commands that run without a series file (quilt sets skip_series_check in them)
_NO_SERIES_NEEDED = {"new", "import", "setup", "upgrade"}
_QUILT_COMMANDS = {"add", "annotate", "applied", "delete", "diff", "edit", "files", "fold", "fork", "graph",
                   "grep", "header", "mail", "next", "patches", "pop", "previous", "push", "refresh",
                   "remove", "rename", "revert", "series", "snapshot", "top", "unapplied"}


# quilt 0.68 checks the series against .pc/applied-patches in every command but these
_NO_CONSISTENCY_CHECK = {"pop", "setup", "upgrade"}
ALTERED_SERIES = "The series file no longer matches the applied patches. Please run 'quilt pop -a'."


def _quilt_consistency_check(ws: Workspace) -> None:
    """Quilt mode: quilt 0.68's check that the series file still matches the applied patches
    (patchfns' consistency_check). Without quilt's mtime shortcut (the series file newer than
    applied-patches), which a pop defeats: checking costs two lists already read."""
    ctx = click.get_current_context(silent=True)
    command = ctx.info_name if ctx is not None else None
    if (ws.settings.dialect is Dialect.QUILT and command not in _NO_CONSISTENCY_CHECK
            and command in _QUILT_COMMANDS | _NO_SERIES_NEEDED | {"goto"} and ws.series_altered()):
        raise F5QuiltError(ALTERED_SERIES)


def _quilt_series_check(settings: Any) -> None:
    """Quilt mode: quilt's commands stop at once without a series file, as quilt does."""
    ctx = click.get_current_context(silent=True)
    command = ctx.info_name if ctx is not None else None
    if settings.dialect is Dialect.QUILT and command in _QUILT_COMMANDS and not settings.series.is_file():
        raise F5QuiltError("No series file found")


class Context:
    argv: List[str] = []
    upstream: Optional[str] = None  # the group's -u NAME
    quiltrc: Optional[Dict[str, str]] = None  # quilt mode: the quiltrc main() read, for the settings
    @staticmethod
    def reporter_for_errors() -> Reporter:
        return Reporter(NORMAL, out=sys.stderr, err=sys.stderr)

    @staticmethod
    def workspace(cwd: Optional[Path] = None, repair: bool = True, stale_tree: str = "warn") -> Workspace:
        """The workspace; first, unless ``repair`` is off (check writes nothing),
        finish or undo what a killed command left, so every command sees a sound state.

        Commands that repair may write, so they also take an exclusive lock
        (flock on the repository root, or on the tree without settings; no
        file is created for it) until the command ends: a second f5quilt on
        the same tree is refused instead of interleaving its writes.

        A tree built from another pin than the settings name is said in one
        line (``stale_tree="warn"``), refused (``"refuse"``: push), or left to
        the command (``"ignore"``: upstream fetch --replace)."""
        settings = load_settings(cwd, upstream=Context.upstream, quiltrc=Context.quiltrc)
        if repair:
            _lock(settings.settings_file.parent if settings.settings_file else settings.tree)
            if settings.settings_file is None:  # an init killed before its f5quilt.yaml appeared
                from f5quilt.repo.workspace import repair_without_settings
                command = repair_without_settings((cwd or Path.cwd()).resolve())
                if command:  # something was repaired: the transaction layer is loaded already
                    from f5quilt.repo.transaction import Quarantined
                    Context.reporter_for_errors().warn(
                        command if isinstance(command, Quarantined) else
                        f"Rolled back an interrupted `f5quilt {command}`: everything is as it was before it")
        _quilt_series_check(settings)
        ws = Workspace.open(settings)
        if repair and unsettled(ws.state_dir):
            # imported only then: pushpop brings the engine, which a query does not need
            from f5quilt.ops.pushpop import recover
            recover(ws, Context.reporter_for_errors())
            ws = Workspace.open(ws.settings)
        ws.command_line = " ".join(Context.argv)
        _quilt_consistency_check(ws)
        if stale_tree != "ignore":
            stale = ws.tree_mismatch()
            if stale and stale_tree == "refuse":
                raise F5QuiltError(stale)
            if stale:
                Context.reporter_for_errors().warn(f"warning: {stale}")
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
