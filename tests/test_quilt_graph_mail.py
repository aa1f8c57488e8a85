"""quilt graph (--lines, --edge-labels, --reduce, -T) and mail (--send, --reply-to, the
headers) as GNU quilt 0.66 gives them: the same commands run by both on copies of a tree."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from test_quilt_mode import both, same

pytestmark = [pytest.mark.quilt,
              pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed")]

LINES = "".join(f"line {i}\n" for i in range(1, 31))


def edit(tree: Path, rel: str, old: str, new: str) -> None:
    (tree / rel).write_text((tree / rel).read_text().replace(old, new))


def stack(tmp_path: Path) -> tuple[Path, Path]:
    qt, ft = both(tmp_path, {"f": LINES, "g": "g\n", "h": "h\n"})
    steps = [("a.diff", ["f", "g"], [("f", "line 2\n", "line two\n"), ("g", "g", "G")]),
             ("b.diff", ["f"], [("f", "line 25\n", "line twenty-five\n")]),
             ("c.diff", ["f", "h"], [("f", "line 3\n", "line three\n"), ("h", "h", "H")]),
             ("d.diff", ["h"], [("h", "H", "HH")]),
             ("e.diff", ["g"], [("g", "G", "GG")])]
    for name, files, edits in steps:
        same(tmp_path, qt, ft, "new", name)
        same(tmp_path, qt, ft, "add", *files)
        for tree in (qt, ft):
            for rel, old, new in edits:
                edit(tree, rel, old, new)
        same(tmp_path, qt, ft, "refresh")
    return qt, ft


def test_graph_as_quilt(tmp_path: Path) -> None:
    qt, ft = stack(tmp_path)
    for args in (["graph"], ["graph", "--all"], ["graph", "--all", "--lines"], ["graph", "--all", "--lines=0"],
                 ["graph", "--all", "--lines=5"], ["graph", "--lines", "c.diff"], ["graph", "--edge-labels=files"],
                 ["graph", "--all", "--edge-labels=files", "--lines=1"], ["graph", "a.diff"], ["graph", "b.diff"],
                 ["graph", "e.diff"], ["graph", "nosuch.diff"]):
        same(tmp_path, qt, ft, *args)
    rc, out = same(tmp_path, qt, ft, "graph", "--all", "--lines")
    assert "n0 -> n2" in out and "n1 -> n2" not in out  # c overlaps a's lines, not b's
    rc, out = same(tmp_path, qt, ft, "graph", "--all")
    assert "n1 -> n2" in out and "n0 -> n2" not in out  # by file: the latest patch changing f


@pytest.mark.skipif(shutil.which("dot") is not None, reason="graphviz installed: quilt runs it")
def test_graph_needs_graphviz_for_ps_and_reduce(tmp_path: Path) -> None:
    qt, ft = stack(tmp_path)
    for args in (["graph", "-T", "ps"], ["graph", "--reduce"]):
        rc, out = same(tmp_path, qt, ft, *args)
        assert rc == 1 and "graphviz" in out
