"""The stash: unrecorded work a forced command would otherwise destroy, kept by name.

Commands that replace or delete tree files (undo/redo of a fetch or a rebase, rebase,
``upstream fetch --replace``) refuse while the tree holds work no patch records
(``ops/drift.unrecorded_work``). Where the user forces them, that work is copied here
first, inside the same transaction, so it lives somewhere the bounded log never prunes:
``<state>/stash/<id>/manifest.json`` (command, time, files) and ``objects/<sha1>``.
``stash list/show/apply/drop`` read and restore it.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from f5quilt.errors import F5QuiltError
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.ops.stack.drift import Unrecorded, unrecorded_work
from f5quilt.repo.journal import sha1
from f5quilt.repo.transaction import Transaction
from f5quilt.repo.workspace import Workspace

STASH = "stash"


@dataclass
class StashedFile:
    file: str
    why: str
    object: Optional[str]  # sha1 of the content; None: the work was the file's deletion
    mode: Optional[int] = None


@dataclass
class Stash:
    id: int
    command: str
    time: float
    files: List[StashedFile] = field(default_factory=list)
    path: Path = Path()

    def content(self, f: StashedFile) -> Optional[bytes]:
        return None if f.object is None else (self.path / "objects" / f.object).read_bytes()

    def to_json(self) -> Dict[str, Any]:
        return {"id": self.id, "command": self.command,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.time)),
                "files": [{"file": f.file, "why": f.why, "deleted": f.object is None} for f in self.files]}


def _root(ws: Workspace) -> Path:
    return ws.state_dir / STASH


def stash_work(ws: Workspace, txn: Transaction, lost: List[Unrecorded], command: str) -> int:
    """Copy the tree's unrecorded files into a new stash entry, inside ``txn``; its id."""
    root = _root(ws)
    ids = [int(p.name) for p in root.iterdir() if p.name.isdigit()] if root.is_dir() else []
    sid = max(ids, default=0) + 1
    d = root / str(sid)
    files = []
    for u in lost:
        path = ws.tree / u.file
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            digest = sha1(data)
            txn.write(d / "objects" / digest, data)
            files.append({"file": u.file, "why": u.why, "object": digest, "mode": path.stat().st_mode & 0o7777})
        else:
            files.append({"file": u.file, "why": u.why, "object": None, "mode": None})
    manifest = {"command": command, "time": time.time(), "files": files}
    txn.write(d / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode())
    return sid


def _read(path: Path) -> Stash:
    where = path / "manifest.json"
    try:
        m = json.loads(where.read_text())
        files = []
        for f in m["files"]:
            rel, obj = f["file"], f["object"]
            if not isinstance(rel, str) or rel.startswith("/") or ".." in rel.split("/") or \
                    not (obj is None or (isinstance(obj, str) and re.fullmatch(r"[0-9a-f]{40}", obj))):
                raise ValueError(rel)
            mode = f.get("mode")
            files.append(StashedFile(rel, str(f["why"]), obj, int(mode) if mode is not None else None))
        return Stash(int(path.name), str(m["command"]), float(m["time"]), files, path)
    except (OSError, ValueError, KeyError, TypeError):
        raise F5QuiltError(f"{where}: malformed stash entry") from None


def stashes(ws: Workspace) -> List[Stash]:
    root = _root(ws)
    if not root.is_dir():
        return []
    return [_read(p) for p in sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))]


def get(ws: Workspace, sid: Optional[int]) -> Stash:
    found = stashes(ws)
    if not found:
        raise F5QuiltError("no stash entries")
    if sid is None:
        return found[-1]
    for s in found:
        if s.id == sid:
            return s
    raise F5QuiltError(f"no stash entry {sid} (f5quilt stash list)")


def apply(ws: Workspace, sid: Optional[int]) -> Stash:
    """Put a stash's files back into the tree, one transaction; refuses where a file it would
    overwrite holds unrecorded work of its own (that would be lost in turn)."""
    s = get(ws, sid)
    busy = {u.file for u in unrecorded_work(ws)} if ws.upstream() is not None else set()
    clash = [f.file for f in s.files if f.file in busy and _tree_bytes(ws, f.file) != s.content(f)]
    if clash:
        raise F5QuiltError(f"stash {s.id}: {clash[0]} has unrecorded changes of its own"
                           + (f" (and {len(clash) - 1} more)" if len(clash) > 1 else "")
                           + "; record or revert them first")
    with ws.transaction(f"stash apply {s.id}") as txn:
        for f in s.files:
            path = ws.tree / f.file
            data = s.content(f)
            if data is None:
                txn.unlink(path, prune_to=ws.tree)
            else:
                txn.mkdirs(path.parent)
                txn.write(path, data, f.mode)
    return s


def drop(ws: Workspace, sid: int) -> Stash:
    s = get(ws, sid)
    with ws.transaction(f"stash drop {s.id}") as txn:
        for p in sorted(s.path.rglob("*"), reverse=True):
            if p.is_file():
                txn.unlink(p)
        txn.prune(s.path / "objects", _root(ws))
        txn.prune(s.path, _root(ws))
    return s


def _tree_bytes(ws: Workspace, rel: str) -> Optional[bytes]:
    path = ws.tree / rel
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def refuse_or_stash(ws: Workspace, lost: List[Unrecorded], force: bool, what: str,
                    txn: Optional[Transaction] = None) -> Optional[int]:
    """The one policy for commands that replace tree files: refuse while ``lost`` is not empty;
    with ``force`` keep it in a new stash (inside ``txn``) and return its id."""
    if not lost:
        return None
    if not force or txn is None:
        raise LosesWork(lost, what, ws.settings)
    return stash_work(ws, txn, lost, ws.command_line or what)


class LosesWork(F5QuiltError):
    """A command refused because it would discard work that lives only in the tree."""

    def __init__(self, lost: List[Unrecorded], what: str, settings: Any = None) -> None:
        self.lost = lost
        super().__init__(f"{what} would discard {len(lost)} unrecorded change(s) in the tree: record them "
                         "(f5quilt new NAME; f5quilt add FILE...; f5quilt refresh), or use --force to keep "
                         "them in a stash (f5quilt stash list)",
                         detail="\n".join(u.shown(settings) if settings else str(u) for u in lost))


def refuse_to_lose(ws: Workspace, lost: List[Unrecorded], what: str, force: bool) -> None:
    """The one refusal of a command that would discard unrecorded work (undo and redo of a
    tree swap, rebase, upstream fetch --replace): each file named, nothing changed; with
    ``force`` the command goes on and ``keep_in_stash`` keeps the work first."""
    if lost and not force:
        raise LosesWork(lost, what, ws.settings)


def keep_in_stash(ws: Workspace, txn: Transaction, lost: List[Unrecorded], what: str, emit: Emit) -> None:
    """A forced command's unrecorded work, kept where no pruning reaches it, in ``txn``."""
    if lost:
        sid = stash_work(ws, txn, lost, what)
        emit(ev.Stashed(len(lost), sid))


def describe_files(s: Stash) -> List[str]:
    return [f"{f.file}: {f.why}" + (" (deleted)" if f.object is None else "") for f in s.files]

