"""Prove the series applies to the pinned upstream without touching any tree.

Every patch is applied in memory, in order, onto an overlay of the
pristine source: ``Overlay`` holds the files earlier patches changed and
reads the rest from the pin. Nothing under the tree, ``.pc/`` or
``patches/`` is written.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from f5quilt.engine.apply import PatchResult, apply_patch
from f5quilt.engine.vtree import Overlay, Reader, WrittenOn
from f5quilt.errors import F5QuiltError
from f5quilt.events import Emit, ignore
from f5quilt.strenum import StrEnum
from f5quilt.engine.locate import APPLIED, HunkStatus, Landing
from f5quilt.model.series import Series
from f5quilt.ops.stack.drift import Drift, tree_drift

if TYPE_CHECKING:
    from f5quilt.repo.workspace import Workspace


class PatchStatus(StrEnum):
    CLEAN = "clean"
    OFFSET = "offset"
    FUZZ = "fuzz"
    FAILS = "fails"
    ERROR = "error"
    # only with a merge base (check --onto): what a rebase would meet
    MERGE = "merge"
    CONFLICT = "conflict"
    CONTAINED = "contained"


CLEAN, OFFSET, FUZZ, FAILS, ERROR = (PatchStatus.CLEAN, PatchStatus.OFFSET, PatchStatus.FUZZ,
                                     PatchStatus.FAILS, PatchStatus.ERROR)
MERGE, CONFLICT, CONTAINED = PatchStatus.MERGE, PatchStatus.CONFLICT, PatchStatus.CONTAINED
NOT_LANDING = {FAILS, ERROR, CONFLICT, CONTAINED}


@dataclass
class HunkCheck:
    """Where one hunk landed (or why not), as check reports it."""
    file: str                     # tree-relative
    hunk: int                     # 1-based, as GNU patch counts
    status: HunkStatus            # applied / failed ...
    line: int
    offset: int
    fuzz: int
    message: str                  # GNU patch's words (a forecast's conflict said as such)
    landing: str                  # exact, offset, fuzz, merged-..., conflict
    merge: Optional[str] = None   # the merge level that resolved it: line, hunk or word
    anchors: List[str] = field(default_factory=list)  # hunk-scoped: the unique lines around it
    mismatch: Optional[Dict[str, Any]] = None  # the first line that differs: line, expected, found
    why: Optional[str] = None

    @property
    def applied(self) -> bool:
        return self.status == APPLIED

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"file": self.file, "hunk": self.hunk, "status": self.status, "line": self.line,
                               "offset": self.offset, "fuzz": self.fuzz, "message": self.message,
                               "landing": self.landing}
        if self.merge is not None:
            out["merge"] = self.merge
        if self.anchors:
            out["anchors"] = list(self.anchors)
        if self.mismatch is not None:
            out["mismatch"] = self.mismatch
            out["why"] = self.why
        return out


@dataclass
class PatchCheck:
    name: str
    status: PatchStatus
    hunks: List[HunkCheck] = field(default_factory=list)
    error: str = ""
    # a knock-on failure: the earlier patch that did not land and changes the same files
    because: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"patch": self.name, "status": self.status,
                               "hunks": [h.to_json() for h in self.hunks]}
        if self.error:
            out["error"] = self.error
        if self.because:
            out["because"] = self.because
        return out


@dataclass
class CheckReport:
    """One upstream's check: what ``check`` prints and ``check --json`` writes, as data."""
    upstream: Optional[str]                 # the pin checked against (None: the unpatched tree)
    strict: bool
    patches: List[PatchCheck]
    unlisted: List[str]                     # patch files the series does not name
    drift: List[Drift] = field(default_factory=list)
    skipped: Dict[str, str] = field(default_factory=dict)  # patch -> the guard that rules it out
    installed: List[Dict[str, str]] = field(default_factory=list)  # installed copies not the series
    stale: Optional[str] = None             # the tree was built from another pin (--tree)

    @property
    def ok(self) -> bool:
        bad = NOT_LANDING | ({OFFSET, FUZZ, MERGE} if self.strict else set())
        return not any(p.status in bad for p in self.patches) and not self.drift

    @property
    def not_landing(self) -> int:
        return sum(1 for p in self.patches if p.status in NOT_LANDING or (self.strict and p.status != CLEAN))

    def to_json(self) -> Dict[str, Any]:
        return {"upstream": self.upstream, "ok": self.ok, "strict": self.strict,
                "patches": [p.to_json() for p in self.patches], "unlisted": self.unlisted,
                "drift": [d.to_json() for d in self.drift],
                "skipped": [{"patch": n, "guard": why} for n, why in self.skipped.items()],
                "installed": self.installed}


def unpatched_reader(ws: "Workspace") -> Reader:
    """Without a pin: the tree as it is with every applied patch popped."""
    first_backup: Dict[str, str] = {}
    for name in ws.stack.applied():
        for rel in ws.stack.backup_files(name):
            first_backup.setdefault(rel, name)

    def read(rel: str) -> Optional[bytes]:
        owner = first_backup.get(rel)
        if owner is None:
            return ws.read_tree(rel)
        return ws.stack.backup(owner, rel)
    return read


def run_check(ws: "Workspace", *, strict: bool = False, tree_check: bool = False, fuzz: Optional[int] = None,
              onto: Optional[str] = None, log: "Emit" = ignore, info: "Emit" = ignore) -> CheckReport:
    """The series applied in memory onto the pin (or onto ``onto``, a rebase's forecast),
    the patch files it does not list, the guards' skips, with ``tree_check`` the tree's drift,
    and installed copies that are not the series. ``log``/``info`` hear the downloads."""
    if not ws.settings.series.exists():
        raise F5QuiltError(f"No series file found ({ws.settings.series})")
    up = ws.upstream()
    base = up.reader(log) if up is not None else unpatched_reader(ws)
    merge_base = None
    if onto:
        from f5quilt.repo.upstream import Upstream, pin_from_arg  # lazy: start-up
        if up is None:
            raise F5QuiltError("check --onto needs the current upstream pin in the settings")
        merge_base = base
        up = Upstream(pin_from_arg(onto, ws.settings.base), up.cache, ws.progress)
        base = up.reader(info)
    from f5quilt.ops.stack.guards import guarded_out  # lazy: start-up
    skipped = guarded_out(ws, ws.series.names)  # patches the selected guards rule out
    results = check_series([n for n in ws.series.names if n not in skipped], ws.load, ws.entry, base,
                           fuzz=ws.settings.fuzz_for(fuzz), display=ws.display, merge_base=merge_base)
    report = CheckReport(up.pin.describe() if up else None, strict, results,
                         unlisted_patch_files(ws.settings.patches, ws.series), skipped=dict(skipped))
    report.stale = ws.tree_mismatch() if tree_check else None
    if report.stale:  # against another release every file upstream changed would read as an edit
        report.drift = [Drift(ws.settings.show_path(ws.tree), f"stale tree: {report.stale}")]
    elif tree_check:
        report.drift = tree_drift(ws, base, up)
    if not onto:
        from f5quilt.ops.series.install import installed_mismatches  # lazy: start-up
        report.installed = installed_mismatches(ws)  # said, never failing the check
    return report


def unlisted_patch_files(patches_dir: Path, series: Series) -> List[str]:
    """Files in the patches folder that the series does not name."""
    listed = set(series.names)
    found: List[str] = []
    if not patches_dir.is_dir():
        return found
    for dirpath, dirs, files in os.walk(patches_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for fname in files:
            rel = os.path.relpath(os.path.join(dirpath, fname), patches_dir)
            if fname.startswith(".") or rel == series.path.name or fname.endswith(("~", ".orig", ".rej")):
                continue
            if rel not in listed:
                found.append(rel)
    return sorted(found)


def check_series(names: List[str], load: Callable[[str], Any], entry: Callable[[str], Any],
                 base: Reader, *, fuzz: int = 0, display: Callable[[str], str] = str,
                 merge_base: Optional[Reader] = None) -> List[PatchCheck]:
    """Apply ``names`` in order onto ``base``; one PatchCheck per patch.

    With ``merge_base`` (the release the patches were written against), a
    patch that does not fit is 3-way merged in memory as ``rebase`` would
    (MERGE or CONFLICT), and one whose result ``base`` already has is
    CONTAINED.
    """
    overlay = Overlay(base)
    written_on = WrittenOn(merge_base) if merge_base is not None else None
    results: List[PatchCheck] = []
    not_landed: Dict[str, str] = {}  # file -> the first earlier patch touching it that did not land
    for name in names:
        try:
            ent = entry(name)
            patch = ent.orient(load(name))
            result = apply_patch(patch, overlay, strip=ent.strip, fuzz=fuzz, display=display(name))
            exact = pre = None
            if written_on is not None:
                pre = written_on.snapshot()  # the files as this patch was written against them
                exact = written_on.advance(patch, ent.strip, display(name))
        except F5QuiltError as exc:
            results.append(PatchCheck(name, ERROR, error=exc.message))
            continue
        status = _status(result)
        if status == FAILS and _reverse_fits(patch, overlay, ent.strip):
            status = CONTAINED  # upstream has it already (the reverse fits exactly)
        elif status == FAILS and pre is not None and exact is not None and exact.ok:
            from f5quilt.engine.merge import merge_into  # lazy: start-up
            conflicts = merge_into(result, pre, exact, display(name))
            status = CONFLICT if conflicts else MERGE
        elif status in (OFFSET, FUZZ) and pre is not None and exact is not None and exact.ok:
            from f5quilt.engine.merge import merge_into  # lazy: start-up
            merge_into(result, pre, exact, display(name))  # a context that fits two places
            if any(c.merged for c in result.changes.values()):
                status = MERGE
        check = PatchCheck(name, status, _hunks(result, forecast=written_on is not None))
        if status in (FAILS, CONFLICT):
            failing = [c.path for c in result.changes.values() if c.rejected] or list(result.changes)
            check.because = next((not_landed[f] for f in failing if f in not_landed), None)
        results.append(check)
        if status in NOT_LANDING and status != CONTAINED:
            for rel in result.changes:
                not_landed.setdefault(rel, name)
        if status not in NOT_LANDING:
            overlay.apply(result)
    return results


def _reverse_fits(patch: Any, overlay: Reader, strip: int) -> bool:
    """Does the patch's reverse apply exactly (upstream already holds its result)?"""
    try:
        rev = apply_patch(patch.reversed(), overlay, strip=strip, fuzz=0)
    except F5QuiltError:
        return False
    return bool(rev.ok and rev.changes and all(
        not rep.offset for c in rev.changes.values() for rep in c.reports))


def _status(result: PatchResult) -> PatchStatus:
    status = CLEAN
    for change in result.changes.values():
        for rep in change.reports:
            if rep.status != APPLIED:
                return FAILS
            if rep.fuzz:
                status = FUZZ
            elif rep.offset and status == CLEAN:
                status = OFFSET
    return status


def _hunks(result: PatchResult, forecast: bool = False) -> List[HunkCheck]:
    out: List[HunkCheck] = []
    for change in result.changes.values():
        for rep in change.reports:
            message = rep.message()
            if forecast and rep.level.merged and rep.status != APPLIED:
                # in memory: nothing was written, a rebase would leave the markers
                message = f"Hunk #{rep.number} CONFLICT: a 3-way merge would leave conflict markers."
            h = HunkCheck(change.path, rep.number, rep.status, rep.line, rep.offset, rep.fuzz, message, rep.landing)
            if rep.level.merged and rep.level is not Landing.CONFLICT:
                h.merge = rep.level.value.split("-", 1)[1]
            h.anchors = list(rep.anchors or ())
            if rep.mismatch is not None and not rep.level.merged:
                line, expected, found = rep.mismatch
                h.mismatch = {"line": line, "expected": _text(expected),
                              "found": None if found is None else _text(found)}
                h.why = rep.why()
            out.append(h)
    return out


def _text(line: bytes) -> str:
    return line.rstrip(b"\n").decode("utf-8", "backslashreplace")
