"""exec, capture, absorb, restore and install: the commands for a patched Python dependency."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from helpers import Runner, numbered, snapshot, write_tree


def project(tmp_path: Path, run: Runner) -> Path:
    """A repository vendoring a local ``proj`` (mod.py: ``line 1`` .. ``line 30``) with two
    applied patches: 01 upper-cases line 5, 02 line 20."""
    up = tmp_path / "proj-1.0"
    write_tree(up, {"mod.py": numbered(30), "other.py": numbered(10)})
    repo = tmp_path / "repo"
    repo.mkdir()
    rc, out, err = run(repo, "init", "--path", str(up))
    assert rc == 0, err
    for name, n in (("01-five.patch", 5), ("02-twenty.patch", 20)):
        assert run(repo, "new", name)[0] == 0
        assert run(repo, "add", "third_party/proj-1.0/mod.py")[0] == 0
        mod = repo / "third_party/proj-1.0/mod.py"
        mod.write_text(mod.read_text().replace(f"line {n}\n", f"LINE {n}\n"))
        rc, out, err = run(repo, "refresh")
        assert rc == 0, err
    return repo


def test_exec_names_the_first_patch_that_breaks_the_command_and_restores_the_tree(
        tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    assert run(repo, "pop")[0] == 0  # 01 applied, 02 not: exec must come back to this
    before = snapshot(repo)
    probe = ("import sys, pathlib; t = pathlib.Path('third_party/proj-1.0/mod.py').read_text(); "
             "sys.exit(1 if 'LINE 20' in t else 0)")
    rc, out, err = run(repo, "exec", "--", sys.executable, "-c", probe)
    assert rc == 1
    assert "Patch patches/02-twenty.patch breaks" in err
    assert "Now at patch patches/01-five.patch" in out
    assert snapshot(repo) == before  # files, .pc/ and the log: exec leaves no trace

    rc, out, err = run(repo, "exec", "--json", "--", sys.executable, "-c", probe)
    data = json.loads(out)
    assert rc == 1
    assert [(s["patch"], s["returncode"]) for s in data["steps"]] == [
        (None, 0), ("patches/01-five.patch", 0), ("patches/02-twenty.patch", 1)]
    assert data["first_broken"]["patch"] == "patches/02-twenty.patch"
    assert data["top"] == "patches/01-five.patch"

    # a command that passes everywhere: exit 0, every patch visited
    rc, out, err = run(repo, "exec", "--json", "--", sys.executable, "-c", "pass")
    assert rc == 0 and json.loads(out)["first_broken"] is None
    assert len(json.loads(out)["steps"]) == 3
    assert snapshot(repo) == before


def test_exec_refuses_unrefreshed_edits(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    other = repo / "third_party/proj-1.0/other.py"
    other.write_text("edited\n")
    before = snapshot(repo)
    rc, out, err = run(repo, "exec", "--", sys.executable, "-c", "pass")
    assert rc == 1
    assert "other.py: edited outside any patch" in err and len(err.splitlines()) == 1
    assert snapshot(repo) == before
