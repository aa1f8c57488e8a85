"""The journal's and the log's entries, typed, and what each kind means: one interpreter.

A transaction journals every change before it makes it, one JSON object a line (its kind,
the root and path, the before-image's object, modes...); ``commit`` copies the same objects
into the log entry's manifest. They are read back three ways: **rollback** (a killed or
failed command's journal put back, straight on disk, each step idempotent), **undo** (a
logged command's before-state, written through a new transaction so that the undo is
undoable too) and **redo** (its after-state). Each kind is one class below that knows all
three, and ``parse_op`` checks every field the interpreter reads once, for the journal and
the log alike; ``Op.paths`` is what the one path gate (``Roots.locate``) checks before any
of it runs. ``repo/transaction.py`` (rollback, repair) and ``ops/stack/undo.py`` (undo,
redo) both run entries through here.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Protocol, Set, Tuple

from f5quilt.errors import F5QuiltError
from f5quilt.fsutil import TMP_PREFIX
from f5quilt.repo.layout import DEAD

Key = Tuple[str, str]  # (root, path below it)
_OBJECT = re.compile(r"[bc]\d{1,9}|[0-9a-f]{40}")
_AFTER = re.compile(r"[0-9a-f]{40}|=[bc]\d{1,9}")


class TransactionError(F5QuiltError):
    """Journal, log or transaction state that cannot be trusted (repair quarantines it)."""


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def valid_rel(rel: Any, what: str) -> str:
    """A relative name read from state: plain, no ``..``, no absolute path, no NUL."""
    if not isinstance(rel, str) or not rel or "\0" in rel or rel.startswith("/"):
        raise TransactionError(f"{what}: unsafe name {rel!r}")
    if rel != "." and any(p in ("..", ".", "") for p in rel.split("/")):
        raise TransactionError(f"{what}: unsafe name {rel!r}")
    return rel


class Places(Protocol):
    """What the interpreter needs of ``transaction.Roots``: a root's folder, the path gate."""
    dirs: Dict[str, Path]

    def path(self, root: str, rel: str) -> Path: ...

    def locate(self, path: Path) -> Key: ...


class Writer(Protocol):
    """What undo and redo write through: the new command's ``Transaction``."""

    def write(self, path: Path, data: bytes, mode: Optional[int] = None) -> None: ...

    def unlink(self, path: Path, prune_to: Optional[Path] = None) -> None: ...

    def prune(self, directory: Path, stop: Path) -> None: ...

    def mkdirs(self, directory: Path) -> None: ...

    def rename_dir(self, src: Path, dst: Path) -> None: ...

    def discard_dir(self, path: Path) -> None: ...


@dataclass
class Rollback:
    """Putting a journal back on disk: ``d`` the journal's folder (objects/, trash/),
    ``spare`` files another program saved meanwhile (left as they are), ``busy`` folders
    that were not empty yet when their own entry came (tried again at the end)."""
    d: Path
    roots: Places
    spare: "frozenset[Key]" = frozenset()
    busy: List[Path] = field(default_factory=list)
    tick: Callable[[], None] = lambda: None


@dataclass
class Replay:
    """Undo or redo of one logged command through ``txn``: ``entry_dir`` holds its objects;
    files that no longer hold the side being left are collected in ``stale`` (the caller
    refuses); ``skip`` roots are left alone."""
    txn: Writer
    roots: Places
    entry_dir: Path
    command: str
    base: Path
    skip: "Set[str] | frozenset[str]" = frozenset()
    stale: List[str] = field(default_factory=list)

    def object(self, name: str) -> bytes:
        return (self.entry_dir / "objects" / name).read_bytes()


def _current(path: Path) -> Optional[str]:
    try:
        with open(path, "rb") as fh:
            return sha1(fh.read())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


@dataclass(frozen=True)
class Op:
    """One journalled change."""
    kind = ""

    def paths(self) -> List[Key]:
        raise NotImplementedError

    def rollback(self, r: Rollback) -> None:
        """Put back the state before this change, on disk (idempotent)."""
        raise NotImplementedError

    def replay(self, r: Replay, backwards: bool) -> None:
        """Undo (``backwards``) or redo this change through a new transaction."""
        raise NotImplementedError

    def to_json(self) -> Dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class AtPath(Op):
    root: str
    rel: str

    def paths(self) -> List[Key]:
        return [(self.root, self.rel)]


@dataclass(frozen=True)
class FileOp(AtPath):
    """A file written, linked or removed: ``before`` the object of its old content (None:
    there was none), ``after`` (in the log) its new content's hash, or ``=OBJECT``."""
    kind = "file"
    before: Optional[str] = None
    mode: Optional[int] = None
    mode_after: Optional[int] = None
    after: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"op": "file", "root": self.root, "rel": self.rel, "mode": self.mode,
                               "before": self.before}
        if self.mode_after is not None:
            out["mode_after"] = self.mode_after
        if self.after is not None:
            out["after"] = self.after
        return out

    def rollback(self, r: Rollback) -> None:
        if (self.root, self.rel) in r.spare:
            return
        path = r.roots.path(self.root, self.rel)
        tmp = path.with_name(TMP_PREFIX + path.name[:200])
        if os.path.lexists(tmp):  # a write killed before its rename
            os.unlink(tmp)
        if self.before is None:
            if os.path.lexists(path) and not os.path.isdir(path):
                os.unlink(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        obj = r.d / "objects" / self.before
        if os.path.lexists(path) and os.path.samefile(path, obj):
            # never replaced (rename(2) of two links to one inode does nothing)
            if self.mode is not None:
                os.chmod(path, self.mode)
            return
        try:
            os.link(obj, tmp)
        except OSError:
            shutil.copyfile(obj, tmp)
        if self.mode is not None:
            os.chmod(tmp, self.mode)
        os.replace(tmp, path)

    def replay(self, r: Replay, backwards: bool) -> None:
        if self.root in r.skip:
            return
        path = r.roots.path(self.root, self.rel)
        before, after = self.before, self.after
        if after is not None and after.startswith("="):  # the same content as an object
            after = sha1(r.object(after[1:]))
        current = _current(path)
        target = before if backwards else after
        if target is not None and re.fullmatch(r"[bc]\d+", target):  # an object by position
            target = sha1(r.object(target))
        if current == target:
            return  # already what it should become: nothing to check, nothing to lose
        objects = r.entry_dir / "objects"
        if backwards:
            if current != after:
                r.stale.append(os.path.relpath(path, r.base))
                return
            if after is not None and not (objects / f"a{after}").exists():
                # the after-image, kept now for a redo (the file is replaced, not edited)
                os.link(path, objects / f"a{after}")
            if before is None:
                r.txn.unlink(path, prune_to=r.roots.dirs[self.root])
            else:
                r.txn.write(path, r.object(before), self.mode)
            return
        want = None if before is None else sha1(r.object(before))
        if current != want:
            r.stale.append(os.path.relpath(path, r.base))
            return
        if after is None:
            r.txn.unlink(path, prune_to=r.roots.dirs[self.root])
        elif (objects / f"a{after}").exists():
            r.txn.write(path, r.object(f"a{after}"), self.mode_after)
        else:
            raise F5QuiltError(f"cannot redo `{r.command}`: its result was not kept")


@dataclass(frozen=True)
class MkdirOp(AtPath):
    """A folder made (removed again once empty)."""
    kind = "mkdir"

    def to_json(self) -> Dict[str, Any]:
        return {"op": "mkdir", "root": self.root, "rel": self.rel}

    def rollback(self, r: Rollback) -> None:
        path = r.roots.path(self.root, self.rel)
        try:
            path.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            r.busy.append(path)

    def replay(self, r: Replay, backwards: bool) -> None:
        if self.root in r.skip:
            return
        path = r.roots.path(self.root, self.rel)
        if backwards:
            r.txn.prune(path, path.parent)
        else:
            r.txn.mkdirs(path)


@dataclass(frozen=True)
class RmdirOp(AtPath):
    """An empty folder pruned (made again, with its mode)."""
    kind = "rmdir"
    mode: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        return {"op": "rmdir", "root": self.root, "rel": self.rel, "mode": self.mode}

    def rollback(self, r: Rollback) -> None:
        path = r.roots.path(self.root, self.rel)
        path.mkdir(parents=True, exist_ok=True)
        if self.mode is not None:
            os.chmod(path, self.mode)

    def replay(self, r: Replay, backwards: bool) -> None:
        if self.root in r.skip:
            return
        path = r.roots.path(self.root, self.rel)
        if backwards:
            r.txn.mkdirs(path)
        else:
            r.txn.prune(path, path.parent)


@dataclass(frozen=True)
class RenameOp(Op):
    """A whole folder moved (a tree set aside by rebase)."""
    kind = "rename"
    src: Key = ("", "")
    dst: Key = ("", "")

    def paths(self) -> List[Key]:
        return [self.src, self.dst]

    def to_json(self) -> Dict[str, Any]:
        return {"op": "rename", "src": list(self.src), "dst": list(self.dst)}

    def rollback(self, r: Rollback) -> None:
        src, dst = r.roots.path(*self.src), r.roots.path(*self.dst)
        if os.path.lexists(dst) and not os.path.lexists(src):
            os.rename(dst, src)

    def replay(self, r: Replay, backwards: bool) -> None:
        src, dst = r.roots.path(*self.src), r.roots.path(*self.dst)
        if backwards:
            r.txn.rename_dir(dst, src)
        else:
            r.txn.rename_dir(src, dst)


@dataclass(frozen=True)
class ScratchOp(AtPath):
    """A scratch folder (a build's): removed by a rollback, nothing to undo or redo."""
    kind = "scratch"

    def to_json(self) -> Dict[str, Any]:
        return {"op": "scratch", "root": self.root, "rel": self.rel}

    def rollback(self, r: Rollback) -> None:
        shutil.rmtree(r.roots.path(self.root, self.rel), ignore_errors=True)

    def replay(self, r: Replay, backwards: bool) -> None:
        return


@dataclass(frozen=True)
class AdoptOp(AtPath):
    """A built folder moved into place (a fetched tree): rolled back by removing it."""
    kind = "adopt"

    def to_json(self) -> Dict[str, Any]:
        return {"op": "adopt", "root": self.root, "rel": self.rel}

    def rollback(self, r: Rollback) -> None:
        path = r.roots.path(self.root, self.rel)
        if not path.exists():
            return
        # into the state folder, whose .dead-* the next repair removes: a kill inside rmtree
        # leaves nothing behind for good (beside the tree it would)
        dead = r.d.parent / f"{DEAD}adopt-{self.root}-{hashlib.sha1(self.rel.encode()).hexdigest()[:12]}"
        shutil.rmtree(dead, ignore_errors=True)
        try:
            os.rename(path, dead)
        except OSError:  # another file system: beside the folder, as before
            dead = path.with_name(DEAD + path.name)
            shutil.rmtree(dead, ignore_errors=True)
            os.rename(path, dead)
        shutil.rmtree(dead, ignore_errors=True)

    def replay(self, r: Replay, backwards: bool) -> None:
        if not backwards:
            raise F5QuiltError(f"cannot redo `{r.command}`: it fetched a tree; run it again")
        r.txn.discard_dir(r.roots.path(self.root, self.rel))


@dataclass(frozen=True)
class DiscardOp(AtPath):
    """A whole folder set aside into the entry's trash (slot ``slot``), kept for undo."""
    kind = "discard"
    slot: int = 0

    def to_json(self) -> Dict[str, Any]:
        return {"op": "discard", "root": self.root, "rel": self.rel, "slot": self.slot}

    def rollback(self, r: Rollback) -> None:
        path = r.roots.path(self.root, self.rel)
        held = r.d / "trash" / str(self.slot)
        if not held.exists():
            return
        if os.path.isdir(path) and not os.path.islink(path):
            # made again under the same name later (a popped patch pushed again): its files are
            # rolled back already, so only the empty folder is left, whose own entry comes later
            try:
                os.rmdir(path)
            except OSError:
                return
        if not os.path.lexists(path):
            os.rename(held, path)

    def replay(self, r: Replay, backwards: bool) -> None:
        path = r.roots.path(self.root, self.rel)
        if not backwards:
            r.txn.discard_dir(path)
            return
        held = r.entry_dir / "trash" / str(self.slot)
        if not held.is_dir():
            raise F5QuiltError(f"cannot undo `{r.command}`: what it removed is gone from the log")
        r.txn.rename_dir(held, path)


_AT_PATH = {"file": FileOp, "mkdir": MkdirOp, "rmdir": RmdirOp, "scratch": ScratchOp, "adopt": AdoptOp,
            "discard": DiscardOp}


def parse_op(e: Any, where: str, known_roots: Optional[Dict[str, Path]] = None, *, log: bool = False) -> Op:
    """A journal (or, ``log``, a manifest) entry as its typed op, every field the interpreter
    reads checked for type (and, with ``known_roots``, each root known): malformed state is
    refused before any of it is run."""
    if not isinstance(e, dict):
        raise TransactionError(f"{where}: journal line is not an object")
    op = e.get("op")

    def root_ok(root: Any) -> str:
        if not isinstance(root, str) or (known_roots is not None and root not in known_roots):
            raise TransactionError(f"{where}: unknown root {root!r}")
        return root

    def mode_ok(key: str) -> Optional[int]:
        m = e.get(key)
        if m is not None and (not isinstance(m, int) or isinstance(m, bool) or not 0 <= m < 1 << 32):
            raise TransactionError(f"{where}: malformed {key} {m!r}")
        return m

    if op == "rename":
        sides = []
        for side in ("src", "dst"):
            v = e.get(side)
            if not (isinstance(v, list) and len(v) == 2):
                raise TransactionError(f"{where}: malformed rename entry")
            sides.append((root_ok(v[0]), valid_rel(v[1], where)))
        return RenameOp(sides[0], sides[1])
    if not isinstance(op, str) or op not in _AT_PATH:
        raise TransactionError(f"{where}: unknown journal entry {op!r}")
    root, rel = root_ok(e.get("root")), valid_rel(e.get("rel"), where)
    if op == "file":
        b = e.get("before")
        if b is not None and not (isinstance(b, str) and _OBJECT.fullmatch(b)):
            raise TransactionError(f"{where}: malformed object name {b!r}")
        after = e.get("after") if log else None
        if after is not None and not (isinstance(after, str) and _AFTER.fullmatch(after)):
            raise TransactionError(f"{where}: malformed object name {after!r}")
        return FileOp(root, rel, b, mode_ok("mode"), mode_ok("mode_after"), after)
    if op in ("mkdir", "rmdir"):
        mode = mode_ok("mode")
        return RmdirOp(root, rel, mode) if op == "rmdir" else MkdirOp(root, rel)
    if op == "discard":
        slot = e.get("slot")
        if not isinstance(slot, int) or isinstance(slot, bool) or not 0 <= slot < 1 << 31:
            raise TransactionError(f"{where}: malformed slot {slot!r}")
        return DiscardOp(root, rel, slot)
    made: Op = _AT_PATH[op](root, rel)
    return made


def gate(ops: List[Op], roots: Places) -> None:
    """The one path gate, for replayed entries too: none may steer a change through a
    symlink out of its root (``Roots.locate``, as every forward change)."""
    for op in ops:
        for root, rel in op.paths():
            roots.locate(roots.path(root, rel))


def roll_back(ops: List[Op], r: Rollback) -> None:
    """Put back the before-state of ``ops`` (newest last in the list, undone first); each
    step is idempotent. A folder the transaction made is removed once empty: a write
    journals its file before the folders it makes, so a folder may still hold that file when
    its own entry is undone; those are tried again at the end, deepest first."""
    gate(ops, r.roots)
    for op in reversed(ops):
        r.tick()
        op.rollback(r)
    for path in sorted(r.busy, key=lambda p: len(p.parts), reverse=True):
        try:
            path.rmdir()  # only if empty: never anything the transaction did not make
        except OSError:
            pass


def replay(ops: List[Op], r: Replay, backwards: bool) -> None:
    """One side of a logged command through a new transaction: its before-state (undo,
    newest change first) or its after-state (redo); files that changed since land in
    ``r.stale`` for the caller to refuse over."""
    for op in (reversed(ops) if backwards else ops):
        op.replay(r, backwards)
