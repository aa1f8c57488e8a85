"""Real series: Debian source packages with long quilt series (367 patches in all),
and packages whose series hold the odd cases (docs/quilt-compat.md, "Real Debian series").

f5quilt's push -a / pop -a must leave the same files as GNU quilt's, and each
tool must pop what the other pushed. The packages are fetched once with
scripts/fetch-debian-series.sh into $F5QUILT_CACHE (default .cache/).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import List

import pytest

from test_quilt_interop import f5q, files_only, quilt

pytestmark = [pytest.mark.debian, pytest.mark.quilt,
              pytest.mark.skipif(shutil.which("quilt") is None or shutil.which("apt-get") is None,
                                 reason="needs GNU quilt and apt (.ci/run installs them)")]



def packages() -> List[str]:
    return ["grub2", "cron", "openssh", "procmail"]


# package -> what its series holds that the long ones do not (and a check that it still does)
ODD_CASES = {
    # 5 patches, format 1.0: include_order.patch's "+++ clamsmtp-patched/common/usuals.h    2015-..."
    # (a timestamp after spaces) and a hunk that needs fuzz 2; offsets
    "clamsmtp": ("debian/patches/include_order.patch", rb"\n\+\+\+ \S+/common/usuals\.h +2015-"),
    # 83 patches: "+++ b/Misc/NEWS.d/next/Core and Builtins/2023-...rst" (a name with spaces)
    "python3.11": ("debian/patches/frame_dealloc-crash.diff", rb"\n\+\+\+ b/Misc/NEWS\.d/next/Core and Builtins/"),
    # 109 patches: git-updates.diff's "Binary files /dev/null and b/timezone/testdata/XT6 differ"
    # under "new file mode"; hurd-i386/tg-sysvshm.diff's hunk longer than its header counts
    "glibc": ("debian/patches/git-updates.diff",
              rb"new file mode 100644\nindex 0+\.\.[0-9a-f]+\nBinary files /dev/null and b/timezone/testdata/XT6 differ\n"),
}


@pytest.mark.parametrize("pkg", sorted(ODD_CASES))
def test_odd_series_identical_to_quilt_and_tools_take_turns(debian_trees: Path, tmp_path: Path, pkg: str) -> None:
    """push -a with each tool gives the same files and applied-patches; then each pops what
    the other pushed (GNU quilt pops f5quilt's push, f5quilt pops GNU quilt's)."""
    src = debian_trees / pkg
    where, case = ODD_CASES[pkg]
    assert re.search(case, (src / where).read_bytes()), f"{pkg}: {where} no longer holds its case"
    q, f = tmp_path / "q", tmp_path / "f"
    shutil.copytree(src, q, symlinks=True)
    shutil.copytree(src, f, symlinks=True)
    pristine = files_only(src)
    rq = quilt(q, "push", "-a", patches="debian/patches")
    rf = f5q(f, "push", "-a", patches="debian/patches")
    assert rq.returncode == 0, rq.stderr
    assert rf.returncode == 0, rf.stderr
    if pkg == "clamsmtp":  # GNU patch's fuzz, said as GNU patch says it
        for out in (rq.stdout, rf.stdout):
            assert "Hunk #1 succeeded at 51 with fuzz 2." in out
    pushed = files_only(q)
    assert pushed != pristine
    assert files_only(f) == pushed
    assert (f / ".pc/applied-patches").read_text() == (q / ".pc/applied-patches").read_text()
    rq = quilt(f, "pop", "-a", "-q", patches="debian/patches")
    rf = f5q(q, "pop", "-a", "-q", patches="debian/patches")
    assert rq.returncode == 0, rq.stdout + rq.stderr
    assert rf.returncode == 0, rf.stdout + rf.stderr
    assert files_only(f) == pristine
    assert files_only(q) == pristine


@pytest.mark.parametrize("pkg", packages())
def test_push_pop_all_identical_to_quilt(debian_trees: Path, tmp_path: Path, pkg: str) -> None:
    src = debian_trees / pkg
    q, f = tmp_path / "q", tmp_path / "f"
    shutil.copytree(src, q, symlinks=True)
    shutil.copytree(src, f, symlinks=True)
    pristine = files_only(src)
    rq = quilt(q, "push", "-a", "-q", patches="debian/patches")
    rf = f5q(f, "push", "-a", "-q", patches="debian/patches")
    assert rq.returncode == 0, rq.stderr
    assert rf.returncode == 0, rf.stderr
    assert files_only(f) == files_only(q)
    assert (f / ".pc/applied-patches").read_text() == (q / ".pc/applied-patches").read_text()
    assert f5q(f, "pop", "-a", "-q", patches="debian/patches").returncode == 0
    assert files_only(f) == pristine


def test_each_tool_pops_what_the_other_pushed(debian_trees: Path, tmp_path: Path) -> None:
    src = debian_trees / "cron"
    pristine = files_only(src)
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(src, a, symlinks=True)
    shutil.copytree(src, b, symlinks=True)
    assert f5q(a, "push", "-a", "-q", patches="debian/patches").returncode == 0
    r = quilt(a, "pop", "-a", "-q", patches="debian/patches")
    assert r.returncode == 0, r.stderr
    assert files_only(a) == pristine
    assert quilt(b, "push", "-a", "-q", patches="debian/patches").returncode == 0
    r = f5q(b, "pop", "-a", "-q", patches="debian/patches")
    assert r.returncode == 0, r.stderr
    assert files_only(b) == pristine


def tree_only(files: dict) -> dict:
    return {k: v for k, v in files.items() if not k.startswith("debian/patches/")}


@pytest.mark.parametrize("pkg", ["cron", "openssh"])
def test_refresh_round_trip_on_real_series(debian_trees: Path, tmp_path: Path, pkg: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """push -a; refresh --normalize every patch top to bottom; the rewritten series
    gives the same trees (with f5quilt and with GNU quilt), and refreshing again
    changes no byte."""
    from f5quilt.ops.authoring import core as authoring
    from f5quilt.ops.stack import pushpop as stack
    from f5quilt.events import ignore
    from f5quilt.repo.settings import load_settings
    from f5quilt.repo.workspace import Workspace

    src = debian_trees / pkg
    work = tmp_path / "work"
    shutil.copytree(src, work, symlinks=True)
    monkeypatch.setenv("QUILT_PATCHES", "debian/patches")
    from f5quilt.repo import quiltrc
    variables = quiltrc.load()  # the ops below run in-process: the settings get this environment's quiltrc
    quiet = ignore  # the ops' events, dropped

    def ws() -> Workspace:
        return Workspace.open(load_settings(work, quiltrc=variables))

    assert f5q(work, "push", "-a", "-q", patches="debian/patches").returncode == 0
    pushed = files_only(work)
    original = {p.name: p.read_bytes() for p in (work / "debian/patches").rglob("*") if p.is_file()}
    for _ in range(len(ws().stack.applied())):
        w = ws()
        authoring.refresh(w, quiet, normalize=True)
        stack.pop_one(w, quiet)
    normalized = {p.relative_to(work).as_posix(): p.read_bytes()
                  for p in (work / "debian/patches").rglob("*") if p.is_file()}
    changed = sum(1 for p in (work / "debian/patches").rglob("*")
                  if p.is_file() and original.get(p.name) != p.read_bytes())
    assert changed > 0  # normalization really rewrote patches
    # re-applied to the pristine tree, the rewritten series gives the same files
    assert f5q(work, "push", "-a", "-q", patches="debian/patches").returncode == 0
    assert tree_only(files_only(work)) == tree_only(pushed)
    # a second refresh changes no byte, normalized or not
    for _ in range(len(ws().stack.applied())):
        w = ws()
        authoring.refresh(w, quiet, normalize=True)
        stack.pop_one(w, quiet)
    again = {p.relative_to(work).as_posix(): p.read_bytes() for p in (work / "debian/patches").rglob("*") if p.is_file()}
    assert again == normalized
    # GNU quilt accepts what f5quilt wrote
    qtree = tmp_path / "q"
    shutil.copytree(src, qtree, symlinks=True)
    shutil.rmtree(qtree / "debian/patches")
    shutil.copytree(work / "debian/patches", qtree / "debian/patches")
    r = quilt(qtree, "push", "-a", "-q", patches="debian/patches")
    assert r.returncode == 0, r.stderr
    assert tree_only(files_only(qtree)) == tree_only(pushed)
    assert quilt(qtree, "pop", "-a", "-q", patches="debian/patches").returncode == 0


def reverse_unified(data: bytes) -> bytes:
    """A unified diff turned around by text alone (---/+++ swapped, -/+ swapped, @@ ranges
    swapped): what a series entry with -R undoes back into the original change."""
    out: List[bytes] = []
    lines = data.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(b"--- ") and i + 1 < len(lines) and lines[i + 1].startswith(b"+++ "):
            out += [b"--- " + lines[i + 1][4:], b"+++ " + line[4:]]
            i += 2
            continue
        m = re.match(rb"^@@ -(\S+) \+(\S+) @@(.*)$", line, re.S)
        if m:
            out.append(b"@@ -" + m.group(2) + b" +" + m.group(1) + b" @@" + m.group(3))
        elif line[:1] in (b"-", b"+"):
            out.append({b"-": b"+", b"+": b"-"}[line[:1]] + line[1:])
        else:
            out.append(line)
        i += 1
    return b"".join(out)


def test_p0_and_reverse_series_entries_on_a_real_series(debian_trees: Path, tmp_path: Path) -> None:
    """No reachable bookworm package lists -p0 or -R (dpkg-source applies every 3.0 (quilt)
    patch with -p1 and ignores the options), so clamsmtp's own series is given them:
    gnu_source.patch ("--- ./common/smtppass.c") as "-p0", 300175-fileperms.patch with the
    first folder cut from its names ("clamsmtp/common/..." -> "common/...", which -p1 would
    not find) as "-p0", and manpage.patch turned around by reverse_unified() as "-R". Both
    tools push it to the tree the plain series gives, with the same applied-patches, and pop
    each other's push."""
    src = debian_trees / "clamsmtp"
    plain = tmp_path / "plain"
    shutil.copytree(src, plain, symlinks=True)
    assert quilt(plain, "push", "-a", "-q", patches="debian/patches").returncode == 0
    want = files_only(plain)
    trees = []
    for name in ("q", "f"):
        t = tmp_path / name
        shutil.copytree(src, t, symlinks=True)
        pd = t / "debian/patches"
        assert (pd / "gnu_source.patch").read_bytes().count(b"\n--- ./common/smtppass.c") == 1
        perms = (pd / "300175-fileperms.patch").read_bytes()
        perms = re.sub(rb"^(---|\+\+\+) clamsmtp/", rb"\1 ", perms, flags=re.M)
        assert perms.count(b" common/smtppass.c") == 2
        (pd / "300175-fileperms.patch").write_bytes(perms)
        (pd / "manpage.patch").write_bytes(reverse_unified((pd / "manpage.patch").read_bytes()))
        series = (pd / "series").read_text()
        series = series.replace("gnu_source.patch\n", "gnu_source.patch -p0\n")
        series = series.replace("300175-fileperms.patch\n", "300175-fileperms.patch -p0\n")
        series = series.replace("manpage.patch\n", "manpage.patch -R\n")
        assert "-p0" in series and "-R" in series
        (pd / "series").write_text(series)
        trees.append(t)
    q, f = trees
    pristine = files_only(q)
    rq = quilt(q, "push", "-a", "-q", patches="debian/patches")
    rf = f5q(f, "push", "-a", "-q", patches="debian/patches")
    assert rq.returncode == 0, rq.stdout + rq.stderr
    assert rf.returncode == 0, rf.stdout + rf.stderr
    tree_want = tree_only(want)
    assert tree_only(files_only(q)) == tree_want
    assert files_only(f) == files_only(q)
    assert (f / ".pc/applied-patches").read_text() == (q / ".pc/applied-patches").read_text()
    rq = quilt(f, "pop", "-a", "-q", patches="debian/patches")
    rf = f5q(q, "pop", "-a", "-q", patches="debian/patches")
    assert rq.returncode == 0, rq.stdout + rq.stderr
    assert rf.returncode == 0, rf.stdout + rf.stderr
    assert files_only(q) == files_only(f) == pristine
