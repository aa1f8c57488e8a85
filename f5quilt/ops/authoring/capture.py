"""Edits made without ``add``: ``capture`` them into a new patch on top, ``absorb`` them into
the applied patches that last touched their lines, or ``restore`` the files.

What counts as an edit is ``drift.tree_drift``'s ground truth (pristine + the applied
patches); what a file should hold is ``expected_content``: the last applied patch holding it,
as its patch file says, or the pristine release.
"""
from __future__ import annotations

import difflib
import os
from typing import Dict, List, Optional, Tuple

from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt.fsutil import DEFAULT_MODE, check_inside
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace


def _up(ws: Workspace) -> object:
    up = ws.upstream()
    if up is None or ws.settings.settings_file is None:
        raise F5QuiltError("this needs an upstream pin in f5quilt.yaml (what the tree should hold comes from it)")
    if not ws.tree.is_dir():
        raise F5QuiltError(f"tree {ws.settings.show_path(ws.tree)} does not exist")
    stale = ws.tree_mismatch()
    if stale:
        raise F5QuiltError(stale)
    return up


def last_holder(ws: Workspace, rel: str) -> Optional[str]:
    """The last applied patch that backed ``rel`` up (None: no applied patch touches it)."""
    return next((p for p in reversed(ws.stack.applied()) if (ws.stack.backup_dir(p) / rel).exists()), None)


def expected_content(ws: Workspace, base: object, rel: str) -> Optional[bytes]:
    """``rel`` as pristine + the applied patches say (their patch files, their last refresh)."""
    from f5quilt.ops.stack.pushpop import recorded_after  # lazy: start-up
    holder = last_holder(ws, rel)
    if holder is None:
        return base(rel)  # type: ignore[operator, no-any-return]
    return recorded_after(ws, holder, {rel: ws.stack.backup(holder, rel)})[rel]


def edited_files(ws: Workspace, files: Optional[List[str]] = None) -> List[str]:
    """The tree's files (relative to it) that differ from pristine + the applied patches;
    ``files`` (tree-relative) narrows them, each of which must be one."""
    from f5quilt.ops.stack.drift import DriftKind, tree_drift  # lazy: start-up
    up = _up(ws)
    found = [d.file for d in tree_drift(ws, up.reader(), up)  # type: ignore[attr-defined]
             if d.kind is not DriftKind.REJECT]
    if files is None:
        return found
    for rel in files:
        if rel not in found:
            raise NothingToDo(f"File {ws.settings.show_file(rel)} holds no edits beyond pristine + the applied patches")
    return [rel for rel in found if rel in files]


def _mode(ws: Workspace, rel: str) -> int:
    try:
        return os.lstat(check_inside(ws.tree, rel)).st_mode
    except FileNotFoundError:
        return DEFAULT_MODE


def capture(ws: Workspace, emit: Emit, name: str, files: Optional[List[str]] = None) -> List[str]:
    """A new patch on top holding every edit made without ``add`` (or those of ``files``):
    one transaction; the tree keeps its content."""
    from f5quilt.ops.authoring.core import add_files_in_transaction, new_patch_in_transaction, refresh_in_transaction, put_tree_file  # lazy: start-up
    from f5quilt.ops.stack.repair import recover  # lazy: start-up
    recover(ws, emit)
    edited = edited_files(ws, files)
    if not edited:
        raise NothingToDo("No edits outside the patches to capture (status shows what changed)")
    base = _up(ws).reader()  # type: ignore[attr-defined]
    expected = {rel: expected_content(ws, base, rel) for rel in edited}
    have = {rel: (ws.read_tree(rel), _mode(ws, rel)) for rel in edited}
    quiet = ev.warnings_only(emit)
    with ws.transaction(f"capture {name}"):
        new_patch_in_transaction(ws, emit, name)
        name = ws.stack.top() or name
        for rel in edited:
            # the backup is what the tree should hold; the tree then gets the edit back
            if ws.read_tree(rel) != expected[rel]:
                put_tree_file(ws, rel, expected[rel])
            add_files_in_transaction(ws, quiet, [str(ws.tree / rel)])
            data, mode = have[rel]
            target = check_inside(ws.tree, rel)
            if data is None:
                if os.path.lexists(target):
                    ws.fs.unlink(target)
            else:
                ws.fs.write(target, data, mode)
            emit(ev.FileCaptured(name, rel))
        refresh_in_transaction(ws, emit, None, force=False, normalize=False)
    return edited


def restore(ws: Workspace, emit: Emit, files: List[str]) -> None:
    """Each file put back as pristine + the applied patches say (one transaction)."""
    from f5quilt.ops.authoring.core import put_tree_file  # lazy: start-up
    from f5quilt.ops.stack.repair import recover  # lazy: start-up
    recover(ws, emit)
    edited = edited_files(ws, files)
    base = _up(ws).reader()  # type: ignore[attr-defined]
    with ws.transaction("restore " + " ".join(files)):
        for rel in edited:
            data = expected_content(ws, base, rel)
            if data is None:
                ws.fs.unlink(check_inside(ws.tree, rel))
            else:
                put_tree_file(ws, rel, data) if os.path.exists(ws.tree / rel) else \
                    ws.fs.write(check_inside(ws.tree, rel), data, DEFAULT_MODE)
            holder = last_holder(ws, rel)
            emit(ev.FileRestored(rel, holder))


def _provenance(ws: Workspace, rel: str) -> Tuple[List[bytes], List[Optional[str]]]:
    """``rel`` as the applied patches leave it, and for each line the patch that last wrote it
    (None: pristine), following the holders of the file in order."""
    from f5quilt.model.patch import split_lines  # lazy: start-up
    from f5quilt.ops.stack.pushpop import recorded_after  # lazy: start-up
    lines: List[bytes] = []
    owner: List[Optional[str]] = []
    first = True
    for p in ws.stack.applied():
        if not (ws.stack.backup_dir(p) / rel).exists():
            continue
        before = ws.stack.backup(p, rel)
        if first:
            lines = split_lines(before or b"")
            owner = [None] * len(lines)
            first = False
        after = split_lines(recorded_after(ws, p, {rel: before})[rel] or b"")
        new_owner: List[Optional[str]] = []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, lines, after, autojunk=False).get_opcodes():
            new_owner.extend(owner[i1:i2] if tag == "equal" else [p] * (j2 - j1))
        lines, owner = after, new_owner
    return lines, owner


def absorb_plan(ws: Workspace, files: Optional[List[str]] = None) -> Dict[str, List[str]]:
    """Which applied patch each edited file's changes go into: ``{patch: [file, ...]}``.
    Refuses (one line, file and lines) a change no patch wrote, one whose lines several
    patches wrote, or one whose patch a later patch follows in the same file."""
    from f5quilt.model.patch import split_lines  # lazy: start-up
    plan: Dict[str, List[str]] = {}
    for rel in edited_files(ws, files):
        shown = ws.settings.show_file(rel)
        holder = last_holder(ws, rel)
        if holder is None:
            raise F5QuiltError(f"{shown}: no applied patch touches this file; "
                               f"`f5quilt capture NAME` makes a patch of it")
        old, owner = _provenance(ws, rel)
        new = split_lines(ws.read_tree(rel) or b"")
        targets = set()
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            where = f"{shown}:{j1 + 1}" + (f"-{j2}" if j2 > j1 + 1 else "")
            if i2 > i1:
                who = set(owner[i1:i2])
            else:  # an insertion: the patch that wrote the lines around it
                who = {o for o in owner[max(i1 - 1, 0):i1 + 1] if o is not None} or {None}
            if None in who:
                raise F5QuiltError(f"{where}: changes lines no applied patch wrote; "
                                   "`f5quilt capture NAME` makes a patch of them")
            if len(who) > 1:
                names = ", ".join(ws.display(p) for p in ws.stack.applied() if p in who)
                raise F5QuiltError(f"{where}: ambiguous, lines written by {names}; "
                                   "add the change to one of them by hand (or capture it)")
            (target,) = who
            if target != holder:
                raise F5QuiltError(f"{where}: last written by {ws.display(str(target))}, but "
                                   f"{ws.display(holder)} changes this file after it; capture it instead")
            targets.add(target)
        for target in targets:
            plan.setdefault(str(target), []).append(rel)
    return plan


def absorb(ws: Workspace, emit: Emit, files: Optional[List[str]] = None) -> Dict[str, List[str]]:
    """Each edit refreshed into the applied patch that last wrote its lines (one transaction);
    the tree is unchanged."""
    from f5quilt.ops.authoring.core import refresh_in_transaction  # lazy: start-up
    from f5quilt.ops.stack.repair import recover  # lazy: start-up
    recover(ws, emit)
    plan = absorb_plan(ws, files)
    if not plan:
        raise NothingToDo("No edits to absorb (status shows what changed)")
    with ws.transaction("absorb"):
        for name in [p for p in ws.stack.applied() if p in plan]:
            for rel in plan[name]:
                emit(ev.Absorbing(name, rel))
            # force: later patches may hold other files of this one; each file's content after
            # it is read from the next holder's backup, so its diff stays what it wrote
            refresh_in_transaction(ws, emit, name, force=True, normalize=False)
    return plan
