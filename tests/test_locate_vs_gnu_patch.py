"""Differential test against real GNU patch: random files, random edits, random drift.

Wherever both GNU patch and f5quilt apply a patch, the results must be byte
for byte the same (offsets, fuzz, missing final newlines included); where
they differ in whether to apply, it is f5quilt refusing a guess.
"""
from __future__ import annotations

import difflib
import random
import shutil
import subprocess
from pathlib import Path
from typing import List

import pytest

from f5quilt.engine.apply import apply_patch
from f5quilt.errors import F5QuiltError
from f5quilt.model.patch import parse_patch
from helpers import random_edit

pytestmark = pytest.mark.skipif(shutil.which("patch") is None, reason="GNU patch not installed")

WORDS = ["a", "b", "c", "x", "y", "{", "}", ""]


def unified(old: List[str], new: List[str], context: int) -> str:
    out = []
    for line in difflib.unified_diff(old, new, "a/f", "b/f", n=context):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


@pytest.mark.parametrize("fuzz", [0, 1, 2])
def test_same_result_as_gnu_patch_wherever_both_apply(tmp_path: Path, fuzz: int) -> None:
    rng = random.Random(1000 + fuzz)
    both = 0
    for _ in range(250):
        base = [rng.choice(WORDS) + "\n" for _ in range(rng.randint(1, 25))]
        if rng.random() < 0.3:
            base[-1] = base[-1].rstrip("\n") or "z"
        new = random_edit(rng, base, rng.randint(1, 3), WORDS)
        text = unified(base, new, rng.choice([1, 2, 3]))
        if not text:
            continue
        drifted = random_edit(rng, base, rng.randint(0, 3), WORDS) if rng.random() < 0.8 else base
        (tmp_path / "f").write_text("".join(drifted))
        (tmp_path / "p").write_text(text)
        r = subprocess.run(["patch", "-p1", f"-F{fuzz}", "--no-backup-if-mismatch", "-r", "-", "-s", "-i", "p"],
                           cwd=tmp_path, capture_output=True, text=True)
        gnu = (tmp_path / "f").read_text() if r.returncode == 0 else None
        try:
            res = apply_patch(parse_patch(text.encode(), "p"), lambda rel: "".join(drifted).encode(), fuzz=fuzz)
            ours = (res.changes["f"].after or b"").decode() if res.ok else None
        except F5QuiltError:
            ours = None
        if gnu is not None and ours is not None:
            both += 1
            assert ours == gnu, (drifted, text)
    assert both > 100  # the comparison really happened
