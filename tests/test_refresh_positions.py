"""refresh after an offset or fuzz push: only the @@ lines and the context fuzz skipped change."""
from __future__ import annotations

from pathlib import Path

from helpers import Runner, make_series, write_tree

FILE = "head1\nhead2\n" + "".join(f"line {i}\n" for i in range(1, 21))
PATCH = """Header text, kept
--- a/m.py\t2020-01-01 00:00:00
+++ b/m.py\t2020-01-01 00:00:00
@@ -3,3 +3,3 @@ def section():
 line 3
-line 4
+LINE 4
 line 5
@@ -10,3 +10,3 @@
 line 10
-line 11
+LINE 11
 lineX 12
"""


def test_refresh_after_offset_and_fuzz_push_rewrites_only_positions(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path, {"m.py": FILE, "f5quilt.yaml": "tree: .\n"})  # f5quilt's refresh (quilt mode: quilt's)
    make_series(tmp_path, {"a.diff": PATCH})
    rc, out, _ = run(tmp_path, "push", "--fuzz", "1")
    assert rc == 0 and "offset 2 lines" in out and "with fuzz 1" in out
    rc, out, _ = run(tmp_path, "refresh")
    assert rc == 0 and "Refreshed patch patches/a.diff" in out
    want = (PATCH.replace("@@ -3,3 +3,3 @@", "@@ -5,3 +5,3 @@")
            .replace("@@ -10,3 +10,3 @@", "@@ -12,3 +12,3 @@").replace(" lineX 12", " line 12"))
    assert (tmp_path / "patches/a.diff").read_text() == want
    # now exact: a second refresh changes nothing, and a pop/push reports no offset
    rc, out, _ = run(tmp_path, "refresh")
    assert "is unchanged" in out
    assert run(tmp_path, "pop")[0] == 0
    rc, out, _ = run(tmp_path, "push", "-v")
    assert rc == 0 and "offset" not in out and "fuzz" not in out
    rc, out, _ = run(tmp_path, "check", "--strict")
    assert rc == 0, out


def test_offset_of_a_later_hunk_counts_the_lines_earlier_hunks_added(tmp_path: Path, run: Runner) -> None:
    patch = ("--- a/m.py\n+++ b/m.py\n@@ -1,4 +1,5 @@\n line 1\n line 2\n+new\n line 3\n line 4\n"
             "@@ -10,3 +11,3 @@\n line 10\n-line 11\n+LINE 11\n line 12\n")
    write_tree(tmp_path, {"m.py": FILE, "f5quilt.yaml": "tree: .\n"})  # f5quilt's refresh (quilt mode: quilt's)
    make_series(tmp_path, {"a.diff": patch})
    assert run(tmp_path, "push")[0] == 0
    assert run(tmp_path, "refresh")[0] == 0
    text = (tmp_path / "patches/a.diff").read_text()
    assert "@@ -3,4 +3,5 @@\n" in text and "@@ -12,3 +13,3 @@\n" in text
    assert run(tmp_path, "pop")[0] == 0
    rc, out, _ = run(tmp_path, "push", "-v")
    assert rc == 0 and "offset" not in out


def test_normalize_still_rewrites_everything(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path, {"m.py": FILE, "f5quilt.yaml": "tree: .\n"})  # f5quilt's refresh (quilt mode: quilt's)
    make_series(tmp_path, {"a.diff": PATCH.replace(" lineX 12", " line 12")})
    assert run(tmp_path, "push")[0] == 0
    assert run(tmp_path, "refresh", "--normalize")[0] == 0
    text = (tmp_path / "patches/a.diff").read_text()
    assert "2020-01-01" not in text and text.startswith("Header text, kept\n")
