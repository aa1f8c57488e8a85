"""Apply a whole patch to a set of files, in memory.

Input: a parsed Patch, a strip level, a fuzz limit and a ``reader`` that
returns a tree file's bytes (or None when it does not exist). Output: the
new content of every touched file with a per-hunk report. Nothing here
touches the disk, so ``push``, ``check`` and the 3-way merge share it.
"""
from __future__ import annotations

import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable, Dict, List, Optional, Tuple

from f5quilt.model.binpatch import DeltaError, id_matches, is_null_id
from f5quilt.errors import F5QuiltError
from f5quilt.fsutil import safe_relpath
from f5quilt.engine.locate import FileResult, HunkReport, apply_hunks
from f5quilt.model.patch import DEV_NULL, FilePatch, Hunk, Patch, split_lines

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
    # each file section applied, in the patch's order: (path, index of its first report and
    # of its first rejected hunk in the FileChange; two sections may patch one file)
    sections: List[Tuple[str, int, int]] = field(default_factory=list)

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
        if old is None or new is None:
            raise F5QuiltError(f"{patch}:{fp.line}: a {'rename' if fp.rename else 'copy'} "
                               "needs two names, not /dev/null")
        return old, new
    if old is None:
        if new is None:
            raise F5QuiltError(f"{patch}:{fp.line}: both names are /dev/null")
        return None, new
    if new is None or old == new:
        return old, old
    candidates = [n for n in (old, new) if exists(n)] or [old, new]
    best = min(candidates, key=lambda n: (len(PurePosixPath(n).parts), len(PurePosixPath(n).name), len(n)))
    return best, best


def _mode_bits(git_mode: Optional[str], patch: str, line: int, path: str) -> Optional[int]:
    if not git_mode:
        return None
    try:
        value = int(git_mode, 8)
    except ValueError:
        raise F5QuiltError(f"{patch}:{line}: {path}: malformed file mode {git_mode!r}") from None
    if stat.S_ISLNK(value) or (value >> 12) == 0o16:
        raise F5QuiltError(f"{patch}:{line}: {path}: symlinks and submodules are not supported")
    return stat.S_IMODE(value)


def apply_patch(patch: Patch, reader: Reader, *, strip: int = 1, fuzz: int = 0,
                display: Optional[str] = None, directory: str = "") -> PatchResult:
    """Apply every file of ``patch`` in memory; raise on unusable input.

    ``directory`` (tree-relative, ``/``-separated) is GNU patch's ``-d DIR``: the patch's
    names are relative to it (quilt's fold in a subfolder); the result's are the tree's."""
    name = display or patch.path
    within = _within(directory, name)
    result = PatchResult(patch)
    current: Dict[str, Optional[bytes]] = {}

    def read(path: str) -> Optional[bytes]:
        if path in current:
            return current[path]
        data = reader(path)
        current[path] = data
        return data

    for fp in patch.files:
        if fp.binary and not fp.git:
            # "Binary files A and B differ" outside a git diff: GNU patch skips it as garbage
            result.notes.append(f"line {fp.line}: ignored a 'Binary files ... differ' line "
                                "without data, as GNU patch does")
            continue
        source, dest = choose_paths(fp, strip, name, lambda p: read(within(p, fp.line)) is not None)
        if directory:
            source = within(source, fp.line) if source is not None else None
            dest = within(dest, fp.line)
        result.notes.extend(fp.notes)
        src_data = read(source) if source is not None else None
        if source is not None and src_data is None:
            # like GNU patch, hunks that all start from nothing create the file
            if not (fp.hunks and all(h.old_len == 0 for h in fp.hunks)):
                raise F5QuiltError(f"{name}:{fp.line}: can't find file to patch: {source}")
        creating = source is None or src_data is None
        if creating and read(dest):
            raise F5QuiltError(f"{name}:{fp.line}: {dest}: file to create already exists")
        if fp.binary:
            fres = FileResult([], [], [])
            after: Optional[bytes] = _binary_after(fp, src_data or b"", name, dest, result.notes)
        else:
            lines = split_lines(src_data or b"")
            fres = apply_hunks(lines, fp.hunks, fuzz)
            if fres.rejected and patch.crlf:
                # the whole patch has CRLF line ends: try it as GNU patch does, CRs stripped
                stripped = apply_hunks(lines, [h.without_cr() for h in fp.hunks], fuzz)
                if len(stripped.rejected) < len(fres.rejected):
                    fres = stripped
                    result.notes.append(f"{dest}: stripped trailing CRs from the patch")
            after = b"".join(fres.lines)
        if fp.deletes and not fres.rejected:
            if after:
                raise F5QuiltError(f"{name}:{fp.line}: {dest}: not deleting, content differs from the patch")
            after = None
        change = result.changes.get(dest)
        if change is None:
            change = FileChange(dest, read(dest), after, file_line=fp.line)
            result.changes[dest] = change
        change.after = after
        result.sections.append((dest, len(change.reports), len(change.rejected)))
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


def _within(directory: str, name: str) -> Callable[[str, int], str]:
    """A patch's name below ``directory``, as a tree-relative name (never above the tree)."""
    if not directory:
        return lambda path, line: path

    def join(path: str, line: int) -> str:
        joined = posixpath.normpath(f"{directory}/{path}")
        if joined == ".." or joined.startswith("../") or joined.startswith("/"):
            raise F5QuiltError(f"{name}:{line}: {path}: outside the tree")
        return joined
    return join


def _binary_after(fp: FilePatch, before: bytes, name: str, dest: str, notes: List[str]) -> bytes:
    """What a binary file patch makes of ``before`` (b"" for a file it creates).

    ``GIT binary patch`` data is applied as ``git apply`` does: the old side
    checked against the ``index`` line's blob id when there is one (full or
    abbreviated; git insists on full ids), the hunk applied, the result
    checked against the new id. The data-less placeholder (``Binary files A
    and B differ``) is what GNU patch 2.7 makes of it: a patch without hunks,
    so a new file is created empty and an existing one left as it is.
    """
    where = f"{name}:{fp.line}: {dest}"
    old_id, new_id = fp.index if fp.index else ("", "")
    if not fp.binary_data:
        if fp.creates:
            notes.append(f"{dest}: binary file without data in the patch: created empty, as GNU patch does")
        elif not fp.deletes:
            notes.append(f"{dest}: binary change without data in the patch: left unchanged, as GNU patch does")
        return before
    hunk = fp.binary_forward
    if hunk is None:
        raise F5QuiltError(f"{where}: cannot reverse-apply a binary patch without its reverse hunk")
    if old_id and not is_null_id(old_id) and not id_matches(before, old_id):
        applied = bool(new_id) and not is_null_id(new_id) and id_matches(before, new_id)
        hint = " (it looks applied already)" if applied else ""
        raise F5QuiltError(f"{where}: binary patch does not apply: the file is not blob {old_id}{hint}")
    if old_id and is_null_id(old_id) and before:
        raise F5QuiltError(f"{where}: binary patch applies to an empty file, but it is not empty")
    if new_id and is_null_id(new_id):
        return b""  # a deletion, as in git apply
    try:
        after = hunk.apply(before)
    except DeltaError as exc:
        if exc.mismatch:
            raise F5QuiltError(f"{where}: binary patch does not apply: delta {exc.message}") from None
        raise F5QuiltError(f"{name}:{hunk.line}: {dest}: corrupt binary delta: {exc.message}") from None
    if new_id and not id_matches(after, new_id):
        raise F5QuiltError(f"{where}: binary patch gives a wrong result (not blob {new_id})")
    return after
