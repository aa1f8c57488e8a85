"""status: where the series stands and what needs attention, as data (text and JSON).

Attention items, each ``{"kind", "file"?, "patch"?, "why"}``:

* ``stale-tree``: the tree was built from another pin than the settings name;
* ``rebase``: a rebase is in progress;
* ``conflicts``: an applied patch with conflict markers left by a merge;
* ``needs-refresh``: an applied patch pushed with -f;
* ``unrefreshed``: a file whose content differs from what its patch records;
* ``added``: a file added to an applied patch (and changed) that its patch file does
  not mention yet;
* ``outside``: a file edited, created or deleted outside any patch (the ignore
  patterns left out);
* ``unknown-applied``: ``.pc/`` lists a patch the series no longer has.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from f5quilt.errors import F5QuiltError
from f5quilt.strenum import StrEnum
from f5quilt.repo.workspace import Workspace


class Kind(StrEnum):
    STALE_TREE = "stale-tree"
    REBASE = "rebase"
    CONFLICTS = "conflicts"
    NEEDS_REFRESH = "needs-refresh"
    UNREFRESHED = "unrefreshed"
    ADDED = "added"
    OUTSIDE = "outside"
    UNKNOWN_APPLIED = "unknown-applied"
    INSTALLED = "installed"


@dataclass
class Attention:
    """One thing that needs the user: what kind, about which file or patch, and why."""
    kind: Kind
    why: str
    file: Optional[str] = None    # tree-relative
    patch: Optional[str] = None
    where: Optional[str] = None   # INSTALLED: the interpreter or target

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"kind": self.kind}
        if self.file is not None:
            out["file"] = self.file
        if self.patch is not None or self.kind is Kind.REBASE:
            out["patch"] = self.patch
        if self.where is not None:
            out["where"] = self.where
        out["why"] = self.why
        return out


@dataclass
class PatchState:
    patch: str
    applied: bool
    conflicts: List[str] = field(default_factory=list)
    needs_refresh: bool = False

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"patch": self.patch, "applied": self.applied}
        if self.applied:
            out["conflicts"] = self.conflicts
            out["needs_refresh"] = self.needs_refresh
        return out


@dataclass
class StatusReport:
    """Everything ``status`` says: the pin, the tree, the stack, and what needs attention."""
    upstream: Optional[str]
    tree: str                      # relative to the current directory
    tree_exists: bool
    tree_built_from: Optional[str]
    series: int
    applied: int
    top: Optional[str]
    patches: List[PatchState]
    attention: List[Attention]

    def to_json(self) -> Dict[str, Any]:
        return {"upstream": self.upstream, "tree": self.tree, "tree_exists": self.tree_exists,
                "tree_built_from": self.tree_built_from, "series": self.series, "applied": self.applied,
                "top": self.top, "patches": [p.to_json() for p in self.patches],
                "attention": [a.to_json() for a in self.attention]}


def _recorded_files(ws: Workspace, name: str) -> List[str]:
    """The files a patch file mentions (empty when it cannot be read)."""
    from f5quilt.ops.authoring.core import mentioned_files  # lazy: start-up
    if not ws.patch_file(name).is_file():
        return []
    try:
        return mentioned_files(ws, name)
    except F5QuiltError:
        return []


def status_report(ws: Workspace) -> StatusReport:
    """Everything ``status`` says, as typed data (``to_json`` for --json)."""
    from f5quilt.ops.stack.drift import DriftKind  # lazy: start-up
    from f5quilt.ops.stack.drift import unrefreshed_files  # lazy: start-up
    from f5quilt.ops.series.rebase import in_progress  # lazy: start-up

    up = ws.upstream()
    tree_exists = ws.tree.is_dir()
    built = ws.tree_pin() if tree_exists else None
    attention: List[Attention] = []
    stale = ws.tree_mismatch()
    if stale:
        attention.append(Attention(Kind.STALE_TREE, stale))
    state = in_progress(ws)
    if state:
        where = f", stopped at {ws.display(state.stopped)}" if state.stopped else ""
        attention.append(Attention(Kind.REBASE, f"rebase in progress onto {state.new_pin.spec}{where}",
                                   patch=state.stopped))
    applied = ws.stack.applied() if tree_exists else []
    names = ws.series.names
    patches: List[PatchState] = []
    for name in names:
        item = PatchState(name, name in applied)
        if item.applied:
            item.conflicts = sorted(ws.stack.conflicts(name) or {})
            item.needs_refresh = ws.stack.needs_refresh(name)
            if item.conflicts:
                attention.append(Attention(
                    Kind.CONFLICTS, f"conflicts in {', '.join(ws.settings.show_file(c) for c in item.conflicts)}",
                    patch=name))
            if item.needs_refresh:
                attention.append(Attention(Kind.NEEDS_REFRESH, "needs refresh", patch=name))
        patches.append(item)
    for name in applied:
        if name not in names:
            attention.append(Attention(Kind.UNKNOWN_APPLIED,
                                       "applied, but not in the series (pop it, or `upstream fetch --replace`)",
                                       patch=name))
    if applied:
        touched = sorted({rel for n in applied for rel in ws.stack.backup_files(n)})
        recorded: Dict[str, List[str]] = {}
        for rel, owner in sorted(unrefreshed_files(ws, touched).items()):
            if owner not in recorded:
                recorded[owner] = _recorded_files(ws, owner) if owner in names else []
            if rel not in recorded[owner]:
                attention.append(Attention(Kind.ADDED, f"added to {ws.display(owner)}; not refreshed yet",
                                           file=rel, patch=owner))
            else:
                attention.append(Attention(Kind.UNREFRESHED, f"changes not refreshed into {ws.display(owner)}",
                                           file=rel, patch=owner))
    if tree_exists and up is not None and not state and not stale:
        # mid-rebase the tree is on the new release; a stale tree is on another one
        from f5quilt.ops.stack.drift import polluted_backups, tree_drift  # lazy: start-up
        pristine = up.reader()
        for d in tree_drift(ws, pristine, up):
            if d.kind is not DriftKind.UNREFRESHED:  # those were said above, per patch
                attention.append(Attention(Kind.OUTSIDE, d.why, file=d.file))
        for u in polluted_backups(ws, pristine):
            attention.append(Attention(Kind.OUTSIDE, u.why, file=u.file))
    from f5quilt.ops.series.install import installed_mismatches  # lazy: start-up
    for m in installed_mismatches(ws):
        attention.append(Attention(Kind.INSTALLED, m["why"], where=m["where"]))
    return StatusReport(up.pin.describe() if up else None, os.path.relpath(ws.tree, ws.settings.base),
                        tree_exists, built.describe() if built else None, len(names), len(applied),
                        applied[-1] if applied else None, patches, attention)
