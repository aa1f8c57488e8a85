"""repo/journal.py: the one interpreter of journal and log entries (issue 19). Each kind is
parsed once into its typed op, written back unchanged, and rolled back on disk by its own
class; the same classes replay a logged command for undo and redo (tests/test_transaction.py
and the kill harness run those through the command line)."""
from __future__ import annotations

from pathlib import Path

import pytest

from f5quilt.repo.journal import (AdoptOp, DiscardOp, FileOp, MkdirOp, RenameOp, RmdirOp, Rollback, ScratchOp,
                                  TransactionError, parse_op, roll_back, sha1)
from f5quilt.repo.transaction import Roots

RAW = [
    {"op": "file", "root": "tree", "rel": "a/x.py", "mode": 0o644, "before": "b1"},
    {"op": "file", "root": "tree", "rel": "new.py", "mode": None, "before": None, "mode_after": 0o755},
    {"op": "mkdir", "root": "tree", "rel": "made"},
    {"op": "rmdir", "root": "tree", "rel": "gone", "mode": 0o700},
    {"op": "rename", "src": ["tree", "."], "dst": ["state", "old-tree"]},
    {"op": "adopt", "root": "tree", "rel": "built"},
    {"op": "discard", "root": "tree", "rel": "old", "slot": 0},
    {"op": "scratch", "root": "state", "rel": "build"},
]


@pytest.mark.parametrize("raw", RAW, ids=lambda r: r["op"])
def test_each_kind_parses_to_its_class_and_writes_back_the_same(raw: dict) -> None:
    op = parse_op(raw, "journal:2", {"tree": Path("t"), "state": Path("s")})
    assert type(op).kind == raw["op"]
    assert op.to_json() == raw
    assert parse_op(op.to_json(), "journal:2") == op


@pytest.mark.parametrize("raw, why", [
    ({"op": []}, "unknown journal entry"),
    ({"op": "chmod", "root": "tree", "rel": "x"}, "unknown journal entry"),
    ({"op": "file", "root": "elsewhere", "rel": "x", "before": None}, "unknown root"),
    ({"op": "file", "root": "tree", "rel": "../x", "before": None}, "unsafe name"),
    ({"op": "file", "root": "tree", "rel": "x", "before": "../../etc/passwd"}, "malformed object name"),
    ({"op": "file", "root": "tree", "rel": "x", "before": None, "mode": True}, "malformed mode"),
    ({"op": "rename", "src": ["tree"], "dst": ["tree", "y"]}, "malformed rename entry"),
    ({"op": "discard", "root": "tree", "rel": "x", "slot": -1}, "malformed slot"),
    ([1, 2], "not an object"),
])
def test_a_malformed_entry_is_refused_naming_where(raw: object, why: str) -> None:
    with pytest.raises(TransactionError, match=why) as raised:
        parse_op(raw, "state/txn/journal:7", {"tree": Path("t")})
    assert "state/txn/journal:7" in str(raised.value)


def test_a_rollback_puts_every_kind_back(tmp_path: Path) -> None:
    tree, state, d = tmp_path / "tree", tmp_path / "state", tmp_path / "state/txn"
    for p in (tree, state, d / "objects", d / "trash"):
        p.mkdir(parents=True, exist_ok=True)
    roots = Roots({"tree": tree, "state": state})
    # the state after a command that changed a file, created one, made a folder, pruned one,
    # adopted a built folder, discarded another into the trash and left a scratch folder
    (d / "objects" / "b1").write_bytes(b"old\n")
    (tree / "x.py").write_bytes(b"new\n")
    (tree / "created.py").write_bytes(b"made\n")
    (tree / "made").mkdir()
    (tree / "built").mkdir()
    (tree / "built" / "f").write_text("f")
    (d / "trash" / "0").mkdir()
    (d / "trash" / "0" / "kept").write_text("kept")
    (state / "build").mkdir()
    ops = [FileOp("tree", "x.py", "b1", 0o600), FileOp("tree", "created.py", None), MkdirOp("tree", "made"),
           RmdirOp("tree", "pruned", 0o755), AdoptOp("tree", "built"), DiscardOp("tree", "old", 0),
           ScratchOp("state", "build")]
    roll_back(ops, Rollback(d, roots))
    assert (tree / "x.py").read_bytes() == b"old\n" and (tree / "x.py").stat().st_mode & 0o777 == 0o600
    assert not (tree / "created.py").exists() and not (tree / "made").exists()
    assert (tree / "pruned").is_dir() and not (tree / "built").exists()
    assert (tree / "old" / "kept").read_text() == "kept" and not (state / "build").exists()
    roll_back(ops, Rollback(d, roots))  # idempotent: a rollback killed halfway is run again
    assert (tree / "x.py").read_bytes() == b"old\n" and (tree / "old" / "kept").read_text() == "kept"


def test_a_rename_rolls_back_only_when_the_source_is_gone(tmp_path: Path) -> None:
    tree, state = tmp_path / "tree", tmp_path / "state"
    state.mkdir()
    (state / "old-tree").mkdir()
    (state / "old-tree" / "f").write_text("old")
    roots = Roots({"base": tmp_path, "state": state})
    roll_back([RenameOp(("base", "tree"), ("state", "old-tree"))], Rollback(state, roots))
    assert (tree / "f").read_text() == "old" and not (state / "old-tree").exists()


def test_a_spared_file_keeps_the_save_another_program_made(tmp_path: Path) -> None:
    d = tmp_path / "txn"
    (d / "objects").mkdir(parents=True)
    (d / "objects" / "b1").write_bytes(b"before\n")
    (tmp_path / "x").write_bytes(b"the editor's save\n")
    roots = Roots({"tree": tmp_path})
    roll_back([FileOp("tree", "x", "b1")], Rollback(d, roots, frozenset({("tree", "x")})))
    assert (tmp_path / "x").read_bytes() == b"the editor's save\n"
    assert sha1(b"") == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
