"""Remembered resolutions (git's rerere), the pure part: conflict blocks found,
normalized into a key, their resolutions read off a resolved file, replayed.

A conflict block is what ``merge`` writes: ``<<<<<<<`` the tree's side,
``|||||||`` the base, ``=======`` the patch's side, ``>>>>>>>``. Its key is
a hash of the two sides only (labels and base left out, line ends and
trailing blanks normalized), so the same clash met again, in another
release or at another line, has the same key.

A resolution is read off the file as the user left it: the text between the
conflicted file's common stretches (each found once, in order, in the
resolved file) replaced the block. Where a common stretch was edited too,
nothing is recorded for that file (never a guess).
"""
from __future__ import annotations

import hashlib
import re
from typing import Callable, List, Optional, Tuple

_CONFLICT_RE = re.compile(
    rb"^<<<<<<< [^\n]*\n(?P<ours>.*?)^\|\|\|\|\|\|\| [^\n]*\n(?P<base>.*?)^=======\n(?P<theirs>.*?)^>>>>>>> [^\n]*\n",
    re.S | re.M)


def _normal(side: bytes) -> bytes:
    return b"\n".join(line.rstrip() for line in side.replace(b"\r\n", b"\n").split(b"\n"))


def conflict_key(ours: bytes, theirs: bytes) -> str:
    h = hashlib.sha256(_normal(ours) + b"\0" + _normal(theirs))
    return h.hexdigest()


def blocks(data: bytes) -> List[Tuple[int, int, str]]:
    """(start, end, key) of each conflict block, in order."""
    return [(m.start(), m.end(), conflict_key(m.group("ours"), m.group("theirs")))
            for m in _CONFLICT_RE.finditer(data)]


def resolutions(conflicted: bytes, resolved: bytes) -> Optional[List[Tuple[str, bytes]]]:
    """(key, what replaced the block) for each block of ``conflicted``; None when the
    stretches around the blocks cannot be found, once and in order, in ``resolved``."""
    found = blocks(conflicted)
    if not found:
        return []
    commons: List[bytes] = []
    pos = 0
    for start, end, _key in found:
        commons.append(conflicted[pos:start])
        pos = end
    commons.append(conflicted[pos:])
    if not resolved.startswith(commons[0]) or not resolved.endswith(commons[-1]):
        return None
    out: List[Tuple[str, bytes]] = []
    at = len(commons[0])
    stop = len(resolved) - len(commons[-1])
    for k, (_s, _e, key) in enumerate(found):
        if k + 1 < len(found):
            nxt = commons[k + 1]
            if not nxt or resolved.count(nxt, at, stop) != 1:
                return None  # an empty or repeated stretch: where one block ends is a guess
            cut = resolved.index(nxt, at, stop)
        else:
            cut = stop
        if cut < at:
            return None
        out.append((key, resolved[at:cut]))
        at = cut + len(commons[k + 1]) if k + 1 < len(found) else cut
    return out


def replay(data: bytes, lookup: Callable[[str], Optional[bytes]]) -> Tuple[bytes, int, int]:
    """Each block with a recorded resolution replaced by it: (data, replayed, left)."""
    replayed = left = 0

    def sub(m: "re.Match[bytes]") -> bytes:
        nonlocal replayed, left
        res = lookup(conflict_key(m.group("ours"), m.group("theirs")))
        if res is None:
            left += 1
            return m.group(0)
        replayed += 1
        return res
    return _CONFLICT_RE.sub(sub, data), replayed, left
