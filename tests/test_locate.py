"""The hunk locator: exact, offset, fuzz, ambiguity, and byte-exact lines."""
from __future__ import annotations

from typing import List

import pytest

from f5quilt.engine.locate import AMBIGUOUS, APPLIED, FAILED, apply_hunks
from f5quilt.model.patch import Hunk, parse_patch, split_lines


def hunks(diff: str | bytes) -> List[Hunk]:
    data = diff.encode() if isinstance(diff, str) else diff
    return parse_patch(data, "t.diff").files[0].hunks


def lines(text: str | bytes) -> List[bytes]:
    return split_lines(text.encode() if isinstance(text, str) else text)


BODY = "".join(f"line {i}\n" for i in range(1, 21))
CHANGE_10 = """--- a/f
+++ b/f
@@ -9,3 +9,3 @@
 line 9
-line 10
+LINE 10
 line 11
"""


def test_exact_position() -> None:
    res = apply_hunks(lines(BODY), hunks(CHANGE_10))
    assert res.ok
    assert res.reports[0].offset == 0 and res.reports[0].fuzz == 0
    assert b"".join(res.lines) == BODY.replace("line 10\n", "LINE 10\n").encode()
    assert res.reports[0].message() == "Hunk #1 succeeded at 9."


@pytest.mark.parametrize("shift", [3, -4])
def test_offset_both_directions(shift: int) -> None:
    if shift > 0:
        body = "".join(f"new {i}\n" for i in range(shift)) + BODY
    else:
        body = "".join(BODY.splitlines(keepends=True)[-shift:])
    res = apply_hunks(lines(body), hunks(CHANGE_10))
    assert res.ok
    rep = res.reports[0]
    assert rep.offset == shift
    assert rep.message() == f"Hunk #1 succeeded at {9 + shift} (offset {shift} lines)."
    assert b"LINE 10\n" in res.lines


def test_offset_singular_wording() -> None:
    res = apply_hunks(lines("x\n" + BODY), hunks(CHANGE_10))
    assert res.reports[0].message() == "Hunk #1 succeeded at 10 (offset 1 line)."


def test_fuzz_zero_by_default_refuses_changed_context() -> None:
    body = BODY.replace("line 11\n", "line eleven\n")
    res = apply_hunks(lines(body), hunks(CHANGE_10))
    assert not res.ok
    assert res.reports[0].status == FAILED
    assert b"".join(res.lines) == body.encode()  # untouched


def test_fuzz_one_when_asked_keeps_the_files_context() -> None:
    body = BODY.replace("line 11\n", "line eleven\n")
    res = apply_hunks(lines(body), hunks(CHANGE_10), max_fuzz=1)
    assert res.ok
    assert res.reports[0].fuzz == 1
    assert res.reports[0].message() == "Hunk #1 succeeded at 9 with fuzz 1."
    out = b"".join(res.lines).decode()
    assert "LINE 10\nline eleven\n" in out  # the file's own context line survives


TWO_FUNCS = """def f1():
    x = 1
    y = 2
    return x + y

def f2():
    x = 1
    y = 2
    return x - y
"""
# written against f2; upstream then edits f2's return line
PATCH_F2 = """--- a/m.py
+++ b/m.py
@@ -6,4 +6,4 @@
 def f2():
     x = 1
-    y = 2
+    y = 3
     return x - y
"""


def test_fuzz_never_guesses_between_two_places() -> None:
    """FINDINGS' case: GNU patch -F2 puts this change into f1 and exits 0."""
    drifted = TWO_FUNCS.replace("def f2():", "def f2(): # renamed").replace("return x - y", "return y - x")
    res = apply_hunks(lines(drifted), hunks(PATCH_F2), max_fuzz=2)
    assert not res.ok
    assert res.reports[0].status == AMBIGUOUS
    assert len(res.reports[0].candidates) == 2
    assert b"".join(res.lines) == drifted.encode()
    assert "refusing to guess" in res.reports[0].message()


def test_fuzz_zero_offset_tie_is_refused() -> None:
    block = "a\nb\nc\nd\ne\n"
    body = "z\n" * 3 + block + "y\n" + block  # equal distance from expected
    patch = """--- a/f
+++ b/f
@@ -5,5 +5,5 @@
 a
 b
-c
+C
 d
 e
"""
    # expected start index 4: candidates at 3 and 9 -> nearest (3) is strictly nearer
    res = apply_hunks(lines(body), hunks(patch))
    assert res.ok and res.reports[0].offset == -1
    body2 = "z\n" * 3 + block + "y\n" + block[:0] + "q\n" + block
    # now candidates at 3 and 10 around expected 4 -> still unique nearest
    res2 = apply_hunks(lines(body2), hunks(patch))
    assert res2.ok
    tie = "z\n" * 3 + block + "w\n" + block  # 3 and 9, expected 6 -> tie
    patch_tie = patch.replace("@@ -5,5 +5,5 @@", "@@ -7,5 +7,5 @@")
    res3 = apply_hunks(lines(tie), hunks(patch_tie))
    assert not res3.ok and res3.reports[0].status == AMBIGUOUS


def test_crlf_lines_are_matched_and_kept_byte_for_byte() -> None:
    body = b"one\r\ntwo\r\nthree\r\n"
    patch = b"--- a/f\r\n+++ b/f\r\n@@ -1,3 +1,3 @@\r\n one\r\n-two\r\n+TWO\r\n three\r\n"
    res = apply_hunks(split_lines(body), hunks(patch))
    assert res.ok
    assert b"".join(res.lines) == b"one\r\nTWO\r\nthree\r\n"
    # an LF patch does not match a CRLF file (no silent newline conversion)
    lf = apply_hunks(split_lines(body), hunks(patch.replace(b"\r\n", b"\n")))
    assert not lf.ok


def test_no_newline_at_end_of_file_both_ways() -> None:
    add_nl = """--- a/f
+++ b/f
@@ -1,2 +1,2 @@
 a
-b
\\ No newline at end of file
+b
"""
    res = apply_hunks(lines("a\nb"), hunks(add_nl))
    assert res.ok and b"".join(res.lines) == b"a\nb\n"
    drop_nl = """--- a/f
+++ b/f
@@ -1,2 +1,2 @@
 a
-b
+b
\\ No newline at end of file
"""
    res = apply_hunks(lines("a\nb\n"), hunks(drop_nl))
    assert res.ok and b"".join(res.lines) == b"a\nb"


def test_empty_file_creation_and_full_deletion() -> None:
    create = """--- /dev/null
+++ b/f
@@ -0,0 +1,2 @@
+x
+y
"""
    res = apply_hunks([], hunks(create))
    assert res.ok and res.lines == [b"x\n", b"y\n"]
    delete = """--- a/f
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
"""
    res = apply_hunks(lines("x\ny\n"), hunks(delete))
    assert res.ok and res.lines == []


def test_hunk_anchored_at_start_does_not_slide() -> None:
    patch = """--- a/f
+++ b/f
@@ -1,2 +1,3 @@
+header
 a
 b
"""
    res = apply_hunks(lines("x\na\nb\n"), hunks(patch))
    assert not res.ok  # would need to land at line 2, but the hunk says "start of file"
    res = apply_hunks(lines("a\nb\nc\n"), hunks(patch))
    assert res.ok and res.lines[0] == b"header\n"


def test_offset_carries_over_to_next_hunk_and_no_hunk_lands_before_previous() -> None:
    body = "".join(f"l{i}\n" for i in range(1, 41))
    patch = """--- a/f
+++ b/f
@@ -4,3 +4,3 @@
 l4
-l5
+L5
 l6
@@ -30,3 +30,3 @@
 l30
-l31
+L31
 l32
"""
    shifted = "pre\n" * 5 + body
    res = apply_hunks(lines(shifted), hunks(patch))
    assert res.ok
    assert [r.offset for r in res.reports] == [5, 5]
    assert [r.line for r in res.reports] == [9, 35]


def test_every_hunk_is_reported() -> None:
    body = "".join(f"l{i}\n" for i in range(1, 41))
    patch = """--- a/f
+++ b/f
@@ -4,3 +4,3 @@
 l4
-l5
+L5
 l6
@@ -30,3 +30,3 @@
 l30
-nope
+L31
 l32
"""
    res = apply_hunks(lines(body), hunks(patch))
    assert [r.status for r in res.reports] == [APPLIED, FAILED]
    assert len(res.rejected) == 1
    assert res.reports[1].message() == "Hunk #2 FAILED at 30."


def test_insert_after_a_last_line_without_newline_does_not_join_lines() -> None:
    res = apply_hunks(lines("a\nb"), hunks("--- a/f\n+++ b/f\n@@ -2,0 +3 @@\n+c\n"))
    assert res.ok and b"".join(res.lines) == b"a\nb\nc\n"


def test_context_free_insertion_is_refused_once_the_file_has_drifted() -> None:
    body = "".join(f"l{i}\n" for i in range(1, 21))
    patch = """--- a/f
+++ b/f
@@ -4,3 +4,3 @@
 l4
-l5
+L5
 l6
@@ -12,0 +13 @@
+inserted
"""
    exact = apply_hunks(lines(body), hunks(patch))
    assert exact.ok and exact.reports[1].message() == "Hunk #2 succeeded at 13 (no context lines to check it against)."
    drifted = apply_hunks(lines("new\n" + body), hunks(patch))
    assert not drifted.ok and "no context lines and the file has drifted" in drifted.reports[1].message()
