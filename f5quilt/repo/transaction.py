"""The one transaction layer: every command that writes goes through it.

A ``Transaction`` is opened by a command, receives every change that
command makes to the tree, ``.pc/``, the patches folder, the settings and
f5quilt's own state (a write, a hard link, a removal, a directory made,
pruned or moved), and ends in ``commit`` or ``rollback``.

Durability is an undo journal (StGit's log and a database's rollback
segment in one): before a path is changed for the first time, its
before-image is hard-linked into ``<state>/txn/objects/`` and a line is
appended to ``<state>/txn/journal``; then the change is made, by atomic
rename. A process killed at any instant therefore leaves a journal whose
lines describe every change that may have happened, and the next command
(any command) rolls them back, in reverse order, to exactly the state
before the killed one — each step is idempotent, so a rollback killed in
turn is simply rolled back again. ``commit`` stores the after-images and
renames ``txn/`` into the log (``<state>/log/<seq>/``); that rename is
the commit point.

The log is what ``f5quilt log``, ``undo`` and ``redo`` read: each entry
holds the before- and after-image (content-addressed, by SHA-1) of every
file the command changed, so undo is just another transaction that puts
the before-images back, after checking that every file still holds the
after-image (otherwise something unrecorded would be lost, and it
refuses).

Paths are validated here, once: every change must fall under one of the
transaction's roots, and no component below a root may be a symlink, so
nothing read from state or patches can steer a write out of the tree.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, NoReturn, Optional, Set, Tuple

from f5quilt.errors import F5QuiltError, UnsafePath
from f5quilt.fsutil import DEFAULT_MODE, TMP_PREFIX, Stamp, stamp_of
from f5quilt.repo.journal import (AdoptOp, DiscardOp, FileOp, MkdirOp, Op, RenameOp, RmdirOp, Rollback, ScratchOp,
                                  TransactionError, gate, parse_op, roll_back, sha1 as sha1)
from f5quilt.repo.layout import DEAD, LOG, TXN

DEFAULT_LOG_KEEP = 50

# test hook: SIGKILL this process just before its Nth file-system change
_KILL_AT = int(os.environ.get("F5QUILT_KILL_AT", "0") or 0)
_ticks = 0


_TICKS_FILE = os.environ.get("F5QUILT_TICKS_FILE")


def _write_ticks() -> None:
    if _TICKS_FILE:
        with open(_TICKS_FILE, "w") as fh:
            fh.write(str(_ticks))


if _TICKS_FILE:
    import atexit
    atexit.register(_write_ticks)


def _tick() -> None:
    global _ticks
    if not _KILL_AT and not _TICKS_FILE:
        return
    _ticks += 1
    if _ticks == _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)


_EPOCHS = itertools.count(1)


class ConcurrentEdit(F5QuiltError):
    """A file changed by another program (an editor's save) while the command ran: the
    command stops and rolls back, so the save stays in the tree, never only in the log."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} changed while f5quilt was running (saved by another program?); "
                         "nothing was changed: run the command again")


def os_error(exc: OSError, what: str) -> F5QuiltError:
    """An operating-system error as the one line the user sees."""
    where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
    reason = exc.strerror or str(exc)
    return F5QuiltError(f"{what} failed:{where}: {reason}; nothing was changed")


@dataclass
class Roots:
    """The directories a transaction may change, by name (shown in the log)."""

    dirs: Dict[str, Path]
    _checked: Dict[str, bool] = field(default_factory=dict)  # directories already walked
    _abs: Dict[str, str] = field(default_factory=dict)

    def locate(self, path: Path) -> Tuple[str, str]:
        full = os.path.abspath(path)
        if not self._abs:
            self._abs.update({name: os.path.abspath(root) for name, root in self.dirs.items()})
        best: Optional[Tuple[str, str]] = None
        best_len = -1
        for name, r in self._abs.items():
            if (full == r or full.startswith(r.rstrip(os.sep) + os.sep)) and len(r) > best_len:
                best, best_len = (name, full[len(r):].lstrip(os.sep) or "."), len(r)
        if best is None:
            raise UnsafePath(f"refusing to write {path}: outside the tree, the patches and the state")
        name, rel = best
        # a symlink below the root may not lead out of it (the file itself: see _file_mode)
        root_abs = self._abs[name]
        cur = root_abs
        parts = [] if rel == "." else rel.split(os.sep)
        for part in parts[:-1]:
            cur = os.path.join(cur, part)
            if cur in self._checked:
                continue
            if os.path.islink(cur):
                real_root = os.path.realpath(root_abs)
                real = os.path.realpath(cur)
                if not (real == real_root or real.startswith(real_root + os.sep)):
                    raise UnsafePath(f"refusing to write {path}: {cur} is a symlink")
            self._checked[cur] = True
        return name, rel.replace(os.sep, "/")

    def path(self, root: str, rel: str) -> Path:
        if root not in self.dirs:
            raise TransactionError(f"unknown root {root!r} in f5quilt's journal")
        return self.dirs[root] / rel if rel != "." else self.dirs[root]


def _empty_dir(path: str) -> bool:
    with os.scandir(path) as it:
        return next(it, None) is None


def _file_mode(path: Path) -> Optional[int]:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePath(f"refusing to change {path}: it is a symlink")
    if stat.S_ISDIR(st.st_mode):
        raise F5QuiltError(f"{path}: is a directory, not a file")
    return stat.S_IMODE(st.st_mode)


class Transaction:
    """One command's changes: journalled, then committed into the log or rolled back."""

    def __init__(self, state: Path, roots: Roots, command: str, *, keep: int = DEFAULT_LOG_KEEP) -> None:
        self.state = state
        self.roots = roots
        self.command = command
        self.keep = keep
        self.dir = state / TXN
        self._fd: Optional[int] = None
        self._count = 0
        self._index: Dict[Tuple[str, str], int] = {}  # each file's newest entry, by position
        # entries whose file went with a dropped folder: their after-image as it was then
        # (and the journal position of the drop, which a rollback to a savepoint may undo)
        self._sealed: Dict[int, Tuple[Optional[str], Optional[int], int]] = {}
        self._trash = -1
        # changes whenever a folder is removed or moved: what was found about folders is stale
        self.epoch = next(_EPOCHS)
        self._rolled: Set[int] = set()  # entries a rollback to a savepoint undid
        # files journalled before the last savepoint and changed since: (content, mode) there
        self._kept: Dict[Tuple[str, str], Tuple[Optional[bytes], Optional[int]]] = {}
        self._dirs_ok: Set[str] = set()
        self.savepoints: List[int] = []
        # each file's entry since the last savepoint: a file changed again after a savepoint
        # is journalled again (its content at the savepoint), so a rollback to it has it
        self._seen: Dict[Tuple[str, str], FileOp] = {}
        self._after: Dict[Tuple[str, str], Optional[str]] = {}  # sha1 of what was written, None: removed
        self._made_state: List[Path] = []
        self.kind = "do"
        self.targets: List[int] = []
        self.group: Optional[str] = None
        self.active = False
        self.changed = False
        # tree files as the command first read them (Workspace.read_tree): changed since, a
        # file may not be replaced; and each before-image's stamp when it was linked
        self.observed: Dict[str, Optional[Stamp]] = {}
        self._stamps: Dict[Tuple[str, str], Optional[Stamp]] = {}
        self._linked: Dict[str, Tuple[Tuple[str, str], Optional[Stamp]]] = {}  # by object name
        self._moved: Set[str] = set()  # objects of the sources of move: their inode lives on
        # files this transaction put in place by write (temp file + rename): the inode it made
        self._made: Dict[Tuple[str, str], int] = {}
        self._raced: Set[Tuple[str, str]] = set()  # saved by another program: a rollback spares them

    # -- life cycle ----------------------------------------------------
    def begin(self) -> "Transaction":
        if self.dir.exists():
            raise TransactionError(f"{self.dir}: an interrupted command was not repaired")
        missing = []
        d = self.dir
        while not d.exists():
            missing.append(d)
            d = d.parent
        self._made_state = [m for m in missing if m != self.dir]
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state / f"{TMP_PREFIX}txn"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "objects").mkdir(parents=True)
        # the roots travel with the journal: a journal whose settings file is gone (an init
        # killed before or while writing it) can still be rolled back (repair_unsettled)
        header = {"command": self.command, "time": time.time(),
                  "made": [str(m) for m in self._made_state],
                  "roots": {name: str(path) for name, path in self.roots.dirs.items()}}
        (tmp / "journal").write_text(json.dumps(header) + "\n")
        _tick()
        os.rename(tmp, self.dir)  # the journal appears whole, header first
        self._fd = os.open(self.dir / "journal", os.O_WRONLY | os.O_APPEND)
        self.active = True
        return self

    def _journal(self, op: Op) -> None:
        assert self._fd is not None, "a change outside a transaction"
        _tick()
        os.write(self._fd, (json.dumps(op.to_json()) + "\n").encode())
        self._count += 1

    def _before(self, path: Path) -> Tuple[str, str]:
        """Journal the before-image of ``path`` the first time it is changed; at its first
        change after a savepoint, keep what it holds there (``_keep``)."""
        key = self.roots.locate(path)
        if key in self._seen:
            self._unchanged(key, path)
            # journalled before the last savepoint: only memory has what it holds there (one
            # journalled since is put back by its own entry)
            if key not in self._kept and self.savepoints and self._index[key] < self.savepoints[-1]:
                self._keep(key, path)
            return key
        mode = _file_mode(path)
        before: Optional[str] = None
        held: Optional[Stamp] = None  # the stamp of the very file the journal keeps
        if mode is not None:
            name = f"b{self._count}"
            _tick()
            try:
                os.link(path, self.dir / "objects" / name)  # replaced, never written in place: the link keeps it
                held = stamp_of(self.dir / "objects" / name)
                self._linked[name] = (key, held)
            except OSError:
                held = stamp_of(path)
                shutil.copyfile(path, self.dir / "objects" / name)
            before = name
        entry = FileOp(key[0], key[1], before, mode)
        full = os.path.abspath(path)
        if full in self.observed and held != self.observed[full]:
            self._race(key, path)  # saved since the command read it: its decision is stale
        self._stamps[key] = held
        self._index[key] = self._count
        self._journal(entry)
        self._seen[key] = entry
        self.changed = True
        return key

    def _keep(self, key: Tuple[str, str], path: Path) -> None:
        """What a file journalled before the last savepoint holds there, in memory, for a
        rollback to that savepoint (``rollback_to``). The journal keeps each file's first
        before-image only: a kill rolls the whole command back, never to a savepoint."""
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                self._kept[key] = (fh.read(), stat.S_IMODE(st.st_mode))
        except FileNotFoundError:
            self._kept[key] = (None, None)

    def _unchanged(self, key: Tuple[str, str], path: Path) -> None:
        """Just before a path is replaced or removed: it is still what the journal holds (or
        what this command last wrote), not a save another program made in between."""
        if key in self._stamps and stamp_of(path) != self._stamps[key]:
            self._race(key, path)

    def _race(self, key: Tuple[str, str], path: Path) -> NoReturn:
        self._raced.add(key)
        raise ConcurrentEdit(path)

    def _wrote(self, key: Tuple[str, str], path: Path) -> None:
        self._stamps[key] = stamp_of(path)

    def check_before_images(self) -> None:
        """Before the commit: no before-image was written in place after it was linked (an
        editor holding the file open saved into the inode the command had replaced)."""
        for name, (key, then) in self._linked.items():
            if name in self._moved:
                continue  # a moved file's inode is live elsewhere: a save into it is in the tree
            now = stamp_of(self.dir / "objects" / name)
            if now is not None and then is not None and now[1:] != then[1:]:
                raise ConcurrentEdit(self.roots.path(*key))  # the rollback puts the saved inode back

    def mkdirs(self, directory: Path) -> None:
        self._mkdirs(directory)

    def _mkdirs(self, directory: Path) -> None:
        if str(directory) in self._dirs_ok:
            return
        missing = []
        d = directory
        while not d.exists():
            if os.path.islink(d):
                raise UnsafePath(f"refusing to write under {d}: it is a dangling symlink")
            missing.append(d)
            d = d.parent
        if not d.is_dir():
            raise F5QuiltError(f"{d}: is a file, not a directory")
        for d in reversed(missing):
            root, rel = self.roots.locate(d)
            self._journal(MkdirOp(root, rel))
            _tick()
            os.mkdir(d)
            self.changed = True
        self._dirs_ok.add(str(directory))

    # -- changes ---------------------------------------------------------
    def write(self, path: Path, data: bytes, mode: Optional[int] = None) -> None:
        key = self._before(path)
        self._mkdirs(path.parent)
        absent = key in self._stamps and self._stamps[key] is None  # as the command last saw it
        if mode is None and not absent:
            mode = _file_mode(path)
        mode = stat.S_IMODE(mode) if mode is not None else DEFAULT_MODE
        if key[0] == "pc" and key in self._made and self._rewrite(key, path, data, mode):
            return
        # absent, or not looked at since a folder moved: _create finds out (O_EXCL)
        if self._stamps.get(key) is None and self._create(key, path, data, mode):
            return
        tmp = path.with_name(TMP_PREFIX + path.name[:200])
        _tick()
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        _tick()
        self._unchanged(key, path)
        os.replace(tmp, path)
        self._wrote(key, path)
        stamp = self._stamps.get(key)
        if stamp is not None:
            self._made[key] = stamp[0]
        self._after[key] = sha1(data)

    def _create(self, key: Tuple[str, str], path: Path, data: bytes, mode: int) -> bool:
        """Write a file that does not exist (as far as this command knows) straight under its
        name: no temporary name, since there is nothing to protect from a half-written file (a
        kill mid-write is rolled back by removing it, as the journal says it did not exist).
        A push creates thousands (glibc: every new file and its empty backup). A file that
        appeared since is another program's: the command stops and rolls back, sparing it.
        False (nothing done) where a file is there and the command has no stamp of it."""
        _tick()  # no stat first: O_EXCL refuses a file that another program made meanwhile
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            if key in self._stamps:  # it was not there when the command looked
                self._race(key, path)
            return False  # not looked at since a folder moved (_forget_dirs): replaced as before
        try:
            view, done = memoryview(data), 0
            while done < len(data):
                done += os.write(fd, view[done:])
            os.fchmod(fd, mode)
            st = os.fstat(fd)
        finally:
            os.close(fd)
        self._stamps[key] = (st.st_ino, st.st_size, st.st_mtime_ns)  # what _wrote would take
        self._made[key] = st.st_ino
        self._after[key] = sha1(data)
        return True

    def _rewrite(self, key: Tuple[str, str], path: Path, data: bytes, mode: int) -> bool:
        """Write a file of ``.pc/`` again in place when it is still the inode this transaction
        made for it (a file written twice by one command: applied-patches, once a patch,
        through push -a and pop -a), with no other name: its before-image is another inode,
        kept in the journal, so a kill mid-write is rolled back like any other, and no backup
        or other link shares the inode. GNU quilt rewrites applied-patches in place too; the
        next f5quilt command rolls a journal back before it reads ``.pc/``
        (ops/opening.open_workspace). False (nothing done) otherwise: a new inode is made."""
        _tick()
        self._unchanged(key, path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        except OSError:
            return False
        try:
            st = os.fstat(fd)
            if st.st_ino != self._made[key] or st.st_nlink != 1 or not stat.S_ISREG(st.st_mode):
                return False
            # over the old bytes, then cut to length: applied-patches only grows by a line (push)
            # or loses its last (pop), so its blocks are neither freed nor allocated again
            view, done = memoryview(data), 0
            while done < len(data):
                done += os.pwrite(fd, view[done:], done)
            if st.st_size > len(data):
                _tick()  # a kill here leaves the old bytes' tail: the rollback puts the before-image back
                os.ftruncate(fd, len(data))
            if stat.S_IMODE(st.st_mode) != mode:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        self._wrote(key, path)
        self._after[key] = sha1(data)
        return True

    def unshare(self, path: Path, data: Optional[bytes] = None) -> bool:
        """Give ``path`` an inode of its own when it shares one with other hard links:
        a new file with the same content, mode and times (quilt's backup-files -L, ``cp -p``
        then ``mv``), so an edit in place no longer shows through the other names.
        ``data``: its content when the caller has it already. True when it was shared."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        if not stat.S_ISREG(st.st_mode) or st.st_nlink < 2:
            return False
        if data is None:
            with open(path, "rb") as fh:
                data = fh.read()
        self.write(path, data, stat.S_IMODE(st.st_mode))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        self._wrote(self.roots.locate(path), path)
        return True

    def write_text(self, path: Path, text: str) -> None:
        self.write(path, text.encode("utf-8", "surrogateescape"))

    def link(self, src: Path, dst: Path, data: Optional[bytes] = None) -> None:
        """``dst`` becomes a hard link to ``src`` (a copy across devices): quilt's backups.
        ``data``: the content of ``src`` when the caller has it already."""
        key = self._before(dst)
        self._mkdirs(dst.parent)
        if data is None:
            with open(src, "rb") as fh:
                data = fh.read()
        if dst.exists():
            _tick()
            self._unchanged(key, dst)
            os.unlink(dst)
        _tick()
        try:
            os.link(src, dst)
        except OSError:
            self.write(dst, data, _file_mode(src))
        self._wrote(key, dst)
        self._after[key] = sha1(data)

    def move(self, src: Path, dst: Path) -> None:
        """Rename file ``src`` onto ``dst`` (pop puts a backup back without copying it)."""
        skey = self._before(src)
        dkey = self._before(dst)
        self._mkdirs(dst.parent)
        _tick()
        self._unchanged(dkey, dst)
        os.replace(src, dst)
        self._wrote(dkey, dst)
        self._wrote(skey, src)
        source = self._seen[skey].before
        if source is not None:
            self._moved.add(source)
        # dst now holds what src held: the before-image of src, by reference (hashed if undo asks)
        self._after[dkey] = self._after.get(skey, f"={source}" if source else None)
        self._after[skey] = None

    def unlink(self, path: Path, prune_to: Optional[Path] = None) -> None:
        """Remove a file (absent is fine); then empty parent directories up to ``prune_to``."""
        if not os.path.lexists(path):
            if prune_to is not None:
                self.prune(path.parent, prune_to)
            return
        key = self._before(path)
        _tick()
        self._unchanged(key, path)
        os.unlink(path)
        self._wrote(key, path)
        self._after[key] = None
        if prune_to is not None:
            self.prune(path.parent, prune_to)

    def prune(self, directory: Path, stop: Path) -> None:
        """Remove ``directory`` and then its parents while they are empty, up to ``stop``
        (not included). A pop prunes after each file it removes: one lstat and the first
        entry of one listing per folder, not the whole listing (a tree's folders are large)."""
        stop_abs = os.path.abspath(stop)
        here = os.path.abspath(directory)
        while here != stop_abs and here.startswith(stop_abs + os.sep):
            try:
                st = os.lstat(here)
            except OSError:
                return
            if not stat.S_ISDIR(st.st_mode) or not _empty_dir(here):
                return
            root, rel = self.roots.locate(Path(here))
            self._journal(RmdirOp(root, rel, stat.S_IMODE(st.st_mode)))
            _tick()
            os.rmdir(here)
            self.epoch = next(_EPOCHS)
            self._dirs_ok.clear()
            self.changed = True
            here = os.path.dirname(here)

    def rename_dir(self, src: Path, dst: Path) -> None:
        """Move a whole directory (a tree set aside by rebase); ``dst`` must not exist."""
        s, d = self.roots.locate(src), self.roots.locate(dst)
        if os.path.lexists(dst):
            raise F5QuiltError(f"{dst}: exists already")
        self._mkdirs(dst.parent)
        self._journal(RenameOp(s, d))
        _tick()
        os.rename(src, dst)
        self.changed = True
        self._forget_dirs()

    def scratch_dir(self, path: Path) -> Path:
        """A working directory (a tree being built) that a rollback removes."""
        root, rel = self.roots.locate(path)
        self._journal(ScratchOp(root, rel))
        _tick()
        path.mkdir()
        return path

    def adopt_dir(self, built: Path, dst: Path) -> None:
        """Rename a directory built outside the roots (a fetched tree) into place."""
        d = self.roots.locate(dst)
        if os.path.lexists(dst):
            raise F5QuiltError(f"{dst}: exists already")
        self._mkdirs(dst.parent)
        self._journal(AdoptOp(d[0], d[1]))
        _tick()
        os.rename(built, dst)
        self.changed = True
        self._forget_dirs()

    def drop_dir(self, path: Path) -> None:
        """Remove a folder this command is done with (a popped patch's ``.pc/NAME``: its empty
        backups and ``.timestamp``) with one rename into the entry's trash, kept for undo like
        ``discard_dir``, however many files it holds. Unlike ``discard_dir`` (whole trees) it
        forgets only what lies below ``path``: each file there that the command journalled
        has its entry sealed with what the file held when it went (the log's after-image), and
        a file made again under the same name later is journalled afresh."""
        root, rel = self.roots.locate(path)
        full = os.path.abspath(path)
        prefix_rel = "" if rel == "." else rel + "/"
        for key in [k for k in self._index if k[0] == root and (k[1] + "/").startswith(prefix_rel)]:
            i = self._index.pop(key)
            if i not in self._sealed:
                file = self.roots.path(*key)
                mode = _file_mode(file)
                if key in self._after:
                    after = self._after[key]
                else:
                    after = None if mode is None else sha1(file.read_bytes())
                self._sealed[i] = (after, mode, self._count)
            self._seen.pop(key, None)
            self._stamps.pop(key, None)
            self._after.pop(key, None)
            self._made.pop(key, None)
        prefix = full + os.sep
        self._dirs_ok = {d for d in self._dirs_ok if d != full and not d.startswith(prefix)}
        self.roots._checked = {d: v for d, v in self.roots._checked.items()
                               if d != full and not d.startswith(prefix)}
        self._discard(root, rel, path)

    def _discard(self, root: str, rel: str, path: Path) -> None:
        trash = self.dir / "trash"
        if self._trash < 0:
            trash.mkdir(exist_ok=True)
            self._trash = len(list(trash.iterdir()))
        n = self._trash
        self._trash += 1
        self._journal(DiscardOp(root, rel, n))
        _tick()
        os.rename(path, trash / str(n))
        self.epoch = next(_EPOCHS)
        self.changed = True

    def discard_dir(self, path: Path) -> None:
        """Remove a directory tree, keeping it in the log entry so undo can bring it back."""
        s = self.roots.locate(path)
        self._discard(s[0], s[1], path)
        self._forget_dirs()

    # -- end -----------------------------------------------------------
    def commit(self) -> Optional[int]:
        """Record the after-images and move the journal into the log (the commit point)."""
        assert self.active
        self.active = False
        self._close()
        if not self.changed:
            self._drop(self.dir)
            self._cleanup_made()
            return None
        ops: List[Dict[str, Any]] = []
        entries = read_journal(self.dir)[1]
        copied = self._unshare_objects(entries)
        for i, e in enumerate(entries):
            if i in self._rolled:
                continue
            if e.get("op") != "file":
                ops.append(e)
                continue
            if e.get("before") in copied:
                e = {**e, "before": copied[e["before"]]}
            if i in self._sealed:  # its file went with a dropped folder (made again later)
                after, mode_after = self._sealed[i][:2]
                if after is not None and after.startswith("=") and after[1:] in copied:
                    after = "=" + copied[after[1:]]
                ops.append({**e, "after": after, "mode_after": mode_after})
                continue
            key = (e["root"], e["rel"])
            path = self.roots.path(*key)
            # removed by this command (a pop's backups and created files): no stat needed
            mode = None if key in self._after and self._after[key] is None else _file_mode(path)
            if key in self._after:
                after_digest = self._after[key]
                if after_digest is not None and after_digest.startswith("=") and after_digest[1:] in copied:
                    after_digest = "=" + copied[after_digest[1:]]
            else:
                after_digest = None if mode is None else sha1(path.read_bytes())
            ops.append({**e, "after": after_digest, "mode_after": mode})
        manifest = {"command": self.command, "time": time.time(), "kind": self.kind,
                    "targets": self.targets, "group": self.group, "ops": ops}
        tmp = self.dir / (TMP_PREFIX + "manifest")
        tmp.write_text(json.dumps(manifest, indent=0, sort_keys=True) + "\n")
        os.replace(tmp, self.dir / "manifest.json")
        log = self.state / LOG
        log.mkdir(exist_ok=True)
        seq = next_seq(log)
        _tick()
        os.rename(self.dir, log / f"{seq:08d}")
        for name in copied:  # the log keeps the copies; a kill here only leaves a spare link
            try:
                os.unlink(log / f"{seq:08d}" / "objects" / name)
            except FileNotFoundError:
                pass
        prune_log(log, self.keep)
        return seq

    def _unshare_objects(self, entries: List[Dict[str, Any]]) -> Dict[str, str]:
        """Copies of the before-images that share their inode with a file still in use.

        While the command runs, a before-image is a hard link to the file's inode, so a
        rollback puts back the very inode (and with it every other hard link to it). The
        log must not keep such a link to a file that lives on (a backup moved back into the
        tree, a tree file hard-linked elsewhere, the original inode kept as the backup):
        an edit in place there would change the log's copy too, and quilt's link counts
        would show it. Such objects are copied (``cN``); the journal keeps naming ``bN``
        until the commit point, the manifest names the copy, and the link goes after.
        """
        copied: Dict[str, str] = {}
        objects = self.dir / "objects"
        for e in entries:
            b = e.get("before") if e.get("op") == "file" else None
            if not b or b in copied:
                continue
            obj = objects / b
            try:
                shared = os.stat(obj).st_nlink > 1
            except FileNotFoundError:
                continue
            if shared:
                name = "c" + b[1:]
                _tick()
                shutil.copyfile(obj, objects / name)
                copied[b] = name
        return copied

    def savepoint(self) -> None:
        """A consistent point (one patch fully pushed): an error later rolls back to here."""
        self.savepoints.append(self._count)
        self._kept = {}  # files journalled before it: kept as they are here once changed again

    def _forget_dirs(self) -> None:
        self.epoch = next(_EPOCHS)
        self._dirs_ok.clear()
        self.roots._checked.clear()
        # a whole folder moved (a tree swapped by rebase or fetch): what was read or written
        # under the old one says nothing about the files now there
        self.observed.clear()
        self._stamps.clear()

    def rollback_to(self, point: int) -> None:
        """Back to the savepoint at journal position ``point``: the journal's entries since
        are rolled back, then the files journalled before it and changed since get what they
        held there (kept in memory). A kill meanwhile leaves the journal whole: the next
        command rolls the whole command back."""
        self._forget_dirs()
        entries = read_journal(self.dir)[1]
        later = [parse_op(e, f"{self.dir / 'journal'}:{point + i + 2}", self.roots.dirs)
                 for i, e in enumerate(entries[point:])]
        undo = Rollback(self.dir, self.roots, frozenset(self._raced), tick=_tick)
        roll_back(later, undo)
        for op in later:
            if isinstance(op, FileOp):
                self._after.pop(op.paths()[0], None)
        # rolled back: the log leaves them out (a discarded folder is back in place, a file
        # holds its before-image again)
        self._rolled.update(range(point, point + len(later)))
        self._sealed = {i: v for i, v in self._sealed.items() if v[2] < point}  # drops undone
        for key, (data, mode) in self._kept.items():
            if key in self._raced:
                continue  # saved by another program meanwhile: left as that save made it
            path = self.roots.path(*key)
            _tick()
            if data is None:
                if os.path.lexists(path) and not os.path.isdir(path):
                    os.unlink(path)
                self._after[key] = None
                continue
            tmp = path.with_name(TMP_PREFIX + path.name[:200])
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, mode if mode is not None else DEFAULT_MODE)
            os.replace(tmp, path)
            self._after[key] = sha1(data)
        self._kept = {}
        for folder in sorted(undo.busy, key=lambda p: len(p.parts), reverse=True):
            try:
                folder.rmdir()  # made since and emptied just now (a kept file removed)
            except OSError:
                pass

    def rollback(self) -> None:
        self.active = False
        self._close()
        rollback_dir(self.dir, self.roots, frozenset(self._raced))

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _drop(self, d: Path) -> None:
        dead = d.with_name(DEAD + d.name)
        shutil.rmtree(dead, ignore_errors=True)
        os.rename(d, dead)
        shutil.rmtree(dead, ignore_errors=True)

    def _cleanup_made(self) -> None:
        for m in self._made_state:
            try:
                m.rmdir()
            except OSError:
                pass



def read_journal(d: Path) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """The header and the entries of a journal; a torn last line (killed mid-append) is dropped:
    the change it announced was never made."""
    raw = (d / "journal").read_bytes().split(b"\n")
    entries: List[Dict[str, Any]] = []
    header: Dict[str, Any] = {}
    for i, line in enumerate(raw):
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            if i >= len(raw) - 2:
                break
            raise TransactionError(f"{d / 'journal'}:{i + 1}: corrupt journal line") from None
        if not isinstance(obj, dict):
            raise TransactionError(f"{d / 'journal'}:{i + 1}: journal line is not an object")
        if i == 0:
            header = obj
        else:
            entries.append(obj)
    return header, entries


def checked_journal(d: Path, roots: Roots) -> Tuple[Dict[str, Any], List[Op]]:
    """The journal in ``d``, every entry parsed and checked (``journal.parse_op``) and every
    path through the gate."""
    header, entries = read_journal(d)
    ops = [parse_op(e, f"{d / 'journal'}:{i + 2}", roots.dirs) for i, e in enumerate(entries)]
    gate(ops, roots)
    return header, ops


def rollback_dir(d: Path, roots: Roots, spare: "frozenset[Tuple[str, str]]" = frozenset()) -> str:
    """Undo every change the journal in ``d`` announces, newest first; returns the command.
    ``spare``: files another program saved while the command ran, left as that save made them."""
    header, ops = checked_journal(d, roots)
    roll_back(ops, Rollback(d, roots, spare, tick=_tick))
    command = str(header.get("command", "?"))
    dead = d.with_name(DEAD + d.name)
    shutil.rmtree(dead, ignore_errors=True)
    os.rename(d, dead)
    shutil.rmtree(dead, ignore_errors=True)
    _remove_made(header.get("made", []), d.parent.parent)
    return command


class Quarantined(str):
    """What ``repair`` says when the journal it found was malformed: the line to show. The
    journal was set aside, unrun (a journal shipped in a tarball, a hand edit)."""


def _quarantine(state: Path, d: Path, why: str) -> Quarantined:
    q = state / "quarantine"
    q.mkdir(exist_ok=True)
    dest = q / f"{d.name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    os.rename(d, dest)
    return Quarantined(f"warning: {why}; set aside in {dest}, nothing of it was run")


def _header_made(d: Path) -> List[str]:
    try:
        made = read_journal(d)[0].get("made", [])
    except (OSError, TransactionError):
        return []
    return [m for m in made if isinstance(m, str)] if isinstance(made, list) else []


def _remove_made(made: Any, base: Path) -> None:
    """The state folders a transaction made, if still empty (never anything else, never
    outside ``base``, the folder holding the state)."""
    real_base = os.path.realpath(base)
    for m in made if isinstance(made, list) else []:
        if not isinstance(m, str) or "\0" in m:
            continue
        real = os.path.realpath(m)
        if real != real_base and not real.startswith(real_base + os.sep):
            continue
        try:
            Path(m).rmdir()
        except OSError:
            pass


def repair_unsettled(state: Path) -> Optional[str]:
    """Roll back a journal in ``state`` whose settings file is missing: an ``init`` killed
    before its f5quilt.yaml appeared (or while rolling back, after removing it). The roots
    come from the journal's header, and each must lie inside the folder holding ``state``;
    None when there is nothing to repair."""
    if not state.is_dir():
        return None
    d, tmp = state / TXN, state / f"{TMP_PREFIX}txn"
    source = d if (d / "journal").is_file() else (tmp if (tmp / "journal").is_file() else None)
    if source is None:
        return repair(state, Roots({"state": state}))
    base = os.path.realpath(state.parent)
    recorded = read_journal(source)[0].get("roots")
    dirs: Dict[str, Path] = {}
    if isinstance(recorded, dict):
        for name, where in recorded.items():
            real = os.path.realpath(where) if isinstance(where, str) and "\0" not in where else ""
            if not isinstance(name, str) or not (real == base or real.startswith(base + os.sep)):
                raise TransactionError(f"{source / 'journal'}:1: root {name!r} lies outside {state.parent}")
            dirs[name] = Path(where)
    elif source is d:
        raise TransactionError(f"{source / 'journal'}: an interrupted command with no settings file "
                               "and no recorded roots: remove it by hand")
    return repair(state, Roots(dirs))


def repair(state: Path, roots: Roots) -> Optional[str]:
    """Roll back a command a killed process left half done; its name, or None."""
    for dead in state.glob(DEAD + "*") if state.is_dir() else ():
        shutil.rmtree(dead, ignore_errors=True)
    log = state / LOG
    if log.is_dir():
        for dead in log.glob(DEAD + "*"):
            shutil.rmtree(dead, ignore_errors=True)
    tmp = state / f"{TMP_PREFIX}txn"
    if tmp.exists():
        # killed before the journal appeared: nothing was changed but the state folders it made
        made = _header_made(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_made(made, state.parent)
    d = state / TXN
    if not d.is_dir():
        return None
    if not (d / "journal").is_file():
        shutil.rmtree(d, ignore_errors=True)
        return "?"
    try:
        checked_journal(d, roots)
    except (TransactionError, UnsafePath) as exc:
        return _quarantine(state, d, exc.message)
    return rollback_dir(d, roots)


# -- the log -----------------------------------------------------------
def next_seq(log: Path) -> int:
    seqs = [int(p.name) for p in log.iterdir() if p.name.isdigit()]
    return max(seqs, default=0) + 1


def prune_log(log: Path, keep: int) -> None:
    """Drop the oldest entries beyond ``keep``, except what redo still needs: an undone
    entry's after-images exist nowhere else (the entry just undone among them), and the undo
    entry that says it is undone."""
    entries = sorted((p for p in log.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    doomed = entries[:max(0, len(entries) - keep)]
    if not doomed:
        return
    logged = read_log(log.parent, notes=[])  # a malformed entry is set aside, never counted
    _undoable, redoable = undo_redo_stacks(logged)
    needed = set(redoable) | {e.seq for e in logged if e.kind == "undo" and set(e.targets) & set(redoable)}
    for old in doomed:
        if int(old.name) in needed:
            continue
        dead = log / (DEAD + old.name)
        os.rename(old, dead)
        shutil.rmtree(dead, ignore_errors=True)


@dataclass
class LogEntry:
    seq: int
    path: Path
    command: str
    time: float
    kind: str
    targets: List[int]
    ops: List[Op]
    group: Optional[str] = None

    def object(self, digest: str) -> bytes:
        return (self.path / "objects" / digest).read_bytes()

    @property
    def files(self) -> List[FileOp]:
        return [o for o in self.ops if isinstance(o, FileOp)]


def read_log(state: Path, notes: Optional[List[str]] = None) -> List[LogEntry]:
    """The log's entries, oldest first. A malformed entry is never replayed: with ``notes``
    it is set aside into ``<state>/quarantine/`` and a line saying so is added there;
    without, it is an error."""
    log = state / LOG
    if not log.is_dir():
        return []
    out = []
    for p in sorted((p for p in log.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)):
        try:
            out.append(_log_entry(p))
        except TransactionError as exc:
            if notes is None:
                raise
            notes.append(_quarantine(state, p, exc.message))
    return out


def _log_entry(p: Path) -> LogEntry:
    where = p / "manifest.json"
    try:
        m = json.loads(where.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        raise TransactionError(f"{where}: unreadable log entry") from None
    if not isinstance(m, dict) or not isinstance(m.get("ops"), list) \
            or not all(isinstance(o, dict) for o in m["ops"]):
        raise TransactionError(f"{where}: malformed log entry")
    ops = [parse_op(o, str(where), log=True) for o in m["ops"]]
    targets, group = m.get("targets", []), m.get("group")
    if not isinstance(targets, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in targets) \
            or not isinstance(m.get("command", ""), str) or not isinstance(m.get("kind", "do"), str) \
            or m.get("kind", "do") not in ("do", "undo", "redo") or not (group is None or isinstance(group, str)) \
            or not isinstance(m.get("time", 0), (int, float)) or isinstance(m.get("time", 0), bool):
        raise TransactionError(f"{where}: malformed log entry")
    try:
        return LogEntry(int(p.name), p, str(m.get("command", "?")), float(m.get("time", 0)),
                        str(m.get("kind", "do")), list(targets), ops, group or None)
    except (TypeError, ValueError, OverflowError):
        raise TransactionError(f"{where}: malformed log entry") from None


def undo_redo_stacks(entries: List[LogEntry]) -> Tuple[List[int], List[int]]:
    """Replay the log: which entries can be undone and redone (the next one last in each)."""
    undoable: List[int] = []
    redoable: List[int] = []
    present = {e.seq for e in entries}
    for e in entries:
        if e.kind == "do":
            undoable.append(e.seq)
            redoable.clear()
        elif e.kind == "undo":
            for t in e.targets:
                if t in undoable:
                    undoable.remove(t)
                    redoable.append(t)
                elif t not in present:  # pruned by an older f5quilt: redo must say so, not pick another
                    redoable.append(t)
        elif e.kind == "redo":
            for t in e.targets:
                if t in redoable:
                    redoable.remove(t)
                    undoable.append(t)
    return undoable, redoable


def describe(entry: LogEntry) -> Dict[str, List[str]]:
    """What an entry changed, grouped as a user thinks of it."""
    groups: Dict[str, List[str]] = {"series": [], "applied": [], "patches": [], "tree": [],
                                    "settings": [], "state": []}
    seen: Set[Tuple[str, str]] = set()  # a file journalled again (made again in a dropped folder): once
    for f in entry.ops:
        if isinstance(f, FileOp):
            if (f.root, f.rel) in seen:
                continue
            seen.add((f.root, f.rel))
        if isinstance(f, (RenameOp, AdoptOp, DiscardOp)):
            if "(whole tree)" not in groups["tree"]:
                groups["tree"].append("(whole tree)")
            continue
        if not isinstance(f, FileOp):
            continue
        root, rel = f.root, f.rel
        if root == "series" or (root == "patches" and rel == "series"):
            groups["series"].append(rel)
        elif root == "pc":
            groups["applied" if rel == "applied-patches" else "state"].append(rel)
        elif root == "patches":
            groups["patches"].append(rel)
        elif root == "tree":
            groups["tree"].append(rel)
        elif root == "base":
            groups["settings"].append(rel)
        else:
            groups["state"].append(rel)
    return groups
