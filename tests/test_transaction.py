"""The transaction layer under real SIGKILLs, and undo/redo/log across every writing command.

Kill-point harness: each writing command runs as a real process with
F5QUILT_KILL_AT=N, which makes it SIGKILL itself just before its Nth
file-system change (journal lines, before-images, tree and state writes,
the commit), for every N until the command finishes. After each kill the
next command a user would run must roll it back: the tree, .pc/, the
patches and the settings byte for byte (content and mode of every file)
as before. The recovering command is killed in turn too.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from helpers import (BETA_HUNK, GREEK, ROOT, Runner, canary_intact, created_hunk, make_series, numbered,
                     upper_hunk, write_tree)

BASE = {"f.txt": numbered(10), "g.txt": GREEK, "h.txt": "doomed\n", "empty.txt": ""}
P1 = "Description: first\n\n" + upper_hunk("f.txt", 3) + """--- a/empty.txt
+++ b/empty.txt
@@ -0,0 +1 @@
+filled
"""
P2 = BETA_HUNK + created_hunk("sub/dir/new.txt") + """--- a/h.txt
+++ /dev/null
@@ -1 +0,0 @@
-doomed
"""
EXT = upper_hunk("f.txt", 9)


def cli(cwd: Path, *args: str, kill_at: int = 0, stdin: str = "",
        ticks: Optional[Path] = None) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ, PYTHONPATH=str(ROOT), F5QUILT_KILL_AT=str(kill_at), NO_COLOR="1")
    if ticks is not None:
        env["F5QUILT_TICKS_FILE"] = str(ticks)
    return subprocess.run([sys.executable, "-m", "f5quilt", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True)


QUILT_META = {".pc/.version", ".pc/.quilt_patches", ".pc/.quilt_series"}


def state_of(root: Path, quilt_meta: bool = True, folders: bool = False) -> Dict[str, Tuple[str, int]]:
    """Hash and mode of every file, f5quilt's own log excepted (it records the commands).
    ``quilt_meta=False``: without .pc/'s format files, which stay once f5quilt's log lives in
    .pc/ (GNU quilt refuses a .pc/ without them). ``folders``: every folder too (an empty
    one a rollback left counts), f5quilt's state folder excepted."""
    out: Dict[str, Tuple[str, int]] = {}
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir.endswith(".f5quilt") or "/.f5quilt" in "/" + rel_dir:
            dirs[:] = [d for d in dirs if d not in ("log",)]
        elif folders and rel_dir != ".":
            out[Path(rel_dir).as_posix() + "/"] = ("dir", stat.S_IMODE(os.lstat(dirpath).st_mode))
        for name in files:
            full = Path(dirpath) / name
            st = full.lstat()
            if not quilt_meta and full.relative_to(root).as_posix() in QUILT_META:
                continue
            out[full.relative_to(root).as_posix()] = (hashlib.sha1(full.read_bytes()).hexdigest(),
                                                      stat.S_IMODE(st.st_mode))
    return out


_state_of = state_of


def quilt_tree(root: Path) -> Path:
    write_tree(root, BASE)
    make_series(root, {"p1.diff": P1, "p2.diff": P2})
    (root / "ext.diff").write_text(EXT)
    return root


def ok(r: "subprocess.CompletedProcess[str]") -> None:
    assert r.returncode in (0, 2), r.stdout + r.stderr


Setup = Callable[[Path], None]


def _applied_all(t: Path) -> None:
    ok(cli(t, "push", "-a"))


def _edited_top(t: Path) -> None:
    ok(cli(t, "push", "-a"))
    (t / "g.txt").write_text("alpha\nBETA\ngamma\nedited\n")


def _recorded(t: Path) -> None:
    """Two rerere recordings of p2.diff and one of p1.diff, as refresh writes them."""
    ok(cli(t, "push", "-a"))
    d = t / ".pc/.f5quilt/rerere"
    d.mkdir(parents=True, exist_ok=True)
    for n, patch in enumerate(("p2.diff", "p2.diff", "p1.diff")):
        key = hashlib.sha256(str(n).encode()).hexdigest()
        (d / f"{key}.json").write_text(f'{{"patch": "{patch}", "file": "f.txt", "resolution": ""}}\n')


def _undone(t: Path) -> None:
    ok(cli(t, "push", "-a"))
    ok(cli(t, "undo"))


def _offset_series(t: Path) -> None:
    """p1.diff now applies two lines further down: push --refresh rewrites where it sits."""
    (t / "f.txt").write_text("head 1\nhead 2\n" + BASE["f.txt"])


def _guarded(t: Path) -> None:
    ok(cli(t, "guard", "p2.diff", "+cuda"))
    ok(cli(t, "select", "cpu"))


def _stops_after_a_savepoint(t: Path) -> None:
    """p3.diff changes f.txt again, then stops: its reject file is a symlink push -f will not
    write through. push -a -f keeps p1 and p2 and rolls p3 back to the savepoint after p2,
    f.txt's first change by p3 included (tests/test_savepoint.py): killed in that rollback too."""
    (t / "patches/p3.diff").write_text(upper_hunk("f.txt", 7)
                                           + "@@ -1,3 +1,3 @@\n line 1\n-no such line\n+LINE 2\n line 3\n")
    (t / "patches/series").write_text("p1.diff\np2.diff\np3.diff\n")
    (t / "f.txt.rej").symlink_to("ext.diff")


SCENARIOS: Dict[str, Tuple[Setup, List[str], str]] = {
    "push -a -f (rolls back to a savepoint)": (_stops_after_a_savepoint, ["push", "-a", "-f"], ""),
    "push -a": (lambda t: None, ["push", "-a"], ""),
    "pop -a": (_applied_all, ["pop", "-a"], ""),
    "refresh": (_edited_top, ["refresh"], ""),
    "new": (_applied_all, ["new", "p3.diff"], ""),
    "add": (_applied_all, ["add", "f.txt"], ""),
    "remove": (_applied_all, ["remove", "g.txt"], ""),
    "revert": (_edited_top, ["revert", "g.txt"], ""),
    "delete -r": (_applied_all, ["delete", "-r", "p2.diff"], ""),
    "rename": (_applied_all, ["rename", "renamed.diff"], ""),
    "import": (lambda t: None, ["import", "ext.diff"], ""),
    "fold": (_applied_all, ["fold"], EXT),
    "header -r": (_applied_all, ["header", "-r"], "New header\n"),
    "undo": (_applied_all, ["undo"], ""),
    "redo": (_undone, ["redo"], ""),
    "goto (pops)": (_applied_all, ["goto", "p1.diff"], ""),
    "goto (pushes)": (lambda t: None, ["goto", "p2.diff"], ""),
    "guard": (_applied_all, ["guard", "p2.diff", "+cuda", "-cpu"], ""),
    "select": (_guarded, ["select", "cuda"], ""),
    "header --git": (_applied_all, ["header", "--git", "--author", "A U <a@example.org>", "p1.diff"], ""),
    "new --author": (_applied_all, ["new", "--author", "A U <a@example.org>", "p3.diff"], ""),
    "rerere forget": (_recorded, ["rerere", "forget", "p2.diff"], ""),
    "fork": (_applied_all, ["fork"], ""),
    "snapshot": (_applied_all, ["snapshot"], ""),
    "refresh -z": (_edited_top, ["refresh", "-z"], ""),
    "import -f -d a": (_applied_all, ["import", "-f", "-d", "a", "ext.diff"], ""),
    "push -a --refresh": (_offset_series, ["push", "-a", "--refresh"], ""),
    "pop -a --refresh": (_edited_top, ["pop", "-a", "--refresh"], ""),
}


EVERY = os.environ.get("F5QUILT_KILL_EVERY") == "1"


def points_to_try(total: int) -> List[int]:
    """Every point with F5QUILT_KILL_EVERY=1; else the first and last six and ten spread between."""
    if EVERY or total <= 22:
        return list(range(1, total + 1))
    middle = range(7, total - 5)
    step = max(1, len(middle) // 10)
    return sorted(set(range(1, 7)) | set(middle[::step]) | set(range(total - 5, total + 1)))


def kill_every_point(template: Path, work: Path, argv: List[str], stdin: str,
                     next_cmd: Tuple[str, ...] = ("series",), tag: str = "", folders: bool = False) -> int:
    """Kill ``argv`` before each of its file-system changes; each time the next command
    must restore the state before it exactly (``folders``: empty folders included).
    Returns the number of points tried."""
    def state_of(root: Path) -> Dict[str, Tuple[str, int]]:
        return _state_of(root, folders=folders)
    ref = work / f"{tag}ref"
    shutil.copytree(template, ref, symlinks=True)
    before = state_of(ref)
    ticks = work / f"{tag}ticks"
    r = cli(ref, *argv, stdin=stdin, ticks=ticks)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    after = state_of(ref)
    assert after != before, f"{argv} changed nothing: {r.stderr}"
    total = int(ticks.read_text())
    tried = points_to_try(total)
    for n in tried:
        t = work / f"{tag}k{n}"
        shutil.copytree(template, t, symlinks=True)
        r = cli(t, *argv, kill_at=n, stdin=stdin)
        assert r.returncode == -9, f"kill point {n} of {total} not reached: {r.stderr}"
        if n % 4 == 2:
            # kill the recovering command too, at its first changes
            for m in (1, 2, 3):
                cli(t, *next_cmd, kill_at=m)
        r2 = cli(t, *next_cmd)
        assert state_of(t) == before, f"kill point {n}: not restored ({r2.stderr})"
        if n % 5 == 0:  # and the command then runs as if never interrupted
            r3 = cli(t, *argv, stdin=stdin)
            assert state_of(t) == after, f"kill point {n}: rerun differs ({r3.stderr})"
        shutil.rmtree(t)
    # one past the last change: the command finishes as if never watched
    t = work / f"{tag}done"
    shutil.copytree(template, t, symlinks=True)
    cli(t, *argv, kill_at=total + 1, stdin=stdin)
    assert state_of(t) == after
    return total


@pytest.mark.kill
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_kill_at_every_point_is_rolled_back(name: str, tmp_path: Path) -> None:
    setup, argv, stdin = SCENARIOS[name]
    template = quilt_tree(tmp_path / "template")
    setup(template)
    points = kill_every_point(template, tmp_path, argv, stdin)
    assert points > 3


def settings_repo(root: Path, v1: Dict[str, str]) -> Path:
    write_tree(root / "v1", v1)
    write_tree(root / "repo", {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    return root / "repo"


V1 = {"m.py": numbered(30), "keep.txt": "k\n"}
PM = upper_hunk("m.py", 10)


@pytest.mark.kill
def test_kill_rebase_and_fetch_at_every_point(tmp_path: Path) -> None:
    repo = settings_repo(tmp_path, V1)
    make_series(repo, {"pm.diff": PM})
    write_tree(tmp_path / "v2", {"m.py": "head\n" + V1["m.py"], "keep.txt": "k\n"})
    # the first push fetches the tree (upstream fetch as a transaction)
    assert kill_every_point(repo, tmp_path, ["push", "-a"], "", tag="fetch-") > 3
    ok(cli(repo, "push", "-a"))
    points = kill_every_point(repo, tmp_path, ["rebase", "--onto", "../v2"], "", ("status",), tag="rebase-")
    assert points > 10


def test_undo_restores_each_command_and_redo_replays(tmp_path: Path) -> None:
    """Every writing command, then undo all the way back, then redo all the way forward."""
    t = quilt_tree(tmp_path / "t")
    states = [state_of(t, quilt_meta=False)]
    steps: List[Tuple[List[str], str]] = [
        (["push"], ""), (["push"], ""), (["fold"], EXT), (["refresh"], ""),
        (["new", "p3.diff"], ""), (["header", "-r"], "hdr\n"), (["rename", "p3b.diff"], ""),
        (["pop"], ""), (["delete", "-r", "p3b.diff"], ""), (["import", "ext.diff"], ""),
        (["remove", "f.txt"], ""),
    ]
    for argv, stdin in steps:
        r = cli(t, *argv, stdin=stdin)
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
        states.append(state_of(t, quilt_meta=False))
    log = cli(t, "log", "--json")
    import json
    entries = json.loads(log.stdout)
    assert [e["command"].split()[0] for e in entries] == [a[0][0] for a in steps]
    for i in range(len(steps), 0, -1):
        r = cli(t, "undo")
        assert r.returncode == 0, (i, r.stderr)
        assert state_of(t, quilt_meta=False) == states[i - 1], f"undo of {steps[i - 1][0]}"
    assert cli(t, "undo").returncode == 2  # nothing left
    for i in range(1, len(steps) + 1):
        r = cli(t, "redo")
        assert r.returncode == 0, (i, r.stderr)
        assert state_of(t, quilt_meta=False) == states[i], f"redo of {steps[i - 1][0]}"
    assert cli(t, "redo").returncode == 2


def test_undo_refuses_to_discard_unrecorded_edits(tmp_path: Path, run: Runner) -> None:
    t = quilt_tree(tmp_path / "t")
    assert run(t, "push", "-a")[0] == 0
    (t / "g.txt").write_text("mine\n")
    rc, out, err = run(t, "undo")
    assert rc == 1 and "g.txt has changes made after `push -a`" in err
    assert (t / "g.txt").read_text() == "mine\n"
    # undo of a refresh keeps the tree's edit and restores the old patch file
    assert run(t, "refresh")[0] == 0
    assert "mine" in (t / "patches/p2.diff").read_text()
    assert run(t, "undo")[0] == 0
    assert (t / "patches/p2.diff").read_text() == P2 and (t / "g.txt").read_text() == "mine\n"


def test_undo_of_delete_r_brings_the_patch_file_back(tmp_path: Path, run: Runner) -> None:
    t = quilt_tree(tmp_path / "t")
    assert run(t, "delete", "-r", "p2.diff")[0] == 0
    assert not (t / "patches/p2.diff").exists()
    assert run(t, "undo")[0] == 0
    assert (t / "patches/p2.diff").read_text() == P2
    assert (t / "patches/series").read_text() == "p1.diff\np2.diff\n"


def test_log_is_bounded_by_the_setting(tmp_path: Path) -> None:
    repo = settings_repo(tmp_path, V1)
    (repo / "f5quilt.yaml").write_text((repo / "f5quilt.yaml").read_text() + "log: {keep: 3}\n")
    make_series(repo, {"pm.diff": PM})
    for _ in range(4):
        ok(cli(repo, "push"))
        ok(cli(repo, "pop"))
    import json
    entries = json.loads(cli(repo, "log", "--json").stdout)
    assert len(entries) == 3
    assert len(list((repo / ".f5quilt/log").iterdir())) == 3


def test_empty_file_survives_push_and_pop(tmp_path: Path, run: Runner) -> None:
    t = quilt_tree(tmp_path / "t")
    assert run(t, "push")[0] == 0
    assert (t / "empty.txt").read_text() == "filled\n"
    assert (t / ".pc/p1.diff/empty.txt").read_bytes() == b""  # quilt's format unchanged
    assert run(t, "pop")[0] == 0
    assert (t / "empty.txt").exists() and (t / "empty.txt").read_bytes() == b""


# -- rebase never loses work -------------------------------------------
V2 = {"m.py": "head\n" + V1["m.py"], "keep.txt": "k\n"}


def _rebase_repo(tmp_path: Path) -> Path:
    repo = settings_repo(tmp_path, V1)
    make_series(repo, {"pm.diff": PM})
    write_tree(tmp_path / "v2", V2)
    ok(cli(repo, "push", "-a"))
    return repo


@pytest.mark.parametrize("edit", ["outside", "unknown", "unrefreshed"])
def test_rebase_refuses_unrecorded_edits(tmp_path: Path, run: Runner, edit: str) -> None:
    repo = _rebase_repo(tmp_path)
    if edit == "outside":
        (repo / "tree/keep.txt").write_text("my edit\n")
    elif edit == "unknown":
        (repo / "tree/notes.txt").write_text("mine\n")
    else:
        (repo / "tree/m.py").write_text((repo / "tree/m.py").read_text() + "unrefreshed\n")
    before = state_of(repo)
    rc, out, err = run(repo, "rebase", "--onto", "../v2")
    assert rc == 1 and "rebase --onto" in err and "would discard 1 unrecorded change(s)" in err
    assert state_of(repo) == before
    # --force: it goes ahead, and undo brings everything back, the edit included
    rc, out, err = run(repo, "rebase", "--onto", "../v2", "--force")
    assert rc == 0, out + err
    assert "path: ../v2" in (repo / "f5quilt.yaml").read_text()
    rc, out, err = run(repo, "undo")
    assert rc == 0, out + err
    assert state_of(repo) == before


def test_undo_of_a_finished_rebase(tmp_path: Path, run: Runner) -> None:
    repo = _rebase_repo(tmp_path)
    before = state_of(repo)
    assert run(repo, "rebase", "--onto", "../v2")[0] == 0
    assert (repo / "tree/m.py").read_text().startswith("head\n")
    assert "@@ -8,7 +8,7 @@" in (repo / "patches/pm.diff").read_text()  # refreshed: line 10 is now 11
    rc, out, err = run(repo, "undo")
    assert rc == 0, err
    assert state_of(repo) == before
    rc, out, err = run(repo, "push")
    assert rc == 2  # all applied, on the old pin


def test_rebase_stops_when_the_result_does_not_verify(tmp_path: Path, run: Runner,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _rebase_repo(tmp_path)
    from f5quilt.ops.series import rebase as rb
    monkeypatch.setattr(rb, "verify_exact", lambda ws, up: ["patches/pm.diff: offset"])
    rc, out, err = run(repo, "rebase", "--onto", "../v2")
    assert rc == 1 and "does not apply exactly" in err
    assert "path: ../v1" in (repo / "f5quilt.yaml").read_text()  # pin kept
    assert (repo / ".f5quilt/rebase/old-tree/m.py").exists()  # old tree kept
    monkeypatch.undo()
    rc, out, err = run(repo, "rebase", "--continue")
    assert rc == 0, out + err
    assert "path: ../v2" in (repo / "f5quilt.yaml").read_text()


# -- state is input, never trusted --------------------------------------
@pytest.mark.parametrize("entry", [
    '{"op": "mkdir", "root": "tree", "rel": "../canary"}\n'
    '{"op": "file", "root": "tree", "rel": "../canary/precious", "before": null}\n',
    # a symlink shipped beside the journal: the path is plain, its parent leads out
    '{"op": "file", "root": "tree", "rel": "out/precious", "before": null}\n',
    '{"op": "adopt", "root": "tree", "rel": "out/x"}\n',
    # wrong types: each used to be a traceback in every command, since repair runs first
    '{"op": "file", "rel": "f.txt", "before": null}\n',
    '{"op": "file", "root": "tree", "rel": "f.txt", "mode": "rw", "before": null}\n',
    '{"op": "discard", "root": "tree", "rel": "f.txt"}\n',
    '{"op": "rename", "src": [1, "a"], "dst": ["tree", "b"]}\n',
    '[1, 2]\n{"op": "mkdir", "root": "tree", "rel": "x"}\n',
])
def test_bad_journal_is_quarantined_never_run(tmp_path: Path, canary: Path, entry: str) -> None:
    t = quilt_tree(tmp_path / "t")
    ok(cli(t, "push"))
    os.symlink(canary, t / "out")
    txn = t / ".pc/.f5quilt/txn"
    (txn / "objects").mkdir(parents=True)
    (txn / "journal").write_text('{"command": "x"}\n' + entry)
    before = state_of(t)
    r = cli(t, "series")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "set aside" in r.stderr, r.stderr
    assert r.stdout.split() == ["patches/p1.diff", "patches/p2.diff"]
    assert not txn.exists() and [q.name.startswith("txn-") for q in (t / ".pc/.f5quilt/quarantine").iterdir()] == [True]
    mine = [k for k in before if k.startswith(".pc/.f5quilt/")]
    assert {k: v for k, v in state_of(t).items() if k not in mine and "quarantine" not in k} == \
        {k: v for k, v in before.items() if k not in mine}
    canary_intact(canary)
    ok(cli(t, "push"))
    canary_intact(canary)


@pytest.mark.parametrize("content", ["../../canary/x\n", "/abs/x\n", "a\0b\n", "p1.diff\np1.diff\n"])
def test_applied_patches_names_are_validated(tmp_path: Path, canary: Path, content: str) -> None:
    t = quilt_tree(tmp_path / "t")
    ok(cli(t, "push"))
    (t / ".pc/applied-patches").write_bytes(content.encode())
    for cmd in (["pop", "-a", "-f"], ["push"], ["applied"], ["refresh"]):
        r = cli(t, *cmd)
        assert r.returncode == 1, (cmd, r.stderr)
        assert "applied-patches:" in r.stderr and "Traceback" not in r.stderr
    canary_intact(canary)


def test_symlinked_backup_dir_cannot_send_writes_out(tmp_path: Path, canary: Path) -> None:
    t = quilt_tree(tmp_path / "t")
    (t / ".pc").mkdir()
    os.symlink(canary, t / ".pc/p1.diff")
    before = state_of(t)
    r = cli(t, "push")
    assert r.returncode == 1 and "symlink" in r.stderr and "Traceback" not in r.stderr
    canary_intact(canary)
    assert state_of(t) == before


def test_upstream_state_is_never_materialized(tmp_path: Path, canary: Path) -> None:
    v1 = dict(V1)
    repo = settings_repo(tmp_path, v1)
    write_tree(tmp_path / "v1", {".pc/applied-patches": "x\n", ".pc/.f5quilt/txn/journal":
                                 '{"command": "x"}\n{"op": "file", "root": "tree", "rel": "../../canary/precious", '
                                 '"before": null}\n', ".f5quilt/x": "y\n"})
    make_series(repo, {"pm.diff": PM})
    r = cli(repo, "push", "-a")
    assert r.returncode == 0, r.stderr
    assert not (repo / "tree/.pc/.f5quilt/txn").exists() and not (repo / "tree/.f5quilt").exists()
    assert (repo / "tree/.pc/applied-patches").read_text() == "pm.diff\n"
    canary_intact(canary)


def test_import_name_outside_patches_is_refused_before_writing(tmp_path: Path, canary: Path) -> None:
    t = quilt_tree(tmp_path / "t")
    before = state_of(t)
    r = cli(t, "import", "-P", "../../canary/x", "ext.diff")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    canary_intact(canary)
    assert state_of(t) == before


@pytest.mark.parametrize("settings,message", [
    ("pc: ''\n", "pc must be a plain directory name"),
    ("pc: ../x\n", "pc must be a plain directory name"),
    ("tree: file.txt\n", "is not a directory"),
    ("log: {keep: 0}\n", "log must be a mapping"),
    ("fuzz: true\n", "fuzz must be"),
])
def test_settings_are_validated(tmp_path: Path, settings: str, message: str) -> None:
    (tmp_path / "file.txt").write_text("x\n")
    (tmp_path / "f5quilt.yaml").write_text(settings)
    r = cli(tmp_path, "series")
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_settings_encoding_error_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "f5quilt.yaml").write_bytes(b"tree: .\npatches: p\xff\n")
    r = cli(tmp_path, "series")
    assert r.returncode == 1 and "f5quilt.yaml:2: not UTF-8" in r.stderr


@pytest.mark.parametrize("where,content", [
    (".pc/.f5quilt/sums/p1.diff.json", "[1]\n"),
    (".pc/.f5quilt/sums/p1.diff.json", '{"../x": null}\n'),
    (".pc/.f5quilt/conflicts/p1.diff.json", "{not json\n"),
    (".pc/.f5quilt/empty/p1.diff.json", "{}\n"),
])
def test_malformed_f5quilt_state_is_one_line(tmp_path: Path, where: str, content: str) -> None:
    t = quilt_tree(tmp_path / "t")
    ok(cli(t, "push"))
    (t / where).parent.mkdir(parents=True, exist_ok=True)
    (t / where).write_text(content)
    before = state_of(t)
    bad = [cli(t, *cmd) for cmd in (["pop"], ["series"], ["refresh"])]
    assert any(r.returncode == 1 for r in bad)
    for r in bad:
        assert "Traceback" not in r.stderr and r.returncode in (0, 1, 2), r.stderr
        if r.returncode == 1:
            assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert state_of(t) == before


def test_pc_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    t = quilt_tree(tmp_path / "t")
    (t / ".pc").write_text("x\n")
    r = cli(t, "push")
    assert r.returncode == 1 and "is not a directory" in r.stderr and "Traceback" not in r.stderr


def test_disk_full_during_refresh_is_one_line(tmp_path: Path, run: Runner,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from f5quilt.repo.transaction import Transaction
    t = quilt_tree(tmp_path / "t")
    assert run(t, "push", "-a")[0] == 0
    (t / "g.txt").write_text("alpha\nBETA\ngamma\nmore\n")
    before = state_of(t)
    real = Transaction.write

    def full(self, path, data, mode=None):  # type: ignore[no-untyped-def]
        if Path(path).name == "p2.diff":
            raise OSError(28, "No space left on device", str(path))
        return real(self, path, data, mode)
    monkeypatch.setattr(Transaction, "write", full)
    rc, out, err = run(t, "refresh")
    assert rc == 1 and "No space left on device" in err and len(err.strip().splitlines()) == 1
    assert state_of(t) == before


PC = PM  # the patch a rebase stops on: upstream changed its line too


def _stopped_rebase(tmp_path: Path) -> Path:
    """A rebase stopped on a conflict: the patch's line 10 was changed upstream too."""
    repo = settings_repo(tmp_path, V1)
    make_series(repo, {"pc.diff": PC, "pm2.diff": PM.replace("line 10", "line 20").replace("LINE 10", "LINE 20")
                       .replace("-9,3 +9,3", "-19,3 +19,3").replace(" line 9\n", " line 19\n")
                       .replace(" line 11\n", " line 21\n")})
    write_tree(tmp_path / "v2", {"m.py": V1["m.py"].replace("line 10\n", "line ten (upstream)\n"), "keep.txt": "k\n"})
    ok(cli(repo, "push", "-a"))
    r = cli(repo, "rebase", "--onto", "../v2")
    assert r.returncode == 3, r.stdout + r.stderr
    return repo


@pytest.mark.kill
def test_kill_rebase_continue_and_abort_at_every_point(tmp_path: Path) -> None:
    repo = _stopped_rebase(tmp_path)
    points = kill_every_point(repo, tmp_path, ["rebase", "--abort"], "", ("status",), tag="abort-")
    assert points > 5
    m = repo / "tree/m.py"
    m.write_text(V1["m.py"].replace("line 10\n", "LINE 10 (upstream)\n"))  # resolved
    points = kill_every_point(repo, tmp_path, ["rebase", "--continue"], "", ("status",), tag="cont-")
    assert points > 5
    r = cli(repo, "rebase", "--continue")
    assert r.returncode == 0, r.stderr
    assert cli(repo, "check", "--strict").returncode == 0


def test_permission_denied_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "f5quilt.yaml").write_text("tree: t\npatches: t/patches\n")  # quilt mode pushes a missing patch as empty
    if os.geteuid() == 0:
        # root ignores permission bits: use a read-only bind of the idea, a directory as a file
        t = quilt_tree(tmp_path / "t")
        (t / "patches/p1.diff").unlink()
        (t / "patches/p1.diff").mkdir()
        r = cli(t, "push")
    else:
        t = quilt_tree(tmp_path / "t")
        (t / "patches/p1.diff").chmod(0)
        r = cli(t, "push")
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_name_too_long_is_one_line(tmp_path: Path) -> None:
    t = quilt_tree(tmp_path / "t")
    r = cli(t, "new", "x" * 300 + ".diff")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_undo_of_a_rebase_that_stopped_on_a_conflict(tmp_path: Path) -> None:
    """Resolved by hand, continued, finished: one undo brings the old pin, tree and patches back."""
    repo = _stopped_rebase(tmp_path)
    # the state before the rebase: the log's first rebase entry begins there
    (repo / "tree/m.py").write_text(V1["m.py"].replace("line 10\n", "LINE 10 (upstream)\n"))
    r = cli(repo, "rebase", "--continue")
    assert r.returncode == 0, r.stderr
    r = cli(repo, "undo")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "path: ../v1" in (repo / "f5quilt.yaml").read_text()
    assert (repo / "tree/m.py").read_text() == V1["m.py"].replace("line 10\n", "LINE 10\n").replace(
        "line 20\n", "LINE 20\n")
    assert (repo / "patches/pc.diff").read_text() == PC
    assert cli(repo, "check", "--strict").returncode == 0


@pytest.mark.kill
def test_kill_upstream_fetch_replace_at_every_point(tmp_path: Path) -> None:
    """A stale tree swapped for the pin's and the series pushed again: killed anywhere,
    the next command finds the old tree, its .pc/ and its record exactly."""
    repo = settings_repo(tmp_path, V1)
    make_series(repo, {"pm.diff": PM})
    write_tree(tmp_path / "v2", {"m.py": "head\n" + V1["m.py"], "keep.txt": "k\n"})
    ok(cli(repo, "push", "-a"))
    (repo / "f5quilt.yaml").write_text("tree: tree\npatches: patches\nupstream:\n  path: ../v2\n")
    points = kill_every_point(repo, tmp_path, ["upstream", "fetch", "--replace"], "", ("status",), tag="replace-")
    assert points > 5


# -- hard links: quilt's backup-files -L, and a log that never shares an inode with a live file
def _linked_tree(root: Path) -> Path:
    """p1 and p2 pushed; k.txt, not in any patch, has a second name outside the tree's patches."""
    quilt_tree(root)
    ok(cli(root, "push", "-a"))
    (root / "k.txt").write_text("kept\n")
    os.chmod(root / "k.txt", 0o640)
    os.link(root / "k.txt", root / "elsewhere.txt")
    return root


def test_add_breaks_a_hard_link_as_quilt_does(tmp_path: Path) -> None:
    t = _linked_tree(tmp_path / "t")
    before_ino = os.stat(t / "k.txt").st_ino
    ok(cli(t, "add", "k.txt"))
    backup = t / ".pc/p2.diff/k.txt"
    # the backup keeps the inode and its other name; the tree file is a file of its own
    assert os.stat(backup).st_ino == before_ino and os.path.samefile(backup, t / "elsewhere.txt")
    assert os.stat(backup).st_nlink == 2  # no third link kept by f5quilt's log
    assert os.stat(t / "k.txt").st_nlink == 1
    assert stat.S_IMODE(os.stat(t / "k.txt").st_mode) == 0o640
    with open(t / "k.txt", "w") as fh:  # an edit in place, as `echo x > k.txt`
        fh.write("changed\n")
    assert (t / "elsewhere.txt").read_text() == "kept\n"
    ok(cli(t, "refresh"))
    r = cli(t, "pop")
    assert r.returncode == 0, r.stderr
    # pop puts the backup's inode back: the two names are one file again
    assert os.path.samefile(t / "k.txt", t / "elsewhere.txt")
    assert os.stat(t / "k.txt").st_nlink == 2
    assert (t / "k.txt").read_text() == "kept\n"


def test_remove_puts_the_inode_back(tmp_path: Path) -> None:
    t = _linked_tree(tmp_path / "t")
    ok(cli(t, "add", "k.txt"))
    (t / "k.txt").write_text("changed\n")
    ok(cli(t, "remove", "k.txt"))
    assert os.path.samefile(t / "k.txt", t / "elsewhere.txt") and os.stat(t / "k.txt").st_nlink == 2
    assert (t / "k.txt").read_text() == "kept\n"


def test_pop_leaves_no_link_into_the_log(tmp_path: Path) -> None:
    """The backup pop moves back is a tree file again: the log holds a copy, not a link,
    so an edit in place there cannot change what undo would put back."""
    t = quilt_tree(tmp_path / "t")
    ok(cli(t, "push", "-a"))
    ok(cli(t, "pop", "-a"))
    for name in ("f.txt", "g.txt", "h.txt"):
        assert os.stat(t / name).st_nlink == 1, name
    with open(t / "g.txt", "a") as fh:
        fh.write("edited in place\n")
    r = cli(t, "undo")  # undo of the pop would lose the edit: it must see it
    assert r.returncode == 1 and "g.txt" in r.stderr, r.stdout + r.stderr
    assert (t / "g.txt").read_text().endswith("edited in place\n")
    assert (t / ".pc/applied-patches").exists() is False or "p2.diff" not in (t / ".pc/applied-patches").read_text()


@pytest.mark.kill
def test_kill_add_of_a_hard_linked_file(tmp_path: Path) -> None:
    """A killed `add` of a file with two names is rolled back to the very inode: the two
    names are one file again, with no link left in f5quilt's journal or log."""
    ref = _linked_tree(tmp_path / "ref")
    before = state_of(ref)
    ticks = tmp_path / "ticks"
    ok(cli(ref, "add", "k.txt", ticks=ticks))
    after = state_of(ref)
    total = int(ticks.read_text())
    assert total > 3
    for n in range(1, total + 1):
        t = _linked_tree(tmp_path / f"k{n}")
        r = cli(t, "add", "k.txt", kill_at=n)
        assert r.returncode == -9, f"kill point {n} of {total} not reached: {r.stderr}"
        if n % 3 == 2:
            for m in (1, 2, 3):  # the recovery killed in turn
                cli(t, "series", kill_at=m)
        r2 = cli(t, "series")
        assert state_of(t) == before, f"kill point {n}: not restored ({r2.stderr})"
        assert os.path.samefile(t / "k.txt", t / "elsewhere.txt"), f"kill point {n}: link lost"
        assert os.stat(t / "k.txt").st_nlink == 2, f"kill point {n}: a link left behind"
        assert stat.S_IMODE(os.stat(t / "k.txt").st_mode) == 0o640
        r3 = cli(t, "add", "k.txt")  # and the command then runs as if never interrupted
        assert state_of(t) == after, f"kill point {n}: rerun differs ({r3.stderr})"
        assert os.stat(t / "elsewhere.txt").st_nlink == 2 and os.stat(t / "k.txt").st_nlink == 1
        shutil.rmtree(t)


# -- init under SIGKILL ----------------------------------------------------
UP = {"pkg/__init__.py": "VERSION = 1\n", "pkg/core.py": "".join(f"core {i}\n" for i in range(1, 6)),
      "README": "upstream\n"}
INIT_FORMS = {
    "--path DIR": ["init", "--path", "../up"],
    "--path ARCHIVE": ["init", "--path", "../up.tar.gz"],
    "--pypi (a cached sdist: offline)": ["init", "--pypi", "up==1.0"],
    "--path DIR --tree/--patches nested": ["init", "--path", "../up", "--tree", "vendor/deep/up",
                                           "--patches", "q/patches"],
}


def _init_template(tmp_path: Path) -> Path:
    import tarfile
    write_tree(tmp_path / "up", UP)
    with tarfile.open(tmp_path / "up.tar.gz", "w:gz") as tf:
        tf.add(tmp_path / "up", arcname="up-1.0")
    template = tmp_path / "template"
    write_tree(template, {".gitignore": "*.pyc\n", "notes.txt": "mine\n", "vendor/keep.txt": "k\n"})
    return template


@pytest.mark.kill
@pytest.mark.parametrize("form", list(INIT_FORMS))
def test_kill_init_at_every_point(form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed init: any next command (quilt mode, no f5quilt.yaml yet, or f5quilt mode)
    rolls it back to the bare repository; init again then finishes as if never interrupted."""
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))  # the download cache is shared
    template = _init_template(tmp_path)
    (tmp_path / "cache/sdist").mkdir(parents=True)
    shutil.copy(tmp_path / "up.tar.gz", tmp_path / "cache/sdist/up-1.0.tar.gz")
    argv = INIT_FORMS[form]
    # series and status repair by the same path (a command with no settings file): status
    # only when every point is tried, to keep CI's time
    for next_cmd in (("series",), ("status",), tuple(argv)) if EVERY else (("series",), tuple(argv)):
        tag = f"{next_cmd[0]}-"
        if next_cmd[0] == "init":
            # init again: repairs, then finishes: every point ends in the finished state
            ref = tmp_path / "init-ref"
            shutil.copytree(template, ref, symlinks=True)
            ticks = tmp_path / "init-ticks"
            ok(cli(ref, *argv, ticks=ticks))
            after = state_of(ref)
            total = int(ticks.read_text())
            for n in points_to_try(total):
                t = tmp_path / f"init-k{n}"
                shutil.copytree(template, t, symlinks=True)
                assert cli(t, *argv, kill_at=n).returncode == -9
                r = cli(t, *argv)
                assert r.returncode == 0, f"kill point {n}: {r.stderr}"
                assert state_of(t) == after, f"kill point {n}: init again differs"
                shutil.rmtree(t)
        else:
            assert kill_every_point(template, tmp_path, argv, "", next_cmd, tag=tag) > 5


# -- rename and fork into subfolders: a rollback leaves no empty folder ----------
def _in_subfolder(t: Path) -> None:
    """p2.diff lives in old/sub/: the rename out of it prunes old/sub/ in .pc/ and patches/."""
    ok(cli(t, "push", "-a"))
    ok(cli(t, "rename", "old/sub/p2.diff"))


SUBFOLDER_SCENARIOS: Dict[str, Tuple[Setup, List[str]]] = {
    "rename into sub/dir": (_applied_all, ["rename", "sub/dir/p.diff"]),
    "rename out of old/sub": (_in_subfolder, ["rename", "sub/dir/p.diff"]),
    "fork into sub/dir": (_applied_all, ["fork", "sub/dir/p.diff"]),
    "fork out of old/sub": (_in_subfolder, ["fork", "sub/dir/p.diff"]),
    "new sub/dir": (_applied_all, ["new", "sub/dir/p.diff"]),
    "delete -r old/sub": (_in_subfolder, ["delete", "-r", "old/sub/p2.diff"]),
}


@pytest.mark.kill
@pytest.mark.parametrize("name", list(SUBFOLDER_SCENARIOS))
def test_kill_in_subfolders_leaves_no_empty_folder(name: str, tmp_path: Path) -> None:
    setup, argv = SUBFOLDER_SCENARIOS[name]
    template = quilt_tree(tmp_path / "template")
    setup(template)
    assert kill_every_point(template, tmp_path, argv, "", folders=True) > 3


@pytest.mark.parametrize("argv", [["rename", "sub/dir/p.diff"], ["fork", "sub/dir/p.diff"],
                                  ["new", "sub/dir/p.diff"]])
def test_undo_into_a_subfolder_leaves_no_empty_folder(argv: List[str], tmp_path: Path) -> None:
    t = quilt_tree(tmp_path / "t")
    ok(cli(t, "push", "-a"))
    before = state_of(t, folders=True)
    ok(cli(t, *argv))
    assert (t / "patches/sub/dir").is_dir() or (t / ".pc/sub/dir").is_dir()
    r = cli(t, "undo")
    assert r.returncode == 0, r.stderr
    assert state_of(t, folders=True) == before


@pytest.mark.kill
def test_kill_inside_the_rollback_of_a_fetch_leaves_no_dead_folder(tmp_path: Path) -> None:
    """A fetch killed after its tree was moved into place is rolled back by the next command,
    which removes that tree; killed in turn while removing it, the command after must finish
    the job: no ``.dead-*`` folder is left for good, anywhere in the project."""
    template = settings_repo(tmp_path, V1)
    make_series(template, {"pm.diff": PM})
    before = state_of(template)
    ticks = tmp_path / "ticks"
    ok(cli(shutil.copytree(template, tmp_path / "ref", symlinks=True), "push", "-a", ticks=ticks))
    total = int(ticks.read_text())
    adopted = None
    for n in range(1, total + 1):  # the first kill point whose rollback has a tree to remove
        t = shutil.copytree(template, tmp_path / f"k{n}", symlinks=True)
        assert cli(t, "push", "-a", kill_at=n).returncode == -9
        if (t / "tree").is_dir():
            adopted = n
            break
        shutil.rmtree(t)
    assert adopted is not None
    rticks = tmp_path / "rticks"
    cli(shutil.copytree(t, tmp_path / "rref", symlinks=True), "series", ticks=rticks)
    for m in range(1, int(rticks.read_text()) + 1):
        k = shutil.copytree(t, tmp_path / f"r{m}", symlinks=True)
        assert cli(k, "series", kill_at=m).returncode == -9
        ok(cli(k, "series"))
        left = [str(p.relative_to(k)) for p in k.rglob(".dead-*")]
        assert left == [], f"recovery killed at {m}: {left}"
        assert state_of(k) == before


@pytest.mark.parametrize("argv", [
    ["new", "series"], ["new", ".pc/x.diff"], ["new", "patches/series"], ["import", "-P", "series", "ext.diff"],
    ["import", "sub/series"], ["rename", "series"], ["fork", "series"], ["new", ".f5quilt"],
])
def test_a_patch_may_not_be_named_like_a_state_file(tmp_path: Path, argv: List[str]) -> None:
    t = quilt_tree(tmp_path / "t")
    ok(cli(t, "push"))
    (t / "sub").mkdir()
    (t / "sub/series").write_text(EXT)
    before = state_of(t)
    r = cli(t, *argv)
    assert r.returncode == 1 and "state" in r.stderr, r.stdout + r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert state_of(t) == before


@pytest.mark.parametrize("settings,link", [
    ("tree: ../canary\n", None), ("tree: .\npatches: ../canary\n", None),
    ("tree: tree\n", "tree"), ("tree: .\n", ".f5quilt"), ("tree: .\n", ".pc"), ("tree: .\npc: .state\n", ".state"),
])
def test_settings_folders_resolve_inside_the_project(tmp_path: Path, canary: Path, settings: str,
                                                     link: Optional[str]) -> None:
    p = tmp_path / "p"
    write_tree(p, {"f5quilt.yaml": settings, "f.txt": "x\n", "patches/series": "a.diff\n",
                   "patches/a.diff": upper_hunk("f.txt", 1)})
    if link:
        os.symlink(canary, p / link)
    for argv in (["push"], ["series"]):
        r = cli(p, *argv)
        assert r.returncode == 1 and "leads outside" in r.stderr, r.stdout + r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    canary_intact(canary)


def test_quilt_pc_symlinked_out_is_refused(tmp_path: Path, canary: Path) -> None:
    t = quilt_tree(tmp_path / "t")
    os.symlink(canary, t / ".pc")
    r = cli(t, "push")
    assert r.returncode == 1 and "leads outside" in r.stderr and "Traceback" not in r.stderr
    canary_intact(canary)


@pytest.mark.parametrize("old_record", [False, True])
def test_tree_pin_is_relative_and_a_moved_project_works(tmp_path: Path, old_record: bool) -> None:
    import json
    repo = settings_repo(tmp_path / "a", V1)
    make_series(repo, {"pm.diff": PM})
    ok(cli(repo, "push", "-a"))
    pin_file = repo / ".f5quilt/tree-pin.json"
    recorded = json.loads(pin_file.read_text())
    assert recorded["pin"]["spec"] == "../v1", recorded  # never an absolute path
    if old_record:  # written by an older f5quilt
        recorded["pin"]["spec"] = str(tmp_path / "a/v1")
        pin_file.write_text(json.dumps(recorded))
    shutil.move(str(tmp_path / "a"), str(tmp_path / "b"))
    moved = tmp_path / "b/repo"
    r = cli(moved, "status")
    assert "holds" not in r.stdout + r.stderr and "Traceback" not in r.stderr, r.stdout + r.stderr
    r = cli(moved, "pop", "-a")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(moved, "push", "-a")
    assert r.returncode == 0 and "holds" not in r.stdout + r.stderr, r.stdout + r.stderr
