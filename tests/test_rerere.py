"""Remembered resolutions (rerere): recorded at refresh, replayed by the next merge
that meets the same conflict, for review; forgotten on request; off by a setting."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import Runner, write_tree
from f5quilt.engine.rerere import conflict_key, replay, resolutions

V1 = "".join(f"line {i}\n" for i in range(1, 31))
PATCH = ("--- a/m.py\n+++ b/m.py\n@@ -9,5 +9,5 @@\n line 9\n"
         "-line 10\n+LINE 10\n line 11\n-line 12\n+LINE 12\n line 13\n")
DRIFTED = V1.replace("line 10\n", "line ten (upstream)\n")
RESOLVED = DRIFTED.replace("line ten (upstream)\nline 11\nline 12\n", "LINE TEN (both)\nline 11\nLINE 12\n")


def test_resolutions_are_read_between_the_common_stretches() -> None:
    conflicted = (b"a\nb\n<<<<<<< t\nX\n||||||| b\nx\n=======\nY\n>>>>>>> p\nc\nd\n"
                  b"<<<<<<< t\nP\n||||||| b\np\n=======\nQ\n>>>>>>> p\ne\n")
    found = resolutions(conflicted, b"a\nb\nXY\nc\nd\nQ\nq\ne\n")
    assert found == [(conflict_key(b"X\n", b"Y\n"), b"XY\n"), (conflict_key(b"P\n", b"Q\n"), b"Q\nq\n")]
    assert resolutions(conflicted, b"a\nB\nXY\nc\nd\nQ\ne\n") is None  # a common line edited: no guess
    # the same clash elsewhere, other labels, trailing blanks: replayed
    again = b"z\n<<<<<<< tree\nX  \n||||||| base\nold\n=======\nY\n>>>>>>> patch\n"
    data, done, left = replay(again, dict(found).get)
    assert (data, done, left) == (b"z\nXY\n", 1, 0)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    write_tree(tmp_path / "v1", {"m.py": V1})
    write_tree(tmp_path / "repo", {
        "f5quilt.yaml": f"tree: tree\nupstream:\n  path: {tmp_path / 'v1'}\n",
        "patches/series": "p.diff\n", "patches/p.diff": PATCH})
    return tmp_path / "repo"


def _conflict_again(repo: Path, run: Runner) -> None:
    """Pop, put the original patch back: the next push --merge meets the same conflict."""
    assert run(repo, "pop")[0] == 0
    (repo / "patches/p.diff").write_text(PATCH)


def test_push_merge_replays_a_recorded_resolution_for_review(repo: Path, run: Runner) -> None:
    run(repo, "upstream", "fetch")
    m = repo / "tree/m.py"
    m.write_text(DRIFTED)
    assert run(repo, "push", "--merge")[0] == 3 and "<<<<<<<" in m.read_text()
    m.write_text(RESOLVED)
    rc, out, err = run(repo, "refresh")
    assert rc == 0 and "Recorded 1 conflict resolution of patches/p.diff (rerere)" in out, out + err
    assert "patches/p.diff: m.py" in run(repo, "rerere", "status")[1]

    _conflict_again(repo, run)
    rc, out, err = run(repo, "push", "--merge")
    assert rc == 3, out + err
    assert "Resolved 1 conflict in tree/m.py using a previous resolution (rerere)" in out
    assert "its conflicts were resolved as before (rerere): review them, then refresh" in out
    assert m.read_text() == RESOLVED
    # marked for review: nothing goes on top until it is refreshed
    assert "conflicts: patches/p.diff: conflicts in tree/m.py" in run(repo, "status")[1]
    assert run(repo, "refresh")[0] == 0

    # forget: the next merge leaves the markers again
    _conflict_again(repo, run)
    rc, out, _ = run(repo, "rerere", "forget", "p.diff")
    assert rc == 0 and "Forgot 1 recorded resolution of patches/p.diff" in out
    assert run(repo, "rerere", "forget", "p.diff")[0] == 2
    rc, out, _ = run(repo, "push", "--merge")
    assert rc == 3 and "previous resolution" not in out and "<<<<<<<" in m.read_text()
    assert run(repo, "undo")[0] == 0 and run(repo, "undo")[0] == 0   # the push, then the forget
    assert "p.diff" in run(repo, "rerere", "status")[1]


def test_rerere_false_turns_it_off(repo: Path, run: Runner) -> None:
    run(repo, "upstream", "fetch")
    m = repo / "tree/m.py"
    m.write_text(DRIFTED)
    assert run(repo, "push", "--merge")[0] == 3
    m.write_text(RESOLVED)
    settings = repo / "f5quilt.yaml"
    settings.write_text(settings.read_text() + "rerere: false\n")
    rc, out, _ = run(repo, "refresh")
    assert rc == 0 and "Recorded" not in out
    assert run(repo, "rerere", "status")[1] == ""
    settings.write_text(settings.read_text().replace("rerere: false\n", "rerere: maybe\n"))
    rc, _, err = run(repo, "status")
    assert rc == 1 and "rerere must be true or false" in err
