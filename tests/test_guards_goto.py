"""goto (StGit's), guards and select (Mercurial MQ's qguard/qselect), against GNU quilt too."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT, Runner, make_series, snapshot, write_tree

BASE = {"f.txt": "a\nb\nc\n", "g.txt": "x\n", "h.txt": "cpu\n"}
P1 = "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
P2 = "--- a/g.txt\n+++ b/g.txt\n@@ -1 +1 @@\n-x\n+X\n"
P3 = "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n a\n B\n-c\n+C\n"
P4 = "--- a/h.txt\n+++ b/h.txt\n@@ -1 +1 @@\n-cpu\n+cpu only\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    t = tmp_path / "t"
    write_tree(t, BASE)
    make_series(t, {"p1.diff": P1, "p2.diff": P2, "p3.diff": P3, "p4.diff": P4})
    return t


def files(t: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(t, skip_pc=True).items()
            if not k.startswith((".pc/", ".f5quilt/", "patches/"))}


# -- goto ------------------------------------------------------------------------
def test_goto_pushes_then_pops_and_each_is_one_undo(tree: Path, run: Runner) -> None:
    rc, out, _ = run(tree, "goto", "p3.diff")
    assert rc == 0
    assert out.splitlines() == ["Applying patch patches/p1.diff", "Applying patch patches/p2.diff",
                                "Applying patch patches/p3.diff", "", "Now at patch patches/p3.diff"]
    at_p3 = snapshot(tree)
    rc, out, _ = run(tree, "goto", "patches/p1.diff")
    assert rc == 0
    assert out.splitlines() == ["Removing patch patches/p3.diff", "Removing patch patches/p2.diff", "",
                                "Now at patch patches/p1.diff"]
    assert (tree / ".pc/applied-patches").read_text() == "p1.diff\n"
    assert (tree / "f.txt").read_text() == "a\nB\nc\n" and (tree / "g.txt").read_text() == "x\n"
    rc, out, err = run(tree, "goto", "p1.diff")
    assert rc == 2 and "Patch patches/p1.diff is already on top" in err
    # one log entry per goto, and one undo brings back all three patches
    rc, out, _ = run(tree, "log", "--json")
    assert [e["command"] for e in json.loads(out)] == ["goto p3.diff", "goto patches/p1.diff"]
    assert run(tree, "undo")[0] == 0
    assert snapshot(tree) == at_p3
    rc, _, err = run(tree, "goto", "nosuch.diff")
    assert rc == 1 and "nosuch.diff is not in series" in err


def test_goto_that_fails_keeps_the_patches_pushed_before(tree: Path, run: Runner) -> None:
    (tree / "patches/p3.diff").write_text(P3.replace("-c\n", "-q\n"))  # a removed line that is not there
    rc, out, err = run(tree, "goto", "p4.diff")
    assert rc == 1 and "Patch patches/p3.diff does not apply" in err
    assert (tree / ".pc/applied-patches").read_text() == "p1.diff\np2.diff\n"  # as quilt push would


# -- guards --------------------------------------------------------------------------
def test_guard_writes_mq_form_in_the_series_keeping_comments(tree: Path, run: Runner) -> None:
    (tree / "patches/series").write_text("# head\np1.diff\np2.diff -p1 # keep me\np3.diff\np4.diff\n")
    rc, out, _ = run(tree, "guard", "p2.diff", "+cuda", "-cpu")
    assert rc == 0 and out == "Patch patches/p2.diff is now guarded by +cuda -cpu\n"
    assert (tree / "patches/series").read_text() == \
        "# head\np1.diff\np2.diff -p1 #+cuda #-cpu # keep me\np3.diff\np4.diff\n"
    assert run(tree, "guard", "p4.diff", "+cpu")[0] == 0
    rc, out, _ = run(tree, "guard", "-l")
    assert out.splitlines() == ["patches/p1.diff: unguarded", "patches/p2.diff: guarded by +cuda -cpu",
                                "patches/p3.diff: unguarded", "patches/p4.diff: guarded by +cpu"]
    rc, out, _ = run(tree, "series", "-v")
    assert out.splitlines() == ["  patches/p1.diff", "G patches/p2.diff #+cuda #-cpu", "  patches/p3.diff",
                                "G patches/p4.diff #+cpu"]
    rc, _, err = run(tree, "guard", "p2.diff", "cuda")
    assert rc == 1 and "must start with + or -" in err
    rc, _, err = run(tree, "guard", "p2.diff", "+")
    assert rc == 1 and "invalid guard name" in err
    assert run(tree, "guard", "--none", "p2.diff")[0] == 0
    assert (tree / "patches/series").read_text() == "# head\np1.diff\np2.diff -p1 # keep me\np3.diff\np4.diff #+cpu\n"
    assert run(tree, "undo")[0] == 0
    assert "p2.diff -p1 #+cuda #-cpu # keep me" in (tree / "patches/series").read_text()


def test_push_goto_and_check_skip_what_the_selection_rules_out(tree: Path, run: Runner) -> None:
    assert run(tree, "guard", "p2.diff", "+cuda")[0] == 0
    assert run(tree, "guard", "p4.diff", "-cuda")[0] == 0
    rc, out, _ = run(tree, "push", "-a")
    assert rc == 0
    assert out.splitlines()[:2] == ["Skipping patch patches/p2.diff (guarded by +cuda, not selected)",
                                    "Applying patch patches/p1.diff"]
    assert (tree / ".pc/applied-patches").read_text() == "p1.diff\np3.diff\np4.diff\n"
    assert (tree / "g.txt").read_text() == "x\n" and (tree / "h.txt").read_text() == "cpu only\n"
    rc, out, _ = run(tree, "series", "-v")
    assert out.splitlines() == ["+ patches/p1.diff", "G patches/p2.diff #+cuda", "+ patches/p3.diff",
                                "= patches/p4.diff #-cuda"]
    assert run(tree, "pop", "-a")[0] == 0
    # select: stored in f5quilt's state, not the series; undoable
    series_before = (tree / "patches/series").read_bytes()
    rc, out, _ = run(tree, "select", "cuda")
    assert rc == 0 and out.splitlines() == ["Selected guards: cuda", "Patch patches/p2.diff is no longer skipped",
                                            "Patch patches/p4.diff is now skipped (guarded by -cuda)"]
    assert (tree / ".pc/.f5quilt/guards").read_text() == "cuda\n"
    assert (tree / "patches/series").read_bytes() == series_before
    rc, out, _ = run(tree, "goto", "p3.diff")
    assert rc == 0 and "Applying patch patches/p2.diff" in out
    rc, out, err = run(tree, "push")
    assert rc == 2 and "Skipping patch patches/p4.diff (guarded by -cuda)" in out
    rc, _, err = run(tree, "goto", "p4.diff")
    assert rc == 1 and "p4.diff is guarded by -cuda" in err
    rc, out, err = run(tree, "check", "--json")
    report = json.loads(out)
    assert rc == 0 and [p["patch"] for p in report["patches"]] == ["p1.diff", "p2.diff", "p3.diff"]
    assert report["skipped"] == [{"patch": "p4.diff", "guard": "-cuda"}]
    rc, out, _ = run(tree, "check")
    assert "Skipping patch patches/p4.diff (guarded by -cuda)" in out and "3 patches apply" in out
    # a plain push of NUM counts pushable patches only
    assert run(tree, "pop", "-a")[0] == 0
    assert run(tree, "select", "--none")[0] == 0
    assert not (tree / ".pc/.f5quilt/guards").exists()
    rc, out, _ = run(tree, "push", "2")
    assert rc == 0 and (tree / ".pc/applied-patches").read_text() == "p1.diff\np3.diff\n"
    assert run(tree, "undo")[0] == 0 and run(tree, "undo")[0] == 0  # push 2, select --none
    assert (tree / ".pc/.f5quilt/guards").read_text() == "cuda\n"
    rc, _, err = run(tree, "select", "+cuda")
    assert rc == 1 and "invalid guard name" in err
    (tree / ".pc/.f5quilt/guards").write_text("cu da\n")
    rc, _, err = run(tree, "push")
    assert rc == 1 and "guards:1: invalid guard name" in err


def test_push_without_guards_does_not_read_the_selection(tree: Path, run: Runner) -> None:
    # a broken selection file is not even read while no patch has guards: push pays nothing for guards
    (tree / ".pc/.f5quilt").mkdir(parents=True)
    (tree / ".pc/.f5quilt/guards").write_text("cu da\n")
    assert run(tree, "push", "-a")[0] == 0


# -- what GNU quilt does with a guarded series ----------------------------------------
pytestmark_quilt = pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed")


def quilt(t: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUILTRC="/dev/null", QUILT_PATCHES="patches")
    return subprocess.run(["quilt", "--quiltrc=/dev/null", *args], cwd=t, env=env, capture_output=True, text=True)


@pytest.mark.quilt
@pytestmark_quilt
def test_gnu_quilt_reads_guards_as_comments_and_pushes_every_patch(tree: Path, run: Runner, tmp_path: Path) -> None:
    assert run(tree, "guard", "p2.diff", "+cuda", "-cpu")[0] == 0
    assert run(tree, "guard", "p4.diff", "-cuda")[0] == 0
    (tree / "patches/series").write_text((tree / "patches/series").read_text().replace("p3.diff", "p3.diff -p1"))
    assert "p2.diff #+cuda #-cpu\n" in (tree / "patches/series").read_text()
    twin = tmp_path / "twin"
    shutil.copytree(tree, twin)
    # GNU quilt on a fresh tree holding that series (f5quilt's log in .pc/.f5quilt/ would make
    # quilt ask for `quilt upgrade`: .pc/ without .version)
    shutil.rmtree(tree / ".pc")
    r = quilt(tree, "push", "-a")
    assert r.returncode == 0, r.stderr
    assert quilt(tree, "applied").stdout.split() == ["p1.diff", "p2.diff", "p3.diff", "p4.diff"]
    # every patch: as f5quilt pushes with the guards selected that let them all through
    assert run(twin, "select", "cuda")[0] == 0
    assert run(twin, "guard", "--none", "p4.diff")[0] == 0
    assert run(twin, "push", "-a")[0] == 0
    assert files(tree) == files(twin)
    # quilt pops what it pushed, f5quilt sees its state
    assert run(tree, "top")[1] == "patches/p4.diff\n"
    assert quilt(tree, "pop", "-a").returncode == 0
    # a series f5quilt pushed with a patch skipped: quilt takes .pc/applied-patches as it is
    # (top p4, nothing to push) until the series file changes; then it refuses everything but
    # pop ("The series file no longer matches the applied patches"), and pops it cleanly
    assert run(tree, "push", "-a")[0] == 0
    assert (tree / ".pc/applied-patches").read_text() == "p1.diff\np3.diff\np4.diff\n"
    r = quilt(tree, "push")
    assert r.returncode == 2 and "File series fully applied, ends at patch p4.diff" in r.stderr
    later = (tree / ".pc/applied-patches").stat().st_mtime + 10
    os.utime(tree / "patches/series", (later, later))
    r = quilt(tree, "applied")
    assert r.returncode != 0 and "no longer matches the applied patches" in r.stderr
    r = quilt(tree, "pop", "-a")
    assert r.returncode == 0, r.stderr
    assert files(tree) == BASE_BYTES


BASE_BYTES = {k: v.encode() for k, v in BASE.items()}


def test_export_follows_the_selection_as_push_a_does(tree: Path, run: Runner) -> None:
    from helpers import git
    git("init", "-q", cwd=tree)
    assert run(tree, "guard", "p2.diff", "+cuda")[0] == 0
    rc, out, err = run(tree, "export", "--git", "s")
    assert rc == 0, err
    assert "Skipping patch patches/p2.diff (guarded by +cuda, not selected)" in out
    assert git("log", "--reverse", "--format=%s", "s", cwd=tree).splitlines()[1:] == ["p1", "p3", "p4"]
    assert git("show", "s:g.txt", cwd=tree) == "x\n"
    assert run(tree, "select", "cuda")[0] == 0
    assert run(tree, "export", "--git", "s", "-f")[0] == 0
    assert git("log", "--reverse", "--format=%s", "s", cwd=tree).splitlines()[1:] == ["p1", "p2", "p3", "p4"]
