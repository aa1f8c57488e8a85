"""The ops' events as the lines quilt and f5quilt users read.

``Renderer(reporter, show)`` is the ``emit`` the command line hands an op: each event
(``f5quilt/events.py``) becomes text on the reporter's streams, in quilt's words where the
reporter ``speaks_quilt`` (quilt's own commands in a quilt-dialect tree) and f5quilt's
otherwise, at the reporter's verbosity, with a progress bar under ``-q`` over a long series.
``show`` names a tree file as the user sees it (``Settings.show_file``). The exit code of an
outcome is ``exit_code`` here: the one table.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Optional, Tuple

from f5quilt.engine.apply import FileChange, PatchResult
from f5quilt.engine.locate import APPLIED, HunkReport, Landing
from f5quilt.errors import EXIT_CONFLICT, EXIT_ERROR, EXIT_OK
from f5quilt.model.patch import Hunk
from f5quilt import events as ev
from f5quilt.output import NORMAL, QUIET, Reporter
from .common import terminal_bar

if TYPE_CHECKING:
    from f5quilt.repo.workspace import Workspace

# -- exit codes ----------------------------------------------------------
_STOP_EXIT = {None: EXIT_OK, ev.Stop.CONFLICTS: EXIT_CONFLICT, ev.Stop.FORCED: EXIT_ERROR,
              ev.Stop.STOPPED: EXIT_ERROR}


def exit_code(stop: Optional[ev.Stop]) -> int:
    """The exit code of an op that ended ``stop`` (None: it did all it was asked)."""
    return _STOP_EXIT[stop]


class Renderer:
    def __init__(self, reporter: Reporter, show: Callable[[str], str] = str,
                 display: Callable[[str], str] = str) -> None:
        self.out = reporter
        self.show = show  # a tree file, as the user sees it
        self.display = display  # a patch, as the user sees it
        self._bar: Optional[Iterator[object]] = None
        self._progress = terminal_bar()

    @property
    def quilt(self) -> bool:
        return self.out.speaks_quilt

    def __call__(self, event: ev.Event) -> None:
        _HANDLERS[type(event)](self, event)

    # -- progress under -q ------------------------------------------------
    def _plan(self, e: ev.Plan) -> None:
        if self.out.level == QUIET and e.count > 1 and self._progress is not None:
            self._bar = iter(self._progress(range(e.count), e.verb))
            next(self._bar, None)

    def _advance(self) -> None:
        if self._bar is not None and next(self._bar, StopIteration) is StopIteration:
            self._bar = None

    def close(self) -> None:
        """End a progress bar a stop left open."""
        bar, self._bar = self._bar, None
        close = getattr(bar, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # whatever ended the op: its progress bar ends with it

    # -- lines -------------------------------------------------------------
    def _said(self, e: ev.Said) -> None:
        level = e.level
        if level is ev.Level.INFO:
            self.out.info(e.text, e.colour)
        elif level is ev.Level.STEP:
            self.out.step(e.text)
        elif level is ev.Level.QUILT_INFO:
            self.out.quilt_info(e.text)
        elif level is ev.Level.VERBOSE:
            self.out.verbose(e.text)
        elif level is ev.Level.RESULT:
            self.out.result(e.text)
        elif level is ev.Level.ERROR:
            self.out.error(e.text)
        else:
            self.out.warn(e.text)

    def _rolled_back(self, e: ev.RolledBack) -> None:
        self.out.warn(e.text)

    def _quarantined(self, e: ev.Quarantined) -> None:
        self.out.warn(e.text)

    def _applying(self, e: ev.Applying) -> None:
        self.out.step(f"Applying patch {self.display(e.patch)}")

    def _applied_empty(self, e: ev.AppliedEmpty) -> None:
        if e.missing:
            self.out.step(f"Patch {self.display(e.patch)} does not exist; applied empty patch")
        elif self.quilt:
            self.out.step(f"Patch {self.display(e.patch)} appears to be empty; applied")

    def _hunks(self, e: ev.HunkReports) -> None:
        result = e.result
        for note in result.notes:
            self.out.info(f"({note})")
        if self.quilt:
            self._as_gnu_patch(result, e.force, e.directory)
            return
        for change in result.changes.values():
            # a context-free hunk is worth a word only where it could have moved: not in a new file
            quiet = (Landing.EXACT, Landing.OFFSET, Landing.FUZZ) + ((Landing.NO_CONTEXT,) if change.before is None else ())
            noteworthy = [r for r in change.reports
                          if r.status != APPLIED or r.offset or r.fuzz or r.level not in quiet]
            if noteworthy or change.rejected:
                self.out.info(f"patching file {self.show(change.path)}")
                for rep in noteworthy:
                    self.out.info(rep.message(), "red" if rep.status != APPLIED else None)
                    if rep.status != APPLIED and rep.mismatch is not None:
                        self.out.info(f"  {rep.why()}")
                    for anchor in rep.anchors:
                        self.out.verbose(f"  anchored between {anchor}")
            else:
                self.out.verbose(f"patching file {self.show(change.path)}")

    def _as_gnu_patch(self, result: PatchResult, force: bool, directory: str) -> None:
        """GNU patch's lines, file section by file section, as quilt shows them (-q: patch -s);
        names relative to ``directory`` (fold's ``patch -d``)."""
        out = self.out
        for change, reports, rejected in _gnu_sections(result):
            path = change.path[len(directory) + 1:] if directory else change.path
            out.info(f"patching file {path}")
            for rep in reports:
                if rep.status != APPLIED or rep.offset or rep.fuzz:
                    out.info(rep.message())
            if rejected:
                n, total = len(rejected), len(reports)
                failed = f"{n} out of {total} hunk{'s' if total != 1 else ''} FAILED"
                if out.level < NORMAL:
                    out.step(f"{failed} -- saving rejects to file {path}.rej" if force else failed)
                elif force:
                    out.info(f"{failed} -- saving rejects to file {path}.rej")
                else:
                    out.info(f"{failed} -- rejects in file {path}")

    def _rejects(self, e: ev.Rejects) -> None:
        if self.quilt and e.saved:
            return  # said in GNU patch's order with the hunks
        hunks = f"{e.rejected} out of {e.total} hunk{'s' if e.total != 1 else ''} FAILED"
        if e.saved:
            self.out.info(f"{hunks} -- saving rejects to file {self.show(e.path)}.rej")
        else:
            self.out.info(f"{hunks} -- rejects in file {self.show(e.path)}")

    def _skipped(self, e: ev.Skipped) -> None:
        self.out.info(f"Skipping patch {self.display(e.patch)} ({e.why})")

    def _pushed(self, e: ev.Pushed) -> None:
        self._advance()
        if e.conflicts:
            self.out.info(f"Patch {self.display(e.patch)} applied with conflicts in "
                          f"{', '.join(self.show(c) for c in e.conflicts)}; resolve them, then refresh")
        elif e.replayed:
            self.out.info(f"Patch {self.display(e.patch)} applied; its conflicts were resolved as before "
                          "(rerere): review them, then refresh")
        elif e.forced:
            self.out.step(f"Applied patch {self.display(e.patch)} (forced; needs refresh)")
        elif self.quilt:
            self.out.info("")  # quilt: a blank line after each patch

    def _folded(self, e: ev.Folded) -> None:
        if not self.quilt:
            self.out.info(f"Folded patch into {self.display(e.patch)}; refresh it to record the change")

    def _dry_run(self, e: ev.DryRunApplies) -> None:
        self.out.info(f"Patch {self.display(e.patch)} applies (dry run)")

    def _now_at(self, e: ev.NowAt) -> None:
        self.close()
        if e.spacer and not self.quilt:
            self.out.info("")
        self.out.step("No patches applied" if e.patch is None else f"Now at patch {self.display(e.patch)}")

    def _not_in_patch(self, e: ev.NotInPatch) -> None:
        self.out.info(f"{self.show(e.path)} has changes not in the patch")

    def _conflicts_dropped(self, e: ev.ConflictsDropped) -> None:
        self.out.warn(f"warning: {self.display(e.patch)} has unresolved conflicts in {', '.join(self.show(c) for c in e.paths)}; "
                      "popping it drops the merge, markers and any resolution (`f5quilt undo` brings them back)")

    def _removing(self, e: ev.Removing) -> None:
        if self.quilt and e.empty:
            self.out.step(f"Patch {self.display(e.patch)} appears to be empty, removing")
        else:
            self.out.step(f"Removing patch {self.display(e.patch)}")

    def _restoring(self, e: ev.Restoring) -> None:
        self.out.quilt_info(f"{'Removing' if e.removed else 'Restoring'} {e.path}")

    def _popped(self, e: ev.Popped) -> None:
        self._advance()
        if self.quilt:
            self.out.info("")  # quilt: a blank line after each patch


_HANDLERS: Dict[type, Callable[..., None]] = {
    ev.Said: Renderer._said, ev.RolledBack: Renderer._rolled_back, ev.Quarantined: Renderer._quarantined,
    ev.Plan: Renderer._plan, ev.Applying: Renderer._applying, ev.AppliedEmpty: Renderer._applied_empty,
    ev.HunkReports: Renderer._hunks, ev.Rejects: Renderer._rejects, ev.Skipped: Renderer._skipped,
    ev.Pushed: Renderer._pushed, ev.DryRunApplies: Renderer._dry_run, ev.NowAt: Renderer._now_at,
    ev.NotInPatch: Renderer._not_in_patch, ev.ConflictsDropped: Renderer._conflicts_dropped,
    ev.Folded: Renderer._folded, ev.Removing: Renderer._removing, ev.Restoring: Renderer._restoring, ev.Popped: Renderer._popped,
}


def _gnu_sections(result: PatchResult) -> List[Tuple[FileChange, List[HunkReport], List[Hunk]]]:
    """What GNU patch reports on, in its order: each file section (a file two sections patch
    is said twice, each time with its own hunks), or each change when no file has two."""
    paths = [path for path, _r, _j in result.sections]
    if len(set(paths)) == len(paths):
        return [(c, c.reports, c.rejected) for c in result.changes.values()]
    bounds: Dict[str, List[Tuple[int, int]]] = {}
    for path, r0, j0 in result.sections:
        bounds.setdefault(path, []).append((r0, j0))
    out = []
    seen: Dict[str, int] = {}
    for path, r0, j0 in result.sections:
        change = result.changes[path]
        k = seen[path] = seen.get(path, -1) + 1
        r1, j1 = bounds[path][k + 1] if k + 1 < len(bounds[path]) else (len(change.reports), len(change.rejected))
        out.append((change, change.reports[r0:r1], change.rejected[j0:j1]))
    out.extend((c, c.reports, c.rejected) for p, c in result.changes.items() if p not in bounds)
    return out


def render(reporter: Reporter, ws: "Optional[Workspace]" = None) -> Renderer:
    """The ``emit`` for an op run by a command: its events on ``reporter``, tree files and
    patches named as the workspace shows them."""
    if ws is None:
        return Renderer(reporter)
    return Renderer(reporter, ws.settings.show_file, ws.display)
