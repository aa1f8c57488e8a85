"""File names in diff headers: f5quilt reads them as real GNU patch does.

Each case is a patch that creates one file; GNU patch creates it at the name
it reads, f5quilt must choose the same path (or both refuse). Listed cases
cover what real series hold (names with spaces, git's trailing tab, a
timestamp after spaces instead of a tab, git's quoted C-style names); a
seeded fuzz covers the rest of the grammar.
"""
from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

import pytest

from f5quilt.engine.apply import apply_patch
from f5quilt.errors import F5QuiltError
from f5quilt.model.patch import parse_patch

pytestmark = pytest.mark.skipif(shutil.which("patch") is None, reason="GNU patch not installed")

STAMP = b"2015-03-01 16:48:10.684201573 +0100"


def gnu_creates(tmp: Path, patch: bytes) -> Optional[List[str]]:
    """The files GNU patch -p1 creates from ``patch`` in an empty directory (None: it fails)."""
    work = tmp / "gnu"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    (tmp / "p.diff").write_bytes(patch)
    r = subprocess.run(["patch", "-p1", "-f", "-s", "--no-backup-if-mismatch", "-r", "-",
                        "-i", str(tmp / "p.diff")], cwd=work, capture_output=True)
    made = sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file())
    if r.returncode != 0:
        return None
    return made


def ours_creates(patch: bytes) -> Optional[List[str]]:
    try:
        res = apply_patch(parse_patch(patch, "p.diff"), lambda rel: None, strip=1)
    except F5QuiltError:
        return None
    return sorted(rel for rel, ch in res.changes.items() if ch.after is not None)


def creation(plus: bytes, minus: bytes = b"/dev/null") -> bytes:
    return b"--- " + minus + b"\n+++ " + plus + b"\n@@ -0,0 +1 @@\n+x\n"


CASES = {
    "plain": b"b/dir/file.txt",
    "tab timestamp": b"b/dir/file.txt\t" + STAMP,
    "spaces timestamp": b"b/dir/file    " + STAMP,
    "one space timestamp": b"b/dir/file " + STAMP,
    "name with spaces, git's trailing tab": b"b/Misc/Core and Builtins/x.rst\t",
    "name with spaces, tab timestamp": b"b/Misc/Core and Builtins/x.rst\t" + STAMP,
    # python3.11's frame_dealloc-crash.diff: GNU patch creates b/Misc/.../Core
    "name with spaces, no tab": b"b/Misc/NEWS.d/next/Core and Builtins/2023-07-18.rst",
    "name with spaces, spaces timestamp": b"b/x y.txt  " + STAMP,
    "trailing spaces then tab": b"b/trail   \t" + STAMP,
    "leading spaces": b"   b/lead.txt",
    "crlf": b"b/crlf.txt\r",
    "quoted utf-8": b'"b/\\303\\251t\\303\\251.txt"',
    "quoted escapes": b'"b/t\\tab \\"q\\" back\\\\slash"',
    "quoted with timestamp": b'"b/\\303\\251 x"\t' + STAMP,
    "quoted octal low": b'"b/ctl\\001x"',
    "quoted newline": b'"b/new\\nline.txt"',
    "svn revision after a tab": b"b/dir/file.txt\t(working copy)",
    "quoted bad escape": b'"b/bad\\qx"',
    "quoted unterminated": b'"b/open',
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plus_line_name_as_gnu_patch(tmp_path: Path, case: str) -> None:
    patch = creation(CASES[case])
    gnu = gnu_creates(tmp_path, patch)
    assert ours_creates(patch) == gnu, (case, gnu)


def test_python311_name_with_spaces_is_cut_as_gnu_patch_cuts_it(tmp_path: Path) -> None:
    patch = creation(CASES["name with spaces, no tab"])
    assert gnu_creates(tmp_path, patch) == ["Misc/NEWS.d/next/Core"]
    res = apply_patch(parse_patch(patch, "p.diff"), lambda rel: None)
    assert list(res.changes) == ["Misc/NEWS.d/next/Core"]
    assert any("only a tab separates a name with spaces from a timestamp" in n for n in res.notes)


def test_no_note_for_text_after_a_tab() -> None:
    fp = parse_patch(b"--- a/f\t(revision 12)\n+++ b/f\t(working copy)\n@@ -1 +1 @@\n-a\n+b\n",
                     "p.diff").files[0]
    assert fp.new_name == "b/f" and fp.new_timestamp == "(working copy)" and not fp.notes


def test_timestamp_after_spaces_is_not_part_of_the_name() -> None:
    fp = parse_patch(b"--- a/common/usuals.h    " + STAMP + b"\n+++ b/common/usuals.h    " + STAMP +
                     b"\n@@ -1 +1 @@\n-a\n+b\n", "p.diff").files[0]
    assert (fp.old_name, fp.new_name) == ("a/common/usuals.h", "b/common/usuals.h")
    assert fp.new_timestamp == STAMP.decode() and not fp.notes


GIT_HEADERS = {
    "quoted": (b'diff --git "a/\\303\\251 x.bin" "b/\\303\\251 x.bin"', b'"b/\\303\\251 x.bin"'),
    "plain": (b"diff --git a/d/x.bin b/d/x.bin", b"b/d/x.bin"),
}


@pytest.mark.parametrize("case", sorted(GIT_HEADERS))
def test_git_header_names_for_a_binary_placeholder(tmp_path: Path, case: str) -> None:
    header, name = GIT_HEADERS[case]
    patch = (header + b"\nnew file mode 100644\nindex 0000000..e69de29\n"
             b"Binary files /dev/null and " + name + b" differ\n")
    gnu = gnu_creates(tmp_path, patch)
    assert gnu and ours_creates(patch) == gnu


def test_git_style_patch_with_space_names(tmp_path: Path) -> None:
    # what git writes (a tab after a name with spaces) and a copy with the tab stripped
    with_tab = (b"diff --git a/Core and Builtins/n.rst b/Core and Builtins/n.rst\nnew file mode 100644\n"
                b"index 0000000..1111111\n--- /dev/null\n+++ b/Core and Builtins/n.rst\t\n"
                b"@@ -0,0 +1 @@\n+x\n")
    stripped = with_tab.replace(b"\t\n", b"\n")
    for patch in (with_tab, stripped):
        gnu = gnu_creates(tmp_path, patch)
        assert ours_creates(patch) == gnu, gnu
    assert gnu_creates(tmp_path, with_tab) == ["Core and Builtins/n.rst"]


ALPHABET = [b"a", b"b", b"/", b" ", b"  ", b"\t", b".", b"x y", b"-", b"\\", b'"', b"\\303\\251", b"1"]


def _random_header(rng: random.Random) -> bytes:
    name = b"b/" + b"".join(rng.choice(ALPHABET[:11]) for _ in range(rng.randint(1, 8)))
    if rng.random() < 0.25:
        body = b"".join(rng.choice([b"a", b" ", b"\\t", b"\\303\\251", b'\\"', b"\\\\", b"/", b"\\001", b"\\n"])
                        for _ in range(rng.randint(1, 6)))
        name = b'"b/' + body + b'"'
    tail = rng.choice([b"", b"\t", b"\t" + STAMP, b"  " + STAMP, b" " + STAMP, b"\r", b" \t"])
    return name + tail


def test_fuzzed_names_as_gnu_patch(tmp_path: Path) -> None:
    rng = random.Random(20260101)
    compared = 0
    for _ in range(200):
        plus = _random_header(rng)
        if b"\n" in plus or plus.rstrip(b"\r\t ").endswith(b"/"):
            continue
        patch = creation(plus)
        last = parse_patch(patch, "p").files[0].new_name.rsplit("/", 1)[-1]
        if last in ("", ".", ".."):
            continue  # a directory, not a file: nothing to compare
        gnu = gnu_creates(tmp_path, patch)
        ours = ours_creates(patch)
        assert ours == gnu, (plus, gnu, ours)
        compared += gnu is not None
    assert compared > 100


MODIFICATIONS = {
    "git header, timestamps after spaces": (
        b"diff --git a/d/x b/d/x\nindex 1111111..2222222 100644\n"
        b"--- a/d/x    " + STAMP + b"\n+++ b/d/x    " + STAMP + b"\n@@ -1 +1 @@\n-old\n+new\n"),
    "git header with spaces, no tab: cut": (
        b"diff --git a/d/x y b/d/x y\n--- a/d/x y\n+++ b/d/x y\n@@ -1 +1 @@\n-old\n+new\n"),
    "git header with spaces, tab": (
        b"diff --git a/d/x y b/d/x y\n--- a/d/x y\t\n+++ b/d/x y\t\n@@ -1 +1 @@\n-old\n+new\n"),
    "plain, different dirs, spaces timestamp": (
        b"--- clamsmtp/d/x    " + STAMP + b"\n+++ clamsmtp-patched/d/x    " + STAMP +
        b"\n@@ -1 +1 @@\n-old\n+new\n"),
}


@pytest.mark.parametrize("case", sorted(MODIFICATIONS))
def test_modified_file_chosen_as_gnu_patch(tmp_path: Path, case: str) -> None:
    patch = MODIFICATIONS[case]
    start = {"d/x": b"old\n", "d/x y": b"old\n"}
    work = tmp_path / "gnu"
    work.mkdir()
    for rel, data in start.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_bytes(data)
    (tmp_path / "p.diff").write_bytes(patch)
    r = subprocess.run(["patch", "-p1", "-f", "-s", "--no-backup-if-mismatch", "-i", str(tmp_path / "p.diff")],
                       cwd=work, capture_output=True)
    assert r.returncode == 0, r.stdout
    gnu = {rel: (work / rel).read_bytes() for rel in start}
    res = apply_patch(parse_patch(patch, "p.diff"), lambda rel: start.get(rel))
    ours = {rel: (res.changes[rel].after if rel in res.changes else data) for rel, data in start.items()}
    assert ours == gnu
