"""The authoring ops (new, add, refresh, revert, remove, rename, delete) and rebase's steps
emit typed records, not lines: a caller reads who did what to which patch and file, and the
command line renders the words (cli/render.py), the same words as before."""
from __future__ import annotations

from pathlib import Path
from typing import List

from helpers import make_series, numbered, upper_hunk, write_tree

from f5quilt import events as ev
from f5quilt.ops.authoring import core
from f5quilt.ops.series import rebase
from f5quilt.ops.stack import pushpop
from f5quilt.repo.settings import load_settings
from f5quilt.repo.workspace import Workspace


def _repo(tmp_path: Path) -> Path:
    write_tree(tmp_path / "v1", {"m.py": numbered(30), "n.py": numbered(30)})
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    make_series(repo, {"a.diff": upper_hunk("m.py", 10)})
    return repo


def _ws(repo: Path) -> Workspace:
    return Workspace.open(load_settings(repo))


def test_authoring_ops_emit_records(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    pushpop.push(_ws(repo), ev.ignore)
    seen: List[ev.Event] = []
    core.new_patch(_ws(repo), seen.append, "b.diff")
    core.add_files(_ws(repo), seen.append, [str(repo / "tree/n.py")])
    core.add_files(_ws(repo), seen.append, [str(repo / "tree/n.py")])
    (repo / "tree/n.py").write_text(numbered(30).replace("line 3\n", "LINE 3\n"))
    core.refresh(_ws(repo), seen.append)
    core.refresh(_ws(repo), seen.append)
    core.rename_patch(_ws(repo), seen.append, "b.diff", "c.diff")
    core.revert_files(_ws(repo), seen.append, [str(repo / "tree/n.py")])
    (repo / "tree/n.py").write_text(numbered(30).replace("line 4\n", "LINE 4\n"))  # not refreshed
    core.revert_files(_ws(repo), seen.append, [str(repo / "tree/n.py")])
    core.remove_files(_ws(repo), seen.append, [str(repo / "tree/n.py")])
    assert seen == [ev.Created("b.diff"), ev.FileAdded("b.diff", "n.py"),
                    ev.FileAdded("b.diff", "n.py", already=True), ev.Refreshed("b.diff"),
                    ev.Refreshed("b.diff", unchanged=True), ev.Renamed("b.diff", "c.diff"),
                    ev.FileReverted("c.diff", "n.py", unchanged=True), ev.FileReverted("c.diff", "n.py"),
                    ev.FileRemoved("c.diff", "n.py")]


def test_rebase_emits_records(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    write_tree(tmp_path / "v2", {"m.py": numbered(30), "n.py": numbered(31)})
    seen: List[ev.Event] = []
    ws = _ws(repo)
    assert rebase.start(ws, seen.append, rebase.parse_new_pin(ws, str(tmp_path / "v2")), keep_going=False) is None
    started = [e for e in seen if isinstance(e, ev.RebaseStarted)]
    assert len(started) == 1 and started[0].count == 1
    assert [type(e) for e in seen if isinstance(e, ev.Rebased)] == [ev.Rebased]


def test_guard_and_select_emit_records(tmp_path: Path) -> None:
    from f5quilt.ops.stack import guards
    repo = _repo(tmp_path)
    seen: List[ev.Event] = []
    guards.guard(_ws(repo), seen.append, "a.diff", ["+cuda"], none=False)
    guards.select(_ws(repo), seen.append, ["cuda"], none=False)
    guards.select(_ws(repo), seen.append, [], none=True)
    assert seen == [ev.GuardsSet("a.diff", ("+cuda",)), ev.Selected(("cuda",)), ev.SkipChanged("a.diff", None),
                    ev.Selected(()), ev.SkipChanged("a.diff", "+cuda")]


def test_undo_and_redo_emit_records(tmp_path: Path) -> None:
    from f5quilt.ops.stack import undo
    repo = _repo(tmp_path)
    pushpop.push(_ws(repo), ev.ignore)  # fetches the tree, then pushes
    pushpop.pop(_ws(repo), ev.ignore)
    seen: List[ev.Event] = []
    undo.undo(_ws(repo), seen.append, 1, False)
    undo.redo(_ws(repo), seen.append, 1, False)
    assert [e for e in seen if isinstance(e, (ev.Undone, ev.NowAt))] == [
        ev.Undone("pop"), ev.NowAt("a.diff", spacer=False), ev.Undone("pop", redone=True), ev.NowAt(None, spacer=False)]
