"""quilt mode's ``refresh --backup`` when the old patch cannot be kept (quilt's failbackup.test):
quilt stops with mv's message and changes nothing; so does f5quilt."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from f5quilt.repo.transaction import Transaction
from helpers import Runner, snapshot, write_tree


def test_refresh_backup_failure_says_mvs_line_and_changes_nothing(
        tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"test.txt": "one\n"})
    (tmp_path / "patches").mkdir()
    assert run(tmp_path, "new", "test.diff")[0] == 0
    assert run(tmp_path, "add", "test.txt")[0] == 0
    (tmp_path / "test.txt").write_text("two\n")
    assert run(tmp_path, "refresh")[0] == 0
    (tmp_path / "test.txt").write_text("three\n")
    before = snapshot(tmp_path)

    real_write = Transaction.write

    def write(self: Transaction, path: Path, data: bytes, mode: Optional[int] = None) -> None:
        if path.name.endswith("~"):  # what a read-only patches folder does to a non-root user
            raise PermissionError(13, "Permission denied", str(path.with_name(".f5quilt-tmp." + path.name)))
        real_write(self, path, data, mode)

    monkeypatch.setattr(Transaction, "write", write)
    rc, out, err = run(tmp_path, "refresh", "--backup")
    assert rc == 1
    assert (out + err).strip() == \
        "mv: cannot move 'patches/test.diff' to 'patches/test.diff~': Permission denied"
    assert snapshot(tmp_path) == before
    monkeypatch.setattr(Transaction, "write", real_write)
    assert run(tmp_path, "refresh", "--backup")[0] == 0
    assert b"-one\n+two\n" in (tmp_path / "patches/test.diff~").read_bytes()
    assert b"-one\n+three\n" in (tmp_path / "patches/test.diff").read_bytes()
