"""Hunk-scoped 3-way merge: what the whole-file merge left in conflict, retried
one changed block of the patch at a time.

A whole-file diff3 of (tree, base, patched base) aligns the wrong regions
when upstream reorganized the file: sections moved, many short identical
lines (``...``, ``def test_foo(self):``). Each block the patch changes (git's
``--histogram -U0`` diff of base and patched base) has a home of its own,
though: the nearest lines above and below it that the patch leaves alone
and that occur exactly once in base, in the patched base and in the tree
(blank lines never anchor; the start and the end of the file always do).
Where those two stand in the other order in the tree (the section after the
block moved away), the next unique lines (up to ``MAX_ANCHORS`` a side, then
the file's edges) are tried: the pair in order whose stretch of the tree
starts and ends as the base's does wins, then the nearest. The tree's lines
between the two anchors are that block's region; only that region is
merged, by ``git merge-file`` and the same word-level rule as the
whole-file merge (``merge.merge3``), against the base region with only that
region's own blocks applied.

A region's result is kept only when it is unambiguous:

* its anchors stand in the same order in the tree (else: no region);
* it does not overlap another block's region in the tree (else: no region);
  neighbouring blocks whose regions share lines of the tree are merged
  together, as one region;
* no line the block changes (or, for an insertion, the nearest non-blank
  line on each side) occurs more often in the tree's region than in the
  base's: two places would fit equally well, so the region stays a
  conflict, with markers around the whole region;
* the region's merge is clean.

When a block has no region at all, the caller keeps the whole-file result.
Pure: bytes in, bytes out; git does the diffing and the merging.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from f5quilt.engine.gitdiff import diff_files
from f5quilt.engine.merge import LINE, WORD, MergeOutcome, merge3
from f5quilt.model.patch import split_lines

HUNK = "hunk"  # level of an outcome where at least one region was merged on its own

MAX_ANCHORS = 8  # unique lines tried on each side of a block before the file's edge

_HUNK_RE = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.M)


@dataclass
class Block:
    """One change of base -> theirs: base lines [b0, b1) become theirs lines [t0, t1)."""
    b0: int
    b1: int
    t0: int
    t1: int


@dataclass
class Anchor:
    base: int     # 0-based line in base; -1: start of file; len(base): end of file
    ours: int     # the same line in the tree
    text: bytes   # b"" for the start or the end of the file

    def describe(self) -> str:
        if not self.text:
            return "start of file" if self.base < 0 else "end of file"
        return f"line {self.ours + 1}: {self.text.decode('utf-8', 'replace').rstrip()}"


@dataclass
class Region:
    blocks: List[Block]
    above: Anchor
    below: Anchor
    clean: bool = False
    level: str = LINE
    reason: str = ""                     # why it stayed a conflict
    data: bytes = b""                    # what replaces the tree's lines between the anchors

    @property
    def base_span(self) -> Tuple[int, int]:
        return self.above.base + 1, self.below.base

    @property
    def ours_span(self) -> Tuple[int, int]:
        return self.above.ours + 1, self.below.ours


@dataclass
class ScopedOutcome:
    data: bytes
    conflicts: int
    regions: List[Region] = field(default_factory=list)


def blocks_of(base: bytes, theirs: bytes) -> List[Block]:
    """git diff --histogram -U0 of base and theirs, as line blocks."""
    diff = diff_files({"f": base}, {"f": theirs}, context=0, algorithm="histogram")
    out: List[Block] = []
    for m in _HUNK_RE.finditer(diff):
        ostart, olen = int(m.group(1)), int(m.group(2) or b"1")
        nstart, nlen = int(m.group(3)), int(m.group(4) or b"1")
        b0 = ostart if olen == 0 else ostart - 1
        t0 = nstart if nlen == 0 else nstart - 1
        out.append(Block(b0, b0 + olen, t0, t0 + nlen))
    return out


def _is_anchor(line: bytes, counts: Sequence["Counter[bytes]"]) -> bool:
    return bool(line.strip()) and all(c[line] == 1 for c in counts)


def _touched(block: Block, base: List[bytes], lo: int, hi: int) -> List[bytes]:
    """The base lines a block changes; for an insertion, its nearest non-blank neighbours."""
    if block.b1 > block.b0:
        return [ln for ln in base[block.b0:block.b1] if ln.strip()]
    out = []
    for rng in (range(block.b0 - 1, lo - 1, -1), range(block.b0, hi)):
        for i in rng:
            if base[i].strip():
                out.append(base[i])
                break
    return out


def _conflict(ours: List[bytes], base: List[bytes], theirs: List[bytes],
              labels: Tuple[str, str, str]) -> bytes:
    def side(lines: List[bytes]) -> bytes:
        data = b"".join(lines)
        return data if not data or data.endswith(b"\n") else data + b"\n"
    return (f"<<<<<<< {labels[0]}\n".encode() + side(ours) + f"||||||| {labels[1]}\n".encode()
            + side(base) + b"=======\n" + side(theirs) + f">>>>>>> {labels[2]}\n".encode())


def merge_scoped(ours_data: bytes, base_data: bytes, theirs_data: bytes,
                 labels: Tuple[str, str, str]) -> Optional[ScopedOutcome]:
    """Merge each changed block of base -> theirs into its own region of ours.
    None when some block has no region of its own (the whole-file result stands)."""
    ours, base, theirs = split_lines(ours_data), split_lines(base_data), split_lines(theirs_data)
    blocks = blocks_of(base_data, theirs_data)
    if not blocks:
        return None
    changed: Set[int] = set()
    for blk in blocks:
        changed.update(range(blk.b0, blk.b1))
    counts = (Counter(base), Counter(ours), Counter(theirs))
    ours_at: Dict[bytes, int] = {}
    for i, ln in enumerate(ours):
        if counts[1][ln] == 1:
            ours_at[ln] = i

    def anchor(i: int) -> Optional[Anchor]:
        if i < 0:
            return Anchor(-1, -1, b"")
        if i >= len(base):
            return Anchor(len(base), len(ours), b"")
        if i in changed or not _is_anchor(base[i], counts):
            return None
        return Anchor(i, ours_at[base[i]], base[i])

    def candidates(i: int, step: int) -> List[Anchor]:
        """The nearest unique lines from ``i`` on, in direction ``step``, then the file's edge."""
        found: List[Anchor] = []
        while True:
            a = anchor(i)
            if a is not None and (a.text or not found or found[-1].text):
                found.append(a)
                if not a.text:
                    return found
                if len(found) == MAX_ANCHORS:
                    i = -1 if step < 0 else len(base)
                    continue
            i += step

    def anchors(blk: Block) -> Tuple[Anchor, Anchor]:
        """The nearest pair that stands in the same order in the tree: where a
        section around the block moved, its lines no longer bound the block."""
        ups, downs = candidates(blk.b0 - 1, -1), candidates(blk.b1, 1)
        # a pair whose stretch of the tree starts and ends as the base's does (the line
        # inside each anchor the same on both sides) wins, then the nearer pair
        best: Optional[Tuple[int, int, int, int]] = None
        for iu, up in enumerate(ups):
            for idn, down in enumerate(downs):
                if up.ours >= down.ours:
                    continue
                agree = 0
                if up.ours + 1 < down.ours and up.base + 1 < down.base and \
                        ours[up.ours + 1] == base[up.base + 1]:
                    agree += 1
                if up.ours + 1 < down.ours and up.base + 1 < down.base and \
                        ours[down.ours - 1] == base[down.base - 1]:
                    agree += 1
                key = (-agree, iu + idn, idn, iu)
                if best is None or key < best:
                    best = key
        if best is None:
            return ups[0], downs[0]
        return ups[best[3]], downs[best[2]]

    # one region per block, merged with its neighbours where they share lines of the tree
    regions: List[Region] = []
    for blk in blocks:
        up, down = anchors(blk)
        if regions:
            last = regions[-1]
            lo, hi = last.ours_span
            if not (down.ours <= lo - 1 or up.ours >= hi):
                last.blocks.append(blk)
                last.above = min(last.above, up, key=lambda a: a.base)
                last.below = max(last.below, down, key=lambda a: a.base)
                continue
        regions.append(Region([blk], up, down))
    # each region must stand in order and alone in the tree
    spans = sorted(r.ours_span for r in regions)
    if any(lo > hi for lo, hi in spans):
        return None
    if any(spans[k][1] > spans[k + 1][0] for k in range(len(spans) - 1)):
        return None

    conflicts = 0
    for reg in regions:
        blo, bhi = reg.base_span
        olo, ohi = reg.ours_span
        o, b = ours[olo:ohi], base[blo:bhi]
        # theirs: the base region with this region's own blocks applied, no other's
        # (another block whose lines a far anchor took in lands in its own region)
        t: List[bytes] = []
        at = blo
        for blk in sorted(reg.blocks, key=lambda k: k.b0):
            t += base[at:blk.b0] + theirs[blk.t0:blk.t1]
            at = blk.b1
        t += base[at:bhi]
        region_base = Counter(b)
        region_ours = Counter(o)
        twice = [ln for blk in reg.blocks for ln in _touched(blk, base, blo, bhi)
                 if region_ours[ln] > region_base[ln]]
        if twice:
            reg.reason = ("two places fit equally well: "
                          + twice[0].decode("utf-8", "replace").strip())
            reg.data = _conflict(o, b, t, labels)
            conflicts += 1
            continue
        outcome: MergeOutcome = merge3(b"".join(o), b"".join(b), b"".join(t), labels)
        reg.data = outcome.data
        if outcome.conflicts:
            reg.reason = "the region itself conflicts"
            conflicts += outcome.conflicts
            continue
        reg.clean = True
        reg.level = WORD if outcome.level == WORD else LINE
    pieces: List[bytes] = []
    pos = 0
    for reg in sorted(regions, key=lambda r: r.ours_span):
        olo, ohi = reg.ours_span
        pieces.append(b"".join(ours[pos:olo]))
        pieces.append(reg.data)
        pos = ohi
    pieces.append(b"".join(ours[pos:]))
    return ScopedOutcome(b"".join(pieces), conflicts, regions)
