"""The upstream pin and the pristine source it names.

A pin is one of (in ``f5quilt.yaml`` under ``upstream:``)::

    pypi: f5-tts==1.1.22        # a PyPI sdist (pip download --no-binary :all:)
    sha256: ...                 # optional, checked on every fetch
    git: https://host/repo.git  # a git URL ...
    ref: v1.1.22                # ... and a ref (for people)
    commit: 0123abc...          # ... resolved to a commit (what is checked out, when present)
    path: ../F5-TTS-1.1.22      # a local directory or source archive

Archives are downloaded once into the cache and extracted once into
``<cache>/pristine/<key>/``, with the archive's sha256 beside it
(``<key>.sha256``): a pin whose sha256 differs is refused even when the
cache is warm; ``PristineSource`` reads files from there (or,
for a git pin, from git's object store through GitPython). ``materialize``
builds the tree in a temporary sibling and renames it into place, so an
interrupted fetch never leaves half a tree.
"""
from __future__ import annotations


import hashlib
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Tuple

from f5quilt import proc
from f5quilt.errors import F5QuiltError
from f5quilt.events import Cloning, Downloaded, Downloading, Extracting, ignore

if TYPE_CHECKING:
    from f5quilt.output import Progress
    from f5quilt.repo.transaction import Transaction
    from f5quilt.events import Emit

Reader = Callable[[str], Optional[bytes]]


@dataclass(frozen=True)
class Pin:
    kind: str                 # "pypi", "git" or "path"
    spec: str                 # "f5-tts==1.1.22", a URL, or a path
    ref: Optional[str] = None
    sha256: Optional[str] = None
    commit: Optional[str] = None  # a git pin's ref, resolved

    @property
    def checkout(self) -> str:
        """What a git pin checks out: the resolved commit when recorded, else the ref."""
        return self.commit or self.ref or "HEAD"

    @property
    def key(self) -> str:
        """A directory name unique to this pin."""
        raw = f"{self.kind}:{self.spec}@{self.ref or ''}"
        safe = re.sub(r"[^A-Za-z0-9._=-]+", "_", f"{self.spec}-{self.ref}" if self.ref else self.spec)[-60:]
        return f"{self.kind}-{safe}-{hashlib.sha1(raw.encode()).hexdigest()[:8]}"

    def describe(self) -> str:
        if self.kind == "git":
            return f"{self.spec} {self.ref or 'HEAD'}"
        return self.spec

    def to_settings(self) -> Dict[str, str]:
        out = {self.kind: self.spec}
        if self.ref:
            out["ref"] = self.ref
        if self.commit:
            out["commit"] = self.commit
        if self.sha256:
            out["sha256"] = self.sha256
        return out

    def identity(self) -> Dict[str, Optional[str]]:
        """What a tree built from this pin remembers (``Workspace.tree_pin``)."""
        return {"kind": self.kind, "spec": self.spec, "ref": self.ref, "commit": self.commit,
                "sha256": self.sha256}


def parse_pin(data: Dict[str, Any], base: Path, origin: str = "f5quilt.yaml") -> Pin:
    kinds = [k for k in ("pypi", "git", "path") if data.get(k)]
    if len(kinds) != 1:
        raise F5QuiltError(f"{origin}: upstream needs exactly one of pypi, git or path")
    kind = kinds[0]
    spec = str(data[kind])
    if kind == "pypi" and "==" not in spec:
        raise F5QuiltError(f"{origin}: upstream pypi pin must name an exact version (name==X)")
    if kind == "path":
        spec = str((base / spec).resolve())
    for key in ("ref", "sha256", "commit"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            raise F5QuiltError(f"{origin}: upstream {key} must be a string (quote it)")
    sha = data.get("sha256")
    if sha is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha):
        raise F5QuiltError(f"{origin}: upstream sha256 must be 64 hex digits, not {sha!r}")
    commit = data.get("commit")
    if commit is not None and not re.fullmatch(r"[0-9a-fA-F]{7,64}", commit):
        raise F5QuiltError(f"{origin}: upstream commit must be a hex commit id, not {commit!r}")
    return Pin(kind, spec, data.get("ref"), sha.lower() if sha else None, commit.lower() if commit else None)


def pin_from_arg(arg: str, base: Path) -> Pin:
    """NEW_PIN on the command line: name==X, URL@ref, or a local path."""
    if "==" in arg and not os.path.exists(arg):
        return Pin("pypi", arg)
    if re.match(r"^(https?|git|ssh|file)://", arg) or arg.endswith(".git") or "@" in arg and not os.path.exists(arg):
        url, _, ref = arg.rpartition("@") if "@" in arg.split("://")[-1] else (arg, "", "")
        return Pin("git", url or arg, ref or None)
    path = (base / arg).resolve()
    if not path.exists():
        raise F5QuiltError(f"upstream {arg}: no such directory or archive")
    return Pin("path", str(path))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Upstream:
    """Fetches and extracts a pin, with a cache."""

    def __init__(self, pin: Pin, cache: Path, progress: "Optional[Progress]" = None) -> None:
        self.pin = pin
        self.cache = cache
        self.progress = progress  # a terminal's progress bar (pip's own, extraction's); None: quiet

    @property
    def pristine_dir(self) -> Path:
        return self.cache / "pristine" / self.pin.key

    @property
    def pristine_sha_file(self) -> Path:
        """The sha256 of the archive the pristine copy was extracted from, beside it."""
        return self.cache / "pristine" / f"{self.pin.key}.sha256"

    def _check_pristine_sha(self, target: Path) -> None:
        """A warm cache is checked against the pin too: the hash recorded at extraction
        (or, for a cache older than that record, the cached archive's)."""
        if not self.pin.sha256 or self.pin.kind == "git":
            return
        try:
            recorded: Optional[str] = self.pristine_sha_file.read_text().strip()
        except (FileNotFoundError, UnicodeDecodeError):
            recorded = None
        if recorded is None:
            self.archive()  # checks the archive's sha256 (downloads it if it is gone)
            return
        if recorded != self.pin.sha256:
            raise F5QuiltError(f"{target}: extracted from an archive with sha256 {recorded}, "
                               f"not the pin's {self.pin.sha256} ({self.pin.describe()})")

    # -- the archive ----------------------------------------------------
    def archive(self, emit: "Emit" = ignore) -> Path:
        if self.pin.kind == "path":
            local = Path(self.pin.spec)
            self._check_sha(local)
            return local
        if self.pin.kind != "pypi":
            raise F5QuiltError("internal: archive() of a git pin")
        dest = self.cache / "sdist"
        name, _, version = self.pin.spec.partition("==")
        found = self._cached_sdist(dest, name, version)
        if found is None:
            emit(Downloading(self.pin.spec))
            dest.mkdir(parents=True, exist_ok=True)
            started = time.monotonic()
            with tempfile.TemporaryDirectory(dir=dest) as tmp:
                argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "--disable-pip-version-check", "-d", tmp, self.pin.spec]
                if self.progress is not None:  # a terminal: pip's own progress bar, on stderr
                    r = proc.run(argv[:4] + ["--progress-bar", "on"] + argv[4:], stdin=proc.INHERIT, stdout=2,
                                 text=True, ok=None)
                else:
                    r = proc.run(argv[:4] + ["-q"] + argv[4:], stdin=proc.INHERIT, text=True, ok=None)
                if r.returncode != 0:
                    raise F5QuiltError(f"cannot download {self.pin.spec}: "
                                       f"{proc.last_line(r.stderr) or 'pip download failed'}")
                files = list(Path(tmp).iterdir())
                if len(files) != 1:
                    raise F5QuiltError(f"pip download {self.pin.spec} gave {len(files)} files")
                os.replace(files[0], dest / files[0].name)  # atomic: no half download in the cache
                found = dest / files[0].name
                took = time.monotonic() - started
                emit(Downloaded(found.name, found.stat().st_size, took))
        self._check_sha(found)
        return found

    def _check_sha(self, found: Path) -> None:
        if self.pin.sha256 and found.is_file():
            actual = sha256_of(found)
            if actual != self.pin.sha256:
                raise F5QuiltError(f"{found.name}: sha256 {actual} does not match the pin's {self.pin.sha256}")

    @staticmethod
    def _cached_sdist(dest: Path, name: str, version: str) -> Optional[Path]:
        if not dest.is_dir():
            return None
        norm = re.sub(r"[-_.]+", "[-_.]", re.escape(name.lower()).replace("\\", ""))
        pattern = re.compile(rf"^{norm}-{re.escape(version)}\.(tar\.gz|zip|tar\.bz2)$", re.I)
        for f in sorted(dest.iterdir()):
            if pattern.match(f.name):
                return f
        return None

    # -- the pristine copy ----------------------------------------------
    def ensure_pristine(self, emit: "Emit" = ignore) -> Path:
        """An extracted, read-only-by-convention copy of the pin in the cache."""
        target = self.pristine_dir
        if target.is_dir():
            self._check_pristine_sha(target)
            return target
        if self.pin.kind == "path" and Path(self.pin.spec).is_dir():
            return Path(self.pin.spec)
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in target.parent.glob(f".partial-{self.pin.key}-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed fetch
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".partial-{self.pin.key}-"))
        try:
            if self.pin.kind == "git":
                self._git_checkout(tmp / "t", emit)
            else:
                archive = self.archive(emit)
                emit(Extracting(archive.name, archive.stat().st_size))
                extract_archive(archive, tmp / "t", self.progress)
                (tmp / "sha").write_text(sha256_of(archive) + "\n")
                os.replace(tmp / "sha", self.pristine_sha_file)
            os.replace(tmp / "t", target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target

    def _git_checkout(self, dest: Path, emit: "Emit") -> None:
        import git  # GitPython, only for git pins

        emit(Cloning(self.pin.describe()))
        try:
            repo = git.Repo.clone_from(self.pin.spec, str(dest), no_checkout=True)
            repo.git.checkout(self.pin.checkout)
        except git.GitCommandError as exc:
            raise F5QuiltError(f"cannot fetch {self.pin.describe()}: {_git_line(exc)}") from None

    def resolved_commit(self, emit: "Emit" = ignore) -> str:
        """The commit a git pin's ref names (fetching it first)."""
        import git
        root = self.ensure_pristine(emit)
        try:
            sha: str = git.Repo(str(root)).commit(self.pin.checkout).hexsha
            return sha
        except (git.GitCommandError, ValueError, git.BadName) as exc:
            raise F5QuiltError(f"cannot resolve {self.pin.describe()}: {exc}") from None

    def materialize(self, tree: Path, emit: "Emit" = ignore,
                    txn: "Optional[Transaction]" = None) -> None:
        """Create ``tree`` as a copy of the pin; all or nothing (through ``txn``: undoable).

        A release that ships quilt's or f5quilt's own state (``.pc/``, ``.f5quilt/``)
        never brings it into the tree: state is never taken from upstream."""
        if tree.exists():
            raise F5QuiltError(f"{tree} exists already")
        clean_partials(tree)
        pristine = self.ensure_pristine(emit)
        if txn is not None:
            txn.mkdirs(tree.parent)
            tmp = txn.scratch_dir(tree.parent / f".{tree.name}.partial-{os.getpid()}")
        else:
            tree.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=tree.parent, prefix=f".{tree.name}.partial-"))

        def no_state(directory: str, names: List[str]) -> List[str]:
            if os.path.abspath(directory) != os.path.abspath(pristine):
                return []
            return [n for n in names if n in (".pc", ".f5quilt") or n.startswith(".pc")]

        try:
            shutil.copytree(pristine, tmp / "t", symlinks=True, ignore=no_state)
            if txn is not None:
                txn.adopt_dir(tmp / "t", tree)
            else:
                os.replace(tmp / "t", tree)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def reader(self, emit: "Emit" = ignore) -> Reader:
        root = self.ensure_pristine(emit)
        if self.pin.kind == "git":
            return _git_reader(root, self.pin.checkout)

        def read(rel: str) -> Optional[bytes]:
            try:
                with open(root / rel, "rb") as fh:
                    return fh.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
        return read


def _git_line(exc: Any) -> str:
    """git's complaint in one line: its last 'fatal:'/'error:' line, else the last one."""
    text = str(getattr(exc, "stderr", "") or "").strip() or str(exc)
    lines = [ln.strip().strip("'").strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        for tag in ("fatal:", "error:"):
            if tag in ln:
                return ln[ln.index(tag):]
    return lines[-1] if lines else "git failed"


def clean_partials(tree: Path) -> None:
    """Remove what a killed materialize left beside ``tree`` (never the tree itself)."""
    if tree.parent.is_dir():
        for stale in tree.parent.glob(f".{tree.name}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)


def list_files(root: Path) -> List[str]:
    """Every regular file under an extracted pristine tree (``.git`` and ``.pc`` skipped;
    symlinks are ``list_links``')."""
    return sorted(rel for rel, link in _walk(root) if link is None)


def list_links(root: Path) -> Dict[str, str]:
    """Every symlink under a tree (to a file, a folder, or nowhere), with its target: a
    release may ship them, and they are compared as links, never followed."""
    return {rel: link for rel, link in _walk(root) if link is not None}


def _walk(root: Path) -> Iterator[Tuple[str, Optional[str]]]:
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".pc")]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            yield rel, (os.readlink(full) if os.path.islink(full) else None)


def _git_reader(repo_dir: Path, ref: str) -> Reader:
    """Files at ``ref`` straight from git's object store (GitPython)."""
    import git

    tree = git.Repo(str(repo_dir)).commit(ref).tree

    def read(rel: str) -> Optional[bytes]:
        try:
            blob = tree / rel
        except KeyError:
            return None
        if blob.type != "blob":
            return None
        return blob.data_stream.read()  # type: ignore[no-any-return]
    return read


def extract_archive(archive: Path, dest: Path, progress: "Optional[Progress]" = None) -> None:
    """Extract a .tar.* or .zip, dropping the single top directory if there is one;
    ``progress``: a terminal's progress bar over the members."""
    tmp = dest.parent / (dest.name + ".x")
    tmp.mkdir(parents=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    _check_member(name, archive)
                from f5quilt.output import with_progress
                for member in with_progress(zf.namelist(), f"Extracting {archive.name}", progress):
                    zf.extract(member, tmp)
        else:
            try:
                from f5quilt.output import with_progress
                with tarfile.open(archive) as tf:
                    members = tf.getmembers()
                    for m in members:
                        _check_member(m.name, archive)
                    if hasattr(tarfile, "data_filter"):
                        for m in with_progress(members, f"Extracting {archive.name}", progress):
                            tf.extract(m, tmp, filter="data")
                    else:  # pragma: no cover - older Pythons
                        tf.extractall(tmp)
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise F5QuiltError(f"{archive}: not a readable source archive ({exc})") from None
        entries = list(tmp.iterdir())
        top = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
        os.replace(top, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_member(name: str, archive: Path) -> None:
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts:
        raise F5QuiltError(f"{archive}: member {name!r} would leave the extraction directory")


def default_cache(settings_base: Path) -> Path:
    env = os.environ.get("F5QUILT_CACHE")
    return Path(env).resolve() if env else settings_base / ".cache"
