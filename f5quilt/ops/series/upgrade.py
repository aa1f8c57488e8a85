"""The upgrade autopilot (``f5quilt upgrade`` with an f5quilt.yaml): find the newest release,
forecast, rebase without stopping at the first conflict, and say what happened to each patch
in markdown (a pull request's body).

Which release: ``repo/releases.py`` (PyPI's JSON index or the git remote's tags; ``--onto
SPEC`` a PEP 440 specifier, a bare version, or a full pin as ``rebase --onto`` takes it;
pre-releases only when the specifier names one).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt import events as ev
from f5quilt.events import Emit, Stop
from f5quilt.repo.releases import resolve_target
from f5quilt.repo.upstream import Upstream, default_cache
from f5quilt.repo.workspace import Workspace


@dataclass
class PatchOutcome:
    name: str
    forecast: str                   # check --onto's status before the rebase
    outcome: str                    # clean / merged / conflict / dropped / stopped / pending
    interdiff: str = ""             # the patch file, old -> new (what range-diff shows for it)


@dataclass
class UpgradeReport:
    upstream: Optional[str]
    old: str
    new: str
    stop: Optional[Stop]  # None: upgraded; else why the rebase waits
    patches: List[PatchOutcome] = field(default_factory=list)


def _patch_texts(ws: Workspace) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name in ws.series.names:
        try:
            out[name] = ws.patch_file(name).read_text(errors="surrogateescape")
        except OSError:
            out[name] = ""
    return out


def _interdiff(name: str, old: str, new: str) -> str:
    if old == new:
        return ""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}", n=2))


def upgrade(ws: Workspace, emit: Emit, onto: Optional[str]) -> UpgradeReport:
    """Forecast, then rebase onto the chosen release without stopping at a conflict."""
    from f5quilt.ops.series import rebase  # lazy: start-up
    from f5quilt.ops.series.check import check_series  # lazy: start-up
    old_up = ws.upstream()
    if old_up is None or ws.settings.settings_file is None:
        raise F5QuiltError("upgrade needs an upstream pin in f5quilt.yaml")
    if rebase.in_progress(ws):
        raise F5QuiltError("a rebase is in progress: `f5quilt upgrade --continue` (or rebase --continue/--abort)")
    new_pin = resolve_target(old_up.pin, onto, ws.settings.base)
    new_up = Upstream(new_pin, default_cache(ws.settings.settings_file.parent), ws.progress)
    emit(ev.Upgrading(old_up.pin.describe(), new_pin.describe()))
    forecast = {r.name: str(r.status) for r in check_series(
        ws.series.names, ws.load, ws.entry, new_up.reader(emit), fuzz=ws.settings.fuzz,
        display=ws.display, merge_base=old_up.reader(emit))}
    before = _patch_texts(ws)
    outcomes: Dict[str, str] = {}  # filled by the rebase as it goes
    rc = rebase.start(ws, emit, new_pin, keep_going=True, outcomes=outcomes, forecast=forecast)
    return _report(ws, old_up.pin.describe(), new_pin.describe(), rc, forecast, before, outcomes)


def _report(ws: Workspace, old: str, new: str, rc: Optional[Stop], forecast: Dict[str, str],
            before: Dict[str, str], outcomes: Dict[str, str]) -> UpgradeReport:
    from f5quilt.ops.series import rebase  # lazy: start-up
    ws.reload()
    state = rebase.load_state(ws)
    stopped = state.stopped if state is not None else None
    after = _patch_texts(ws)
    report = UpgradeReport(ws.settings.name, old, new, rc)
    for name, text in before.items():
        outcome = outcomes.get(name) or ("stopped" if stopped == name else "pending")
        report.patches.append(PatchOutcome(name, forecast.get(name, "-"), outcome,
                                           _interdiff(name, text, after.get(name, text))))
    return report


MARK = {"clean": "clean", "merged": "merged (3-way)", "conflict": "**conflict**",
        "dropped": "dropped (upstream has it)", "resolved": "resolved by hand",
        "stopped": "**stopped** (see the log)", "pending": "not reached"}


def summary_markdown(reports: List[UpgradeReport]) -> str:
    """A pull request's body: per upstream, per patch, what happened, and the patch diffs."""
    lines: List[str] = []
    for r in reports:
        title = f"{r.upstream}: " if r.upstream else ""
        lines += [f"## {title}{r.old} → {r.new}", ""]
        counts: Dict[str, int] = {}
        for p in r.patches:
            counts[p.outcome] = counts.get(p.outcome, 0) + 1
        lines += [", ".join(f"{n} {k}" for k, n in counts.items()) or "no patches", ""]
        lines += ["| patch | forecast | result |", "|---|---|---|"]
        lines += [f"| `{p.name}` | {p.forecast} | {MARK.get(p.outcome, p.outcome)} |" for p in r.patches]
        conflicted = [p.name for p in r.patches if p.outcome == "conflict"]
        if conflicted:
            lines += ["", "Conflicts to resolve, patch by patch (the markers are in the tree): "
                      + ", ".join(f"`{n}`" for n in conflicted)
                      + "; then `f5quilt upgrade --continue`."]
        diffs = [p for p in r.patches if p.interdiff]
        if diffs:
            lines += ["", "<details><summary>range-diff (each patch file, old → new)</summary>", ""]
            for p in diffs:
                lines += [f"### `{p.name}`", "", "```diff", p.interdiff.rstrip("\n"), "```", ""]
            lines += ["</details>"]
        lines.append("")
    return "\n".join(lines)


def resume(ws: Workspace, emit: Emit) -> UpgradeReport:
    """``upgrade --continue``: the rebase goes on after the conflicts were resolved; what each
    patch met is read from the rebase's state (the conflicted ones are then ``resolved``)."""
    from f5quilt.ops.series import rebase  # lazy: start-up
    state = rebase.load_state(ws)
    if not state:
        raise NothingToDo("No upgrade in progress")
    outcomes = {n: ("resolved" if o == "conflict" else o) for n, o in state.outcomes.items()}
    sdir = rebase.state_dir(ws)
    before = {}
    for name in state.series:
        try:
            before[name] = (sdir / "patches" / name).read_text(errors="surrogateescape")
        except OSError:
            before[name] = ""
    rc = rebase.cont(ws, emit)
    old = state.old_pin.describe()
    new = state.new_pin.describe()
    forecast = dict(state.forecast or {})
    return _report(ws, old, new, rc, forecast, before, outcomes)
