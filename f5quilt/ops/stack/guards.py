"""Guards (Mercurial MQ's qguard/qselect); goto (StGit's) is in ``pushpop.py``.

A patch's guards are written in its series line, in MQ's form (``#+cuda
#-cpu``), which GNU quilt reads as a comment (``model/series.py`` owns the
grammar). Which guards are selected is a property of one tree, not of the
series: it lives in f5quilt's state (``<state>/guards``, one name a line),
written through the transaction like everything else, so ``select`` is
undoable. ``push``, ``goto`` and ``check`` skip the patches the selection
rules out and say so.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt.model.series import check_guard, pushable
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace

GUARDS_FILE = "guards"


def selection_file(ws: Workspace) -> Path:
    return ws.state_dir / GUARDS_FILE


def read_selected(ws: Workspace) -> List[str]:
    """The selected guards (validated: the file is state a user may have edited)."""
    path = selection_file(ws)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise F5QuiltError(f"{path}: unreadable ({exc})") from None
    names: List[str] = []
    for no, line in enumerate(text.splitlines(), 1):
        word = line.strip()
        if not word:
            continue
        try:
            check_guard(word)
        except F5QuiltError as exc:
            raise F5QuiltError(f"{path}:{no}: {exc.message}") from None
        if word not in names:
            names.append(word)
    return names


def guarded_out(ws: Workspace, names: List[str]) -> Dict[str, str]:
    """The patches among ``names`` the selection rules out, each with the guard that decides."""
    entries = {e.name: e for e in ws.series.entries if e.guards}
    if not entries:
        return {}
    selected = frozenset(read_selected(ws))
    out: Dict[str, str] = {}
    for name in names:
        entry = entries.get(name)
        if entry is not None:
            ok, why = pushable(entry.guards, selected)
            if not ok:
                out[name] = why
    return out


def why_text(why: str) -> str:
    return f"guarded by {why}" if why.startswith("-") else f"guarded by {why}, not selected"


# -- guard ---------------------------------------------------------------------
def guard(ws: Workspace, emit: Emit, given: Optional[str], guards: List[str], *, none: bool) -> None:
    """Set the guards of ``given`` (default: the top patch); ``none`` removes them."""
    from f5quilt.ops.stack.repair import recover  # lazy: start-up

    ws.require_series()
    recover(ws, emit)
    name = _patch_or_top(ws, given)
    if not none and not guards:
        raise F5QuiltError("guard: give +GUARD/-GUARD, or --none")
    new = [] if none else list(dict.fromkeys(guards))
    if ws.entry(name).guards == new:
        raise NothingToDo(f"Patch {ws.display(name)} is {describe_guards(new)} already")
    ws.series.set_guards(name, new)
    with ws.transaction(f"guard {name}"):
        ws.save_series()
    emit(ev.GuardsSet(name, tuple(new)))


def describe_guards(guards: List[str]) -> str:
    return "guarded by " + " ".join(guards) if guards else "unguarded"


def _patch_or_top(ws: Workspace, given: Optional[str]) -> str:
    if given is not None:
        return ws.resolve_name(given)
    top = ws.stack.top()
    if top is None:
        raise F5QuiltError("No patches applied (name the patch)")
    return top


# -- select --------------------------------------------------------------------
def select(ws: Workspace, emit: Emit, guards: List[str], *, none: bool) -> None:
    """Make ``guards`` the selected ones (``none``: no guard selected)."""
    from f5quilt.ops.stack.repair import recover  # lazy: start-up

    recover(ws, emit)
    for g in guards:
        check_guard(g)
    new = [] if none else list(dict.fromkeys(guards))
    old = read_selected(ws)
    if new == old:
        raise NothingToDo("Selected guards unchanged: " + (" ".join(new) or "none"))
    before = guarded_out(ws, ws.series.names)
    with ws.transaction("select " + (" ".join(new) or "--none")):
        path = selection_file(ws)
        if new:
            ws.fs.write(path, "".join(g + "\n" for g in new).encode())
        else:
            ws.fs.unlink(path)
    after = guarded_out(ws, ws.series.names)
    emit(ev.Selected(tuple(new)))
    applied = set(ws.stack.applied())
    for name in ws.series.names:
        if name in after and name not in before:
            emit(ev.SkipChanged(name, after[name], applied=name in applied))
        elif name in before and name not in after:
            emit(ev.SkipChanged(name, None))
