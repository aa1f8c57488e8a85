"""Failures that explain themselves: expected vs found, knock-on failures, contained upstream."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import Runner, write_tree
from f5quilt.engine.locate import apply_hunks, diagnose
from f5quilt.model.patch import parse_patch

BASE = "".join(f"l{i}\n" for i in range(1, 41))


def hunk(line: int, old: str, new: str, before: str, after: str, f: str = "m.py") -> str:
    return (f"--- a/{f}\n+++ b/{f}\n@@ -{line - 1},3 +{line - 1},3 @@\n"
            f" {before}\n-{old}\n+{new}\n {after}\n")


def test_diagnose_points_at_the_first_differing_line_where_the_hunk_fits_best() -> None:
    lines = [f"l{i}\n".encode() for i in range(1, 41)]
    lines[21] = b"changed upstream\n"  # l22
    p = parse_patch(hunk(21, "l21", "L21", "l20", "l22").encode(), "x.diff")
    res = apply_hunks(lines, p.files[0].hunks)
    rep = res.reports[0]
    assert rep.status == "failed" and rep.mismatch == (22, b"l22\n", b"changed upstream\n")
    assert rep.why() == "line 22: expected 'l22', found 'changed upstream'"
    assert diagnose([b"a\n"], [b"a\n", b"b\n"], 0) == (2, b"b\n", None)  # past the end of the file
    assert "the end of the file" in apply_hunks([b"a\n"], parse_patch(
        b"--- a/m\n+++ b/m\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n", "y").files[0].hunks).reports[0].why()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    upstream = BASE.replace("l30\n", "L30\n")  # upstream already made 03's change
    write_tree(tmp_path / "upstream", {"m.py": upstream.replace("l11\n", "eleven\n"), "n.py": "a\nb\nc\n"})
    write_tree(tmp_path / "repo", {
        "f5quilt.yaml": f"tree: tree\nupstream:\n  path: {tmp_path / 'upstream'}\n",
        "patches/01-ok.diff": hunk(5, "l5", "L5", "l4", "l6"),
        "patches/02-fails.diff": hunk(10, "l10", "TEN", "l9", "l11"),        # l11 is now 'eleven'
        "patches/03-contained.diff": hunk(30, "l30", "L30", "l29", "l31"),
        "patches/04-knock-on.diff": hunk(11, "TEN", "10", "l9", "l11").replace(" l9\n", " l10x\n"),
        "patches/05-other.diff": "--- a/n.py\n+++ b/n.py\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
        "patches/series": "01-ok.diff\n02-fails.diff\n03-contained.diff\n04-knock-on.diff\n05-other.diff\n",
    })
    # 04 builds on 02's result: it fails only because 02 did
    (tmp_path / "repo/patches/04-knock-on.diff").write_text(
        "--- a/m.py\n+++ b/m.py\n@@ -9,3 +9,3 @@\n l9\n-TEN\n+10\n eleven\n")
    return tmp_path / "repo"


def test_check_text_says_why_knock_on_and_contained(repo: Path, run: Runner) -> None:
    rc, out, err = run(repo, "check")
    assert rc == 1
    assert ("patches/02-fails.diff: tree/m.py: Hunk #1 FAILED at 9. "
            "(line 11: expected 'l11', found 'eleven')") in err
    assert "patches/03-contained.diff: contained upstream:" in err
    assert "patches/04-knock-on.diff: fails because patches/02-fails.diff failed (same files)" in err
    assert "05-other" not in err


def test_check_json_statuses(repo: Path, run: Runner) -> None:
    rc, out, _ = run(repo, "check", "--json")
    assert rc == 1
    got = {p["patch"]: p for p in json.loads(out)["patches"]}
    assert {n: p["status"] for n, p in got.items()} == {
        "01-ok.diff": "clean", "02-fails.diff": "fails", "03-contained.diff": "contained",
        "04-knock-on.diff": "fails", "05-other.diff": "clean"}
    assert got["02-fails.diff"]["hunks"][0]["mismatch"] == {"line": 11, "expected": "l11", "found": "eleven"}
    assert "because" not in got["02-fails.diff"] and got["04-knock-on.diff"]["because"] == "02-fails.diff"


def test_push_prints_expected_and_found(repo: Path, run: Runner) -> None:
    rc, out, err = run(repo, "push", "-a")
    assert rc == 1
    assert "Hunk #1 FAILED at 9.\n  line 11: expected 'l11', found 'eleven'\n" in out
