"""Issue 21: paths shown one way. In the f5quilt dialect every path a message names (tree
files, patches, the tree) is relative to the current directory, wherever the command runs:
the repository root, a folder inside the tree, the patches folder. Quilt's dialect keeps
quilt's own words (tree-relative), which tests/test_quilt_testsuite.py compares byte for byte."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import List, Set

import pytest

from helpers import Runner, numbered, write_tree

# a tree file or a patch, as a message names it (``mod.py:5``: the line number is not the path)
PATH = re.compile(r"(?<![\w/.-])((?:\.\.?/)*(?:[\w.-]+/)*[\w-]+\.(?:py|txt|patch))(?![\w/])")


def project(tmp_path: Path, run: Runner) -> Path:
    """vendor/proj (pkg/mod.py ``line 1``..``line 30``, pkg/other.py) vendored from a local
    proj-1.0; 01 upper-cases line 5, 02 line 20. proj-2.0 changes line 20 as well."""
    for version, twenty in (("1.0", "line 20\n"), ("2.0", "line 20 upstream\n")):
        write_tree(tmp_path / f"proj-{version}", {"pkg/mod.py": numbered(30).replace("line 20\n", twenty),
                                                  "pkg/other.py": numbered(10)})
    repo = tmp_path / "repo"
    repo.mkdir()
    assert run(repo, "init", "--path", str(tmp_path / "proj-1.0"), "--tree", "vendor/proj")[0] == 0
    mod = repo / "vendor/proj/pkg/mod.py"
    for name, n in (("01-five.patch", 5), ("02-twenty.patch", 20)):
        assert run(repo, "new", name)[0] == 0
        assert run(repo, "add", str(mod))[0] == 0
        mod.write_text(mod.read_text().replace(f"line {n}\n", f"LINE {n}\n"))
        assert run(repo, "refresh")[0] == 0
    return repo


@pytest.mark.parametrize("where", ["root", "tree", "patches"])
def test_every_path_a_message_shows_is_relative_to_the_cwd(tmp_path: Path, run: Runner, where: str) -> None:
    repo = project(tmp_path, run)
    cwd = {"root": repo, "tree": repo / "vendor/proj/pkg", "patches": repo / "patches"}[where]
    tree = repo / "vendor/proj"
    mod, other, new = tree / "pkg/mod.py", tree / "pkg/other.py", tree / "new.txt"
    shown: Set[str] = set()
    missing: List[str] = []

    def f5(*args: str) -> int:
        rc, out, err = run(cwd, *args)
        paths = set(PATH.findall(out + err))
        paths |= {line[6:].split(" (")[0] for line in (out + err).splitlines() if line.startswith("tree: ")}
        missing.extend(f"{' '.join(args)}: {p}\n{out + err}" for p in sorted(paths) if not (cwd / p).exists()
                       # a patch `new` made has no file until refresh: its folder is the patches folder
                       and not (p.endswith(".patch") and (cwd / p).parent.resolve() == repo / "patches"))
        shown.update(paths)
        return rc

    def rel(path: Path) -> str:
        return os.path.relpath(path, cwd)

    other.write_text("edited\n")
    new.write_text("new\n")
    assert f5("status") == 0 and f5("check", "--tree") == 1
    assert f5("exec", "--", sys.executable, "-c", "pass") == 1 and f5("install", "--wheel-dir", str(tmp_path)) == 1
    assert f5("revert", rel(other)) == 1  # not in the top patch: restore or capture
    pristine_five = mod.read_text()
    mod.write_text(pristine_five.replace("LINE 5\n", "LINE 5 fixed\n"))
    assert f5("absorb", rel(mod)) == 1  # 01 wrote it, 02 changes mod.py after it
    assert f5("restore", rel(mod)) == 0
    mod.write_text(pristine_five.replace("LINE 20\n", "LINE 20 fixed\n"))
    assert f5("absorb", "-n", rel(mod)) == 0 and f5("absorb", rel(mod)) == 0
    assert f5("capture", "03-cap.patch") == 0
    assert f5("new", "04-more.patch") == 0 and f5("add", rel(other)) == 0
    other.write_text("edited twice\n")
    assert f5("status") == 0 and f5("refresh") == 0
    # a broken patch: check and push name its file
    assert f5("pop", "-a") == 0
    two = repo / "patches/02-twenty.patch"
    good = two.read_text()
    two.write_text(good.replace("-line 20\n", "-line XX\n"))
    assert f5("check") == 1 and f5("push", "-a") == 1
    two.write_text(good)
    assert f5("push", "-a") == 0
    # a rebase that stops on 02: the conflicts, refresh and --continue refusing, pop warning
    assert f5("rebase", "--onto", str(tmp_path / "proj-2.0")) == 3
    assert f5("status", "-v") == 0 and f5("refresh") == 1 and f5("rebase", "--continue") == 1
    assert f5("pop") == 0

    assert missing == [], "\n".join(missing)  # each checked as the command printed it
    names = {os.path.basename(p) for p in shown}
    assert {"mod.py", "other.py", "new.txt", "01-five.patch", "02-twenty.patch", "03-cap.patch"} <= names, names
    assert rel(mod) in shown and rel(other) in shown and rel(tree) in shown


def test_quilt_dialect_keeps_tree_relative_names(tmp_path: Path, run: Runner) -> None:
    """Without f5quilt.yaml, quilt's words: a file is named from the tree's root even from a
    folder inside it (quilt runs from there), as quilt's own test-suite expects."""
    write_tree(tmp_path, {"pkg/mod.py": numbered(5), "patches/series": "p.diff\n",
                          "patches/p.diff": "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1,3 +1,3 @@\n"
                                            " line 1\n-line 2\n+LINE 2\n line 3\n"})
    assert run(tmp_path, "push")[0] == 0
    rc, out, err = run(tmp_path / "pkg", "add", "mod.py")
    assert rc == 2 and "File pkg/mod.py is already in patch ../patches/p.diff" in out + err
    (tmp_path / "pkg/new.py").write_text("new\n")
    rc, out, err = run(tmp_path / "pkg", "add", "new.py")
    assert rc == 0 and out == "File pkg/new.py added to patch ../patches/p.diff\n"
