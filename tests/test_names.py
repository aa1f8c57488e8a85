"""Every name a user types that becomes a path is validated before anything is written:
``..``, absolute paths, names leaving the patches folder and symlinked folders are refused
in one line naming the name, exit 1, and no file anywhere under the test's folder changes."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from helpers import make_series, snapshot, write_tree
from test_transaction import BASE, EXT, P1, P2, cli, ok

BAD = {
    "dotdot": "../x.diff",
    "dotdot-deep": "sub/../../x.diff",
    "absolute": "@ABS@/abs.diff",
    "symlinked-folder": "ln/x.diff",
    "pc": ".pc/x.diff",
}

COMMANDS: Dict[str, Tuple[List[str], str]] = {
    "new": (["new", "@NAME@"], ""),
    "rename": (["rename", "@NAME@"], ""),
    "rename -P": (["rename", "-P", "@NAME@", "renamed.diff"], ""),
    "fork": (["fork", "@NAME@"], ""),
    "import -P": (["import", "-P", "@NAME@", "ext.diff"], ""),
    "header -r": (["header", "-r", "@NAME@"], "hdr\n"),
    "delete": (["delete", "@NAME@"], ""),
    "delete -r": (["delete", "-r", "@NAME@"], ""),
    "guard": (["guard", "@NAME@", "+x"], ""),
    "refresh": (["refresh", "@NAME@"], ""),
}


def _repo(tmp_path: Path) -> Path:
    t = tmp_path / "t"
    write_tree(t, BASE)
    make_series(t, {"p1.diff": P1, "p2.diff": P2})
    (t / "ext.diff").write_text(EXT)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "precious").write_text("keep\n")
    os.symlink(tmp_path / "outside", t / "patches" / "ln")
    ok(cli(t, "push", "-a"))
    return t


def _expand(argv: List[str], name: str, tmp_path: Path) -> List[str]:
    name = name.replace("@ABS@", str(tmp_path / "outside"))
    return [name if a == "@NAME@" else a for a in argv]


def _one_line_refusal(r: "object", name: str) -> None:
    rc, err = r.returncode, r.stderr  # type: ignore[attr-defined]
    assert rc == 1, (rc, r.stdout, err)  # type: ignore[attr-defined]
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert name in err or repr(name) in err, err


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_names_are_refused_and_change_nothing(command: str, bad: str, tmp_path: Path) -> None:
    t = _repo(tmp_path)
    argv, stdin = COMMANDS[command]
    argv = _expand(argv, BAD[bad], tmp_path)
    name = _expand(["@NAME@"], BAD[bad], tmp_path)[0]
    before = snapshot(tmp_path)
    r = cli(t, *argv, stdin=stdin)
    _one_line_refusal(r, name)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("option", ["--tree", "--patches"])
@pytest.mark.parametrize("bad", ["../x", "@ABS@/x", "a/../../x", "ln/x"])
def test_init_folders_are_refused_and_change_nothing(option: str, bad: str, tmp_path: Path) -> None:
    write_tree(tmp_path / "up", {"m.py": "x\n"})
    repo = tmp_path / "repo"
    write_tree(repo, {"notes.txt": "mine\n"})
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", repo / "ln")
    name = _expand(["@NAME@"], bad, tmp_path)[0]
    before = snapshot(tmp_path)
    r = cli(repo, "init", "--path", "../up", option, name)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert option in r.stderr and name in r.stderr, r.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("series", [
    "# Patchdir: ../outside/pd\n",       # the folder setup links patches into: outside the tree
    "# Patchdir: a/../../outside/pd\n",
    "# Patchdir: @ABS@/pd\n",
    "# Patchdir: ln/pd\n",                # through a symlinked folder
])
def test_setup_series_names_are_refused_and_change_nothing(series: str, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "precious").write_text("keep\n")
    write_tree(tmp_path / "s", {"p.diff": P1, "series": series.replace("@ABS@", str(tmp_path / "outside"))})
    (tmp_path / "t").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "t" / "ln")
    before = snapshot(tmp_path)
    r = cli(tmp_path / "t", "setup", "../s/series")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Patchdir" in r.stderr, r.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("branch", ["../x", "a..b", "-x", "x y"])
def test_export_branch_names_are_refused_and_change_nothing(branch: str, tmp_path: Path) -> None:
    import subprocess
    repo = tmp_path / "r"
    write_tree(repo, {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n  path: ../v1\n"})
    write_tree(tmp_path / "v1", BASE)
    make_series(repo, {"p1.diff": P1})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    before = snapshot(tmp_path)
    r = cli(repo, "export", "--git", branch)
    assert r.returncode in (1, 2), (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert snapshot(tmp_path) == before
