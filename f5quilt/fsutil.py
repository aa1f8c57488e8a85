"""File-system primitives: atomic writes and paths that cannot leave the tree."""
from __future__ import annotations

import errno
import os
import stat

from f5quilt.errors import F5QuiltError, UnsafePath

TYPE_CHECKING = False  # typing and pathlib only for mypy: a shell-prompt query's start-up
if TYPE_CHECKING:      # reads its state through ``safe_relpath`` and imports neither
    from pathlib import Path
    from typing import Dict, Optional, Tuple, Union

    Stamp = Tuple[int, int, int]  # inode, size, mtime in ns: what another program's save changes
else:
    Stamp = tuple

_UMASK = os.umask(0)
os.umask(_UMASK)
DEFAULT_MODE = 0o666 & ~_UMASK  # what open() would give a new file


def atomic_write(path: Path, data: bytes, mode: Optional[int] = None) -> None:
    """Write via a temp file in the same directory and os.replace.

    A process killed at any point leaves either the old or the new content
    (plus, at worst, a stray ``.f5quilt-tmp`` file), never a torn file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # here, not at the top: a query writes nothing
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=TMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, stat.S_IMODE(mode if mode is not None else DEFAULT_MODE))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


TMP_PREFIX = ".f5quilt-tmp."


def sweep_temp_files(directory: Path, recursive: bool = False) -> int:
    """Remove temp files a killed atomic_write left in ``directory``."""
    if not directory.is_dir():
        return 0
    found = list(directory.rglob(TMP_PREFIX + "*") if recursive else directory.glob(TMP_PREFIX + "*"))
    for path in found:
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError):
            pass
    return len(found)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, text.encode("utf-8", "surrogateescape"))


def safe_relpath(name: str, patch: str = "", line: Optional[int] = None) -> str:
    """Validate a tree-relative path from a patch: no absolute, no ``..``."""
    if "/" not in name and name not in ("", ".", "..", ".pc") and "\0" not in name:
        return name  # a plain name (most of them): what the rules below give it back as
    where = f"{patch}:{line}: " if patch and line else (f"{patch}: " if patch else "")
    if not name or name.startswith("/") or "\0" in name:
        raise UnsafePath(f"{where}refusing path {name!r}: absolute or empty")
    # PurePosixPath's parts, by string operations: every command validates each name of
    # its state (a long series' sums too), so this runs thousands of times per command
    parts = [p for p in name.split("/") if p and p != "."]
    if ".." in parts:
        raise UnsafePath(f"{where}refusing path {name!r}: it leaves the tree")
    if parts and parts[0] == ".pc":
        raise UnsafePath(f"{where}refusing path {name!r}: quilt's state directory")
    return "/".join(parts) or "."


def safe_user_name(root: Path, name: str, what: str) -> str:
    """A name a user typed that becomes a path under ``root`` (a patch name, a folder of
    init): plain and relative, no ``..``, and no symlinked folder (or file) below ``root``,
    which would send the write elsewhere. The error names the argument: ``what`` ``name``."""
    try:
        rel = safe_relpath(name)
    except UnsafePath as exc:
        reason = str(exc).rpartition(": ")[2]
        raise UnsafePath(f"{what} {name!r}: refused, {reason}: a name must stay inside "
                         f"{root.name or root}/") from None
    cur = root
    for part in rel.split("/") if rel != "." else ():  # safe_relpath's: plain parts, or "."
        cur = cur / part
        if cur.is_symlink():
            raise UnsafePath(f"{what} {name!r}: refused, {cur} is a symlink")
        if not cur.exists():
            break
    return rel


def check_inside(root: Path, rel: str, patch: str = "", real_root: Optional[str] = None,
                 known: Optional[Dict[str, str]] = None) -> Path:
    """The absolute path of ``rel`` under ``root``; refuse symlinks leading out. ``real_root``:
    ``os.path.realpath(root)`` when the caller worked it out already (``Workspace.inside``);
    ``known``: folders (relative) already found to be real folders, no symlink on the way, as
    long as no folder was removed or moved since (``Workspace.inside`` keeps it)."""
    target = root / rel
    if real_root is None:
        real_root = os.path.realpath(root)
        parent = os.path.realpath(target.parent)
    else:
        folder = rel.rpartition("/")[0]
        found = known.get(folder) if known is not None else None
        parent = found or _real_below(real_root, rel, known) or os.path.realpath(target.parent)
    if parent != real_root and not parent.startswith(real_root + os.sep):
        where = f"{patch}: " if patch else ""
        raise UnsafePath(f"{where}refusing path {rel!r}: a symlink leads out of the tree")
    try:
        link = stat.S_ISLNK(os.lstat(target).st_mode)
    except OSError as exc:  # what pathlib's is_symlink takes for "no"
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise
        link = False
    if link:
        where = f"{patch}: " if patch else ""
        raise UnsafePath(f"{where}refusing path {rel!r}: it is a symlink")
    return target


def _real_below(real_root: str, rel: str, known: Optional[Dict[str, str]] = None) -> Optional[str]:
    """The real path of ``rel``'s folder under ``real_root`` when none of its folders is a
    symlink (one lstat each, what ``realpath`` would do below the root without redoing the
    root's own folders); None when one is, or ``rel`` is not plain: ``realpath`` decides."""
    parts = rel.split("/")[:-1]
    path = real_root
    for i, part in enumerate(parts):
        if part in ("", ".", ".."):
            return None
        path = path + os.sep + part
        try:
            mode = os.lstat(path).st_mode
        except OSError:  # not there (yet): nothing below it can be a symlink
            return os.sep.join([path, *parts[i + 1:]]) if all(p not in ("", ".", "..") for p in parts[i + 1:]) else None
        if stat.S_ISLNK(mode):
            return None
    if known is not None and (not parts or stat.S_ISDIR(mode)):
        known["/".join(parts)] = path  # every folder there, none a symlink
    return path


def stamp_of(path: Union[str, Path]) -> Optional[Stamp]:
    """``path``'s stamp (not following a symlink), None when it does not exist."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def read_bytes_or_none(path: Union[str, Path]) -> Optional[bytes]:
    """A file's bytes, None when it does not exist; a one-line error for what is not a file."""
    return read_stamped(path)[0]


def read_stamped(path: Union[str, Path]) -> Tuple[Optional[bytes], Optional[Stamp]]:
    """``read_bytes_or_none`` and the stamp of what was read (taken before reading, so a save
    during the read shows as a change)."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            return fh.read(), (st.st_ino, st.st_size, st.st_mtime_ns)
    except FileNotFoundError:
        return None, None
    except IsADirectoryError:
        raise F5QuiltError(f"{path}: is a directory, not a file") from None
    except NotADirectoryError:
        raise F5QuiltError(f"{path}: a parent of it is a file, not a directory") from None
    except PermissionError:
        raise F5QuiltError(f"{path}: permission denied") from None
