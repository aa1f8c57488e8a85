"""End to end with the real pre-commit: a commit that breaks a patch is refused."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

from helpers import ROOT, git, write_tree

CACHE = Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()
PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")

pytestmark = pytest.mark.skipif(not Path(PRE_COMMIT).exists(), reason="pre-commit not installed (pip install -e .[test])")


def hook_repo(tmp: Path) -> tuple[Path, str]:
    """This working copy (tracked and new files) as a git repo pre-commit can clone."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    dest = tmp / "hookrepo"
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-qm", "hook", cwd=dest)
    return dest, git("rev-parse", "HEAD", cwd=dest).strip()


def first_commit(tmp_path: Path, user: Path, cache: Optional[Path] = None) -> "tuple[Dict[str, str], str]":
    """``user`` as a git repository with the hook installed, its files committed (the hook
    passing); the environment the commits ran in (f5quilt's cache ``cache``, default a new one)
    and what they printed."""
    env = dict(os.environ, PRE_COMMIT_HOME=str(CACHE / "pre-commit"), F5QUILT_CACHE=str(cache or tmp_path / "c"))
    git("init", "-q", "-b", "main", cwd=user)
    subprocess.run([PRE_COMMIT, "install"], cwd=user, env=env, check=True, capture_output=True)
    git("add", "-A", cwd=user)
    good = subprocess.run(["git", "commit", "-m", "good"], cwd=user, env=env, capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    return env, good.stdout + good.stderr


def test_commit_breaking_a_patch_is_refused(tmp_path: Path) -> None:
    hooks, rev = hook_repo(tmp_path)
    write_tree(tmp_path / "upstream", {"m.py": "a\nb\nc\nd\n"})
    user = tmp_path / "user"
    write_tree(user, {
        "f5quilt.yaml": f"tree: vendor\nupstream:\n  path: {tmp_path / 'upstream'}\n",
        "patches/series": "fix.diff\n",
        "patches/fix.diff": "--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
        ".pre-commit-config.yaml": f"repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: f5quilt-check\n",
    })
    env, good = first_commit(tmp_path, user)
    assert "Passed" in good
    (user / "patches/fix.diff").write_text("--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n a\n-x\n+B\n c\n")
    git("add", "-A", cwd=user)
    bad = subprocess.run(["git", "commit", "-m", "bad"], cwd=user, env=env, capture_output=True, text=True)
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert "Failed" in out
    assert "patches/fix.diff: vendor/m.py: Hunk #1 FAILED at 1." in out
    assert git("log", "--oneline", cwd=user).count("\n") == 1  # the bad commit did not happen


def test_the_hook_follows_a_patches_folder_that_is_not_patches(tmp_path: Path) -> None:
    """The hook used to run only for `^(patches/|f5quilt\\.yaml$)`: a series kept elsewhere
    (debian/patches here) was never checked, and a broken patch was committed silently."""
    hooks, rev = hook_repo(tmp_path)
    write_tree(tmp_path / "upstream", {"m.py": "a\nb\nc\nd\n"})
    user = tmp_path / "user"
    write_tree(user, {
        "f5quilt.yaml": f"tree: vendor\npatches: debian/patches\nupstream:\n  path: {tmp_path / 'upstream'}\n",
        "debian/patches/series": "fix.diff\n",
        "debian/patches/fix.diff": "--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
        "README": "hello\n",
        ".pre-commit-config.yaml": f"repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: f5quilt-check\n",
    })
    env, _ = first_commit(tmp_path, user)
    (user / "debian/patches/fix.diff").write_text("--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n a\n-x\n+B\n c\n")
    git("add", "-A", cwd=user)
    bad = subprocess.run(["git", "commit", "-m", "bad"], cwd=user, env=env, capture_output=True, text=True)
    assert bad.returncode != 0, bad.stdout + bad.stderr
    assert "debian/patches/fix.diff: vendor/m.py: Hunk #1 FAILED at 1." in bad.stdout + bad.stderr
    # a commit of other files does not check the (still broken, unstaged) series
    git("checkout", "--", "debian/patches/fix.diff", cwd=user)
    git("reset", "-q", cwd=user)
    (user / "README").write_text("changed\n")
    git("add", "README", cwd=user)
    other = subprocess.run(["git", "commit", "-m", "readme"], cwd=user, env=env, capture_output=True, text=True)
    assert other.returncode == 0, other.stdout + other.stderr
