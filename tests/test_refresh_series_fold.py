"""push/pop --refresh, quilt 0.68's altered-series check, fold from a subfolder: in quilt
mode against GNU quilt on a copy of the same tree, and with an f5quilt.yaml."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from f5quilt.engine.apply import apply_patch
from f5quilt.errors import F5QuiltError
from f5quilt.model.patch import parse_patch
from helpers import Runner, make_series, snapshot, write_tree
from test_quilt_mode import both, run, same, trees_equal

ALTERED = "The series file no longer matches the applied patches. Please run 'quilt pop -a'."
needs_quilt = pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed")

F = "".join(f"line {i}\n" for i in range(1, 13))
PA = "--- a/f.txt\n+++ b/f.txt\n@@ -2,3 +2,3 @@\n line 2\n-line 3\n+LINE 3\n line 4\n"
PB = "--- a/g.txt\n+++ b/g.txt\n@@ -1,2 +1,2 @@\n-alpha\n+ALPHA\n beta\n"


# -- push --refresh / pop --refresh ------------------------------------------
@pytest.mark.quilt
@needs_quilt
def test_refresh_on_push_and_pop_as_gnu_quilt(tmp_path: Path) -> None:
    """quilt's auto-refresh, with QUILT_REFRESH_ARGS from the quiltrc: same words, same patches."""
    rc = 'QUILT_REFRESH_ARGS="-p ab --no-timestamps"\nQUILT_PATCHES_PREFIX=yes\n'
    qt, ft = both(tmp_path, {"f.txt": F, "g.txt": "alpha\nbeta\n"}, quiltrc=rc)
    for tree in (qt, ft):
        make_series(tree, {"a.diff": PA, "b.diff": PB})
    same(tmp_path, qt, ft, "push", "-fa", "--refresh")  # -f and --refresh exclude each other
    same(tmp_path, qt, ft, "push", "-a", "--refresh")   # each patch rewritten as quilt writes it
    assert (ft / "patches/a.diff").read_bytes() == (qt / "patches/a.diff").read_bytes()
    assert b"Index: b/f.txt" in (ft / "patches/a.diff").read_bytes()
    for tree in (qt, ft):
        (tree / "g.txt").write_text("ALPHA\nbeta\ngamma\n")  # an edit not refreshed yet
        (tree / "f.txt").write_text(F.replace("line 10", "line ten"))  # and one not in any patch
    same(tmp_path, qt, ft, "pop", "-f", "--refresh")
    same(tmp_path, qt, ft, "pop", "--refresh")  # b.diff takes the edit, then goes
    same(tmp_path, qt, ft, "pop", "-a", "--refresh")
    trees_equal(qt, ft)
    assert b"+gamma" in (ft / "patches/b.diff").read_bytes()


def _settings_tree(root: Path) -> Path:
    write_tree(root, {"f5quilt.yaml": "tree: .\n", "f.txt": "head\n" + F, "g.txt": "alpha\nbeta\n"})
    make_series(root, {"a.diff": PA, "b.diff": PB})
    return root


def test_push_refresh_is_one_undo_step_in_f5quilt_mode(tmp_path: Path, run: Runner) -> None:
    t = _settings_tree(tmp_path / "t")
    before = snapshot(t)
    rc, out, err = run(t, "push", "-a", "--refresh")
    assert rc == 0, err
    # a.diff applied one line further down: the refresh records where it now sits
    assert "@@ -3,3 +3,3 @@" in (t / "patches/a.diff").read_text()
    assert "Refreshed patch patches/a.diff" in out and "Patch patches/b.diff is unchanged" in out
    assert out.index("Applying patch patches/b.diff") > out.index("Refreshed patch patches/a.diff")
    assert run(t, "undo")[0] == 0
    assert snapshot(t, skip_pc=True) == {k: v for k, v in before.items() if not k.startswith(".pc/")}
    assert (t / "patches/a.diff").read_text() == PA


def test_push_refresh_keeps_what_was_done_before_a_failing_patch(tmp_path: Path, run: Runner) -> None:
    t = _settings_tree(tmp_path / "t")
    (t / "g.txt").write_text("other\nbeta\n")  # b.diff no longer applies
    rc, out, err = run(t, "push", "-a", "--refresh")
    assert rc == 1 and "does not apply" in err
    assert (t / ".pc/applied-patches").read_text() == "a.diff\n"
    assert "@@ -3,3 +3,3 @@" in (t / "patches/a.diff").read_text()  # pushed and refreshed: kept


def test_pop_refresh_records_the_edits_then_pops(tmp_path: Path, run: Runner) -> None:
    t = _settings_tree(tmp_path / "t")
    assert run(t, "push", "-a")[0] == 0
    (t / "g.txt").write_text("ALPHA\nbeta\nnew line\n")
    assert run(t, "pop")[0] == 1  # without --refresh the edit would be lost: refused
    assert run(t, "pop", "-f", "--refresh")[0] == 1
    rc, out, err = run(t, "pop", "-a", "--refresh")
    assert rc == 0, err
    assert out.index("Refreshed patch patches/b.diff") < out.index("Removing patch patches/b.diff")
    assert (t / "g.txt").read_text() == "alpha\nbeta\n"
    assert "+new line" in (t / "patches/b.diff").read_text()
    assert run(t, "push", "-a")[0] == 0
    assert (t / "g.txt").read_text() == "ALPHA\nbeta\nnew line\n"


def test_push_dry_run_and_refresh_exclude_each_other(tmp_path: Path, run: Runner) -> None:
    t = _settings_tree(tmp_path / "t")
    rc, _out, err = run(t, "push", "--dry-run", "--refresh")
    assert rc == 1 and "mutually exclusive" in err
    assert not (t / ".pc").exists()


# -- the series file no longer matches the applied patches ---------------------
def _reorder(t: Path) -> None:
    (t / "patches/series").write_text("c.diff\na.diff\nb.diff\n")


def test_altered_series_is_refused_but_pop_works_quilt_mode(tmp_path: Path, run: Runner) -> None:
    t = tmp_path / "t"
    write_tree(t, {"f.txt": F, "g.txt": "alpha\nbeta\n"})
    make_series(t, {"a.diff": PA, "b.diff": PB, "c.diff": ""})
    assert run(t, "push", "2")[0] == 0
    (t / "patches/series").write_text("a.diff\nb.diff\nc.diff\n")  # touched, same order: fine
    assert run(t, "series", "-v")[0] == 0
    _reorder(t)
    for args in (["series"], ["top"], ["push"], ["refresh"], ["diff"], ["new", "x.diff"]):
        rc, out, err = run(t, *args)
        assert (rc, out + err) == (1, ALTERED + "\n"), args
    assert run(t, "pop")[0] == 0
    assert run(t, "series")[0] == 1  # a.diff alone, but c.diff comes before it: still altered
    assert run(t, "pop", "-a")[0] == 0
    rc, out, _ = run(t, "series")
    assert rc == 0 and out.split() == ["patches/c.diff", "patches/a.diff", "patches/b.diff"]


def test_guard_skipped_patches_are_not_an_altered_series(tmp_path: Path, run: Runner) -> None:
    t = tmp_path / "t"
    write_tree(t, {"f.txt": F, "g.txt": "alpha\nbeta\n"})
    make_series(t, {"c.diff": "", "a.diff": PA, "b.diff": PB})
    assert run(t, "guard", "c.diff", "+never")[0] == 0
    assert run(t, "push", "-a")[0] == 0
    assert (t / ".pc/applied-patches").read_text() == "a.diff\nb.diff\n"
    assert run(t, "series")[0] == 0
    (t / "patches/series").write_text("b.diff\nc.diff #+never\na.diff\n")
    assert run(t, "series")[1:] == ("", ALTERED + "\n")


def test_altered_series_in_f5quilt_mode_stops_push_only(tmp_path: Path, run: Runner) -> None:
    t = _settings_tree(tmp_path / "t")
    (t / "patches/c.diff").write_text("")
    (t / "patches/series").write_text("a.diff\nb.diff\nc.diff\n")
    assert run(t, "push")[0] == 0
    assert run(t, "push")[0] == 0
    _reorder(t)
    rc, _out, err = run(t, "push")
    assert rc == 1 and "no longer matches the applied patches" in err
    assert (t / ".pc/applied-patches").read_text() == "a.diff\nb.diff\n"
    assert run(t, "series")[0] == 0 and run(t, "top")[0] == 0  # reading is fine
    assert run(t, "pop", "-a")[0] == 0
    assert run(t, "push", "-a")[0] == 0
    assert (t / ".pc/applied-patches").read_text() == "c.diff\na.diff\nb.diff\n"


# -- fold from a subfolder ----------------------------------------------------
FOLD_SUB = "--- dir.orig/h.txt\n+++ dir/h.txt\n@@ -1 +1 @@\n-h\n+H\n"


@pytest.mark.quilt
@needs_quilt
def test_fold_in_a_subfolder_as_gnu_quilt(tmp_path: Path) -> None:
    qt, ft = both(tmp_path, {"f.txt": F, "dir/h.txt": "h\n"})
    for tree in (qt, ft):
        make_series(tree, {"a.diff": PA})
    same(tmp_path, qt, ft, "push")
    rc = tmp_path / "quiltrc"
    a = run("quilt", qt / "dir", rc, "fold", stdin=FOLD_SUB)
    b = run("f5", ft / "dir", rc, "fold", stdin=FOLD_SUB)
    assert a == b and a[0] == 0 and "patching file h.txt" in a[1], (a, b)  # named as patch -d dir names it
    assert (ft / "dir/h.txt").read_text() == "H\n"
    same(tmp_path, qt, ft, "refresh")
    assert (ft / "patches/a.diff").read_bytes() == (qt / "patches/a.diff").read_bytes()
    trees_equal(qt, ft)


def test_fold_in_a_subfolder_f5quilt_mode_and_outside_the_tree(tmp_path: Path, run: Runner) -> None:
    t = _settings_tree(tmp_path / "t")
    write_tree(t, {"dir/h.txt": "h\n"})
    assert run(t, "push")[0] == 0
    import io
    import sys
    for stdin, where in ((FOLD_SUB, t / "dir"), (FOLD_SUB.replace("h.txt", "../../x"), t / "dir")):
        sys_stdin = sys.stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
        try:
            rc, _out, err = run(where, "fold")
        finally:
            sys.stdin = sys_stdin
        if "../../x" in stdin:
            assert rc == 1 and "leaves the tree" in err
        else:
            assert rc == 0, err
    assert (t / "dir/h.txt").read_text() == "H\n"
    assert "dir/h.txt" in run(t, "files")[1]


def test_apply_patch_directory_is_patch_minus_d() -> None:
    files = {"sub/a": b"one\n", "a": b"top\n"}
    patch = parse_patch(b"--- x/a\n+++ y/a\n@@ -1 +1 @@\n-one\n+ONE\n", "p")
    res = apply_patch(patch, files.get, directory="sub")
    assert list(res.changes) == ["sub/a"] and res.changes["sub/a"].after == b"ONE\n"
    assert not apply_patch(patch, files.get).ok  # from the root, "a" is another file
    escaping = parse_patch(b"--- x/../../a\n+++ y/../../a\n@@ -1 +1 @@\n-one\n+ONE\n", "p")
    with pytest.raises(F5QuiltError, match="leaves the tree|outside the tree"):
        apply_patch(escaping, files.get, directory="sub")
