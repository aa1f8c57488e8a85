"""Quilt mode's diffs, as GNU quilt 0.66 makes them (patchfns' diff_file, refresh, diff).

Without an f5quilt.yaml, `refresh` and `diff` write what quilt writes: GNU diff
run on the ``.pc/`` backup and the working file, labelled ``DIR.orig/F`` and
``DIR/F`` (``-p 1``, DIR the tree's folder name), ``F.orig``/``F`` (``-p 0``) or
``a/F``/``b/F`` (``-p ab``), each with the file's mtime unless
``--no-timestamps``/``QUILT_NO_DIFF_TIMESTAMPS``, and an ``Index:`` line and
``====`` separator unless ``--no-index``/``QUILT_NO_DIFF_INDEX``; options from
``QUILT_DIFF_OPTS`` and ``-u``/``-U N``/``-c``/``-C N``. With an f5quilt.yaml,
authoring.py's churn-free refresh stays.
"""
from __future__ import annotations

import os
import re
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from f5quilt.errors import F5QuiltError
from f5quilt.fsutil import DEFAULT_MODE, check_inside, read_bytes_or_none
from f5quilt.model.patch import compress, decompress, patch_header, split_lines
from f5quilt import proc
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.pcdir import digest
from f5quilt.repo.workspace import Workspace
from f5quilt.model.series import SeriesEntry

EPOCH = "1970-01-01 00:00:00.000000000 +0000"


class DiffFailed(F5QuiltError):
    """GNU diff could not diff a file (binary, unreadable): what it printed comes first."""

    def __init__(self, message: str, printed: bytes = b"") -> None:
        super().__init__(message)
        self.printed = printed


def _arg(tree: Path, path: str) -> str:
    """A path as quilt hands it to diff: relative, since quilt runs in the tree's root."""
    if path.startswith(str(tree) + os.sep):
        return path[len(str(tree)) + 1:]
    return path


@dataclass
class DiffStyle:
    strip: str = "1"                       # "0", "1" or "ab"
    timestamps: bool = True
    index: bool = True
    options: List[str] = field(default_factory=lambda: ["-u"])
    sort: bool = False


def style(variables: Dict[str, str], *, strip: Optional[str], no_timestamps: bool, no_index: bool,
          fmt: List[str], sort: bool = False) -> DiffStyle:
    """The style from the quiltrc's variables and the command's options."""
    if strip is not None and strip not in ("0", "1", "ab"):
        raise F5QuiltError(f"Cannot refresh patches with -p{strip}, please specify -p0, -p1, or -pab instead")
    try:
        opts = shlex.split(variables.get("QUILT_DIFF_OPTS", ""))
    except ValueError as exc:
        raise F5QuiltError(f"QUILT_DIFF_OPTS: {exc}") from None
    return DiffStyle(strip=strip or "1",
                     timestamps=not (no_timestamps or variables.get("QUILT_NO_DIFF_TIMESTAMPS")),
                     index=not (no_index or variables.get("QUILT_NO_DIFF_INDEX")),
                     options=opts + (fmt or ["-u"]), sort=sort)


def _mtime(path: Path) -> str:
    """``date +'%Y-%m-%d %H:%M:%S.%N %z' -r FILE``."""
    ns = path.stat().st_mtime_ns
    secs, frac = divmod(ns, 1_000_000_000)
    local = time.localtime(secs)
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', local)}.{frac:09d} {time.strftime('%z', local)}"


def diff_file(tree: Path, rel: str, old: Optional[Path], new: Optional[Path], st: DiffStyle) -> bytes:
    """One file's diff as quilt's diff_file() prints it (b"" when equal)."""
    if st.strip == "ab":
        old_hdr, new_hdr = f"a/{rel}", f"b/{rel}"
    elif st.strip == "0":
        old_hdr, new_hdr = f"{rel}.orig", rel
    else:
        old_hdr, new_hdr = f"{tree.name}.orig/{rel}", f"{tree.name}/{rel}"
    index = new_hdr
    old_date = new_date = ""
    if old is not None and old.is_file() and old.stat().st_size > 0:
        old_file = str(old)
        if st.timestamps:
            old_date = "\t" + _mtime(old)
    else:
        old_file = old_hdr = "/dev/null"
        if st.timestamps:
            old_date = "\t" + EPOCH
    if new is not None and os.path.lexists(new):
        new_file = str(new)
        if st.timestamps:
            new_date = "\t" + _mtime(new)
    else:
        if st.strip == "0":
            old_hdr = new_hdr
        new_file = new_hdr = "/dev/null"
        if st.timestamps:
            new_date = "\t" + EPOCH
    r = proc.run(["diff", *st.options, "--label", old_hdr + old_date, "--label", new_hdr + new_date,
                  _arg(tree, old_file), _arg(tree, new_file)], cwd=tree, ok=None)
    if r.returncode not in (0, 1):  # quilt's words, after diff's own
        raise DiffFailed(r.stderr.decode("utf-8", "replace").rstrip("\n")
                         + f"\nDiff failed on file '{rel}', aborting")
    diff: bytes = r.stdout
    if not diff:
        return b""
    first = diff.split(b"\n", 1)[0]
    if first.startswith(b"Binary files ") and first.endswith(b" differ"):
        raise DiffFailed(f"Diff failed on file '{rel}', aborting", printed=diff)
    if not st.index:
        return diff
    return (f"Index: {index}\n" + "=" * 67 + "\n").encode("utf-8", "surrogateescape") + diff


def files_in_order(ws: Workspace, name: str, st: DiffStyle) -> List[str]:
    """quilt's files_in_patch_ordered: the patch file's order first, then the others, sorted."""
    files = sorted(ws.stack.backup_files(name))
    if st.sort:
        return files
    ordered: List[str] = []
    try:
        from f5quilt.ops.authoring.core import quilt_names  # lazy: start-up
        ordered = [rel for rel in quilt_names(ws, name) if rel in files]
    except F5QuiltError:
        pass
    return ordered + [f for f in files if f not in ordered]


def patch_body(ws: Workspace, name: str, st: DiffStyle, files: Optional[List[str]] = None,
               reverse: bool = False) -> bytes:
    """The diffs of ``name``'s files: its backups against what it left (the next
    patch's backup where a later patch changed the file, else the tree)."""
    applied = ws.stack.applied()
    later = applied[applied.index(name) + 1:] if name in applied else []
    out = []
    for rel in files if files is not None else files_in_order(ws, name, st):
        holder = next((p for p in later if (ws.stack.backup_dir(p) / rel).exists()), None)
        new = ws.stack.backup_dir(holder) / rel if holder else check_inside(ws.tree, rel)
        old = ws.stack.backup_dir(name) / rel
        if reverse:
            old, new = new, old
        out.append(diff_file(ws.tree, rel, old, new, st))
    return b"".join(out)


_CTX_NEW = re.compile(rb"^--- (\d+)(,\d+)? ----")
_CTX_OLD = re.compile(rb"^\*\*\* (\d+)(,\d+)? \*\*\*\*")


def _added_lines(body: bytes, strip: int) -> Iterator[Tuple[int, str, int, bytes]]:
    """(index in the patch, file, new line number, text) of each added line, unified
    (+) or context (+ and ! in a hunk's new part)."""
    current = ""
    newline = 0
    new_part = False
    for i, raw in enumerate(split_lines(body)):
        if raw.startswith(b"+++ ") or (raw.startswith(b"--- ") and not _CTX_NEW.match(raw)):
            path = raw[4:].decode("utf-8", "surrogateescape").rstrip("\n").split("\t", 1)[0]
            parts = path.split("/")
            current = "/".join(parts[strip:]) if strip else path
            new_part = False
        elif raw.startswith(b"@@ "):
            m = re.match(rb"^@@ -\S+ \+(\d+)", raw)
            newline = int(m.group(1)) if m else 0
            new_part = False
        elif _CTX_NEW.match(raw):
            newline = int(_CTX_NEW.match(raw).group(1))  # type: ignore[union-attr]
            new_part = True
        elif _CTX_OLD.match(raw) or raw.startswith(b"***************"):
            new_part = False
        elif new_part and raw[:2] in (b"+ ", b"! ", b"  "):
            if raw[:2] != b"  ":
                yield i, current, newline, raw[2:]
            newline += 1
        elif not new_part and raw.startswith(b"+"):
            yield i, current, newline, raw[1:]
            newline += 1
        elif not new_part and raw.startswith(b" "):
            newline += 1


def _ws_end(raw: bytes) -> bool:
    text = raw.rstrip(b"\n")
    return text != text.rstrip(b" \t")


def strip_trailing_ws(body: bytes, strip: int = 1) -> bytes:
    """quilt's remove-trailing-ws: white space at the end of added lines taken out of the patch."""
    lines = split_lines(body)
    for i, _f, _n, text in list(_added_lines(body, strip)):
        raw = lines[i]
        marker = raw[:len(raw) - len(text)]
        end = b"\n" if text.endswith(b"\n") else b""
        lines[i] = marker + text[:len(text) - len(end)].rstrip(b" \t") + end
    return b"".join(lines)


def trailing_ws_warnings(body: bytes, strip: int, removed: bool = False) -> "List[ev.TrailingWhitespace]":
    """quilt's remove-trailing-ws -n: the added lines that end in white space, per file."""
    per_file: Dict[str, List[int]] = {}
    for _i, name, num, raw in _added_lines(body, strip):
        if _ws_end(raw):
            per_file.setdefault(name, []).append(num)
    return [ev.TrailingWhitespace(name, tuple(nums), removed) for name, nums in per_file.items()]


def refresh(ws: Workspace, emit: Emit, name: str, st: DiffStyle, *, force: bool,
            backup: bool = False, diffstat: bool = False, strip_ws: bool = False) -> int:
    """quilt's refresh (inside the caller's transaction)."""
    from f5quilt.ops.authoring.core import later_touching  # lazy: start-up
    if later_touching(ws, name) and not force:
        raise F5QuiltError(f"More recent patches modify files in patch {ws.display(name)}. "
                           "Enforce refresh with -f.")
    body = patch_body(ws, name, st)
    num = 0 if st.strip == "0" else 1
    if strip_ws:
        for note in trailing_ws_warnings(body, num, removed=True):
            emit(note)
        body = strip_trailing_ws(body, num)
    for warning in trailing_ws_warnings(body, num):
        emit(warning)
    path = ws.patch_file(name)
    stored = read_bytes_or_none(path)
    existing = decompress(path.name, stored, ws.display(name)) if stored is not None else None
    data = patch_header(existing or b"")
    if diffstat and body:
        data = _with_diffstat(data, body, num, ws)
    data += body
    if existing == data:
        emit(ev.Refreshed(name, unchanged=True))
    else:
        mode = path.stat().st_mode if path.exists() else DEFAULT_MODE
        if backup and stored is not None:
            _backup_patch(ws, path, stored, mode)
        ws.fs.write(path, compress(path.name, data), mode)
        emit(ev.Refreshed(name, empty=not body))
    ws.forget_patch(name)
    ws.fs.write(ws.stack.backup_dir(name) / ".timestamp", b"")
    ws.fs.unlink(ws.stack.refresh_marker(name))
    ws.stack.set_conflicts(name, None)
    entry = ws.series.get(name)
    if entry is not None and (entry.strip != num or entry.reverse):
        # quilt's change_db_strip_level: the series says -p0 or nothing, and a -R patch,
        # now written forwards, loses its -R; a comment on the line stays
        entry.strip, entry.reverse = num, False
        opts = entry.options_text()
        line = ws.series.raw_lines[entry.line - 1]
        hash_at = line.find("#", len(name))
        comment = " " + line[hash_at:].rstrip("\n") if hash_at >= 0 else ""
        ws.series.raw_lines[entry.line - 1] = name + (" " + opts if opts else "") + comment + "\n"
        ws.save_series()
    from f5quilt.ops.authoring.core import before_after  # lazy: start-up
    _old, new = before_after(ws, name)
    ws.stack.write_sums(name, {rel: digest(d) for rel, d in new.items()})
    return 0


def _backup_patch(ws: Workspace, path: Path, stored: bytes, mode: int) -> None:
    """``--backup``: the old patch kept as PATCH~. quilt moves it there with mv, and when
    that fails stops with mv's message; so does quilt mode (nothing is changed)."""
    backup = path.with_name(path.name + "~")
    try:
        ws.fs.write(backup, stored, mode)
    except OSError as exc:
        def shown(p: Path) -> str:
            return os.path.relpath(p, ws.tree) if str(p).startswith(str(ws.tree) + os.sep) else str(p)
        raise F5QuiltError(f"mv: cannot move '{shown(path)}' to '{shown(backup)}': "
                           f"{exc.strerror or exc}") from None


def _with_diffstat(header: bytes, body: bytes, strip: int, ws: Workspace) -> bytes:
    """``--diffstat``: a diffstat after the header (after a ``---`` line when it has none)."""
    import shutil  # lazy: start-up
    if shutil.which("diffstat") is None:
        raise F5QuiltError("refresh --diffstat: diffstat is not installed")
    opts = shlex.split(ws.settings.quiltrc.get("QUILT_DIFFSTAT_OPTS", ""))
    r = proc.run(["diffstat", *opts, f"-p{strip}"], input=body, ok=None)
    stat: bytes = r.stdout
    text = header
    if not text.endswith(b"\n") and text:
        text += b"\n"
    return text + b"---\n" + stat + b"\n"


SNAP = ".snap"


def quilt_diff(ws: Workspace, emit: Emit, last: str, st: DiffStyle, *, files: List[str],
               combine: Optional[str] = None, snapshot: bool = False, relative: bool = False,
               reverse: bool = False, warnings: "Optional[List[ev.Event]]" = None) -> bytes:
    """quilt's diff: the top (or -P) patch, --combine'd from a patch, against --snapshot, or -z."""
    import tempfile  # lazy: start-up
    applied = ws.stack.applied()
    snap = ws.stack.backup_dir(SNAP)
    if sum(map(bool, (combine, snapshot, relative))) > 1:
        raise F5QuiltError("Options `--combine', `--snapshot', and `-z' cannot be combined.")
    if snapshot and not snap.is_dir():
        raise F5QuiltError("No snapshot to diff against")
    names: List[str] = []
    if snapshot and not files:
        for dirpath, _dirs, fnames in os.walk(snap):
            for fname in fnames:
                names.append(os.path.relpath(os.path.join(dirpath, fname), snap).replace(os.sep, "/"))
        names.sort()
        combine = "-"
    upto = applied[:applied.index(last) + 1]
    if combine:
        if combine == "-":
            patches = upto
        else:
            first = ws.resolve_name(combine)
            if first not in applied:
                raise F5QuiltError(f"Patch {ws.display(first)} is not applied")
            if first not in upto:
                raise F5QuiltError(f"Patch {ws.display(first)} not applied before patch {ws.display(last)}")
            patches = upto[upto.index(first):]
    else:
        patches = [last]
    for p in patches:
        for rel in files_in_order(ws, p, st):
            if not files or rel in files:
                names.append(rel)
    names = sorted(set(names)) if st.sort else list(dict.fromkeys(names))
    later = applied[applied.index(last) + 1:]
    shadowed = False
    chunks: List[bytes] = []
    with tempfile.TemporaryDirectory(prefix="f5quilt-z-") as tmp:
        recorded: Dict[str, Optional[bytes]] = {}
        if relative:
            from f5quilt.ops.authoring.core import as_recorded, before_after  # lazy: start-up
            old_all, _new = before_after(ws, last)
            recorded = as_recorded(ws, last, old_all)
        for rel in names:
            old: Optional[Path]
            if snapshot and (snap / rel).exists():
                old = snap / rel
            elif relative:
                if rel not in recorded:
                    continue
                old = Path(tmp, "r", rel)
                old.parent.mkdir(parents=True, exist_ok=True)
                old.write_bytes(recorded[rel] or b"")
            else:
                first_mod = next((p for p in patches if (ws.stack.backup_dir(p) / rel).exists()), None)
                if first_mod is None:
                    if not snapshot:
                        emit(ev.NotModified(rel))
                    continue
                old = ws.stack.backup_dir(first_mod) / rel
            holder = next((p for p in later if (ws.stack.backup_dir(p) / rel).exists()), None)
            new: Optional[Path] = ws.stack.backup_dir(holder) / rel if holder else check_inside(ws.tree, rel)
            shadowed = shadowed or holder is not None
            if reverse:
                old, new = new, old
            try:
                chunks.append(diff_file(ws.tree, rel, old, new, st))
            except DiffFailed as exc:
                exc.printed = b"".join(chunks) + exc.printed  # quilt's diff showed what came before
                raise
    if shadowed:  # said after the diff, as quilt does
        note = ev.Shadowed(last)
        if warnings is not None:
            warnings.append(note)
        else:
            emit(note)
    return b"".join(chunks)


def take_snapshot(ws: Workspace, *, remove: bool = False) -> None:
    """quilt's snapshot (inside the caller's transaction): the files of every applied
    patch as they are now, in .pc/.snap/ (an empty file for one that does not exist)."""
    snap = ws.stack.backup_dir(SNAP)
    if snap.is_dir():
        for dirpath, _dirs, fnames in os.walk(snap):
            for fname in fnames:
                ws.fs.unlink(Path(dirpath) / fname, prune_to=ws.stack.backup_dir(SNAP).parent)
    if remove:
        return
    ws.stack.initialize(ws.settings.quilt_patches, ws.settings.quilt_series)
    seen: Dict[str, None] = {}
    for p in ws.stack.applied():
        for rel in sorted(ws.stack.backup_files(p)):
            seen.setdefault(rel, None)
    ws.fs.mkdirs(snap)
    for rel in seen:
        path = check_inside(ws.tree, rel)
        data = read_bytes_or_none(path)
        ws.fs.write(snap / rel, data or b"", path.stat().st_mode if data is not None else DEFAULT_MODE)


def refresh_fork(ws: Workspace, emit: Emit, top: str, st: DiffStyle, new_name: Optional[str]) -> None:
    """quilt's ``refresh -z[NAME]``: the edits since the top patch's last refresh become a
    new patch after it (NAME, or quilt's NAME-2), applied; the top patch is left as it was."""
    import tempfile  # lazy: start-up
    from f5quilt.ops.authoring.core import as_recorded, before_after  # lazy: start-up
    target = new_name or next_filename(top)
    prefix = ws.settings.patches_display.rstrip("/") + "/"
    if target.startswith(prefix):
        target = target[len(prefix):]
    if ws.series.get(target) or ws.patch_file(target).exists():
        raise F5QuiltError(f"Patch {ws.display(target)} exists already")
    old, _now = before_after(ws, top)
    recorded = as_recorded(ws, top, old)
    files = files_in_order(ws, top, st)
    with tempfile.TemporaryDirectory(prefix="f5quilt-fork-") as tmp:
        chunks = []
        for rel in files:
            base: Optional[Path] = None
            if recorded.get(rel) is not None:
                base = Path(tmp, rel)
                base.parent.mkdir(parents=True, exist_ok=True)
                base.write_bytes(recorded[rel] or b"")
            chunks.append(diff_file(ws.tree, rel, base, check_inside(ws.tree, rel), st))
    body = b"".join(chunks)
    if not body:
        raise F5QuiltError(f"Nothing in patch {ws.display(target)}")
    entry = ws.entry(top)
    ws.fs.write(ws.patch_file(target), body, DEFAULT_MODE)
    ws.series.insert_after(top, SeriesEntry(target, strip=entry.strip, reverse=entry.reverse))
    ws.save_series()
    bdir = ws.stack.backup_dir(target)
    empty = set()
    for rel in files:
        data = recorded.get(rel)
        mode = (check_inside(ws.tree, rel).stat().st_mode
                if data is not None and check_inside(ws.tree, rel).exists() else DEFAULT_MODE)
        ws.fs.write(bdir / rel, data or b"", mode)
        if data == b"":
            empty.add(rel)
    ws.fs.write(bdir / ".timestamp", b"")
    ws.stack.write_applied(ws.stack.applied() + [target])
    ws.stack.set_existed_empty(target, empty)
    ws.stack.write_sums(target, {rel: digest(ws.read_tree(rel)) for rel in files})
    emit(ev.Forked(top, target))
    return


def next_filename(name: str) -> str:
    """quilt's next_filename: a.diff -> a-2.diff, a-2.diff -> a-3.diff, x -> x-2."""
    base = re.sub(r"(\.gz|\.bz2|\.xz|\.lzma|\.lz)$", "", name)
    base = re.sub(r"(\.diff?|\.patch)$", "", base)
    m = re.search(r"-([0-9]+)$", base)
    num = int(m.group(1)) if m else 1
    stem = base[:m.start()] if m else base
    return f"{stem}-{num + 1}{name[len(base):]}"
