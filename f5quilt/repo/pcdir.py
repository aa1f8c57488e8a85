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

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Set

from f5quilt.errors import F5QuiltError
from f5quilt.fsutil import safe_relpath
from f5quilt.repo.layout import STATE_NAME, StateError, read_applied, safe_name

if TYPE_CHECKING:
    from f5quilt.repo.transaction import Transaction

F5_DIR = STATE_NAME  # f5quilt's records of each patch, inside .pc/


class NoWrites:
    """Stands in for a transaction outside one: a write there is a bug, not a silent change."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"state written outside a transaction ({name})")


def digest(data: Optional[bytes]) -> Optional[str]:
    import hashlib  # here, not at the top: a query's start-up never hashes
    return None if data is None else hashlib.sha1(data).hexdigest()


class AppliedStack:
    """The applied part of the series, as recorded in ``.pc/``."""

    def __init__(self, tree: Path, pc_name: str = ".pc") -> None:
        self.tree = tree
        self.pc = tree / pc_name
        # hashes read once per command: push -a consults every applied patch's on each push
        self._sums: Dict[str, Optional[Dict[str, Optional[str]]]] = {}
        self._applied: Optional[List[str]] = None
        self._empty: Dict[str, "frozenset[str]"] = {}  # existed_empty, read once a command
        self.fs: "Transaction" = NoWrites()  # type: ignore[assignment]

    # -- quilt's files -------------------------------------------------
    @property
    def exists(self) -> bool:
        return self.pc.is_dir()

    def validate(self, records: bool = True) -> None:
        """Refuse state that is not what quilt or f5quilt writes, before anything uses it.

        ``records=False`` (the read-only queries: applied, top, series) leaves out f5quilt's
        per-patch records (sums, conflicts, files that existed empty), which those never read:
        reading them cost a query on a long series most of its time. Each is still validated
        whenever it is read (``read_sums``, ``conflicts``, ``existed_empty``)."""
        self.check_folder()
        applied = self.applied()
        if not records:
            return
        # one walk of each of f5quilt's folders, not three stats per applied patch: every
        # command opens the workspace, a shell prompt's query on a long series too
        for sub, check in (("sums", self.read_sums), ("conflicts", self.conflicts),
                           ("empty", self.existed_empty)):
            present = self._entries(sub)
            for name in applied if present else ():
                if name in present:
                    check(name)

    def check_folder(self) -> None:
        """``.pc`` is a directory of its own, not a symlink (nor a file): checked before a
        rollback writes in it, and by ``validate``."""
        if os.path.lexists(self.pc) and (self.pc.is_symlink() or not self.pc.is_dir()):
            raise StateError(f"{self.pc}: is not a directory")

    def _entries(self, sub: str) -> Set[str]:
        """The patch names with an entry (a file, or anything else) in ``.f5quilt/SUB/``."""
        base = self.f5 / sub
        found: Set[str] = set()
        for dirpath, dirs, files in os.walk(base):
            rel = os.path.relpath(dirpath, base)
            for entry in files + dirs:
                if entry.endswith(".json"):
                    found.add(os.path.normpath(os.path.join(rel, entry[:-len(".json")])))
        return found

    def reread(self) -> None:
        """Forget what was read so far: a repair or a rollback may have rewritten it."""
        self._applied = None
        self._sums.clear()
        self._empty.clear()

    def applied(self) -> List[str]:
        if self._applied is not None:
            return list(self._applied)
        names = read_applied(os.path.join(self.pc, "applied-patches"))
        self._applied = names
        return list(names)

    def top(self) -> Optional[str]:
        applied = self.applied()
        return applied[-1] if applied else None

    def write_applied(self, names: List[str]) -> None:
        path = self.pc / "applied-patches"
        self._applied = list(names)
        if not names:
            # quilt removes its db when the last patch goes
            self.fs.unlink(path)
            return
        self.fs.write_text(path, "".join(n + "\n" for n in names))

    def initialize(self, quilt_patches: str, quilt_series: str) -> None:
        wanted = {".version": "2\n", ".quilt_patches": quilt_patches + "\n",
                  ".quilt_series": quilt_series + "\n"}
        for fname, text in wanted.items():
            path = self.pc / fname
            if not path.exists():
                self.fs.write_text(path, text)

    def backup_dir(self, name: str) -> Path:
        return self.pc / safe_name(name, str(self.pc / "applied-patches"), None)

    def backup_files(self, name: str) -> Iterator[str]:
        """Tree-relative paths backed up for ``name`` (quilt's .timestamp excluded)."""
        root = str(self.backup_dir(name))
        for dirpath, _dirs, files in os.walk(root):
            # by string: a pop walks each patch's backups a few times, thousands of files
            prefix = "" if dirpath == root else dirpath[len(root) + 1:].replace(os.sep, "/") + "/"
            for fname in files:
                if prefix or fname != ".timestamp":
                    yield prefix + fname

    def backup(self, name: str, rel: str) -> Optional[bytes]:
        """The content ``rel`` had before ``name``; None when it did not exist
        (quilt's convention: an empty backup file stands for "did not exist")."""
        try:
            data = (self.backup_dir(name) / rel).read_bytes()
        except FileNotFoundError:
            return None
        if not data and rel in self.existed_empty(name):
            return b""
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
        import json
        self.fs.write_text(self._sums_path(name), json.dumps(sums, sort_keys=True, indent=0) + "\n")
        self._sums[name] = dict(sums)

    def _read_json(self, path: "Path | str") -> Any:
        import json  # here, not at the top: a query's start-up reads none of these records
        try:
            with open(path, "rb") as f:
                return json.loads(f.read())
        except FileNotFoundError:
            return None
        except (ValueError, UnicodeDecodeError, IsADirectoryError, NotADirectoryError):
            raise StateError(f"{path}: malformed f5quilt state (delete it to forget it)") from None

    def _rel_map(self, path: "Path | str", data: Any, values: type) -> Any:
        if data is None:
            return None
        if not isinstance(data, dict) or not all(
                isinstance(v, values) or (values is str and v is None) for v in data.values()):
            raise StateError(f"{path}: malformed f5quilt state (delete it to forget it)")
        for rel in data:
            try:
                safe_relpath(rel)
            except F5QuiltError:
                raise StateError(f"{path}: unsafe file name {rel!r}") from None
        return data

    def read_sums(self, name: str) -> Optional[Dict[str, Optional[str]]]:
        if name not in self._sums:
            # a plain string path: every command validates each applied patch's sums
            path = os.path.join(self.pc, F5_DIR, "sums", name + ".json")
            self._sums[name] = self._rel_map(path, self._read_json(path), str)
        cached = self._sums[name]
        return None if cached is None else dict(cached)

    # what each backup held when it was made: pop trusts a backup only while it still does
    def _backup_sums_path(self, name: str) -> Path:
        return self.f5 / "bsums" / (name + ".json")

    def write_backup_sums(self, name: str, sums: Dict[str, Optional[str]]) -> None:
        import json
        self.fs.write_text(self._backup_sums_path(name), json.dumps(sums, sort_keys=True, indent=0) + "\n")

    def read_backup_sums(self, name: str) -> Dict[str, Optional[str]]:
        path = self._backup_sums_path(name)
        return self._rel_map(path, self._read_json(path), str) or {}

    # a file that existed and was empty before a patch: quilt's backup (empty) cannot say so
    def _empty_path(self, name: str) -> Path:
        return self.f5 / "empty" / (name + ".json")

    def existed_empty(self, name: str) -> Set[str]:
        if name in self._empty:  # read once a command: pop asks for each empty backup
            return set(self._empty[name])
        path = self._empty_path(name)
        data = self._read_json(path)
        if data is None:
            data = []
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            raise StateError(f"{path}: malformed f5quilt state (delete it to forget it)")
        self._empty[name] = frozenset(safe_relpath(x) for x in data)
        return set(self._empty[name])

    def set_existed_empty(self, name: str, rels: Set[str]) -> None:
        path = self._empty_path(name)
        self._empty.pop(name, None)
        if rels:
            import json
            self.fs.write_text(path, json.dumps(sorted(rels)) + "\n")
        elif path.exists():
            self.fs.unlink(path, prune_to=self.f5)

    def conflict_path(self, name: str) -> Path:
        return self.f5 / "conflicts" / (name + ".json")

    def conflicts(self, name: str) -> Optional[Dict[str, int]]:
        path = self.conflict_path(name)
        return self._rel_map(path, self._read_json(path), int)  # type: ignore[no-any-return]

    def set_conflicts(self, name: str, files: Optional[Dict[str, int]]) -> None:
        path = self.conflict_path(name)
        if files:
            import json
            self.fs.write_text(path, json.dumps(files, sort_keys=True) + "\n")
        elif path.exists():
            self.fs.unlink(path, prune_to=self.f5)

    def forget(self, name: str) -> None:
        """Drop every trace of ``name`` under .pc (after a completed pop)."""
        bdir = self.backup_dir(name)
        if os.path.isdir(bdir) and not os.path.islink(bdir):
            # what pop left there (empty backups of created files, .timestamp) goes in one
            # rename, kept in the log entry for undo
            self.fs.drop_dir(bdir)
        elif os.path.islink(bdir):
            self.fs.unlink(bdir)  # refused: the gate never writes through or onto a symlink
        self._sums.pop(name, None)
        self._empty.pop(name, None)
        for path in (self.refresh_marker(name), self._sums_path(name), self.conflict_path(name),
                     self._empty_path(name), self._backup_sums_path(name)):
            if os.path.lexists(path):
                self.fs.unlink(path, prune_to=self.f5 if path != self.refresh_marker(name) else self.pc)
        # prune now-empty parent dirs of nested patch names (quilt does too)
        self.fs.prune(bdir.parent, self.pc)
