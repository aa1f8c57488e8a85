"""quilt's commands that f5quilt had not: fork, snapshot, annotate, grep, graph, upgrade,
mail --mbox, setup; each that writes is one transaction."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Optional

from f5quilt.errors import F5QuiltError
from f5quilt.output import Reporter
from f5quilt.repo.workspace import Workspace
from f5quilt.ops.pushpop import recover

if TYPE_CHECKING:
    import tarfile


def next_filename(name: str) -> str:
    """quilt's next_filename: a.diff -> a-2.diff, a-2.diff -> a-3.diff, x -> x-2."""
    base = re.sub(r"(\.gz|\.bz2|\.xz|\.lzma|\.lz)$", "", name)
    base = re.sub(r"(\.diff?|\.patch)$", "", base)
    m = re.search(r"-([0-9]+)$", base)
    num = int(m.group(1)) if m else 1
    stem = base[:m.start()] if m else base
    return f"{stem}-{num + 1}{name[len(base):]}"


def fork(ws: Workspace, out: Reporter, new: Optional[str]) -> str:
    from f5quilt.ops.authoring import _rename_patch, named_or_top
    recover(ws, out)
    top = named_or_top(ws, None)
    target = new or next_filename(top)
    prefix = ws.settings.patches_display.rstrip("/") + "/"
    if target.startswith(prefix):
        target = target[len(prefix):]
    from f5quilt.fsutil import safe_user_name
    safe_user_name(ws.settings.patches, target, "fork")
    # empty folders (a rolled-back command may leave them) do not count
    if ws.series.get(target) or ws.patch_file(target).exists() or any(True for _ in ws.stack.backup_files(target)):
        raise F5QuiltError(f"Patch {ws.display(target)} exists already, please choose a new name")
    old_file = ws.patch_file(top)
    data = old_file.read_bytes() if old_file.exists() else None
    mode = old_file.stat().st_mode if old_file.exists() else None
    with ws.transaction(f"fork {target}"):
        _rename_patch(ws, Reporter(0), top, target)
        if data is not None:
            ws.fs.write(old_file, data, mode)  # the old patch file stays
    out.info(f"Fork of patch {ws.display(top)} created as {ws.display(target)}")
    return target


def snapshot(ws: Workspace, out: Reporter, *, remove: bool = False) -> None:
    from f5quilt.ops.quiltdiff import take_snapshot
    recover(ws, out)
    with ws.transaction("snapshot" + (" -d" if remove else "")):
        take_snapshot(ws, remove=remove)


def _hunks(old: bytes, new: bytes) -> list[tuple[int, int, int, int]]:
    """(old start, old count, new start, new count) of GNU diff's -U0 hunks, 0-based starts."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory(prefix="f5quilt-annotate-") as tmp:
        a, b = f"{tmp}/a", f"{tmp}/b"
        with open(a, "wb") as fa, open(b, "wb") as fb:  # scratch files outside the tree
            fa.write(old)
            fb.write(new)
        r = subprocess.run(["diff", "-U0", "-a", a, b], capture_output=True)
    if r.returncode not in (0, 1):
        raise F5QuiltError(r.stderr.decode("utf-8", "replace").strip())
    out = []
    for line in r.stdout.split(b"\n"):
        m = re.match(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", line)
        if m:
            os_, oc = int(m.group(1)), int(m.group(2) or b"1")
            ns, nc = int(m.group(3)), int(m.group(4) or b"1")
            out.append((os_ - 1 if oc else os_, oc, ns - 1 if nc else ns, nc))
    return out


def annotate(ws: Workspace, given: Optional[str], rel: str) -> list[str]:
    """quilt's annotate: each line of FILE with the number of the patch that last changed
    it, then the numbered patches (those up to -P that touch FILE)."""
    from f5quilt.model.patch import split_lines
    from f5quilt.ops.authoring import applied_or_top, content_after
    applied = ws.stack.applied()
    last = applied_or_top(ws, given)  # quilt: "No patches applied" (exit 1) when none is
    upto = applied[:applied.index(last) + 1] if last else []
    touching = [p for p in upto if (ws.stack.backup_dir(p) / rel).exists()]
    if touching:
        text = ws.stack.backup(touching[0], rel) or b""
    else:
        text = ws.read_tree(rel) or b""
    lines = split_lines(text)
    ann = [""] * len(lines)
    for i, p in enumerate(touching, 1):
        after = content_after(ws, applied, p, rel) or b""
        new_lines = split_lines(after)
        new_ann: list[str] = []
        pos = 0
        for os_, oc, ns, nc in _hunks(b"".join(lines), after):
            new_ann.extend(ann[pos:os_])
            new_ann.extend([str(i)] * nc)
            pos = os_ + oc
        new_ann.extend(ann[pos:])
        lines, ann = new_lines, new_ann
    out = [f"{a}\t{line.decode('utf-8', 'surrogateescape').rstrip(chr(10))}" for a, line in zip(ann, lines)]
    out.append("")
    out.extend(f"{i}\t{ws.display(p)}" for i, p in enumerate(touching, 1))
    return out


def grep_files(ws: Workspace, paths: list[str]) -> list[str]:
    """quilt's grep: the files under PATHS (default the tree), the patches folder and .pc/ left out."""
    import os
    skip = {os.path.realpath(ws.settings.patches), os.path.realpath(ws.stack.pc)}
    out: list[str] = []
    for top in paths or ["."]:
        if os.path.isfile(top):
            out.append(top)
            continue
        for dirpath, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(dirpath, d)) not in skip)
            for fname in sorted(files):
                full = os.path.join(dirpath, fname)
                out.append(full[2:] if not paths and full.startswith("./") else full)
    return out


def graph(ws: Workspace, given: Optional[str], *, all_: bool = False, edge_files: bool = False) -> str:
    """quilt's graph: the applied patches PATCH (default the top) depends on, as dot; --all:
    every applied patch. An edge joins each patch to the nearest earlier one changing a same file."""
    from f5quilt.ops.authoring import applied_or_top
    applied = ws.stack.applied()
    target = None if all_ else applied_or_top(ws, given)
    upto = applied if all_ else applied[:applied.index(target or "") + 1]
    files = {p: set(ws.stack.backup_files(p)) for p in upto}
    edges: dict[tuple[str, str], set[str]] = {}
    for i, p in enumerate(upto):
        for rel in files[p]:
            prev = next((q for q in reversed(upto[:i]) if rel in files[q]), None)
            if prev is not None:
                edges.setdefault((prev, p), set()).add(rel)
    keep = set(upto)
    if target is not None:
        keep = {target}
        for (a, b) in sorted(edges, key=lambda e: -upto.index(e[1])):
            if b in keep:
                keep.add(a)
    nodes = [p for p in upto if p in keep]
    ids = {p: f"n{i}" for i, p in enumerate(nodes)}
    lines = ["digraph dependencies {"]
    for p in nodes:
        style = "style=bold," if p == target else ""
        lines.append(f'\t{ids[p]} [{style}label="{p}"];')
    for (a, b), rels in edges.items():
        if a in ids and b in ids:
            label = f' [label="{", ".join(sorted(rels))}"]' if edge_files else ""
            lines.append(f"\t{ids[a]} -> {ids[b]}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def upgrade(ws: Workspace, out: Reporter) -> None:
    """quilt's upgrade: .pc/ in the version 2 format (the only one f5quilt and quilt 0.66 write)."""
    version = ws.stack.pc / ".version"
    if not ws.stack.pc.is_dir() or (version.is_file() and version.read_text().strip() == "2"):
        out.info(f"The quilt meta-data in {ws.settings.pc_name}/ are already in the version 2 format; "
                 "nothing to do")
        return
    recover(ws, out)
    out.info("Converting meta-data to version 2")
    with ws.transaction("upgrade"):
        ws.fs.write(version, b"2\n")


# -- mail --------------------------------------------------------------------
_SUBJECT_PREFIX = re.compile(r"^\s*((re|aw|fwd?|fw)\s*:\s*|\[[^\]]*\]\s*)+", re.I)


def patch_subject(header: str) -> Optional[str]:
    """quilt's subject of a patch: a Subject: header (continuation lines kept), else a
    DESC..EDESC block, else a first paragraph shorter than 150 characters."""
    lines = header.split("\n")
    for i, line in enumerate(lines):
        if line.lower().startswith("subject:"):
            value = [line.split(":", 1)[1].strip()]
            for more in lines[i + 1:]:
                if not more.startswith((" ", "\t")):
                    break
                value.append(more)
            return "\n".join(value)
    text = header.lstrip("\n")
    if text.startswith("DESC\n") and "\nEDESC" in text:
        return " ".join(text[5:text.index("\nEDESC")].split())
    first = text.split("\n\n", 1)[0]
    if first and len(first) < 150:
        return _SUBJECT_PREFIX.sub("", " ".join(first.split()))
    return None


def _address(value: str, charset: str = "UTF-8") -> str:
    """An address as quilt's edmail writes it: the name quoted when it must be, a
    non-ASCII name as an RFC 2047 q-word."""
    import email.utils
    name, addr = email.utils.parseaddr(value)
    if not addr:
        return value
    if name and not name.isascii():
        raw = name.encode("utf-8")
        word = "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in raw)
        return f"=?{charset}?q?{word}?= <{addr}>"
    return email.utils.formataddr((name, addr))


def _recipients(header: str, field: str, charset: str) -> list[str]:
    """To: the header's To: lines; Cc: its Signed-off-by/Acked-by/Cc lines (quilt's rule)."""
    names = ("to",) if field == "to" else ("signed-off-by", "acked-by", "cc")
    out: list[str] = []
    for line in header.split("\n"):
        m = re.match(r"^([A-Za-z-]+):\s*(.+)$", line)
        if m and m.group(1).lower() in names:
            value = _address(m.group(2).strip(), charset)
            if value not in out:
                out.append(value)
    return out


def mbox(ws: Workspace, patches: list[str], *, sender: str, prefix: str, subject: Optional[str],
         message: Optional[str], sender_from: Optional[str], to: list[str], cc: list[str],
         signature: Optional[str], charset: str = "UTF-8") -> bytes:
    """quilt's ``mail --mbox``: an introduction ([PREFIX 0/N]) and one message per patch
    ([PREFIX n/N] its subject, threaded under the introduction), the patch file as body."""
    import email.utils
    import time as _time
    from f5quilt.model.patch import patch_header
    subjects: Dict[str, str] = {}
    for name in patches:
        data = ws.patch_file(name).read_bytes() if ws.patch_file(name).is_file() else b""
        header = patch_header(data).decode("utf-8", "replace")
        sub = patch_subject(header)
        if not sub:
            raise F5QuiltError(f"Unable to extract a subject header from {ws.display(name)}")
        subjects[name] = sub.strip()
    seen: Dict[str, list[str]] = {}
    for name, sub in subjects.items():
        seen.setdefault(sub, []).append(name)
    dups = [n for names in seen.values() if len(names) > 1 for n in names]
    if dups:
        raise F5QuiltError(f"Patches {', '.join(ws.display(n) for n in dups)} have duplicate subject headers.",
                           exit_code=1)
    if not subject:
        raise F5QuiltError("Introduction has no subject header")
    total = len(patches)
    width = len(str(total))
    address = re.sub(r".*<([^<>]+)>.*", r"\1", sender)
    start = int(_time.time())
    domain = address.split("@", 1)[-1] or "localhost"
    intro_id = f"<{start}.0.quilt@{domain}>"
    out: list[str] = []

    def message_text(num: int, sub: str, body: str, extra_to: list[str], extra_cc: list[str],
                     msgid: str) -> str:
        date = email.utils.formatdate(start + num, localtime=True)
        lines = [f"From {address} {_time.strftime('%a %b %d %H:%M:%S %Y', _time.localtime(start + num))}",
                 f"Message-ID: {msgid}", "User-Agent: f5quilt (quilt mail)", f"Date: {date}",
                 f"From: {sender_from or sender}"]
        all_to = list(dict.fromkeys(to + extra_to))
        if all_to:
            lines.append("To: " + ",\n ".join(all_to))
        all_cc = [c for c in dict.fromkeys(cc + extra_cc) if c not in all_to]
        if all_cc:
            lines.append("Cc: " + ",\n ".join(all_cc))
        if num:
            lines += [f"References: {intro_id}", f"In-Reply-To: {intro_id}"]
        lines += [f"Subject: [{prefix} {num:0{width}d}/{total}] {sub}", "MIME-Version: 1.0",
                  f"Content-Type: text/plain; charset={charset}", "Content-Transfer-Encoding: 8bit", ""]
        text = "\n".join(lines) + "\n"
        body_lines = [(">" + l if re.match(r"^>*From ", l) else l) for l in body.split("\n")]
        return text + "\n".join(body_lines).rstrip("\n") + "\n\n"

    intro_body = (message + "\n" if message else "") + (f"\n-- \n{signature}\n" if signature else "")
    out.append(message_text(0, subject, intro_body, [], [], intro_id))
    for num, name in enumerate(patches, 1):
        whole = ws.patch_file(name).read_bytes().decode("utf-8", "surrogateescape") \
            if ws.patch_file(name).is_file() else ""
        header = patch_header(whole.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")
        body_header = re.sub(r"(?im)^subject:.*\n(?:[ \t].*\n)*", "", header, count=1).lstrip("\n")
        body = body_header + whole[len(header):]
        if signature:
            body += f"\n-- \n{signature}\n"
        out.append(message_text(num, subjects[name], body, _recipients(header, "to", charset), _recipients(header, "cc", charset),
                                f"<{start}.{num}.quilt@{domain}>"))
    return "".join(out).encode("utf-8", "surrogateescape")


# -- setup -------------------------------------------------------------------
def read_setup_series(path: str) -> tuple[list[str], Optional[str]]:
    """The ``# Source:`` archives and the ``# Patchdir:`` of a series file (quilt's setup form)."""
    sources: list[str] = []
    patchdir: Optional[str] = None
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            m = re.match(r"^#\s*(Source|Patchdir):\s*(.*?)\s*$", line)
            if m and m.group(2):
                if m.group(1) == "Source":
                    sources.append(m.group(2))
                else:
                    patchdir = m.group(2)
    return sources, patchdir


def _safe_members(tar: "tarfile.TarFile") -> list["tarfile.TarInfo"]:
    from f5quilt.fsutil import safe_relpath
    members = []
    for m in tar.getmembers():
        if m.name in (".", "./"):
            continue
        safe_relpath(m.name.lstrip("./") if m.name.startswith("./") else m.name)
        if m.islnk() or m.issym():
            if os.path.isabs(m.linkname) or ".." in Path(m.linkname).parts and m.islnk():
                raise F5QuiltError(f"{m.name}: a link out of the archive")
        if m.ischr() or m.isblk() or m.isfifo():
            continue
        members.append(m)
    return members


def setup(ws: Workspace, out: Reporter, series_file: str, *, sourcedir: Optional[str]) -> None:
    """quilt's setup from a series file: unpack each ``# Source:`` archive into the tree
    (one transaction: a scratch folder adopted into place), then link ``patches`` and
    ``series`` (or quilt_patches/quilt_series) in the ``# Patchdir:`` to the patches' folder."""
    import shutil
    import tarfile
    sources, patchdir = read_setup_series(series_file)
    src_dir = sourcedir if sourcedir is not None else os.path.dirname(series_file)
    archives = []
    for name in sources:
        shown = os.path.normpath(os.path.join(src_dir, name)) if src_dir else name
        if not os.path.isfile(shown):
            raise F5QuiltError(f"File {shown} not found")
        archives.append(shown)
    root = ws.tree
    if patchdir:
        from f5quilt.fsutil import safe_user_name
        patchdir = safe_user_name(root, patchdir, f"{series_file}: # Patchdir:")
    pdir = root / patchdir if patchdir else root
    if patchdir and pdir.exists():
        raise F5QuiltError(f"Directory {patchdir} exists")
    recover(ws, out)
    with ws.transaction(f"setup {series_file}"):
        ws.fs.mkdirs(root)
        tmp = ws.fs.scratch_dir(root / f".f5quilt-setup-{os.getpid()}")
        try:
            for shown in archives:
                out.step(f"Unpacking archive {shown}")
                try:
                    with tarfile.open(shown, "r:*") as tar:
                        tar.extractall(tmp, members=_safe_members(tar))
                except (tarfile.TarError, OSError) as exc:
                    raise F5QuiltError(f"{shown}: cannot unpack: {exc}") from None
            target = tmp / patchdir if patchdir else tmp
            target.mkdir(parents=True, exist_ok=True)
            links = ("patches", "series")
            if (target / "patches").exists() or (target / "series").exists():
                shown_dir = f"{patchdir}/patches" if patchdir else "patches"
                out.step(f"Directory {shown_dir} exists")
                out.step("Trying alternative patches and series names...")
                links = ("quilt_patches", "quilt_series")
                (target / ".pc").mkdir(exist_ok=True)
                (target / ".pc" / ".quilt_patches").write_text("quilt_patches\n")
                (target / ".pc" / ".quilt_series").write_text("quilt_series\n")
            final = root / patchdir if patchdir else root
            os.symlink(os.path.relpath(os.path.abspath(src_dir or "."), final), target / links[0])
            os.symlink(os.path.relpath(os.path.abspath(series_file), final), target / links[1])
            for entry in sorted(os.listdir(tmp)):
                ws.fs.adopt_dir(tmp / entry, root / entry)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
