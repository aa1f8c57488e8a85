"""undo, redo and log: moving between the states the transaction log recorded (StGit's
``stg undo``/``redo``/``log``). Undo and redo are transactions themselves, logged like any
other command, so an undo can be redone and a killed undo is rolled back."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace
from f5quilt.ops.stack.drift import Unrecorded, tree_upstream, unrecorded_work
from f5quilt.ops.stack.repair import recover
from f5quilt.ops.stack.stash import keep_in_stash, refuse_to_lose
from f5quilt.repo.journal import AdoptOp, DiscardOp, RenameOp, Replay, replay
from f5quilt.repo.transaction import LogEntry, Transaction, describe, read_log, undo_redo_stacks


class UnrecordedChanges(F5QuiltError):
    pass


@dataclass
class LogLine:
    seq: int
    time: float
    command: str
    kind: str
    changed: Dict[str, List[str]]
    undone: bool

    def to_json(self) -> Dict[str, Any]:
        return {"id": self.seq, "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.time)),
                "command": self.command, "kind": self.kind, "changed": self.changed, "undone": self.undone}


def log_lines(ws: Workspace, notes: Optional[List[str]] = None) -> List[LogLine]:
    """The log as lines; ``notes`` receives a line for each malformed entry set aside."""
    entries = read_log(ws.state_dir, notes if notes is not None else [])
    _undoable, redoable = undo_redo_stacks(entries)
    return [LogLine(e.seq, e.time, e.command, e.kind, describe(e), e.seq in redoable) for e in entries]


def _replay(ws: Workspace, txn: Transaction, entry: LogEntry, backwards: bool, emit: Emit,
            skip: "set[str]" = frozenset()) -> None:  # type: ignore[assignment]
    """Put back one side of ``entry`` (``repo/journal.replay``): its before-state (undo) or
    its after-state (redo), refusing when any file no longer holds the other side (an
    unrecorded change)."""
    r = Replay(txn, txn.roots, entry.path, entry.command, ws.settings.base, skip)
    replay(entry.ops, r, backwards)
    if r.stale:
        for rel in r.stale:
            emit(ev.ChangedSince(rel, entry.command))
        raise UnrecordedChanges(f"cannot {'undo' if backwards else 'redo'} `{entry.command}`: "
                                f"{len(r.stale)} file(s) changed since; refresh or revert them first")


def _replaces_tree(entry: LogEntry) -> bool:
    """Whether replaying ``entry`` (either way) swaps whole folders of the tree: a fetch, a
    rebase, ``fetch --replace``. Files replaced one by one are checked by ``_replay`` itself."""
    for op in entry.ops:
        if isinstance(op, (AdoptOp, DiscardOp)) and op.root == "tree":
            return True
        if isinstance(op, RenameOp) and "tree" in (op.src[0], op.dst[0]):
            return True
    return False


def _move(ws: Workspace, emit: Emit, steps: int, backwards: bool, force: bool = False) -> None:
    recover(ws, emit)
    notes: List[str] = []
    entries = read_log(ws.state_dir, notes)
    for note in notes:
        emit(ev.Quarantined(note))
    undoable, redoable = undo_redo_stacks(entries)
    pool = undoable if backwards else redoable
    verb = "undo" if backwards else "redo"
    if not pool:
        raise NothingToDo(f"Nothing to {verb}")
    by_seq = {e.seq: e for e in entries}
    # a group (a rebase's steps) moves as one
    picked: List[int] = []
    for _ in range(steps):
        if not pool:
            break
        seq = pool.pop()
        if seq not in by_seq:  # redo is by entry id: never another command in its place
            raise F5QuiltError(f"cannot {verb}: log entry {seq} is no longer in the log")
        picked.append(seq)
        group = by_seq[seq].group
        while group and pool and pool[-1] in by_seq and by_seq[pool[-1]].group == group:
            picked.append(pool.pop())
    # a whole tree replaced (undo of a fetch or a rebase, redo of fetch --replace) would take
    # any work that lives only in the tree with it: refuse, or with --force stash it first
    lost: List[Unrecorded] = []
    if any(_replaces_tree(by_seq[seq]) for seq in picked) and ws.tree.is_dir():
        lost = unrecorded_work(ws, tree_upstream(ws))
        refuse_to_lose(ws, lost, f"{verb} of `{by_seq[picked[0]].command}`", force)
    # undoing a rebase puts the old tree back and keeps the rebased one, edits and all, in the
    # log: the files inside it need no check and no restoring one by one
    replaced = backwards and any(isinstance(op, AdoptOp) and (op.root, op.rel) == ("tree", ".")
                                 for seq in picked for op in by_seq[seq].ops)
    skip = {"tree", "pc"} if replaced else set()
    with ws.transaction(f"{verb} {steps}" if steps != 1 else verb) as txn:
        txn.kind = verb
        txn.targets = picked
        keep_in_stash(ws, txn, lost, f"{verb} of `{by_seq[picked[0]].command}`", emit)
        for seq in picked:
            _replay(ws, txn, by_seq[seq], backwards, emit, skip)
    for seq in picked:
        emit(ev.Undone(by_seq[seq].command, redone=not backwards))
    if replaced:
        emit(ev.TreeKept())
    ws.reload()
    top = ws.stack.top()
    emit(ev.NowAt(top, spacer=False))
    return


def undo(ws: Workspace, emit: Emit, steps: int = 1, force: bool = False) -> None:
    return _move(ws, emit, steps, backwards=True, force=force)


def redo(ws: Workspace, emit: Emit, steps: int = 1, force: bool = False) -> None:
    return _move(ws, emit, steps, backwards=False, force=force)
