"""Issue 18, one path gate: state that f5quilt did not write (a journal or log shipped in a
tarball, a hand edit, a fuzzed field) is checked, field by field, before anything runs it;
a bad journal is set aside with one line and commands go on; nothing is written or deleted
through a symlink leading out of the project."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import ROOT, make_series, upper_hunk, numbered, write_tree


def cli(cwd: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, "-m", "f5quilt", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1"))


def quilt_tree(root: Path) -> Path:
    write_tree(root, {"f.txt": numbered(10)})
    make_series(root, {"p1.diff": upper_hunk("f.txt", 3)})
    return root


def ship_journal(t: Path, entries: list, header: Any = None) -> Path:
    txn = t / ".pc/.f5quilt/txn"
    (txn / "objects").mkdir(parents=True)
    head = header if header is not None else {"command": "shipped", "time": 0, "made": [], "roots": {}}
    (txn / "journal").write_text("\n".join(json.dumps(x) for x in [head, *entries]) + "\n")
    return txn


def test_a_shipped_journal_through_a_symlink_touches_nothing_outside(tmp_path: Path) -> None:
    """A tarball shipping .pc/.f5quilt/txn/journal and a symlink made the next command, even
    `series`, delete and create files outside the project."""
    canary = tmp_path / "canary"
    write_tree(canary, {"keep.txt": "precious\n"})
    t = quilt_tree(tmp_path / "t")
    (t / ".pc").mkdir()
    (t / "out").symlink_to(canary)
    (t / ".pc/.f5quilt").mkdir()
    txn = ship_journal(t, [{"op": "file", "root": "tree", "rel": "out/keep.txt", "mode": None, "before": None},
                           {"op": "file", "root": "tree", "rel": "out/new.txt", "mode": 420, "before": "b9"}])
    (txn / "objects/b9").write_text("planted\n")
    r = cli(t, "series")
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert "set aside" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert sorted(os.listdir(canary)) == ["keep.txt"] and (canary / "keep.txt").read_text() == "precious\n"
    assert not txn.exists() and any((t / ".pc/.f5quilt/quarantine").iterdir())
    assert cli(t, "push").returncode == 0  # commands go on


def test_made_folders_outside_the_project_are_never_removed(tmp_path: Path) -> None:
    empty = tmp_path / "empty-outside"
    empty.mkdir()
    t = quilt_tree(tmp_path / "t")
    (t / ".pc/.f5quilt").mkdir(parents=True)
    ship_journal(t, [], header={"command": "x", "time": 0, "made": [str(empty)], "roots": {}})
    assert cli(t, "series").returncode == 0
    assert empty.is_dir()


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 1 << 40), st.text(max_size=8),
                   st.lists(st.text(max_size=4), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                  max_size=2))
FIELDS = ["op", "root", "rel", "mode", "mode_after", "before", "after", "src", "dst", "slot"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6), min_size=1, max_size=3),
       st.sampled_from(["file", "mkdir", "rmdir", "rename", "adopt", "discard", "scratch"]))
def test_fuzzed_journal_entries_are_set_aside_never_a_traceback(tmp_path_factory: pytest.TempPathFactory,
                                                                 entries: list, op: str) -> None:
    from f5quilt.cli import main
    root = tmp_path_factory.mktemp("fuzz")
    canary = root / "canary"
    write_tree(canary, {"keep.txt": "precious\n"})
    t = quilt_tree(root / "t")
    (t / ".pc/.f5quilt").mkdir(parents=True)
    (t / "out").symlink_to(canary)
    for e in entries:
        e.setdefault("op", op)
    ship_journal(t, entries)
    cwd = os.getcwd()
    os.chdir(t)
    try:
        rc = main(["series"])
    finally:
        os.chdir(cwd)
    assert rc in (0, 1)  # never 4, an internal error
    assert sorted(os.listdir(canary)) == ["keep.txt"] and (canary / "keep.txt").read_text() == "precious\n"


def _log_entry(t: Path, seq: int, manifest: Dict[str, Any]) -> None:
    d = t / f".pc/.f5quilt/log/{seq:08d}"
    (d / "objects").mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("manifest", [
    {"command": "x", "time": "soon", "kind": "do", "targets": [], "ops": []},
    {"command": "x", "time": 0, "kind": "do", "targets": ["1"], "ops": []},
    {"command": "x", "time": 0, "kind": "sideways", "targets": [], "ops": []},
    {"command": "x", "time": 0, "kind": "do", "targets": [],
     "ops": [{"op": "file", "root": 7, "rel": "f.txt", "before": None, "after": None}]},
    {"command": "x", "time": 0, "kind": "do", "targets": [],
     "ops": [{"op": "file", "root": "tree", "rel": "f.txt", "mode": "rw", "before": None, "after": None}]},
])
def test_a_malformed_log_entry_is_set_aside_and_undo_goes_on(tmp_path: Path, manifest: Dict[str, Any]) -> None:
    t = quilt_tree(tmp_path / "t")
    assert cli(t, "push").returncode == 0
    _log_entry(t, 99, manifest)
    r = cli(t, "log")
    assert r.returncode == 0 and "set aside" in r.stderr and "Traceback" not in r.stderr
    r = cli(t, "undo")
    assert r.returncode == 0, r.stderr
    assert (t / "f.txt").read_text() == numbered(10)


def test_a_kill_inside_rollbacks_rmtree_leaves_no_dead_folder(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The rollback of a fetch renamed the tree to .dead-tree beside it; killed inside the
    rmtree, that folder stayed for good. Now it is made in the state folder, which repair
    empties."""
    from f5quilt.repo import transaction
    write_tree(tmp_path / "v1", {"m.py": numbered(30)})
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    make_series(repo, {"pm.diff": upper_hunk("m.py", 10)})
    state = repo / ".f5quilt"
    state.mkdir()
    (repo / "tree").mkdir()
    (repo / "tree/m.py").write_text(numbered(30))
    (state / "txn/objects").mkdir(parents=True)
    (state / "txn/journal").write_text(json.dumps({"command": "push -a", "time": 0, "made": [],
                                                   "roots": {}}) + "\n"
                                       + json.dumps({"op": "adopt", "root": "tree", "rel": "."}) + "\n")
    real = shutil.rmtree
    calls = []

    def killed(path: Any, *a: Any, **k: Any) -> None:
        if ".dead-" in str(path) and Path(path).exists() and not calls:
            calls.append(path)
            raise SystemExit(137)  # the process dies with the dead folder half removed
        real(path, *a, **k)
    monkeypatch.setattr(transaction.shutil, "rmtree", killed)
    from f5quilt.cli import main
    monkeypatch.chdir(repo)
    with pytest.raises(SystemExit):
        main(["series"])
    monkeypatch.setattr(transaction.shutil, "rmtree", real)
    assert calls and main(["series"]) == 0
    leftovers = [p for p in tmp_path.rglob(".dead-*")]
    assert leftovers == [] and not (repo / "tree").exists()


@pytest.mark.parametrize("settings_text,line", [
    ("tree: ../elsewhere\npatches: patches\n", 1),
    ("tree: tree\npatches: /tmp\n", 2),
    ("tree: tree\npatches: ../p\n", 2),
])
def test_settings_folders_must_lie_inside_the_project(tmp_path: Path, settings_text: str, line: int) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": settings_text, "tree/f.txt": "x\n", "patches/series": ""})
    (tmp_path / "elsewhere").mkdir()
    r = cli(repo, "series")
    assert r.returncode == 1 and f"f5quilt.yaml:{line}:" in r.stderr and "leads outside" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_state_folder_symlinked_outside_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\n", "tree/f.txt": "x\n", "patches/series": ""})
    (tmp_path / "outside").mkdir()
    (repo / ".f5quilt").symlink_to(tmp_path / "outside")
    r = cli(repo, "new", "x.diff")
    assert r.returncode == 1 and ".f5quilt (a symlink) leads outside" in r.stderr
    assert list((tmp_path / "outside").iterdir()) == []


def test_a_moved_project_keeps_working(tmp_path: Path) -> None:
    """tree-pin.json stored the upstream's absolute path: after a move every command called the
    tree stale and `fetch --replace`, the suggested fix, failed too."""
    write_tree(tmp_path / "a/v1", {"m.py": numbered(30)})
    repo = tmp_path / "a/repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    make_series(repo, {"pm.diff": upper_hunk("m.py", 10)})
    assert cli(repo, "push", "-a").returncode == 0
    assert not os.path.isabs(json.loads((repo / ".f5quilt/tree-pin.json").read_text())["pin"]["spec"])
    shutil.move(str(tmp_path / "a"), str(tmp_path / "b"))
    moved = tmp_path / "b/repo"
    r = cli(moved, "pop")
    assert r.returncode == 0 and "stale" not in r.stderr and "holds" not in r.stderr, r.stderr
    assert cli(moved, "push").returncode == 0
    # an old record with an absolute path to where the project was: not judged, and replace works
    old = json.loads((moved / ".f5quilt/tree-pin.json").read_text())
    old["pin"] = {"kind": "path", "spec": str(tmp_path / "a/v1")}
    (moved / ".f5quilt/tree-pin.json").write_text(json.dumps(old))
    r = cli(moved, "status")
    assert r.returncode == 0 and "holds" not in r.stderr, r.stderr
    r = cli(moved, "upstream", "fetch", "--replace")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("argv", [("new", "series"), ("new", ".f5quilt"), ("new", "patches/series")])
def test_a_patch_may_not_be_named_like_a_state_file(tmp_path: Path, argv: tuple) -> None:
    """A patch named `series` was the series file."""
    t = quilt_tree(tmp_path / "t")
    before = (t / "patches/series").read_text()
    r = cli(t, *argv)
    assert r.returncode == 1 and "name of a state file" in r.stderr, r.stderr
    assert (t / "patches/series").read_text() == before


def test_rename_and_import_refuse_state_file_names(tmp_path: Path) -> None:
    t = quilt_tree(tmp_path / "t")
    assert cli(t, "push").returncode == 0
    r = cli(t, "rename", "series")
    assert r.returncode == 1 and "name of a state file" in r.stderr
    (tmp_path / "x.diff").write_text(upper_hunk("f.txt", 5))
    r = cli(t, "import", "-P", "series", str(tmp_path / "x.diff"))
    assert r.returncode == 1 and "name of a state file" in r.stderr
    assert (t / "patches/series").read_text() == "p1.diff\n"


# -- tracebacks the review found, each now one line ---------------------------------------------
def test_a_malformed_git_mode_is_one_line(tmp_path: Path) -> None:
    t = quilt_tree(tmp_path / "t")
    (t / "patches/p1.diff").write_text("diff --git a/f.txt b/f.txt\nold mode 100644\nnew mode 100855\n"
                                       + upper_hunk("f.txt", 3))
    r = cli(t, "push")
    assert r.returncode == 1 and "malformed file mode '100855'" in r.stderr and "Traceback" not in r.stderr


def test_a_huge_source_date_epoch_is_one_line(tmp_path: Path) -> None:
    t = quilt_tree(tmp_path / "t")
    assert cli(t, "push").returncode == 0
    r = subprocess.run([sys.executable, "-m", "f5quilt", "header", "--git", "--author", "A <a@b.c>"], cwd=t,
                       capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT), SOURCE_DATE_EPOCH="9" * 30))
    assert r.returncode == 1 and "SOURCE_DATE_EPOCH" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_symlinks_in_a_release_are_carried_and_compared_as_links(tmp_path: Path) -> None:
    """One symlink in a vendored release made status, check --tree, rebase and fetch --replace
    fail ("refusing path: it is a symlink")."""
    for v, extra in (("v1", ""), ("v2", "head\n")):
        write_tree(tmp_path / v, {"m.py": numbered(30) + extra, "sub/a.txt": "x\n"})
        (tmp_path / v / "link.py").symlink_to("m.py")
        (tmp_path / v / "subdir").symlink_to("sub")
        (tmp_path / v / "dangling").symlink_to("nowhere")
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    make_series(repo, {"pm.diff": upper_hunk("m.py", 10)})
    assert cli(repo, "push", "-a").returncode == 0
    assert os.readlink(repo / "tree/dangling") == "nowhere"
    for argv in (("status",), ("check", "--tree")):
        r = cli(repo, *argv)
        assert r.returncode == 0 and "refusing" not in r.stderr and "attention" not in r.stdout, (argv, r.stdout + r.stderr)
    (repo / "tree/dangling").unlink()
    (repo / "tree/dangling").symlink_to("m.py")  # retargeted by hand: work outside any patch
    r = cli(repo, "status")
    assert "dangling: a symlink retargeted outside any patch (to m.py)" in r.stdout
    assert cli(repo, "upstream", "fetch", "--replace").returncode == 1
    (repo / "tree/dangling").unlink()
    (repo / "tree/dangling").symlink_to("nowhere")
    r = cli(repo, "upstream", "fetch", "--replace")
    assert r.returncode == 0, r.stderr
    r = cli(repo, "rebase", "--onto", "../v2")
    assert r.returncode == 0, r.stderr
    assert os.readlink(repo / "tree/subdir") == "sub" and os.readlink(repo / "tree/link.py") == "m.py"
