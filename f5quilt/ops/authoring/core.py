"""Authoring: refresh after editing, and the commands around it.

The content of a file "before" a patch is its backup in ``.pc/<patch>/``;
"after" it is the backup of the next applied patch that touches the file,
or the tree when none does. Refresh writes the header kept byte for byte
plus git's diff of before/after, and writes nothing when those bytes
equal the patch file's.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from f5quilt.engine.apply import apply_patch, strip_path
from f5quilt.errors import F5QuiltError
from f5quilt.fsutil import DEFAULT_MODE, check_inside, read_bytes_or_none, safe_relpath
from f5quilt.engine.gitdiff import diff_files
from f5quilt import events as ev
from f5quilt import proc
from f5quilt.events import Emit
from f5quilt.model.patch import (compress, decompress, parse_patch, patch_header, quilt_file_names,
                                 split_lines)
from f5quilt.model.series import SeriesEntry
from f5quilt.repo.workspace import Workspace
from f5quilt.ops.stack.pushpop import pop_one, recorded_after, unshare_top, write_rejects
from f5quilt.ops.stack.repair import recover
from f5quilt.ops.stack.drift import tree_upstream, unrefreshed_files
from f5quilt.ops.stack.queries import none_applied
from f5quilt.repo.pcdir import digest
from f5quilt.repo.settings import Dialect

CONFLICT_MARKERS = (b"<<<<<<< ", b">>>>>>> ")


# quilt's refresh, diff, files, applied and previous fail (1) with nothing applied
_none_applied = none_applied


def applied_or_top(ws: Workspace, given: Optional[str]) -> str:
    applied = ws.stack.applied()
    if not applied:
        raise _none_applied(ws)
    if given is None:
        return applied[-1]
    name = ws.resolve_name(given)
    if name not in applied:
        raise F5QuiltError(f"Patch {ws.display(name)} is not applied")
    return name


def named_or_top(ws: Workspace, given: Optional[str]) -> str:
    if given is not None:
        return ws.resolve_name(given)
    top = ws.stack.top()
    if top is None:
        raise _none_applied(ws)
    return top


def tree_rel(ws: Workspace, path: str) -> str:
    """A FILE argument (relative to the cwd) as a path relative to the tree."""
    full = os.path.abspath(path)
    tree = str(ws.tree)
    if full != tree and not full.startswith(tree + os.sep):
        raise F5QuiltError(f"{path}: not inside the tree {ws.settings.show_path(ws.tree)}")
    if full == tree:
        raise F5QuiltError(f"{path}: the tree itself, not a file in it")
    rel = safe_relpath(os.path.relpath(full, tree).replace(os.sep, "/"))
    check_inside(ws.tree, rel)
    return rel


def cwd_in_tree(ws: Workspace) -> str:
    """The current directory relative to the tree (``a/b``); "" at its root or outside it."""
    cwd, tree = os.path.abspath(os.getcwd()), str(ws.tree)
    if not cwd.startswith(tree + os.sep):
        return ""
    return os.path.relpath(cwd, tree).replace(os.sep, "/")


def query_rel(ws: Workspace, path: str) -> Optional[str]:
    """A FILE argument of a query that only reads (``patches``, ``diff FILE``): None for a
    name outside the tree in quilt mode, which no patch can touch (quilt prints nothing
    for it, as for any file no patch touches). With ``f5quilt.yaml`` the tree is a folder
    of the repository, and a name outside it is most likely one relative to the wrong
    folder: refused there, naming the tree, as by every writing command."""
    if ws.settings.dialect is Dialect.QUILT:
        full = os.path.abspath(path)
        tree = str(ws.tree)
        if full != tree and not full.startswith(tree + os.sep):
            return None
    return tree_rel(ws, path)


def as_recorded(ws: Workspace, name: str, old: Dict[str, Optional[bytes]]) -> Dict[str, Optional[bytes]]:
    """Each of the patch's files as the patch file (its last refresh) says it should be."""
    return recorded_after(ws, name, old)


def _top_only(ws: Workspace, emit: Emit, given: Optional[str], verb: str) -> str:
    recover(ws, emit)
    name = applied_or_top(ws, given)
    if name != ws.stack.top():
        raise F5QuiltError(f"{verb} works on the top patch only")
    return name


def put_tree_file(ws: Workspace, rel: str, data: Optional[bytes]) -> None:
    """Write (keeping the file's mode) or, for None, delete a tree file."""
    target = check_inside(ws.tree, rel)
    if data is None:
        ws.fs.unlink(target)
    else:
        ws.fs.write(target, data, target.stat().st_mode if target.exists() else DEFAULT_MODE)


def next_holder(ws: Workspace, applied: List[str], name: str, rel: str) -> Optional[str]:
    """The first applied patch after ``name`` that backed ``rel`` up: its backup is
    ``rel`` as ``name`` left it. None: the tree holds that content."""
    return next((p for p in applied[applied.index(name) + 1:] if (ws.stack.backup_dir(p) / rel).exists()), None)


def content_after(ws: Workspace, applied: List[str], name: str, rel: str) -> Optional[bytes]:
    holder = next_holder(ws, applied, name, rel)
    return ws.stack.backup(holder, rel) if holder else ws.read_tree(rel)


def before_after(ws: Workspace, name: str) -> Tuple[Dict[str, Optional[bytes]], Dict[str, Optional[bytes]]]:
    applied = ws.stack.applied()
    old: Dict[str, Optional[bytes]] = {}
    new: Dict[str, Optional[bytes]] = {}
    for rel in sorted(ws.stack.backup_files(name)):
        old[rel] = ws.stack.backup(name, rel)
        new[rel] = content_after(ws, applied, name, rel)
    return old, new


def later_touching(ws: Workspace, name: str) -> List[str]:
    applied = ws.stack.applied()
    files = set(ws.stack.backup_files(name))
    return [p for p in applied[applied.index(name) + 1:] if files & set(ws.stack.backup_files(p))]


def file_modes(ws: Workspace, name: str) -> Dict[str, Tuple[Optional[int], Optional[int]]]:
    """(mode before, mode after) of each file of ``name``, as before_after() sees them."""
    applied = ws.stack.applied()

    def mode(path: Path) -> Optional[int]:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return st.st_mode

    out: Dict[str, Tuple[Optional[int], Optional[int]]] = {}
    for rel in ws.stack.backup_files(name):
        holder = next_holder(ws, applied, name, rel)
        after = ws.stack.backup_dir(holder) / rel if holder else ws.tree / rel
        out[rel] = (mode(ws.stack.backup_dir(name) / rel), mode(after))
    return out


def render_patch(ws: Workspace, name: str, header: bytes, *, context: int = 3) -> bytes:
    """The patch file refresh writes: the header, then git's diff of before/after,
    in the entry's own form (-p0 or -p1; for -R the diff from after to before)."""
    entry = ws.entry(name)
    if entry.strip > 1:
        raise F5QuiltError(f"refresh writes -p0 or -p1 patches; {ws.display(name)} is -p{entry.strip} in the series")
    old, new = before_after(ws, name)
    modes = file_modes(ws, name)
    changed = [k for k, v in old.items()
               if v != new[k] or (v is not None and new[k] is not None and _x(modes[k][0]) != _x(modes[k][1]))]
    a, b = {k: old[k] for k in changed}, {k: new[k] for k in changed}
    if entry.reverse:
        a, b = b, a
        modes = {k: (m[1], m[0]) for k, m in modes.items()}
    body = diff_files(a, b, context=context, index=ws.settings.refresh_index, modes=modes,
                      prefixes=entry.strip == 1) if changed else b""
    return header + body


def _x(mode: Optional[int]) -> bool:
    return bool(mode is not None and mode & 0o111)


def _same_effect(ws: Workspace, name: str, existing: bytes) -> bool:
    """Does the patch file already turn the before-files into the after-files?"""
    old, new = before_after(ws, name)
    entry = ws.entry(name)
    try:
        patch = parse_patch(existing, ws.display(name))
        res = apply_patch(entry.orient(patch), lambda r: old.get(r),
                          strip=entry.strip, fuzz=0)
    except F5QuiltError:
        return False
    if not res.ok or not set(res.changes) <= set(old):
        return False
    if not all((res.changes[rel].after if rel in res.changes else old[rel]) == new[rel] for rel in old):
        return False
    # and the executable bits the patch sets are the ones the files have
    for rel, (before, after) in file_modes(ws, name).items():
        if new[rel] is None or after is None:
            continue
        change = res.changes.get(rel)
        wanted = change.mode if change is not None and change.mode is not None else (before or 0o644)
        if _x(wanted) != _x(after):
            return False
    return True


def repositioned(ws: Workspace, name: str, existing: bytes) -> Optional[bytes]:
    """The patch file with only its ``@@`` lines and the context fuzz skipped over rewritten
    to where the hunks landed on the before-files; None when every hunk is exact already.
    Everything else stays byte for byte. Falls back to a full rewrite (``render_patch``)
    when the rewritten text would not apply exactly with the same effect."""
    entry = ws.entry(name)
    old, _new = before_after(ws, name)
    try:
        patch = parse_patch(existing, ws.display(name))
        res = apply_patch(entry.orient(patch), lambda r: old.get(r), strip=entry.strip,
                          fuzz=ws.settings.reposition_fuzz)
    except F5QuiltError:
        return None
    moved = [rep for c in res.changes.values() for rep in c.reports if rep.offset or rep.fuzz]
    if not res.ok or not moved:
        return None
    if entry.reverse:
        return render_patch(ws, name, patch_header(existing))
    raw = split_lines(existing)
    by_line = {c.file_line: c for c in res.changes.values()}
    for fp in patch.files:
        change = by_line.get(fp.line)
        if change is None or len(change.reports) != len(fp.hunks) or change.before is None:
            continue
        before = split_lines(change.before)
        delta = 0
        for hunk, rep in zip(fp.hunks, change.reports):
            start0 = rep.line - 1              # 0-based, in the file as patched so far
            old_start0 = start0 - delta        # 0-based, in the before-file
            o = old_start0 + 1 if hunk.old_len else old_start0
            n = start0 + 1 if hunk.new_len else start0
            head = raw[hunk.line - 1]
            m = re.match(rb"@@ -\d+(,\d+)? \+\d+(,\d+)? @@", head)
            if m is None:
                return render_patch(ws, name, patch_header(existing))
            raw[hunk.line - 1] = (f"@@ -{o}{m.group(1).decode() if m.group(1) else ''} "
                                  f"+{n}{m.group(2).decode() if m.group(2) else ''} @@").encode() \
                + head[m.end():]
            if rep.fuzz:  # the context fuzz skipped over: what the file holds there
                at, k = old_start0, hunk.line
                for tag, _text in hunk.lines:
                    while raw[k].startswith(b"\\"):
                        k += 1
                    if tag == " " and 0 <= at < len(before):
                        raw[k] = b" " + before[at] if before[at].endswith(b"\n") else raw[k]
                    if tag != "+":
                        at += 1
                    k += 1
            delta += hunk.new_len - hunk.old_len
    data = b"".join(raw)
    try:
        check = apply_patch(parse_patch(data, ws.display(name)), lambda r: old.get(r), strip=entry.strip, fuzz=0)
    except F5QuiltError:
        check = None
    if (check is None or not check.ok or set(check.changes) != set(res.changes)
            or any(rep.offset or rep.fuzz for c in check.changes.values() for rep in c.reports)
            or any(check.changes[r].after != res.changes[r].after for r in check.changes)):
        return render_patch(ws, name, patch_header(existing))
    return data


def refresh(ws: Workspace, emit: Emit, given: Optional[str] = None, *, force: bool = False,
            normalize: bool = False) -> None:
    recover(ws, emit)
    with ws.transaction(f"refresh {given or ''}".strip()):
        return refresh_in_transaction(ws, emit, given, force=force, normalize=normalize)


def refresh_top(ws: Workspace, emit: Emit) -> None:
    """Refresh the top patch inside the caller's transaction (push/pop --refresh)."""
    return refresh_in_transaction(ws, emit, None, force=False, normalize=False)


def refresh_in_transaction(ws: Workspace, emit: Emit, given: Optional[str], *, force: bool, normalize: bool) -> None:
    name = applied_or_top(ws, given)
    later = later_touching(ws, name)
    if later and not force:
        raise F5QuiltError(f"More recent patches modify files in patch {ws.display(name)}. "
                           "Enforce refresh with -f.")
    conflicts = ws.stack.conflicts(name) or {}
    for rel in conflicts:
        data = ws.read_tree(rel) or b""
        if any(line.startswith(CONFLICT_MARKERS) for line in split_lines(data)) and not force:
            raise F5QuiltError(f"{ws.settings.show_file(rel)} still has conflict markers; resolve them first "
                               "(refresh -f would record the markers in the patch)")
    path = ws.patch_file(name)
    existing = read_bytes_or_none(path)
    header = patch_header(existing) if existing else b""
    if existing is not None and not normalize and _same_effect(ws, name, existing):
        data = existing  # nothing changed: no reformatting churn either
        # ... except the positions, after an offset or fuzz push (quilt rewrites them too)
        data = repositioned(ws, name, existing) or existing
    else:
        moved = repositioned(ws, name, existing) if existing is not None and not normalize else None
        # a fuzz push: the same patch with the skipped context and the positions rewritten
        data = moved if moved is not None and _same_effect(ws, name, moved) else render_patch(ws, name, header)
    if existing == data:
        emit(ev.Refreshed(name, unchanged=True))
    else:
        if existing is not None:
            # the new text must parse: never replace a patch with something broken
            parse_patch(data, ws.display(name))
        ws.fs.write(path, data, path.stat().st_mode if path.exists() else DEFAULT_MODE)
        emit(ev.Refreshed(name))
    ws.forget_patch(name)
    ws.fs.unlink(ws.stack.refresh_marker(name))
    if conflicts:
        from f5quilt.ops.stack.rerere import record  # lazy: start-up
        record(ws, name, emit)  # what the user made of each conflict: replayed next time
    ws.stack.set_conflicts(name, None)
    # what pop will compare against once this patch is on top again
    _old, new = before_after(ws, name)
    ws.stack.write_sums(name, {rel: digest(data) for rel, data in new.items()})
    return


def diff(ws: Workspace, given: Optional[str], *, combine: Optional[str] = None,
         unrefreshed: bool = False, context: int = 3) -> bytes:
    name = applied_or_top(ws, given)
    if unrefreshed:
        # what the patch file says vs the tree: edits not yet refreshed
        old, new = before_after(ws, name)
        base = as_recorded(ws, name, old)
        changed = {k for k in base if base[k] != new[k]}
        return diff_files({k: base[k] for k in changed}, {k: new[k] for k in changed}, context=context)
    if combine:
        applied = ws.stack.applied()
        first = 0 if combine == "-" else applied.index(ws.resolve_name(combine))
        span = applied[first:applied.index(name) + 1]
        # before: each file as the first patch of the span that touches it found it
        old_all: Dict[str, Optional[bytes]] = {}
        for p in span:
            for rel in ws.stack.backup_files(p):
                old_all.setdefault(rel, ws.stack.backup(p, rel))
        new_all = {rel: content_after(ws, applied, name, rel) for rel in old_all}
        changed = {k for k in old_all if old_all[k] != new_all[k]}
        return diff_files({k: old_all[k] for k in changed}, {k: new_all[k] for k in changed}, context=context)
    old, new = before_after(ws, name)
    changed = {k for k in old if old[k] != new[k]}
    return diff_files({k: old[k] for k in changed}, {k: new[k] for k in changed}, context=context)


def new_patch(ws: Workspace, emit: Emit, given: str) -> None:
    recover(ws, emit)
    with ws.transaction(f"new {given}"):
        new_patch_in_transaction(ws, emit, given)


def new_patch_in_transaction(ws: Workspace, emit: Emit, given: str) -> None:
    name = given
    prefix = ws.settings.patches_display.rstrip("/") + "/"
    if name.startswith(prefix):
        name = name[len(prefix):]
    ws.patch_name(name, "new")
    if ws.series.get(name):
        raise F5QuiltError(f"Patch {ws.display(name)} exists already"
                           + (", please choose a different name" if ws.settings.settings_file else ""))
    top = ws.stack.top()
    ws.series.insert_after(top, SeriesEntry(name))
    ws.stack.initialize(ws.settings.quilt_patches, ws.settings.quilt_series)
    ws.save_series()
    bdir = ws.stack.backup_dir(name)
    ws.fs.write(bdir / ".timestamp", b"")
    ws.stack.write_applied(ws.stack.applied() + [name])
    ws.stack.write_sums(name, {})
    emit(ev.Created(name))


def add_files(ws: Workspace, emit: Emit, files: List[str], given: Optional[str] = None) -> List[str]:
    """Add ``files`` to the patch; returns those it held already (quilt then exits 2)."""
    recover(ws, emit)
    with ws.transaction("add " + " ".join(files)):
        return add_files_in_transaction(ws, emit, files, given)


def add_files_in_transaction(ws: Workspace, emit: Emit, files: List[str], given: Optional[str] = None) -> List[str]:
    name = applied_or_top(ws, given)
    applied = ws.stack.applied()
    later = applied[applied.index(name) + 1:]
    recorded_sums = ws.stack.read_sums(name)
    sums = recorded_sums or {}
    empty = ws.stack.existed_empty(name)
    already: List[str] = []
    pristine: Optional[Callable[[str], Optional[bytes]]] = None
    owned: Optional[Dict[str, str]] = None
    made: Dict[str, Optional[str]] = {}
    for path in files:
        _below_state(ws, path)
        rel = tree_rel(ws, path)
        backup = ws.stack.backup_dir(name) / rel
        if backup.exists():
            emit(ev.FileAdded(name, rel, already=True))
            already.append(rel)
            continue
        for p in later:
            if (ws.stack.backup_dir(p) / rel).exists():
                raise F5QuiltError(f"File {rel} modified by patch {ws.display(p)}")
        data = ws.read_tree(rel)
        target = check_inside(ws.tree, rel)
        # the backup is the ground truth (pristine + the applied patches), never whatever the
        # tree holds: an edit made before `add` belongs to this patch, and one not refreshed
        # into a lower patch must not vanish into this one's backup (status would go quiet)
        if ws.settings.dialect is Dialect.F5QUILT:
            if owned is None:
                owned = {r: n for n in ws.stack.applied() for r in ws.stack.backup_files(n)}
            if rel in owned:
                lower = unrefreshed_files(ws, [rel]).get(rel)
                if lower is not None:
                    raise F5QuiltError(f"File {rel} has changes not refreshed into patch {ws.display(lower)}: "
                                       f"refresh {ws.display(lower)} first (or revert them), then add it")
            else:
                if pristine is None:
                    up = tree_upstream(ws)
                    pristine = up.reader() if up is not None else (lambda r: data)
                truth = pristine(rel)
                if truth != data:
                    emit(ev.FileAdded(name, rel, edited=True))
                    ws.fs.write(backup, truth or b"", target.stat().st_mode if data is not None else DEFAULT_MODE)
                    made[rel] = digest(truth)
                    if truth == b"":
                        empty.add(rel)
                    sums[rel] = digest(truth)  # what a refreshed patch leaves: the edit shows as unrefreshed
                    emit(ev.FileAdded(name, rel))
                    continue
        if data is not None and os.lstat(target).st_nlink > 1:
            # quilt's backup-files -b -L: the backup keeps the inode (and its other hard
            # links), the tree gets a file of its own, so an edit in place shows nowhere else
            ws.fs.link(target, backup, data)
            ws.fs.unshare(target, data)
        else:
            # a copy, never a hard link: the user is about to edit the file in place
            ws.fs.write(backup, data or b"", target.stat().st_mode if data is not None else DEFAULT_MODE)
        if data == b"":
            empty.add(rel)
        sums[rel] = digest(data)
        made[rel] = digest(data)
        emit(ev.FileAdded(name, rel))
    ws.stack.set_existed_empty(name, empty)
    if made:  # what each new backup holds: pop trusts it only while it still does
        ws.stack.write_backup_sums(name, {**ws.stack.read_backup_sums(name), **made})
    if recorded_sums is not None:  # a patch quilt pushed has no hashes: pop re-applies it instead
        ws.stack.write_sums(name, sums)
    return already


def _below_state(ws: Workspace, path: str) -> None:
    """quilt's add refuses files in the patches folder or .pc/, with its wording."""
    full = os.path.abspath(path)
    for folder in (ws.settings.patches, ws.stack.pc):
        if full.startswith(str(folder) + os.sep):
            raise F5QuiltError(f"File {path} is located below "
                               f"{os.path.relpath(folder, ws.settings.base)}/")


def patch_files(ws: Workspace, name: str) -> List[str]:
    """The files of ``name`` for ``files`` and ``patches``: an applied patch's backups; for
    one not applied, the names its file gives (quilt mode: read as quilt reads them)."""
    if name in ws.stack.applied():
        return sorted(ws.stack.backup_files(name))
    if ws.settings.dialect is Dialect.QUILT:
        return sorted(quilt_names(ws, name))
    return mentioned_files(ws, name)


def quilt_names(ws: Workspace, name: str) -> List[str]:
    """quilt's filenames_in_patch: the names patch ``name``'s file gives, quilt's way, in order."""
    path = ws.patch_file(name)
    data = read_bytes_or_none(path)
    if data is None:
        ws.load(name)  # the error that names the series line
        return []
    return quilt_file_names(decompress(path.name, data, ws.display(name)), ws.entry(name).strip)


def mentioned_files(ws: Workspace, name: str) -> List[str]:
    """The tree files patch ``name``'s file names (both sides, stripped as its series entry says)."""
    entry = ws.entry(name)
    patch = ws.load(name)
    files = set()
    for fp in patch.files:
        for raw in (fp.old_name, fp.new_name):
            if raw != "/dev/null":
                files.add(strip_path(raw, entry.strip, ws.display(name), fp.line))
    return sorted(files)


def header_of(ws: Workspace, name: str) -> bytes:
    path = ws.patch_file(name)
    data = decompress(path.name, read_bytes_or_none(path) or b"", ws.display(name)) if path.exists() else b""
    return patch_header(data)


def set_header(ws: Workspace, name: str, header: bytes) -> None:
    path = ws.patch_file(name)
    data = decompress(path.name, read_bytes_or_none(path) or b"", ws.display(name)) if path.exists() else b""
    body = data[len(patch_header(data)):]
    if header and not header.endswith(b"\n"):
        header += b"\n"
    if body and header and not header.endswith(b"\n\n") and ws.settings.dialect is Dialect.F5QUILT:
        header += b"\n"  # quilt stores the header as given; f5quilt keeps a blank line before the diff
    with ws.transaction(f"header -r {name}"):
        ws.fs.write(path, compress(path.name, header + body),
                    path.stat().st_mode if path.exists() else DEFAULT_MODE)


def delete_patch(ws: Workspace, emit: Emit, name: str, *, remove_file: bool, backup: bool = False) -> None:
    recover(ws, emit)
    with ws.transaction(f"delete {name}"):
        _delete_patch(ws, emit, name, remove_file=remove_file, backup=backup)


def _delete_patch(ws: Workspace, emit: Emit, name: str, *, remove_file: bool, backup: bool) -> None:
    applied = ws.stack.applied()
    if name in applied:
        if applied[-1] != name:
            raise F5QuiltError(f"Patch {ws.display(name)} is currently applied")
        pop_one(ws, emit)
        unshare_top(ws)  # as quilt's delete, which runs its pop
    ws.series.remove(name)
    ws.save_series()
    emit(ev.Deleted(name))
    path = ws.patch_file(name)
    if remove_file and path.exists():
        if backup:
            ws.fs.write(Path(str(path) + "~"), path.read_bytes(), path.stat().st_mode)
        ws.fs.unlink(path)


def rename_patch(ws: Workspace, emit: Emit, old: str, new: str) -> None:
    recover(ws, emit)
    with ws.transaction(f"rename {old} {new}"):
        rename_patch_in_transaction(ws, emit, old, new)


def rename_patch_in_transaction(ws: Workspace, emit: Emit, old: str, new: str) -> None:
    prefix = ws.settings.patches_display.rstrip("/") + "/"
    if new.startswith(prefix):
        new = new[len(prefix):]
    ws.patch_name(new, "rename")
    if ws.series.get(new) or ws.patch_file(new).exists():
        raise F5QuiltError(f"Patch {ws.display(new)} exists already, please choose a different name")
    applied = ws.stack.applied()
    src = ws.patch_file(old)
    if src.exists():
        ws.fs.write(ws.patch_file(new), src.read_bytes(), src.stat().st_mode)
        ws.fs.unlink(src, prune_to=ws.settings.patches)
    ws.series.rename(old, new)
    ws.save_series()
    if old in applied:
        stack = ws.stack
        sums, conflicts, empty = stack.read_sums(old), stack.conflicts(old), stack.existed_empty(old)
        marker = stack.needs_refresh(old)
        bold, bnew = stack.backup_dir(old), stack.backup_dir(new)
        for dirpath, _dirs, files in os.walk(bold):
            for fname in files:
                f = Path(dirpath) / fname
                ws.fs.link(f, bnew / f.relative_to(bold))
        stack.forget(old)
        if marker:
            ws.fs.write(stack.refresh_marker(new), b"")
        stack.write_applied([new if n == old else n for n in applied])
        if sums is not None:
            stack.write_sums(new, sums)
        stack.set_conflicts(new, conflicts)
        stack.set_existed_empty(new, empty)
    emit(ev.Renamed(old, new))


def import_patches(ws: Workspace, emit: Emit, files: List[str], *, name: Optional[str] = None,
                   force: bool = False, strip: Optional[int] = None, keep_header: Optional[str] = None,
                   reverse: bool = False) -> None:
    if name and len(files) != 1:
        raise F5QuiltError("import -P takes exactly one patch file")
    if name is not None:
        ws.patch_name(name, "import -P")
    recover(ws, emit)
    with ws.transaction("import " + " ".join(files)):
        _import_patches(ws, emit, files, name=name, force=force, strip=strip, keep_header=keep_header,
                        reverse=reverse)


def _headers_merged(ws: Workspace, target: str, data: bytes, keep: Optional[str]) -> bytes:
    """quilt's import -f over a patch whose header differs: -d o (old), a (all), n (new)."""
    path = ws.patch_file(target)
    old = decompress(path.name, path.read_bytes(), ws.display(target)) if path.is_file() else b""
    new = decompress(path.name, data, ws.display(target))
    old_h, new_h = patch_header(old), patch_header(new)
    if keep is None and not old_h:
        keep = "n"
    if keep is None and not new_h:
        keep = "o"
    if keep == "n":
        return data
    if keep is None and old_h != new_h:
        import tempfile  # lazy: start-up
        with tempfile.TemporaryDirectory(prefix="f5quilt-import-") as tmp:
            a, b = Path(tmp, "a"), Path(tmp, "b")
            a.write_bytes(old_h)
            b.write_bytes(new_h)
            r = proc.run(["diff", "-u", str(a), str(b)], ok=(0, 1))
        shown = b"\n".join(r.stdout.split(b"\n")[2:]).decode("utf-8", "replace").rstrip("\n")
        raise F5QuiltError("Patch headers differ:\n" + shown +
                           "\nPlease use -d {o|a|n} to specify which patch header(s) to keep.")
    if keep == "a":
        merged = old_h + b"---\n" + new
    elif keep == "o":
        merged = old_h + new[len(new_h):]
    else:  # the same header both sides
        merged = new
    return compress(path.name, merged)


def _import_patches(ws: Workspace, emit: Emit, files: List[str], *, name: Optional[str],
                    force: bool, strip: Optional[int], keep_header: Optional[str] = None,
                    reverse: bool = False) -> None:
    top = ws.stack.top()
    quilt = ws.settings.dialect is Dialect.QUILT
    for f in files:
        src = Path(f)
        target = safe_relpath(name or src.name)
        data = read_bytes_or_none(src)
        if data is None:
            raise F5QuiltError(f"Patch {f} does not exist" if quilt else f"{f}: no such patch file")
        if not quilt:
            top = store_patch(ws, target, data, top, strip=strip if strip is not None else 1, force=force, source=f)
            emit(ev.Imported(target, f))
            continue
        # quilt's import: its checks and words
        if target in ws.stack.applied():
            raise F5QuiltError(f"Patch {ws.display(target)} is applied")
        if ws.series.get(target):
            if os.path.realpath(src) == os.path.realpath(ws.patch_file(target)):
                raise F5QuiltError(f"Patch {ws.display(target)} already exists in series.")
            if not force:
                raise F5QuiltError(f"Patch {ws.display(target)} exists. Replace with -f.")
            data = _headers_merged(ws, target, data, keep_header)
            said = ev.Imported(target, f, replaced=True)
        else:
            said = ev.Imported(target, f, in_place=os.path.realpath(src) == os.path.realpath(ws.patch_file(target)))
        top = store_patch(ws, target, data, top, strip=strip if strip is not None else 1, force=True, source=f,
                          reverse=reverse)
        emit(said)


def store_patch(ws: Workspace, target: str, data: bytes, after: Optional[str], *, strip: int = 1,
                reverse: bool = False, force: bool = False, source: Optional[str] = None) -> Optional[str]:
    """Write patch file ``target`` and list it in the series after ``after`` (quilt's
    import); return the patch the next import goes after."""
    # refuse a malformed patch before copying it
    parse_patch(decompress(target, data, source or ws.display(target)), source or ws.display(target))
    ws.patch_name(target, "import")
    if ws.series.get(target) and not force:
        raise F5QuiltError(f"Patch {ws.display(target)} exists. Replace with -f.")
    ws.fs.write(ws.patch_file(safe_relpath(target)), data, DEFAULT_MODE)
    if not ws.series.get(target):
        ws.series.insert_after(after, SeriesEntry(target, strip=strip, reverse=reverse))
        after = target
    ws.save_series()
    return after


def fold(ws: Workspace, emit: Emit, data: bytes, *, strip: int = 1, fuzz: int = 0, force: bool = False) -> None:
    """Apply a patch (from stdin) onto the top patch's files, adding them to it."""
    recover(ws, emit)
    with ws.transaction("fold"):
        _fold(ws, emit, data, strip=strip, fuzz=fuzz, force=force)


def _fold(ws: Workspace, emit: Emit, data: bytes, *, strip: int, fuzz: int, force: bool) -> None:
    name = applied_or_top(ws, None)
    patch = parse_patch(data, "<stdin>")
    # quilt's fold runs `patch -d SUBDIR`: from a subfolder of the tree, names are relative to it
    directory = cwd_in_tree(ws)
    result = apply_patch(patch, ws.read_tree, strip=strip, fuzz=fuzz, display="<stdin>", directory=directory)
    emit(ev.HunkReports(result, force, directory))
    if not result.ok and not force:
        raise F5QuiltError("Patch from stdin does not apply (enforce with -f)")
    add_files_in_transaction(ws, ev.ignore, [str(ws.tree / rel) for rel in result.changes
                               if not (ws.stack.backup_dir(name) / rel).exists()])
    for rel, change in result.changes.items():
        put_tree_file(ws, rel, change.after)
        write_rejects(ws, change, emit)
    emit(ev.Folded(name))


def _files_of_top(ws: Workspace, emit: Emit, files: List[str], given: Optional[str], verb: str,
                  body: "Callable[[Workspace, Emit, str, List[str]], None]") -> None:
    """``verb FILE...`` on the top patch, in one transaction."""
    name = _top_only(ws, emit, given, verb)
    with ws.transaction(f"{verb} " + " ".join(files)):
        body(ws, emit, name, files)


def revert_files(ws: Workspace, emit: Emit, files: List[str], given: Optional[str] = None) -> None:
    """Undo unrefreshed changes: the file as the patch file says it should be."""
    _files_of_top(ws, emit, files, given, "revert", _revert_files)


def _revert_files(ws: Workspace, emit: Emit, name: str, files: List[str]) -> None:
    old, _new = before_after(ws, name)
    expect = as_recorded(ws, name, old)
    for path in files:
        rel = tree_rel(ws, path)
        if rel not in old:
            raise F5QuiltError(f"File {ws.settings.show_file(rel)} is not in patch {ws.display(name)}"
                               + ("" if ws.settings.dialect is Dialect.QUILT else
                                  "; `f5quilt restore` undoes an edit outside the top patch, "
                                  "`f5quilt capture NAME` keeps it as a patch"))
        if ws.read_tree(rel) == expect[rel]:
            emit(ev.FileReverted(name, rel, unchanged=True))
            continue
        put_tree_file(ws, rel, expect[rel])
        emit(ev.FileReverted(name, rel))


def remove_files(ws: Workspace, emit: Emit, files: List[str], given: Optional[str] = None) -> None:
    """Take files out of the top patch, restoring their backed-up content."""
    _files_of_top(ws, emit, files, given, "remove", _remove_files)


def _remove_files(ws: Workspace, emit: Emit, name: str, files: List[str]) -> None:
    sums = ws.stack.read_sums(name) or {}
    empty = ws.stack.existed_empty(name)
    for path in files:
        rel = tree_rel(ws, path)
        backup = ws.stack.backup_dir(name) / rel
        if not backup.exists():
            raise F5QuiltError(f"File {ws.settings.show_file(rel)} is not in patch {ws.display(name)}")
        target = check_inside(ws.tree, rel)
        if backup.stat().st_size == 0 and rel not in empty:
            ws.fs.unlink(target, prune_to=ws.tree)
            ws.fs.unlink(backup, prune_to=ws.stack.backup_dir(name))
        else:
            # as quilt's backup-files -r and pop: the backup (its inode, with any other
            # hard links it kept) goes back into place
            ws.fs.move(backup, target)
            ws.fs.prune(backup.parent, ws.stack.backup_dir(name))
        empty.discard(rel)
        sums.pop(rel, None)
        emit(ev.FileRemoved(name, rel))
    ws.stack.set_existed_empty(name, empty)
    ws.stack.write_sums(name, sums)

