"""quilt's setup: a tree built from a series file or an RPM spec (archives unpacked with
every member confined, patches pushed), one transaction."""
from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Optional

from f5quilt.errors import F5QuiltError
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace
from f5quilt.ops.stack.repair import recover
from f5quilt.fsutil import safe_relpath, safe_user_name

if TYPE_CHECKING:
    import tarfile


# -- setup -------------------------------------------------------------------
def read_setup_series(path: str) -> tuple[list[str], Optional[str]]:
    """The ``# Source:`` archives and the ``# Patchdir:`` of a series file (quilt's setup form)."""
    sources: list[str] = []
    patchdir: Optional[str] = None
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            m = re.match(r"^#\s*(Source|Patchdir):\s*(.*?)\s*$", line)
            if m and m.group(2):
                if m.group(1) == "Source":
                    sources.append(m.group(2))
                else:
                    patchdir = m.group(2)
    return sources, patchdir


def _safe_members(tar: "tarfile.TarFile") -> list["tarfile.TarInfo"]:
    members = []
    links: set[str] = set()  # symlink members: nothing may be unpacked through one
    for m in tar.getmembers():
        if m.name in (".", "./"):
            continue
        rel = safe_relpath(m.name.lstrip("./") if m.name.startswith("./") else m.name)
        parts = PurePosixPath(os.path.normpath(rel)).parts
        through = next(("/".join(parts[:k]) for k in range(1, len(parts)) if "/".join(parts[:k]) in links), None)
        if through is not None:
            raise F5QuiltError(f"{m.name}: unpacked through the symlink {through} of the archive; refused")
        if "/".join(parts) in links and not m.issym():
            raise F5QuiltError(f"{m.name}: written over a symlink of the archive (it would write where "
                               "the link points); refused")
        if ".f5quilt" in parts:  # f5quilt's journal or log would be run or replayed by the next command
            raise F5QuiltError(f"{m.name}: the archive ships f5quilt's own state; refused")
        if m.islnk() or m.issym():
            if os.path.isabs(m.linkname) or ".." in Path(m.linkname).parts and m.islnk():
                raise F5QuiltError(f"{m.name}: a link out of the archive")
        if m.issym() or (m.islnk() and os.path.normpath(m.linkname.lstrip("./") if m.linkname.startswith("./")
                                                        else m.linkname) in links):
            links.add("/".join(parts))  # a hard link to a symlink is that symlink
        if m.ischr() or m.isblk() or m.isfifo():
            continue
        members.append(m)
    return members


def setup(ws: Workspace, emit: Emit, series_file: str, *, sourcedir: Optional[str]) -> None:
    """quilt's setup from a series file: unpack each ``# Source:`` archive into the tree
    (one transaction: a scratch folder adopted into place), then link ``patches`` and
    ``series`` (or quilt_patches/quilt_series) in the ``# Patchdir:`` to the patches' folder."""
    import shutil  # lazy: start-up
    import tarfile  # lazy: start-up
    recover(ws, emit)  # first: a killed setup's half-unpacked folders go before "Directory X exists"
    sources, patchdir = read_setup_series(series_file)
    src_dir = sourcedir if sourcedir is not None else os.path.dirname(series_file)
    archives = []
    for name in sources:
        shown = os.path.normpath(os.path.join(src_dir, name)) if src_dir else name
        if not os.path.isfile(shown):
            raise F5QuiltError(f"File {shown} not found")
        archives.append(shown)
    root = ws.tree
    if patchdir:
        patchdir = safe_user_name(root, patchdir, f"{series_file}: # Patchdir:")
    pdir = root / patchdir if patchdir else root
    if patchdir and pdir.exists():
        raise F5QuiltError(f"Directory {patchdir} exists")
    with ws.transaction(f"setup {series_file}"):
        ws.fs.mkdirs(root)
        tmp = ws.fs.scratch_dir(root / f".f5quilt-setup-{os.getpid()}")
        try:
            for shown in archives:
                emit(ev.Unpacking(shown))
                try:
                    with tarfile.open(shown, "r:*") as tar:
                        tar.extractall(tmp, members=_safe_members(tar))
                except (tarfile.TarError, OSError) as exc:
                    raise F5QuiltError(f"{shown}: cannot unpack: {exc}") from None
            target = tmp / patchdir if patchdir else tmp
            target.mkdir(parents=True, exist_ok=True)
            links = ("patches", "series")
            if (target / "patches").exists() or (target / "series").exists():
                shown_dir = f"{patchdir}/patches" if patchdir else "patches"
                emit(ev.AlternativeNames((("Directory", shown_dir),)))
                links = ("quilt_patches", "quilt_series")
                (target / ".pc").mkdir(exist_ok=True)
                (target / ".pc" / ".quilt_patches").write_text("quilt_patches\n")
                (target / ".pc" / ".quilt_series").write_text("quilt_series\n")
            final = root / patchdir if patchdir else root
            os.symlink(os.path.relpath(os.path.abspath(src_dir or "."), final), target / links[0])
            os.symlink(os.path.relpath(os.path.abspath(series_file), final), target / links[1])
            for entry in sorted(os.listdir(tmp)):
                ws.fs.adopt_dir(tmp / entry, root / entry)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _unzip(archive: str, dest: Path) -> None:
    """A zip archive unpacked into DEST, member names checked (nothing lands outside)."""
    import zipfile  # lazy: start-up
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            safe_relpath(info.filename.rstrip("/"))
        zf.extractall(dest)
        for info in zf.infolist():  # unzip keeps the Unix modes
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(dest / info.filename, mode)


def _quilt_symlink_target(target: str, link: str) -> str:
    """The target quilt's create_symlink gives LINK for TARGET (both as given, relative to
    the current folder): absolute when either is, else relative from the link's folder."""
    if target.startswith("/") or link.startswith("/"):
        return target if target.startswith("/") else os.getcwd() + "/" + target
    rel = os.path.relpath(os.path.normpath(os.path.join(os.getcwd(), target or ".")),
                          os.path.dirname(os.path.normpath(os.path.join(os.getcwd(), link))))
    return rel


def setup_spec(ws: Workspace, emit: Emit, spec_file: str, *, prefix: str, sourcedir: str,
               verbose: bool = False) -> None:
    """quilt 0.66's setup from an RPM spec file (its default "slow" mode), the spec read
    without rpmbuild (f5quilt.model.rpmspec): each archive %prep unpacks, unpacked where
    %prep unpacks it; in each folder where patches are applied a ``patches`` link to the
    source folder, ``.pc/`` and a ``series`` file listing them with their -p/-R options.
    PREFIX and SOURCEDIR are quilt's: "" or a folder with a trailing slash."""
    import shutil  # lazy: start-up
    import tarfile  # lazy: start-up
    import zipfile  # lazy: start-up
    from f5quilt.model.rpmspec import read_spec  # lazy: start-up
    recover(ws, emit)  # first: a killed setup's half-unpacked folders go before "Directory X exists"
    try:
        text = Path(spec_file).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise F5QuiltError(f"{spec_file}: {exc.strerror}") from None
    records = read_spec(spec_file, text, sourcedir.rstrip("/") or ".")
    if verbose:
        for r in records:
            emit(ev.SpecRecord(r.tag, r.dir, r.name, r.opts or ""))
    bad: list[str] = []
    last = None
    for r in records:  # check_for_existing_directories
        if r.dir != "." and r.dir != last and os.path.lexists(prefix + r.dir):
            bad.append(f"Directory {prefix}{r.dir} exists")
        last = r.dir
    for r in records:
        if r.tag == "tar" and not os.path.isfile(sourcedir + r.name):
            bad.append(f"File {sourcedir}{r.name} not found")
            break
    if bad:
        raise F5QuiltError("\n".join(bad))
    patchdirs = list(dict.fromkeys(r.dir for r in records if r.tag == "patch"))
    root = ws.tree
    with ws.transaction(f"setup {spec_file}"):
        ws.fs.mkdirs(root)
        tmp = ws.fs.scratch_dir(root / f".f5quilt-setup-{os.getpid()}")
        try:
            for r in records:
                if r.tag != "tar":
                    continue
                shown = sourcedir + r.name
                emit(ev.Unpacking(shown))
                dest = tmp / r.dir
                dest.mkdir(parents=True, exist_ok=True)
                try:
                    if r.name.lower().endswith(".zip"):  # rpm's %setup runs unzip for these
                        _unzip(shown, dest)
                    else:
                        with tarfile.open(shown, "r:*") as tar:
                            tar.extractall(dest, members=_safe_members(tar))
                except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
                    raise F5QuiltError(f"{shown}: cannot unpack: {exc}") from None
            names = ("patches", "series")
            clash = [d for d in patchdirs if (tmp / d / "patches").exists() or (tmp / d / "series").exists()
                     or os.path.lexists(root / d / "patches") or os.path.lexists(root / d / "series")]
            if clash:
                emit(ev.AlternativeNames(tuple(
                    (what, f"{prefix}{d}/{n}") for d in clash for what, n in (("Directory", "patches"), ("File", "series"))
                    if (tmp / d / n).exists() or os.path.lexists(root / d / n))))
                names = ("quilt_patches", "quilt_series")
                for d in patchdirs:
                    if (tmp / d / names[0]).exists() or (tmp / d / names[1]).exists():
                        raise F5QuiltError(f"Directory {prefix}{d}/{names[0]} exists")
            tar_dir, tar_file = "", ""
            started: set[str] = set()
            for r in records:
                if r.tag == "tar":
                    tar_dir, tar_file = ("" if r.dir == "." else r.dir), r.name
                    continue
                pdir = tmp / r.dir
                pdir.mkdir(parents=True, exist_ok=True)
                if r.dir not in started:
                    started.add(r.dir)
                    link = f"{prefix}{r.dir}/{names[0]}"
                    os.symlink(_quilt_symlink_target(sourcedir, link), pdir / names[0])
                    pc = pdir / ".pc"
                    if not pc.exists():
                        pc.mkdir()
                        (pc / ".version").write_text("2\n")
                        (pc / ".quilt_patches").write_text(names[0] + "\n")
                        (pc / ".quilt_series").write_text(names[1] + "\n")
                    head = ["# Patch series file for quilt, created by quilt setup"]
                    if tar_dir:
                        head.append(f"# Sourcedir: {tar_dir}")
                    if tar_file:
                        head.append(f"# Source: {tar_file}")
                    head += [f"# Patchdir: {r.dir}", "#"]
                    (pdir / names[1]).write_text("\n".join(head) + "\n")
                with open(pdir / names[1], "a") as fh:  # the scratch folder, adopted below
                    fh.write(f"{r.name} {r.opts}".rstrip(" ") + "\n" if r.opts else f"{r.name}\n")
            for entry in sorted(os.listdir(tmp)):
                ws.fs.adopt_dir(tmp / entry, root / entry)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
