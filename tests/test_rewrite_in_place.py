"""A file of .pc/ one transaction writes twice is written in place the second time
(Transaction._rewrite: applied-patches through push -a and pop -a, as GNU quilt rewrites it),
only while it is still the inode the transaction made and no other name shares it; a rollback
still puts back the very inode it replaced; tree files are always replaced; and a command
killed in the middle of such a write is rolled back before the next command reads .pc/."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from f5quilt.repo.transaction import Roots, Transaction

from helpers import ROOT, make_series, numbered, upper_hunk, write_tree


def _txn(tmp_path: Path) -> Transaction:
    (tmp_path / "tree" / ".pc").mkdir(parents=True)
    (tmp_path / "state").mkdir()
    return Transaction(tmp_path / "state", Roots({"tree": tmp_path / "tree", "pc": tmp_path / "tree" / ".pc",
                                                  "state": tmp_path / "state"}), "test").begin()


def test_a_second_write_is_in_place_and_the_rollback_restores_the_original_inode(tmp_path: Path) -> None:
    txn = _txn(tmp_path)
    f = tmp_path / "tree" / ".pc" / "applied-patches"
    f.write_bytes(b"original\n")
    original = os.stat(f).st_ino
    txn.write(f, b"one\n")
    made = os.stat(f).st_ino
    assert made != original  # the first write replaces the file
    txn.write(f, b"one\ntwo\n", 0o600)
    assert os.stat(f).st_ino == made and f.read_bytes() == b"one\ntwo\n"  # the second, in place
    assert os.stat(f).st_mode & 0o777 == 0o600
    txn.rollback()
    assert f.read_bytes() == b"original\n" and os.stat(f).st_ino == original


def test_a_file_linked_since_is_replaced_not_written_through(tmp_path: Path) -> None:
    txn = _txn(tmp_path)
    f, other = tmp_path / "tree" / ".pc" / "a", tmp_path / "tree" / ".pc" / "p2" / "a"
    txn.write(f, b"first\n")
    txn.link(f, other, b"first\n")  # another name for the inode, as a backup is
    txn.write(f, b"second\n")
    assert other.read_bytes() == b"first\n" and f.read_bytes() == b"second\n"
    assert os.stat(f).st_ino != os.stat(other).st_ino
    txn.commit()


def test_tree_files_and_moved_in_inodes_are_replaced(tmp_path: Path) -> None:
    txn = _txn(tmp_path)
    t = tmp_path / "tree" / "f.c"
    txn.write(t, b"one\n")
    made = os.stat(t).st_ino
    txn.write(t, b"two\n")
    assert os.stat(t).st_ino != made  # a tree file: never written in place
    f, other = tmp_path / "tree" / ".pc" / "f", tmp_path / "tree" / ".pc" / "g"
    txn.write(f, b"made\n")
    other.write_bytes(b"other\n")
    txn.move(other, f)  # f is now other's inode, which the journal holds as other's before-image
    held = os.stat(f).st_ino
    txn.write(f, b"again\n")
    assert os.stat(f).st_ino != held and f.read_bytes() == b"again\n"
    txn.rollback()
    assert other.read_bytes() == b"other\n" and not f.exists() and not t.exists()


@pytest.mark.kill
def test_a_pop_killed_anywhere_is_rolled_back(tmp_path: Path) -> None:
    """pop -a of three patches writes applied-patches in place once (p1 after p2 went): killed
    before any of its file-system changes, the next command rolls it back exactly."""
    t = tmp_path / "t"
    write_tree(t, {"f.txt": numbered(12)})
    make_series(t, {f"p{i}.diff": upper_hunk("f.txt", 3 * i) for i in (1, 2, 3)})
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    subprocess.run([sys.executable, "-m", "f5quilt", "push", "-a"], cwd=t, check=True, capture_output=True, env=env)

    def files(root: Path) -> dict:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
                and not p.relative_to(root).as_posix().startswith(".pc/.f5quilt/")}
    before = files(t)
    ref = tmp_path / "ref"
    subprocess.run(["cp", "-a", str(t), str(ref)], check=True)
    subprocess.run([sys.executable, "-m", "f5quilt", "pop", "-a"], cwd=ref, check=True, capture_output=True,
                   env=dict(env, F5QUILT_TICKS_FILE=str(tmp_path / "ticks")))
    total = int((tmp_path / "ticks").read_text())
    assert total > 20
    for n in range(1, total + 1):
        k = tmp_path / f"k{n}"
        subprocess.run(["cp", "-a", str(t), str(k)], check=True)
        r = subprocess.run([sys.executable, "-m", "f5quilt", "pop", "-a"], cwd=k, capture_output=True,
                           env=dict(env, F5QUILT_KILL_AT=str(n)))
        assert r.returncode == -9, n
        r = subprocess.run([sys.executable, "-m", "f5quilt", "applied"], cwd=k, env=env, capture_output=True,
                           text=True)
        assert r.stdout == "patches/p1.diff\npatches/p2.diff\npatches/p3.diff\n", (n, r.stderr)
        assert files(k) == before, n


def test_a_cut_short_record_is_rolled_back_not_refused(tmp_path: Path) -> None:
    """What the killed command left half-written in .pc/.f5quilt/ (here a sums file cut short
    to a bare '{') is rolled back by the next command, not refused as malformed state before
    the rollback could run."""
    t = tmp_path / "t"
    write_tree(t, {"f.txt": numbered(12)})
    make_series(t, {f"p{i}.diff": upper_hunk("f.txt", 3 * i) for i in (1, 2)})
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    before = {p.relative_to(t).as_posix(): p.read_bytes() for p in t.rglob("*") if p.is_file()}
    subprocess.run(["cp", "-a", str(t), str(tmp_path / "ref")], check=True)
    subprocess.run([sys.executable, "-m", "f5quilt", "push", "-a"], cwd=tmp_path / "ref", check=True,
                   capture_output=True, env=dict(env, F5QUILT_TICKS_FILE=str(tmp_path / "ticks")))
    total = int((tmp_path / "ticks").read_text())
    r = subprocess.run([sys.executable, "-m", "f5quilt", "push", "-a"], cwd=t, capture_output=True,
                       env=dict(env, F5QUILT_KILL_AT=str(total)))
    assert r.returncode == -9
    sums = t / ".pc" / ".f5quilt" / "sums" / "p1.diff.json"
    assert sums.exists()
    sums.write_text("{")
    r = subprocess.run([sys.executable, "-m", "f5quilt", "unapplied"], cwd=t, env=env, capture_output=True,
                       text=True)  # a command that reads every record of .pc/.f5quilt/
    assert "Rolled back an interrupted" in r.stderr and r.returncode == 0, r.stderr
    assert r.stdout == "patches/p1.diff\npatches/p2.diff\n"
    after = {p.relative_to(t).as_posix(): p.read_bytes() for p in t.rglob("*") if p.is_file()
             and not p.relative_to(t).as_posix().startswith(".pc/.f5quilt/")}
    assert after == before
