"""push, pop, goto and rebase as ops: they return typed outcomes and emit typed events, print
nothing and pick no exit code (the command line renders the events and maps the outcome's
stop to an exit code from one table, cli/render.exit_code)."""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from helpers import Runner, make_series, numbered, upper_hunk, write_tree

from f5quilt import events as ev
from f5quilt.cli.render import exit_code
from f5quilt.errors import EXIT_CONFLICT, EXIT_ERROR, EXIT_OK, Conflicted
from f5quilt.ops.stack import pushpop
from f5quilt.ops.series import rebase
from f5quilt.repo.settings import load_settings
from f5quilt.repo.workspace import Workspace


def _repo(tmp_path: Path, patches: dict) -> Path:
    write_tree(tmp_path / "v1", {"m.py": numbered(30), "n.py": numbered(30)})
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    make_series(repo, patches)
    return repo


def _ws(repo: Path) -> Workspace:
    return Workspace.open(load_settings(repo))


def test_push_all_returns_what_it_pushed_and_emits_typed_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path, {"a.diff": upper_hunk("m.py", 10), "b.diff": upper_hunk("n.py", 5)})
    seen: List[ev.Event] = []
    outcome = pushpop.push(_ws(repo), seen.append, all_=True)
    assert outcome.pushed == ["a.diff", "b.diff"] and outcome.stop is None
    assert exit_code(outcome.stop) == EXIT_OK
    kinds = [type(e) for e in seen]
    assert kinds.count(ev.Applying) == 2 and kinds.count(ev.Pushed) == 2
    assert seen[-1] == ev.NowAt("b.diff")
    assert ev.Plan("Pushing", 2) in seen
    assert capsys.readouterr() == ("", "")  # the op itself writes nothing
    assert "LINE 5" in (repo / "tree/n.py").read_text()

    popped: List[ev.Event] = []
    out = pushpop.pop(_ws(repo), popped.append, all_=True)
    assert out.popped == ["b.diff", "a.diff"]
    assert [e for e in popped if isinstance(e, ev.Popped)] == [ev.Popped("b.diff"), ev.Popped("a.diff")]
    assert popped[-1] == ev.NowAt(None)
    assert capsys.readouterr() == ("", "")


def test_a_forced_push_stops_with_forced_and_the_rejects_as_data(tmp_path: Path) -> None:
    bad = "--- a/m.py\n+++ b/m.py\n@@ -10,3 +10,3 @@\n not here\n-nor here\n+x\n gone\n"
    repo = _repo(tmp_path, {"a.diff": upper_hunk("m.py", 10) + bad, "b.diff": upper_hunk("n.py", 5)})
    seen: List[ev.Event] = []
    outcome = pushpop.push(_ws(repo), seen.append, all_=True, force=True)
    assert outcome.pushed == ["a.diff"] and outcome.stop is ev.Stop.FORCED
    assert exit_code(outcome.stop) == EXIT_ERROR
    assert ev.Rejects("m.py", 1, 2, saved=True) in seen
    assert ev.Pushed("a.diff", forced=True) in seen
    assert (repo / "tree/m.py.rej").is_file()


def test_a_refused_pop_names_each_file_then_raises(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"a.diff": upper_hunk("m.py", 10)})
    pushpop.push(_ws(repo), ev.ignore)
    with open(repo / "tree/m.py", "a") as f:
        f.write("edit\n")
    seen: List[ev.Event] = []
    with pytest.raises(Exception, match="does not remove cleanly"):
        pushpop.pop(_ws(repo), seen.append)
    assert ev.NotInPatch("m.py") in seen


def test_push_over_unresolved_conflicts_is_a_conflicted_error(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path / "v2", {"m.py": numbered(30).replace("line 10\n", "line ten\n"), "n.py": numbered(30)})
    repo = _repo(tmp_path, {"a.diff": upper_hunk("m.py", 10), "b.diff": upper_hunk("n.py", 5)})
    seen: List[ev.Event] = []
    ws = _ws(repo)
    stop = rebase.start(ws, seen.append, rebase.parse_new_pin(ws, str(tmp_path / "v2")))
    assert stop is ev.Stop.CONFLICTS and exit_code(stop) == EXIT_CONFLICT
    assert ev.RebaseConflicts("a.diff", ("m.py",)) in seen  # a record, not a line to parse
    with pytest.raises(Conflicted) as raised:
        pushpop.push(_ws(repo), ev.ignore)
    assert raised.value.exit_code == EXIT_CONFLICT


def test_goto_returns_the_push_stop(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"a.diff": upper_hunk("m.py", 10), "b.diff": upper_hunk("n.py", 5)})
    seen: List[ev.Event] = []
    assert pushpop.goto(_ws(repo), seen.append, "b.diff") is None
    assert seen[-1] == ev.NowAt("b.diff")
    assert pushpop.goto(_ws(repo), seen.append, "a.diff") is None
    assert seen[-1] == ev.NowAt("a.diff")


def test_push_and_pop_json_print_the_outcome_alone_on_stdout(tmp_path: Path, run: Runner) -> None:
    import json

    bad = "--- a/m.py\n+++ b/m.py\n@@ -10,3 +10,3 @@\n not here\n-nor here\n+x\n gone\n"
    repo = _repo(tmp_path, {"a.diff": upper_hunk("m.py", 10), "b.diff": upper_hunk("n.py", 5) + bad.replace("m.py", "n.py"),
                            "c.diff": upper_hunk("m.py", 20)})
    rc, out, err = run(repo, "push", "-a", "--json")  # b.diff does not apply: an error, no outcome
    assert rc == 1 and out == "" and "does not apply" in err and "Applying patch" in err
    rc, out, err = run(repo, "top")
    assert out == "patches/a.diff\n"  # a.diff stays pushed, as quilt keeps what went on
    rc, out, err = run(repo, "push", "-f", "--json")
    assert rc == 1
    assert json.loads(out) == {"pushed": ["b.diff"], "stop": "forced", "top": "b.diff"}
    run(repo, "refresh")
    rc, out, _ = run(repo, "push", "--json")
    assert rc == 0 and json.loads(out) == {"pushed": ["c.diff"], "stop": None, "top": "c.diff"}
    rc, out, err = run(repo, "pop", "-a", "--json")
    assert rc == 0 and json.loads(out) == {"popped": ["c.diff", "b.diff", "a.diff"], "top": None}
    assert "No patches applied" in err


def test_push_refresh_json_keeps_the_refresh_lines_off_stdout(tmp_path: Path, run: Runner) -> None:
    import json

    repo = _repo(tmp_path, {"a.diff": upper_hunk("m.py", 10), "b.diff": upper_hunk("n.py", 5)})
    rc, out, err = run(repo, "push", "-a", "--refresh", "--json")
    assert rc == 0 and json.loads(out) == {"pushed": ["a.diff", "b.diff"], "stop": None, "top": "b.diff"}
    rc, out, err = run(repo, "pop", "-a", "--refresh", "--json")
    assert rc == 0 and json.loads(out) == {"popped": ["b.diff", "a.diff"], "top": None}
