"""The patch model: what unidiff gives plus the gaps FINDINGS lists."""
from __future__ import annotations

import pytest

from f5quilt.errors import PatchFormatError
from f5quilt.model.patch import parse_patch, patch_header

GIT_PATCH = b"""Description: demo
Author: someone

diff --git a/old.txt b/new.txt
similarity index 90%
rename from old.txt
rename to new.txt
index 1234567..89abcde 100644
--- a/old.txt
+++ b/new.txt
@@ -1 +1 @@
-x
+y
diff --git a/c1 b/c2
similarity index 100%
copy from c1
copy to c2
diff --git a/tool.sh b/tool.sh
old mode 100644
new mode 100755
diff --git a/img.png b/img.png
index f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f..88f37001cec36655decf891d4244853aaa51a00a 100644
GIT binary patch
literal 3
KcmYdfNCp4_i2%g_

literal 3
KcmYdHN(KM|O#vqW

"""


def test_header_is_kept_byte_for_byte() -> None:
    p = parse_patch(GIT_PATCH, "p.diff")
    assert p.header == b"Description: demo\nAuthor: someone\n\n"
    assert patch_header(b"just text\n") == b"just text\n"


def test_git_extended_headers() -> None:
    files = parse_patch(GIT_PATCH, "p.diff").files
    ren, cp, mode, binary = files
    assert ren.rename and not ren.copy
    assert (ren.old_name, ren.new_name) == ("a/old.txt", "b/new.txt")
    assert ren.index == ("1234567", "89abcde")
    assert cp.copy and not cp.rename  # unidiff calls copies renames
    assert (mode.old_mode, mode.new_mode) == ("100644", "100755")
    assert binary.binary and binary.binary_data
    assert binary.binary_forward is not None and binary.binary_forward.data == b"a\0c"
    assert binary.binary_reverse is not None and binary.binary_reverse.data == b"abc"
    assert binary.binary_forward.line == 24  # the "literal 3" line


def test_crlf_is_preserved_in_hunk_lines() -> None:
    p = parse_patch(b"--- a/f\r\n+++ b/f\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n", "p.diff")
    assert p.files[0].hunks[0].lines == [("-", b"a\r\n"), ("+", b"b\r\n")]


def test_short_hunk_error_names_file_and_line() -> None:
    bad = b"head\n--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n"
    with pytest.raises(PatchFormatError) as info:
        parse_patch(bad, "patches/bad.diff")
    assert info.value.message.startswith("patches/bad.diff:6: ")


def test_extra_hunk_lines_are_an_error_not_ignored() -> None:
    bad = b"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n+d\n"
    with pytest.raises(PatchFormatError) as info:
        parse_patch(bad, "x.diff")
    assert info.value.message.startswith("x.diff:7: ")
    assert "more lines than its header counts" in info.value.message


def test_reverse_swaps_sides() -> None:
    p = parse_patch(b"--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n", "p").reversed()
    assert p.files[0].hunks[0].lines == [("+", b"a\n"), ("-", b"b\n")]


def test_epoch_timestamps_mean_create_and_delete() -> None:
    p = parse_patch(b"--- f.orig\t1970-01-01 00:00:00.000000000 +0000\n+++ f\t2020-01-01 00:00:00\n"
                    b"@@ -0,0 +1 @@\n+x\n", "p")
    assert p.files[0].creates


def test_broken_hunk_header_is_refused_not_dropped() -> None:
    bad = b"--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n@@ -9,3 +9,3\n x\n-y\n+Y\n z\n"
    with pytest.raises(PatchFormatError) as info:
        parse_patch(bad, "p.diff")
    assert info.value.message == "p.diff:8: malformed hunk header"
    with pytest.raises(PatchFormatError, match="p.diff:2: no hunk for b/f"):
        parse_patch(b"--- a/f\n+++ b/f\n", "p.diff")


def test_blank_line_after_a_hunk_is_not_part_of_it() -> None:
    p = parse_patch(b"--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+TWO\n 3\n\n", "p.diff")
    assert p.files[0].hunks[0].old_lines == [b"1\n", b"2\n", b"3\n"]


def test_crlf_patch_file_names_are_clean() -> None:
    p = parse_patch(b"--- a/f.txt\r\n+++ b/f.txt\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n", "p.diff")
    assert (p.files[0].old_name, p.files[0].new_name) == ("a/f.txt", "b/f.txt") and p.crlf
