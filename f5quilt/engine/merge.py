"""3-way merge for hunks that no longer fit.

base   = the file as the patch was written against it: the pinned upstream
         with the earlier patches applied (reconstructed in memory);
theirs = base with this patch applied exactly;
ours   = the file in the tree now.

``git merge-file`` merges at line level. Where it conflicts, each
conflicting region is merged again at word level (the way wiggle rescues
rejected hunks) and that result is kept only when git finds it clean;
otherwise the diff3 conflict markers stay in the file. What still conflicts
is retried hunk by hunk, each block of the patch merged in its own region of
the tree (``hunkmerge``); that result is kept only when it leaves fewer
conflicts (or as many, narrowed to the hunks).
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple

from f5quilt.engine.apply import FileChange, PatchResult
from f5quilt.errors import F5QuiltError
from f5quilt.proc import GIT_ENV, run
from f5quilt.engine.locate import APPLIED, HunkReport, HunkStatus, Landing

if TYPE_CHECKING:
    from f5quilt.engine.hunkmerge import Region

Reader = Callable[[str], Optional[bytes]]

LINE, WORD = "line", "word"


@dataclass
class MergeOutcome:
    data: bytes
    conflicts: int
    level: str  # LINE or WORD: the finest level that was needed (HUNK: hunk-scoped)
    regions: "Optional[List[Region]]" = None  # hunk-scoped: each block's region, anchors, verdict


def _merge_file(ours: bytes, base: bytes, theirs: bytes, labels: Tuple[str, str, str],
                diff3: bool = True) -> Tuple[bytes, int]:
    with tempfile.TemporaryDirectory(prefix="f5quilt-merge-") as tmp:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            p = os.path.join(tmp, name)
            with open(p, "wb") as fh:
                fh.write(data)
            paths.append(p)
        args = ["git", "merge-file", "-p"]
        if diff3:
            args.append("--diff3")
        for label in labels:
            args += ["-L", label]
        r = run(args + paths, cwd=tmp, env=GIT_ENV, ok=None)
    if r.returncode < 0 or r.returncode > 127:  # else the number of conflicts
        raise F5QuiltError(f"git merge-file failed: {r.stderr.decode('utf-8', 'replace').strip()}")
    return bytes(r.stdout), r.returncode


# a word or punctuation mark with the blanks before it; a line end with the
# blanks before it. Attaching blanks to words means two edits on one line
# merge only when an unchanged word stands between them: "unambiguous".
_TOKEN_RE = re.compile(rb"[^\S\r\n]*(?:\w+|[^\w\s])|[^\S\r\n]*\r?\n|[^\S\r\n]+$|\r")


def _tokens(data: bytes) -> Optional[bytes]:
    """One token a line, newlines escaped, so git merges words."""
    toks = _TOKEN_RE.findall(data)
    if b"".join(toks) != data:
        return None  # something the tokenizer does not cover: no word-level merge
    out = []
    for tok in toks:
        out.append(tok.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r") + b"\n")
    return b"".join(out)


def _untokens(data: bytes) -> bytes:
    out = []
    for line in data.split(b"\n"):
        out.append(re.sub(rb"\\(.)", lambda m: {b"n": b"\n", b"r": b"\r", b"\\": b"\\"}[m.group(1)], line))
    return b"".join(out)


_CONFLICT_RE = re.compile(
    rb"^<<<<<<< [^\n]*\n(?P<ours>.*?)^\|\|\|\|\|\|\| [^\n]*\n(?P<base>.*?)^=======\n(?P<theirs>.*?)^>>>>>>> [^\n]*\n",
    re.S | re.M)


def merge3(ours: bytes, base: bytes, theirs: bytes, labels: Tuple[str, str, str]) -> MergeOutcome:
    merged, conflicts = _merge_file(ours, base, theirs, labels)
    if conflicts == 0:
        return MergeOutcome(merged, 0, LINE)
    remaining = 0
    rescued = 0

    def word_level(m: "re.Match[bytes]") -> bytes:
        nonlocal remaining, rescued
        o, b, t = (_tokens(m.group(k)) for k in ("ours", "base", "theirs"))
        if o is None or b is None or t is None:
            remaining += 1
            return m.group(0)
        words, n = _merge_file(o, b, t, labels, diff3=False)
        if n == 0:
            rescued += 1
            return _untokens(words)
        remaining += 1
        return m.group(0)

    data = _CONFLICT_RE.sub(word_level, merged)
    return MergeOutcome(data, remaining, WORD if rescued else LINE)


def merge_file(ours: bytes, base: bytes, theirs: bytes, labels: Tuple[str, str, str],
               scoped: bool = True) -> MergeOutcome:
    """The whole-file merge; where it conflicts, the hunk-scoped one when that does better."""
    whole = merge3(ours, base, theirs, labels)
    if not scoped or (not whole.conflicts and whole.level == LINE):
        return whole
    from f5quilt.engine.hunkmerge import HUNK, merge_scoped
    part = merge_scoped(ours, base, theirs, labels)
    if part is None:
        return whole
    if not whole.conflicts:
        # git's line merge conflicted and the word level resolved it, over the whole
        # file's alignment: where each hunk merged in its own region says otherwise,
        # that alignment was wrong (sections moved), and the regions' result is kept
        if part.conflicts or part.data == whole.data:
            return whole
    elif part.conflicts > whole.conflicts:
        return whole
    return MergeOutcome(part.data, part.conflicts, HUNK, part.regions)


def _landing(rep: HunkReport, placed: HunkReport, regions: "List[Region]") -> None:
    """Which regions hold this hunk (where it sits in base: ``placed``); how it landed there."""
    start = placed.line - 1
    end = start + placed.span
    mine = [r for r in regions if any((b.b0 < end and b.b1 > start) if b.b1 > b.b0 else start <= b.b0 <= end
                                      for b in r.blocks)]
    rep.scoped = True
    rep.anchors = [f"{r.above.describe()} .. {r.below.describe()}" + ("" if r.clean else f" ({r.reason})")
                   for r in mine]
    if any(not r.clean for r in mine):
        rep.status, rep.level = HunkStatus.CONFLICT, Landing.CONFLICT
    elif any(r.level == WORD for r in mine):
        rep.status, rep.level = APPLIED, Landing.MERGED_WORD
    else:
        rep.status, rep.level = APPLIED, Landing.MERGED_HUNK


def _verify_moved(change: FileChange, base: Optional[bytes], written: Optional[FileChange], label: str) -> None:
    """Hunks that landed at an offset or with fuzz were placed by their context alone,
    which may fit two places (a paragraph repeated in a file). The 3-way merge knows
    where the base's lines went: when it is clean and puts them elsewhere, its result
    is the one kept (and each moved hunk says so)."""
    moved = [rep for rep in change.reports if rep.status == APPLIED and (rep.offset or rep.fuzz)]
    if not moved or base is None or written is None or change.before is None or change.after is None:
        return
    rel = change.path
    outcome = merge_file(change.before, base, written.after or b"",
                         (f"{rel} (tree)", f"{rel} (base)", f"{rel} ({label})"))
    if outcome.conflicts or outcome.data == change.after:
        return
    change.after = outcome.data
    change.merged = True
    level = {WORD: Landing.MERGED_WORD, LINE: Landing.MERGED_LINE}.get(outcome.level, Landing.MERGED_HUNK)
    for rep in moved:
        rep.level = level
        rep.anchors = ["its context fits elsewhere too; the 3-way merge placed it"]


def merge_into(result: PatchResult, pre: Reader, exact: PatchResult, label: str) -> Dict[str, int]:
    """Merge each file of ``result`` with rejected hunks: ours = its content before,
    base = ``pre``, theirs = ``exact`` (the patch applied to its base); files whose
    hunks landed at an offset are checked against the merge (``_verify_moved``). Updates
    ``result`` in place; returns {file: conflicts} for the files left with markers."""
    conflicts: Dict[str, int] = {}
    for rel, change in result.changes.items():
        if not change.rejected:
            _verify_moved(change, pre(rel), exact.changes.get(rel), label)
            continue
        ours = change.before or b""
        base_data = pre(rel) or b""
        theirs = exact.changes[rel].after if rel in exact.changes else base_data
        outcome = merge_file(ours, base_data, theirs or b"",
                             (f"{rel} (tree)", f"{rel} (base: pin + earlier patches)", f"{rel} ({label})"))
        change.after = outcome.data
        change.rejected = []
        change.merged = True
        change.conflicts = outcome.conflicts
        placed = exact.changes[rel].reports if rel in exact.changes else []
        for k, rep in enumerate(change.reports):
            if rep.status == APPLIED:
                continue
            if outcome.regions is not None and k < len(placed):
                _landing(rep, placed[k], outcome.regions)
            elif outcome.conflicts:
                rep.status, rep.level = HunkStatus.CONFLICT, Landing.CONFLICT
            else:
                rep.status, rep.level = APPLIED, Landing(f"merge-{outcome.level}")
        if outcome.conflicts:
            conflicts[rel] = outcome.conflicts
    return conflicts
