"""Real series: Debian source packages with long quilt series (367 patches in all).

f5quilt's push -a / pop -a must leave the same files as GNU quilt's, and each
tool must pop what the other pushed. The packages are fetched once with
scripts/fetch-debian-series.sh into $F5QUILT_CACHE (default .cache/).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import List

import pytest

from conftest import ROOT
from test_quilt_interop import f5q, files_only, quilt

pytestmark = [pytest.mark.debian, pytest.mark.quilt,
              pytest.mark.skipif(shutil.which("quilt") is None or shutil.which("apt-get") is None,
                                 reason="needs GNU quilt and apt (.ci/run installs them)")]

CACHE = Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()


@pytest.fixture(scope="session")
def debian_trees() -> Path:
    out = CACHE / "debian" / "trees"
    if not (out / "MANIFEST").exists():
        subprocess.run(["bash", str(ROOT / "scripts/fetch-debian-series.sh"),
                        str(CACHE / "debian" / "sources"), str(out)], check=True,
                       stdout=subprocess.DEVNULL)
    return out


def packages() -> List[str]:
    return ["grub2", "cron", "openssh", "procmail"]


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
