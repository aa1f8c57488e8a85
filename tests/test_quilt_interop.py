"""GNU quilt and f5quilt take turns on one tree: each pops what the other pushed."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from helpers import ROOT, Runner, make_series, snapshot, write_tree

pytestmark = [pytest.mark.quilt,
              pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed (.ci/run installs it)")]

ENV = dict(os.environ, PYTHONPATH=str(ROOT), QUILTRC="/dev/null", NO_COLOR="1")


def quilt(tree: Path, *args: str, patches: str = "patches") -> subprocess.CompletedProcess[str]:
    env = dict(ENV, QUILT_PATCHES=patches)
    return subprocess.run(["quilt", "--quiltrc=/dev/null", *args], cwd=tree, env=env,
                          capture_output=True, text=True)


def f5q(tree: Path, *args: str, patches: str = "patches") -> subprocess.CompletedProcess[str]:
    env = dict(ENV, QUILT_PATCHES=patches)
    return subprocess.run([sys.executable, "-m", "f5quilt", *args], cwd=tree, env=env,
                          capture_output=True, text=True)


def files_only(tree: Path) -> Dict[str, bytes]:
    return snapshot(tree, skip_pc=True)


BASE = {"a.txt": "one\ntwo\nthree\n", "dir/b.txt": "x\ny\nz\n", "gone.txt": "bye\n"}
PATCHES = {
    "first.diff": "Description: first\n\n--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n",
    "sub/second.diff": ("--- /dev/null\n+++ b/new/c.txt\n@@ -0,0 +1,2 @@\n+new\n+file\n"
                        "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
                        "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,4 @@\n one\n TWO\n three\n+four\n"),
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write_tree(tmp_path, BASE)
    make_series(tmp_path, PATCHES)
    return tmp_path


def test_quilt_pops_what_f5quilt_pushed(tree: Path) -> None:
    before = files_only(tree)
    assert f5q(tree, "push", "-a").returncode == 0
    pushed = files_only(tree)
    r = quilt(tree, "applied")
    # quilt prints names bare under --quiltrc=/dev/null (no QUILT_PATCHES_PREFIX)
    assert r.stdout.split() == ["first.diff", "sub/second.diff"], r.stderr
    r = quilt(tree, "pop", "-a")
    assert r.returncode == 0, r.stdout + r.stderr
    assert files_only(tree) == before
    # and quilt's push gives the same tree as ours did
    assert quilt(tree, "push", "-a").returncode == 0
    assert files_only(tree) == pushed


def test_f5quilt_pops_what_quilt_pushed(tree: Path) -> None:
    before = files_only(tree)
    assert quilt(tree, "push", "-a").returncode == 0
    pushed = files_only(tree)
    r = f5q(tree, "top")
    assert r.stdout == "patches/sub/second.diff\n"
    r = f5q(tree, "pop", "-a")
    assert r.returncode == 0, r.stderr
    assert files_only(tree) == before
    assert f5q(tree, "push", "-a").returncode == 0
    assert files_only(tree) == pushed


def test_f5quilt_refuses_to_pop_edits_quilt_would_also_refuse(tree: Path) -> None:
    assert quilt(tree, "push").returncode == 0
    (tree / "a.txt").write_text("one\nTWO\nthree\nedited\n")
    r = f5q(tree, "pop")
    assert r.returncode == 1 and "does not remove cleanly" in r.stderr
    assert quilt(tree, "pop").returncode == 1


def test_quilt_honours_needs_refresh_marker_from_forced_push(tree: Path) -> None:
    (tree / "a.txt").write_text("one\nchanged\nthree\n")
    r = f5q(tree, "push", "-f")
    assert r.returncode == 1 and (tree / ".pc/first.diff~refresh").exists()
    r = quilt(tree, "pop")
    assert r.returncode == 1 and "needs to be refreshed first" in r.stderr
    assert quilt(tree, "pop", "-f").returncode == 0
    assert (tree / "a.txt").read_text() == "one\nchanged\nthree\n"


def test_pc_directory_is_byte_identical_to_quilts(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for t in (a, b):
        write_tree(t, BASE)
        make_series(t, PATCHES)
    assert quilt(a, "push", "-a").returncode == 0
    assert f5q(b, "push", "-a").returncode == 0

    def pc(tree: Path) -> Dict[str, bytes]:
        return {k: v for k, v in snapshot(tree / ".pc").items() if not k.startswith(".f5quilt/")}
    assert pc(b) == pc(a)
    assert sorted(pc(a)) == [".quilt_patches", ".quilt_series", ".version", "applied-patches",
                             "first.diff/.timestamp", "first.diff/a.txt",
                             "sub/second.diff/.timestamp", "sub/second.diff/a.txt",
                             "sub/second.diff/gone.txt", "sub/second.diff/new/c.txt"]
    assert quilt(a, "pop", "-a").returncode == 0 and f5q(b, "pop", "-a").returncode == 0
    assert pc(b) == pc(a)


def test_quilt_accepts_the_tree_after_an_f5quilt_write_before_any_push(tmp_path: Path, run: Runner) -> None:
    """f5quilt's log lives in .pc/.f5quilt/ without settings: the .pc/ it creates is quilt's own."""
    import shutil as _sh
    import subprocess as _sp
    if _sh.which("quilt") is None:
        pytest.skip("GNU quilt not installed")
    (tmp_path / "f.txt").write_text("a\nb\n")
    (tmp_path / "patches").mkdir()
    (tmp_path / "ext.diff").write_text("--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n")
    assert run(tmp_path, "import", "ext.diff")[0] == 0
    assert (tmp_path / ".pc/.version").read_text() == "2\n"
    r = _sp.run(["quilt", "push"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "f.txt").read_text() == "a\nB\n"
