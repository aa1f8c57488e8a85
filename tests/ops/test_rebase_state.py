"""The rebase state as a typed record (issue 19): ``RebaseState.load`` checks the file once
and callers read attributes; the file keeps the fields the rebase always wrote, so a rebase
stopped by an older f5quilt can be continued."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import make_series, numbered, upper_hunk, write_tree

from f5quilt import events as ev
from f5quilt.errors import F5QuiltError
from f5quilt.ops.series import rebase
from f5quilt.ops.series.rebase import RebaseState, load_state, state_dir
from f5quilt.repo.settings import load_settings
from f5quilt.repo.upstream import Pin
from f5quilt.repo.workspace import Workspace


def _stopped(tmp_path: Path) -> Workspace:
    write_tree(tmp_path / "v1", {"m.py": numbered(30), "n.py": numbered(30)})
    write_tree(tmp_path / "v2", {"m.py": numbered(30).replace("line 10\n", "line ten\n"), "n.py": numbered(30)})
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    make_series(repo, {"a.diff": upper_hunk("m.py", 10), "b.diff": upper_hunk("n.py", 5)})
    ws = Workspace.open(load_settings(repo))
    assert rebase.start(ws, ev.ignore, rebase.parse_new_pin(ws, str(tmp_path / "v2"))) is ev.Stop.CONFLICTS
    return Workspace.open(load_settings(repo))


def test_a_stopped_rebase_reads_back_as_a_record(tmp_path: Path) -> None:
    ws = _stopped(tmp_path)
    state = load_state(ws)
    assert isinstance(state, RebaseState)
    assert state.stopped == "a.diff" and state.series == ["a.diff", "b.diff"]
    assert state.old_pin.spec.endswith("v1") and state.new_pin.spec.endswith("v2")
    assert state.skipped == [] and state.conflicted == [] and not state.keep_going
    assert state.group is not None and state.group.startswith("rebase-")
    again = RebaseState.load(state_dir(ws) / "state.json")
    assert again == state


def test_the_file_an_older_f5quilt_wrote_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    pin = {"kind": "pypi", "spec": "idna==3.6", "ref": None, "sha256": None, "commit": None}
    old = {"phase": "pushing", "old_pin": pin, "new_pin": dict(pin, spec="idna==3.7"), "series": ["a.diff", "b.diff"],
           "skipped": [], "group": "rebase-1", "keep_going": True, "outcomes": {"a.diff": "conflict"},
           "conflicted": ["a.diff"], "stopped": "a.diff", "forecast": {"a.diff": "conflict", "b.diff": "clean"}}
    path.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
    state = RebaseState.load(path)
    assert state is not None
    assert (state.new_pin, state.stopped, state.conflicted) == (Pin("pypi", "idna==3.7"), "a.diff", ["a.diff"])
    assert state.keep_going and state.outcomes == {"a.diff": "conflict"}
    assert state.to_json() == old  # written back with the same fields


@pytest.mark.parametrize("change, message", [
    ({"series": "a.diff"}, "malformed rebase state"),
    ({"stopped": 3}, "malformed rebase state"),
    ({"keep_going": "yes"}, "malformed rebase state"),
    ({"outcomes": {"a.diff": 1}}, "malformed rebase state"),
    ({"new_pin": {"kind": "pypi"}}, "malformed rebase state"),
    ({"moved": ["../../etc/passwd"]}, "unsafe patch name"),
    ({"conflicted": ["/abs.diff"]}, "unsafe patch name"),
])
def test_a_bad_state_file_is_one_line_naming_it(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "state.json"
    pin = {"kind": "path", "spec": "../v1"}
    path.write_text(json.dumps(dict({"old_pin": pin, "new_pin": pin, "series": ["a.diff"]}, **change)))
    with pytest.raises(F5QuiltError, match=message) as raised:
        RebaseState.load(path)
    assert str(path) in str(raised.value)
