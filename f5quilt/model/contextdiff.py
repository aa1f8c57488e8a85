"""Context diffs (``diff -c``) read as GNU patch 2.7 reads them, turned into unified hunks.

A context diff's file section::

    *** a/file<TAB>date                 old name (GNU patch: "*** " is the old side)
    --- b/file<TAB>date                 new name
    ***************                     a hunk (diff -p puts the function after it)
    *** 1,3 ****                        old range: its lines follow ("  ", "- ", "! ")
    --- 1,3 ----                        new range: its lines follow ("  ", "+ ", "! ")

Either side's lines are left out when they would be context only (a pure
insertion has no old lines, a pure deletion no new ones); they are then the
context lines of the other side, as in GNU patch. A range ``N`` is one line,
``0`` none; the ambiguous ``*** N ****`` of a hunk without context (diff -C0)
is an insertion after line N when its old lines are left out. ``\\ No newline
at end of file`` may follow each side's last line.

The result is what the unified path produces (old and new lines merged around
their common context, ``-`` before ``+``), so the engine is the same for both.
Anything malformed is a one-line PatchFormatError naming the patch line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple, Union
from pathlib import Path

from f5quilt.errors import PatchFormatError

STARS = b"********"
OLD_RANGE_RE = re.compile(rb"^\*\*\* (\d+)(?:,(\d+))?(?: \*\*\*\*)?[ \t]*\r?\n?$")
NEW_RANGE_RE = re.compile(rb"^--- (\d+)(?:,(\d+))?(?: ----)?[ \t]*\r?\n?$")
NO_NEWLINE = b"\\"


@dataclass
class ContextHunk:
    old_start: int  # unified convention: for an empty side, the line before it
    old_len: int
    new_start: int
    new_len: int
    section: str
    lines: List[Tuple[str, bytes]]
    line: int  # the "*** a,b ****" line


@dataclass
class ContextFile:
    old_line: int  # the "*** name" line (1-based)
    new_line: int  # the "--- name" line
    end: int       # index (0-based) of the first line after the section
    hunks: List[ContextHunk] = field(default_factory=list)


def starts_at(lines: Sequence[bytes], i: int) -> bool:
    """Does a context diff's file section start at ``lines[i]`` (GNU patch's intuition:
    a ``*** `` and a ``--- `` line followed by a line of stars)?"""
    return (i + 2 < len(lines) and lines[i].startswith(b"*** ") and lines[i + 1].startswith(b"--- ")
            and lines[i + 2].startswith(STARS))


def _range(m: "re.Match[bytes]") -> Tuple[int, int, bool]:
    """(first line, number of lines, written as one number) of a context range."""
    first = int(m.group(1))
    if m.group(2) is None:
        return (first, 1, True) if first else (1, 0, True)
    last = int(m.group(2))
    if first == 0 and last == 0:  # GNU patch reads "0,0" as "0"
        return 1, 0, False
    return first, last - first + 1, False


def _is_marker(line: bytes) -> bool:
    return line.startswith(NO_NEWLINE)


def _text(line: bytes) -> bytes:
    """A hunk line's text: after its two-character tag (or a blank line, spaces eaten)."""
    if line in (b"\n", b"\r\n"):
        return line
    return line[2:]


def _tag(line: bytes) -> Optional[str]:
    """The tag of a line of a context hunk (" ", "-", "+", "!"), or None."""
    if line in (b"\n", b"\r\n"):
        return " "  # GNU patch: a context line whose spaces got eaten
    c = line[:1]
    if c in (b" ", b"-", b"+", b"!") and line[1:2] in (b" ", b"\t"):
        return c.decode()
    return None


def parse_section(lines: Sequence[bytes], i: int, path: Union[str, Path]) -> ContextFile:
    """Parse the context file section starting at ``lines[i]`` (its ``*** name`` line)."""
    cf = ContextFile(old_line=i + 1, new_line=i + 2, end=i + 2)
    j = i + 2
    while j < len(lines) and lines[j].startswith(STARS):
        hunk, j = _parse_hunk(lines, j, path)
        cf.hunks.append(hunk)
        cf.end = j
    return cf


def _parse_hunk(lines: Sequence[bytes], j: int, path: Union[str, Path]) -> Tuple[ContextHunk, int]:
    def fail(at: int, why: str) -> PatchFormatError:
        return PatchFormatError(path, at + 1, why)

    star_line = lines[j]
    section = star_line.rstrip(b"\r\n").lstrip(b"*")
    section_text = section[1:].decode("utf-8", "surrogateescape") if section.startswith(b" ") else ""
    j += 1
    if j >= len(lines):
        raise fail(j - 1, "context hunk without its '*** a,b ****' line")
    m = OLD_RANGE_RE.match(lines[j])
    if not m:
        raise fail(j, "malformed context hunk: expected '*** a,b ****'")
    hunk_line = j + 1
    old_first, old_len, old_single = _range(m)
    j += 1
    old: List[Tuple[str, bytes]] = []
    bang = False  # a "!" line: the new part cannot have been left out
    while j < len(lines) and not lines[j].startswith(b"--"):
        line = lines[j]
        if _is_marker(line):
            if not old or len(old) != old_len:
                raise fail(j, "'\\ No newline' marker that does not follow the last old line")
            old[-1] = (old[-1][0], old[-1][1].rstrip(b"\n"))
            j += 1
            continue
        tag = _tag(line)
        if tag is None or tag == "+":
            if line.startswith(b"*"):
                raise fail(j, f"context hunk at line {hunk_line} has no '--- a,b ----' line")
            raise fail(j, f"malformed line in the old part of the context hunk at line {hunk_line}")
        if old and not old[-1][1].endswith(b"\n"):
            raise fail(j - 1, "'\\ No newline' marker that does not follow the last old line")
        bang |= tag == "!"
        old.append((tag, _text(line)))
        j += 1
    if j >= len(lines):
        raise fail(j - 1, f"context hunk at line {hunk_line} has no '--- a,b ----' line")
    m = NEW_RANGE_RE.match(lines[j])
    if not m:
        raise fail(j, f"malformed context hunk: expected '--- a,b ----' (hunk at line {hunk_line})")
    new_header = j
    new_first, new_len, new_single = _range(m)
    if old and len(old) != old_len:
        raise fail(new_header, f"the old part of the context hunk at line {hunk_line} has {len(old)} "
                               f"line{'s' if len(old) != 1 else ''}, its header says {old_len}")
    j += 1
    old_context = [x for t, x in old if t == " "]
    # the new part is left out when it would be the old part's context only; the
    # "--- N ----" of a deletion without context (diff -C0) is an empty range after line N
    # (GNU patch 2.7 refuses such a hunk: "replacement text or line numbers mangled")
    empty_after = new_single and new_len == 1 and bool(old) and not old_context
    could_be_missing = not bang and bool(old) and (new_len == len(old_context) or empty_after)
    new: List[Tuple[str, bytes]] = []
    if could_be_missing and _new_part_missing(lines, j, new_len):
        if empty_after:
            new_first, new_len = new_first + 1, 0
    else:
        while len(new) < new_len:
            if j >= len(lines):
                raise fail(j - 1, f"the new part of the context hunk at line {hunk_line} ends early: "
                                  f"{len(new)} of {new_len} lines")
            line = lines[j]
            tag = _tag(line)
            if tag is None or tag == "-":
                raise fail(j, f"malformed line in the new part of the context hunk at line {hunk_line} "
                              f"({len(new)} of {new_len} lines read)")
            new.append((tag, _text(line)))
            j += 1
        if j < len(lines) and _is_marker(lines[j]) and new:
            new[-1] = (new[-1][0], new[-1][1].rstrip(b"\n"))
            j += 1
    if not old and not new:
        if old_len or new_len:
            raise fail(new_header, f"context hunk at line {hunk_line} has neither old nor new lines")
    if not new:
        new = [(" ", x) for x in old_context] if old else []
    new_context = [x for t, x in new if t == " "]
    if not old:
        old = [(" ", x) for x in new_context]
        if len(old) != old_len:
            if old_single and old_len == 1 and not old:
                old_first, old_len = old_first + 1, 0  # diff -C0: an insertion after line N
            else:
                raise fail(hunk_line - 1, f"the context hunk at line {hunk_line} leaves out its old lines, "
                                          f"but the new part's context has {len(old)}, not {old_len}")
        old_context = new_context
    if len(new) != new_len:
        raise fail(new_header, f"the new part of the context hunk at line {hunk_line} has {len(new)} "
                               f"line{'s' if len(new) != 1 else ''}, its header says {new_len}")
    if len(old_context) != len(new_context):
        raise fail(hunk_line - 1, f"context mangled in hunk at line {hunk_line}: the old part has "
                                  f"{len(old_context)} context lines, the new part {len(new_context)}")
    merged = _merge(old, new)
    hunk = ContextHunk(old_first - 1 if old_len == 0 else old_first, old_len,
                       new_first - 1 if new_len == 0 else new_first, new_len,
                       section_text, merged, hunk_line)
    return hunk, j


def _new_part_missing(lines: Sequence[bytes], j: int, count: int) -> bool:
    """Could the lines at ``j`` not be a new part of ``count`` lines? GNU patch reads
    them as one unless one of them cannot be (then it was left out)."""
    seen = 0
    while seen < count:
        if j >= len(lines):
            return True
        line = lines[j]
        if line[:1] in (b"+", b"!") and line[1:2] in (b" ", b"\t"):
            return False
        if line in (b"\n", b"\r\n") or _tag(line) != " ":
            return True
        seen += 1
        j += 1
    return False


def _merge(old: List[Tuple[str, bytes]], new: List[Tuple[str, bytes]]) -> List[Tuple[str, bytes]]:
    """Old and new parts (the same context lines in both) as one unified hunk."""
    out: List[Tuple[str, bytes]] = []
    i = k = 0
    while i < len(old) or k < len(new):
        while i < len(old) and old[i][0] != " ":
            out.append(("-", old[i][1]))
            i += 1
        while k < len(new) and new[k][0] != " ":
            out.append(("+", new[k][1]))
            k += 1
        if i < len(old) and k < len(new):
            out.append((" ", old[i][1]))
            i += 1
            k += 1
    return out
