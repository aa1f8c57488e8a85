"""Binary and odd patches through the real CLI: push then pop gives the bytes back.

Binary patches are written by ``git diff --binary``; the data-less
placeholders are what Debian series (glibc, qemu) carry; GNU quilt is run on
the same series where it can apply them.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

from helpers import ROOT, Runner, git, snapshot, write_tree

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")

OLD: Dict[str, Optional[bytes]] = {
    "img/logo.png": bytes(range(256)) * 40,
    "small.bin": b"hello\0world\n",
    "gone.bin": b"\0\1\2\3" * 100,
    "text.txt": b"one\ntwo\n",
    "new.bin": None,
}
NEW: Dict[str, Optional[bytes]] = {
    "img/logo.png": bytes(range(256)) * 20 + b"\xff\xfe" + bytes(range(256)) * 20,
    "small.bin": b"hello\0WORLD\n",
    "gone.bin": None,
    "text.txt": b"one\nTWO\n",
    "new.bin": b"\x89PNG\r\n\x1a\n" + bytes(300),
}


def binary_diff(tmp: Path, old: Dict[str, Optional[bytes]], new: Dict[str, Optional[bytes]]) -> bytes:
    repo = tmp / "gitrepo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    for state in (old, new):
        for rel, data in state.items():
            path = repo / rel
            if data is None:
                if path.exists():
                    path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "--allow-empty", "-m", "s", cwd=repo)
    diff = subprocess.run(["git", "diff", "--binary", "HEAD~1", "HEAD"], cwd=repo,
                          capture_output=True, check=True).stdout
    shutil.rmtree(repo)
    return diff


def tree_with(tmp: Path, files: Dict[str, Optional[bytes]], patches: Dict[str, bytes],
              series: str = "") -> Path:
    root = tmp / "tree"
    write_tree(root, {k: v for k, v in files.items() if v is not None})
    (root / "patches").mkdir()
    for name, data in patches.items():
        (root / "patches" / name).write_bytes(data)
    (root / "patches" / "series").write_text(series or "".join(n + "\n" for n in patches))
    return root


def files(root: Path) -> Dict[str, bytes]:
    return {k: v for k, v in snapshot(root, skip_pc=True).items() if not k.startswith("patches/")}


def present(state: Dict[str, Optional[bytes]]) -> Dict[str, bytes]:
    return {k: v for k, v in state.items() if v is not None}


def test_git_binary_patch_push_pop_round_trip(tmp_path: Path, run: Runner) -> None:
    root = tree_with(tmp_path, OLD, {"bin.diff": binary_diff(tmp_path, OLD, NEW)})
    rc, out, err = run(root, "push")
    assert rc == 0, err
    assert files(root) == present(NEW)
    assert (root / ".pc/bin.diff/new.bin").read_bytes() == b""  # quilt: empty backup = created
    rc, _, err = run(root, "pop")
    assert rc == 0, err
    assert files(root) == present(OLD)


def test_reversed_series_entry_applies_the_reverse_hunks(tmp_path: Path, run: Runner) -> None:
    # the patch is written from NEW to OLD; "-R" in the series applies it OLD -> NEW
    root = tree_with(tmp_path, OLD, {"back.diff": binary_diff(tmp_path, NEW, OLD)}, "back.diff -R\n")
    rc, _, err = run(root, "push")
    assert rc == 0, err
    assert files(root) == present(NEW)
    assert run(root, "pop")[0] == 0
    assert files(root) == present(OLD)


def test_corrupt_binary_data_changes_nothing(tmp_path: Path, run: Runner) -> None:
    good = binary_diff(tmp_path, OLD, NEW)
    lines = good.split(b"\n")
    at = lines.index(b"GIT binary patch") + 2
    lines[at] = lines[at][:4] + b"\x7f" + lines[at][5:]
    root = tree_with(tmp_path, OLD, {"bad.diff": b"\n".join(lines)})
    before = snapshot(root)
    rc, out, err = run(root, "push")
    assert rc == 1
    assert err.strip().startswith(f"patches/bad.diff:{at + 1}: corrupt binary patch"), err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(root) == before


def test_binary_patch_on_other_content_is_refused(tmp_path: Path, run: Runner) -> None:
    changed = dict(OLD, **{"small.bin": b"something else"})
    root = tree_with(tmp_path, changed, {"bin.diff": binary_diff(tmp_path, OLD, NEW)})
    before = snapshot(root)
    rc, _, err = run(root, "push")
    assert rc == 1
    assert "small.bin: binary patch does not apply" in err
    assert snapshot(root) == before


PLACEHOLDERS = (b"diff --git a/data/font.bin b/data/font.bin\n"
                b"new file mode 100644\n"
                b"index 0000000..e69de29\n"
                b"Binary files /dev/null and b/data/font.bin differ\n"
                b"diff --git a/img.png b/img.png\n"
                b"index 1111111..2222222 100644\n"
                b"Binary files a/img.png and b/img.png differ\n"
                b"diff --git a/text.txt b/text.txt\n"
                b"--- a/text.txt\n+++ b/text.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n")
PLACEHOLDER_BASE: Dict[str, Optional[bytes]] = {"img.png": b"\x89PNG old", "text.txt": b"one\ntwo\n"}


def test_placeholder_without_data_as_gnu_patch(tmp_path: Path, run: Runner) -> None:
    root = tree_with(tmp_path, PLACEHOLDER_BASE, {"ph.diff": PLACEHOLDERS})
    rc, out, err = run(root, "push")
    assert rc == 0, err
    assert files(root) == {"data/font.bin": b"", "img.png": b"\x89PNG old", "text.txt": b"one\nTWO\n"}
    assert "data/font.bin: binary file without data in the patch: created empty" in out
    assert "img.png: binary change without data in the patch: left unchanged" in out
    assert run(root, "pop")[0] == 0
    assert files(root) == present(PLACEHOLDER_BASE)


@pytest.mark.quilt
@pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed")
def test_placeholder_tree_is_gnu_quilts(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUILTRC="/dev/null", QUILT_PATCHES="patches")
    trees = {}
    for tool in ("quilt", "f5quilt"):
        root = tree_with(tmp_path / tool, PLACEHOLDER_BASE, {"ph.diff": PLACEHOLDERS})
        cmd = ["quilt", "--quiltrc=/dev/null"] if tool == "quilt" else [sys.executable, "-m", "f5quilt"]
        r = subprocess.run([*cmd, "push", "-a"], cwd=root, env=env, capture_output=True, text=True)
        assert r.returncode == 0, (tool, r.stdout, r.stderr)
        trees[tool] = files(root)
    assert trees["quilt"] == trees["f5quilt"]


NAMES_BASE: Dict[str, Optional[bytes]] = {
    "common/usuals.h": b"#define A 1\n#define B 2\n",
    "Doc/Core and Builtins/y.rst": b"old\n",
    "Objects/frame.c": b"int x;\n",
    "\u00e9t\u00e9.txt": b"summer\n",
}
STAMP = "2015-03-01 16:48:10.684201573 +0100"
NAME_PATCHES = {
    # clamsmtp: a timestamp after spaces instead of a tab
    "clamsmtp.diff": (f"--- clamsmtp/common/usuals.h    {STAMP}\n"
                      f"+++ clamsmtp-patched/common/usuals.h    {STAMP}\n"
                      "@@ -1,2 +1,2 @@\n #define A 1\n-#define B 2\n+#define B 3\n").encode(),
    # python3.11's frame_dealloc-crash.diff: a new file with spaces in its name, no tab
    "python.diff": (b"--- /dev/null\n+++ b/Misc/NEWS.d/next/Core and Builtins/2023-07-18.rst\n"
                    b"@@ -0,0 +1 @@\n+Fix a crash.\n"
                    b"--- a/Objects/frame.c\n+++ b/Objects/frame.c\n@@ -1 +1 @@\n-int x;\n+int y;\n"),
    # git's output: a tab after a name with spaces, and a quoted name
    "git.diff": (b"diff --git a/Doc/Core and Builtins/y.rst b/Doc/Core and Builtins/y.rst\n"
                 b"--- a/Doc/Core and Builtins/y.rst\t\n+++ b/Doc/Core and Builtins/y.rst\t\n"
                 b"@@ -1 +1 @@\n-old\n+new\n"
                 b'diff --git "a/\\303\\251t\\303\\251.txt" "b/\\303\\251t\\303\\251.txt"\n'
                 b'--- "a/\\303\\251t\\303\\251.txt"\n+++ "b/\\303\\251t\\303\\251.txt"\n'
                 b"@@ -1 +1 @@\n-summer\n+winter\n"),
}


def _tool(tool: str, root: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUILTRC="/dev/null", QUILT_PATCHES="patches",
               NO_COLOR="1")
    cmd = ["quilt", "--quiltrc=/dev/null"] if tool == "quilt" else [sys.executable, "-m", "f5quilt"]
    return subprocess.run([*cmd, *args], cwd=root, env=env, capture_output=True, text=True)


@pytest.mark.quilt
@pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed")
def test_odd_names_give_gnu_quilts_tree_and_take_turns(tmp_path: Path) -> None:
    base = NAMES_BASE
    pushed = {}
    for tool in ("quilt", "f5quilt"):
        root = tree_with(tmp_path / tool, base, NAME_PATCHES)
        r = _tool(tool, root, "push", "-a")
        assert r.returncode == 0, (tool, r.stdout, r.stderr)
        pushed[tool] = files(root)
        if tool == "f5quilt":  # the cut name is said, once
            assert r.stdout.count("only a tab separates a name with spaces from a timestamp") == 1
    assert pushed["quilt"] == pushed["f5quilt"]
    # what GNU patch makes of them, spelled out
    assert pushed["f5quilt"]["common/usuals.h"].endswith(b"#define B 3\n")
    assert pushed["f5quilt"]["Misc/NEWS.d/next/Core"] == b"Fix a crash.\n"
    assert pushed["f5quilt"]["Doc/Core and Builtins/y.rst"] == b"new\n"
    assert pushed["f5quilt"]["\u00e9t\u00e9.txt"] == b"winter\n"
    # each pops what the other pushed
    for pusher, popper in (("quilt", "f5quilt"), ("f5quilt", "quilt")):
        root = tmp_path / pusher / "tree"
        r = _tool(popper, root, "pop", "-a")
        assert r.returncode == 0, (popper, r.stdout, r.stderr)
        assert files(root) == present(base)
        r = _tool(pusher, root, "push", "-a")
        assert r.returncode == 0, (pusher, r.stdout, r.stderr)


def test_binary_patch_of_files_with_spaces_and_quoted_names(tmp_path: Path, run: Runner) -> None:
    old: Dict[str, Optional[bytes]] = {"dir with space/x y.bin": b"\0old" * 50,
                                       "\u00e9\t.bin": b"\1\2\3", "plain.bin": None}
    new: Dict[str, Optional[bytes]] = {"dir with space/x y.bin": b"\0new" * 50,
                                       "\u00e9\t.bin": None, "plain.bin": b"\0"}
    patch = binary_diff(tmp_path, old, new)
    assert b'"a/\\303\\251\\t.bin"' in patch and b"diff --git a/dir with space/x y.bin" in patch
    root = tree_with(tmp_path, old, {"odd.diff": patch})
    rc, _, err = run(root, "push")
    assert rc == 0, err
    assert files(root) == present(new)
    assert run(root, "pop")[0] == 0
    assert files(root) == present(old)


DELETE_PLACEHOLDER = (b"diff --git a/img.png b/img.png\ndeleted file mode 100644\n"
                      b"index e69de29..0000000\nBinary files a/img.png and /dev/null differ\n")


@pytest.mark.parametrize("content,deleted", [(b"", True), (b"data", False)])
def test_deleted_file_placeholder_as_gnu_patch(tmp_path: Path, run: Runner, content: bytes,
                                               deleted: bool) -> None:
    # GNU patch -f: deletes the file when it is empty, refuses otherwise
    work = tmp_path / "gnu"
    work.mkdir()
    (work / "img.png").write_bytes(content)
    (tmp_path / "d.diff").write_bytes(DELETE_PLACEHOLDER)
    gnu = subprocess.run(["patch", "-p1", "-f", "-s", "-i", str(tmp_path / "d.diff")], cwd=work,
                         capture_output=True)
    assert (gnu.returncode == 0) == deleted and (not (work / "img.png").exists()) == deleted
    root = tree_with(tmp_path, {"img.png": content}, {"d.diff": DELETE_PLACEHOLDER})
    rc, _, err = run(root, "push")
    assert (rc == 0) == deleted, err
    assert (not (root / "img.png").exists()) == deleted
    if not deleted:
        assert "not deleting" in err and (root / "img.png").read_bytes() == content


def test_reversed_new_file_placeholder_deletes_the_empty_file(tmp_path: Path, run: Runner) -> None:
    # GNU patch -R -f on the new-file placeholder removes the empty file
    new_file = PLACEHOLDERS.split(b"diff --git a/img.png")[0]
    root = tree_with(tmp_path, {"data/font.bin": b"", "keep": b"k"}, {"r.diff": new_file}, "r.diff -R\n")
    rc, _, err = run(root, "push")
    assert rc == 0, err
    assert files(root) == {"keep": b"k"}
    assert run(root, "pop")[0] == 0
    # GNU quilt loses the empty file here (its empty backup stands for "missing"); f5quilt
    # records in its own state that the file existed empty, and pop brings it back
    assert files(root) == {"data/font.bin": b"", "keep": b"k"}


def test_pop_refuses_an_edited_binary_file(tmp_path: Path, run: Runner) -> None:
    root = tree_with(tmp_path, OLD, {"bin.diff": binary_diff(tmp_path, OLD, NEW)})
    assert run(root, "push")[0] == 0
    (root / "small.bin").write_bytes(b"edited\0")
    rc, out, err = run(root, "pop")
    assert rc == 1 and "does not remove cleanly" in err  # quilt mode: quilt's words, no file list
    (root / "f5quilt.yaml").write_text("tree: .\n")
    rc, out, err = run(root, "pop")
    assert rc == 1 and "small.bin has changes not in the patch" in out
    (root / "f5quilt.yaml").unlink()
    assert run(root, "pop", "-f")[0] == 0
    assert files(root) == present(OLD)


@pytest.mark.quilt
@pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed")
def test_gnu_quilt_pops_a_binary_patch_only_with_force(tmp_path: Path) -> None:
    # GNU quilt checks a pop with GNU patch, which cannot read git binary hunks:
    # it needs -f, then restores its backups like any patch
    root = tree_with(tmp_path, OLD, {"bin.diff": binary_diff(tmp_path, OLD, NEW)})
    assert _tool("f5quilt", root, "push").returncode == 0
    assert _tool("quilt", root, "pop").returncode != 0
    r = _tool("quilt", root, "pop", "-f")
    assert r.returncode == 0, r.stderr
    assert files(root) == present(OLD)


def test_binary_rename_with_changes(tmp_path: Path, run: Runner) -> None:
    blob = bytes(range(256)) * 30
    old: Dict[str, Optional[bytes]] = {"a/old.bin": blob, "b/new.bin": None}
    new: Dict[str, Optional[bytes]] = {"a/old.bin": None, "b/new.bin": blob[:-10] + b"\0" * 10}
    repo = tmp_path / "r"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    write_tree(repo, {"a/old.bin": blob})
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "1", cwd=repo)
    (repo / "b").mkdir()
    git("mv", "a/old.bin", "b/new.bin", cwd=repo)
    (repo / "b/new.bin").write_bytes(new["b/new.bin"] or b"")
    git("add", "-A", cwd=repo)
    patch = subprocess.run(["git", "diff", "--cached", "-M", "--binary"], cwd=repo, capture_output=True,
                           check=True).stdout
    assert b"rename from a/old.bin" in patch and b"GIT binary patch" in patch
    root = tree_with(tmp_path, old, {"mv.diff": patch})
    rc, _, err = run(root, "push")
    assert rc == 0, err
    assert files(root) == present(new)
    assert run(root, "pop")[0] == 0
    assert files(root) == present(old)


def test_git_mode_that_is_not_octal_is_one_line(tmp_path: Path, run: Runner) -> None:
    """A git-header patch whose mode line is not octal (found with a duplicated hunk): was a
    ValueError traceback in _mode_bits."""
    patch = (b"diff --git a/m.py b/m.py\nold mode 100644\nnew mode 100899\n--- a/m.py\n+++ b/m.py\n"
             b"@@ -1,2 +1,2 @@\n-a\n+A\n b\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n")
    root = tree_with(tmp_path, {"m.py": b"a\nb\n"}, {"p.diff": patch})
    before = files(root)
    for args in (["push"], ["push", "-f"]):
        rc, out, err = run(root, *args)
        assert rc == 1 and "malformed file mode '100899'" in err, (out, err)
        assert len(err.strip().splitlines()) == 1 and files(root) == before
