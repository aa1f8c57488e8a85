"""Virtual trees: files changed in memory over a reader of a base tree (the pin), and the
tree each patch of a series was written against. Nothing here touches the disk."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from f5quilt.engine.apply import PatchResult, apply_patch

Reader = Callable[[str], Optional[bytes]]


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


class WrittenOn:
    """The tree each patch of a series was written against: a base plus the
    earlier patches applied exactly, advanced one patch at a time (so a whole
    series costs one pass, not one pass per patch)."""

    def __init__(self, base: Reader) -> None:
        self.tree = Overlay(base)

    def snapshot(self) -> Overlay:
        """The tree as it is now: the pre-image of the next patch."""
        copy = Overlay(self.tree.base)
        copy.changed = dict(self.tree.changed)
        return copy

    def advance(self, patch: Any, strip: int, display: str) -> PatchResult:
        """Apply ``patch`` exactly; the tree moves on only when it fits."""
        result = apply_patch(patch, self.tree, strip=strip, fuzz=0, display=display)
        if result.ok:
            self.tree.apply(result)
        return result
