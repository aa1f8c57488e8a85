"""quilt's read-only commands f5quilt had not: annotate (GNU diff's hunks), grep (the
tree's files, the patches folder and .pc/ left out), graph (dot)."""
from __future__ import annotations

import os
import re
from typing import Optional

from f5quilt import proc
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace


def _hunks(old: bytes, new: bytes) -> list[tuple[int, int, int, int]]:
    """(old start, old count, new start, new count) of GNU diff's -U0 hunks, 0-based starts."""
    import tempfile  # lazy: start-up
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
    from f5quilt.model.patch import split_lines  # lazy: start-up
    from f5quilt.ops.authoring.core import applied_or_top, content_after  # lazy: start-up
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
    import os  # lazy: start-up
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
    import math  # lazy: start-up
    from f5quilt.ops.authoring.core import applied_or_top  # lazy: start-up
    applied = ws.stack.applied()
    selected = None if all_ else applied_or_top(ws, given)
    nodes: list[str] = []
    files: list[set[str]] = []
    for p in applied:
        if not ws.stack.backup_dir(p).is_dir():
            emit(ev.BackupMissing(ws.settings.pc_name, p))
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
