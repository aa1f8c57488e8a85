"""What the tree holds beyond pristine + the applied patches (status, check, rebase)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from f5quilt.engine.vtree import Overlay
from f5quilt.errors import F5QuiltError
from f5quilt.strenum import StrEnum
from f5quilt.repo.pcdir import digest
from f5quilt.repo.settings import REPLAY_FUZZ
from f5quilt.repo.workspace import Workspace
from f5quilt.engine.apply import apply_patch


class DriftKind(StrEnum):
    OUTSIDE = "outside"          # edited, created or deleted outside any patch
    UNREFRESHED = "unrefreshed"  # a file an applied patch owns, changed since its refresh
    REJECT = "reject"            # a .rej a forced push left


@dataclass
class Drift:
    """A tree file that is not pristine + the applied patches (or, in check, the stale tree)."""
    file: str
    why: str
    kind: DriftKind = DriftKind.OUTSIDE
    owner: Optional[str] = None  # UNREFRESHED: the applied patch the change belongs to

    def to_json(self) -> Dict[str, str]:
        return {"file": self.file, "why": self.why}


def tree_drift(ws: Workspace, base: Any, up: Any) -> List[Drift]:
    """Files whose content differs from pristine + the applied patches.

    A file an applied patch touched is compared with the content hash that
    push recorded (or, for a patch quilt pushed, with the patches re-applied
    in memory); every other file with the pristine source.
    """

    if not ws.tree.is_dir():
        raise F5QuiltError(f"tree {ws.tree} does not exist")
    owner: Dict[str, str] = {}
    for name in ws.stack.applied():
        for rel in ws.stack.backup_files(name):
            owner[rel] = name
    overlay: Optional[Overlay] = None

    def expected(rel: str) -> Optional[str]:
        nonlocal overlay
        name = owner.get(rel)
        if name is None:
            return digest(base(rel))
        sums = ws.stack.read_sums(name)
        if sums is not None and rel in sums:
            return sums[rel]
        if overlay is None:
            overlay = Overlay(base)
            for applied in ws.stack.applied():
                ent = ws.entry(applied)
                patch = ws.oriented(applied)
                overlay.apply(apply_patch(patch, overlay, strip=ent.strip, fuzz=REPLAY_FUZZ, display=ws.display(applied)))
        return digest(overlay(rel))

    from f5quilt.repo.upstream import list_files, list_links  # lazy: start-up

    tree_files = set(list_files(ws.tree))
    pristine_root = up.ensure_pristine() if up is not None else None
    pristine_files = set(list_files(pristine_root)) if pristine_root is not None else set()
    drift: List[Drift] = []
    ignored = ws.settings.ignored()  # __pycache__/, *.pyc and the settings' ignore: patterns
    # symlinks (a release may ship them) are compared as links: their targets, never followed
    tree_links = list_links(ws.tree)
    pristine_links = list_links(pristine_root) if pristine_root is not None else {}
    for rel in sorted(set(tree_links) | set(pristine_links)):
        if rel in owner or ignored(rel) or tree_links.get(rel) == pristine_links.get(rel):
            continue
        if rel not in tree_links:
            why = "missing (deleted outside any patch)" if rel not in tree_files else "a symlink replaced by a file"
        elif rel not in pristine_links:
            why = "a symlink not in pristine + applied patches (made outside any patch)"
        else:
            why = f"a symlink retargeted outside any patch (to {tree_links[rel]})"
        drift.append(Drift(rel, why))
    tree_files -= set(pristine_links)
    pristine_files -= set(tree_links)
    for rel in sorted(tree_files | pristine_files | set(owner)):
        if rel not in owner and ignored(rel):
            continue
        want = expected(rel)
        have = digest(ws.read_tree(rel)) if rel in tree_files else None
        if want == have:
            continue
        if rel.endswith(".rej") and want is None:
            drift.append(Drift(rel, "reject file left by a forced push", DriftKind.REJECT))
        elif rel in owner:  # a file added to a patch (created or deleted since) is the patch's
            drift.append(Drift(rel, f"changes not refreshed into {ws.display(owner[rel])}",
                               DriftKind.UNREFRESHED, owner[rel]))
        elif want is None:
            drift.append(Drift(rel, "not in pristine + applied patches (created outside any patch)"))
        elif have is None:
            drift.append(Drift(rel, "missing (deleted outside any patch)"))
        else:
            drift.append(Drift(rel, "edited outside any patch"))
    return drift


@dataclass(frozen=True)
class Unrecorded:
    """Work that lives only in the tree: a file and why no patch holds it."""

    file: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}: {self.why}"

    def shown(self, settings: Any) -> str:
        """As a message says it: the file relative to the current directory (``Settings.show_file``)."""
        return f"{settings.show_file(self.file)}: {self.why}"


def tree_upstream(ws: Workspace) -> Any:
    """The upstream the tree was built from (its recorded pin), else the settings' pin; None
    without settings (quilt mode has no pristine)."""
    up = ws.upstream()
    built = ws.tree_pin() if up is not None else None
    if up is None or built is None:
        return up
    if built.kind == "path" and not os.path.exists(built.spec):
        return up  # an older record's absolute path, from before the project moved
    from f5quilt.repo.upstream import Upstream  # lazy: start-up
    return Upstream(built, up.cache, up.progress)


UNKNOWN = "?"  # what a patch quilt pushed left: it records no content hashes


def backup_truth(ws: Workspace, pristine: Any) -> Dict[str, Dict[str, Optional[str]]]:
    """What each applied patch's backups should hold, by digest: pristine for the lowest
    patch touching a file, else what the patch below left (its recorded hashes). One pass
    over the applied patches; ``UNKNOWN`` where a patch quilt pushed recorded nothing."""

    left: Dict[str, Optional[str]] = {}  # what the patches so far leave in each file
    truth: Dict[str, Dict[str, Optional[str]]] = {}
    for name in ws.stack.applied():
        files = list(ws.stack.backup_files(name))
        truth[name] = {rel: left[rel] if rel in left else digest(pristine(rel)) for rel in files}
        sums = ws.stack.read_sums(name)
        for rel in files:
            left[rel] = sums.get(rel, UNKNOWN) if sums is not None else UNKNOWN
    return truth


def polluted_backups(ws: Workspace, pristine: Any, names: Optional[List[str]] = None) -> List[Unrecorded]:
    """Backups that are not pristine + the applied patches below them: an edit made outside
    any patch before a patch was pushed sits in that patch's backup, where nothing that
    compares the tree with the backups can see it (and a rebase or a replaced tree loses it).
    ``names``: only these patches' backups."""

    found: List[Unrecorded] = []
    for name, wants in backup_truth(ws, pristine).items():
        if names is not None and name not in names:
            continue
        for rel, want in wants.items():
            if want != UNKNOWN and digest(ws.stack.backup(name, rel)) != want:
                found.append(Unrecorded(rel, f"edited outside any patch before {ws.display(name)} was "
                                             "pushed (its backup holds the edit)"))
    return found


def unrecorded_work(ws: Workspace, up: Any = None) -> List[Unrecorded]:
    """What replacing or deleting the tree would lose: edits not refreshed into their patch,
    edits outside any patch, files no patch knows. Ground truth is pristine + the applied
    patches (``up``: the pin the tree was built from; default the settings' pin)."""
    if not ws.tree.is_dir():
        return []
    found: List[Unrecorded] = []
    touched = sorted({rel for n in ws.stack.applied() for rel in ws.stack.backup_files(n)})
    for rel, owner in sorted(unrefreshed_files(ws, touched).items()):
        found.append(Unrecorded(rel, f"changes not refreshed into {ws.display(owner)}"))
    up = up if up is not None else ws.upstream()
    if up is not None:
        pristine = up.reader()
        seen = {u.file for u in found}
        for d in tree_drift(ws, pristine, up):
            if d.file not in seen and d.kind is not DriftKind.UNREFRESHED:
                found.append(Unrecorded(d.file, d.why))
        found += polluted_backups(ws, pristine)
    return found


def unrefreshed_files(ws: Workspace, paths: List[str]) -> Dict[str, str]:
    """Files among ``paths`` whose content differs from what the topmost applied
    patch touching them left: edits not yet refreshed into that patch."""
    found: Dict[str, str] = {}
    remaining = set(paths)
    for name in reversed(ws.stack.applied()):
        if not remaining:
            break
        sums = ws.stack.read_sums(name)
        if sums is None:
            touched = set(ws.stack.backup_files(name))
            remaining -= touched
            continue
        for rel in list(remaining):
            if rel in sums:
                remaining.discard(rel)
                if digest(ws.read_tree(rel)) != sums[rel]:
                    found[rel] = name
    return found
