"""Rebase's rough edges: contained patches dropped, emptied patches said, pop of a conflicted
patch warned, usage errors exit 2, git errors in one line."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import Runner, git, snapshot, write_tree

V1 = {"m.py": "".join(f"line {i}\n" for i in range(1, 41)), "keep.txt": "k\n"}
P1 = ("--- a/m.py\n+++ b/m.py\n@@ -9,5 +9,5 @@\n line 9\n"
      "-line 10\n+LINE 10\n line 11\n line 12\n line 13\n")
P2 = ("Description: two\n\n--- a/m.py\n+++ b/m.py\n@@ -29,5 +29,5 @@\n line 29\n"
      "-line 30\n+LINE 30\n line 31\n line 32\n line 33\n")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    write_tree(tmp_path / "v1", V1)
    write_tree(tmp_path / "repo", {
        "f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n",
        "patches/series": "p1.diff\np2.diff\n", "patches/p1.diff": P1, "patches/p2.diff": P2})
    git("init", "-q", cwd=tmp_path / "repo")
    # v2 contains p1 and changes line 30 another way
    write_tree(tmp_path / "v2", {"m.py": V1["m.py"].replace("line 10\n", "LINE 10\n")
                                 .replace("line 30\n", "line thirty\n"), "keep.txt": "k\n"})
    return tmp_path / "repo"


def test_contained_dropped_then_conflict_then_abort_restores_all(repo: Path, run: Runner) -> None:
    assert run(repo, "push", "-a")[0] == 0
    before = snapshot(repo)
    rc, out, err = run(repo, "rebase", "--onto", "../v2")
    assert rc == 3, out + err
    assert "Patch patches/p1.diff is contained in" in out
    assert "Moved patches/p1.diff to .f5quilt/dropped/p1.diff; `git rm patches/p1.diff` records it" in out
    # markers left: refresh refuses without suggesting to record them
    rc, _, err = run(repo, "refresh")
    assert rc == 1 and "still has conflict markers" in err and "would record the markers" in err
    rc, _, err = run(repo, "rebase", "--continue")
    assert rc == 1 and "still has conflict markers" in err and "refresh -f" not in err
    assert run(repo, "rebase", "--abort")[0] == 0
    assert snapshot(repo) == before  # the moved file is gone from .f5quilt/dropped, p1.diff back


def test_resolution_to_upstreams_side_warns_the_patch_is_empty(repo: Path, run: Runner,
                                                               tmp_path: Path) -> None:
    assert run(repo, "rebase", "--onto", "../v2")[0] == 3
    (repo / "tree/m.py").write_text((tmp_path / "v2/m.py").read_text())  # keep upstream's side
    rc, out, err = run(repo, "rebase", "--continue")
    assert rc == 0, out + err
    assert "patches/p2.diff changes nothing now (only its header is left)" in err
    assert "f5quilt delete p2.diff" in err
    assert (repo / "patches/p2.diff").read_text() == "Description: two\n\n"


def test_pop_warns_about_a_conflicted_patch(repo: Path, run: Runner) -> None:
    assert run(repo, "rebase", "--onto", "../v2")[0] == 3
    rc, _, err = run(repo, "pop")
    assert rc == 0
    assert "warning: patches/p2.diff has unresolved conflicts in tree/m.py; popping it drops the merge" in err


def test_usage_errors_exit_2_and_git_errors_are_one_line(repo: Path, run: Runner, tmp_path: Path) -> None:
    rc, _, err = run(repo, "rebase")
    assert rc == 2 and "exactly one of" in err
    assert run(repo, "push", "-a")[0] == 0
    up = tmp_path / "up"
    write_tree(up, {"m.py": V1["m.py"]})
    git("init", "-q", cwd=up)
    git("add", "-A", cwd=up)
    git("commit", "-qm", "v1", cwd=up)
    rc, _, err = run(repo, "rebase", "--onto", f"{up}@no-such-ref")
    assert rc == 1 and len(err.strip().splitlines()) == 1, err
    assert "no-such-ref" in err and "Traceback" not in err


def test_a_second_rebase_keeps_an_earlier_dropped_patch_of_the_same_name(repo: Path, run: Runner,
                                                                          tmp_path: Path) -> None:
    """Issue 18: the second drop of a patch named p1.diff overwrote the first in dropped/."""
    earlier = repo / ".f5quilt/dropped/p1.diff"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("the p1.diff an earlier rebase dropped\n")
    assert run(repo, "push", "-a")[0] == 0
    rc, out, err = run(repo, "rebase", "--onto", "../v2")
    assert rc == 3, out + err
    assert earlier.read_text() == "the p1.diff an earlier rebase dropped\n"
    assert (repo / ".f5quilt/dropped/p1.diff.2").read_text() == P1
    assert run(repo, "rebase", "--abort")[0] == 0
    assert earlier.read_text() == "the p1.diff an earlier rebase dropped\n"
    assert not (repo / ".f5quilt/dropped/p1.diff.2").exists()


def test_two_rebases_drop_two_patches_of_one_name(repo: Path, run: Runner, tmp_path: Path) -> None:
    """The same, end to end: two releases each contain a patch named p1.diff."""
    (repo / "patches/series").write_text("p1.diff\n")
    assert run(repo, "push", "-a")[0] == 0
    write_tree(tmp_path / "v2a", {"m.py": V1["m.py"].replace("line 10\n", "LINE 10\n"), "keep.txt": "k\n"})
    rc, out, err = run(repo, "rebase", "--onto", "../v2a")
    assert rc == 0 and "Moved patches/p1.diff to .f5quilt/dropped/p1.diff" in out, out + err
    # a new p1.diff, which the next release contains in turn
    p1b = P1.replace("line 9\n-line 10\n+LINE 10\n", "LINE 10\n-line 11\n+LINE 11\n").replace(
        "@@ -9,5 +9,5 @@\n", "@@ -10,5 +10,5 @@\n").replace(" line 11\n line 12\n line 13\n", " line 12\n line 13\n line 14\n")
    (repo / "patches/p1.diff").write_text(p1b)
    (repo / "patches/series").write_text("p1.diff\n")
    assert run(repo, "push", "-a")[0] == 0, p1b
    write_tree(tmp_path / "v3", {"m.py": V1["m.py"].replace("line 10\n", "LINE 10\n").replace("line 11\n", "LINE 11\n"),
                                 "keep.txt": "k\n"})
    rc, out, err = run(repo, "rebase", "--onto", "../v3")
    assert rc == 0 and "Moved patches/p1.diff to .f5quilt/dropped/p1.diff.2" in out, out + err
    assert (repo / ".f5quilt/dropped/p1.diff").read_text() == P1
    assert (repo / ".f5quilt/dropped/p1.diff.2").read_text() == p1b
