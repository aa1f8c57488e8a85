"""Remembered conflict resolutions (git's rerere), in f5quilt's state.

* When ``push --merge`` (a rebase step included) leaves conflict markers, the
  conflicted files are kept as the patch's *preimage*
  (``<state>/rerere/pending/<patch>.json``).
* When that patch is refreshed (``refresh``, ``rebase --continue``), each
  conflict block of the preimage and what the user replaced it with are
  recorded (``<state>/rerere/<key>.json``, the key a hash of the block's two
  sides, normalized).
* A later merge meeting a block with a recorded resolution puts that
  resolution in its place and says so. The patch stays marked as conflicted
  (to review): ``push`` puts nothing on top of it and a rebase stops there,
  until it is refreshed (or ``rebase --continue``).

``rerere forget PATCH`` drops a patch's recordings; ``rerere: false`` in
the settings turns all of it off. Every write goes through the command's
transaction. Recordings live outside ``rebase/``, so a ``rebase --abort``
keeps them.
"""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Dict, List, Optional

from f5quilt.engine.apply import PatchResult
from f5quilt.engine.rerere import replay, resolutions
from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace


def rerere_dir(ws: Workspace) -> Path:
    return ws.state_dir / "rerere"


def _pending(ws: Workspace, name: str) -> Path:
    return rerere_dir(ws) / "pending" / (hashlib.sha256(name.encode()).hexdigest()[:32] + ".json")


def _record_path(ws: Workspace, key: str) -> Path:
    return rerere_dir(ws) / f"{key}.json"


def _read_json(path: Path) -> Optional[Dict[str, object]]:
    try:
        data = json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _resolution(ws: Workspace, key: str) -> Optional[bytes]:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        return None
    rec = _read_json(_record_path(ws, key))
    if rec is None or not isinstance(rec.get("resolution"), str):
        return None
    try:
        return base64.b64decode(str(rec["resolution"]), validate=True)
    except ValueError:
        return None


def replay_into(ws: Workspace, name: str, result: PatchResult, conflicts: Dict[str, int],
                emit: Emit) -> List[str]:
    """Replace recorded conflict blocks in the merged files; keep the conflicted
    versions as the patch's preimage. Returns the files now fully resolved by a
    recording (they stay in ``conflicts``: the patch is marked to review)."""
    if not ws.settings.rerere or not conflicts:
        return []
    pre = {rel: base64.b64encode(result.changes[rel].after or b"").decode() for rel in conflicts}
    ws.fs.write(_pending(ws, name), (json.dumps({"patch": name, "files": pre}, indent=1) + "\n").encode())
    resolved: List[str] = []
    for rel in sorted(conflicts):
        change = result.changes[rel]
        data, done, left = replay(change.after or b"", lambda key: _resolution(ws, key))
        if not done:
            continue
        change.after = data
        emit(ev.RerereReplayed(rel, done, left))
        if not left:
            resolved.append(rel)
    return resolved


def record(ws: Workspace, name: str, emit: Emit) -> int:
    """At refresh: what the user made of each conflict block of the patch's preimage."""
    path = _pending(ws, name)
    pending = _read_json(path)
    if pending is None:
        return 0
    files = pending.get("files")
    count = 0
    if ws.settings.rerere and pending.get("patch") == name and isinstance(files, dict):
        for rel, enc in sorted(files.items()):
            try:
                conflicted = base64.b64decode(str(enc), validate=True)
            except ValueError:
                continue
            now = ws.read_tree(str(rel))
            found = resolutions(conflicted, now or b"") if now is not None else None
            if found is None:
                emit(ev.RerereNotRecorded(str(rel)))
                continue
            for key, res in found:
                rec = {"patch": name, "file": rel, "resolution": base64.b64encode(res).decode()}
                ws.fs.write(_record_path(ws, key), (json.dumps(rec, indent=1) + "\n").encode())
                count += 1
    ws.fs.unlink(path, prune_to=rerere_dir(ws))
    if count:
        emit(ev.RerereRecorded(name, count))
    return count


def drop_pending(ws: Workspace, name: str) -> None:
    path = _pending(ws, name)
    if path.exists():
        ws.fs.unlink(path, prune_to=ws.state_dir)


def recorded(ws: Workspace) -> Dict[str, Dict[str, object]]:
    """key -> recording, for every valid recording."""
    out: Dict[str, Dict[str, object]] = {}
    d = rerere_dir(ws)
    if not d.is_dir():
        return out
    for p in sorted(d.glob("*.json")):
        rec = _read_json(p)
        if rec is not None and isinstance(rec.get("patch"), str):
            out[p.stem] = rec
    return out


def forget(ws: Workspace, emit: Emit, given: str) -> None:
    """Drop every recording (and pending preimage) of one patch."""
    from f5quilt.ops.stack.repair import recover  # lazy: start-up
    recover(ws, emit)
    try:
        name = ws.resolve_name(given)
    except F5QuiltError:
        name = given  # no longer in the series (a skipped patch): its recordings still go
    keys = [k for k, rec in recorded(ws).items() if rec.get("patch") == name]
    pending = _pending(ws, name)
    if not keys and not pending.exists():
        raise NothingToDo(f"No recorded resolutions for {ws.display(name)}")
    with ws.transaction(f"rerere forget {given}"):
        for k in keys:
            ws.fs.unlink(_record_path(ws, k), prune_to=ws.state_dir)
        ws.fs.unlink(pending, prune_to=ws.state_dir)
    emit(ev.RerereForgot(name, len(keys)))
    return


def status_lines(ws: Workspace) -> List[str]:
    """One line per recording: patch, file, key prefix."""
    return [f"{ws.display(str(rec['patch']))}: {rec.get('file', '?')} ({k[:12]})" for k, rec in recorded(ws).items()]

