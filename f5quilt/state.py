"""The ``.pc/`` directory, exactly as GNU quilt 0.66 lays it out.

quilt's files: ``.version`` (``2``), ``.quilt_patches``, ``.quilt_series``,
``applied-patches`` (one name a line), ``<patch>/`` holding a backup of
each file the patch touches (an empty file stands for a file the patch
creates) and ``.timestamp``, and ``<patch>~refresh`` for a patch that
needs a refresh after a forced push.

What f5quilt adds lives in ``.pc/.f5quilt/``, a name quilt never reads
as a patch: per-patch content hashes of what a push left (so ``pop``
detects unrefreshed edits without trusting mtimes), conflict markers of
a merge, and the journal of the operation in flight.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from .fsutil import atomic_write, atomic_write_text

F5_DIR = ".f5quilt"


def digest(data: Optional[bytes]) -> Optional[str]:
    return None if data is None else hashlib.sha1(data).hexdigest()


class AppliedStack:
    """The applied part of the series, as recorded in ``.pc/``."""

    def __init__(self, tree: Path, pc_name: str = ".pc") -> None:
        self.tree = tree
        self.pc = tree / pc_name
        # hashes read once per command: push -a consults every applied patch's on each push
        self._sums: Dict[str, Optional[Dict[str, Optional[str]]]] = {}

    # -- quilt's files -------------------------------------------------
    @property
    def exists(self) -> bool:
        return self.pc.is_dir()

    def applied(self) -> List[str]:
        try:
            text = (self.pc / "applied-patches").read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()]

    def top(self) -> Optional[str]:
        applied = self.applied()
        return applied[-1] if applied else None

    def write_applied(self, names: List[str]) -> None:
        path = self.pc / "applied-patches"
        if not names:
            # quilt removes its db when the last patch goes
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            return
        atomic_write_text(path, "".join(n + "\n" for n in names))

    def initialize(self, quilt_patches: str, quilt_series: str) -> None:
        self.pc.mkdir(parents=True, exist_ok=True)
        wanted = {".version": "2\n", ".quilt_patches": quilt_patches + "\n",
                  ".quilt_series": quilt_series + "\n"}
        for fname, text in wanted.items():
            path = self.pc / fname
            if not path.exists():
                atomic_write_text(path, text)

    def backup_dir(self, name: str) -> Path:
        return self.pc / name

    def backup_files(self, name: str) -> Iterator[str]:
        """Tree-relative paths backed up for ``name`` (quilt's .timestamp excluded)."""
        root = self.backup_dir(name)
        for dirpath, _dirs, files in os.walk(root):
            for fname in files:
                full = Path(dirpath) / fname
                rel = full.relative_to(root).as_posix()
                if rel == ".timestamp":
                    continue
                yield rel

    def backup(self, name: str, rel: str) -> Optional[bytes]:
        """The content ``rel`` had before ``name``; None when it did not exist
        (quilt's convention: an empty backup file stands for "did not exist")."""
        try:
            data = (self.backup_dir(name) / rel).read_bytes()
        except FileNotFoundError:
            return None
        return data or None

    def refresh_marker(self, name: str) -> Path:
        return self.pc / (name + "~refresh")

    def needs_refresh(self, name: str) -> bool:
        return self.refresh_marker(name).exists()

    # -- f5quilt's additions ---------------------------------------------
    @property
    def f5(self) -> Path:
        return self.pc / F5_DIR

    def _sums_path(self, name: str) -> Path:
        return self.f5 / "sums" / (name + ".json")

    def write_sums(self, name: str, sums: Dict[str, Optional[str]]) -> None:
        atomic_write_text(self._sums_path(name), json.dumps(sums, sort_keys=True, indent=0) + "\n")
        self._sums[name] = dict(sums)

    def read_sums(self, name: str) -> Optional[Dict[str, Optional[str]]]:
        if name not in self._sums:
            try:
                self._sums[name] = json.loads(self._sums_path(name).read_text())
            except (FileNotFoundError, ValueError):
                self._sums[name] = None
        cached = self._sums[name]
        return None if cached is None else dict(cached)

    def conflict_path(self, name: str) -> Path:
        return self.f5 / "conflicts" / (name + ".json")

    def conflicts(self, name: str) -> Optional[Dict[str, int]]:
        try:
            return json.loads(self.conflict_path(name).read_text())  # type: ignore[no-any-return]
        except (FileNotFoundError, ValueError):
            return None

    def set_conflicts(self, name: str, files: Optional[Dict[str, int]]) -> None:
        path = self.conflict_path(name)
        if files:
            atomic_write_text(path, json.dumps(files, sort_keys=True) + "\n")
        else:
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    def forget(self, name: str) -> None:
        """Drop every trace of ``name`` under .pc (after a completed pop)."""
        shutil.rmtree(self.backup_dir(name), ignore_errors=True)
        self._sums.pop(name, None)
        for path in (self.refresh_marker(name), self._sums_path(name), self.conflict_path(name)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        # prune now-empty parent dirs of nested patch names (quilt does too)
        parent = self.backup_dir(name).parent
        while parent != self.pc and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    # -- journal -------------------------------------------------------
    @property
    def journal_path(self) -> Path:
        return self.f5 / "journal.json"

    def journal(self) -> Optional[Dict[str, str]]:
        try:
            return json.loads(self.journal_path.read_text())  # type: ignore[no-any-return]
        except FileNotFoundError:
            return None
        except ValueError:
            # a torn journal cannot exist (atomic writes); treat as absent
            return None

    def set_journal(self, entry: Optional[Dict[str, str]]) -> None:
        if entry is None:
            try:
                self.journal_path.unlink()
            except FileNotFoundError:
                pass
        else:
            atomic_write(self.journal_path, json.dumps(entry).encode())
