"""The hunk locator: where does a hunk go in a file that may have drifted?

Pure functions, lines in and a position plus a report out. The search
follows GNU patch (exact position first, then the nearest offset, then
fuzz: ignoring up to N lines of leading and trailing context, with GNU's
rule for hunks that have less context on one side, which anchors them to
the start or the end of the file). Where GNU guesses, we refuse:

* fuzz 0 at an offset: the nearest match wins only when it is strictly
  nearer than every other match (a tie is ambiguous);
* fuzz > 0: the hunk must match in exactly one place.

Lines are ``bytes`` with their terminators, so CRLF and a missing final
newline compare exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from f5quilt.strenum import StrEnum
from f5quilt.model.patch import Hunk


class HunkStatus(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    AMBIGUOUS = "ambiguous"
    CONFLICT = "conflict"          # left with conflict markers by the 3-way merge


class Landing(StrEnum):
    """How a hunk landed (or was expected to)."""
    EXACT = "exact"
    OFFSET = "offset"
    FUZZ = "fuzz"
    NO_CONTEXT = "nocontext"       # an insertion with no context to check it against
    MERGED_LINE = "merge-line"     # 3-way merge of the whole file, line level
    MERGED_HUNK = "merge-hunk"     # 3-way merge of the hunk's own region only (hunk-scoped)
    MERGED_WORD = "merge-word"     # 3-way merge, word level (a rescued conflict)
    CONFLICT = "conflict"          # 3-way merge left conflict markers

    @property
    def merged(self) -> bool:
        """Went through the 3-way merge (cleanly or not)."""
        return self in (Landing.MERGED_LINE, Landing.MERGED_HUNK, Landing.MERGED_WORD, Landing.CONFLICT)

    @property
    def how(self) -> str:
        """The short name used in reports and JSON."""
        return {Landing.MERGED_LINE: "merged whole-file", Landing.MERGED_HUNK: "merged hunk-scoped",
                Landing.MERGED_WORD: "merged word-level", Landing.NO_CONTEXT: "exact (no context)"
                }.get(self, self.value)


APPLIED, FAILED, AMBIGUOUS = HunkStatus.APPLIED, HunkStatus.FAILED, HunkStatus.AMBIGUOUS


@dataclass
class Location:
    start: int        # 0-based index where the hunk's matched old lines start
    fuzz: int
    drop_lead: int    # context lines ignored at the start (fuzz)
    drop_trail: int   # context lines ignored at the end (fuzz)


@dataclass
class HunkReport:
    number: int               # 1-based, as GNU patch counts
    status: HunkStatus
    line: int = 0             # 1-based line where it landed (or was expected)
    offset: int = 0
    fuzz: int = 0
    candidates: List[int] = field(default_factory=list)  # 1-based, when ambiguous
    level: Landing = Landing.EXACT
    # a failed hunk: (1-based line, expected, found) of the first line that differs where
    # the hunk fits best (found None: past the end of the file)
    mismatch: Optional[Tuple[int, bytes, Optional[bytes]]] = None

    def why(self) -> str:
        """Why a hunk failed, in one line: the first line that differs where it fits best."""
        if self.mismatch is None:
            return ""
        line, expected, found = self.mismatch
        shown = "the end of the file" if found is None else show_line(found)
        return f"line {line}: expected {show_line(expected)}, found {shown}"
    span: int = 0             # the hunk's old lines (context included)
    anchors: List[str] = field(default_factory=list)  # hunk-scoped merge: the lines its region sits between
    scoped: bool = False      # merged in its own region (hunk-scoped), at line or word level

    @property
    def landing(self) -> str:
        """How it landed, in one word or two: exact, offset, fuzz, merged whole-file,
        merged hunk-scoped, merged word-level, conflict (or failed, ambiguous)."""
        if self.status in (HunkStatus.FAILED, HunkStatus.AMBIGUOUS):
            return str(self.status)
        if self.status == HunkStatus.CONFLICT:
            return Landing.CONFLICT.how
        if self.level is Landing.EXACT and self.offset:
            return Landing.OFFSET.how
        return self.level.how

    def message(self) -> str:
        """GNU patch's wording (and ours for merges)."""
        if self.level.merged:
            if self.status != APPLIED or self.level is Landing.CONFLICT:
                narrowed = " (narrowed to its region)" if self.scoped else ""
                return f"Hunk #{self.number} CONFLICT: 3-way merge left conflict markers{narrowed}."
            if self.level is Landing.MERGED_HUNK:
                return f"Hunk #{self.number} merged in its own region (3-way, hunk-scoped)."
            how = self.level.value.split("-", 1)[1]
            scope = ", hunk-scoped" if self.scoped else ""
            return f"Hunk #{self.number} merged at {how} level (3-way{scope})."
        if self.level is Landing.NO_CONTEXT:
            if self.status == APPLIED:
                return f"Hunk #{self.number} succeeded at {self.line} (no context lines to check it against)."
            return (f"Hunk #{self.number} FAILED at {self.line}: it has no context lines and the file "
                    "has drifted; refusing to guess.")
        if self.status == APPLIED:
            if not self.fuzz and not self.offset:
                return f"Hunk #{self.number} succeeded at {self.line}."
            text = f"Hunk #{self.number} succeeded at {self.line}"
            if self.fuzz:
                text += f" with fuzz {self.fuzz}"
            if self.offset:
                unit = "line" if abs(self.offset) == 1 else "lines"
                text += f" (offset {self.offset} {unit})"
            return text + "."
        if self.status == AMBIGUOUS:
            where = ", ".join(str(c) for c in self.candidates)
            return (f"Hunk #{self.number} FAILED at {self.line}: it matches at "
                    f"lines {where} (fuzz {self.fuzz}); refusing to guess.")
        return f"Hunk #{self.number} FAILED at {self.line}."


def show_line(text: bytes, width: int = 72) -> str:
    """A file line for a message: decoded, quoted, without its newline, shortened."""
    t = text.rstrip(b"\n").decode("utf-8", "backslashreplace")
    if len(t) > width:
        t = t[:width - 3] + "..."
    return repr(t)


def diagnose(lines: Sequence[bytes], old: Sequence[bytes], expected: int
             ) -> Optional[Tuple[int, bytes, Optional[bytes]]]:
    """Where a hunk that fits nowhere fits best (most of its old lines equal; the nearest to
    ``expected`` among equals), and its first line that differs there. Only run on failure."""
    if not old:
        return None
    where: Dict[bytes, List[int]] = {}
    wanted = set(old)
    for j, text in enumerate(lines):
        if text in wanted:
            where.setdefault(text, []).append(j)
    votes: Dict[int, int] = {}
    for i, text in enumerate(old):
        for j in where.get(text, ()):
            votes[j - i] = votes.get(j - i, 0) + 1
    pos = max(min(expected, max(len(lines) - 1, 0)), 0)
    if votes:
        pos = min(votes, key=lambda p: (-votes[p], abs(p - expected)))
    for i, text in enumerate(old):
        at = pos + i
        have = lines[at] if 0 <= at < len(lines) else None
        if have != text:
            return (max(at, 0) + 1, text, have)
    return None


def _matches_at(lines: Sequence[bytes], pattern: Sequence[bytes], pos: int) -> bool:
    end = pos + len(pattern)
    if pos < 0 or end > len(lines):
        return False
    return list(lines[pos:end]) == list(pattern)


def _all_matches(lines: Sequence[bytes], pattern: Sequence[bytes], lo: int,
                 hi: int) -> List[int]:
    """Every start in [lo, hi] where pattern matches (C-speed first-line scan)."""
    found: List[int] = []
    if not pattern:
        return found
    first = pattern[0]
    lst = lines if isinstance(lines, list) else list(lines)
    pos = lo
    while pos <= hi:
        try:
            pos = lst.index(first, pos, hi + 1)
        except ValueError:
            break
        if _matches_at(lst, pattern, pos):
            found.append(pos)
        pos += 1
    return found


def locate_hunk(lines: Sequence[bytes], hunk: Hunk, expected: int, max_fuzz: int = 0,
                min_pos: int = 0) -> tuple[Optional[Location], List[int], int]:
    """Find where ``hunk`` applies in ``lines``.

    ``expected`` is the 0-based index where its old lines should start.
    Returns (location or None, ambiguous candidates, fuzz level reached).
    """
    old = hunk.old_lines
    if not old:
        # a pure insertion without context: only its stated position is safe
        pos = min(max(expected, min_pos), len(lines))
        return Location(pos, 0, 0, 0), [], 0
    lead = hunk.leading_context
    trail = hunk.trailing_context
    context = max(lead, trail)
    for fuzz in range(0, max_fuzz + 1):
        prefix_fuzz = fuzz + lead - context
        suffix_fuzz = fuzz + trail - context
        drop_lead = min(max(prefix_fuzz, 0), lead)
        drop_trail = min(max(suffix_fuzz, 0), trail)
        pattern = old[drop_lead:len(old) - drop_trail]
        if not pattern:
            # nothing left to anchor on: any position would be a guess
            return None, [], fuzz
        want = expected + drop_lead
        hi = len(lines) - len(pattern)
        lo = min_pos + drop_lead
        if prefix_fuzz < 0 and hunk.old_start <= 1:
            lo = drop_lead  # anchored at the start of the file
            hi = min(hi, drop_lead)
            want = drop_lead
        if suffix_fuzz < 0:
            lo = max(lo, len(lines) - len(pattern))  # anchored at the end
            want = max(lo, min(want, hi))
        if lo > hi:
            continue
        if fuzz == 0 and lo <= want <= hi and _matches_at(lines, pattern, want):
            return Location(want, fuzz, drop_lead, drop_trail), [], fuzz
        found = _all_matches(lines, pattern, lo, hi)
        if not found:
            continue
        if len(found) == 1:
            return Location(found[0], fuzz, drop_lead, drop_trail), [], fuzz
        if fuzz == 0:
            found.sort(key=lambda p: abs(p - want))
            if abs(found[0] - want) < abs(found[1] - want):
                return Location(found[0], fuzz, drop_lead, drop_trail), [], fuzz
        return None, sorted(p - drop_lead for p in found), fuzz
    return None, [], max_fuzz


@dataclass
class FileResult:
    lines: List[bytes]
    reports: List[HunkReport]
    rejected: List[Hunk]

    @property
    def ok(self) -> bool:
        return not self.rejected


def apply_hunks(lines: Sequence[bytes], hunks: Sequence[Hunk], max_fuzz: int = 0) -> FileResult:
    """Apply hunks in order to a copy of ``lines``; failures go to ``rejected``.

    Like GNU patch, the offset found for one hunk carries over to the guess
    for the next, and no hunk may land before the end of the previous one.
    """
    out = list(lines)
    reports: List[HunkReport] = []
    rejected: List[Hunk] = []
    delta = 0        # net lines added by the hunks applied so far
    last_offset = 0  # drift found for the previous hunk
    frozen = 0       # hunks may not land before this index
    for number, hunk in enumerate(hunks, 1):
        base = hunk.old_start if hunk.old_len == 0 else hunk.old_start - 1
        expected = max(base + delta + last_offset, 0)
        if not hunk.old_lines and last_offset:
            # no context to check a pure insertion against, and the file has drifted: a guess
            reports.append(HunkReport(number, FAILED, expected + 1, level=Landing.NO_CONTEXT))
            rejected.append(hunk)
            continue
        loc, candidates, fuzz = locate_hunk(out, hunk, expected, max_fuzz, frozen)
        if loc is None:
            status = AMBIGUOUS if candidates else FAILED
            reports.append(HunkReport(number, status, expected + 1,
                                      fuzz=fuzz, candidates=[c + 1 for c in candidates],
                                      mismatch=None if candidates else diagnose(out, hunk.old_lines, expected)))
            rejected.append(hunk)
            continue
        new = hunk.new_lines
        core_new = new[loc.drop_lead:len(new) - loc.drop_trail]
        core_len = len(hunk.old_lines) - loc.drop_lead - loc.drop_trail
        out[loc.start:loc.start + core_len] = core_new
        # a line without its newline can only end the file (GNU patch adds the newline)
        for i in range(max(loc.start - 1, 0), min(loc.start + len(core_new), len(out) - 1)):
            if not out[i].endswith(b"\n"):
                out[i] += b"\n"
        hunk_start = loc.start - loc.drop_lead
        offset = hunk_start - (base + delta)
        last_offset = offset
        delta += len(new) - len(hunk.old_lines)
        frozen = loc.start + len(core_new)
        level = Landing.FUZZ if loc.fuzz else (Landing.OFFSET if offset else Landing.EXACT)
        if not hunk.old_lines:
            level = Landing.NO_CONTEXT
        reports.append(HunkReport(number, APPLIED, hunk_start + 1,
                                  offset=offset, fuzz=loc.fuzz, level=level, span=len(hunk.old_lines)))
    return FileResult(out, reports, rejected)
