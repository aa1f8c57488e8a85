"""Friction found trying f5quilt as a new user would (issue 21, item 6): each a regression test."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from helpers import Runner, numbered, snapshot, write_tree
from test_depcmds import project


def log_entries(repo: Path) -> list:  # type: ignore[type-arg]
    return sorted(p.name for p in (repo / ".f5quilt/log").iterdir()) if (repo / ".f5quilt/log").is_dir() else []


def test_rebase_onto_the_current_pin_says_nothing_to_do_and_logs_nothing(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    before, log = snapshot(repo), log_entries(repo)
    rc, out, err = run(repo, "rebase", "--onto", str(tmp_path / "proj-1.0"))
    assert rc == 2 and "nothing to rebase" in err, out + err
    assert snapshot(repo) == before and log_entries(repo) == log
