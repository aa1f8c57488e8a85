"""The ops that used to hand the command line a finished sentence (init, a fetch, diff's and
refresh's warnings, exec, quilt's upgrade) emit typed records now; the renderer (cli/render.py)
says them in the words they had. No op emits a line of text any more."""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import List

from helpers import ROOT, make_series, numbered, upper_hunk, write_tree

from f5quilt import events as ev
from f5quilt.cli.render import Renderer
from f5quilt.ops.authoring import quiltcmds, quiltdiff
from f5quilt.ops.series import execseries, vendor
from f5quilt.ops.stack import pushpop
from f5quilt.output import Reporter
from f5quilt.repo.settings import load_settings
from f5quilt.repo.upstream import Pin
from f5quilt.repo.workspace import Workspace


def _said(events: List[ev.Event]) -> List[str]:
    out, err = io.StringIO(), io.StringIO()
    render = Renderer(Reporter(out=out, err=err))
    for e in events:
        render(e)
    return out.getvalue().splitlines() + err.getvalue().splitlines()


def test_init_and_a_missing_tree_emit_fetching_and_initialised(tmp_path: Path) -> None:
    write_tree(tmp_path / "v1", {"m.py": numbered(5)})
    base = tmp_path / "repo"
    base.mkdir()
    seen: List[ev.Event] = []
    vendor.init(base, seen.append, Pin("path", str(tmp_path / "v1")), tree="third_party/v1", patches=None)
    assert seen == [ev.Fetching(str(tmp_path / 'v1'), "third_party/v1"),
                    ev.Initialised("f5quilt.yaml", str(tmp_path / 'v1'), "a directory", "patches/series", True)]
    assert _said(seen)[1:] == [
        f"Wrote f5quilt.yaml (upstream {tmp_path / 'v1'}, a directory), patches/series, .gitignore",
        "Next: f5quilt new NAME.patch; f5quilt edit FILE; f5quilt refresh"]
    ws = Workspace.open(load_settings(base))
    import shutil
    shutil.rmtree(ws.tree)
    seen.clear()
    ws.ensure_tree(seen.append)
    assert seen == [ev.Fetching(str(tmp_path / 'v1'), "third_party/v1")]
    assert _said(seen) == [f"Fetching upstream {tmp_path / 'v1'} into third_party/v1"]


def _quilt_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "q"
    write_tree(tree, {"m.py": numbered(30), "n.py": numbered(30)})
    make_series(tree, {"a.diff": upper_hunk("m.py", 10), "b.diff": upper_hunk("m.py", 20)})
    return tree


def test_quilt_diff_and_refresh_warn_in_records(tmp_path: Path) -> None:
    tree = _quilt_tree(tmp_path)
    ws = Workspace.open(load_settings(tree))
    pushpop.push(ws, ev.ignore, all_=True)
    seen: List[ev.Event] = []
    quiltdiff.quilt_diff(ws, seen.append, "a.diff", quiltdiff.DiffStyle(), files=[])
    assert seen == [ev.Shadowed("a.diff")]
    (tree / "m.py").write_text((tree / "m.py").read_text().replace("LINE 20\n", "LINE 20  \n"))
    with ws.transaction("refresh"):
        quiltdiff.refresh(ws, seen.append, "b.diff", quiltdiff.DiffStyle(), force=False)
    assert seen[1:] == [ev.TrailingWhitespace("m.py", (20,)), ev.Refreshed("b.diff")]
    seen[2:] = [ev.NotModified("n.py")]
    assert all(isinstance(e, ev.Warns) for e in seen)
    assert _said(seen) == ["Warning: more recent patches modify files in patch a.diff",
                           "Warning: trailing whitespace in line 20 of m.py",
                           "File n.py is not being modified"]


def test_quilt_upgrade_says_what_it_found(tmp_path: Path) -> None:
    tree = _quilt_tree(tmp_path)
    ws = Workspace.open(load_settings(tree))
    pushpop.push(ws, ev.ignore)
    seen: List[ev.Event] = []
    quiltcmds.upgrade(ws, seen.append)
    assert seen == [ev.PcUpgraded(".pc", already=True)]
    (tree / ".pc/.version").unlink()
    quiltcmds.upgrade(Workspace.open(load_settings(tree)), seen.append)
    assert seen[1] == ev.PcUpgraded(".pc", already=False) and (tree / ".pc/.version").read_text() == "2\n"


def test_exec_emits_a_running_record_per_step(tmp_path: Path) -> None:
    tree = _quilt_tree(tmp_path)
    ws = Workspace.open(load_settings(tree))
    seen: List[ev.Event] = []
    argv = [sys.executable, "-c", "pass"]
    execseries.exec_series(ws, seen.append, argv, cwd=tree)
    running = [e for e in seen if isinstance(e, ev.Running)]
    assert running == [ev.Running(tuple(argv), None), ev.Running(tuple(argv), "a.diff"),
                       ev.Running(tuple(argv), "b.diff")]


def test_warnings_only_passes_the_warns_records() -> None:
    seen: List[ev.Event] = []
    quiet = ev.warnings_only(seen.append)
    for e in (ev.FileAdded("p", "f"), ev.NotModified("f"), ev.Created("p"), ev.RolledBack("push")):
        quiet(e)
    assert seen == [ev.NotModified("f"), ev.RolledBack("push")]


def test_warns_marks_exactly_the_records_said_only_on_stderr() -> None:
    """A record the renderer says only with warn/error is a ``Warns`` (what ``warnings_only``
    passes), and a ``Warns`` is never said on stdout."""
    import inspect
    from f5quilt.cli import render
    wrong = []
    for cls, handler in render._HANDLERS.items():
        calls = set(re.findall(r"self\.out\.(\w+)\(", inspect.getsource(handler)))
        loud = bool(calls) and calls <= {"warn", "error"}
        if loud != issubclass(cls, ev.Warns):
            wrong.append(cls.__name__)
    assert wrong == []
    # and every event an op can emit has a handler (a missing one is an internal error, exit 4)
    events = {c for c in vars(ev).values() if isinstance(c, type) and issubclass(c, ev.Event)
              and c not in (ev.Event, ev.Warns)}
    assert sorted(c.__name__ for c in events - set(render._HANDLERS)) == []


def test_no_op_composes_a_line_of_text() -> None:
    """The events module has no free-text record left, and ops build none."""
    assert not hasattr(ev, "Said") and not hasattr(ev, "info")
    for path in (ROOT / "f5quilt").rglob("*.py"):
        if "cli" in path.relative_to(ROOT / "f5quilt").parts:
            continue
        text = path.read_text()
        assert not re.search(r"\bev\.(info|warn|step|verbose|result|error|quilt_info)\(", text), path
