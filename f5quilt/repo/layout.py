"""Where things are, by strings, for every command: the settings file above the current
folder; quilt mode's tree, patches folder, series file and ``.pc`` (GNU quilt's rules); the
names a command leaves in f5quilt's state folder, and whether a killed command left any there.

Asked before every command, so a shell-prompt query answers them without pathlib, typing or
the transaction layer (their start-up time counts in a prompt): this module imports ``os``
and the errors alone. ``settings.load_settings`` builds its ``Settings`` from these answers,
and ``fastpath``'s plain path reads them directly, so both find the same places.
"""
from __future__ import annotations

import os

from f5quilt.errors import F5QuiltError, located
from f5quilt.fsutil import TMP_PREFIX, safe_relpath

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Mapping, Optional, Tuple

SETTINGS_NAME = "f5quilt.yaml"
STATE_NAME = ".f5quilt"  # f5quilt's state: beside f5quilt.yaml (in .pc/ without settings)
TREE_PIN = "tree-pin.json"  # which pin built the tree
REBASE_STATE = "rebase/state.json"  # a rebase under way
PROMPT = "prompt"      # the shell-prompt record: f5quilt.yaml's places, for a query without yaml
PROMPT_MAGIC = "f5quilt prompt record 1"
RACY_NS = 2_000_000_000  # a settings file read this soon after a change gets no record (settled_key)
TXN = "txn"            # the journal of the command under way
LOG = "log"            # committed commands, for undo/redo/log
DEAD = ".dead-"        # folders being removed (renamed first, so a kill leaves no half folder)


def unsettled(state: "str | os.PathLike[str]") -> bool:
    """A journal, a journal being written, or a folder being removed in ``state``: what
    ``transaction.repair`` finishes. False costs one or two directory reads."""
    try:
        names = os.listdir(state)
    except (FileNotFoundError, NotADirectoryError):
        return False
    if any(n in (TXN, TMP_PREFIX + TXN) or n.startswith(DEAD) for n in names):
        return True
    if LOG in names:
        try:
            return any(n.startswith(DEAD) for n in os.listdir(os.path.join(state, LOG)))
        except (FileNotFoundError, NotADirectoryError):
            return False
    return False


class StateError(F5QuiltError):
    """Malformed state under .pc/: named by file and line, nothing changed."""


def safe_name(name: str, path: str, line: "Optional[int]") -> str:
    """A patch name from quilt's state (``path``'s line ``line``): plain, inside the patches."""
    try:
        if "\\" in name or name != name.strip():
            raise F5QuiltError("")
        return safe_relpath(name)
    except F5QuiltError:
        raise StateError(located(path, line, f"unsafe patch name {name!r}")) from None


def read_applied(path: str) -> "List[str]":
    """The patches ``.pc/applied-patches`` lists, bottom first (none when it does not exist);
    a ``StateError`` naming the file and line for what quilt would not have written."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return []
    except (IsADirectoryError, NotADirectoryError):
        raise StateError(f"{path}: is not a file") from None
    names: List[str] = []
    seen: set[str] = set()
    for no, raw in enumerate(data.decode("utf-8", "surrogateescape").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if "\0" in line:
            raise StateError(located(path, no, "NUL byte in a patch name"))
        names.append(safe_name(line, path, no))
        if line in seen:
            raise StateError(located(path, no, f"patch {line} listed twice"))
        seen.add(line)
    return names


def folders_up(start: str) -> "list[str]":
    """``start`` and every folder above it, nearest first (``[start, *Path(start).parents]``)."""
    found = [start]
    while True:
        parent = os.path.dirname(found[-1])
        if parent == found[-1]:
            return found
        found.append(parent)


def settings_file_above(start: str) -> "Optional[str]":
    """The nearest ``f5quilt.yaml`` in ``start`` (an absolute, resolved folder) or above it."""
    for directory in folders_up(start):
        candidate = os.path.join(directory, SETTINGS_NAME)
        if os.path.isfile(candidate):
            return candidate
    return None


def pc_name(value: object, where: str) -> str:
    """quilt's state directory: a plain name inside the tree, never the tree itself."""
    name = str(value)
    if not name or name in (".", "..") or "/" in name or "\0" in name or name != name.strip():
        raise F5QuiltError(f"{where}: pc must be a plain directory name (like .pc), not {name!r}")
    return name


def shell_words(value: str) -> "List[str]":
    """``value`` split as the shell splits it (``shlex.split``; ValueError for an open quote):
    by ``str.split`` when there is nothing to unquote, since shlex brings ``re`` into a query's
    start-up (Debian's quiltrc sets QUILT_SERIES_ARGS, read by every ``series``)."""
    if any(c in value for c in "'\"\\") or any(c.isspace() and c not in " \t\r\n" for c in value):
        import shlex  # lazy: start-up
        return shlex.split(value)
    return value.split()  # shlex.split's words: no quote, no escape, only its blanks


def patch_opts_fuzz(opts: str) -> int:
    """Quilt mode's fuzz: GNU patch's default (2), or the -F N/--fuzz=N of QUILT_PATCH_OPTS."""
    if not opts:
        return 2
    try:
        words = shell_words(opts)
    except ValueError:
        raise F5QuiltError(f"QUILT_PATCH_OPTS: cannot read {opts!r}") from None
    fuzz = 2
    for i, word in enumerate(words):
        value = None
        if word.startswith("--fuzz="):
            value = word.split("=", 1)[1]
        elif word in ("-F", "--fuzz") and i + 1 < len(words):
            value = words[i + 1]
        elif word.startswith("-F") and len(word) > 2:
            value = word[2:]
        if value is not None:
            if not value.isdigit():
                raise F5QuiltError(f"QUILT_PATCH_OPTS: bad fuzz {value!r}")
            fuzz = int(value)
    return fuzz


def _remembered(path: str) -> "Optional[str]":
    """A folder name quilt remembered in .pc/: state, so validated before it becomes a path."""
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise F5QuiltError(f"{path}:1: unreadable") from None
    if not text:
        return None
    if "\0" in text or "\n" in text or text.startswith("/") or ".." in text.split("/"):
        raise F5QuiltError(f"{path}:1: {text!r} is not a folder inside the tree "
                           "(set QUILT_PATCHES/QUILT_SERIES to use one elsewhere)")
    return text


def quilt_places(cwd: str, env: "Mapping[str, str]") -> "Tuple[str, str, str, str, int]":
    """Quilt mode's places, as quilt finds them from ``cwd`` (absolute, resolved) with ``env``
    (the environment and the quiltrc's QUILT_* variables): the tree (the nearest folder holding
    the state folder or the patches folder, else ``cwd``), the patches folder, the series file,
    the state folder's name (``$QUILT_PC``) and the fuzz of ``$QUILT_PATCH_OPTS``."""
    pc = pc_name(env.get("QUILT_PC") or ".pc", "QUILT_PC")
    look_for = [pc]
    if not os.path.isabs(env.get("QUILT_PATCHES") or "patches"):
        look_for.append(env.get("QUILT_PATCHES") or "patches")
    tree = cwd
    for directory in folders_up(cwd):
        if any(os.path.isdir(os.path.join(directory, name)) for name in look_for):
            tree = directory
            break
    patches_rel = env.get("QUILT_PATCHES") or None
    series_rel = env.get("QUILT_SERIES") or None
    pc_dir = os.path.join(tree, pc)
    real_tree, real_pc = os.path.realpath(tree), os.path.realpath(pc_dir)
    if real_pc != real_tree and not real_pc.startswith(real_tree + os.sep):
        raise F5QuiltError(f"{pc_dir}: a symlink that leads outside {tree}; quilt's state must lie in the tree")
    # like quilt, an existing .pc remembers where its patches are (over QUILT_PATCHES/QUILT_SERIES)
    if os.path.isfile(os.path.join(pc_dir, ".quilt_patches")):
        patches_rel = _remembered(os.path.join(pc_dir, ".quilt_patches")) or patches_rel
    if os.path.isfile(os.path.join(pc_dir, ".quilt_series")):
        series_rel = _remembered(os.path.join(pc_dir, ".quilt_series")) or series_rel
    for name, value in (("QUILT_PATCHES", patches_rel), ("QUILT_SERIES", series_rel)):
        if value is not None and "\0" in value:
            raise F5QuiltError(f"{name}: a NUL byte in the path")
    # like quilt, a patches folder that is a symlink keeps its name (setup's patches -> ..)
    patches = os.path.normpath(os.path.join(tree, patches_rel or "patches"))
    if series_rel and os.path.isabs(series_rel):
        series = series_rel
    elif series_rel and "/" in series_rel:
        series = os.path.join(tree, series_rel)
    else:
        name = series_rel or "series"
        series = os.path.join(patches, name)
        # quilt also accepts a series file at the tree root or in .pc/
        if not os.path.exists(series):
            for alt in (os.path.join(tree, name), os.path.join(pc_dir, name)):
                if os.path.exists(alt):
                    series = alt
                    break
    return tree, patches, series, pc, patch_opts_fuzz(env.get("QUILT_PATCH_OPTS", ""))


def yaml_places(root: str, places: "Tuple[str, str, str]") -> "Tuple[str, str, str]":
    """f5quilt.yaml's tree, patches folder and series file, from ``places`` as the file says
    them and ``root``, the file's folder: tree and patches resolved (symlinks followed, as
    ``(Path(root) / rel).resolve()``), the series inside the patches folder."""
    tree, patches = (os.path.realpath(os.path.join(root, rel)) for rel in places[:2])
    return tree, patches, os.path.join(patches, places[2])


def leaving_project(root: str, tree: str, patches: str, pc: str) -> "Optional[str]":
    """The first of f5quilt.yaml's folders whose real path leaves the project (``root``):
    ``"tree"``, ``"patches"``, ``""`` for the state folder, ``"pc"``; None when all stay in."""
    real_root = os.path.realpath(root)
    for name, folder in (("tree", tree), ("patches", patches), ("", os.path.join(root, STATE_NAME)),
                         ("pc", os.path.join(tree, pc))):
        real = os.path.realpath(folder)
        if real != real_root and not real.startswith(real_root + os.sep):
            return name
    return None


def patches_shown(quilt: bool, base: str, tree: str, patches: str) -> str:
    """The patches folder as a patch name is printed in front of it (``Settings.display``):
    relative to ``base``, the current folder; in quilt's dialect, from a folder inside the tree,
    ``../`` up to the tree and then the patches folder's own name there (``../my/changes``)."""
    try:
        if quilt and base != tree and (tree == os.sep or base.startswith(tree + os.sep)):
            return os.path.join(os.path.relpath(tree, base), os.path.relpath(patches, tree))
        return os.path.relpath(patches, base)
    except ValueError:  # another drive
        return patches


def flock(directory: "str | os.PathLike[str]") -> "Optional[int]":
    """An exclusive lock on ``directory`` (no file created): the open descriptor, whose closing
    releases it; None when there is no such folder. Refused at once when another holds it."""
    import fcntl  # lazy: start-up

    if not os.path.isdir(directory):
        return None
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise F5QuiltError(f"another f5quilt command is working on {directory}; try again when it ends") from None
    return fd


def settings_key(path: str) -> "Tuple[int, int, int, int, int]":
    """What any change to the settings file changes: device, inode, size, mtime, ctime."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def settled_key(path: str) -> "Optional[Tuple[int, int, int, int, int]]":
    """The settings file's key, taken before it is read, when its last change is old enough
    that any later change shows in the key (git's racy-clean rule: a change within the same
    timestamp tick and size would not); None when it changed less than two seconds ago."""
    import time  # lazy: start-up (built in)
    key = settings_key(path)
    return key if time.time_ns() - key[3] >= RACY_NS else None


def _key_text(key: "Tuple[int, int, int, int, int]") -> str:
    return ":".join(str(n) for n in key)


def prompt_record(settings_file: str, key: "Tuple[int, int, int, int, int]", name: str,
                  places: "Tuple[str, str, str]", pc: str, tree_real: str, tree_is_dir: bool,
                  pin: "Optional[bytes]", rebase: bool) -> "Optional[bytes]":
    """The shell-prompt record's bytes (``read_prompt_record`` reads them): fields apart by NUL,
    which no path holds (None when one of them does); tree-pin.json's bytes in hex."""
    fields = [PROMPT_MAGIC, settings_file, _key_text(key), name, *places, pc, tree_real,
              "1" if tree_is_dir else "0", "-" if pin is None else pin.hex(), "1" if rebase else "0"]
    if any("\0" in f for f in fields):
        return None
    return "\0".join(fields).encode("utf-8", "surrogateescape")


def read_prompt_record(state: str, settings_file: str) -> "Optional[tuple]":  # type: ignore[type-arg]
    """The shell-prompt record (``Workspace.note_for_prompt`` writes it after every command that
    commits), when it was made from ``settings_file`` as it is now (its key, ``settled_key``,
    taken when the command that wrote the record read the settings); else None. Its fields:
    the upstream's name; the tree, patches and series as f5quilt.yaml says them; the pc
    folder's name; and what the tree-pin check read (the tree's real path, whether it is a
    folder, tree-pin.json's bytes or None, whether a rebase is under way), under which that
    check found nothing to say. Plain text read by splitting: nothing in it is evaluated."""
    try:
        with open(os.path.join(state, PROMPT), "rb") as fh:
            fields = fh.read().decode("utf-8", "surrogateescape").split("\0")
        if len(fields) != 12 or fields[0] != PROMPT_MAGIC or fields[1] != settings_file \
                or fields[2] != _key_text(settings_key(settings_file)) \
                or fields[9] not in ("0", "1") or fields[11] not in ("0", "1"):
            return None
        pin = None if fields[10] == "-" else bytes.fromhex(fields[10])
    except (OSError, ValueError):
        return None
    return (*fields[3:9], fields[9] == "1", pin, fields[11] == "1")
