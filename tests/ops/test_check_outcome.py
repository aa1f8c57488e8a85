"""check as an op: ``run_check`` returns a typed report (no text, no exit code); the CLI
renders it. These tests read the objects, never printed words."""
from __future__ import annotations

import json
from pathlib import Path

from helpers import Runner, make_series, numbered, upper_hunk, write_tree

from f5quilt.ops.series.check import CLEAN, CONTAINED, FAILS, OFFSET, CheckReport, HunkCheck, run_check
from f5quilt.repo.settings import load_settings
from f5quilt.repo.workspace import Workspace


def _repo(tmp_path: Path) -> Path:
    write_tree(tmp_path / "v1", {"m.py": numbered(30)})
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    return repo


def _check(repo: Path, **kw: object) -> CheckReport:
    return run_check(Workspace.open(load_settings(repo)), **kw)  # type: ignore[arg-type]


def test_each_patch_and_hunk_is_an_object(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    moved = upper_hunk("m.py", 20).replace("@@ -19,3 +19,3 @@", "@@ -16,3 +16,3 @@")  # written 3 lines off
    broken = "--- a/m.py\n+++ b/m.py\n@@ -4,3 +4,3 @@\n line 4\n-no such line\n+x\n line 6\n"
    make_series(repo, {"a.diff": upper_hunk("m.py", 10), "b.diff": moved, "c.diff": broken})
    (repo / "patches/stray.diff").write_text(upper_hunk("m.py", 2))
    report = _check(repo)
    assert [(p.name, p.status) for p in report.patches] == [("a.diff", CLEAN), ("b.diff", OFFSET), ("c.diff", FAILS)]
    offset = report.patches[1].hunks[0]
    assert isinstance(offset, HunkCheck) and offset.applied and (offset.offset, offset.line) == (3, 19)
    failed = report.patches[2].hunks[0]
    assert not failed.applied and failed.mismatch == {"line": 5, "expected": "no such line", "found": "line 5"}
    assert report.unlisted == ["stray.diff"] and str(report.upstream).endswith("/v1")
    assert not report.ok and report.not_landing == 1
    # --json is the same objects: its fields are the report's
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is False and [p["status"] for p in data["patches"]] == ["clean", "offset", "fails"]
    assert data["patches"][1]["hunks"][0]["offset"] == 3 and data["unlisted"] == ["stray.diff"]


def test_strict_and_contained(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    make_series(repo, {"a.diff": upper_hunk("m.py", 10)})
    assert _check(repo).ok and _check(repo, strict=True).ok
    # the pin already holds a.diff's change: contained, which never lands
    (tmp_path / "v1/m.py").write_text(numbered(30).replace("line 10\n", "LINE 10\n"))
    report = _check(repo)
    assert report.patches[0].status == CONTAINED and not report.ok


def test_tree_drift_is_typed_and_fails_the_check(tmp_path: Path, run: Runner) -> None:
    repo = _repo(tmp_path)
    make_series(repo, {"a.diff": upper_hunk("m.py", 10)})
    assert run(repo, "push", "-a")[0] == 0  # the tree is built by a real push
    assert _check(repo, tree_check=True).drift == []
    with open(repo / "tree/m.py", "a") as f:
        f.write("an edit outside any patch\n")
    report = _check(repo, tree_check=True)
    assert [d.file for d in report.drift] == ["m.py"] and not report.ok and report.stale is None
