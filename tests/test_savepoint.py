"""A command that stops on an error keeps what it finished, and only that.

``push -a`` takes a savepoint after each patch: an error later rolls back to it, so the
patches pushed before stay pushed (as quilt keeps them) and the one that failed leaves no
trace. A file changed both before and after the savepoint used to keep its later change:
its before-image was journalled once, at its first change, so the rollback to the savepoint
had nothing to put back.
"""
from __future__ import annotations

import json
from pathlib import Path

from helpers import Runner

ORIG = "a\nb\nc\nd\ne\nf\ng\nh\n"
P1 = """--- a/a.txt
+++ b/a.txt
@@ -1,3 +1,3 @@
-a
+A
 b
 c
"""
# the first hunk applies, the second does not: push -f writes a.txt, then a.txt.rej
P2 = """--- a/a.txt
+++ b/a.txt
@@ -6,3 +6,3 @@
 f
-g
+G
 h
@@ -1,3 +1,3 @@
 zz
-b
+B
 c
"""
AFTER_P1 = ORIG.replace("a\n", "A\n", 1)


def _tree(tmp_path: Path) -> Path:
    t = tmp_path / "t"
    (t / "patches").mkdir(parents=True)
    (t / "a.txt").write_text(ORIG)
    (t / "patches/p1.diff").write_text(P1)
    (t / "patches/p2.diff").write_text(P2)
    (t / "patches/series").write_text("p1.diff\np2.diff\n")
    # the reject file is a symlink: push refuses to write through it, after writing a.txt
    (t / "a.txt.rej").symlink_to(tmp_path / "elsewhere")
    return t


def test_error_after_a_savepoint_rolls_back_a_file_changed_before_it(tmp_path: Path, run: Runner) -> None:
    t = _tree(tmp_path)
    rc, _out, err = run(t, "push", "-a", "-f")
    assert rc != 0 and "a.txt.rej" in err
    assert (t / ".pc/applied-patches").read_text() == "p1.diff\n"
    assert (t / "a.txt").read_text() == AFTER_P1  # p2's first hunk is gone with p2
    assert not (tmp_path / "elsewhere").exists()
    # the state is consistent: p1 pops cleanly, back to the original
    assert run(t, "pop")[0] == 0
    assert (t / "a.txt").read_text() == ORIG


def test_the_log_entry_of_a_stopped_push_undoes_and_redoes(tmp_path: Path, run: Runner) -> None:
    t = _tree(tmp_path)
    assert run(t, "push", "-a", "-f")[0] != 0
    rc, out, _err = run(t, "log", "--json")
    assert rc == 0 and len(json.loads(out)) == 1
    assert run(t, "undo")[0] == 0
    assert (t / "a.txt").read_text() == ORIG and not (t / ".pc/applied-patches").exists()
    assert run(t, "redo")[0] == 0
    assert (t / "a.txt").read_text() == AFTER_P1
    assert (t / ".pc/applied-patches").read_text() == "p1.diff\n"
    assert run(t, "pop")[0] == 0 and (t / "a.txt").read_text() == ORIG


# -- the transaction itself: a file journalled again, a folder dropped whole --------
from f5quilt.repo.journal import Replay, replay  # noqa: E402
from f5quilt.repo.transaction import Roots, Transaction, read_log, rollback_dir  # noqa: E402


def _txn(tmp_path: Path) -> "tuple[Transaction, Path]":
    tree, state = tmp_path / "tree", tmp_path / "state"
    (tree / "d").mkdir(parents=True)
    state.mkdir()
    (tree / "x").write_bytes(b"0\n")
    (tree / "d/kept").write_bytes(b"k\n")
    return Transaction(state, Roots({"tree": tree, "state": state}), "test").begin(), tree


def _snapshot(tree: Path) -> "dict[str, bytes]":
    return {p.relative_to(tree).as_posix(): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()}


def _undo_last(txn: Transaction, tree: Path) -> None:
    """Replay the newest log entry backwards through a new transaction, as `undo` does."""
    entry = read_log(txn.state)[-1]
    undo = Transaction(txn.state, txn.roots, "undo").begin()
    r = Replay(undo, undo.roots, entry.path, entry.command, tree)
    replay(entry.ops, r, True)
    assert not r.stale
    undo.commit()


def _dropped_and_written_again(txn: Transaction, tree: Path) -> None:
    txn.write(tree / "x", b"1\n")
    txn.write(tree / "d/new", b"n\n")
    txn.savepoint()
    txn.write(tree / "x", b"2\n")
    txn.drop_dir(tree / "d")  # d/kept and d/new go whole, into the entry
    txn.write(tree / "d/new", b"again\n")  # the same name, made again after the drop


def test_a_kill_after_a_drop_and_a_rewrite_rolls_everything_back(tmp_path: Path) -> None:
    txn, tree = _txn(tmp_path)
    before = _snapshot(tree)
    _dropped_and_written_again(txn, tree)
    txn._close()
    rollback_dir(txn.dir, txn.roots)  # what the next command does after a kill
    assert _snapshot(tree) == before


def _back_to_the_savepoint_then_undone(txn: Transaction, tree: Path, there: "dict[str, bytes]") -> None:
    """Roll back to the last savepoint (the tree is then ``there``), commit, and undo the
    entry: the tree is as the transaction found it."""
    txn.rollback_to(txn.savepoints[-1])
    assert _snapshot(tree) == there
    txn.commit()
    _undo_last(txn, tree)
    assert _snapshot(tree) == {"x": b"0\n", "d/kept": b"k\n"}


def test_a_rollback_to_the_savepoint_keeps_only_what_came_before(tmp_path: Path) -> None:
    txn, tree = _txn(tmp_path)
    _dropped_and_written_again(txn, tree)
    _back_to_the_savepoint_then_undone(txn, tree, {"x": b"1\n", "d/kept": b"k\n", "d/new": b"n\n"})


def test_the_committed_entry_undoes_to_the_start(tmp_path: Path) -> None:
    txn, tree = _txn(tmp_path)
    before = _snapshot(tree)
    _dropped_and_written_again(txn, tree)
    txn.commit()
    assert _snapshot(tree) == {"x": b"2\n", "d/new": b"again\n"}
    _undo_last(txn, tree)
    assert _snapshot(tree) == before


def test_a_rollback_to_the_savepoint_across_a_dropped_folder(tmp_path: Path) -> None:
    """A file changed before the savepoint and again after it, then dropped with its folder
    (push, then pop of the same patch in one command): the folder comes back whole, the
    file as it was at the savepoint."""
    txn, tree = _txn(tmp_path)
    txn.write(tree / "d/f", b"at the savepoint\n")
    txn.savepoint()
    txn.write(tree / "d/f", b"after\n")
    txn.drop_dir(tree / "d")
    txn.write(tree / "d/g", b"made again\n")
    _back_to_the_savepoint_then_undone(txn, tree, {"x": b"0\n", "d/kept": b"k\n", "d/f": b"at the savepoint\n"})


def test_a_file_first_changed_after_the_savepoint_goes_back_to_what_it_was_there(tmp_path: Path) -> None:
    """Changed twice after the savepoint and never before it: the journal alone puts it back
    (nothing kept in memory may overwrite that with what the first change wrote)."""
    txn, tree = _txn(tmp_path)
    txn.write(tree / "x", b"1\n")
    txn.savepoint()
    txn.write(tree / "d/kept", b"first\n")
    txn.write(tree / "d/kept", b"second\n")
    txn.write(tree / "new", b"first\n")
    txn.write(tree / "new", b"second\n")
    txn.rollback_to(txn.savepoints[-1])
    assert _snapshot(tree) == {"x": b"1\n", "d/kept": b"k\n"}
