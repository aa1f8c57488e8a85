"""range-diff --rebase: the series before and after the last rebase, both read from f5quilt's log."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, Runner, make_series, snapshot, write_tree

V1 = "".join(f"line {i}\n" for i in range(1, 31))
# upstream 2: a line on top (every hunk moves), line 20 rewritten (p2 conflicts), p3's change taken
V2 = "head\n" + V1.replace("line 20\n", "line twenty\n").replace("line 25\n", "LINE 25\n")
P1 = "Description: one\n\n--- a/m.py\n+++ b/m.py\n@@ -9,3 +9,3 @@\n line 9\n-line 10\n+LINE 10\n line 11\n"
P2 = ("Description: two\n\n--- a/m.py\n+++ b/m.py\n@@ -14,8 +14,8 @@\n line 14\n-line 15\n+LINE 15\n"
      " line 16\n line 17\n line 18\n-line 19\n-line 20\n+LINE 19\n+LINE 20\n line 21\n")
P3 = "Description: three\n\n--- a/m.py\n+++ b/m.py\n@@ -24,3 +24,3 @@\n line 24\n-line 25\n+LINE 25\n line 26\n"


@pytest.fixture
def rebased(tmp_path: Path, run: Runner) -> Path:
    write_tree(tmp_path / "v1", {"m.py": V1})
    write_tree(tmp_path / "v2", {"m.py": V2})
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    make_series(repo, {"p1.diff": P1, "p2.diff": P2, "p3.diff": P3})
    assert run(repo, "push", "-a")[0] == 0
    assert run(repo, "rebase", "--onto", "../v2")[0] == 3  # p2 conflicts on line 20
    resolved = V2.replace("line 10\n", "LINE 10\n").replace("line 15\n", "LINE 15\n") \
        .replace("line 19\n", "LINE 19\n").replace("line twenty\n", "LINE TWENTY\n")
    (repo / "tree/m.py").write_text(resolved)
    rc, out, err = run(repo, "rebase", "--continue")
    assert rc == 0 and "p3.diff" in out + err  # p3 is in v2 already: dropped, with a note
    assert "path: ../v2" in (repo / "f5quilt.yaml").read_text()
    return repo


def test_range_diff_of_the_last_rebase_from_the_log(rebased: Path, run: Runner) -> None:
    before = snapshot(rebased)
    rc, out, err = run(rebased, "range-diff", "--rebase")
    assert rc == 1, err
    lines = out.splitlines()
    assert lines[0] == "`rebase --onto ../v2` (2 steps in the log, from entry 2):"
    assert lines[1] == "unchanged: p1.diff"  # only moved: refreshed, same change
    assert lines[2] == "changed:   p2.diff"
    interdiff = "\n".join(lines[3:-2])
    # git's interdiff of the patch itself: the old patch's lines -, the new one's +
    assert "    -+LINE 20\n    ++LINE TWENTY\n" in interdiff + "\n"
    assert "    --line 20\n    +-line twenty\n" in interdiff + "\n"
    assert lines[-2] == "dropped:   p3.diff"
    assert lines[-1] == "1 unchanged, 1 changed, 0 added, 1 dropped"
    assert snapshot(rebased) == before  # reads the log, writes nothing (no repository needed)
    # work after the rebase changes neither side: the after side is the before-image of the
    # first command after the rebase, not the files as they are now
    r = subprocess.run([sys.executable, "-m", "f5quilt", "header", "-r", "p1.diff"], cwd=rebased,
                       input="Description: one, reworded\n", text=True, capture_output=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr
    assert run(rebased, "new", "p4.diff")[0] == 0
    assert (rebased / "patches/p1.diff").read_text().startswith("Description: one, reworded\n")
    rc, out2, _ = run(rebased, "range-diff", "--rebase")
    assert rc == 1 and out2 == out


def test_range_diff_rebase_without_one_or_with_revisions(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path / "v1", {"m.py": V1})
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    make_series(repo, {"p1.diff": P1})
    assert run(repo, "push", "-a")[0] == 0
    rc, _, err = run(repo, "range-diff", "--rebase")
    assert rc == 1 and "no rebase in f5quilt's log" in err
    rc, _, err = run(repo, "range-diff", "--rebase", "HEAD")
    assert rc == 2 and "takes no revisions" in err
    rc, _, err = run(repo, "range-diff")
    assert rc == 2 and "needs OLD" in err
