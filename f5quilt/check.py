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

from .apply import PatchResult, apply_patch
from .errors import F5QuiltError
from .locate import APPLIED
from .series import Series

Reader = Callable[[str], Optional[bytes]]

CLEAN, OFFSET, FUZZ, FAILS, ERROR = "clean", "offset", "fuzz", "fails", "error"


class Overlay:
    """Files changed in memory over a base reader."""

    def __init__(self, base: Reader) -> None:
        self.base = base
        self.changed: Dict[str, Optional[bytes]] = {}

    def __call__(self, rel: str) -> Optional[bytes]:
        if rel in self.changed:
            return self.changed[rel]
        return self.base(rel)

    def apply(self, result: PatchResult) -> None:
        for rel, change in result.changes.items():
            self.changed[rel] = change.after


@dataclass
class PatchCheck:
    name: str
    status: str
    hunks: List[Dict[str, Any]] = field(default_factory=list)
    error: str = ""

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"patch": self.name, "status": self.status, "hunks": self.hunks}
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class CheckReport:
    patches: List[PatchCheck]
    unlisted: List[str]

    def ok(self, strict: bool) -> bool:
        bad = {FAILS, ERROR} | ({OFFSET, FUZZ} if strict else set())
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
                 base: Reader, *, fuzz: int = 0, display: Callable[[str], str] = str) -> List[PatchCheck]:
    """Apply ``names`` in order onto ``base``; one PatchCheck per patch."""
    overlay = Overlay(base)
    results: List[PatchCheck] = []
    for name in names:
        try:
            patch = load(name)
            ent = entry(name)
            if ent.reverse:
                patch = patch.reversed()
            result = apply_patch(patch, overlay, strip=ent.strip, fuzz=fuzz, display=display(name))
        except F5QuiltError as exc:
            results.append(PatchCheck(name, ERROR, error=exc.message))
            continue
        hunks: List[Dict[str, Any]] = []
        status = CLEAN
        for change in result.changes.values():
            for rep in change.reports:
                hunks.append({"file": change.path, "hunk": rep.number, "status": rep.status,
                              "line": rep.line, "offset": rep.offset, "fuzz": rep.fuzz,
                              "message": rep.message()})
                if rep.status != APPLIED:
                    status = FAILS
                elif rep.fuzz and status != FAILS:
                    status = FUZZ
                elif rep.offset and status == CLEAN:
                    status = OFFSET
        results.append(PatchCheck(name, status, hunks))
        if status != FAILS:
            overlay.apply(result)
    return results
