"""Move the whole series onto a new upstream release.

Every step of a rebase (``--onto``, ``--continue``, ``--skip``, ``--abort``)
is one transaction of the one transaction layer (``transaction.py``): a
process killed at any instant is rolled back by the next command to the
state before that step, and a finished rebase is one group in the log, so
``f5quilt undo`` brings back the old pin, tree and patches.

``.f5quilt/rebase/`` (beside the settings, outside the tree) holds the old
tree (moved, not copied), the series, every patch file and the settings as
they were, and ``state.json``. Which patches still need a refresh is
derived from the content (does the patch file reproduce what the tree
holds, exactly?), never from a position. Before the old tree is dropped
and the pin rewritten, the rewritten series is verified in memory to apply
exactly (no offset, no fuzz) to the new pin, as ``check --strict`` does.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from f5quilt.engine.apply import apply_patch
from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt import events as ev
from f5quilt.events import Emit, Stop
from f5quilt.engine.vtree import Reader, WrittenOn
from f5quilt.model.patch import parse_patch, split_lines
from f5quilt.model.series import SeriesEntry, load_series
from f5quilt.repo.workspace import Workspace
from f5quilt.ops.stack.pushpop import compute_push, pop_one, push_one
from f5quilt.ops.stack.repair import recover
from f5quilt.repo.upstream import Pin, Upstream, clean_partials, default_cache, pin_from_arg, sha256_of
from f5quilt.ops.stack.drift import unrecorded_work
from f5quilt.fsutil import safe_relpath


def state_dir(ws: Workspace) -> Path:
    if ws.settings.settings_file is not None:
        return ws.state_dir / "rebase"  # per upstream where the settings list several
    return ws.tree.parent / ".f5quilt" / "rebase"


@dataclass
class RebaseState:
    """A rebase in progress (``<state>/rebase/state.json``): the pins it moves between, the
    series as it was, and where it stands. ``outcomes`` is filled as the patches go (the
    upgrade autopilot hands in its own dict and reads it back); ``forecast`` is check --onto's
    statuses for upgrade --continue's summary."""
    old_pin: Pin
    new_pin: Pin
    series: List[str]
    group: Optional[str] = None
    phase: str = "pushing"
    skipped: List[str] = field(default_factory=list)
    moved: List[str] = field(default_factory=list)  # names in dropped/, which --abort removes
    stopped: Optional[str] = None
    unverified: bool = False
    conflicted: List[str] = field(default_factory=list)
    keep_contained: bool = False
    keep_going: bool = False
    outcomes: Dict[str, str] = field(default_factory=dict)
    forecast: Optional[Dict[str, str]] = None

    @classmethod
    def load(cls, path: Path) -> "Optional[RebaseState]":
        """The state in ``path``, every field checked for type and every patch name for
        safety once, here; None when there is none."""
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (ValueError, UnicodeDecodeError, OSError):
            raise F5QuiltError(f"{path}: unreadable rebase state; `f5quilt rebase --abort` "
                               "or `f5quilt undo` restores the state before the rebase") from None

        def names(value: Any) -> bool:
            return isinstance(value, list) and all(isinstance(n, str) for n in value)

        def words(value: Any) -> bool:
            return value is None or (isinstance(value, dict)
                                     and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()))

        def pin(value: Any) -> bool:
            return (isinstance(value, dict) and isinstance(value.get("kind"), str) and isinstance(value.get("spec"), str)
                    and all(value.get(k) is None or isinstance(value.get(k), str) for k in ("ref", "sha256", "commit")))

        ok = (isinstance(data, dict) and names(data.get("series")) and pin(data.get("old_pin"))
              and pin(data.get("new_pin")) and names(data.get("skipped", [])) and names(data.get("moved", []))
              and names(data.get("conflicted", [])) and words(data.get("outcomes")) and words(data.get("forecast"))
              and (data.get("stopped") is None or isinstance(data.get("stopped"), str))
              and (data.get("group") is None or isinstance(data.get("group"), str))
              and isinstance(data.get("phase", "pushing"), str)
              and all(isinstance(data.get(k, False), bool) for k in ("unverified", "keep_contained", "keep_going")))
        if not ok:
            raise F5QuiltError(f"{path}: malformed rebase state")
        state = cls(pin_of(data["old_pin"]), pin_of(data["new_pin"]), list(data["series"]), data.get("group"),
                    data.get("phase", "pushing"), list(data.get("skipped", [])), list(data.get("moved", [])),
                    data.get("stopped"), bool(data.get("unverified")), list(data.get("conflicted", [])),
                    bool(data.get("keep_contained")), bool(data.get("keep_going")),
                    dict(data.get("outcomes") or {}), data.get("forecast"))
        for n in state.series + state.skipped + state.moved + state.conflicted + ([state.stopped] if state.stopped else []):
            try:
                safe_relpath(n)
            except F5QuiltError:
                raise F5QuiltError(f"{path}: unsafe patch name {n!r}") from None
        return state

    def to_json(self) -> Dict[str, Any]:
        """The state file's fields, as the rebase has always written them (an optional field
        only when set), so a rebase started before can be continued."""
        out: Dict[str, Any] = {"phase": self.phase, "old_pin": pin_dict(self.old_pin),
                               "new_pin": pin_dict(self.new_pin), "series": self.series, "skipped": self.skipped}
        for key, value in (("group", self.group), ("moved", self.moved), ("stopped", self.stopped),
                           ("unverified", self.unverified), ("conflicted", self.conflicted),
                           ("keep_contained", self.keep_contained), ("keep_going", self.keep_going),
                           ("outcomes", self.outcomes), ("forecast", self.forecast)):
            if value or (key == "stopped" and value is not None) or (key == "forecast" and value is not None):
                out[key] = value
        return out


def load_state(ws: Workspace) -> Optional[RebaseState]:
    return RebaseState.load(state_dir(ws) / "state.json")


def pin_dict(pin: Pin) -> Dict[str, Optional[str]]:
    return {"kind": pin.kind, "spec": pin.spec, "ref": pin.ref, "sha256": pin.sha256, "commit": pin.commit}


def pin_of(d: Dict[str, Optional[str]]) -> Pin:
    return Pin(str(d["kind"]), str(d["spec"]), d.get("ref"), d.get("sha256"), d.get("commit"))


def write_pin(ws: Workspace, settings_file: Path, pin: Pin) -> None:
    """Replace the ``upstream:`` block of the settings, keeping everything else.
    A local path is written relative to the settings file, as users write it."""
    if pin.kind == "path":
        rel = os.path.relpath(pin.spec, settings_file.parent)
        pin = Pin(pin.kind, rel if not rel.startswith("../../..") else pin.spec, pin.ref, pin.sha256)
    text = settings_file.read_text()
    if ws.settings.state is not None and ws.settings.name is not None:  # one entry of upstreams:
        ws.fs.write_text(settings_file, _nested_pin(text, ws.settings.name, pin, settings_file))
        return
    block = "upstream:\n" + "".join(f"  {k}: {v}\n" for k, v in pin.to_settings().items())
    pattern = re.compile(r"^upstream:[^\n]*\n(?:(?:[ \t]+[^\n]*|[ \t]*)\n)*", re.M)
    if pattern.search(text):
        text = pattern.sub(lambda m: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n" + block
    ws.fs.write_text(settings_file, text)


def _nested_pin(text: str, name: str, pin: Pin, settings_file: Path) -> str:
    """``upstreams: NAME: upstream:`` replaced by ``pin``, every other line kept as written."""
    lines = text.splitlines(keepends=True)

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    def blank(line: str) -> bool:
        return not line.strip() or line.lstrip().startswith("#")

    def block_end(start: int, level: int) -> int:
        end = start + 1
        while end < len(lines) and (blank(lines[end]) or indent(lines[end]) > level):
            end += 1
        while end > start + 1 and blank(lines[end - 1]):
            end -= 1  # trailing blank lines and comments belong to what follows
        return end

    top = next((i for i, ln in enumerate(lines) if re.match(r"upstreams:\s*(#.*)?$", ln)), None)
    entry = None
    if top is not None:
        entry = next((i for i in range(top + 1, block_end(top, 0))
                      if re.match(rf"\s+{re.escape(name)}:\s*(#.*)?$", lines[i])), None)
    if entry is None:
        raise F5QuiltError(f"{settings_file}: cannot find upstreams: {name}: to write the new pin in")
    level = indent(lines[entry])
    end = block_end(entry, level)
    inner = [i for i in range(entry + 1, end) if not blank(lines[i])]
    step = indent(lines[inner[0]]) if inner else level + 2
    block = [" " * step + "upstream:\n"] + [" " * (step + 2) + f"{k}: {v}\n" for k, v in pin.to_settings().items()]
    old = next((i for i in inner if indent(lines[i]) == step and re.match(r"\s*upstream:", lines[i])), None)
    if old is None:
        lines[end:end] = block
    else:
        lines[old:block_end(old, step)] = block
    return "".join(lines)


def _save_state(ws: Workspace, state: RebaseState) -> None:
    ws.fs.write_text(state_dir(ws) / "state.json", json.dumps(state.to_json(), indent=1, sort_keys=True) + "\n")


def _same_pin(old: Pin, new: Pin) -> bool:
    """Whether NEW_PIN names the release the series is on (a rebase would be a no-op)."""
    if (old.kind, old.spec, old.ref) != (new.kind, new.spec, new.ref):
        return False
    if old.kind == "git":  # a branch moves: the same ref may be a new commit, unless it is one
        return old.commit is not None and old.commit in (new.commit, new.ref)
    return all(a is None or b is None or a == b for a, b in ((old.commit, new.commit), (old.sha256, new.sha256)))


def start(ws: Workspace, emit: Emit, new_pin: Pin, *, force: bool = False,
          keep_contained: bool = False, keep_going: bool = False,
          outcomes: Optional[Dict[str, str]] = None, forecast: Optional[Dict[str, str]] = None) -> Optional[Stop]:
    """Rebase onto ``new_pin``. ``keep_going`` (the upgrade autopilot): a patch that conflicts is
    left pushed with its conflict markers, recorded in the state (``conflicted``), and the rest
    are pushed on top; the rebase then waits for the conflicts to be resolved (``--continue``)."""
    if load_state(ws):
        raise F5QuiltError("a rebase is in progress: use rebase --continue, --skip or --abort")
    old_up = ws.upstream()
    if old_up is None or ws.settings.settings_file is None:
        raise F5QuiltError("rebase needs an upstream pin in f5quilt.yaml")
    if _same_pin(old_up.pin, new_pin) and not (ws.tree.is_dir() and ws.tree_mismatch()):  # stale: said below
        raise NothingToDo(f"The series is pinned to {new_pin.describe()} already: nothing to rebase")
    ws.ensure_tree(emit)
    recover(ws, emit)
    stale = ws.tree_mismatch()
    if stale:  # the old tree must be the old pin's: that is what the patches are merged from
        raise F5QuiltError(stale)
    for name in ws.stack.applied():
        if ws.stack.conflicts(name) or ws.stack.needs_refresh(name):
            raise F5QuiltError(f"Patch {ws.display(name)} has conflicts or needs a refresh; settle it first")
    from f5quilt.ops.stack.stash import keep_in_stash, refuse_to_lose  # lazy: start-up
    lost = unrecorded_work(ws)
    refuse_to_lose(ws, lost, f"rebase --onto {new_pin.describe()}", force)
    new_up = Upstream(new_pin, default_cache(ws.settings.settings_file.parent), ws.progress)
    new_up.ensure_pristine(emit)  # fetch before touching anything
    _clean_leftovers(ws)
    sdir = state_dir(ws)
    group = f"rebase-{int(time.time() * 1000)}"
    with ws.transaction(f"rebase --onto {new_pin.describe()}", group=group) as txn:
        fs = txn
        keep_in_stash(ws, txn, lost, f"rebase --onto {new_pin.describe()}", emit)
        for name in ws.series.names:
            src = ws.patch_file(name)
            if src.exists():
                fs.write(sdir / "patches" / name, src.read_bytes(), src.stat().st_mode)
        fs.write(sdir / "series", ws.settings.series.read_bytes())
        fs.write(sdir / "settings.yaml", ws.settings.settings_file.read_bytes())
        state = RebaseState(old_up.pin, new_pin, ws.series.names, group, keep_contained=keep_contained,
                            keep_going=keep_going, forecast=forecast)
        if outcomes is not None:  # the caller's dict, filled as the patches go (upgrade's summary)
            state.outcomes = outcomes
        fs.rename_dir(ws.tree, sdir / "old-tree")
        new_up.materialize(ws.tree, emit, txn=fs)
        ws.record_tree_pin(new_pin)
        ws.reload()
        _save_state(ws, state)
        fs.savepoint()
        emit(ev.RebaseStarted(len(ws.series.names), old_up.pin.describe(), new_pin.describe()))
        return _advance(ws, emit, state)


def _advance(ws: Workspace, emit: Emit, state: RebaseState) -> Optional[Stop]:
    """Push what is left, inside the caller's transaction; stop (committing) or finish."""
    sdir = state_dir(ws)
    assert ws.settings.settings_file is not None
    new_up = Upstream(state.new_pin, default_cache(ws.settings.settings_file.parent), ws.progress)
    old_base = Upstream(state.old_pin, default_cache(ws.settings.settings_file.parent), ws.progress)
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
                if not state.keep_contained:
                    emit(ev.Contained(name, new_up.pin.describe(), dropped=True))
                    state.outcomes[name] = "dropped"
                    drop_patch(ws, emit, name, state)
                    ws.fs.savepoint()
                    continue
                emit(ev.Contained(name, new_up.pin.describe(), dropped=False))
                state.stopped = name
                _save_state(ws, state)
                return Stop.STOPPED
        except F5QuiltError:
            pass
        try:
            res = push_one(ws, name, emit, fuzz=ws.settings.fuzz, merge=True, merge_pre=written_on(name),
                           over_conflicts=bool(state.keep_going))
        except F5QuiltError as exc:
            # e.g. the new release lost a file the patch edits: stop here, --skip or --abort
            state.stopped = name
            _save_state(ws, state)
            emit(ev.RebaseBlocked(name, exc.message))
            return Stop.STOPPED
        if res.conflicts and state.keep_going:
            state.outcomes[name] = "conflict"
            state.conflicted.append(name)
            _save_state(ws, state)
            emit(ev.RebaseConflicts(name, tuple(sorted(res.conflicts)), going_on=True))
            ws.fs.savepoint()
            continue
        if res.conflicts:
            state.stopped = name
            _save_state(ws, state)
            left = sorted(set(res.conflicts) - set(res.replayed))
            if left:
                emit(ev.RebaseConflicts(name, tuple(left)))
            else:
                emit(ev.RebaseConflicts(name, tuple(sorted(res.replayed)), replayed=True))
            return Stop.CONFLICTS
        outcome = "clean"
        if needs_refresh(ws, name):
            from f5quilt.ops.authoring.core import refresh  # lazy: start-up
            refresh(ws, emit, name, normalize=True, force=bool(state.conflicted))
            warn_if_empty(ws, emit, name)
            outcome = "merged"
        state.outcomes[name] = outcome
        _save_state(ws, state)
        ws.fs.savepoint()
    if state.conflicted:
        state.stopped = state.conflicted[0]
        _save_state(ws, state)
        emit(ev.ConflictsLeft(tuple(state.conflicted)))
        return Stop.CONFLICTS
    return _finish(ws, emit, state)


def dropped_dir(ws: Workspace) -> Path:
    """Where a rebase moves the files of the patches it drops: out of the series folder
    (no unlisted-file warnings), beside f5quilt's state."""
    return ws.state_dir / "dropped"


def drop_patch(ws: Workspace, emit: Emit, name: str, state: RebaseState) -> None:
    """Remove ``name`` from the series and move its file out of the patches folder."""
    if ws.series.get(name):
        ws.series.remove(name)
        ws.save_series()
    state.skipped.append(name)
    src = ws.patch_file(name)
    if src.is_file():
        data = src.read_bytes()
        kept, n = name, 1
        # an earlier rebase may have dropped another patch of this name: keep both
        while os.path.lexists(dropped_dir(ws) / kept):
            n += 1
            kept = f"{name}.{n}"
        dst = dropped_dir(ws) / kept
        ws.fs.write(dst, data, src.stat().st_mode)
        ws.fs.unlink(src, prune_to=ws.settings.patches)
        state.moved.append(kept)  # the name in dropped/, which --abort removes
        emit(ev.PatchMoved(name, os.path.relpath(dst, ws.settings.base),
                           os.path.relpath(src, ws.settings.base) if _in_git(ws.settings.patches) else None))
    _save_state(ws, state)


def _in_git(path: Path) -> bool:
    return any((d / ".git").exists() for d in [path, *path.parents])


def warn_if_empty(ws: Workspace, emit: Emit, name: str) -> None:
    """A resolution that kept upstream's side everywhere leaves a patch with only its header."""
    try:
        empty = not parse_patch(ws.patch_file(name).read_bytes(), ws.display(name)).files
    except (OSError, F5QuiltError):
        return
    if empty:
        emit(ev.EmptiedPatch(name))


def needs_refresh(ws: Workspace, name: str) -> bool:
    """Does the patch file fail to reproduce, exactly (no offset, no fuzz), what the tree holds
    after it? Judged from content, so a resumed rebase never trusts a position."""
    from f5quilt.ops.authoring.core import before_after  # lazy: start-up
    old, new = before_after(ws, name)
    entry = ws.entry(name)
    try:
        res = apply_patch(ws.oriented(name), lambda r: old.get(r), strip=entry.strip, fuzz=0,
                          display=ws.display(name))
    except F5QuiltError:
        return True
    if not res.ok or not set(res.changes) <= set(old):
        return True
    if any(rep.offset or rep.fuzz or rep.level.merged
           for c in res.changes.values() for rep in c.reports):
        return True
    return any((res.changes[rel].after if rel in res.changes else old[rel]) != new[rel] for rel in old)


def _advance_original(written: WrittenOn, entry: SeriesEntry, sdir: Path, ws: Workspace) -> None:
    """Move ``written`` past the saved, original copy of one patch."""
    path = sdir / "patches" / entry.name
    if not path.is_file():
        return
    patch = parse_patch(path.read_bytes(), ws.display(entry.name))
    written.advance(entry.orient(patch), entry.strip, ws.display(entry.name))


def verify_exact(ws: Workspace, up: Upstream) -> List[str]:
    """The rewritten series on the new pin, in memory, as check --strict: what is not exact."""
    from f5quilt.ops.series.check import CLEAN, check_series  # lazy: start-up
    results = check_series(ws.series.names, ws.load, ws.entry, up.reader(), fuzz=0, display=ws.display)
    return [f"{ws.display(r.name)}: {r.status}" + (f" ({r.error})" if r.error else "")
            for r in results if r.status != CLEAN]


def _finish(ws: Workspace, emit: Emit, state: RebaseState) -> Optional[Stop]:
    assert ws.settings.settings_file is not None
    pin = state.new_pin
    up = Upstream(pin, default_cache(ws.settings.settings_file.parent), ws.progress)
    bad = verify_exact(ws, up)
    if bad:
        state.stopped = ws.stack.top() or ""
        state.unverified = True
        _save_state(ws, state)
        raise_after_commit = F5QuiltError(
            f"the rebased series does not apply exactly to {pin.describe()}; nothing was dropped: "
            "fix and refresh the patches above, then `f5quilt rebase --continue` (or --abort)")
        emit(ev.Unverified(tuple(bad), raise_after_commit.message))
        return Stop.STOPPED
    if pin.kind == "pypi" and not pin.sha256:
        # record what was fetched, so later fetches are checked against it
        pin = Pin(pin.kind, pin.spec, pin.ref, sha256_of(up.archive()))
    elif pin.kind == "git" and not pin.commit:  # the ref for people, the commit for the tree
        pin = Pin(pin.kind, pin.spec, pin.ref, None, up.resolved_commit())
    write_pin(ws, ws.settings.settings_file, pin)
    ws.record_tree_pin(pin)
    ws.fs.discard_dir(state_dir(ws))  # the old tree and the copies: kept in the log for undo
    skipped = state.skipped
    emit(ev.Rebased(state.new_pin.describe(), tuple(skipped)))
    return None


def cont(ws: Workspace, emit: Emit) -> Optional[Stop]:
    state = load_state(ws)
    if not state:
        raise NothingToDo("No rebase in progress")
    stopped = state.stopped
    for name in state.conflicted or ([stopped] if stopped else []):
        if not ws.stack.conflicts(name):
            continue
        from f5quilt.ops.authoring.core import CONFLICT_MARKERS  # lazy: start-up
        for rel in ws.stack.conflicts(name) or {}:
            data = ws.read_tree(rel) or b""
            if any(line.startswith(CONFLICT_MARKERS) for line in split_lines(data)):
                raise F5QuiltError(f"{ws.settings.show_file(rel)} still has conflict markers ({ws.display(name)}); resolve them, "
                                   "then `f5quilt rebase --continue`")
    with ws.transaction("rebase --continue", group=state.group):
        state.stopped = None
        state.unverified = False
        state.conflicted = []
        from f5quilt.ops.authoring.core import refresh  # lazy: start-up
        for name in ws.stack.applied():
            if ws.stack.conflicts(name) or needs_refresh(ws, name):
                refresh(ws, emit, name, normalize=True, force=True)
                warn_if_empty(ws, emit, name)
        _save_state(ws, state)
        return _advance(ws, emit, state)


def skip(ws: Workspace, emit: Emit) -> Optional[Stop]:
    state = load_state(ws)
    if not state:
        raise NothingToDo("No rebase in progress")
    name = state.stopped
    if name is None:
        raise F5QuiltError("the rebase is not stopped at a patch; use --continue")
    recover(ws, emit)
    with ws.transaction("rebase --skip", group=state.group):
        state.stopped = None
        if ws.stack.top() == name:
            pop_one(ws, emit, force=True)
        emit(ev.RebaseSkipped(name))
        drop_patch(ws, emit, name, state)
        ws.reload()
        return _advance(ws, emit, state)


def _clean_leftovers(ws: Workspace) -> bool:
    """Remove what an old-style rebase killed before it had started left behind."""
    sdir = state_dir(ws)
    found = False
    for stale in (sdir.parent / f"{sdir.name}.partial", sdir.parent / f"{sdir.name}.done"):
        if stale.exists():
            shutil.rmtree(stale)
            found = True
    clean_partials(ws.tree)
    return found


def abort(ws: Workspace, emit: Emit) -> Optional[Stop]:
    state = load_state(ws)
    if not state:
        if _clean_leftovers(ws):
            emit(ev.LeftoversRemoved())
            return None
        raise NothingToDo("No rebase in progress")
    sdir = state_dir(ws)
    assert ws.settings.settings_file is not None
    with ws.transaction("rebase --abort", group=state.group) as fs:
        old_tree = sdir / "old-tree"
        if old_tree.exists():
            if ws.tree.exists():
                fs.discard_dir(ws.tree)
            fs.rename_dir(old_tree, ws.tree)
            ws.record_tree_pin(state.old_pin)
        # patches, series and settings back byte for byte; patch files the rebase created go
        saved = sdir / "patches"
        for name in state.series:
            src = saved / name
            if src.exists():
                fs.write(ws.patch_file(name), src.read_bytes(), src.stat().st_mode)
        for name in state.moved:  # the files this rebase moved out of the series folder
            moved = dropped_dir(ws) / name
            if moved.is_file():
                fs.unlink(moved, prune_to=ws.state_dir)
        fs.write(ws.settings.series, (sdir / "series").read_bytes())
        fs.write(ws.settings.settings_file, (sdir / "settings.yaml").read_bytes())
        fs.discard_dir(sdir)
        from f5quilt.ops.stack.rerere import drop_pending  # lazy: start-up
        for name in state.series:
            drop_pending(ws, name)  # recorded resolutions stay; conflicts met on the way go
    emit(ev.RebaseAborted(state.old_pin.describe()))
    return None


def in_progress(ws: Workspace) -> Optional[RebaseState]:
    return load_state(ws)


def parse_new_pin(ws: Workspace, arg: str) -> Pin:
    """NEW_PIN as given; a bare version (``24.2``, ``v1.2``) that names no file here is the
    pinned project's release on the same source (PyPI: NAME==24.2; git: the tag)."""
    from f5quilt.repo.releases import VERSION, pin_at_version  # lazy: start-up
    up = ws.upstream()
    if up is not None and VERSION.match(arg) and not (ws.settings.base / arg).exists():
        return pin_at_version(up.pin, arg)
    return pin_from_arg(arg, ws.settings.base)

