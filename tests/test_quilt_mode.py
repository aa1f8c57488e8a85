"""Quilt mode (no f5quilt.yaml) is GNU quilt: the same commands on two copies of a tree,
one run by GNU quilt and one by f5quilt, give the same output, files and exit codes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

from helpers import ROOT, snapshot, write_tree

pytestmark = [pytest.mark.quilt,
              pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed (.ci/run installs it)")]

QUILTRC = 'QUILT_DIFF_ARGS="--no-timestamps"\nQUILT_REFRESH_ARGS="--no-timestamps"\nQUILT_PATCHES_PREFIX=yes\n'


def both(tmp_path: Path, files: dict[str, str], quiltrc: str = QUILTRC) -> Tuple[Path, Path]:
    """Two identical trees, both named `t` (quilt's DIR.orig/F labels use the folder's name)."""
    rc = tmp_path / "quiltrc"
    rc.write_text(quiltrc)
    trees = []
    for side in ("quilt", "f5"):
        tree = tmp_path / side / "t"
        write_tree(tree, files)
        (tree / "patches").mkdir()
        trees.append(tree)
    return trees[0], trees[1]


def run(tool: str, tree: Path, rc: Path, *args: str, stdin: str = "") -> Tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUILTRC=str(rc), NO_COLOR="1", LC_ALL="C")
    for k in ("QUILT_PATCHES", "QUILT_SERIES", "QUILT_PC"):
        env.pop(k, None)
    cmd: List[str] = ["quilt"] if tool == "quilt" else [sys.executable, "-m", "f5quilt"]
    r = subprocess.run([*cmd, *args], cwd=tree, env=env, input=stdin, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def same(tmp_path: Path, qt: Path, ft: Path, *args: str) -> Tuple[int, str]:
    rc = tmp_path / "quiltrc"
    a = run("quilt", qt, rc, *args)
    b = run("f5", ft, rc, *args)
    if args[0] == "pop":  # quilt lists a patch's files in the file system's order, f5quilt sorted
        a, b = (a[0], sorted(a[1].splitlines())), (b[0], sorted(b[1].splitlines()))
    assert b == a, f"quilt {' '.join(args)}:\nGNU quilt: {a}\nf5quilt:   {b}"
    return a


def trees_equal(qt: Path, ft: Path) -> None:
    def files(t: Path) -> dict[str, bytes]:
        return {k: v for k, v in snapshot(t).items()
                if not k.startswith((".pc/.f5quilt", ".pc/.quilt_")) and k != ".pc/.version"
                and not k.endswith("/.timestamp")}
    assert files(ft) == files(qt)


def test_authoring_loop_writes_what_quilt_writes(tmp_path: Path) -> None:
    qt, ft = both(tmp_path, {"f.txt": "one\ntwo\nthree\n", "sub/g.txt": "g\n"})
    for tree in (qt, ft):
        (tree / "gone.txt").write_text("bye\n")
    for args in (["new", "a.diff"], ["add", "f.txt", "new.txt", "gone.txt"]):
        same(tmp_path, qt, ft, *args)
    for tree in (qt, ft):
        (tree / "f.txt").write_text("one\nTWO\nthree\n")
        (tree / "new.txt").write_text("fresh\n")
        (tree / "gone.txt").unlink()
    same(tmp_path, qt, ft, "refresh")
    assert (ft / "patches/a.diff").read_bytes() == (qt / "patches/a.diff").read_bytes()
    for args in (["refresh", "-p", "ab", "--no-index"], ["diff", "-p", "0"], ["diff", "f.txt"],
                 ["refresh", "-p", "0"], ["new", "b.diff"], ["add", "f.txt"]):
        same(tmp_path, qt, ft, *args)
    assert (ft / "patches/series").read_bytes() == (qt / "patches/series").read_bytes()  # -p0 remembered
    for tree in (qt, ft):
        (tree / "f.txt").write_text("one\nTWO\n3\n")
    for args in (["refresh"], ["annotate", "f.txt"], ["fork"], ["series", "-v"], ["pop", "-q"],
                 ["pop"], ["refresh"], ["diff"], ["previous"], ["push", "-q"], ["push", "-a"], ["pop", "-a"]):
        same(tmp_path, qt, ft, *args)
    trees_equal(qt, ft)


def test_failing_and_reversed_patch_messages(tmp_path: Path) -> None:
    qt, ft = both(tmp_path, {"f": "reject\n"})
    for tree in (qt, ft):
        (tree / "patches/p.diff").write_text("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-old\n+new\n"
                                             "--- a/g\n+++ b/g\n@@ -0,0 +1 @@\n+added\n")
        (tree / "patches/series").write_text("p.diff\n")
    same(tmp_path, qt, ft, "push")
    same(tmp_path, qt, ft, "push", "-q")
    trees_equal(qt, ft)
    for tree in (qt, ft):
        (tree / "f").write_text("new\n")
        (tree / "patches/p.diff").write_text("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-old\n+new\n")
    same(tmp_path, qt, ft, "push", "-q")  # "can be reverse-applied"


def test_quiltrc_variables_and_command_args(tmp_path: Path) -> None:
    rc = ('QUILT_PATCHES=debian/patches\nQUILT_NO_DIFF_INDEX=1\nQUILT_DIFF_OPTS="-p"\n'
          'QUILT_REFRESH_ARGS="-p ab --no-timestamps"\nQUILT_PATCHES_PREFIX=yes\n'
          '[ -n "$UNSET_THING" ] && QUILT_PC=.other\n')
    qt, ft = both(tmp_path, {"c.c": "int f(void)\n{\n\ta;\n\tb;\n\tc;\n\treturn 1;\n}\n"}, quiltrc=rc)
    for args in (["new", "x.diff"], ["add", "c.c"]):
        same(tmp_path, qt, ft, *args)
    for tree in (qt, ft):
        (tree / "c.c").write_text("int f(void)\n{\n\ta;\n\tb;\n\tc;\n\treturn 2;\n}\n")
    same(tmp_path, qt, ft, "refresh")
    assert (ft / "debian/patches/x.diff").read_bytes() == (qt / "debian/patches/x.diff").read_bytes()
    assert b"@@ -3,5 +3,5 @@ int f(void)" in (ft / "debian/patches/x.diff").read_bytes()  # QUILT_DIFF_OPTS=-p
    same(tmp_path, qt, ft, "pop")
    trees_equal(qt, ft)


def test_nothing_applied_exit_codes(tmp_path: Path) -> None:
    qt, ft = both(tmp_path, {"f": "x\n"})
    for tree in (qt, ft):
        (tree / "patches/series").write_text("")
    for cmd in ("refresh", "diff", "files", "previous", "applied", "top", "pop"):
        same(tmp_path, qt, ft, cmd)


def test_snapshot_and_diff_snapshot(tmp_path: Path) -> None:
    qt, ft = both(tmp_path, {"f.txt": "f\n", "g.txt": "g\n"})
    for args in (["new", "s"], ["add", "f.txt", "g.txt"]):
        same(tmp_path, qt, ft, *args)
    for tree in (qt, ft):
        (tree / "f.txt").write_text("F\n")
    for args in (["refresh"], ["snapshot"]):
        same(tmp_path, qt, ft, *args)
    for tree in (qt, ft):
        (tree / "f.txt").write_text("F2\n")
        (tree / "g.txt").unlink()
    same(tmp_path, qt, ft, "diff", "--snapshot")
    same(tmp_path, qt, ft, "snapshot", "-d")
    trees_equal(qt, ft)


def test_mail_mbox_subjects_and_recipients_as_quilt(tmp_path: Path) -> None:
    qt, ft = both(tmp_path, {"f": "x\n"})
    body = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n"
    headers = {"1.diff": "Subject: Re: [patch] first one\n\nSigned-off-by: A. B. <ab@x.org>\n\n",
               "2.diff": "DESC\nsecond\nsplit\nEDESC\nTo: Some One <one@x.org>\n\n",
               "3.diff": "A short first paragraph.\n\nCc: Ü <u@x.org>\n\n"}
    for tree in (qt, ft):
        for name, header in headers.items():
            (tree / "patches" / name).write_text(header + body)
        (tree / "patches/series").write_text("".join(n + "\n" for n in headers))
    args = ["mail", "--mbox", "mbox", "--sender", "me@x.org", "--prefix", "t", "--subject", "Intro",
            "-m", "hello", "--signature", "-"]
    # (GNU quilt's mail wants procmail's formail for some headers; its complaint is not compared)
    assert run("quilt", qt, tmp_path / "quiltrc", *args)[0] == run("f5", ft, tmp_path / "quiltrc", *args)[0] == 0

    def fields(tree: Path) -> List[str]:
        keep = ("From ", "Subject:", "To:", "Cc:", " ")
        return [line.split(" ", 2)[:2][0] + " " + line.split(" ", 2)[1] if line.startswith("From ") else line
                for line in (tree / "mbox").read_text().splitlines() if line.startswith(keep)]
    assert fields(ft) == fields(qt)
    (ft / "patches/3.diff").write_text("Subject: Re: [patch] first one\n\n" + body)
    rc, out = run("f5", ft, tmp_path / "quiltrc", *args)
    assert rc == 1 and "have duplicate subject headers" in out


def test_context_diff_patch_pushed_refreshed_popped_as_quilt(tmp_path: Path) -> None:
    """A `diff -c` patch (new, changed and deleted files, a missing final newline): GNU quilt
    and f5quilt push it to the same tree, and refresh writes it back unified, the same bytes."""
    old = "".join(f"line {n}\n" for n in range(1, 21))
    new = old.replace("line 5\n", "line five\n").replace("line 15\n", "")
    src = tmp_path / "src"
    write_tree(src / "a", {"f.txt": old, "gone.txt": "bye\n"})
    write_tree(src / "b", {"f.txt": new, "new.txt": "hello\nworld"})
    data = subprocess.run(["diff", "-crN", "a", "b"], cwd=src, capture_output=True,
                          env=dict(os.environ, TZ="UTC")).stdout
    assert b"\n***************\n" in data
    qt, ft = both(tmp_path, {"f.txt": old, "gone.txt": "bye\n"})
    for tree in (qt, ft):
        (tree / "patches/ctx.diff").write_bytes(b"Header.\n\n" + data)
        (tree / "patches/series").write_text("ctx.diff\n")
    for args in (["push"], ["files"], ["patches", "new.txt"], ["pop"], ["push", "-q"], ["refresh"]):
        same(tmp_path, qt, ft, *args)
    trees_equal(qt, ft)
    assert b"\n***************\n" not in (ft / "patches/ctx.diff").read_bytes()
    for args in (["pop"], ["push"], ["refresh", "-c"], ["pop"]):
        same(tmp_path, qt, ft, *args)
    trees_equal(qt, ft)


def test_names_with_spaces_read_as_quilt_reads_them(tmp_path: Path) -> None:
    """quilt's own reading of a patch's names (to the first tab) for the patches it has not
    applied (`files`, `patches`) and for the order of `diff`; GNU patch's reading on push."""
    qt, ft = both(tmp_path, {"foo": "foo\n", "foo bar": "foo\n"})
    patch = ("Index: b/a: b [c]\n===\n--- /dev/null\n+++ b/a: b [c]\n@@ -0,0 +1 @@\n+new line\n"
             "--- a/foo bar\n+++ b/foo bar\n@@ -1 +1 @@\n-foo\n+bar\n"
             "*** a/ctx\tThu Jan  1 00:00:00 1970\n--- b/ctx\tThu Jan  1 00:00:00 2026\n"
             "***************\n*** 0 ****\n--- 1 ----\n+ c\n")
    for tree in (qt, ft):
        (tree / "patches/test.diff").write_text(patch)
        (tree / "patches/series").write_text("test.diff\n")
    for args in (["files", "test.diff"], ["patches", "foo bar"], ["patches", "a: b [c]"],
                 ["patches", "a:"], ["patches", "1"], ["patches", "ctx"]):
        same(tmp_path, qt, ft, *args)
    run("quilt", qt, tmp_path / "quiltrc", "push")
    assert run("f5", ft, tmp_path / "quiltrc", "push")[0] == 0
    trees_equal(qt, ft)
    for tree in (qt, ft):
        (tree / "foo").write_text("changed\n")
        (tree / "a:").write_text("changed\n")
    for args in (["diff"], ["diff", "-z"], ["files"], ["refresh"], ["pop"]):
        same(tmp_path, qt, ft, *args)
    trees_equal(qt, ft)


def test_two_sections_for_one_file_said_per_section(tmp_path: Path) -> None:
    """GNU patch says `patching file f` for each file section, a file two sections patch
    twice, each with its own hunk numbers and offsets."""
    f = "".join(f"{n}\n" for n in range(1, 31))
    qt, ft = both(tmp_path, {"f": f, "g": "g\n"})
    patch = ("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-1\n+one\n 2\n"
             "--- a/g\n+++ b/g\n@@ -1 +1 @@\n-g\n+G\n"
             "--- a/f\n+++ b/f\n@@ -10,2 +10,2 @@\n 10\n-11\n+eleven\n@@ -20,2 +20,2 @@\n 22\n-23\n+x\n")
    for tree in (qt, ft):
        (tree / "patches/p.diff").write_text(patch)
        (tree / "patches/series").write_text("p.diff\n")
    for args in (["push"], ["pop"], ["push", "-q"]):
        same(tmp_path, qt, ft, *args)
    trees_equal(qt, ft)


def test_names_outside_the_tree_in_queries_and_writes(tmp_path: Path) -> None:
    """A read-only query on a name outside the tree prints nothing, as quilt (no patch can
    touch it); writing commands still refuse it, with exit 1 as quilt's own refusal."""
    qt, ft = both(tmp_path, {"a": "a\n"})
    for args in (["new", "t.diff"], ["add", "a"]):
        same(tmp_path, qt, ft, *args)
    for tree in (qt, ft):
        (tree / "a").write_text("b\n")
    same(tmp_path, qt, ft, "refresh")
    for args in (["patches", "--", "/dev/null", "dev/null", "null", "---"], ["patches", "../x"],
                 ["patches", "/dev/null", "a"], ["diff", "/dev/null"], ["diff", "../x", "/dev/null"]):
        same(tmp_path, qt, ft, *args)
    for args in (["revert", "/dev/null"], ["remove", "../x"]):
        a = run("quilt", qt, tmp_path / "quiltrc", *args)
        b = run("f5", ft, tmp_path / "quiltrc", *args)
        assert a[0] == b[0] == 1 and "not inside the tree" in b[1], (a, b)
    trees_equal(qt, ft)


def test_hard_links_as_quilt(tmp_path: Path) -> None:
    """quilt's backup-files -L: link counts of the tree files and their backups, and what an
    edit in place shows through another name, after add, refresh, pop, push, remove."""
    qt, ft = both(tmp_path, {"foo": "foo\n", "bar": "bar\n"})
    for tree in (qt, ft):
        os.link(tree / "foo", tree / "foo2")
        os.link(tree / "bar", tree / "bar2")

    def links(tree: Path) -> List[int]:
        return [os.stat(p).st_nlink if p.exists() else 0
                for p in (tree / "foo", tree / "foo2", tree / "bar", tree / ".pc/a.diff/foo",
                          tree / ".pc/b.diff/foo", tree / ".pc/b.diff/bar")]

    steps: List[List[str]] = [["new", "a.diff"], ["add", "foo"], ["edit foo"], ["refresh"],
                              ["new", "b.diff"], ["add", "foo", "bar"], ["edit foo"], ["refresh"],
                              ["pop"], ["pop"], ["push", "-a"], ["remove", "bar"], ["pop", "-a"]]
    for args in steps:
        if args == ["edit foo"]:
            for tree in (qt, ft):
                with open(tree / "foo", "a") as fh:  # in place, as `echo x >> foo`
                    fh.write("more\n")
        else:
            same(tmp_path, qt, ft, *args)
        assert links(ft) == links(qt), f"after {args}"
        assert (ft / "foo2").read_bytes() == (qt / "foo2").read_bytes(), f"after {args}"
        assert (ft / "bar2").read_bytes() == (qt / "bar2").read_bytes(), f"after {args}"
    trees_equal(qt, ft)


def test_pop_unshares_the_new_top_as_quilt(tmp_path: Path) -> None:
    """After pop, quilt gives the new top patch's files one link (backup-files -L), links
    made after `add` included, whether or not the backups have links of their own."""
    for linked in (True, False):
        (tmp_path / str(linked)).mkdir()
        qt, ft = both(tmp_path / str(linked), {"foo": "foo\n"})
        rc = tmp_path / str(linked) / "quiltrc"
        for tree in (qt, ft):
            if linked:
                os.link(tree / "foo", tree / "foo2")
            for args in (["new", "a.diff"], ["add", "foo"]):
                assert run("quilt" if tree == qt else "f5", tree, rc, *args)[0] == 0
            os.link(tree / "foo", tree / "foo3")
            for args in (["new", "b.diff"], ["pop"]):
                assert run("quilt" if tree == qt else "f5", tree, rc, *args)[0] == 0
        counts = [[os.stat(t / n).st_nlink for n in ("foo", "foo3")] for t in (qt, ft)]
        assert counts[1] == counts[0], (linked, counts)
        assert counts[0] == [1, 1]
