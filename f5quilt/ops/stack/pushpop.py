"""push and pop: one patch, a plan of them, goto; the merge of a patch that does not fit.

They emit typed events (``f5quilt/events.py``) and return ``PushOutcome``/``PopOutcome``;
the command line renders both (``cli/render.py``).

Every operation computes everything in memory first and writes nothing
until it knows it can finish (StGit's rule); the writes go through the
command's ``Transaction`` (``transaction.py``), which journals them, so a
process killed at any instant is rolled back by the next command, and a
finished command is recorded in the log that ``undo`` reads.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set

from f5quilt.engine.apply import FileChange, PatchResult, apply_patch
from f5quilt.errors import Conflicted, F5QuiltError, NothingToDo
from f5quilt.fsutil import DEFAULT_MODE
from f5quilt import events as ev
from f5quilt.events import Emit, PopOutcome, PushOutcome, Stop
from f5quilt.ops.stack.drift import tree_upstream, unrefreshed_files
from f5quilt.ops.stack.repair import recover
from f5quilt.repo.pcdir import digest
from f5quilt.repo.settings import REPLAY_FUZZ, Dialect
from f5quilt.repo.workspace import Workspace
from f5quilt.model.patch import parse_patch
from f5quilt.engine.vtree import WrittenOn

if TYPE_CHECKING:
    from f5quilt.engine.vtree import Reader




class PatchDoesNotApply(F5QuiltError):
    pass


# -- push ----------------------------------------------------------------
@dataclass
class PushResult:
    name: str
    result: PatchResult
    forced: bool = False
    conflicts: Dict[str, int] = field(default_factory=dict)
    replayed: List[str] = field(default_factory=list)  # files resolved by a recorded resolution (rerere)


def _file_mode(path: Path) -> Optional[int]:
    try:
        return path.stat().st_mode
    except FileNotFoundError:
        return None


def compute_push(ws: Workspace, name: str, fuzz: int, reverse: bool = False) -> PatchResult:
    entry = ws.entry(name)
    patch = ws.load(name)
    if entry.reverse != reverse:
        patch = patch.reversed()
    return apply_patch(patch, ws.read_tree, strip=entry.strip, fuzz=fuzz, display=ws.display(name))


def push_one(ws: Workspace, name: str, emit: Emit, *, fuzz: int = 0, force: bool = False,
             dry_run: bool = False, merge: bool = False,
             merge_pre: Optional[Callable[[str], Optional[bytes]]] = None,
             over_conflicts: bool = False, quilt: bool = False) -> PushResult:
    """``over_conflicts``: the upgrade autopilot pushes on past a patch it left conflicted;
    ``quilt``: as quilt's own push (its refusals and its checks)."""
    top = ws.stack.top()
    if top and ws.stack.needs_refresh(top) and not force:
        raise F5QuiltError(f"The topmost patch {ws.display(top)} needs to be refreshed first.")
    if top and ws.stack.conflicts(top) and not over_conflicts:
        raise Conflicted(f"The topmost patch {ws.display(top)} has unresolved conflicts; "
                         "resolve them and refresh it first.")
    emit(ev.Applying(name))
    if ws.settings.dialect is Dialect.QUILT and not ws.patch_file(name).is_file():
        # quilt 0.68 (its test/missing.test) applies a missing patch file as an empty patch;
        # 0.66 refused it without -f. f5quilt's dialect: ws.load names the series line.
        result = PatchResult(parse_patch(b"", ws.display(name)))
        emit(ev.AppliedEmpty(name, missing=True))
    else:
        result = compute_push(ws, name, fuzz)
        if not result.changes:
            emit(ev.AppliedEmpty(name, missing=False))
    conflicts: Dict[str, int] = {}
    if merge and (not result.ok or any(r.offset or r.fuzz for c in result.changes.values() for r in c.reports)):
        conflicts = merge_failed_files(ws, name, result, merge_pre)
    emit(ev.HunkReports(result, force))
    if not force:
        dirty = unrefreshed_files(ws, list(result.changes))
        if dirty:
            rel, owner = sorted(dirty.items())[0]
            raise F5QuiltError(f"{ws.settings.show_file(rel)} has changes not refreshed into {ws.display(owner)}; "
                               "refresh it first (or push -f)")
    if result.rejected_count and not force and quilt:
        try:
            if compute_push(ws, name, 0, reverse=True).ok:
                raise PatchDoesNotApply(f"Patch {ws.display(name)} can be reverse-applied")
        except PatchDoesNotApply:
            raise
        except F5QuiltError:
            pass
        raise PatchDoesNotApply(f"Patch {ws.display(name)} does not apply (enforce with -f)")
    if result.rejected_count and not force:
        for change in result.changes.values():
            if change.rejected:
                emit(ev.Rejects(change.path, len(change.rejected), len(change.reports), saved=False))
        hint = "try --merge, or enforce with -f" if not merge else "enforce with -f"
        if fuzz < 2 and not merge:
            hint = f"try --fuzz={fuzz + 1 if fuzz else 2} or --merge, or enforce with -f"
        try:
            if compute_push(ws, name, 0, reverse=True).ok:
                # GNU patch's "Reversed (or previously applied) patch detected!"
                hint = "it looks applied already: its reverse fits the tree"
        except F5QuiltError:
            pass
        raise PatchDoesNotApply(f"Patch {ws.display(name)} does not apply ({hint})")
    # the backup this push makes must be the ground truth; --merge is a deliberate merge into a
    # drifted tree (the drift stays visible: status, and rebase/fetch --replace refuse over it)
    outside = None if force or merge else _edited_outside(ws, result)
    if outside:
        raise F5QuiltError(f"{outside} has edits made outside any patch: the push would bury them in "
                           f"{ws.display(name)}'s backup; record them (f5quilt new NAME; f5quilt add "
                           f"{outside}; f5quilt refresh) or revert them first (or push -f)")
    if dry_run:
        return PushResult(name, result, forced=bool(result.rejected_count), conflicts=conflicts)
    replayed: List[str] = []
    if conflicts:
        from f5quilt.ops.stack.rerere import replay_into  # lazy: start-up
        replayed = replay_into(ws, name, result, conflicts, emit)
    _commit_push(ws, name, result, force and bool(result.rejected_count), conflicts, emit)
    return PushResult(name, result, forced=force and bool(result.rejected_count), conflicts=conflicts,
                      replayed=replayed)


def _edited_outside(ws: Workspace, result: PatchResult) -> Optional[str]:
    """The first file the push would back up that holds edits outside any patch: with
    settings, the backup must be the ground truth (pristine + the applied patches). Files an
    applied patch owns are the unrefreshed check's; only the others are read from pristine."""
    if ws.settings.settings_file is None:
        return None
    owned = {rel for n in ws.stack.applied() for rel in ws.stack.backup_files(n)}
    rest = [rel for rel in sorted(result.changes) if rel not in owned]
    if not rest:
        return None
    pristine = ws.memo.get("pristine")
    if pristine is None:
        up = tree_upstream(ws)
        if up is None:
            return None
        pristine = ws.memo["pristine"] = up.reader()
    for rel in rest:
        if result.changes[rel].before != pristine(rel):
            return rel
    return None


def _commit_push(ws: Workspace, name: str, result: PatchResult, forced: bool,
                 conflicts: Dict[str, int], emit: Emit) -> None:
    fs, stack = ws.fs, ws.stack
    stack.initialize(ws.settings.quilt_patches, ws.settings.quilt_series)
    bdir = stack.backup_dir(name)
    empty = set()
    made: Dict[str, Optional[str]] = {}
    for rel in result.changes:
        src = ws.inside(rel)
        dst = bdir / rel
        if dst.exists():
            continue
        before = result.changes[rel].before
        made[rel] = digest(before)
        if before is not None:
            fs.link(src, dst, before)  # the tree file is replaced, never written in place
            if before == b"":
                empty.add(rel)  # quilt's empty backup would say "did not exist"
        else:
            fs.write(dst, b"")
    fs.write(bdir / ".timestamp", b"")
    for change in result.changes.values():
        _write_tree_file(ws, change)
        write_rejects(ws, change, emit)
    stack.write_applied(stack.applied() + [name])
    if forced:
        fs.write(stack.refresh_marker(name), b"")
    stack.set_conflicts(name, conflicts or None)
    stack.set_existed_empty(name, empty)
    # what the push left, from memory: each file was written from exactly these bytes (reading
    # them back would also take a save made since for the push's own work)
    stack.write_sums(name, {rel: digest(change.after) for rel, change in result.changes.items()})
    stack.write_backup_sums(name, made)
    fs.savepoint()


def write_rejects(ws: Workspace, change: FileChange, emit: Emit) -> None:
    """GNU patch's FILE.rej for the hunks of ``change`` that did not apply."""
    if not change.rejected:
        return
    rel = change.path
    name = rel.encode("utf-8", "surrogateescape")
    rej = b"--- " + name + b"\n+++ " + name + b"\n" + b"".join(h.to_bytes() for h in change.rejected)
    ws.fs.write(ws.inside(rel + ".rej"), rej, DEFAULT_MODE)
    emit(ev.Rejects(rel, len(change.rejected), len(change.reports), saved=True))


def _write_tree_file(ws: Workspace, change: FileChange) -> None:
    path = ws.inside(change.path)
    if change.after is None:
        ws.fs.unlink(path, prune_to=ws.tree)
        return
    mode = _file_mode(path)
    if change.mode is not None:
        mode = change.mode
    elif mode is None and change.source:
        mode = _file_mode(ws.inside(change.source))
    ws.fs.write(path, change.after, mode if mode is not None else DEFAULT_MODE)


def push(ws: Workspace, emit: Emit, *, target: Optional[str] = None, all_: bool = False,
         count: Optional[int] = None, fuzz: int = 0, force: bool = False,
         dry_run: bool = False, merge: bool = False, command: Optional[str] = None,
         refresh: Optional[Callable[[], object]] = None, quilt: bool = False) -> PushOutcome:
    """Push patches; with ``refresh`` (``push --refresh``) each one is refreshed right after it
    is pushed, and a savepoint follows, so an error later keeps it pushed and refreshed.
    ``quilt``: as quilt's own push (a stop says no "Now at patch")."""
    ws.require_series()
    recover(ws, emit)
    with ws.transaction(command or "push"):
        # a fresh clone's missing tree is fetched in the same transaction: one step to undo
        if not ws.tree.is_dir():
            ws.ensure_tree(emit)
            ws.reload()
            ws.fs.savepoint()
        outcome = _push_planned(ws, emit, target=target, all_=all_, count=count, fuzz=fuzz,
                                force=force, dry_run=dry_run, merge=merge, refresh=refresh, quilt=quilt)
    if quilt and outcome.stop:
        return outcome  # quilt stops at a forced push or conflicts: no "Now at patch"
    if not dry_run:
        emit(ev.NowAt(ws.stack.top() or ""))
    return outcome


def _push_planned(ws: Workspace, emit: Emit, *, target: Optional[str], all_: bool,
                  count: Optional[int], fuzz: int, force: bool, dry_run: bool, merge: bool,
                  refresh: Optional[Callable[[], object]] = None, quilt: bool = False) -> PushOutcome:
    if not ws.series.entries:
        raise NothingToDo("No patches in series")
    if ws.series_altered():
        # pushing now would build on a stack the series no longer describes (quilt mode's
        # commands have said quilt's words already, as the workspace opened)
        raise F5QuiltError(f"The series file ({ws.settings.series.name}) no longer matches the "
                           "applied patches; pop them (pop -a), then push again")
    todo = ws.unapplied()
    if count == 0 and ws.settings.dialect is Dialect.QUILT:
        raise NothingToDo("No patch applied")
    if target is not None and not all_ and ws.resolve_name(target) in ws.stack.applied():
        raise NothingToDo(f"Patch {ws.display(ws.resolve_name(target))} is currently applied")
    if not todo:
        top = ws.stack.top()
        raise NothingToDo(f"File series fully applied, ends at patch {ws.display(top or '')}")
    name = None
    if all_:
        plan = todo
    elif target is not None:
        name = ws.resolve_name(target)
        if name in ws.stack.applied():
            raise NothingToDo(f"Patch {ws.display(name)} is currently applied")
        if name not in todo:
            raise F5QuiltError(f"Patch {ws.display(name)} lies below the top patch; pop to it first")
        plan = todo[:todo.index(name) + 1]
    else:
        plan = todo[:count or 1]
    plan = skip_guarded(ws, emit, todo, plan, target=name, count=None if all_ or name else count or 1)
    if dry_run:
        for name in plan[:1]:
            push_one(ws, name, emit, fuzz=fuzz, force=force, dry_run=True, merge=merge, quilt=quilt)
            emit(ev.DryRunApplies(name))
        return PushOutcome(dry_run=True)
    return push_plan(ws, emit, plan, fuzz=fuzz, force=force, merge=merge, refresh=refresh, quilt=quilt)


def skip_guarded(ws: Workspace, emit: Emit, todo: List[str], plan: List[str], *,
                 target: Optional[str] = None, count: Optional[int] = None) -> List[str]:
    """``plan`` without the patches the selected guards rule out, each said; with ``count``,
    as many pushable patches as asked. Costs nothing when no patch has guards."""
    if not any(e.guards for e in ws.series.entries):
        return plan
    from f5quilt.ops.stack.guards import guarded_out, why_text  # lazy: start-up
    skipped = guarded_out(ws, todo)
    if target is not None and target in skipped:
        raise F5QuiltError(f"Patch {ws.display(target)} is {why_text(skipped[target])} "
                           "(f5quilt select, or f5quilt guard --none)")
    if count is not None:
        plan, wanted = [], count
        for name in todo:
            plan.append(name)
            wanted -= name not in skipped
            if not wanted:
                break
    kept = []
    for name in plan:
        if name in skipped:
            emit(ev.Skipped(name, why_text(skipped[name])))
        else:
            kept.append(name)
    if not kept:
        raise NothingToDo(f"No patch to apply: {len(plan)} left, all guarded")
    return kept


def push_plan(ws: Workspace, emit: Emit, plan: List[str], *, fuzz: int, force: bool, merge: bool,
              refresh: Optional[Callable[[], object]] = None, quilt: bool = False) -> PushOutcome:
    outcome = PushOutcome()
    emit(ev.Plan("Pushing", len(plan)))  # -q on a terminal: a progress bar over a long series
    for name in plan:
        res = push_one(ws, name, emit, fuzz=fuzz, force=force, merge=merge, quilt=quilt)
        outcome.pushed.append(name)
        if refresh is not None and not res.forced and not res.conflicts:
            refresh()  # quilt's push --refresh: the patch as it now sits on the tree
            ws.fs.savepoint()
        left = tuple(sorted(set(res.conflicts) - set(res.replayed)))
        emit(ev.Pushed(name, forced=res.forced, conflicts=left,
                       replayed=bool(res.conflicts) and not left))
        if res.conflicts:
            outcome.stop = Stop.CONFLICTS
            break
        if res.forced:
            outcome.stop = Stop.FORCED
            break
    return outcome


# -- pop -----------------------------------------------------------------
def _restore_backups(ws: Workspace, name: str) -> None:
    bdir = ws.stack.backup_dir(name)
    empty = ws.stack.existed_empty(name)
    for rel in list(ws.stack.backup_files(name)):
        backup = bdir / rel
        target = ws.inside(rel)
        if backup.stat().st_size == 0 and rel not in empty:
            # quilt's convention: an empty backup means the file did not exist
            ws.fs.unlink(target, prune_to=ws.tree)
            continue
        ws.fs.move(backup, target)  # as quilt: the backup goes back into place


def _finish_pop(ws: Workspace, name: str) -> None:
    if ws.stack.backup_dir(name).is_dir():
        _restore_backups(ws, name)
    applied = ws.stack.applied()
    if applied and applied[-1] == name:
        ws.stack.write_applied(applied[:-1])
    ws.stack.forget(name)
    ws.fs.savepoint()


def recorded_after(ws: Workspace, name: str, old: Dict[str, Optional[bytes]]) -> Dict[str, Optional[bytes]]:
    """Each file of ``name`` as its patch file says: ``old`` (before) with the patch applied."""
    if not ws.patch_file(name).exists():
        return dict(old)
    entry = ws.entry(name)
    patch = ws.oriented(name)
    res = apply_patch(patch, lambda r: old.get(r), strip=entry.strip, fuzz=REPLAY_FUZZ, display=ws.display(name))
    return {rel: (res.changes[rel].after if rel in res.changes else data) for rel, data in old.items()}


def backups_of(ws: Workspace, name: str) -> Dict[str, Optional[bytes]]:
    return {rel: ws.stack.backup(name, rel) for rel in ws.stack.backup_files(name)}


def pop_check(ws: Workspace, name: str) -> List[str]:
    """Files of the top patch ``name`` that hold edits not in its patch file.

    A file is fine when its content is what push (or the last refresh) left,
    by hash, or else what the patch file makes of its backup: that covers
    patches GNU quilt pushed, files quilt added, and quilt refreshes.
    """
    sums = ws.stack.read_sums(name) or {}
    suspects = [rel for rel in ws.stack.backup_files(name)
                if rel not in sums or digest(ws.read_tree(rel)) != sums[rel]]
    if not suspects:
        return []
    try:
        recorded = recorded_after(ws, name, backups_of(ws, name))
    except F5QuiltError:
        return suspects
    return [rel for rel in suspects if ws.read_tree(rel) != recorded.get(rel)]


def _damaged_backup(ws: Workspace, name: str) -> Optional[str]:
    """The first backup of ``name`` that no longer holds what push (or add) put there
    (truncated, edited by hand), as a path: pop would otherwise restore it silently."""
    bdir = ws.stack.backup_dir(name)
    empty = ws.stack.existed_empty(name)
    for rel, want in sorted(ws.stack.read_backup_sums(name).items()):
        try:
            with open(bdir / rel, "rb") as fh:
                data: Optional[bytes] = fh.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            continue  # gone or not a file: not a backup to trust or distrust
        if not data and rel not in empty:
            data = None  # quilt's empty backup: the file did not exist
        if digest(data) != want:
            return os.path.relpath(bdir / rel, ws.settings.base)
    return None


def pop_one(ws: Workspace, emit: Emit, *, force: bool = False, quilt: bool = False) -> str:
    """Pop the top patch; ``quilt``: as quilt's own pop (its refusal, its empty backups)."""
    name = ws.stack.top()
    assert name is not None
    if not force:
        damaged = _damaged_backup(ws, name)
        if damaged:
            raise F5QuiltError(f"{damaged}: the backup changed since push made it (damaged?): popping would "
                               "put it in the tree; restore it, or pop -f")
        bad = pop_check(ws, name)
        if bad:
            if quilt:
                raise F5QuiltError(f"Patch {ws.display(name)} does not remove cleanly "
                                   "(refresh it or enforce with -f)\n"
                                   "Hint: `quilt diff -z' will show the pending changes.")
            for rel in bad:
                emit(ev.NotInPatch(rel))
            raise F5QuiltError(f"Patch {ws.display(name)} does not remove cleanly "
                               "(refresh it or enforce with -f)")
    conflicted = ws.stack.conflicts(name)
    if conflicted:
        emit(ev.ConflictsDropped(name, tuple(sorted(conflicted))))
    files = sorted(ws.stack.backup_files(name))  # one walk of .pc/NAME, for the words and the lines
    emit(ev.Removing(name, empty=not files))
    bdir = ws.stack.backup_dir(name)
    empty: Optional[Set[str]] = None  # read once, when an empty backup first asks
    for rel in files:
        # quilt's backup-files: an empty backup (a file the patch created) is removed
        gone = quilt and (bdir / rel).stat().st_size == 0
        if gone:
            empty = ws.stack.existed_empty(name) if empty is None else empty
            gone = rel not in empty
        emit(ev.Restoring(rel, removed=gone))
    with ws.transaction(f"pop {name}"):
        _finish_pop(ws, name)
    emit(ev.Popped(name))
    return name


def unshare_top(ws: Workspace) -> None:
    """quilt's pop (``backup-files -L``): the files of the patch now on top get a link count
    of one, so an edit in place cannot show through another hard link (a file added but
    not changed, a link made since). Measured with quilt 0.66: whatever its backups' links."""
    top = ws.stack.top()
    if top is None or not ws.stack.backup_dir(top).is_dir():
        return
    for rel in ws.stack.backup_files(top):
        ws.fs.unshare(ws.inside(rel))


def pop(ws: Workspace, emit: Emit, *, target: Optional[str] = None, all_: bool = False,
        count: Optional[int] = None, force: bool = False, command: Optional[str] = None,
        refresh: Optional[Callable[[], object]] = None, quilt: bool = False) -> PopOutcome:
    """Pop patches; with ``refresh`` (``pop --refresh``) each is refreshed just before it is popped."""
    recover(ws, emit)
    applied = ws.stack.applied()
    if target is not None and ws.settings.dialect is Dialect.QUILT:
        ws.resolve_name(target)  # quilt: "is not in series" comes first
    if not applied or (count == 0 and ws.settings.dialect is Dialect.QUILT):
        raise NothingToDo("No patch removed")
    if ws.stack.needs_refresh(applied[-1]) and not force:
        raise F5QuiltError(f"Patch {ws.display(applied[-1])} needs to be refreshed first.")
    if all_:
        n = len(applied)
    elif target is not None:
        name = ws.resolve_name(target)
        if name not in applied:
            raise F5QuiltError(f"Patch {ws.display(name)} is not applied")
        n = len(applied) - applied.index(name) - 1
        if n == 0:
            raise NothingToDo(f"Patch {ws.display(name)} is already on top")
    else:
        n = min(count or 1, len(applied))
    outcome = PopOutcome()
    with ws.transaction(command or "pop"):
        emit(ev.Plan("Popping", n))
        for _ in range(n):
            if refresh is not None:
                refresh()
                ws.fs.savepoint()
            outcome.popped.append(pop_one(ws, emit, force=force, quilt=quilt))
        unshare_top(ws)
    top = ws.stack.top()
    emit(ev.NowAt(top))
    return outcome


# -- merge against what the patch was written on -------------------------
def preimage_reader(ws: Workspace, name: str, base: "Reader") -> "Reader":
    """The tree as patch ``name`` was written against it: base + earlier patches."""
    written = WrittenOn(base)
    for earlier in ws.series.names:
        if earlier == name:
            break
        written.advance(ws.oriented(earlier), ws.entry(earlier).strip, ws.display(earlier))
    return written.snapshot()


def merge_failed_files(ws: Workspace, name: str, result: PatchResult,
                       pre: "Optional[Reader]" = None) -> Dict[str, int]:
    """Merge every file with rejected hunks; returns {file: conflicts} for those left.

    ``pre`` is the tree the patch was written against; by default the pinned
    upstream with the earlier patches of the series (rebase passes the old
    pin with the original patches)."""
    if pre is None:
        up = ws.upstream()
        if up is None:
            raise F5QuiltError("push --merge needs an upstream pin in the settings (f5quilt.yaml: upstream:)")
        pre = preimage_reader(ws, name, up.reader())
    entry = ws.entry(name)
    patch = ws.oriented(name)
    exact = apply_patch(patch, pre, strip=entry.strip, fuzz=0, display=ws.display(name))
    if not exact.ok:
        if result.ok:
            return {}  # only offsets to check, and nothing to check them against
        raise F5QuiltError(f"{ws.display(name)} does not apply to its own base "
                           "(pinned upstream + earlier patches); cannot merge")
    from f5quilt.engine.merge import merge_into  # git is only needed here
    return merge_into(result, pre, exact, ws.display(name))


# -- goto ----------------------------------------------------------------------
def goto(ws: Workspace, emit: Emit, given: str, *, fuzz: int = 0, merge: bool = False) -> Optional[Stop]:
    """Push or pop until ``given`` is the top patch: one transaction, one step to undo."""
    ws.require_series()
    recover(ws, emit)
    name = ws.resolve_name(given)
    applied = ws.stack.applied()
    command = f"goto {name}"
    if name in applied:
        if applied[-1] == name:
            raise NothingToDo(f"Patch {ws.display(name)} is already on top")
        pop(ws, emit, target=name, command=command)
        return None
    if name not in ws.unapplied():
        raise F5QuiltError(f"Patch {ws.display(name)} lies below the top patch but is not applied "
                           f"(skipped by its guards?); pop below it first")
    return push(ws, emit, target=name, fuzz=fuzz, merge=merge, command=command).stop
