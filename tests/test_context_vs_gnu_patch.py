"""Context diffs (``diff -c``) as patch input, against real GNU diff and GNU patch.

Random trees, edited at random (lines inserted, deleted, changed; files
created and deleted; final newlines taken away), are diffed by GNU diff
``-c``/``-C N`` (``-r -N``, sometimes ``-p``); GNU patch ``-p1`` and f5quilt
apply the result to the old tree (moved down a few lines at times, so offsets
count). The trees must be byte for byte the same. Malformed context diffs
are refused by both, f5quilt in one line naming the patch line.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from f5quilt.engine.apply import apply_patch
from f5quilt.errors import F5QuiltError, PatchFormatError
from f5quilt.model.patch import parse_patch
from helpers import Runner, random_edit, snapshot, write_tree

pytestmark = pytest.mark.skipif(shutil.which("patch") is None or shutil.which("diff") is None,
                                reason="GNU patch and GNU diff not installed")

WORDS = ["a", "b", "c", "x", "y", "{", "}", "", "  indented", "- dash", "! bang", "+ plus", "*** stars"]
ENV = dict(os.environ, TZ="UTC", LC_ALL="C")


def random_file(rng: random.Random) -> List[str]:
    lines = [rng.choice(WORDS) + "\n" for _ in range(rng.randint(1, 30))]
    if rng.random() < 0.2:
        lines[-1] = lines[-1].rstrip("\n") or "z"
    return lines


def files_of(root: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def gnu_patch(tree: Path, patch: Path) -> Optional[Dict[str, bytes]]:
    r = subprocess.run(["patch", "-p1", "-F0", "-s", "-f", "--no-backup-if-mismatch", "-r", "-",
                        "-i", str(patch)], cwd=tree, capture_output=True, env=ENV)
    return files_of(tree) if r.returncode == 0 else None


def ours(tree: Path, data: bytes) -> Optional[Dict[str, bytes]]:
    def read(rel: str) -> Optional[bytes]:
        p = tree / rel
        return p.read_bytes() if p.is_file() else None
    try:
        res = apply_patch(parse_patch(data, "p.diff"), read, strip=1)
    except F5QuiltError:
        return None
    if res.rejected_count:
        return None
    out = files_of(tree)
    for rel, ch in res.changes.items():
        if ch.after is None:
            out.pop(rel, None)
        else:
            out[rel] = ch.after
    return dict(sorted(out.items()))


def test_same_trees_as_gnu_patch_on_diff_c_output(tmp_path: Path) -> None:
    rng = random.Random(4242)
    refused = compared = with_offset = creations = deletions = no_newline = 0
    for case in range(150):
        work = tmp_path / str(case)
        old: Dict[str, List[str]] = {f"d/f{k}.txt": random_file(rng) for k in range(rng.randint(1, 3))}
        new = {k: random_edit(rng, v, rng.randint(1, 4), WORDS) for k, v in old.items()}
        if rng.random() < 0.25:
            new["d/created.txt"] = random_file(rng)
        if rng.random() < 0.2 and len(new) > 1:
            del new[sorted(new)[0]]
        if rng.random() < 0.2:
            k = sorted(new)[-1]
            if new[k]:
                new[k][-1] = new[k][-1].rstrip("\n") or "w"
        write_tree(work / "a", {k: "".join(v) for k, v in old.items()})
        write_tree(work / "b", {k: "".join(v) for k, v in new.items()})
        context = rng.choice(["-c", "-C1", "-C2", "-C5"])
        opts = ["-r", "-N", context] + (["-p"] if rng.random() < 0.3 else [])
        r = subprocess.run(["diff", *opts, "a", "b"], cwd=work, capture_output=True, env=ENV)
        assert r.returncode in (0, 1), r.stderr
        if not r.stdout:
            continue
        data = r.stdout
        (work / "p.diff").write_bytes(data)
        base = {k: "".join(v) for k, v in old.items()}
        if rng.random() < 0.4:  # the tree moved on: the hunks land at an offset
            with_offset += 1
            base = {k: "moved\n" * rng.randint(1, 4) + v for k, v in base.items()}
        for side in ("gnu", "f5"):
            write_tree(work / side, base)
        theirs = gnu_patch(work / "gnu", work / "p.diff")
        mine = ours(work / "f5", data)
        assert mine == theirs, data.decode()
        if theirs is None:  # a hunk at the start of a file, its context short there: anchored
            refused += 1
            continue
        compared += 1
        epoch = b"\tThu Jan  1 00:00:00 1970\n"  # diff -N's missing side, in -c's ctime format
        creations += b"\n*** a/d/created.txt" + epoch in data
        deletions += any(x.startswith(b"--- b/") and x.endswith(epoch) for x in data.splitlines(True))
        no_newline += b"\\ No newline at end of file" in data
    assert refused > 5 and compared > 100 and with_offset > 20 and creations > 10 and deletions > 5 and no_newline > 10


def test_diff_C0_insertion_as_gnu_patch(tmp_path: Path) -> None:
    # "*** 7 ****" without old lines: an insertion after line 7, not a change of line 7
    old = "".join(f"{n}\n" for n in range(1, 9))
    write_tree(tmp_path / "a", {"f": old})
    write_tree(tmp_path / "b", {"f": old.replace("7\n", "7\nX\n").replace("2\n", "2\nY\nZ\n")})
    data = subprocess.run(["diff", "-C0", "a/f", "b/f"], cwd=tmp_path, capture_output=True, env=ENV).stdout
    assert b"*** 7 ****\n--- 10 ----\n+ X\n" in data
    (tmp_path / "p.diff").write_bytes(data)
    write_tree(tmp_path / "gnu", {"f": old})
    write_tree(tmp_path / "f5", {"f": old})
    assert ours(tmp_path / "f5", data) == gnu_patch(tmp_path / "gnu", tmp_path / "p.diff") \
        == {"f": old.replace("7\n", "7\nX\n").replace("2\n", "2\nY\nZ\n").encode()}


def test_diff_C0_deletion_read_where_gnu_patch_refuses(tmp_path: Path) -> None:
    # GNU patch 2.7 refuses "*** 5 ****\n- 5\n--- 4 ----" ("replacement text or line numbers
    # mangled"); the range "4" of an empty new part is the place after line 4: f5quilt deletes line 5
    old = "".join(f"{n}\n" for n in range(1, 9))
    data = (b"*** a/f\t2026-01-01 00:00:00.000000000 +0000\n--- b/f\t2026-01-01 00:00:00.000000000 +0000\n"
            b"***************\n*** 5 ****\n- 5\n--- 4 ----\n")
    (tmp_path / "p.diff").write_bytes(data)
    write_tree(tmp_path / "gnu", {"f": old})
    write_tree(tmp_path / "f5", {"f": old})
    assert gnu_patch(tmp_path / "gnu", tmp_path / "p.diff") is None
    hunk = parse_patch(data, "p.diff").files[0].hunks[0]
    assert (hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len) == (5, 1, 4, 0)
    assert ours(tmp_path / "f5", data) == {"f": old.replace("5\n", "").encode()}


HEAD = b"*** a/f\t2026-01-01 00:00:00.000000000 +0000\n--- b/f\t2026-01-01 00:00:00.000000000 +0000\n"
MALFORMED = {
    # the old part has fewer lines than its range says: GNU patch's "Premature '---'"
    "premature ---": (HEAD + b"***************\n*** 1,3 ****\n  a\n! b\n--- 1,3 ----\n  a\n! B\n  c\n", 7),
    # the two parts do not have the same context lines: "context mangled"
    "context mangled": (HEAD + b"***************\n*** 1,3 ****\n  a\n! b\n  c\n--- 1,2 ----\n! B\n  c\n", 4),
    # a line that is no hunk line in the new part
    "bad new line": (HEAD + b"***************\n*** 1,2 ****\n  a\n! b\n--- 1,2 ----\n  a\n?B\n", 9),
    # the new part ends before its range does
    "new part short": (HEAD + b"***************\n*** 1,2 ****\n  a\n! b\n--- 1,3 ----\n  a\n! B\n", 9),
    # no "--- a,b ----" at all
    "no new range": (HEAD + b"***************\n*** 1,2 ****\n  a\n! b\n", 6),
    # a broken old range
    "bad old range": (HEAD + b"***************\n*** one ****\n  a\n--- 1 ----\n", 4),
    # a "-" line where the new part wants " ", "+" or "!"
    "minus in new part": (HEAD + b"***************\n*** 1,2 ****\n  a\n! b\n--- 1,2 ----\n  a\n- b\n", 9),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_context_diff_is_one_line_naming_the_line(tmp_path: Path, case: str) -> None:
    data, line = MALFORMED[case]
    (tmp_path / "p.diff").write_bytes(data)
    write_tree(tmp_path / "gnu", {"f": "a\nb\nc\n"})
    assert gnu_patch(tmp_path / "gnu", tmp_path / "p.diff") is None  # GNU patch refuses it too
    with pytest.raises(PatchFormatError) as err:
        parse_patch(data, "p.diff")
    message = str(err.value)
    assert message.startswith(f"p.diff:{line}: ") and "\n" not in message, message


def test_push_pop_refresh_of_a_context_patch(tmp_path: Path, run: Runner) -> None:
    """Quilt mode: push and pop a context diff, then refresh it (quilt regenerates it unified)."""
    old = "".join(f"line {n}\n" for n in range(1, 21))
    new = old.replace("line 5\n", "line five\n").replace("line 15\n", "")
    write_tree(tmp_path / "a", {"f.txt": old, "gone.txt": "bye\n"})
    write_tree(tmp_path / "b", {"f.txt": new, "new.txt": "hello\nworld"})
    data = subprocess.run(["diff", "-crN", "a", "b"], cwd=tmp_path, capture_output=True, env=ENV).stdout
    tree = tmp_path / "t"
    write_tree(tree, {"f.txt": old, "gone.txt": "bye\n", "patches/series": "ctx.diff\n",
                      "patches/ctx.diff": b"The description.\n\n" + data})
    before = snapshot(tree)
    assert run(tree, "push")[0] == 0
    assert (tree / "f.txt").read_text() == new and (tree / "new.txt").read_text() == "hello\nworld"
    assert not (tree / "gone.txt").exists()
    rc, out, _ = run(tree, "files")
    assert rc == 0 and out.split() == ["f.txt", "gone.txt", "new.txt"]
    assert run(tree, "pop")[0] == 0
    assert snapshot(tree, skip_pc=True) == {k: v for k, v in before.items()}
    assert run(tree, "push")[0] == 0
    assert run(tree, "refresh")[0] == 0
    refreshed = (tree / "patches/ctx.diff").read_bytes()
    assert refreshed.startswith(b"The description.\n\n--- a/f.txt\n+++ b/f.txt\n")  # this quiltrc: -p ab
    assert b"\n***************\n" not in refreshed and b"\n@@ -2,7 +2,7 @@\n" in refreshed
    assert run(tree, "pop")[0] == 0 and run(tree, "push")[0] == 0
    assert (tree / "f.txt").read_text() == new


def test_context_patch_in_f5quilt_mode(tmp_path: Path, run: Runner) -> None:
    """With an f5quilt.yaml: push, pop, an unchanged refresh that leaves the context diff as it
    is (churn-free), and a refresh after an edit that writes it unified."""
    old = "".join(f"line {n}\n" for n in range(1, 21))
    write_tree(tmp_path / "a", {"f.txt": old})
    write_tree(tmp_path / "b", {"f.txt": old.replace("line 5\n", "line five\n")})
    data = subprocess.run(["diff", "-cr", "a", "b"], cwd=tmp_path, capture_output=True, env=ENV).stdout
    tree = tmp_path / "t"
    write_tree(tree, {"f.txt": old, "f5quilt.yaml": "tree: .\n", "patches/series": "ctx.diff\n",
                      "patches/ctx.diff": data})
    assert run(tree, "push")[0] == 0 and (tree / "f.txt").read_text() == old.replace("line 5\n", "line five\n")
    assert run(tree, "refresh")[0] == 0
    assert (tree / "patches/ctx.diff").read_bytes() == data  # same effect: not rewritten
    (tree / "f.txt").write_text(old.replace("line 5\n", "line FIVE\n"))
    assert run(tree, "refresh")[0] == 0
    assert (tree / "patches/ctx.diff").read_text() == (
        "diff --git a/f.txt b/f.txt\n--- a/f.txt\n+++ b/f.txt\n"
        "@@ -2,7 +2,7 @@ line 1\n line 2\n line 3\n line 4\n-line 5\n+line FIVE\n line 6\n line 7\n line 8\n")
    assert run(tree, "pop")[0] == 0 and (tree / "f.txt").read_text() == old


def test_p0_context_diff_of_orig_file_as_gnu_patch(tmp_path: Path) -> None:
    """``diff -c f.orig f`` applied with -p0 (quilt's ``-p0`` series entries): the name that exists wins."""
    old = "".join(f"{n}\n" for n in range(1, 12))
    write_tree(tmp_path / "src", {"dir/f.c.orig": old, "dir/f.c": old.replace("6\n", "six\n")})
    data = subprocess.run(["diff", "-c", "dir/f.c.orig", "dir/f.c"], cwd=tmp_path / "src",
                          capture_output=True, env=ENV).stdout
    (tmp_path / "p.diff").write_bytes(data)
    for side in ("gnu", "f5"):
        write_tree(tmp_path / side, {"dir/f.c": old})
    r = subprocess.run(["patch", "-p0", "-F0", "-s", "-f", "--no-backup-if-mismatch", "-i", str(tmp_path / "p.diff")],
                       cwd=tmp_path / "gnu", capture_output=True, env=ENV)
    assert r.returncode == 0
    res = apply_patch(parse_patch(data, "p.diff"), lambda rel: (tmp_path / "f5" / rel).read_bytes()
                      if (tmp_path / "f5" / rel).is_file() else None, strip=0)
    assert {rel: ch.after for rel, ch in res.changes.items()} == {"dir/f.c": (tmp_path / "gnu/dir/f.c").read_bytes()}
    assert files_of(tmp_path / "gnu") == {"dir/f.c": old.replace("6\n", "six\n").encode()}
