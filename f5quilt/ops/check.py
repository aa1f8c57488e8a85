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
from typing import Any, Callable, Dict, List, Optional

from f5quilt.engine.apply import PatchResult, apply_patch
from f5quilt.engine.vtree import Overlay, Reader, WrittenOn
from f5quilt.errors import F5QuiltError, StrEnum
from f5quilt.engine.locate import APPLIED, Landing
from f5quilt.model.series import Series


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
class PatchCheck:
    name: str
    status: PatchStatus
    hunks: List[Dict[str, Any]] = field(default_factory=list)
    error: str = ""
    # a knock-on failure: the earlier patch that did not land and changes the same files
    because: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"patch": self.name, "status": self.status, "hunks": self.hunks}
        if self.error:
            out["error"] = self.error
        if self.because:
            out["because"] = self.because
        return out


@dataclass
class CheckReport:
    patches: List[PatchCheck]
    unlisted: List[str]

    def ok(self, strict: bool) -> bool:
        bad = NOT_LANDING | ({OFFSET, FUZZ, MERGE} if strict else set())
        return not any(p.status in bad for p in self.patches)


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
            from f5quilt.engine.merge import merge_into
            conflicts = merge_into(result, pre, exact, display(name))
            status = CONFLICT if conflicts else MERGE
        elif status in (OFFSET, FUZZ) and pre is not None and exact is not None and exact.ok:
            from f5quilt.engine.merge import merge_into
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


def _hunks(result: PatchResult, forecast: bool = False) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for change in result.changes.values():
        for rep in change.reports:
            message = rep.message()
            if forecast and rep.level.merged and rep.status != APPLIED:
                # in memory: nothing was written, a rebase would leave the markers
                message = f"Hunk #{rep.number} CONFLICT: a 3-way merge would leave conflict markers."
            h: Dict[str, Any] = {"file": change.path, "hunk": rep.number, "status": rep.status,
                                 "line": rep.line, "offset": rep.offset, "fuzz": rep.fuzz,
                                 "message": message}
            h["landing"] = rep.landing  # exact, offset, fuzz, merged whole-file/hunk-scoped/word-level, conflict
            if rep.level.merged and rep.level is not Landing.CONFLICT:
                h["merge"] = rep.level.value.split("-", 1)[1]  # the level that resolved it: line, hunk or word
            if rep.anchors:
                h["anchors"] = list(rep.anchors)  # hunk-scoped: the unique lines its region sits between
            if rep.mismatch is not None and not rep.level.merged:
                line, expected, found = rep.mismatch
                h["mismatch"] = {"line": line, "expected": _text(expected),
                                 "found": None if found is None else _text(found)}
                h["why"] = rep.why()
            out.append(h)
    return out


def _text(line: bytes) -> str:
    return line.rstrip(b"\n").decode("utf-8", "backslashreplace")
