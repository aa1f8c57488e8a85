"""quilt's commands that f5quilt had not and that change patches or state: fork, snapshot,
upgrade (quilt's .pc/ format); each is one transaction. Read-only ones are in
``quiltquery.py``, mail in ``mail.py``, setup in ``ops/series/setup.py``."""
from __future__ import annotations

from typing import Optional

from f5quilt.errors import F5QuiltError
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace
from f5quilt.ops.authoring import quiltdiff
from f5quilt.ops.stack.repair import recover
from f5quilt.ops.authoring.quiltdiff import take_snapshot


def fork(ws: Workspace, emit: Emit, new: Optional[str]) -> str:
    from f5quilt.ops.authoring.core import rename_patch_in_transaction, named_or_top  # lazy: start-up
    recover(ws, emit)
    top = named_or_top(ws, None)
    target = new or quiltdiff.next_filename(top)
    prefix = ws.settings.patches_display.rstrip("/") + "/"
    if target.startswith(prefix):
        target = target[len(prefix):]
    ws.patch_name(target, "fork")
    # empty folders (a rolled-back command may leave them) do not count
    if ws.series.get(target) or ws.patch_file(target).exists() or any(True for _ in ws.stack.backup_files(target)):
        raise F5QuiltError(f"Patch {ws.display(target)} exists already, please choose a new name")
    old_file = ws.patch_file(top)
    data = old_file.read_bytes() if old_file.exists() else None
    mode = old_file.stat().st_mode if old_file.exists() else None
    with ws.transaction(f"fork {target}"):
        rename_patch_in_transaction(ws, ev.ignore, top, target)
        if data is not None:
            ws.fs.write(old_file, data, mode)  # the old patch file stays
    emit(ev.Forked(top, target))
    return target


def snapshot(ws: Workspace, emit: Emit, *, remove: bool = False) -> None:
    recover(ws, emit)
    with ws.transaction("snapshot" + (" -d" if remove else "")):
        take_snapshot(ws, remove=remove)


def upgrade(ws: Workspace, emit: Emit) -> None:
    """quilt's upgrade: .pc/ in the version 2 format (the only one f5quilt and quilt 0.66 write)."""
    version = ws.stack.pc / ".version"
    if not ws.stack.pc.is_dir() or (version.is_file() and version.read_text().strip() == "2"):
        emit(ev.PcUpgraded(ws.settings.pc_name, already=True))
        return
    recover(ws, emit)
    emit(ev.PcUpgraded(ws.settings.pc_name, already=False))
    with ws.transaction("upgrade"):
        ws.fs.write(version, b"2\n")
