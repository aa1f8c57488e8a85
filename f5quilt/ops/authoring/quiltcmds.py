"""quilt's commands that f5quilt had not: fork, snapshot, annotate, grep, graph, upgrade,
mail --mbox, setup; each that writes is one transaction."""
from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Dict, Optional

from f5quilt.errors import F5QuiltError
from f5quilt import proc
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace
from f5quilt.ops.authoring import quiltdiff
from f5quilt.ops.stack.repair import recover

if TYPE_CHECKING:
    import tarfile


def fork(ws: Workspace, emit: Emit, new: Optional[str]) -> str:
    from f5quilt.ops.authoring.core import rename_patch_in_transaction, named_or_top
    recover(ws, emit)
    top = named_or_top(ws, None)
    target = new or quiltdiff.next_filename(top)
    prefix = ws.settings.patches_display.rstrip("/") + "/"
    if target.startswith(prefix):
        target = target[len(prefix):]
    ws.patch_name(target, "fork")
    # empty folders (a rolled-back command may leave them) do not count
    if ws.series.get(target) or ws.patch_file(target).exists() or any(True for _ in ws.stack.backup_files(target)):
        raise F5QuiltError(f"Patch {ws.display(target)} exists already, please choose a new name")
    old_file = ws.patch_file(top)
    data = old_file.read_bytes() if old_file.exists() else None
    mode = old_file.stat().st_mode if old_file.exists() else None
    with ws.transaction(f"fork {target}"):
        rename_patch_in_transaction(ws, ev.ignore, top, target)
        if data is not None:
            ws.fs.write(old_file, data, mode)  # the old patch file stays
    emit(ev.info(f"Fork of patch {ws.display(top)} created as {ws.display(target)}"))
    return target


def snapshot(ws: Workspace, emit: Emit, *, remove: bool = False) -> None:
    from f5quilt.ops.authoring.quiltdiff import take_snapshot
    recover(ws, emit)
    with ws.transaction("snapshot" + (" -d" if remove else "")):
        take_snapshot(ws, remove=remove)


def _hunks(old: bytes, new: bytes) -> list[tuple[int, int, int, int]]:
    """(old start, old count, new start, new count) of GNU diff's -U0 hunks, 0-based starts."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="f5quilt-annotate-") as tmp:
        a, b = f"{tmp}/a", f"{tmp}/b"
        with open(a, "wb") as fa, open(b, "wb") as fb:  # scratch files outside the tree
            fa.write(old)
            fb.write(new)
        r = proc.run(["diff", "-U0", "-a", a, b], ok=(0, 1))  # 1: they differ
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
    from f5quilt.ops.authoring.core import applied_or_top, content_after
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
    """quilt's grep: the files under PATHS (as given), or without PATHS the tree's, relative to
    its root (where quilt runs grep); the patches folder and .pc/ left out."""
    import os
    skip = {os.path.realpath(ws.settings.patches), os.path.realpath(ws.stack.pc)}
    out: list[str] = []
    root = str(ws.tree)
    for top in paths or [root]:
        if os.path.isfile(top):
            out.append(top)
            continue
        for dirpath, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(dirpath, d)) not in skip)
            for fname in sorted(files):
                full = os.path.join(dirpath, fname)
                out.append(os.path.relpath(full, root) if not paths else full)
    return out


_HUNK_RANGES = re.compile(r"^@@ -(\d+)(?:,(\d+)?) \+(\d+)(?:,(\d+)?) @@")


def _graph_ranges(ws: Workspace, nodes: list[str], n: int, rel: str, lines: int,
                  files: list[set[str]]) -> tuple[list[int], list[int]]:
    """quilt's dependency-graph compute_ranges: the hunks of ``diff -U LINES`` between the
    file as patch N found it and as the next patch changing it (or the tree) found it:
    (new-side ranges, old-side ranges), each a flat list of start, end."""
    file1 = str(ws.stack.pc / nodes[n] / rel)
    nxt = next((k for k in range(n + 1, len(nodes)) if rel in files[k]), None)
    file2 = str(ws.stack.pc / nodes[nxt] / rel) if nxt is not None else str(ws.tree / rel)

    def empty(path: str) -> bool:
        return os.path.isfile(path) and os.path.getsize(path) == 0
    if empty(file1):
        if empty(file2):
            return [], []
        file1 = "/dev/null"
    elif empty(file2):
        file2 = "/dev/null"
    r = proc.run(["diff", f"-U{lines}", file1, file2], cwd=ws.tree, ok=None)  # a failed diff: no ranges
    left: list[int] = []
    right: list[int] = []
    for line in r.stdout.decode("utf-8", "surrogateescape").split("\n"):
        m = _HUNK_RANGES.match(line)
        if m:
            left += [int(m.group(3)), int(m.group(3)) + int(m.group(4) or 0)]
            right += [int(m.group(1)), int(m.group(1)) + int(m.group(2) or 0)]
    return left, right


def _overlap(a: list[int], b: list[int]) -> bool:
    """quilt's is_a_conflict over two flat lists of ranges."""
    a, b = list(a), list(b)
    while a and b:
        if a[0] < b[0]:
            if len(b) % 2:
                return True
            a.pop(0)
        elif a[0] > b[0]:
            if len(a) % 2:
                return True
            b.pop(0)
        else:
            if len(a) % 2 == len(b) % 2:
                return True
            a.pop(0)
            b.pop(0)
    return False


def graph(ws: Workspace, given: Optional[str], *, all_: bool = False, edge_files: bool = False,
          lines: Optional[int] = None, emit: Emit = ev.ignore) -> str:
    """quilt's graph (its scripts/dependency-graph): the applied patches as dot nodes
    n<number>, an edge from each patch to the latest earlier one changing a same file
    (with LINES: the latest whose changed lines, with LINES of context, overlap); without
    --all only the files of PATCH (default the top) count, and it is drawn bold. Nodes
    without edges are left out; a patch's node is grey when it has none."""
    import math
    from f5quilt.ops.authoring.core import applied_or_top
    applied = ws.stack.applied()
    selected = None if all_ else applied_or_top(ws, given)
    nodes: list[str] = []
    files: list[set[str]] = []
    for p in applied:
        if not ws.stack.backup_dir(p).is_dir():
            emit(ev.warn(f"{ws.settings.pc_name}/{p} does not exist; skipping"))
            continue
        nodes.append(p)
        files.append(set(ws.stack.backup_files(p)))
    attrs: list[list[str]] = [[] for _ in nodes]
    used: set[int] = set()
    if selected is not None:
        sel = nodes.index(selected)
        used.add(sel)
        attrs[sel].append("style=bold")
        files = [f & files[sel] for f in files]
    ranges: dict[tuple[int, str], tuple[list[int], list[int]]] = {}

    def rng(n: int, rel: str) -> tuple[list[int], list[int]]:
        if not ranges.get((n, rel)):
            ranges[(n, rel)] = _graph_ranges(ws, nodes, n, rel, lines or 0, files)
        return ranges[(n, rel)]
    seen: dict[str, list[int]] = {}
    edges: dict[tuple[int, int], list[str]] = {}
    for number in range(len(nodes)):
        for rel in sorted(files[number]):
            if rel in seen:
                earlier = seen[rel]
                hit: Optional[int] = None
                if lines is not None:
                    for k in reversed(earlier):
                        if _overlap(rng(number, rel)[1], rng(k, rel)[0]):
                            hit = k
                            break
                else:
                    hit = earlier[-1]
                if hit is not None:
                    edges.setdefault((number, hit), []).append(rel)
                    used.update((number, hit))
            seen.setdefault(rel, []).append(number)
    ends = {n for e in edges for n in e}
    for n in range(len(nodes)):
        if n not in used or n not in ends:  # quilt greys a node with no edge: the selected one too
            attrs[n].append("color=grey")
        attrs[n].append(f'label="{nodes[n]}"')
    text = ["digraph dependencies {"]
    for n in range(len(nodes)):
        if n in used:
            text.append(f"\tn{n} [{','.join(attrs[n])}];")
    for (frm, to) in sorted(edges, key=lambda e: e[0] * 10000 + e[1]):
        eattrs = []
        if edge_files:
            eattrs.append('label="' + "\\n".join(edges[(frm, to)]) + '"')
        eattrs.append(f'len="{math.log(abs(to - frm) + 3):.2f}"')
        text.append(f"\tn{to} -> n{frm} [{','.join(eattrs)}];")
    text.append("}")
    return "\n".join(text) + "\n"


def upgrade(ws: Workspace, emit: Emit) -> None:
    """quilt's upgrade: .pc/ in the version 2 format (the only one f5quilt and quilt 0.66 write)."""
    version = ws.stack.pc / ".version"
    if not ws.stack.pc.is_dir() or (version.is_file() and version.read_text().strip() == "2"):
        emit(ev.info(f"The quilt meta-data in {ws.settings.pc_name}/ are already in the version 2 format; "
                 "nothing to do"))
        return
    recover(ws, emit)
    emit(ev.info("Converting meta-data to version 2"))
    with ws.transaction("upgrade"):
        ws.fs.write(version, b"2\n")


# -- mail --------------------------------------------------------------------
_SUBJECT_PREFIX = re.compile(r"^(?:(?:\[[^\]]*\]|fwd:|fw:|re:|aw:|tr:)[ \t]*)*", re.I)
_CC_TAGS = ("signed-off-by", "acked-by", "suggested-by", "reviewed-by", "requested-by", "reported-by",
            "tested-by", "cc")


def _header_value(text: str, name: str) -> Optional[str]:
    """quilt's extract_header_value: NAME's value with its continuation lines, or None."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lower().startswith(name.lower() + ":"):
            value = [line[len(name) + 1:]]
            for more in lines[i + 1:]:
                if not more or not more.startswith((" ", "\t")):
                    break
                value.append(more)
            return "\n".join(value)
    return None


def _join(text: str) -> str:
    return " ".join(text.split())


def patch_subject(header: str) -> Optional[str]:
    """quilt's subject of a patch: a Subject: header (continuation lines kept), else a
    DESC..EDESC block, else a first paragraph shorter than 150 characters; then
    [..], Re:, Fwd: ... prefixes dropped."""
    return _mail_parts(header, header)[0]


def _mail_parts(header: str, whole: str) -> tuple[Optional[str], str]:
    """(subject, body) of a patch as quilt_mail_patch_filter cuts them."""
    subject = _header_value(header, "Subject")
    body = ""
    lines = whole.split("\n")
    if subject and subject.strip():
        k = lines.index("") if "" in lines else len(lines)
        body = "\n".join(lines[k + 1:])
    else:
        subject = None
        hl = header.split("\n")
        if any(l.startswith("DESC") for l in hl):
            start = next(i for i, l in enumerate(hl) if l.startswith("DESC"))
            desc = []
            for l in hl[start + 1:]:
                if l.startswith("EDESC"):
                    break
                desc.append(l)
            if "\n".join(desc).strip():
                subject = _join(" ".join(desc))
                kept, inside = [], False
                for l in lines:
                    if l.startswith("DESC"):
                        inside = True
                    if not inside:
                        kept.append(l)
                    if l.startswith("EDESC"):
                        inside = False
                body = "\n".join(kept)
        if subject is None:
            para = []
            for l in hl:
                para.append(l)
                if not l.strip(" \t"):
                    break
            text = "\n".join(para)
            text = text[:-1] if text.endswith("\n") else text
            if 0 < len(text) < 150:
                subject = _join(text)
                k = next((i for i, l in enumerate(lines) if not l.strip(" \t")), len(lines))
                body = "\n".join(lines[k + 1:])
    if not subject:
        return None, ""
    if subject[:1] in (" ", "\t"):  # quilt's sed is anchored before the space after "Subject:";
        return subject.lstrip(" \t").rstrip("\n"), body  # continuation lines kept, as quilt's header
    return _SUBJECT_PREFIX.sub("", _join(subject)) or None, body


def _address(value: str, charset: str = "UTF-8") -> str:
    """An address as quilt's edmail writes it: the name quoted when it must be, a
    non-ASCII name as an RFC 2047 q-word."""
    import email.utils
    name, addr = email.utils.parseaddr(value)
    if not addr:
        return value
    if name and not name.isascii():
        raw = name.encode("utf-8")
        word = "".join(chr(b) if 0x21 <= b <= 0x7e and b not in (0x3d, 0x3f, 0x5f) else f"={b:02X}" for b in raw)
        return f"=?{charset}?q?{word}?= <{addr}>"
    return email.utils.formataddr((name, addr))


def _deliver(value: str) -> str:
    import email.utils
    return email.utils.parseaddr(value)[1] or value


def _recipients(header: str, field: str, charset: str) -> list[str]:
    """To: the header's To: lines; Cc: its Signed-off-by/Acked-by/.../Cc lines (quilt's
    rule), the user's own address (LOGNAME@) left out."""
    import getpass
    names = ("to",) if field == "to" else _CC_TAGS
    me = (os.environ.get("LOGNAME") or getpass.getuser()) + "@"
    out: list[str] = []
    for line in header.split("\n"):
        m = re.match(r"^([A-Za-z-]+):\s*(.*@.*)$", line)
        if m and m.group(1).lower() in names and not re.search(r"\b" + re.escape(me), line):
            value = _address(m.group(2).strip(), charset)
            if value not in out:
                out.append(value)
    return out


def _reply_headers(path: str) -> tuple[list[str], str, list[str]]:
    """quilt's in_reply_to_header/references_header for the message in PATH, and its subject:
    (In-Reply-To lines, subject, References ids)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        raise F5QuiltError(f"File {path} does not exist") from None
    head = text.split("\n\n", 1)[0]
    msgid = (_header_value(head, "Message-ID") or "").strip()
    refs = (_header_value(head, "References") or "").strip()
    if not refs:
        irt = (_header_value(head, "In-Reply-To") or "").strip()
        if irt and irt.count("@") < 2:
            refs = irt
    ids = [r.strip() for r in refs.split("\n") if r.strip()] if refs else []
    if msgid:
        ids.append(msgid)
    subject = re.sub(r"^ *(?:[rR][eE]: *)*", "", (_header_value(head, "Subject") or "").strip("\n"))
    return ([f"In-Reply-To: {msgid}"] if msgid else []), _join(subject), ids


def mail_messages(ws: Workspace, patches: list[str], *, sender: str, prefix: str, subject: Optional[str],
                  message: Optional[str], sender_from: Optional[str], to: list[str], cc: list[str],
                  bcc: list[str], signature: Optional[str], charset: str = "UTF-8",
                  reply_to: Optional[str] = None) -> list[tuple[list[str], str]]:
    """quilt's mail: an introduction ([PREFIX 0/N]) and one message per patch ([PREFIX n/N]
    its subject, References: the introduction), each as (envelope recipients, message
    text with its Bcc: header): the headers, their order and the bodies as GNU quilt 0.66
    writes them. (quilt's --reply-to also mails the patches to the replied-to message's
    id and drops the last Cc/Bcc, as its awk keeps a References: continuation line; not
    copied.)"""
    import email.utils
    import time as _time
    from f5quilt.model.patch import patch_header
    parts: Dict[str, tuple[str, str, str]] = {}
    for name in patches:
        pf = ws.patch_file(name)
        if not pf.is_file():
            raise F5QuiltError(f"Patch {ws.display(name)} does not exist")
        whole = pf.read_bytes().decode("utf-8", "surrogateescape")
        header = patch_header(whole.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")
        sub, body = _mail_parts(header, whole)
        if not sub:
            raise F5QuiltError(f"Unable to extract a subject header from {ws.display(name)}")
        parts[name] = (sub, body, header)
    seen: Dict[str, list[str]] = {}
    for name in patches:
        seen.setdefault(_join(parts[name][0]), []).append(name)
    dups = [n for names in sorted(seen.items()) if len(names[1]) > 1 for n in names[1]]
    if dups:
        raise F5QuiltError(f"Patches {', '.join(ws.display(n) for n in dups)} have duplicate subject headers.")
    reply_lines: list[str] = []
    refs: list[str] = []
    if reply_to:
        reply_lines, old_subject, refs = _reply_headers(reply_to)
        if not subject:
            subject = f"Re: {old_subject}"
    if not subject:
        raise F5QuiltError("Introduction has no subject header")
    total = len(patches)
    width = len(str(total))
    address = re.sub(r".*<([^<>]+)>.*", r"\1", sender)
    domain = address.split("@", 1)[-1]
    start = _time.time()

    def msgid(k: int) -> str:
        t = start + k * 0.001
        return f"<{_time.strftime('%Y%m%d%H%M%S', _time.gmtime(t))}.{int((t % 1) * 1e9):09d}@{domain}>"

    def recipients(*groups: list[str]) -> tuple[list[list[str]], list[str]]:
        taken: set[str] = set()
        shown: list[list[str]] = []
        envelope: list[str] = []
        for group in groups:
            kept = []
            for r in group:
                addr = _address(r, charset)
                d = _deliver(addr)
                if d not in taken:
                    taken.add(d)
                    kept.append(addr)
                    envelope.append(d)
            shown.append(kept)
        return shown, envelope

    def render(num: int, sub: str, extra_to: list[str], extra_cc: list[str], body: str,
               references: list[str], mime: bool) -> tuple[list[str], str]:
        (t, c, b), envelope = recipients(to + extra_to, cc + extra_cc, bcc)
        lines = [f"Message-ID: {msgid(num)}", "User-Agent: f5quilt",
                 f"Date: {email.utils.formatdate(int(start) + num, localtime=True)}",
                 f"From: {sender_from or sender}"]
        for field, values in (("To", t), ("Cc", c), ("Bcc", b)):
            if values:
                lines.append(f"{field}: " + ",\n ".join(values))
        if num == 0:
            lines += reply_lines
            if references:
                lines.append("References: " + "\n ".join(references))
        lines.append(f"Subject: [{prefix} {num:0{width}d}/{total}] {sub}")
        if num:
            lines.append("References: " + "\n ".join(references))
        if mime:
            lines += ["MIME-Version: 1.0", f"Content-Type: text/plain; charset={charset}"]
        return envelope, "\n".join(lines) + "\n\n" + body

    out = []
    intro_body = (f"{message}\n\n" if message else "") + (f"-- \n{signature}\n" if signature else "")
    out.append(render(0, subject, [], [], intro_body, refs, False))
    for num, name in enumerate(patches, 1):
        sub, body, header = parts[name]
        if not body.endswith("\n"):
            body += "\n"
        out.append(render(num, sub, _recipients(header, "to", charset), _recipients(header, "cc", charset),
                          body + "\n", refs + [msgid(0)], True))
    return out


def mbox(messages: list[tuple[list[str], str]], sender: str) -> bytes:
    """The messages as quilt's --mbox writes them: a From line, ">From " quoting."""
    import time as _time
    address = re.sub(r".*<([^<>]+)>.*", r"\1", sender)
    lt = _time.localtime()
    stamp = _time.strftime("%a %b ", lt) + f"{lt.tm_mday:2d}" + _time.strftime(" %H:%M:%S %Y", lt)
    out = []
    for _envelope, text in messages:
        quoted = re.sub(r"(?m)^From ", ">From ", text)
        out.append(f"From {address} {stamp}\n{quoted}\n")
    return "".join(out).encode("utf-8", "surrogateescape")


def send(messages: list[tuple[list[str], str]], sender: str, emit: Emit,
         env: Dict[str, str]) -> None:
    """quilt's --send: each message, its Bcc: header removed, piped into
    ``${QUILT_SENDMAIL:-sendmail} ${QUILT_SENDMAIL_ARGS--f SENDER} RECIPIENTS``, the
    command line printed first."""
    cmd = (env.get("QUILT_SENDMAIL") or "sendmail").split()
    args = env["QUILT_SENDMAIL_ARGS"].split() if "QUILT_SENDMAIL_ARGS" in env else ["-f", sender]
    for envelope, text in messages:
        full = cmd + args + envelope
        emit(ev.info(" ".join(full)))
        head, _, body = text.partition("\n\n")
        kept = re.sub(r"(?im)^bcc:.*\n(?:[ \t].*\n)*", "", head + "\n")
        proc.run(full, input=(kept + "\n" + body).encode("utf-8", "surrogateescape"), what=cmd[0],
                 stdout=proc.INHERIT, stderr=proc.INHERIT)  # its words are the user's to read


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
    links: set[str] = set()  # symlink members: nothing may be unpacked through one
    for m in tar.getmembers():
        if m.name in (".", "./"):
            continue
        rel = safe_relpath(m.name.lstrip("./") if m.name.startswith("./") else m.name)
        parts = PurePosixPath(os.path.normpath(rel)).parts
        through = next(("/".join(parts[:k]) for k in range(1, len(parts)) if "/".join(parts[:k]) in links), None)
        if through is not None:
            raise F5QuiltError(f"{m.name}: unpacked through the symlink {through} of the archive; refused")
        if "/".join(parts) in links and not m.issym():
            raise F5QuiltError(f"{m.name}: written over a symlink of the archive (it would write where "
                               "the link points); refused")
        if ".f5quilt" in parts:  # f5quilt's journal or log would be run or replayed by the next command
            raise F5QuiltError(f"{m.name}: the archive ships f5quilt's own state; refused")
        if m.islnk() or m.issym():
            if os.path.isabs(m.linkname) or ".." in Path(m.linkname).parts and m.islnk():
                raise F5QuiltError(f"{m.name}: a link out of the archive")
        if m.issym() or (m.islnk() and os.path.normpath(m.linkname.lstrip("./") if m.linkname.startswith("./")
                                                        else m.linkname) in links):
            links.add("/".join(parts))  # a hard link to a symlink is that symlink
        if m.ischr() or m.isblk() or m.isfifo():
            continue
        members.append(m)
    return members


def setup(ws: Workspace, emit: Emit, series_file: str, *, sourcedir: Optional[str]) -> None:
    """quilt's setup from a series file: unpack each ``# Source:`` archive into the tree
    (one transaction: a scratch folder adopted into place), then link ``patches`` and
    ``series`` (or quilt_patches/quilt_series) in the ``# Patchdir:`` to the patches' folder."""
    import shutil
    import tarfile
    recover(ws, emit)  # first: a killed setup's half-unpacked folders go before "Directory X exists"
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
    with ws.transaction(f"setup {series_file}"):
        ws.fs.mkdirs(root)
        tmp = ws.fs.scratch_dir(root / f".f5quilt-setup-{os.getpid()}")
        try:
            for shown in archives:
                emit(ev.step(f"Unpacking archive {shown}"))
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
                emit(ev.step(f"Directory {shown_dir} exists"))
                emit(ev.step("Trying alternative patches and series names..."))
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


def _unzip(archive: str, dest: Path) -> None:
    """A zip archive unpacked into DEST, member names checked (nothing lands outside)."""
    import zipfile
    from f5quilt.fsutil import safe_relpath
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            safe_relpath(info.filename.rstrip("/"))
        zf.extractall(dest)
        for info in zf.infolist():  # unzip keeps the Unix modes
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(dest / info.filename, mode)


def _quilt_symlink_target(target: str, link: str) -> str:
    """The target quilt's create_symlink gives LINK for TARGET (both as given, relative to
    the current folder): absolute when either is, else relative from the link's folder."""
    if target.startswith("/") or link.startswith("/"):
        return target if target.startswith("/") else os.getcwd() + "/" + target
    rel = os.path.relpath(os.path.normpath(os.path.join(os.getcwd(), target or ".")),
                          os.path.dirname(os.path.normpath(os.path.join(os.getcwd(), link))))
    return rel


def setup_spec(ws: Workspace, emit: Emit, spec_file: str, *, prefix: str, sourcedir: str,
               verbose: bool = False) -> None:
    """quilt 0.66's setup from an RPM spec file (its default "slow" mode), the spec read
    without rpmbuild (f5quilt.model.rpmspec): each archive %prep unpacks, unpacked where
    %prep unpacks it; in each folder where patches are applied a ``patches`` link to the
    source folder, ``.pc/`` and a ``series`` file listing them with their -p/-R options.
    PREFIX and SOURCEDIR are quilt's: "" or a folder with a trailing slash."""
    import shutil
    import tarfile
    import zipfile
    from f5quilt.model.rpmspec import read_spec
    recover(ws, emit)  # first: a killed setup's half-unpacked folders go before "Directory X exists"
    try:
        text = Path(spec_file).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise F5QuiltError(f"{spec_file}: {exc.strerror}") from None
    records = read_spec(spec_file, text, sourcedir.rstrip("/") or ".")
    if verbose:
        for r in records:
            emit(ev.step(f"{r.tag} {r.dir} {r.name}{' ' + r.opts if r.opts else ''}"))
    bad: list[str] = []
    last = None
    for r in records:  # check_for_existing_directories
        if r.dir != "." and r.dir != last and os.path.lexists(prefix + r.dir):
            bad.append(f"Directory {prefix}{r.dir} exists")
        last = r.dir
    for r in records:
        if r.tag == "tar" and not os.path.isfile(sourcedir + r.name):
            bad.append(f"File {sourcedir}{r.name} not found")
            break
    if bad:
        raise F5QuiltError("\n".join(bad))
    patchdirs = list(dict.fromkeys(r.dir for r in records if r.tag == "patch"))
    root = ws.tree
    with ws.transaction(f"setup {spec_file}"):
        ws.fs.mkdirs(root)
        tmp = ws.fs.scratch_dir(root / f".f5quilt-setup-{os.getpid()}")
        try:
            for r in records:
                if r.tag != "tar":
                    continue
                shown = sourcedir + r.name
                emit(ev.step(f"Unpacking archive {shown}"))
                dest = tmp / r.dir
                dest.mkdir(parents=True, exist_ok=True)
                try:
                    if r.name.lower().endswith(".zip"):  # rpm's %setup runs unzip for these
                        _unzip(shown, dest)
                    else:
                        with tarfile.open(shown, "r:*") as tar:
                            tar.extractall(dest, members=_safe_members(tar))
                except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
                    raise F5QuiltError(f"{shown}: cannot unpack: {exc}") from None
            names = ("patches", "series")
            clash = [d for d in patchdirs if (tmp / d / "patches").exists() or (tmp / d / "series").exists()
                     or os.path.lexists(root / d / "patches") or os.path.lexists(root / d / "series")]
            if clash:
                for d in clash:
                    for what, n in (("Directory", "patches"), ("File", "series")):
                        if (tmp / d / n).exists() or os.path.lexists(root / d / n):
                            emit(ev.step(f"{what} {prefix}{d}/{n} exists"))
                emit(ev.step("Trying alternative patches and series names..."))
                names = ("quilt_patches", "quilt_series")
                for d in patchdirs:
                    if (tmp / d / names[0]).exists() or (tmp / d / names[1]).exists():
                        raise F5QuiltError(f"Directory {prefix}{d}/{names[0]} exists")
            tar_dir, tar_file = "", ""
            started: set[str] = set()
            for r in records:
                if r.tag == "tar":
                    tar_dir, tar_file = ("" if r.dir == "." else r.dir), r.name
                    continue
                pdir = tmp / r.dir
                pdir.mkdir(parents=True, exist_ok=True)
                if r.dir not in started:
                    started.add(r.dir)
                    link = f"{prefix}{r.dir}/{names[0]}"
                    os.symlink(_quilt_symlink_target(sourcedir, link), pdir / names[0])
                    pc = pdir / ".pc"
                    if not pc.exists():
                        pc.mkdir()
                        (pc / ".version").write_text("2\n")
                        (pc / ".quilt_patches").write_text(names[0] + "\n")
                        (pc / ".quilt_series").write_text(names[1] + "\n")
                    head = ["# Patch series file for quilt, created by quilt setup"]
                    if tar_dir:
                        head.append(f"# Sourcedir: {tar_dir}")
                    if tar_file:
                        head.append(f"# Source: {tar_file}")
                    head += [f"# Patchdir: {r.dir}", "#"]
                    (pdir / names[1]).write_text("\n".join(head) + "\n")
                with open(pdir / names[1], "a") as fh:  # the scratch folder, adopted below
                    fh.write(f"{r.name} {r.opts}".rstrip(" ") + "\n" if r.opts else f"{r.name}\n")
            for entry in sorted(os.listdir(tmp)):
                ws.fs.adopt_dir(tmp / entry, root / entry)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
