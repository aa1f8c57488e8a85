"""How every command opens its workspace, without click: the settings loaded, the lock
taken, what a killed command left rolled back, quilt's own checks made.

The command line (``cli/common.Context.workspace``) and the shell-prompt fast path
(``f5quilt/fastpath.py``: applied, top, series without click) both open through
``open_workspace``, so a query answers the same whichever path ran it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

from f5quilt.errors import F5QuiltError
from f5quilt.repo.layout import unsettled
from f5quilt.repo.settings import Dialect, Settings, load_settings
from f5quilt.repo.workspace import Workspace, repair_without_settings

# quilt's commands that run without a series file (quilt sets skip_series_check in them)
NO_SERIES_NEEDED = {"new", "import", "setup", "upgrade"}
QUILT_COMMANDS = {"add", "annotate", "applied", "delete", "diff", "edit", "files", "fold", "fork", "graph",
                  "grep", "header", "mail", "next", "patches", "pop", "previous", "push", "refresh",
                  "remove", "rename", "revert", "series", "snapshot", "top", "unapplied"}
# quilt 0.68 checks the series against .pc/applied-patches in every command but these
NO_CONSISTENCY_CHECK = {"pop", "setup", "upgrade"}
ALTERED_SERIES = "The series file no longer matches the applied patches. Please run 'quilt pop -a'."


def quilt_consistency_check(ws: Workspace, command: Optional[str]) -> None:
    """Quilt mode: quilt 0.68's check that the series file still matches the applied patches
    (patchfns' consistency_check). Without quilt's mtime shortcut (the series file newer than
    applied-patches), which a pop defeats: checking costs two lists already read."""
    if (ws.settings.dialect is Dialect.QUILT and command not in NO_CONSISTENCY_CHECK
            and command in QUILT_COMMANDS | NO_SERIES_NEEDED | {"goto"} and ws.series_altered()):
        raise F5QuiltError(ALTERED_SERIES)


def quilt_series_check(settings: Settings, command: Optional[str]) -> None:
    """Quilt mode: quilt's commands stop at once without a series file, as quilt does."""
    if settings.dialect is Dialect.QUILT and command in QUILT_COMMANDS and not settings.series.is_file():
        raise F5QuiltError("No series file found")


def open_workspace(command: Optional[str], *, lock: Callable[[Path], None], argv: Sequence[str] = (),
                   cwd: Optional[Path] = None, upstream: Optional[str] = None,
                   quiltrc: Optional[Dict[str, str]] = None, repair: bool = True,
                   stale_tree: str = "warn", records: bool = True,
                   warn: Callable[[str], None]) -> Workspace:
    """The workspace of ``command`` (the name it was called by; quilt's checks depend on it);
    first, unless ``repair`` is off (check writes nothing), ``lock`` the repository root (the
    tree without settings) and finish or undo what a killed command left, so every command
    sees a sound state.

    A tree built from another pin than the settings name is said in one line
    (``stale_tree="warn"``), refused (``"refuse"``: push), or left to the command
    (``"ignore"``: upstream fetch --replace). ``records=False``: a read-only query's, which
    reads none of f5quilt's per-patch records in .pc/ (``Workspace.open``). ``warn`` says a
    line on stderr (a repair, a stale tree)."""
    settings = load_settings(cwd, upstream=upstream, quiltrc=quiltrc)
    if repair:
        lock(settings.settings_file.parent if settings.settings_file else settings.tree)
        if settings.settings_file is None:  # an init killed before its f5quilt.yaml appeared
            repaired = repair_without_settings((cwd or Path.cwd()).resolve())
            if repaired:  # something was repaired: the transaction layer is loaded already
                from f5quilt.events import RolledBack  # lazy: start-up
                from f5quilt.repo.transaction import Quarantined  # lazy: start-up
                warn(repaired if isinstance(repaired, Quarantined) else RolledBack(repaired).text)
    quilt_series_check(settings, command)
    if repair:
        places = Workspace.unread(settings)
        if unsettled(places.state_dir):
            # rolled back before the series or .pc/ is read: the killed command may have left
            # one of them cut short (.pc's files are written in place, as quilt does).
            # Imported only then: pushpop brings the engine, which a query does not need
            from f5quilt.ops.stack.repair import recover  # lazy: start-up
            recover(places, lambda event: warn(getattr(event, "text")))
    ws = Workspace.open(settings, records)
    ws.command_line = " ".join(argv)
    quilt_consistency_check(ws, command)
    if stale_tree != "ignore":
        stale = ws.tree_mismatch()
        if stale and stale_tree == "refuse":
            raise F5QuiltError(stale)
        if stale:
            warn(f"warning: {stale}")
    return ws
