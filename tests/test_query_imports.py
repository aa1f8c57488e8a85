"""The queries people put in a shell prompt (applied, top, series) start fast: they import
neither the engine, the transaction layer, the patch parser (unidiff) nor GitPython."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, Runner, make_series, numbered, upper_hunk, write_tree

HEAVY = ("f5quilt.engine", "f5quilt.repo.transaction", "f5quilt.model.patch", "unidiff", "git")


def imported(cwd: Path, *args: str) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "f5quilt", *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    # -X importtime: "import time: self | cumulative | module" on stderr, one line a module
    return {line.rsplit("|", 1)[1].strip() for line in r.stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


@pytest.mark.parametrize("settings", [False, True], ids=["quilt-mode", "f5quilt.yaml"])
@pytest.mark.parametrize("query", [("applied",), ("top",), ("series",), ("series", "-v")])
def test_queries_import_no_engine(tmp_path: Path, run: Runner, settings: bool, query: tuple) -> None:
    write_tree(tmp_path, {"f.txt": numbered(10)})
    make_series(tmp_path, {"p1.diff": upper_hunk("f.txt", 3), "p2.diff": upper_hunk("f.txt", 7)})
    if settings:
        (tmp_path / "f5quilt.yaml").write_text("tree: .\n")
    assert run(tmp_path, "push")[0] == 0
    modules = imported(tmp_path, *query)
    assert "f5quilt.repo.workspace" in modules  # the check reads what the query imported
    heavy = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == [], f"{' '.join(query)} imported {heavy}"
