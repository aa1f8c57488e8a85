"""3-way merge (push --merge) and rebase onto a new release, on small cases."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import Runner, snapshot, write_tree
from f5quilt.engine.merge import merge3

V1 = {"m.py": "".join(f"line {i}\n" for i in range(1, 31)), "keep.txt": "k\n"}


def drift(text: str, **repl: str) -> str:
    for old, new in repl.items():
        text = text.replace(old.replace("_", " "), new)
    return text


def test_merge3_clean_line_level() -> None:
    base = b"a\nb\nc\nd\ne\nf\n"
    ours = b"A\nb\nc\nd\ne\nf\n"       # upstream changed line 1
    theirs = b"a\nb\nc\nd\ne\nF\n"     # the patch changes line 6
    out = merge3(ours, base, theirs, ("o", "b", "t"))
    assert out.conflicts == 0 and out.level == "line" and out.data == b"A\nb\nc\nd\ne\nF\n"


def test_merge3_rescues_same_line_at_word_level_and_refuses_overlap() -> None:
    out = merge3(b"f(ALPHA, beta)\n", b"f(alpha, beta)\n", b"f(alpha, BETA)\n", ("o", "b", "t"))
    assert out.conflicts == 0 and out.level == "word" and out.data == b"f(ALPHA, BETA)\n"
    # adjacent words changed by each side: ambiguous, so it stays a conflict
    out = merge3(b"line ten\n", b"line 10\n", b"LINE 10\n", ("o", "b", "t"))
    assert out.conflicts == 1
    out = merge3(b"f(ALPHA, beta)\n", b"f(alpha, beta)\n", b"f(alpha2, beta)\n", ("o", "b", "t"))
    assert out.conflicts == 1 and b"<<<<<<< o\n" in out.data and b"||||||| b\n" in out.data


def test_merge3_keeps_crlf() -> None:
    base = b"a\r\nb\r\nc\r\nd\r\ne\r\n"
    ours = b"A\r\nb\r\nc\r\nd\r\ne\r\n"
    theirs = b"a\r\nb\r\nc\r\nd\r\nE\r\n"
    out = merge3(ours, base, theirs, ("o", "b", "t"))
    assert out.conflicts == 0 and out.data == b"A\r\nb\r\nc\r\nd\r\nE\r\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    write_tree(tmp_path / "v1", V1)
    write_tree(tmp_path / "repo", {
        "f5quilt.yaml": f"tree: tree\npatches: patches\nupstream:\n  path: {tmp_path / 'v1'}\n",
        "patches/series": "p.diff\n",
        # changes line 10 and line 12; context lines 9..13
        "patches/p.diff": ("Description: p\n\n--- a/m.py\n+++ b/m.py\n@@ -9,5 +9,5 @@\n line 9\n"
                           "-line 10\n+LINE 10\n line 11\n-line 12\n+LINE 12\n line 13\n"),
    })
    return tmp_path / "repo"


def test_push_merge_lands_drifted_hunk(repo: Path, run: Runner) -> None:
    assert run(repo, "upstream", "fetch")[0] == 0
    tree = repo / "tree"
    # upstream (ours) edited a context line inside the hunk: fuzz 0 refuses
    (tree / "m.py").write_text(drift(V1["m.py"], line_11="line eleven"))
    rc, _, err = run(repo, "push")
    assert rc == 1 and "--merge" in err
    rc, out, _ = run(repo, "push", "--merge")
    assert rc == 0, out
    # line level conflicts (upstream's edit sits between the patch's two); words settle it
    assert "Hunk #1 merged at word level (3-way)." in out
    assert "LINE 10\nline eleven\nLINE 12\n" in (tree / "m.py").read_text()


def test_push_merge_conflict_leaves_markers_and_pop_restores(repo: Path, run: Runner) -> None:
    run(repo, "upstream", "fetch")
    tree = repo / "tree"
    edited = drift(V1["m.py"], line_10="line ten (upstream)")
    (tree / "m.py").write_text(edited)
    patch_before = (repo / "patches/p.diff").read_bytes()
    rc, out, _ = run(repo, "push", "--merge")
    assert rc == 3
    text = (tree / "m.py").read_text()
    assert "<<<<<<< m.py (tree)" in text and ">>>>>>> m.py (patches/p.diff)" in text
    assert json.loads((tree / ".pc/.f5quilt/conflicts/p.diff.json").read_text()) == {"m.py": 1}
    assert (repo / "patches/p.diff").read_bytes() == patch_before  # never rewritten
    rc, _, err = run(repo, "refresh")
    assert rc == 1 and "conflict markers" in err
    assert run(repo, "push")[0] != 0  # the top has conflicts: nothing goes on top
    assert run(repo, "pop")[0] == 0
    assert (tree / "m.py").read_text() == edited


def test_merge_never_lands_in_the_wrong_copy_of_repeated_context(tmp_path: Path, run: Runner,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    block = "def f():\n    x = 1\n    y = 2\n    return x\n\n"
    v1 = block.replace("f()", "f1()") + block.replace("f()", "f2()")
    write_tree(tmp_path / "v1", {"m.py": v1})
    write_tree(tmp_path / "repo", {
        "f5quilt.yaml": f"tree: tree\nupstream:\n  path: {tmp_path / 'v1'}\n",
        "patches/series": "p.diff\n",
        "patches/p.diff": ("--- a/m.py\n+++ b/m.py\n@@ -6,5 +6,5 @@\n def f2():\n     x = 1\n"
                           "-    y = 2\n+    y = 3\n     return x\n \n"),
    })
    repo = tmp_path / "repo"
    run(repo, "upstream", "fetch")
    ours = v1.replace("def f2():", "def f2(a):")  # upstream edits f2's signature
    (repo / "tree/m.py").write_text(ours)
    assert run(repo, "push", "--fuzz", "2")[0] == 1  # fuzz: fits f1 and f2, refused
    rc, out, err = run(repo, "push", "--merge")
    assert rc == 0, out + err
    text = (repo / "tree/m.py").read_text()
    f1, f2 = text.split("def f2")
    assert "y = 2" in f1 and "y = 3" in f2


def test_rebase_continue_skip_abort(repo: Path, run: Runner, tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    write_tree(v2, {"m.py": drift(V1["m.py"], line_10="line ten (upstream)") + "line 31\n", "keep.txt": "k\n"})
    run(repo, "push", "-a")
    before = snapshot(repo)
    rc, out, err = run(repo, "rebase", "--onto", str(v2))
    assert rc == 3 and "rebase --continue" in out
    assert "rebase in progress" in run(repo, "status")[1]
    # abort: everything back byte for byte
    assert run(repo, "rebase", "--abort")[0] == 0
    assert snapshot(repo) == before
    # again, then resolve and continue
    assert run(repo, "rebase", "--onto", str(v2))[0] == 3
    m = repo / "tree/m.py"
    resolved = drift(V1["m.py"], line_10="LINE 10", line_12="LINE 12") + "line 31\n"
    m.write_text(resolved)
    rc, out, err = run(repo, "rebase", "--continue")
    assert rc == 0, out + err
    assert "path: ../v2\n" in (repo / "f5quilt.yaml").read_text()  # relative, as written by hand
    assert not (repo / ".f5quilt/rebase").exists()
    assert run(repo, "check", "--strict")[0] == 0  # the refreshed patch fits v2 exactly
    assert run(repo, "pop")[0] == 0
    assert m.read_text() == (v2 / "m.py").read_text()


def test_rebase_skip_drops_patch_moves_file_out_of_the_series_folder(repo: Path, run: Runner,
                                                                     tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    write_tree(v2, {"m.py": drift(V1["m.py"], line_10="line ten (upstream)"), "keep.txt": "k\n"})
    run(repo, "push", "-a")
    patch = (repo / "patches/p.diff").read_bytes()
    assert run(repo, "rebase", "--onto", str(v2))[0] == 3
    rc, out, _ = run(repo, "rebase", "--skip")
    assert rc == 0 and "Skipped patches/p.diff" in out and "Moved patches/p.diff to .f5quilt/dropped/p.diff" in out
    assert (repo / "patches/series").read_text() == ""
    assert not (repo / "patches/p.diff").exists()
    assert (repo / ".f5quilt/dropped/p.diff").read_bytes() == patch
    rc, _, err = run(repo, "check")
    assert "not in the series" not in err
    assert (repo / "tree/m.py").read_text() == (v2 / "m.py").read_text()


def test_rebase_offers_to_drop_a_patch_upstream_already_has(repo: Path, run: Runner, tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    write_tree(v2, {"m.py": drift(V1["m.py"], line_10="LINE 10", line_12="LINE 12"), "keep.txt": "k\n"})
    rc, out, err = run(repo, "rebase", "--onto", str(v2), "--keep-contained")
    assert rc == 1 and "appears to be contained in" in err and "rebase --skip" in out
    assert (repo / "tree/m.py").read_text() == (v2 / "m.py").read_text()  # not reversed
    assert run(repo, "rebase", "--skip")[0] == 0


def test_rebase_drops_a_contained_patch_by_default_and_abort_restores_it(repo: Path, run: Runner,
                                                                         tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    write_tree(v2, {"m.py": drift(V1["m.py"], line_10="LINE 10", line_12="LINE 12"), "keep.txt": "k\n"})
    run(repo, "push", "-a")
    before = snapshot(repo)
    rc, out, err = run(repo, "rebase", "--onto", str(v2))
    assert rc == 0, out + err
    assert "Patch patches/p.diff is contained in" in out and "dropped from the series" in out
    assert (repo / "patches/series").read_text() == "" and not (repo / "patches/p.diff").exists()
    assert (repo / ".f5quilt/dropped/p.diff").exists()
    assert "path: ../v2\n" in (repo / "f5quilt.yaml").read_text()
    # undo brings the pin, the tree, the series and the patch file back
    assert run(repo, "undo")[0] == 0
    assert snapshot(repo) == before


def test_rebase_stops_where_a_patch_cannot_be_tried_and_skip_works(repo: Path, run: Runner,
                                                                   tmp_path: Path) -> None:
    v2 = tmp_path / "v2"
    write_tree(v2, {"keep.txt": "k\n"})  # the new release no longer has m.py
    run(repo, "push", "-a")
    rc, out, err = run(repo, "rebase", "--onto", str(v2))
    assert rc == 1 and "can't find file to patch: m.py" in err and "rebase --skip" in out
    rc, out, err = run(repo, "rebase", "--skip")
    assert rc == 0, out + err
    assert (repo / "patches/series").read_text() == ""


def test_rebase_merges_against_the_old_pin_plus_each_earlier_patch_once(tmp_path: Path, run: Runner,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """a.diff adds X to the first of two identical blocks; were it applied to the merge
    base a second time it would land in the second block too (at an offset), and b.diff,
    which edits the line next to it there, would conflict instead of merging."""
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    block = "".join(f"b{i}\n" for i in range(1, 7))
    v1 = block + "".join(f"m{i}\n" for i in range(1, 9)) + block + "end\n"
    write_tree(tmp_path / "v1", {"m.txt": v1})
    a = "--- a/m.txt\n+++ b/m.txt\n@@ -1,6 +1,7 @@\n b1\n b2\n b3\n+X\n b4\n b5\n b6\n"
    # against v1 + a: the second block starts at line 16; b.diff edits its b4
    b = "--- a/m.txt\n+++ b/m.txt\n@@ -16,7 +16,7 @@\n b1\n b2\n b3\n-b4\n+B4\n b5\n b6\n end\n"
    write_tree(tmp_path / "repo", {
        "f5quilt.yaml": f"tree: tree\nupstream:\n  path: {tmp_path / 'v1'}\n",
        "patches/series": "a.diff\nb.diff\n", "patches/a.diff": a, "patches/b.diff": b})
    repo = tmp_path / "repo"
    rc, out, err = run(repo, "push", "-a")
    assert rc == 0, out + err
    # the new release edits the second block's b3: b.diff no longer fits and must merge
    v2 = v1.replace(block + "end\n", block.replace("b3\n", "b3 (new)\n") + "end\n")
    write_tree(tmp_path / "v2", {"m.txt": v2})
    rc, out, err = run(repo, "rebase", "--onto", str(tmp_path / "v2"))
    assert rc == 0, out + err
    text = (repo / "tree/m.txt").read_text()
    assert text == v2.replace("b3\nb4\n", "b3\nX\nb4\n", 1).replace("b3 (new)\nb4\n", "b3 (new)\nB4\n")
