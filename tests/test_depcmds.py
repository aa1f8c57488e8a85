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


MOD = "third_party/proj-1.0/mod.py"
OTHER = "third_party/proj-1.0/other.py"


def test_capture_makes_a_patch_of_edits_made_without_add(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    (repo / OTHER).write_text(numbered(10).replace("line 3\n", "line three\n"))
    (repo / "third_party/proj-1.0/new.py").write_text("created\n")
    tree_before = snapshot(repo / "third_party/proj-1.0", skip_pc=True)
    rc, out, err = run(repo, "capture", "03-captured.patch")
    assert rc == 0, err
    assert snapshot(repo / "third_party/proj-1.0", skip_pc=True) == tree_before
    patch = (repo / "patches/03-captured.patch").read_text()
    assert "+line three" in patch and "+++ b/new.py" in patch and "mod.py" not in patch
    assert (repo / "patches/series").read_text().splitlines()[-1] == "03-captured.patch"
    rc, out, err = run(repo, "status", "--json")
    assert json.loads(out)["attention"] == []
    # the new patch pops and pushes like any other
    assert run(repo, "pop")[0] == 0
    assert (repo / OTHER).read_text() == numbered(10) and not (repo / "third_party/proj-1.0/new.py").exists()
    assert run(repo, "push")[0] == 0
    assert snapshot(repo / "third_party/proj-1.0", skip_pc=True) == tree_before
    rc, out, err = run(repo, "capture", "04-nothing.patch")
    assert rc == 2 and "No edits outside the patches" in err


def test_absorb_moves_each_edit_into_the_patch_that_wrote_its_lines(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    for name, n in (("03-other.patch", 4),):  # a third patch, on other.py
        assert run(repo, "new", name)[0] == 0
        assert run(repo, "add", OTHER)[0] == 0
        (repo / OTHER).write_text(numbered(10).replace(f"line {n}\n", f"LINE {n}\n"))
        assert run(repo, "refresh")[0] == 0
    # 01 wrote LINE 5, 02 LINE 20 (both in mod.py, 02 last holds it), 03 LINE 4 of other.py
    mod = (repo / MOD).read_text()
    (repo / MOD).write_text(mod.replace("LINE 20\n", "LINE 20 (fixed)\n"))
    (repo / OTHER).write_text((repo / OTHER).read_text().replace("LINE 4\n", "LINE 4 (fixed)\n"))
    tree_before = snapshot(repo / "third_party/proj-1.0", skip_pc=True)
    rc, out, err = run(repo, "absorb", "-n")
    assert rc == 0 and "mod.py -> patches/02-twenty.patch" in out and "other.py -> patches/03-other.patch" in out
    rc, out, err = run(repo, "absorb")
    assert rc == 0, err
    assert snapshot(repo / "third_party/proj-1.0", skip_pc=True) == tree_before
    assert "+LINE 20 (fixed)" in (repo / "patches/02-twenty.patch").read_text()
    assert "+LINE 4 (fixed)" in (repo / "patches/03-other.patch").read_text()
    assert "fixed" not in (repo / "patches/01-five.patch").read_text()
    assert json.loads(run(repo, "status", "--json")[1])["attention"] == []
    assert run(repo, "pop", "-a")[0] == 0 and run(repo, "push", "-a")[0] == 0
    assert snapshot(repo / "third_party/proj-1.0", skip_pc=True) == tree_before


def test_absorb_refuses_lines_no_patch_or_an_earlier_patch_wrote(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    mod = (repo / MOD).read_text()
    # LINE 5 was written by 01, but 02 changes mod.py after it
    (repo / MOD).write_text(mod.replace("LINE 5\n", "LINE 5 (fixed)\n"))
    before = snapshot(repo)
    rc, out, err = run(repo, "absorb")
    assert rc == 1 and len(err.splitlines()) == 1
    assert "third_party/proj-1.0/mod.py:5: last written by patches/01-five.patch" in err
    assert snapshot(repo) == before
    (repo / MOD).write_text(mod.replace("line 12\n", "line twelve\n"))
    rc, out, err = run(repo, "absorb")
    assert rc == 1 and "mod.py:12: changes lines no applied patch wrote" in err
    assert snapshot(repo) != before and (repo / MOD).read_text().count("twelve") == 1


def test_restore_undoes_an_edit_outside_any_patch_which_revert_cannot(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    (repo / OTHER).write_text("edited\n")
    (repo / MOD).write_text((repo / MOD).read_text() + "tail\n")
    rc, out, err = run(repo, "revert", OTHER)
    assert rc == 1 and "`f5quilt restore` undoes an edit outside the top patch" in err
    rc, out, err = run(repo, "restore", OTHER, MOD)
    assert rc == 0, err
    assert (repo / OTHER).read_text() == numbered(10)
    assert (repo / MOD).read_text() == numbered(30).replace("line 5\n", "LINE 5\n").replace("line 20\n", "LINE 20\n")
    assert json.loads(run(repo, "status", "--json")[1])["attention"] == []
    assert run(repo, "undo")[0] == 0 and (repo / OTHER).read_text() == "edited\n"


def test_absorb_puts_an_inserted_line_into_the_patch_that_wrote_its_neighbour(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    (repo / MOD).write_text((repo / MOD).read_text().replace("LINE 20\n", "LINE 20\ninserted after twenty\n"))
    rc, out, err = run(repo, "absorb")
    assert rc == 0, err
    assert "+inserted after twenty" in (repo / "patches/02-twenty.patch").read_text()
    # between a pristine line and a patch's line the patch's line decides; between two pristine: refused
    (repo / MOD).write_text((repo / MOD).read_text().replace("line 12\n", "line 12\nbetween pristine lines\n"))
    rc, out, err = run(repo, "absorb")
    assert rc == 1 and "mod.py:13: changes lines no applied patch wrote" in err
