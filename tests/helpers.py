"""Helpers for the tests: trees and patch folders built in tmp_path, a CLI runner, git."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
import random
from typing import Dict, List, Optional, Tuple

import pytest

from f5quilt.cli import main

ROOT = Path(__file__).resolve().parent.parent

# deterministic git identity and dates for every git the tests start
os.environ.update({
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "SOURCE_DATE_EPOCH": "1767225600",  # header --git, new --git: "now"
})
os.environ.pop("QUILT_PATCHES", None)
os.environ.pop("QUILT_SERIES", None)
os.environ.pop("QUILT_PC", None)
# quilt mode reads the quiltrc as quilt does; the tests read none unless they say so
os.environ["QUILTRC"] = str(Path(__file__).resolve().parent / "data" / "quiltrc-deterministic")


def write_tree(root: Path, files: Dict[str, bytes | str]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)


def snapshot(root: Path, skip_pc: bool = False) -> Dict[str, bytes]:
    out: Dict[str, bytes] = {}
    for dirpath, dirs, files in os.walk(root):
        if skip_pc and ".pc" in dirs:
            dirs.remove(".pc")
        for name in files:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if "/.f5quilt/log/" in "/" + rel:  # f5quilt's undo log grows with every command
                continue
            out[rel] = full.read_bytes()
    return out


class Runner:
    """Runs the real CLI entry point in a directory, capturing output."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, cwd: Path, *args: str) -> Tuple[int, str, str]:
        self.monkeypatch.chdir(cwd)
        self.capsys.readouterr()
        rc = main(list(args))
        out, err = self.capsys.readouterr()
        return rc, out, err


def make_series(root: Path, patches: Dict[str, str], order: Optional[List[str]] = None) -> None:
    pdir = root / "patches"
    pdir.mkdir(parents=True, exist_ok=True)
    for name, text in patches.items():
        (pdir / name).parent.mkdir(parents=True, exist_ok=True)
        (pdir / name).write_text(text)
    (pdir / "series").write_text("".join(n + "\n" for n in (order or list(patches))))


# -- patches shared by the transaction and push/pop tests ------------------------
GREEK = "alpha\nbeta\ngamma\n"
BETA_HUNK = "--- a/g.txt\n+++ b/g.txt\n@@ -1,3 +1,3 @@\n alpha\n-beta\n+BETA\n gamma\n"


def numbered(n: int) -> str:
    """``line 1`` ... ``line n``, one a line: a file the hunks below change."""
    return "".join(f"line {i}\n" for i in range(1, n + 1))


def upper_hunk(path: str, n: int) -> str:
    """A patch of a ``numbered`` file: ``line n`` becomes ``LINE n``, one line of context each side."""
    return (f"--- a/{path}\n+++ b/{path}\n@@ -{n - 1},3 +{n - 1},3 @@\n"
            f" line {n - 1}\n-line {n}\n+LINE {n}\n line {n + 1}\n")


def created_hunk(path: str) -> str:
    """A patch creating ``path`` with one line, ``created``."""
    return f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+created\n"


def new_patch(run: Runner, cwd: Path, name: str, rel: str, old: str, new: str) -> None:
    """Patch ``name`` made in ``cwd`` as a user does (new, add, edit, refresh): the first ``old``
    in ``rel`` becomes ``new`` (``new`` appended when ``old`` is empty)."""
    assert run(cwd, "new", name)[0] == 0
    assert run(cwd, "add", rel)[0] == 0
    f = cwd / rel
    text = f.read_text()
    assert old in text, (rel, old)
    f.write_text(text.replace(old, new, 1) if old else text + new)
    rc, out, err = run(cwd, "refresh")
    assert rc == 0, err


def resolve_markers(path: Path, line: str) -> None:
    """Every conflict block in ``path`` (markers included) replaced by ``line``."""
    text = path.read_text()
    assert "<<<<<<<" in text
    path.write_text(re.sub(r"<<<<<<<.*?>>>>>>>[^\n]*\n", line + "\n", text, flags=re.S))


def git(*args: str, cwd: Optional[Path] = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def f5quilt_cmd(*args: str) -> List[str]:
    return [sys.executable, "-m", "f5quilt", *args]


def random_edit(rng: random.Random, lines: List[str], n: int, words: List[str]) -> List[str]:
    """``lines`` after ``n`` random edits (insert, delete or replace a line by one of ``words``):
    the drift of the differential tests against GNU patch."""
    out = list(lines)
    for _ in range(n):
        i = rng.randrange(len(out) + 1)
        op = rng.random()
        if op < 0.4:
            out.insert(i, rng.choice(words) + "\n")
        elif out and op < 0.7:
            del out[min(i, len(out) - 1)]
        elif out:
            out[min(i, len(out) - 1)] = rng.choice(words) + "\n"
    return out


def git_upstream_v1_v2(path: Path) -> str:
    """A git repository at ``path`` whose a.txt is "v1" at tag v1 and "v2" on main after it;
    returns v1's commit."""
    write_tree(path, {"a.txt": "v1\n"})
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-qm", "v1", cwd=path)
    git("tag", "v1", cwd=path)
    commit = git("rev-parse", "HEAD", cwd=path).strip()
    (path / "a.txt").write_text("v2\n")
    git("commit", "-qam", "v2", cwd=path)
    return commit


def canary_intact(c: Path) -> None:
    """The ``canary`` fixture's folder exactly as made: one file, unchanged."""
    assert sorted(p.name for p in c.rglob("*")) == ["precious"], sorted(p.name for p in c.rglob("*"))
    assert (c / "precious").read_text() == "keep me\n"
