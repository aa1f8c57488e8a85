"""Move the whole series onto a new upstream release.

``rebase --onto NEW`` keeps everything needed to undo it under
``.f5quilt/rebase/`` next to the settings file (outside the tree, which is
replaced): the old tree as it was (moved, not copied), the series, every
patch file and the settings, byte for byte. The state file records the
phase; each step is repeatable, so a killed rebase is recovered by
``--continue`` or undone by ``--abort`` from any phase.

Phases: saved -> tree-moved -> pushing -> (done). The position in the
series is not stored: it is the new tree's applied-patches.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Dict, Optional

from .errors import EXIT_CONFLICT, EXIT_ERROR, F5QuiltError, NothingToDo
from .fsutil import atomic_write, atomic_write_text
from .output import Reporter
from .check import Reader, WrittenOn
from .patchmodel import parse_patch
from .series import SeriesEntry, load_series
from .stack import Workspace, compute_push, push_one, recover
from .upstream import Pin, Upstream, default_cache


def state_dir(ws: Workspace) -> Path:
    base = ws.settings.settings_file.parent if ws.settings.settings_file else ws.tree.parent
    return base / ".f5quilt" / "rebase"


def _load_state(ws: Workspace) -> Optional[Dict[str, Any]]:
    try:
        return json.loads((state_dir(ws) / "state.json").read_text())  # type: ignore[no-any-return]
    except FileNotFoundError:
        return None


def _save_state(ws: Workspace, state: Dict[str, Any]) -> None:
    atomic_write_text(state_dir(ws) / "state.json", json.dumps(state, indent=1, sort_keys=True) + "\n")


def _pin_dict(pin: Pin) -> Dict[str, Optional[str]]:
    return {"kind": pin.kind, "spec": pin.spec, "ref": pin.ref, "sha256": pin.sha256}


def _pin_of(d: Dict[str, Optional[str]]) -> Pin:
    return Pin(str(d["kind"]), str(d["spec"]), d.get("ref"), d.get("sha256"))


def write_pin(settings_file: Path, pin: Pin) -> None:
    """Replace the ``upstream:`` block of the settings, keeping everything else.
    A local path is written relative to the settings file, as users write it."""
    if pin.kind == "path":
        rel = os.path.relpath(pin.spec, settings_file.parent)
        pin = Pin(pin.kind, rel if not rel.startswith("../../..") else pin.spec, pin.ref, pin.sha256)
    text = settings_file.read_text()
    block = "upstream:\n" + "".join(f"  {k}: {v}\n" for k, v in pin.to_settings().items())
    pattern = re.compile(r"^upstream:[^\n]*\n(?:(?:[ \t]+[^\n]*|[ \t]*)\n)*", re.M)
    if pattern.search(text):
        text = pattern.sub(lambda m: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n" + block
    atomic_write_text(settings_file, text)


def start(ws: Workspace, out: Reporter, new_pin: Pin) -> int:
    if _load_state(ws):
        raise F5QuiltError("a rebase is in progress: use rebase --continue, --skip or --abort")
    old_up = ws.upstream()
    if old_up is None or ws.settings.settings_file is None:
        raise F5QuiltError("rebase needs an upstream pin in f5quilt.yaml")
    ws.ensure_tree(out)
    recover(ws, out)
    for name in ws.stack.applied():
        if ws.stack.conflicts(name) or ws.stack.needs_refresh(name):
            raise F5QuiltError(f"Patch {ws.display(name)} has conflicts or needs a refresh; settle it first")
    from .stack import unrefreshed_files
    touched = sorted({rel for n in ws.stack.applied() for rel in ws.stack.backup_files(n)})
    dirty = unrefreshed_files(ws, touched)
    if dirty:
        rel, owner = sorted(dirty.items())[0]
        raise F5QuiltError(f"{rel} has changes not refreshed into {ws.display(owner)}; refresh first")
    new_up = Upstream(new_pin, default_cache(ws.settings.settings_file.parent))
    new_up.ensure_pristine(out.info)  # fetch before touching anything
    sdir = state_dir(ws)
    _clean_leftovers(ws)
    # the saved copies and the state appear together (one rename) or not at all
    partial = sdir.parent / f"{sdir.name}.partial"
    (partial / "patches").mkdir(parents=True)
    for name in ws.series.names:
        src = ws.patch_file(name)
        if src.exists():
            dst = partial / "patches" / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    shutil.copy2(ws.settings.series, partial / "series")
    shutil.copy2(ws.settings.settings_file, partial / "settings.yaml")
    state = {"phase": "saved", "old_pin": _pin_dict(old_up.pin), "new_pin": _pin_dict(new_pin),
             "series": ws.series.names, "skipped": []}
    atomic_write_text(partial / "state.json", json.dumps(state, indent=1, sort_keys=True) + "\n")
    os.replace(partial, sdir)
    _save_state(ws, state)  # the one place a phase is recorded, from here on
    out.info(f"Rebasing {len(ws.series.names)} patches from {old_up.pin.describe()} onto {new_pin.describe()}")
    return _advance(ws, out, state)


def _advance(ws: Workspace, out: Reporter, state: Dict[str, Any]) -> int:
    sdir = state_dir(ws)
    old_tree = sdir / "old-tree"
    new_up = Upstream(_pin_of(state["new_pin"]), default_cache(ws.settings.settings_file.parent))  # type: ignore[union-attr]
    if state["phase"] == "saved":
        if ws.tree.exists() and not old_tree.exists():
            os.replace(ws.tree, old_tree)
        state["phase"] = "tree-moved"
        _save_state(ws, state)
    if state["phase"] == "tree-moved":
        if not ws.tree.exists():
            new_up.materialize(ws.tree, out.info)
        state["phase"] = "pushing"
        _save_state(ws, state)
    ws = Workspace.open(ws.settings)
    recover(ws, out)
    old_base = Upstream(_pin_of(state["old_pin"]), default_cache(ws.settings.settings_file.parent))  # type: ignore[union-attr]
    # what each patch was written against: the old pin + the ORIGINAL earlier patches
    # (skipped ones included), advanced once along the saved series
    originals = load_series(sdir / "series").entries
    written = WrittenOn(old_base.reader())
    position = 0

    def written_on(name: str) -> Reader:
        nonlocal position
        while position < len(originals) and originals[position].name != name:
            _advance_original(written, originals[position], sdir, ws)
            position += 1
        pre = written.snapshot()
        if position < len(originals):
            _advance_original(written, originals[position], sdir, ws)
            position += 1
        return pre

    for name in ws.unapplied():
        # a patch whose result upstream already has: offer removal, never apply or reverse it
        try:
            rev = compute_push(ws, name, 0, reverse=True)
            if rev.ok and rev.changes:
                out.error(f"Patch {ws.display(name)} appears to be contained in {new_up.pin.describe()} "
                          "(it reverse-applies cleanly).")
                out.info("Drop it with `f5quilt rebase --skip`, or `f5quilt rebase --abort`.")
                state["stopped"] = name
                _save_state(ws, state)
                return EXIT_ERROR
        except F5QuiltError:
            pass
        try:
            res = push_one(ws, name, out, fuzz=ws.settings.fuzz, merge=True, merge_pre=written_on(name))
        except F5QuiltError as exc:
            # e.g. the new release lost a file the patch edits: stop here, --skip or --abort
            state["stopped"] = name
            _save_state(ws, state)
            out.error(exc.message)
            out.info(f"Fix {ws.display(name)} (then `f5quilt rebase --continue`), "
                      "or `f5quilt rebase --skip`, or `f5quilt rebase --abort`.")
            return EXIT_ERROR
        if res.conflicts:
            state["stopped"] = name
            _save_state(ws, state)
            out.error(f"Conflicts in {', '.join(sorted(res.conflicts))} while rebasing {ws.display(name)}.")
            out.info("Resolve them, then `f5quilt rebase --continue` (or --skip, or --abort).")
            return EXIT_CONFLICT
        drifted = any(rep.offset or rep.fuzz or rep.level.startswith("merge")
                      for c in res.result.changes.values() for rep in c.reports)
        if drifted:
            from .authoring import refresh
            refresh(ws, out, name, normalize=True)
        ws = Workspace.open(ws.settings)
    return _finish(ws, out, state)


def _advance_original(written: WrittenOn, entry: SeriesEntry, sdir: Path, ws: Workspace) -> None:
    """Move ``written`` past the saved, original copy of one patch."""
    path = sdir / "patches" / entry.name
    if not path.is_file():
        return
    patch = parse_patch(path.read_bytes(), ws.display(entry.name))
    written.advance(entry.orient(patch), entry.strip, ws.display(entry.name))


def _finish(ws: Workspace, out: Reporter, state: Dict[str, Any]) -> int:
    assert ws.settings.settings_file is not None
    pin = _pin_of(state["new_pin"])
    if pin.kind == "pypi" and not pin.sha256:
        # record what was fetched, so later fetches are checked against it
        from .upstream import sha256_of
        up = Upstream(pin, default_cache(ws.settings.settings_file.parent))
        pin = Pin(pin.kind, pin.spec, pin.ref, sha256_of(up.archive()))
    write_pin(ws.settings.settings_file, pin)
    _discard(state_dir(ws))
    skipped = state.get("skipped") or []
    out.info(f"Rebased onto {_pin_of(state['new_pin']).describe()}"
             + (f"; dropped from the series: {', '.join(skipped)}" if skipped else ""))
    return 0


def cont(ws: Workspace, out: Reporter) -> int:
    state = _load_state(ws)
    if not state:
        raise NothingToDo("No rebase in progress")
    stopped = state.pop("stopped", None)
    if state["phase"] == "pushing" and stopped and stopped in ws.stack.applied():
        from .authoring import refresh
        refresh(ws, out, stopped, normalize=True)
    _save_state(ws, state)
    return _advance(ws, out, state)


def skip(ws: Workspace, out: Reporter) -> int:
    state = _load_state(ws)
    if not state:
        raise NothingToDo("No rebase in progress")
    name = state.pop("stopped", None)
    if name is None:
        raise F5QuiltError("the rebase is not stopped at a patch; use --continue")
    recover(ws, out)
    if ws.stack.top() == name:
        from .stack import pop_one
        pop_one(ws, out, force=True)
    ws.series.remove(name)
    atomic_write(ws.settings.series, ws.series.to_text().encode("utf-8", "surrogateescape"))
    state.setdefault("skipped", []).append(name)
    out.info(f"Skipped {ws.display(name)} (removed from the series, file kept)")
    _save_state(ws, state)
    return _advance(Workspace.open(ws.settings), out, state)


def _discard(sdir: Path) -> None:
    """End a rebase: one rename makes it over, then the copies go."""
    trash = sdir.parent / f"{sdir.name}.done"
    shutil.rmtree(trash, ignore_errors=True)
    os.replace(sdir, trash)
    shutil.rmtree(trash)
    if sdir.parent.is_dir() and not any(sdir.parent.iterdir()):
        sdir.parent.rmdir()


def _clean_leftovers(ws: Workspace) -> bool:
    """Remove what a rebase killed before it had started left behind."""
    from .upstream import clean_partials
    sdir = state_dir(ws)
    found = False
    for stale in (sdir.parent / f"{sdir.name}.partial", sdir.parent / f"{sdir.name}.done"):
        if stale.exists():
            shutil.rmtree(stale)
            found = True
    if sdir.exists() and not (sdir / "state.json").exists():
        shutil.rmtree(sdir)
        found = True
    clean_partials(ws.tree)
    from .fsutil import sweep_temp_files
    assert ws.settings.settings_file is not None
    found = bool(sweep_temp_files(ws.settings.settings_file.parent)) or found
    found = bool(sweep_temp_files(ws.settings.patches, recursive=True)) or found
    if sdir.parent.is_dir() and not any(sdir.parent.iterdir()):
        sdir.parent.rmdir()
    return found


def abort(ws: Workspace, out: Reporter) -> int:
    state = _load_state(ws)
    if not state:
        if _clean_leftovers(ws):
            out.info("Removed the leftovers of a rebase interrupted before it started")
            return 0
        raise NothingToDo("No rebase in progress")
    sdir = state_dir(ws)
    old_tree = sdir / "old-tree"
    if old_tree.exists():
        if ws.tree.exists():
            trash = sdir / "new-tree"
            shutil.rmtree(trash, ignore_errors=True)
            os.replace(ws.tree, trash)
        os.replace(old_tree, ws.tree)
    # patches, series and settings back byte for byte; patch files the rebase created go
    saved = sdir / "patches"
    for name in state["series"]:
        src = saved / name
        if src.exists():
            dst = ws.patch_file(name)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    shutil.copy2(sdir / "series", ws.settings.series)
    assert ws.settings.settings_file is not None
    shutil.copy2(sdir / "settings.yaml", ws.settings.settings_file)
    _discard(sdir)
    _clean_leftovers(ws)
    out.info(f"Rebase aborted: back on {_pin_of(state['old_pin']).describe()}")
    return 0


def in_progress(ws: Workspace) -> Optional[Dict[str, Any]]:
    return _load_state(ws)


def parse_new_pin(ws: Workspace, arg: str) -> Pin:
    from .upstream import pin_from_arg
    return pin_from_arg(arg, ws.settings.base)

