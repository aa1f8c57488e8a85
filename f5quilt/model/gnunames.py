"""File names in diff headers, read exactly as GNU patch 2.7 reads them.

``--- NAME[<whitespace>TIMESTAMP]`` / ``+++ ...`` (GNU patch's fetchname()):

* a name in double quotes is a C string (git's quoting of unusual names):
  ``\\a \\b \\f \\n \\r \\t \\v \\\\ \\"`` and three-digit octal escapes
  (``"a/\\303\\251"`` is ``a/é`` in UTF-8); any other escape makes the name
  malformed;
* otherwise the name ends at the first whitespace, unless a tab comes later
  on the line: only a tab separates a name with internal spaces from its
  timestamp. So ``dir/file    2015-03-01 16:48:10 +0100`` is ``dir/file``,
  ``a/x y.txt<TAB>`` (git writes that tab) is ``a/x y.txt``, and
  ``b/Core and Builtins/x.rst`` with no tab at all is ``b/Core``;
* ``/dev/null`` means no file.

``diff --git A B`` (parse_name()): two quoted or whitespace-free names; GNU
patch gives up on anything else. Here, as ``git apply`` does, two equal
unquoted names with spaces are also split (``a/x y b/x y``), since without
``---``/``+++`` lines (renames, binary patches) there is nothing else to go by.
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

SPACE = b" \t\n\v\f\r"  # C's isspace() in the C locale
ESCAPES = {ord("a"): 7, ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13,
           ord("t"): 9, ord("v"): 11, ord("\\"): ord("\\"), ord('"'): ord('"')}
# what a timestamp can start with: a date, a weekday or month name (diff -c's ctime style)
TIMESTAMP_RE = re.compile(rb"^\s*(\d|(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|"
                          rb"Jul|Aug|Sep|Oct|Nov|Dec)\b)")


def parse_c_string(text: bytes, start: int = 0) -> Optional[Tuple[bytes, int]]:
    """The quoted C string at ``text[start]`` (a ``"``): (value, index after it), or None."""
    assert text[start:start + 1] == b'"'
    out = bytearray()
    i = start + 1
    while i < len(text):
        c = text[i]
        i += 1
        if c == ord('"'):
            return bytes(out), i
        if c in (0, ord("\n")):
            return None
        if c != ord("\\"):
            out.append(c)
            continue
        if i >= len(text):
            return None
        c = text[i]
        i += 1
        if c in ESCAPES:
            out.append(ESCAPES[c])
        elif ord("0") <= c <= ord("3"):
            digits = text[i - 1:i + 2]
            if len(digits) < 3 or not all(ord("0") <= d <= ord("7") for d in digits[1:]):
                return None
            out.append(int(digits, 8))
            i += 2
        else:
            return None
    return None


def fetchname(rest: bytes) -> Tuple[Optional[bytes], bytes, bool]:
    """Read ``rest``, what follows ``--- `` or ``+++ `` (line end included).

    Returns (name, timestamp, ok): name None for /dev/null or a malformed
    quoted name (ok False then), timestamp the text after the name with
    surrounding whitespace removed.
    """
    name, stamp, ok, _ = fetchname_at(rest)
    return name, stamp, ok


def fetchname_at(rest: bytes) -> Tuple[Optional[bytes], bytes, bool, int]:
    """fetchname() plus the index in ``rest`` where the name (as written) ends."""
    at = 0
    while at < len(rest) and rest[at] in SPACE:
        at += 1
    if rest[at:at + 1] == b'"':
        parsed = parse_c_string(rest, at)
        if parsed is None:
            return None, b"", False, at
        name, t = parsed
    else:
        t = at
        while t < len(rest):
            if rest[t] in SPACE:
                # internal spaces only when a tab separates the name from the date
                u = t
                while rest[u] != 9 and u + 1 < len(rest) and rest[u + 1] in SPACE:
                    u += 1
                if rest[u] != 9 and b"\t" in rest[u + 1:]:
                    t += 1
                    continue
                break
            t += 1
        name = rest[at:t]
    stamp = rest[t:].strip(SPACE)
    if name == b"/dev/null":
        return None, stamp, True, t
    return name, stamp, True, t


def cut_away(rest: bytes) -> Optional[bytes]:
    """What follows the name in ``rest`` after spaces (no tab) when it is no timestamp.

    GNU patch reads ``b/Core and Builtins/x.rst`` (no tab) as ``b/Core``: the
    caller says so, since that is rarely what the patch's author meant. Text
    after a tab (``(working copy)``, a date) is the patch's own business.
    """
    name, stamp, ok, end = fetchname_at(rest)
    if not ok or name is None or not stamp or TIMESTAMP_RE.match(stamp):
        return None
    gap = rest[end:len(rest) - len(rest[end:].lstrip(SPACE))]
    return None if b"\t" in gap else stamp


def parse_git_header(rest: bytes) -> Optional[Tuple[bytes, bytes]]:
    """The two names of ``diff --git`` (``rest`` is what follows it), or None."""
    rest = rest.rstrip(b"\r\n")
    names = []
    i = 0
    for _ in range(2):
        while i < len(rest) and rest[i] in SPACE:
            i += 1
        if rest[i:i + 1] == b'"':
            parsed = parse_c_string(rest, i)
            if parsed is None:
                return None
            names.append(parsed[0])
            i = parsed[1]
        else:
            j = i
            while j < len(rest) and rest[j] not in SPACE:
                j += 1
            names.append(rest[i:j])
            i = j
    if rest[i:].strip(SPACE) == b"" and all(names):
        return names[0], names[1]
    # unquoted names with spaces: git's rule, the two names (less their prefix) are equal
    if b'"' not in rest:
        for cut in range(len(rest)):
            if rest[cut] != ord(" "):
                continue
            old, new = rest[:cut], rest[cut + 1:]
            if old and new and old.split(b"/", 1)[-1] == new.split(b"/", 1)[-1] \
                    and b"/" in old and b"/" in new:
                return old, new
    return None
