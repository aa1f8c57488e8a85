"""status as an op: ``status_report`` returns typed attention items (a kind, a file, a patch),
and the tree's drift says which patch a change belongs to by field, not by its words."""
from __future__ import annotations

from pathlib import Path

from helpers import Runner, make_series, numbered, upper_hunk, write_tree

from f5quilt.ops.stack.drift import DriftKind, tree_drift
from f5quilt.ops.series.status import Attention, Kind, status_report
from f5quilt.repo.settings import load_settings
from f5quilt.repo.workspace import Workspace


def _pushed(tmp_path: Path, run: Runner) -> Path:
    write_tree(tmp_path / "v1", {"m.py": numbered(30), "other.py": "x = 1\n"})
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    make_series(repo, {"a.diff": upper_hunk("m.py", 10)})
    assert run(repo, "push", "-a")[0] == 0
    return repo


def test_a_clean_tree_needs_nothing(tmp_path: Path, run: Runner) -> None:
    report = status_report(Workspace.open(load_settings(_pushed(tmp_path, run))))
    assert (report.applied, report.series, report.top, report.attention) == (1, 1, "a.diff", [])
    assert report.patches[0].applied and report.patches[0].conflicts == []


def test_each_kind_of_unrecorded_work_is_its_own_record(tmp_path: Path, run: Runner) -> None:
    repo = _pushed(tmp_path, run)
    with open(repo / "tree/m.py", "a") as f:  # in a.diff's file: a.diff's unrefreshed change
        f.write("more\n")
    (repo / "tree/other.py").write_text("x = 2\n")  # outside any patch
    ws = Workspace.open(load_settings(repo))
    drift = {d.file: d for d in tree_drift(ws, ws.upstream().reader(), ws.upstream())}  # type: ignore[union-attr]
    assert drift["m.py"].kind is DriftKind.UNREFRESHED and drift["m.py"].owner == "a.diff"
    assert drift["other.py"].kind is DriftKind.OUTSIDE and drift["other.py"].owner is None
    report = status_report(ws)
    assert report.attention == [
        Attention(Kind.UNREFRESHED, "changes not refreshed into patches/a.diff", file="m.py", patch="a.diff"),
        Attention(Kind.OUTSIDE, "edited outside any patch", file="other.py")]
    assert report.to_json()["attention"][1] == {"kind": "outside", "file": "other.py",
                                                "why": "edited outside any patch"}
