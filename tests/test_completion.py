"""Shell completion (click's): patch names for the commands that take one, files for add/edit."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List

from helpers import ROOT, make_series, snapshot, write_tree


def complete(cwd: Path, words: str) -> List[str]:
    env = dict(os.environ, _F5QUILT_COMPLETE="bash_complete", COMP_WORDS=words,
               COMP_CWORD=str(len(words.split(" ")) - 1), PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "f5quilt"], cwd=cwd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_patch_names_and_files_complete_and_nothing_is_written(tmp_path: Path) -> None:
    write_tree(tmp_path, {"f.txt": "x\n"})
    make_series(tmp_path, {"01-a.diff": "", "02-b.diff": "", "10-c.diff": ""})
    before = snapshot(tmp_path)
    assert complete(tmp_path, "f5quilt push ") == ["plain,01-a.diff", "plain,02-b.diff", "plain,10-c.diff"]
    assert complete(tmp_path, "f5quilt pop 0") == ["plain,01-a.diff", "plain,02-b.diff"]
    # the folder typed is kept: the shell replaces the word with what it is offered
    assert complete(tmp_path, "f5quilt refresh patches/1") == ["plain,patches/10-c.diff"]
    assert complete(tmp_path, "f5quilt push patches/0") == ["plain,patches/01-a.diff", "plain,patches/02-b.diff"]
    assert complete(tmp_path, "f5quilt diff -P 02") == ["plain,02-b.diff"]
    assert complete(tmp_path, "f5quilt delete ") == ["plain,01-a.diff", "plain,02-b.diff", "plain,10-c.diff"]
    assert complete(tmp_path, "f5quilt new 0") == []  # a new name: nothing to offer
    assert complete(tmp_path, "f5quilt add f") == ["file,f"]  # the shell lists the files
    assert complete(tmp_path, "f5quilt edit ") == ["file,"]
    assert "plain,push" in complete(tmp_path, "f5quilt pu")
    assert snapshot(tmp_path) == before and not (tmp_path / ".pc").exists()


def test_completion_scripts_for_bash_zsh_fish() -> None:
    for shell in ("bash", "zsh", "fish"):
        env = dict(os.environ, _F5QUILT_COMPLETE=f"{shell}_source", PYTHONPATH=str(ROOT))
        r = subprocess.run([sys.executable, "-m", "f5quilt"], env=env, capture_output=True, text=True)
        assert r.returncode == 0 and "_F5QUILT_COMPLETE" in r.stdout, shell
