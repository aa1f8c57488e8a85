"""Apply a whole patch to a set of files, in memory.

Input: a parsed Patch, a strip level, a fuzz limit and a ``reader`` that
returns a tree file's bytes (or None when it does not exist). Output: the
new content of every touched file with a per-hunk report. Nothing here
touches the disk, so ``push``, ``check`` and the 3-way merge share it.
"""
from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable, Dict, List, Optional, Tuple

from .errors import F5QuiltError
from .fsutil import safe_relpath
from .locate import FileResult, HunkReport, apply_hunks
from .patchmodel import DEV_NULL, FilePatch, Hunk, Patch, split_lines

Reader = Callable[[str], Optional[bytes]]
ModeReader = Callable[[str], Optional[int]]


@dataclass
class FileChange:
    path: str                      # tree-relative path written
    before: Optional[bytes]        # None: did not exist
    after: Optional[bytes]         # None: deleted
    reports: List[HunkReport] = field(default_factory=list)
    rejected: List[Hunk] = field(default_factory=list)
    mode: Optional[int] = None     # permission bits to set, when the patch says
    source: Optional[str] = None   # for a rename/copy: where the content came from
    file_line: int = 0             # line of this file's header in the patch
    merged: bool = False
    conflicts: int = 0


@dataclass
class PatchResult:
    patch: Patch
    changes: Dict[str, FileChange] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(not c.rejected and not c.conflicts for c in self.changes.values())

    @property
    def rejected_count(self) -> int:
        return sum(len(c.rejected) for c in self.changes.values())


def strip_path(name: str, strip: int, patch: str, line: int) -> str:
    """GNU patch's -pN: remove the smallest prefix holding N slashes."""
    rest = name
    for _ in range(strip):
        cut = rest.find("/")
        if cut < 0:
            raise F5QuiltError(f"{patch}:{line}: cannot strip {strip} component(s) from {name!r}")
        rest = rest[cut + 1:].lstrip("/")
    return safe_relpath(rest, patch, line)


def choose_paths(fp: FilePatch, strip: int, patch: str, exists: Callable[[str], bool]) -> Tuple[Optional[str], str]:
    """(source path or None for a creation, destination path) for one file.

    For plain diffs whose two names differ, GNU patch's rule: prefer a name
    that exists, then the one with fewer components, then the shorter.
    """
    old = None if fp.old_name == DEV_NULL else strip_path(fp.old_name, strip, patch, fp.line)
    new = None if fp.new_name == DEV_NULL else strip_path(fp.new_name, strip, patch, fp.line)
    if fp.rename or fp.copy:
        assert old is not None and new is not None
        return old, new
    if old is None:
        assert new is not None
        return None, new
    if new is None or old == new:
        return old, old
    candidates = [n for n in (old, new) if exists(n)] or [old, new]
    best = min(candidates, key=lambda n: (len(PurePosixPath(n).parts), len(PurePosixPath(n).name), len(n)))
    return best, best


def _mode_bits(git_mode: Optional[str], patch: str, line: int, path: str) -> Optional[int]:
    if not git_mode:
        return None
    value = int(git_mode, 8)
    if stat.S_ISLNK(value) or (value >> 12) == 0o16:
        raise F5QuiltError(f"{patch}:{line}: {path}: symlinks and submodules are not supported")
    return stat.S_IMODE(value)


def apply_patch(patch: Patch, reader: Reader, *, strip: int = 1, fuzz: int = 0,
                display: Optional[str] = None) -> PatchResult:
    """Apply every file of ``patch`` in memory; raise on unusable input."""
    name = display or patch.path
    result = PatchResult(patch)
    current: Dict[str, Optional[bytes]] = {}

    def read(path: str) -> Optional[bytes]:
        if path in current:
            return current[path]
        data = reader(path)
        current[path] = data
        return data

    for fp in patch.files:
        source, dest = choose_paths(fp, strip, name, lambda p: read(p) is not None)
        if fp.binary:
            raise F5QuiltError(f"{name}:{fp.line}: {dest}: binary patch; f5quilt applies text patches only")
        src_data = read(source) if source is not None else None
        if source is not None and src_data is None:
            # like GNU patch, hunks that all start from nothing create the file
            if not (fp.hunks and all(h.old_len == 0 for h in fp.hunks)):
                raise F5QuiltError(f"{name}:{fp.line}: can't find file to patch: {source}")
        creating = source is None or src_data is None
        if creating and read(dest):
            raise F5QuiltError(f"{name}:{fp.line}: {dest}: file to create already exists")
        lines = split_lines(src_data or b"")
        fres: FileResult = apply_hunks(lines, fp.hunks, fuzz)
        if fres.rejected and patch.crlf:
            # the whole patch has CRLF line ends: try it as GNU patch does, CRs stripped
            stripped = apply_hunks(lines, [h.without_cr() for h in fp.hunks], fuzz)
            if len(stripped.rejected) < len(fres.rejected):
                fres = stripped
                result.notes.append(f"{dest}: stripped trailing CRs from the patch")
        after: Optional[bytes] = b"".join(fres.lines)
        if fp.deletes and not fres.rejected:
            if after:
                raise F5QuiltError(f"{name}:{fp.line}: {dest}: not deleting, content differs from the patch")
            after = None
        change = result.changes.get(dest)
        if change is None:
            change = FileChange(dest, read(dest), after, file_line=fp.line)
            result.changes[dest] = change
        change.after = after
        change.reports.extend(fres.reports)
        change.rejected.extend(fres.rejected)
        if fp.new_mode and (fp.creates or fp.new_mode != fp.old_mode):
            change.mode = _mode_bits(fp.new_mode, name, fp.line, dest)
        current[dest] = after
        if source is not None and source != dest:
            change.source = source
            if fp.rename:
                if source not in result.changes:
                    result.changes[source] = FileChange(source, src_data, None, file_line=fp.line)
                result.changes[source].after = None
                current[source] = None
    return result
