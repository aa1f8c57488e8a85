"""goto, guards and export's authors/subjects on real Debian series (grub2: 200+ patches), against
GNU quilt and git."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from helpers import Runner, git
from test_quilt_interop import f5q, files_only, quilt

pytestmark = [pytest.mark.debian, pytest.mark.quilt,
              pytest.mark.skipif(shutil.which("quilt") is None or shutil.which("apt-get") is None,
                                 reason="needs GNU quilt and apt (.ci/run installs them)")]

@pytest.fixture(scope="module")
def trees(debian_trees: Path) -> Path:
    return debian_trees


def series_names(src: Path) -> List[str]:
    return [line.split()[0] for line in (src / "debian/patches/series").read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def test_goto_walks_grub2_like_quilt_push_and_pop_and_guards_stay_comments(trees: Path, tmp_path: Path) -> None:
    src = trees / "grub2"
    q, f = tmp_path / "q", tmp_path / "f"
    shutil.copytree(src, q, symlinks=True)
    shutil.copytree(src, f, symlinks=True)
    names = series_names(src)
    assert len(names) > 100
    for target in (names[150], names[40]):  # forward (150 pushes), then back (110 pops)
        r = f5q(f, "goto", target, "-q", patches="debian/patches")
        assert r.returncode == 0, r.stderr
        rq = quilt(q, "push" if not (q / ".pc/applied-patches").exists() else "pop", target, "-q",
                   patches="debian/patches")
        assert rq.returncode == 0, rq.stderr
        assert files_only(f) == files_only(q)
        assert (f / ".pc/applied-patches").read_text() == (q / ".pc/applied-patches").read_text()
    # guard every 7th patch beyond; GNU quilt reads the guarded series as before (comments)
    assert f5q(f, "goto", names[-1], "-q", patches="debian/patches").returncode == 0
    assert quilt(q, "push", "-a", "-q", patches="debian/patches").returncode == 0
    for name in names[60::7]:
        assert f5q(f, "guard", name, "+full", patches="debian/patches").returncode == 0
    guarded = (f / "debian/patches/series").read_text()
    assert guarded.count(" #+full\n") == len(names[60::7])
    assert f5q(f, "pop", "-a", "-q", patches="debian/patches").returncode == 0
    assert quilt(q, "pop", "-a", "-q", patches="debian/patches").returncode == 0
    (q / "debian/patches/series").write_text(guarded)
    rq = quilt(q, "push", "-a", "-q", patches="debian/patches")
    assert rq.returncode == 0, rq.stderr
    assert f5q(f, "select", "full", patches="debian/patches").returncode == 0
    assert f5q(f, "push", "-a", "-q", patches="debian/patches").returncode == 0
    assert files_only(f) == files_only(q)


def header_fields(data: bytes) -> Tuple[Optional[str], Optional[str]]:
    """An independent reading of a patch header: the first From:/Author: and Subject:/Description:."""
    head = re.split(rb"^(?:---|\+\+\+|diff |Index: )", data, maxsplit=1, flags=re.M)[0].decode("utf-8", "replace")
    author = subject = None
    for line in head.splitlines():
        m = re.match(r"^(From|Author):\s*(.*\S)\s*$", line)
        if m and author is None:
            author = m.group(2)
        m = re.match(r"^(Subject|Description):\s*(.*\S)\s*$", line)
        if m and subject is None:
            subject = re.sub(r"^(\[[^]]*\]\s*)+", "", m.group(2))
    return author, subject


@pytest.mark.parametrize("pkg", ["grub2", "openssh"])
def test_exported_commits_carry_each_headers_author_and_subject(pkg: str, trees: Path, tmp_path: Path,
                                                                run: Runner,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUILT_PATCHES", "debian/patches")
    src = tmp_path / pkg
    shutil.copytree(trees / pkg, src, symlinks=True)
    git("init", "-q", cwd=src)
    assert run(src, "export", "--git", "s", "-q")[0] == 0
    names = series_names(src)
    log = git("log", "--reverse", "--format=%an <%ae>%x00%s", "s", cwd=src).splitlines()[1:]
    assert len(log) == len(names)
    checked_authors = checked_subjects = 0
    for name, line in zip(names, log):
        who, subject = line.split("\0")
        author, want_subject = header_fields((src / "debian/patches" / name).read_bytes())
        if author and "<" in author and "," not in author and '"' not in author and "=?" not in author:
            assert who == author, name
            checked_authors += 1
        if want_subject and "=?" not in want_subject:
            assert subject == want_subject.strip(), name
            checked_subjects += 1
    assert checked_authors > len(names) // 2 and checked_subjects > len(names) // 2
