"""Issue 18: work a user wrote is in the tree, a patch or the stash; never only in the
pruned log. Each test reproduces one way work was lost with exit 0 before."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Tuple

import pytest

from helpers import ROOT, Runner, make_series, numbered, upper_hunk, write_tree

V1 = {"m.py": numbered(30), "keep.txt": "k\n"}
V2 = {"m.py": "head\n" + numbered(30), "keep.txt": "k\n"}
PM = upper_hunk("m.py", 10)


def repo_at(tmp_path: Path, keep: int = 50, extra: str = "") -> Path:
    write_tree(tmp_path / "v1", V1)
    write_tree(tmp_path / "v2", V2)
    write_tree(tmp_path / "repo", {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"
                                   f"log: {{keep: {keep}}}\n" + extra})
    make_series(tmp_path / "repo", {"pm.diff": PM})
    return tmp_path / "repo"


def test_undo_of_the_fetching_push_refuses_over_unrecorded_edits(tmp_path: Path, run: Runner) -> None:
    repo = repo_at(tmp_path, keep=2)
    assert run(repo, "push", "-a")[0] == 0  # fetches the tree, then pushes
    (repo / "tree/keep.txt").write_text("my work\n")
    rc, out, err = run(repo, "undo")
    assert rc == 1 and "keep.txt: edited outside any patch" in err and "--force" in err
    assert (repo / "tree/keep.txt").read_text() == "my work\n"
    # forced: the edit goes to a named stash, which outlives the log's pruning
    rc, out, err = run(repo, "undo", "--force")
    assert rc == 0, err
    assert not (repo / "tree").exists()
    for _ in range(3):  # keep: 2 prunes the undo's log entry, not the stash
        assert run(repo, "push")[0] == 0
        assert run(repo, "pop")[0] == 0
    rc, out, err = run(repo, "stash", "list", "--json")
    entries = json.loads(out)
    assert [f["file"] for f in entries[0]["files"]] == ["keep.txt"]
    assert run(repo, "push", "-a")[0] == 0
    rc, out, err = run(repo, "stash", "apply")
    assert rc == 0, err
    assert (repo / "tree/keep.txt").read_text() == "my work\n"


def test_undo_of_a_finished_rebase_refuses_over_later_edits(tmp_path: Path, run: Runner) -> None:
    repo = repo_at(tmp_path)
    assert run(repo, "push", "-a")[0] == 0
    assert run(repo, "rebase", "--onto", "../v2")[0] == 0
    (repo / "tree/keep.txt").write_text("after the rebase\n")
    rc, out, err = run(repo, "undo")
    assert rc == 1 and "keep.txt" in err
    assert (repo / "tree/keep.txt").read_text() == "after the rebase\n"
    rc, out, err = run(repo, "undo", "-f")
    assert rc == 0, err
    rc, out, err = run(repo, "stash", "show")
    assert rc == 0 and "keep.txt: edited outside any patch" in out
    rc, out, err = run(repo, "stash", "show", "-p")
    assert "+after the rebase" in out


def test_forced_rebase_and_replace_stash_the_work(tmp_path: Path, run: Runner) -> None:
    repo = repo_at(tmp_path)
    assert run(repo, "push", "-a")[0] == 0
    (repo / "tree/notes.txt").write_text("mine\n")
    assert run(repo, "rebase", "--onto", "../v2", "--force")[0] == 0
    rc, out, err = run(repo, "stash", "list", "--json")
    assert json.loads(out)[0]["files"][0]["file"] == "notes.txt"
    (repo / "tree/keep.txt").write_text("edit\n")
    (repo / "f5quilt.yaml").write_text((repo / "f5quilt.yaml").read_text().replace("../v2", "../v1"))
    rc, out, err = run(repo, "upstream", "fetch", "--replace")
    assert rc == 1 and "keep.txt" in err
    rc, out, err = run(repo, "upstream", "fetch", "--replace", "--force")
    assert rc == 0, err
    assert (repo / "tree/keep.txt").read_text() == "k\n"
    entries = json.loads(run(repo, "stash", "list", "--json")[1])
    assert [e["id"] for e in entries] == [1, 2]
    assert run(repo, "stash", "drop", "2")[0] == 0
    assert [e["id"] for e in json.loads(run(repo, "stash", "list", "--json")[1])] == [1]


def test_small_keep_never_prunes_the_undone_entry(tmp_path: Path, run: Runner) -> None:
    """keep: 1 used to prune the entry undo had just undone; redo then redid an older command."""
    repo = repo_at(tmp_path, keep=1)
    assert run(repo, "push", "-a")[0] == 0
    header = subprocess.run([sys.executable, "-m", "f5quilt", "header", "-a", "pm.diff"], cwd=repo,
                            input="why this patch\n", text=True, capture_output=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert header.returncode == 0, header.stderr
    text = (repo / "patches/pm.diff").read_text()
    assert "why this patch" in text
    assert run(repo, "undo")[0] == 0
    assert "why this patch" not in (repo / "patches/pm.diff").read_text()
    rc, out, err = run(repo, "redo")
    assert rc == 0, err
    assert (repo / "patches/pm.diff").read_text() == text
    assert "header" in out


def test_log_entries_beyond_keep_go_once_redo_cannot_reach_them(tmp_path: Path, run: Runner) -> None:
    repo = repo_at(tmp_path, keep=2)
    for _ in range(3):
        assert run(repo, "push")[0] == 0
        assert run(repo, "pop")[0] == 0
    assert len(json.loads(run(repo, "log", "--json")[1])) == 2


def test_add_over_unrefreshed_edits_of_a_lower_patch_refuses(tmp_path: Path, run: Runner) -> None:
    """add used to copy the edited file into the new patch's backup: status went quiet and a
    later rebase ended, exit 0, without the edit."""
    repo = repo_at(tmp_path)
    assert run(repo, "push", "-a")[0] == 0
    m = repo / "tree/m.py"
    m.write_text(m.read_text() + "unrefreshed\n")
    assert run(repo, "new", "second.diff")[0] == 0
    rc, out, err = run(repo, "add", "tree/m.py")
    assert rc == 1 and "changes not refreshed into patch patches/pm.diff" in err
    assert run(repo, "files")[1] == ""  # nothing added
    rc, out, err = run(repo, "status", "--json")
    assert "m.py" in out  # still flagged
    rc, out, err = run(repo, "rebase", "--onto", "../v2")
    assert rc == 1 and "m.py" in err


def test_edit_before_add_goes_into_the_patch(tmp_path: Path, run: Runner) -> None:
    """An edit made before `add` was invisible to status (the backup held it) and
    `fetch --replace` did not refuse; now the backup is pristine and refresh records the edit."""
    repo = repo_at(tmp_path)
    assert run(repo, "push", "-a")[0] == 0
    (repo / "tree/keep.txt").write_text("edited first\n")
    assert run(repo, "new", "second.diff")[0] == 0
    rc, out, err = run(repo, "add", "tree/keep.txt")
    assert rc == 0, err
    assert "edited before it was added" in out + err
    rc, out, err = run(repo, "status", "--json")
    assert "keep.txt" in out
    rc, out, err = run(repo, "upstream", "fetch", "--replace")
    assert rc == 1 and "keep.txt" in err
    assert run(repo, "refresh")[0] == 0
    assert "+edited first" in (repo / "patches/second.diff").read_text()
    assert run(repo, "pop")[0] == 0
    assert (repo / "tree/keep.txt").read_text() == "k\n"


# -- an editor saving while a command runs -------------------------------------
def _count_ticks(monkeypatch: "pytest.MonkeyPatch", action: "Callable[[], object]") -> int:
    from f5quilt.repo import transaction
    ticks = [0]

    def count() -> None:
        ticks[0] += 1
    monkeypatch.setattr(transaction, "_tick", count)
    action()
    return ticks[0]


@pytest.mark.parametrize("argv,edited", [(("pop", "--refresh"), True), (("pop",), False),
                                          (("push",), False), (("refresh",), True)])
@pytest.mark.parametrize("save", ["in-place", "rename"])
def test_a_save_during_a_command_stays_in_the_tree(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch,
                                                   argv: Tuple[str, ...], edited: bool, save: str) -> None:
    """Issue 18: 57 of 320 in-place saves made while a command ran ended up only in the log
    (pop --refresh 40 of 70). An editor saves m.py at every file-system step of the command in
    turn; each time the saved bytes must be in the tree or a patch afterwards."""
    from f5quilt.repo import transaction

    def fresh(n: int) -> Path:
        repo = repo_at(tmp_path / str(n))
        assert run(repo, "push", "-a")[0] == 0
        if argv[0] == "push":
            assert run(repo, "pop")[0] == 0
        if edited:
            m = repo / "tree/m.py"
            m.write_text(m.read_text() + "unrefreshed\n")
        return repo

    probe = fresh(0)
    total = _count_ticks(monkeypatch, lambda: run(probe, *argv))
    assert total > 5
    for n in range(1, total + 1):
        repo = fresh(n)
        target = repo / "tree/m.py"
        marker = f"# saved at step {n}\n"
        ticks = [0]

        def editor() -> None:
            ticks[0] += 1
            if ticks[0] != n:
                return
            if save == "in-place":
                with open(target, "a") as fh:
                    fh.write(marker)
            else:
                tmp = target.with_name(".m.py.swp")
                tmp.write_text(target.read_text() + marker)
                os.replace(tmp, target)
        monkeypatch.setattr(transaction, "_tick", editor)
        rc, out, err = run(repo, *argv)
        monkeypatch.setattr(transaction, "_tick", lambda: None)
        homes = [target.read_text() if target.exists() else ""] + \
            [p.read_text() for p in (repo / "patches").glob("*.diff")]
        assert any(marker.strip() in h for h in homes), (n, rc, err)
        assert rc in (0, 1) and "Traceback" not in err, (n, err)  # done, or refused in one line
        assert run(repo, "status")[0] in (0, 1)  # the next command finds a sound state


def test_push_over_an_edit_outside_any_patch_refuses(tmp_path: Path, run: Runner) -> None:
    """The push used to bury the edit in the patch's backup: status went quiet and
    `fetch --replace` rebuilt the tree without it, exit 0."""
    repo = repo_at(tmp_path)
    assert run(repo, "push", "-a")[0] == 0
    assert run(repo, "pop")[0] == 0
    m = repo / "tree/m.py"
    m.write_text(m.read_text() + "typed\n")
    rc, out, err = run(repo, "push")
    assert rc == 1 and "m.py has edits made outside any patch" in err
    assert m.read_text().endswith("typed\n") and run(repo, "applied")[0] == 2
    # forced, the backup holds the edit: every command that would lose it says so
    assert run(repo, "push", "-f")[0] == 0
    rc, out, err = run(repo, "status")
    assert "m.py: edited outside any patch before patches/pm.diff was pushed" in out + err
    rc, out, err = run(repo, "upstream", "fetch", "--replace")
    assert rc == 1 and "m.py" in err
    assert m.read_text().endswith("typed\n")


def test_pop_refuses_a_damaged_backup(tmp_path: Path, run: Runner) -> None:
    """A .pc/ backup truncated to half gave a silent `pop -a` whose tree differed from pristine."""
    repo = repo_at(tmp_path)
    assert run(repo, "push", "-a")[0] == 0
    backup = repo / "tree/.pc/pm.diff/m.py"
    data = backup.read_bytes()
    os.unlink(backup)  # its own inode: the tree's file is not a link to it after push
    backup.write_bytes(data[:len(data) // 2])
    pushed = (repo / "tree/m.py").read_bytes()
    rc, out, err = run(repo, "pop", "-a")
    assert rc == 1 and "tree/.pc/pm.diff/m.py: the backup changed since push made it" in err, err
    assert (repo / "tree/m.py").read_bytes() == pushed and run(repo, "applied")[0] == 0
    rc, out, err = run(repo, "status")
    assert "m.py" in out
