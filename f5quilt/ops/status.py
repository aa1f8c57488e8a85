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
from typing import Any, Dict, List

from f5quilt.errors import F5QuiltError
from f5quilt.repo.workspace import Workspace


def _recorded_files(ws: Workspace, name: str) -> List[str]:
    """The files a patch file mentions (empty when it cannot be read)."""
    from f5quilt.ops.authoring import mentioned_files
    if not ws.patch_file(name).is_file():
        return []
    try:
        return mentioned_files(ws, name)
    except F5QuiltError:
        return []


def status_report(ws: Workspace) -> Dict[str, Any]:
    """Everything ``status`` says, as one JSON-able dict."""
    from f5quilt.ops.pushpop import unrefreshed_files
    from f5quilt.ops.rebase import in_progress

    up = ws.upstream()
    tree_exists = ws.tree.is_dir()
    built = ws.tree_pin() if tree_exists else None
    attention: List[Dict[str, Any]] = []
    stale = ws.tree_mismatch()
    if stale:
        attention.append({"kind": "stale-tree", "why": stale})
    state = in_progress(ws)
    if state:
        where = f", stopped at {ws.display(state['stopped'])}" if state.get("stopped") else ""
        attention.append({"kind": "rebase", "patch": state.get("stopped"),
                          "why": f"rebase in progress onto {state['new_pin']['spec']}{where}"})
    applied = ws.stack.applied() if tree_exists else []
    names = ws.series.names
    patches: List[Dict[str, Any]] = []
    for name in names:
        on = name in applied
        item: Dict[str, Any] = {"patch": name, "applied": on}
        if on:
            conflicts = sorted(ws.stack.conflicts(name) or {})
            item["conflicts"] = conflicts
            item["needs_refresh"] = ws.stack.needs_refresh(name)
            if conflicts:
                attention.append({"kind": "conflicts", "patch": name,
                                  "why": f"conflicts in {', '.join(ws.settings.show_file(c) for c in conflicts)}"})
            if item["needs_refresh"]:
                attention.append({"kind": "needs-refresh", "patch": name, "why": "needs refresh"})
        patches.append(item)
    for name in applied:
        if name not in names:
            attention.append({"kind": "unknown-applied", "patch": name,
                              "why": "applied, but not in the series (pop it, or `upstream fetch --replace`)"})
    if applied:
        touched = sorted({rel for n in applied for rel in ws.stack.backup_files(n)})
        recorded: Dict[str, List[str]] = {}
        for rel, owner in sorted(unrefreshed_files(ws, touched).items()):
            if owner not in recorded:
                recorded[owner] = _recorded_files(ws, owner) if owner in names else []
            if rel not in recorded[owner]:
                attention.append({"kind": "added", "file": rel, "patch": owner,
                                  "why": f"added to {ws.display(owner)}; not refreshed yet"})
            else:
                attention.append({"kind": "unrefreshed", "file": rel, "patch": owner,
                                  "why": f"changes not refreshed into {ws.display(owner)}"})
    if tree_exists and up is not None and not state and not stale:
        # mid-rebase the tree is on the new release; a stale tree is on another one
        from f5quilt.ops.drift import polluted_backups, tree_drift
        pristine = up.reader()
        for d in tree_drift(ws, pristine, up):
            if "not refreshed" not in d["why"]:
                attention.append({"kind": "outside", "file": d["file"], "why": d["why"]})
        for u in polluted_backups(ws, pristine):
            attention.append({"kind": "outside", "file": u.file, "why": u.why})
    from f5quilt.ops.install import installed_mismatches
    attention.extend(installed_mismatches(ws))
    return {
        "upstream": up.pin.describe() if up else None,
        "tree": os.path.relpath(ws.tree, ws.settings.base),
        "tree_exists": tree_exists,
        "tree_built_from": built.describe() if built else None,
        "series": len(names),
        "applied": len(applied),
        "top": applied[-1] if applied else None,
        "patches": patches,
        "attention": attention,
    }
