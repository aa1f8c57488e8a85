"""The ops' events as the lines quilt and f5quilt users read.

``Renderer(reporter, show)`` is the ``emit`` the command line hands an op: each event
(``f5quilt/events.py``) becomes text on the reporter's streams, in quilt's words where the
reporter ``speaks_quilt`` (quilt's own commands in a quilt-dialect tree) and f5quilt's
otherwise, at the reporter's verbosity, with a progress bar under ``-q`` over a long series.
``show`` names a tree file as the user sees it (``Settings.show_file``). The exit code of an
outcome is ``exit_code`` here: the one table.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Optional, Tuple

from f5quilt.engine.apply import FileChange, PatchResult
from f5quilt.engine.locate import APPLIED, HunkReport, Landing
from f5quilt.errors import EXIT_CONFLICT, EXIT_ERROR, EXIT_OK
from f5quilt.model.patch import Hunk
from f5quilt.ops.stack.guards import describe_guards, why_text
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

    # -- authoring -----------------------------------------------------------
    def _created(self, e: ev.Created) -> None:
        self.out.info(f"Patch {self.display(e.patch)} is now on top")

    def _file_added(self, e: ev.FileAdded) -> None:
        if e.already:
            self.out.info(f"File {self.show(e.file)} is already in patch {self.display(e.patch)}")
        elif e.edited:
            self.out.info(f"File {self.show(e.file)} was edited before it was added: the edit goes into "
                          f"patch {self.display(e.patch)} (its backup is the pristine file)")
        else:
            self.out.info(f"File {self.show(e.file)} added to patch {self.display(e.patch)}")

    def _refreshed(self, e: ev.Refreshed) -> None:
        self.out.info(f"Patch {self.display(e.patch)} is unchanged" if e.unchanged
                      else f"Nothing in patch {self.display(e.patch)}" if e.empty
                      else f"Refreshed patch {self.display(e.patch)}")

    def _file_reverted(self, e: ev.FileReverted) -> None:
        self.out.info(f"File {self.show(e.file)} is unchanged" if e.unchanged
                      else f"Changes to {self.show(e.file)} in patch {self.display(e.patch)} reverted")

    def _file_removed(self, e: ev.FileRemoved) -> None:
        self.out.info(f"File {self.show(e.file)} removed from patch {self.display(e.patch)}")

    def _deleted(self, e: ev.Deleted) -> None:
        self.out.info(f"Removed patch {self.display(e.patch)}")

    def _renamed(self, e: ev.Renamed) -> None:
        self.out.info(f"Patch {self.display(e.old)} renamed to {self.display(e.new)}")

    def _imported(self, e: ev.Imported) -> None:
        if e.replaced:
            self.out.info(f"Replacing patch {self.display(e.patch)} with new version")
        elif e.in_place:
            self.out.info(f"Importing patch {self.display(e.patch)}")
        else:
            self.out.info(f"Importing patch {e.source} (stored as {self.display(e.patch)})")

    def _forked(self, e: ev.Forked) -> None:
        self.out.info(f"Fork of patch {self.display(e.old)} created as {self.display(e.new)}")

    def _file_captured(self, e: ev.FileCaptured) -> None:
        self.out.info(f"File {self.show(e.file)} captured into {self.display(e.patch)}")

    def _file_restored(self, e: ev.FileRestored) -> None:
        self.out.info(f"Restored {self.show(e.file)} "
                      f"(as {self.display(e.holder) + ' leaves it' if e.holder else 'pristine'})")

    def _absorbing(self, e: ev.Absorbing) -> None:
        self.out.info(f"Absorbing {self.show(e.file)} into {self.display(e.patch)}")

    # -- guards, rerere, stash -----------------------------------------------
    def _guards_set(self, e: ev.GuardsSet) -> None:
        self.out.info(f"Patch {self.display(e.patch)} is now {describe_guards(list(e.guards))}")

    def _selected(self, e: ev.Selected) -> None:
        self.out.info("Selected guards: " + (" ".join(e.guards) or "none"))

    def _skip_changed(self, e: ev.SkipChanged) -> None:
        if e.why is None:
            self.out.info(f"Patch {self.display(e.patch)} is no longer skipped")
        else:
            note = " (applied: pop it to drop it)" if e.applied else ""
            self.out.info(f"Patch {self.display(e.patch)} is now skipped ({why_text(e.why)}){note}")

    def _rerere_replayed(self, e: ev.RerereReplayed) -> None:
        self.out.info(f"Resolved {e.done} conflict{'s' if e.done != 1 else ''} in {self.show(e.file)} using a "
                      f"previous resolution (rerere){'' if not e.left else f'; {e.left} left'}")

    def _rerere_recorded(self, e: ev.RerereRecorded) -> None:
        self.out.info(f"Recorded {e.count} conflict resolution{'s' if e.count != 1 else ''} of "
                      f"{self.display(e.patch)} (rerere)")

    def _rerere_not_recorded(self, e: ev.RerereNotRecorded) -> None:
        self.out.verbose(f"rerere: {e.file}: the lines around the conflicts changed too; not recorded")

    def _rerere_forgot(self, e: ev.RerereForgot) -> None:
        self.out.info(f"Forgot {e.count} recorded resolution{'s' if e.count != 1 else ''} of {self.display(e.patch)}")

    def _stashed(self, e: ev.Stashed) -> None:
        self.out.info(f"Kept {e.count} unrecorded change(s) in stash {e.stash} (f5quilt stash show {e.stash})")

    # -- undo, redo ------------------------------------------------------------
    def _changed_since(self, e: ev.ChangedSince) -> None:
        self.out.error(f"{e.path} has changes made after `{e.command}` that the log does not record")

    def _undone(self, e: ev.Undone) -> None:
        self.out.info(f"{'Redid' if e.redone else 'Undid'} `f5quilt {e.command}`")

    def _tree_kept(self, e: ev.TreeKept) -> None:
        self.out.info("The replaced tree, with any edits made in it, is kept in the log (f5quilt log)")

    # -- rebase --------------------------------------------------------------
    def _rebase_started(self, e: ev.RebaseStarted) -> None:
        self.out.info(f"Rebasing {e.count} patches from {e.old} onto {e.new}")

    def _contained(self, e: ev.Contained) -> None:
        if e.dropped:
            self.out.info(f"Patch {self.display(e.patch)} is contained in {e.pin} "
                          "(it reverse-applies cleanly): dropped from the series")
        else:
            self.out.error(f"Patch {self.display(e.patch)} appears to be contained in {e.pin} "
                           "(it reverse-applies cleanly).")
            self.out.info("Drop it with `f5quilt rebase --skip`, or `f5quilt rebase --abort`.")

    def _rebase_blocked(self, e: ev.RebaseBlocked) -> None:
        self.out.error(e.why)
        self.out.info(f"Fix {self.display(e.patch)} (then `f5quilt rebase --continue`), "
                      "or `f5quilt rebase --skip`, or `f5quilt rebase --abort`.")

    def _rebase_conflicts(self, e: ev.RebaseConflicts) -> None:
        files = ", ".join(self.show(f) for f in e.files)
        if e.going_on:
            self.out.error(f"Conflicts in {files} while rebasing {self.display(e.patch)}; recorded, going on")
        elif e.replayed:
            self.out.error(f"Conflicts in {files} while rebasing {self.display(e.patch)} "
                           "were resolved as before (rerere); review them.")
            self.out.info("Then `f5quilt rebase --continue` (or --skip, or --abort; "
                          f"`f5quilt rerere forget {self.display(e.patch)}` drops the recording).")
        else:
            self.out.error(f"Conflicts in {files} while rebasing {self.display(e.patch)}.")
            self.out.info("Resolve them, then `f5quilt rebase --continue` (or --skip, or --abort).")

    def _conflicts_left(self, e: ev.ConflictsLeft) -> None:
        self.out.error(f"{len(e.patches)} patch(es) conflict: " + ", ".join(self.display(n) for n in e.patches))
        self.out.info("Resolve the markers patch by patch, then `f5quilt rebase --continue` "
                      "(or `f5quilt upgrade --continue`; --abort goes back).")

    def _patch_moved(self, e: ev.PatchMoved) -> None:
        hint = f"; `git rm {e.git_rm}` records it" if e.git_rm is not None else ""
        self.out.info(f"Moved {self.display(e.patch)} to {e.to}{hint}")

    def _emptied(self, e: ev.EmptiedPatch) -> None:
        self.out.warn(f"warning: {self.display(e.patch)} changes nothing now (only its header is left); "
                      f"drop it after the rebase with `f5quilt delete {e.patch}`")

    def _unverified(self, e: ev.Unverified) -> None:
        for line in e.problems:
            self.out.error(line)
        self.out.error(e.message)

    def _rebased(self, e: ev.Rebased) -> None:
        self.out.info(f"Rebased onto {e.pin}" + (f"; dropped from the series: {', '.join(e.dropped)}" if e.dropped else ""))

    def _rebase_skipped(self, e: ev.RebaseSkipped) -> None:
        self.out.info(f"Skipped {self.display(e.patch)} (removed from the series)")

    def _leftovers_removed(self, e: ev.LeftoversRemoved) -> None:
        self.out.info("Removed the leftovers of a rebase interrupted before it started")

    def _rebase_aborted(self, e: ev.RebaseAborted) -> None:
        self.out.info(f"Rebase aborted: back on {e.pin}")

    # -- quilt's own commands -----------------------------------------------------
    def _trailing_whitespace(self, e: ev.TrailingWhitespace) -> None:
        verb = "Removing trailing whitespace from" if e.removed else "Warning: trailing whitespace in"
        self.out.warn(f"{verb} line{'s' if len(e.lines) > 1 else ''} {','.join(map(str, e.lines))} of {e.file}")

    def _shadowed(self, e: ev.Shadowed) -> None:
        self.out.warn(f"Warning: more recent patches modify files in patch {self.display(e.patch)}")

    def _unpacking(self, e: ev.Unpacking) -> None:
        self.out.step(f"Unpacking archive {e.archive}")

    def _alternative_names(self, e: ev.AlternativeNames) -> None:
        for what, path in e.clashes:
            self.out.step(f"{what} {path} exists")
        self.out.step("Trying alternative patches and series names...")

    def _spec_record(self, e: ev.SpecRecord) -> None:
        self.out.step(f"{e.tag} {e.dir} {e.name}{' ' + e.opts if e.opts else ''}")

    def _running(self, e: ev.Running) -> None:
        where = self.display(e.patch) if e.patch else "the base (no patch applied)"
        self.out.step(f"Running {' '.join(e.argv)} at {where}")

    def _upstream_commit_skipped(self, e: ev.UpstreamCommitSkipped) -> None:
        self.out.verbose(f"Skipping the upstream commit {e.sha[:12]}")

    def _not_modified(self, e: ev.NotModified) -> None:
        self.out.warn(f"File {e.file} is not being modified")

    def _backup_missing(self, e: ev.BackupMissing) -> None:
        self.out.warn(f"{e.pc_name}/{e.patch} does not exist; skipping")

    def _pc_upgraded(self, e: ev.PcUpgraded) -> None:
        self.out.info(f"The quilt meta-data in {e.pc_name}/ are already in the version 2 format; nothing to do"
                      if e.already else "Converting meta-data to version 2")

    def _sending_mail(self, e: ev.SendingMail) -> None:
        self.out.info(" ".join(e.argv))

    # -- upstream, init, install, import --git ------------------------------------
    def _downloading(self, e: ev.Downloading) -> None:
        self.out.info(f"Downloading {e.spec} from PyPI")

    def _downloaded(self, e: ev.Downloaded) -> None:
        self.out.info(f"Downloaded {e.file} ({human_size(e.size)} in {e.seconds:.1f} s)")

    def _extracting(self, e: ev.Extracting) -> None:
        self.out.info(f"Extracting {e.file} ({human_size(e.size)})")

    def _cloning(self, e: ev.Cloning) -> None:
        self.out.info(f"Cloning {e.pin}")

    def _fetching(self, e: ev.Fetching) -> None:
        self.out.info(f"Replacing {e.tree} with {e.pin}" if e.replacing else f"Fetching upstream {e.pin} into {e.tree}")

    def _initialised(self, e: ev.Initialised) -> None:
        self.out.info(f"Wrote {e.settings} (upstream {e.pin}, {e.recorded}), {e.series}"
                      + (", .gitignore" if e.gitignore else ""))
        self.out.info("Next: f5quilt new NAME.patch; f5quilt edit FILE; f5quilt refresh")

    def _building_wheel(self, e: ev.BuildingWheel) -> None:
        self.out.info(f"Building a wheel of {e.tree} ({e.patches} patches applied) with {e.python}")

    def _wheel_written(self, e: ev.WheelWritten) -> None:
        self.out.info(f"Wrote {os.path.relpath(e.path)}")

    def _dist_installed(self, e: ev.DistInstalled) -> None:
        where = f"into {os.path.relpath(e.target)}" if e.target is not None else f"for {e.python}"
        self.out.info(f"Installed {e.dist} {e.version} {where} (pin {e.pin}, {e.patches} patches)")

    def _upgrading(self, e: ev.Upgrading) -> None:
        self.out.info(f"Upgrading {e.old} to {e.new}")

    def _commit_imported(self, e: ev.CommitImported) -> None:
        self.out.info(f"Importing commit {e.sha[:12]} as patch {self.display(e.patch)}")


_HANDLERS: Dict[type, Callable[..., None]] = {
    ev.RolledBack: Renderer._rolled_back, ev.Quarantined: Renderer._quarantined,
    ev.Plan: Renderer._plan, ev.Applying: Renderer._applying, ev.AppliedEmpty: Renderer._applied_empty,
    ev.HunkReports: Renderer._hunks, ev.Rejects: Renderer._rejects, ev.Skipped: Renderer._skipped,
    ev.Pushed: Renderer._pushed, ev.DryRunApplies: Renderer._dry_run, ev.NowAt: Renderer._now_at,
    ev.NotInPatch: Renderer._not_in_patch, ev.ConflictsDropped: Renderer._conflicts_dropped,
    ev.Folded: Renderer._folded, ev.Removing: Renderer._removing, ev.Restoring: Renderer._restoring, ev.Popped: Renderer._popped,
    ev.Created: Renderer._created, ev.FileAdded: Renderer._file_added, ev.Refreshed: Renderer._refreshed,
    ev.FileReverted: Renderer._file_reverted, ev.FileRemoved: Renderer._file_removed, ev.Deleted: Renderer._deleted,
    ev.Renamed: Renderer._renamed, ev.Imported: Renderer._imported,
    ev.RebaseStarted: Renderer._rebase_started, ev.Contained: Renderer._contained,
    ev.RebaseBlocked: Renderer._rebase_blocked, ev.RebaseConflicts: Renderer._rebase_conflicts,
    ev.ConflictsLeft: Renderer._conflicts_left, ev.PatchMoved: Renderer._patch_moved, ev.EmptiedPatch: Renderer._emptied,
    ev.Unverified: Renderer._unverified, ev.Rebased: Renderer._rebased, ev.RebaseSkipped: Renderer._rebase_skipped,
    ev.LeftoversRemoved: Renderer._leftovers_removed, ev.RebaseAborted: Renderer._rebase_aborted,
    ev.Forked: Renderer._forked, ev.FileCaptured: Renderer._file_captured, ev.FileRestored: Renderer._file_restored,
    ev.Absorbing: Renderer._absorbing, ev.GuardsSet: Renderer._guards_set, ev.Selected: Renderer._selected,
    ev.SkipChanged: Renderer._skip_changed, ev.RerereReplayed: Renderer._rerere_replayed,
    ev.RerereRecorded: Renderer._rerere_recorded, ev.RerereNotRecorded: Renderer._rerere_not_recorded,
    ev.RerereForgot: Renderer._rerere_forgot, ev.Stashed: Renderer._stashed,
    ev.ChangedSince: Renderer._changed_since, ev.Undone: Renderer._undone, ev.TreeKept: Renderer._tree_kept,
    ev.Fetching: Renderer._fetching, ev.Initialised: Renderer._initialised, ev.BuildingWheel: Renderer._building_wheel,
    ev.WheelWritten: Renderer._wheel_written, ev.DistInstalled: Renderer._dist_installed,
    ev.Upgrading: Renderer._upgrading, ev.CommitImported: Renderer._commit_imported,
    ev.TrailingWhitespace: Renderer._trailing_whitespace, ev.NotModified: Renderer._not_modified,
    ev.BackupMissing: Renderer._backup_missing, ev.PcUpgraded: Renderer._pc_upgraded,
    ev.SendingMail: Renderer._sending_mail, ev.Shadowed: Renderer._shadowed, ev.Unpacking: Renderer._unpacking,
    ev.AlternativeNames: Renderer._alternative_names, ev.SpecRecord: Renderer._spec_record,
    ev.Running: Renderer._running, ev.UpstreamCommitSkipped: Renderer._upstream_commit_skipped,
    ev.Downloading: Renderer._downloading, ev.Downloaded: Renderer._downloaded, ev.Extracting: Renderer._extracting,
    ev.Cloning: Renderer._cloning,
}


def human_size(n: int) -> str:
    """``n`` bytes as a download's summary line says them."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover


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
