"""Patch-reading quirks found on real Debian series, each on a small input, against GNU quilt.

* qemu 7.2's ``v7.2.13.diff``: a git rename whose ``rename from``/``rename to``
  lines name other paths than its ``diff --git`` and ``---``/``+++`` lines (a
  submodule's diff pasted into the superproject's). GNU patch ignores the
  names of those lines (git leaves their prefix out) and goes by the others.
* glibc 2.36's ``hurd-i386/tg-sysvshm.diff``: a hunk with one context line
  more than its ``@@`` header counts. GNU patch ends the hunk where the counts
  say and ignores the rest; quilt mode does the same (with a note), f5quilt
  mode keeps refusing it.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict

import pytest

from helpers import write_tree
from test_quilt_interop import f5q, files_only, quilt

pytestmark = pytest.mark.skipif(shutil.which("quilt") is None, reason="needs GNU quilt")

RENAME = """diff --git a/tests/lcitool/targets/fedora-35.yml b/tests/lcitool/targets/fedora-37.yml
similarity index 82%
rename from targets/fedora-35.yml
rename to targets/fedora-37.yml
index 2e8e320c..5513995c 100644
--- a/tests/lcitool/targets/fedora-35.yml
+++ b/tests/lcitool/targets/fedora-37.yml
@@ -1,4 +1,4 @@
 os:
   name: 'Fedora'
-  version: '35'
+  version: '37'
 
"""
PURE_RENAME = """diff --git a/docs/old.txt b/docs/new.txt
similarity index 100%
rename from old.txt
rename to new.txt
"""
OVERCOUNT = """Description: one context line more than the header counts

--- a/Makefile
+++ b/Makefile
@@ -2,6 +2,7 @@
 \t   ports-get \\
 \t   errno-loc \\
 \t   hurdlock \\
+\t   sysvshm \\
 \t   $(sig) \\
 \t   fd-cleanup
 sig\t= hurdsig
 \t  trampoline
--- /dev/null
+++ b/sysvshm.c
@@ -0,0 +1 @@
+int shm;
"""
BASE: Dict[str, str] = {
    "tests/lcitool/targets/fedora-35.yml": "os:\n  name: 'Fedora'\n  version: '35'\n\n",
    "docs/old.txt": "kept\n",
    "Makefile": ("routines = \\\n\t   ports-get \\\n\t   errno-loc \\\n\t   hurdlock \\\n\t   $(sig) \\\n"
                 "\t   fd-cleanup\nsig\t= hurdsig\n\t  trampoline\nend\n"),
}


def tree(tmp: Path, name: str, series: Dict[str, str]) -> Path:
    root = tmp / name
    files = dict(BASE)
    files.update({f"patches/{k}": v for k, v in series.items()})
    files["patches/series"] = "".join(f"{k}\n" for k in series)
    write_tree(root, files)
    return root


@pytest.mark.parametrize("patches", [{"rename.diff": RENAME, "pure.diff": PURE_RENAME},
                                     {"overcount.diff": OVERCOUNT}], ids=["rename", "overcount"])
def test_quilt_mode_reads_the_patch_as_gnu_patch(tmp_path: Path, patches: Dict[str, str]) -> None:
    q, f = tree(tmp_path, "q", patches), tree(tmp_path, "f", patches)
    pristine = files_only(q)
    rq = quilt(q, "push", "-a")
    assert rq.returncode == 0, rq.stdout + rq.stderr
    rf = f5q(f, "push", "-a")
    assert rf.returncode == 0, rf.stdout + rf.stderr
    assert files_only(f) == files_only(q) != pristine
    assert (f / ".pc/applied-patches").read_text() == (q / ".pc/applied-patches").read_text()
    # each tool pops what the other pushed
    rq, rf = quilt(f, "pop", "-a"), f5q(q, "pop", "-a")
    assert rq.returncode == 0, rq.stdout + rq.stderr
    assert rf.returncode == 0, rf.stdout + rf.stderr
    assert files_only(q) == files_only(f) == pristine


def test_rename_goes_by_the_diff_git_names(tmp_path: Path) -> None:
    f = tree(tmp_path, "f", {"rename.diff": RENAME, "pure.diff": PURE_RENAME})
    assert f5q(f, "push", "-a").returncode == 0
    assert (f / "tests/lcitool/targets/fedora-37.yml").read_text().endswith("version: '37'\n\n")
    assert not (f / "tests/lcitool/targets/fedora-35.yml").exists()
    assert not (f / "targets").exists()
    assert (f / "docs/new.txt").read_text() == "kept\n"


def test_overcounted_hunk_noted_in_quilt_mode_refused_in_f5quilt_mode(tmp_path: Path) -> None:
    f = tree(tmp_path, "f", {"overcount.diff": OVERCOUNT})
    r = f5q(f, "push", "-a")
    assert r.returncode == 0, r.stderr
    assert "line 13: ignored the lines after the hunk at line 5" in r.stdout + r.stderr
    assert "\t   sysvshm \\\n" in (f / "Makefile").read_text()
    g = tree(tmp_path, "g", {"overcount.diff": OVERCOUNT})
    (g / "f5quilt.yaml").write_text("patches: patches\n")
    before = files_only(g)
    r = f5q(g, "push", "-a")
    assert r.returncode == 1
    assert "overcount.diff:13: hunk at line 5 has more lines than its header counts" in r.stderr
    assert files_only(g) == before
