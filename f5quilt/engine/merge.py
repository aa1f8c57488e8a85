"""3-way merge for hunks that no longer fit.

base   = the file as the patch was written against it: the pinned upstream
         with the earlier patches applied (reconstructed in memory);
theirs = base with this patch applied exactly;
ours   = the file in the tree now.

``git merge-file`` merges at line level. Where it conflicts, each
conflicting region is merged again at word level (the way wiggle rescues
rejected hunks) and that result is kept only when git finds it clean;
otherwise the diff3 conflict markers stay in the file.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

from f5quilt.engine.apply import PatchResult
from f5quilt.errors import F5QuiltError
from f5quilt.engine.locate import APPLIED, Landing


Reader = Callable[[str], Optional[bytes]]

LINE, WORD = "line", "word"


@dataclass
class MergeOutcome:
    data: bytes
    conflicts: int
    level: str  # LINE or WORD: the finest level that was needed


def _merge_file(ours: bytes, base: bytes, theirs: bytes, labels: Tuple[str, str, str],
                diff3: bool = True) -> Tuple[bytes, int]:
    import git  # GitPython runs git merge-file

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
        status, out, err = git.Git(tmp).execute(args + paths, with_exceptions=False, with_extended_output=True,
                                                stdout_as_string=False, strip_newline_in_stdout=False)
    if status < 0 or status > 127:
        raise F5QuiltError(f"git merge-file failed: {err}")
    return out, status


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


def merge_into(result: PatchResult, pre: Reader, exact: PatchResult, label: str) -> Dict[str, int]:
    """Merge each file of ``result`` with rejected hunks: ours = its content before,
    base = ``pre``, theirs = ``exact`` (the patch applied to its base). Updates
    ``result`` in place; returns {file: conflicts} for the files left with markers."""
    conflicts: Dict[str, int] = {}
    for rel, change in result.changes.items():
        if not change.rejected:
            continue
        ours = change.before or b""
        base_data = pre(rel) or b""
        theirs = exact.changes[rel].after if rel in exact.changes else base_data
        outcome = merge3(ours, base_data, theirs or b"",
                         (f"{rel} (tree)", f"{rel} (base: pin + earlier patches)", f"{rel} ({label})"))
        change.after = outcome.data
        change.rejected = []
        change.merged = True
        change.conflicts = outcome.conflicts
        for rep in change.reports:
            if rep.status != APPLIED:
                rep.status = APPLIED if not outcome.conflicts else "conflict"
                rep.level = Landing(f"merge-{outcome.level}")
        if outcome.conflicts:
            conflicts[rel] = outcome.conflicts
    return conflicts
