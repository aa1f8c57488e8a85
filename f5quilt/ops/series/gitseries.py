"""The series as git commits and back: ``export --git``/``--mbox``,
``import --git`` and ``range-diff``.

An exported branch is a root commit holding the pristine upstream tree
(its content at the root of the commit's tree, not under the vendored
tree's path in the repository) and one commit per patch, in series order.
Each tree is the one ``push -a`` builds: the patches are applied in memory
(``check.Overlay``), exactly as push applies them, without touching any
work tree. Only git plumbing runs (``hash-object``, ``update-index`` on a
private index file, ``write-tree``, ``commit-tree``, ``update-ref``, and
``notes add -C`` for the patch files), so the user's work tree, index and
current branch are never touched. The same
series always gives the same commits (dates come from the headers, or a
fixed one), so exporting twice gives the same ids.

Headers become commit messages and back through ``mailheader``.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from f5quilt.engine.apply import apply_patch
from f5quilt.engine.vtree import Overlay
from f5quilt.errors import F5QuiltError
from f5quilt.engine.locate import APPLIED
from f5quilt.model.mailheader import (ENC, ERRORS, FALLBACK_DATE, TRAILER_UPSTREAM, Commit, format_date, git_date,
                         slug, to_commit, to_header)
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt import proc
from f5quilt.model.patch import parse_patch, patch_header
from f5quilt.model.series import SeriesEntry, parse_series_lines, pushable
from f5quilt.repo.transaction import LogEntry, read_log
from f5quilt.repo.workspace import Workspace
from f5quilt.fsutil import safe_relpath

Reader = Callable[[str], Optional[bytes]]
REG, EXE, LINK = 0o100644, 0o100755, 0o120000
NOTES_REF = "refs/notes/f5quilt"
Change = Tuple[Optional[bytes], Optional[bytes], Optional[int], Optional[int]]  # before, after, modes


# -- git ------------------------------------------------------------------
class Git:
    """Plumbing in one repository (found by GitPython; each git command run by proc.run)."""

    def __init__(self, where: Path) -> None:
        import git  # lazy: start-up

        try:
            self.repo = git.Repo(str(where), search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise F5QuiltError(f"{where}: not in a git repository (name one with --repo)") from None

    @property
    def root(self) -> Optional[Path]:
        wt = self.repo.working_tree_dir
        return Path(wt).resolve() if wt else None

    def run(self, *args: str, input: Optional[bytes] = None, env: Optional[Dict[str, str]] = None,
            ok: Sequence[int] = (0,)) -> bytes:
        status, out, err = self.call(*args, input=input, env=env)
        if status not in ok:
            last = (err.decode(ENC, "replace").strip().splitlines() or [f"exit {status}"])[-1]
            raise F5QuiltError(f"git {args[0]}: {last}")
        return out

    def succeeds(self, *args: str) -> bool:
        return self.call(*args)[0] == 0

    def call(self, *args: str, input: Optional[bytes] = None,
             env: Optional[Dict[str, str]] = None) -> Tuple[int, bytes, bytes]:
        r = proc.run(["git", *args], cwd=self.repo.working_dir, input=input,
                     env={**proc.GIT_ENV, **(env or {})}, ok=None)
        return r.returncode, bytes(r.stdout), bytes(r.stderr)

    def text(self, *args: str, ok: Sequence[int] = (0,)) -> str:
        return self.run(*args, ok=ok).decode(ENC, ERRORS).strip()

    def resolve(self, rev: str) -> Optional[str]:
        out = self.text("rev-parse", "--verify", "-q", "--end-of-options", rev + "^{commit}", ok=(0, 1))
        return out or None

    def identity(self) -> Tuple[str, str]:
        """git's author (from its config or environment), else "f5quilt"."""
        ident = self.text("var", "GIT_AUTHOR_IDENT", ok=(0, 128))
        m = re.match(r"^(.*) <(.*)> \d+ [+-]\d{4}$", ident)
        return (m.group(1), m.group(2)) if m else ("f5quilt", "")

    def read_object(self, sha: str) -> bytes:
        data: bytes = self.repo.odb.stream(bytes.fromhex(sha)).read()
        return data

    def show(self, rev: str, path: str) -> Optional[bytes]:
        sha = self.text("rev-parse", "-q", "--verify", "--end-of-options", f"{rev}:{path}", ok=(0, 1, 128))
        return self.read_object(sha) if sha else None


class TreeWriter:
    """Trees and commits built on a private index file (GIT_INDEX_FILE)."""

    def __init__(self, git: Git, tmp: Path) -> None:
        self.git = git
        self.tmp = tmp
        self.env = {"GIT_INDEX_FILE": str(tmp / "index")}
        self.count = 0
        fmt = git.text("rev-parse", "--show-object-format", ok=(0, 128))
        self.zero = "0" * (64 if fmt == "sha256" else 40)
        committer = git.text("var", "GIT_COMMITTER_IDENT", ok=(0, 128))
        self.fallback_committer = not re.match(r"^.* <.*> \d+ [+-]\d{4}$", committer)

    def hash_files(self, paths: List[Path]) -> List[str]:
        if not paths:
            return []
        listing = "".join(str(p) + "\n" for p in paths).encode(ENC, ERRORS)
        out = self.git.run("hash-object", "-w", "--no-filters", "--stdin-paths", input=listing)
        return out.decode().split()

    def hash_blobs(self, blobs: List[bytes]) -> List[str]:
        paths = []
        for data in blobs:
            self.count += 1
            path = self.tmp / f"blob{self.count}"
            path.write_bytes(data)
            paths.append(path)
        try:
            return self.hash_files(paths)
        finally:
            for p in paths:
                p.unlink()

    def update(self, entries: Dict[str, Tuple[int, Optional[str]]]) -> None:
        """rel -> (git mode, blob id), or (0, None) to remove it."""
        if not entries:
            return
        info = "".join(f"{mode:o} {sha or self.zero}\t{rel}\0" for rel, (mode, sha) in sorted(entries.items()))
        self.git.run("update-index", "-z", "--index-info", input=info.encode(ENC, ERRORS), env=self.env)

    def commit(self, parent: Optional[str], message: str, author: Tuple[str, str], date: Tuple[int, int]) -> str:
        tree = self.git.run("write-tree", env=self.env).decode().strip()
        # git refuses <, > and newlines in an identity, and an empty name
        email = re.sub(r"[<>\n]", "", author[1]).strip()
        author = (re.sub(r"[<>\n]", "", author[0]).strip() or email.split("@")[0] or "f5quilt", email)
        env = dict(self.env, GIT_AUTHOR_NAME=author[0], GIT_AUTHOR_EMAIL=author[1],
                   GIT_AUTHOR_DATE=git_date(date), GIT_COMMITTER_DATE=git_date(date))
        if self.fallback_committer:
            env.update(GIT_COMMITTER_NAME=author[0] or "f5quilt", GIT_COMMITTER_EMAIL=author[1])
        args = ["commit-tree", "--no-gpg-sign", tree] + (["-p", parent] if parent else [])
        return self.git.run(*args, input=message.encode(ENC, ERRORS), env=env).decode().strip()


# -- what the series is applied onto ---------------------------------------
@dataclass
class Base:
    """The tree before any patch: rel -> (git mode, the file on disk holding it)."""
    files: Dict[str, Tuple[int, Path]]
    describe: str

    def read(self, rel: str) -> Optional[bytes]:
        found = self.files.get(rel)
        if found is None:
            return None
        return os.readlink(found[1]).encode(ENC, ERRORS) if found[0] == LINK else found[1].read_bytes()


def _git_mode(st_mode: int) -> int:
    if stat.S_ISLNK(st_mode):
        return LINK
    return EXE if st_mode & 0o111 else REG


def directory_base(root: Path, describe: str, skip: Sequence[Path] = ()) -> Base:
    """Every file under ``root`` but ``.git``, ``.pc`` and the paths in ``skip``."""
    files: Dict[str, Tuple[int, Path]] = {}
    skipped = {os.path.abspath(p) for p in skip}
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".pc") and os.path.join(dirpath, d) not in skipped]
        for name in names:
            path = Path(dirpath) / name
            if str(path) not in skipped:
                files[path.relative_to(root).as_posix()] = (_git_mode(path.lstat().st_mode), path)
    return Base(files, describe)


def workspace_base(ws: Workspace, log: Emit) -> Base:
    """The pin's pristine source; without a pin, the tree with its applied patches popped."""
    up = ws.upstream()
    if up is not None:
        return directory_base(up.ensure_pristine(log), up.pin.describe())
    if not ws.tree.is_dir():
        raise F5QuiltError(f"tree {ws.tree} does not exist and no upstream is pinned in the settings")
    settings = ws.settings
    base = directory_base(ws.tree.resolve(), "the tree with no patch applied",
                          [settings.patches, settings.series, ws.tree / settings.pc_name])
    owner: Dict[str, str] = {}
    for name in ws.stack.applied():
        for rel in ws.stack.backup_files(name):
            owner.setdefault(rel, name)
    for rel, name in owner.items():
        backup = ws.stack.backup_dir(name) / rel
        if backup.stat().st_size == 0:  # quilt: an empty backup is a file the patch created
            base.files.pop(rel, None)
        else:
            base.files[rel] = (_git_mode(backup.lstat().st_mode), backup)
    return base


# -- the series, applied in memory -----------------------------------------
@dataclass
class SeriesSource:
    """A series to export: its names, entries and patch files' bytes."""
    names: List[str]
    entry: Callable[[str], SeriesEntry]
    data: Callable[[str], bytes]
    display: Callable[[str], str]
    show_file: Callable[[str], str] = str  # a tree file as a message names it (Settings.show_file)


@dataclass
class Step:
    name: str
    entry: SeriesEntry
    raw: bytes                      # the patch file
    changes: Dict[str, Change] = field(default_factory=dict)

    @property
    def header(self) -> bytes:
        return patch_header(self.raw)


def selected_names(ws: Workspace, entries: Sequence[SeriesEntry]) -> List[str]:
    """The patches of ``entries`` this tree's selected guards let through (as push -a)."""
    if not any(e.guards for e in entries):
        return [e.name for e in entries]
    from f5quilt.ops.stack.guards import read_selected  # lazy: start-up
    selected = frozenset(read_selected(ws))
    return [e.name for e in entries if pushable(e.guards, selected)[0]]


def workspace_source(ws: Workspace) -> SeriesSource:
    def data(name: str) -> bytes:
        ws.load(name)  # the series line's error for a missing file
        raw: bytes = ws.patch_file(name).read_bytes()
        return raw
    return SeriesSource(selected_names(ws, ws.series.entries), ws.entry, data, ws.display, ws.settings.show_file)


def walk(source: SeriesSource, base: Base, fuzz: int = 0) -> Iterator[Step]:
    """Each patch applied, as push applies it, onto base + the earlier patches."""
    tree = Overlay(base.read)
    modes = {rel: mode for rel, (mode, _) in base.files.items()}
    for name in source.names:
        ent = source.entry(name)
        shown = source.display(name)
        raw = source.data(name)
        result = apply_patch(ent.orient(parse_patch(raw, shown)), tree, strip=ent.strip, fuzz=fuzz, display=shown)
        for ch in result.changes.values():
            for rep in ch.reports:
                if rep.status != APPLIED:
                    raise F5QuiltError(f"{shown}: {source.show_file(ch.path)}: {rep.message()} (the series does not apply to "
                                       f"{base.describe}; f5quilt check tells more)")
        step = Step(name, ent, raw)
        for rel, ch in result.changes.items():
            old = modes.get(rel) if ch.before is not None else None
            new: Optional[int] = None
            if ch.after is not None:
                if ch.mode is not None:
                    new = EXE if ch.mode & 0o111 else REG
                else:
                    new = old or modes.get(ch.source or "", REG)
            if old == LINK or new == LINK:
                raise F5QuiltError(f"{shown}: {rel}: a patch to a symbolic link; f5quilt patches files only")
            step.changes[rel] = (ch.before, ch.after, old, new)
        tree.apply(result)
        for rel, (_b, _a, _o, new) in step.changes.items():
            if new is None:
                modes.pop(rel, None)
            else:
                modes[rel] = new
        yield step


def step_commit(step: Step, author: Tuple[str, str]) -> Commit:
    return to_commit(step.header, step.name, step.entry.options_text(), author)


# -- export --git -----------------------------------------------------------
@dataclass
class Exported:
    upstream: str
    commits: List[Tuple[str, str]]  # (patch name, commit id)

    @property
    def tip(self) -> str:
        return self.commits[-1][1] if self.commits else self.upstream


def write_commits(git: Git, base: Base, steps: Iterable[Step], notes: bool = False) -> Exported:
    """The commits (no ref yet): the pristine tree, then one per patch.

    The whole series is applied first, so a patch that does not apply
    leaves no object behind; every blob is then hashed in one git process.
    With ``notes``, each patch file is also attached, byte for byte, as a note
    (``refs/notes/f5quilt``) to its commit: ``import --git`` writes it back
    instead of a fresh diff while the commit is the exported one."""
    applied = list(steps)
    author = git.identity()
    attached: List[Tuple[str, str]] = []  # (commit, blob of the patch file)
    with tempfile.TemporaryDirectory(prefix="f5quilt-export-") as tmpdir:
        tmp = Path(tmpdir)
        writer = TreeWriter(git, tmp)
        rels = sorted(base.files)
        plain = [rel for rel in rels if base.files[rel][0] != LINK and "\n" not in str(base.files[rel][1])]
        shas = dict(zip(plain, writer.hash_files([base.files[r][1] for r in plain])))
        # every other blob at once: odd base files (links, names with a newline), then each
        # patch's new contents (and the patch file itself, for its note)
        blobs: List[bytes] = [base.read(r) or b"" for r in rels if r not in shas]
        for step in applied:
            blobs += [c[1] for c in step.changes.values() if c[1] is not None] + ([step.raw] if notes else [])
        hashed = iter(writer.hash_blobs(blobs))
        shas.update((r, next(hashed)) for r in rels if r not in shas)
        writer.update({rel: (base.files[rel][0], shas[rel]) for rel in rels})
        message = (f"Upstream {base.describe}\n\nThe pristine source the series applies to.\n\n"
                   f"{TRAILER_UPSTREAM}: {base.describe}\n")
        top = writer.commit(None, message, author, FALLBACK_DATE)
        done = Exported(top, [])
        for step in applied:
            writer.update({rel: (c[3] or REG, next(hashed)) if c[1] is not None else (0, None)
                           for rel, c in step.changes.items()})
            commit = step_commit(step, author)
            top = writer.commit(top, commit.message, (commit.name, commit.email), commit.date)
            done.commits.append((step.name, top))
            if notes:
                attached.append((top, next(hashed)))
    if attached:
        have = read_notes(git)
        for commit_id, blob in attached:
            if have.get(commit_id) != blob:
                git.run("notes", f"--ref={NOTES_REF}", "add", "-f", "--allow-empty", "-C", blob, commit_id)
    return done


def read_notes(git: Git) -> Dict[str, str]:
    """commit -> blob of the patch file it was exported from."""
    out = git.text("notes", f"--ref={NOTES_REF}", "list", ok=(0, 1, 128))
    return {commit: blob for blob, commit in (line.split() for line in out.splitlines() if line.count(" ") == 1)}


def checked_out(git: Git, ref: str) -> bool:
    listing = git.text("worktree", "list", "--porcelain", ok=(0, 128))
    return f"branch {ref}" in listing.splitlines()


def export_git(git: Git, base: Base, source: SeriesSource, branch: str, *, force: bool = False,
               fuzz: int = 0) -> Exported:
    if branch.startswith("-") or not git.succeeds("check-ref-format", f"refs/heads/{branch}"):
        raise F5QuiltError(f"{branch}: not a valid branch name")
    ref = f"refs/heads/{branch}"
    old = git.resolve(ref)
    if old and not force:
        raise F5QuiltError(f"branch {branch} exists already; --force replaces it")
    if checked_out(git, ref):
        raise F5QuiltError(f"branch {branch} is checked out; export never moves a checked-out branch")
    done = write_commits(git, base, walk(source, base, fuzz), notes=True)
    git.run("update-ref", "-m", "f5quilt export", ref, done.tip, old or "0" * len(done.tip))
    return done


# -- export --mbox ------------------------------------------------------------
def _header_value(text: str) -> str:
    if text.isascii():
        return text
    from email.header import Header  # lazy: start-up
    return Header(text.encode(ENC, ERRORS).decode(ENC, "replace"), "utf-8").encode()


def _address(name: str, addr: str) -> str:
    """``Name <email>`` as a mail header wants it: quoted ("Doe, John"), RFC 2047 when not ASCII."""
    import email.utils  # lazy: start-up
    clean = name.encode(ENC, ERRORS).decode(ENC, "replace")
    try:
        return email.utils.formataddr((clean, addr), charset="utf-8")
    except UnicodeError:  # an address that is not ASCII: as it is
        return f"{_header_value(clean)} <{addr}>"


def mbox(source: SeriesSource, base: Base, author: Tuple[str, str], fuzz: int = 0) -> bytes:
    """The series as an mbox for ``git am`` (mboxrd: body lines ``>*From `` get one more ``>``)."""
    from f5quilt.engine.gitdiff import diff_files  # lazy: start-up

    steps = list(walk(source, base, fuzz))
    out: List[bytes] = []
    total = len(steps)
    for i, step in enumerate(steps, 1):
        commit = step_commit(step, author)
        subject, _, body = commit.message.partition("\n")
        body = body[1:] if body.startswith("\n") else body
        body = re.sub(r"^(>*From )", r">\1", body, flags=re.M)
        if re.match(r"(from|date|subject):|>*from |\[patch\]", body, re.I):
            # git mailinfo would take these lines for in-body headers; a line holding a
            # space ends that search (and git am's clean-up drops it)
            body = " \n" + body
        changed = {rel: c for rel, c in step.changes.items()
                   if c[0] != c[1] or ((c[2] or 0) & 0o111) != ((c[3] or 0) & 0o111)}
        diff = diff_files({r: c[0] for r, c in changed.items()}, {r: c[1] for r, c in changed.items()},
                          modes={r: (c[2], c[3]) for r, c in changed.items()}) if changed else b""
        number = f"[PATCH {i:0{len(str(total))}d}/{total}]" if total > 1 else "[PATCH]"
        head = (f"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
                f"From: {_address(commit.name, commit.email)}\n"
                f"Date: {format_date(commit.date)}\n"
                f"Subject: {number} {_header_value(subject)}\n"
                "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n")
        text = head + (body if body.endswith("\n") or not body else body + "\n") + "---\n"
        out.append(text.encode(ENC, ERRORS) + diff + b"-- \nf5quilt\n\n")
    return b"".join(out)


# -- import --git --------------------------------------------------------------
@dataclass
class RawCommit:
    sha: str
    tree: str
    parents: List[str]
    commit: Commit


def read_commit(git: Git, sha: str) -> RawCommit:
    raw = git.read_object(sha).decode(ENC, ERRORS)
    head, _, message = raw.partition("\n\n")
    tree, parents = "", []
    name, addr, date = "", "", FALLBACK_DATE
    for line in head.split("\n"):
        key, _, value = line.partition(" ")
        if key == "tree":
            tree = value
        elif key == "parent":
            parents.append(value)
        elif key == "author":
            m = re.match(r"^(.*?) ?<(.*)> (\d+) ([+-])(\d\d)(\d\d)$", value)
            if m:
                off = int(m.group(5)) * 60 + int(m.group(6))
                name, addr = m.group(1), m.group(2)
                date = (int(m.group(3)), -off if m.group(4) == "-" else off)
    return RawCommit(sha, tree, parents, Commit(name, addr, date, message))


def commit_changes(git: Git, parent: str, sha: str) -> Dict[str, Change]:
    out = git.run("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--raw", parent, sha)
    fields = out.split(b"\0")
    changes: Dict[str, Change] = {}
    i = 0
    while i + 1 < len(fields) and fields[i].startswith(b":"):
        meta = fields[i][1:].decode().split()
        rel = fields[i + 1].decode(ENC, ERRORS)
        i += 2
        old_mode, new_mode = int(meta[0], 8), int(meta[1], 8)
        for mode in (old_mode, new_mode):
            if mode and mode not in (REG, EXE):
                raise F5QuiltError(f"commit {sha[:12]}: {rel}: symbolic links and submodules are not supported")
        before = git.read_object(meta[2]) if old_mode else None
        after = git.read_object(meta[3]) if new_mode else None
        changes[rel] = (before, after, old_mode or None, new_mode or None)
    return changes


def note_fits(original: bytes, entry: SeriesEntry, changes: Dict[str, Change], fuzz: int) -> bool:
    """Does the patch file in a commit's note make exactly the commit's change?"""
    try:
        patch = entry.orient(parse_patch(original, "note"))
        result = apply_patch(patch, lambda rel: changes[rel][0] if rel in changes else None,
                             strip=entry.strip, fuzz=fuzz)
    except F5QuiltError:
        return False
    if not result.ok or set(result.changes) != set(changes):
        return False
    for rel, ch in result.changes.items():
        before, after, old_mode, new_mode = changes[rel]
        if ch.after != after:
            return False
        source_mode = changes[ch.source][2] if ch.source in changes else None
        mode = (EXE if ch.mode & 0o111 else REG) if ch.mode is not None else (old_mode or source_mode or REG)
        if after is not None and mode != new_mode:
            return False
    return True


def _valid_name(name: str) -> bool:
    if not name or re.search(r"[\s#]", name) or name.startswith("-"):
        return False
    try:
        safe_relpath(name)
    except F5QuiltError:
        return False
    return True


def import_commits(ws: Workspace, git: Git, revs: Sequence[str], emit: Emit, *, force: bool = False) -> List[str]:
    """Commits (``git rev-list`` REVS, oldest first) as patches after the top one."""
    from f5quilt.ops.authoring.core import store_patch  # lazy: start-up
    from f5quilt.engine.gitdiff import diff_files  # lazy: start-up

    status, listing, err = git.call("rev-list", "--reverse", "--topo-order", "--end-of-options", *revs)
    if status != 0:
        why = (err.decode(ENC, "replace").strip().splitlines() or ["bad revision"])[-1]
        raise F5QuiltError(f"{' '.join(revs)}: not a revision range ({why})")
    listed = listing.decode()
    wanted: List[Tuple[str, bytes, SeriesEntry, str]] = []
    taken = set(ws.series.names)
    notes = read_notes(git)
    for sha in listed.split():
        rc = read_commit(git, sha)
        if len(rc.parents) > 1:
            raise F5QuiltError(f"commit {sha[:12]} is a merge; import --git takes linear history only")
        if not rc.parents:
            if f"\n{TRAILER_UPSTREAM}: " in "\n" + rc.commit.message:
                emit(ev.UpstreamCommitSkipped(sha))
                continue
            raise F5QuiltError(f"commit {sha[:12]} has no parent; start the range after it ({sha[:12]}..)")
        imported = to_header(rc.commit)
        name = imported.name
        if name is None or not _valid_name(name):
            name = slug(rc.commit.message.split("\n", 1)[0])
            stem, n = name[: -len(".patch")], 2
            while name in taken or ws.patch_file(name).exists():  # never over an unlisted patch file
                name, n = f"{stem}-{n}.patch", n + 1
        elif name in [w[0] for w in wanted]:
            raise F5QuiltError(f"two commits of {' '.join(revs)} are patch {ws.display(name)}")
        elif ws.series.get(name) and not force:
            raise F5QuiltError(f"Patch {ws.display(name)} exists. Replace with -f.")
        elif ws.patch_file(name).exists() and not force:
            raise F5QuiltError(f"{ws.display(name)} exists (a file the series does not list); "
                               "move it away or replace it with -f")
        taken.add(name)
        entry = parse_series_lines([f"{name} {imported.options}\n"], ws.settings.series)[0] \
            if imported.options else SeriesEntry(name)
        if entry.strip > 1:
            raise F5QuiltError(f"commit {sha[:12]}: -p{entry.strip}: import --git writes -p0 or -p1 patches")
        changes = commit_changes(git, rc.parents[0], sha)
        note = notes.get(sha)
        original = git.read_object(note) if note else None
        if original is not None and note_fits(original, entry, changes, ws.settings.fuzz):
            # the patch file this commit was exported from: its own diff, byte for byte
            wanted.append((name, imported.header.encode(ENC, ERRORS) + original[len(patch_header(original)):],
                           entry, sha))
            continue
        old = {rel: c[0] for rel, c in changes.items()}
        new = {rel: c[1] for rel, c in changes.items()}
        modes = {rel: (c[2], c[3]) for rel, c in changes.items()}
        if entry.reverse:
            old, new = new, old
            modes = {rel: (m[1], m[0]) for rel, m in modes.items()}
        diff = diff_files(old, new, modes=modes, index=ws.settings.refresh_index,
                          prefixes=entry.strip == 1) if changes else b""
        wanted.append((name, imported.header.encode(ENC, ERRORS) + diff, entry, sha))
    if not wanted:
        raise F5QuiltError(f"{' '.join(revs)}: no commit to import")
    top = ws.stack.top()
    with ws.transaction("import --git " + " ".join(revs)):  # all the patches, or none
        for name, data, entry, sha in wanted:
            top = store_patch(ws, name, data, top, strip=entry.strip, reverse=entry.reverse, force=force)
            emit(ev.CommitImported(sha, name))
    return [w[0] for w in wanted]


def default_repo(ws: Workspace) -> Path:
    settings = ws.settings
    found: Path = settings.settings_file.parent if settings.settings_file else settings.patches.parent
    return found


# -- range-diff ------------------------------------------------------------------
@dataclass
class RangeEntry:
    status: str              # unchanged, changed, added, dropped
    old: Optional[str]
    new: Optional[str]
    interdiff: List[str] = field(default_factory=list)


def _pin_in(raw: Optional[bytes], settings_file: Path, where: str) -> Any:
    """The upstream pinned by an older copy of the settings file (``raw``, shown as ``where``),
    or None when there is no copy or it pins nothing."""
    if raw is None:
        return None
    import yaml  # lazy: start-up
    from f5quilt.repo.upstream import Upstream, default_cache, parse_pin  # lazy: start-up
    try:
        conf = yaml.safe_load(raw.decode(ENC, ERRORS)) or {}
    except yaml.YAMLError:
        raise F5QuiltError(f"{where}: invalid YAML") from None
    if not (isinstance(conf, dict) and isinstance(conf.get("upstream"), dict) and conf["upstream"]):
        return None
    base_dir = settings_file.parent
    return Upstream(parse_pin(conf["upstream"], base_dir, where), default_cache(base_dir))


def revision_source(ws: Workspace, git: Git, rev: str) -> Tuple[SeriesSource, Any]:
    """The series (and the pin) as revision ``rev`` of the repository has them."""
    root = git.root
    if root is None:
        raise F5QuiltError("range-diff needs the repository that holds the series (not a bare one)")
    settings = ws.settings

    def rel(path: Path) -> str:
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            raise F5QuiltError(f"{path} is not inside the repository {root}") from None

    if git.resolve(rev) is None:
        raise F5QuiltError(f"{rev}: unknown revision")
    series_rel, patches_rel = rel(settings.series), rel(settings.patches)
    text = git.show(rev, series_rel)
    if text is None:
        raise F5QuiltError(f"{rev}: no {series_rel}")
    entries = parse_series_lines(text.decode(ENC, ERRORS).splitlines(keepends=True), Path(f"{rev}:{series_rel}"))
    by_name = {e.name: e for e in entries}

    def data(name: str) -> bytes:
        found = git.show(rev, f"{patches_rel}/{name}")
        if found is None:
            raise F5QuiltError(f"{rev}:{series_rel}:{by_name[name].line}: names {patches_rel}/{name}, "
                               "which does not exist")
        return found

    upstream = ws.upstream()
    if settings.settings_file is not None:
        pinned = _pin_in(git.show(rev, rel(settings.settings_file)), settings.settings_file,
                         f"{rev}:{rel(settings.settings_file)}")
        if pinned is not None:
            upstream = pinned
    source = SeriesSource(selected_names(ws, entries), lambda n: by_name[n], data,
                          lambda n: f"{rev}:{patches_rel}/{n}")
    return source, upstream


def range_diff(ws: Workspace, git: Git, old_rev: str, new_rev: Optional[str], log: Emit,
               extra: Sequence[str] = ()) -> List[RangeEntry]:
    """git range-diff of the series at two revisions (``new_rev`` None: as it is now)."""
    exported: List[Exported] = []
    for rev in (old_rev, new_rev):
        if rev is None:
            source, base = workspace_source(ws), workspace_base(ws, log)
        else:
            source, up = revision_source(ws, git, rev)
            base = directory_base(up.ensure_pristine(log), up.pin.describe()) if up is not None \
                else workspace_base(ws, log)
        exported.append(write_commits(git, base, walk(source, base, ws.settings.fuzz)))
    return _git_range_diff(git, exported, extra)


def _git_range_diff(git: Git, exported: List[Exported], extra: Sequence[str]) -> List[RangeEntry]:
    _sweep_stale_refs(git)
    refs = [f"refs/f5quilt/range-diff/{os.getpid()}/{side}" for side in ("old", "new")]
    try:
        for ref, exp in zip(refs, exported):  # kept from gc while git range-diff reads them
            git.run("update-ref", "--no-deref", ref, exp.tip)
        out = git.run("range-diff", "--no-color", *extra, f"{exported[0].upstream}..{refs[0]}",
                      f"{exported[1].upstream}..{refs[1]}").decode(ENC, ERRORS)
    finally:
        for ref in refs:
            git.run("update-ref", "-d", ref, ok=(0, 1, 128))
    return _pair_by_name(git, parse_range_diff(out, exported[0].commits, exported[1].commits),
                         exported, extra)


def _pair_by_name(git: Git, entries: List[RangeEntry], exported: List[Exported],
                  extra: Sequence[str]) -> List[RangeEntry]:
    """A patch git found too changed to pair (its creation factor) is one patch to f5quilt when
    the same name is dropped and added: shown as changed, with the interdiff of the two."""
    dropped = {e.old: e for e in entries if e.status == "dropped" and e.old}
    old_sha, new_sha = dict(exported[0].commits), dict(exported[1].commits)
    out: List[RangeEntry] = []
    for e in entries:
        if e.status == "dropped" and e.old and any(a.status == "added" and a.new == e.old for a in entries):
            continue  # shown where it was added
        if e.status == "added" and e.new in dropped and e.new in old_sha and e.new in new_sha:
            o, n = old_sha[e.new], new_sha[e.new]
            text = git.run("range-diff", "--no-color", "--creation-factor=1000", *extra,
                           f"{o}^..{o}", f"{n}^..{n}").decode(ENC, ERRORS)
            paired = parse_range_diff(text, exported[0].commits, exported[1].commits)
            if len(paired) == 1 and paired[0].status in ("changed", "unchanged"):
                out.append(paired[0])
                continue
            out.append(dropped[e.new])
        out.append(e)
    return out


def _sweep_stale_refs(git: Git) -> None:
    """Temporary refs a killed range-diff left (its process is gone)."""
    for ref in git.text("for-each-ref", "--format=%(refname)", "refs/f5quilt/range-diff/").splitlines():
        pid = ref.split("/")[3]
        try:
            os.kill(int(pid), 0)
            continue  # still running (or not ours to judge)
        except ProcessLookupError:
            pass
        except (ValueError, PermissionError):
            continue
        git.run("update-ref", "-d", ref, ok=(0, 1, 128))


_PAIR_RE = re.compile(r"^\s*(\d+|-):\s+([0-9a-f]+|-+) ([=!<>]) \s*(\d+|-):\s+([0-9a-f]+|-+) (.*)$")


def parse_range_diff(text: str, old: List[Tuple[str, str]], new: List[Tuple[str, str]]) -> List[RangeEntry]:
    def name(abbrev: str, commits: List[Tuple[str, str]]) -> Optional[str]:
        if abbrev.startswith("-"):
            return None
        return next((n for n, sha in commits if sha.startswith(abbrev)), abbrev)

    kinds = {"=": "unchanged", "!": "changed", "<": "dropped", ">": "added"}
    entries: List[RangeEntry] = []
    for line in text.splitlines():
        m = _PAIR_RE.match(line)
        if m:
            entries.append(RangeEntry(kinds[m.group(3)], name(m.group(2), old), name(m.group(5), new)))
        elif entries and entries[-1].status == "changed":
            entries[-1].interdiff.append(line)
    return entries



# -- range-diff of a rebase, from the log --------------------------------------------
@dataclass
class LoggedRebase:
    command: str           # the rebase's first command (rebase --onto ...)
    first: int             # its first log entry
    after: int             # the first entry after its last one (or None: none after)
    steps: int


def last_rebase(entries: List[Any]) -> LoggedRebase:
    """The last rebase in the log: its entries are one group (``rebase-...``)."""
    groups = [e.group for e in entries if e.group and e.group.startswith("rebase-")]
    if not groups:
        raise F5QuiltError("no rebase in f5quilt's log (f5quilt log lists what it holds)")
    group = groups[-1]
    mine = [e for e in entries if e.group == group]
    if "--onto" not in mine[0].command.split():
        raise F5QuiltError(f"the log no longer holds the start of the last rebase ({mine[0].command}); "
                           "log: {keep: N} keeps more")
    after = next((e.seq for e in entries if e.seq > mine[-1].seq), mine[-1].seq + 1)
    return LoggedRebase(mine[0].command, mine[0].seq, after, len(mine))


def logged_state(ws: Workspace, entries: List[LogEntry], at: int) -> Callable[[Path], Optional[bytes]]:
    """A reader of the series, patch files and settings as they were just before log entry
    ``at``: the before-image of the first entry from ``at`` on that changed the file, else
    the file as it is now."""
    roots = ws.roots()
    later = [e for e in entries if e.seq >= at]

    def read(path: Path) -> Optional[bytes]:
        key = roots.locate(path)
        for e in later:
            for op in e.files:
                if (op.root, op.rel) == key:
                    return None if op.before is None else e.object(op.before)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None
    return read


def logged_source(ws: Workspace, read: Callable[[Path], Optional[bytes]], label: str) -> Tuple[SeriesSource, Any]:
    """The series (and the pin) a ``logged_state`` reader holds."""

    settings = ws.settings
    text = read(settings.series) or b""
    series_shown = f"{label}:{os.path.relpath(settings.series, settings.base)}"
    entries = parse_series_lines(text.decode(ENC, ERRORS).splitlines(keepends=True), Path(series_shown))
    by_name = {e.name: e for e in entries}

    def data(name: str) -> bytes:
        found = read(settings.patches / name)
        if found is None:
            raise F5QuiltError(f"{series_shown}:{by_name[name].line}: names {ws.display(name)}, "
                               "which the log does not hold")
        return found

    upstream = None
    if settings.settings_file is not None:
        upstream = _pin_in(read(settings.settings_file), settings.settings_file,
                           f"{label}:{settings.settings_file.name}")
    if upstream is None:
        raise F5QuiltError(f"{label}: no upstream pin in the settings; a rebase needs one")
    source = SeriesSource(selected_names(ws, entries), lambda n: by_name[n], data,
                          lambda n: f"{label}:{ws.display(n)}")
    return source, upstream


def range_diff_rebase(ws: Workspace, log: Emit, extra: Sequence[str] = ()
                      ) -> Tuple[LoggedRebase, List[RangeEntry]]:
    """git range-diff of the series before the last rebase in the log and right after it.

    Both sides come from the log alone (the before-images of the rebase's
    first entry and of the first entry after it; the files as they are now
    where nothing later changed them), each exported onto its own pin, in a
    temporary repository: the user's repository is not touched."""

    entries = read_log(ws.state_dir)
    rebase = last_rebase(entries)
    exported: List[Exported] = []
    with tempfile.TemporaryDirectory(prefix="f5quilt-range-diff-") as tmpdir:
        import git as gitpython  # lazy: start-up
        gitpython.Repo.init(tmpdir, bare=True)
        git = Git(Path(tmpdir))
        for label, at in (("before-rebase", rebase.first), ("after-rebase", rebase.after)):
            source, up = logged_source(ws, logged_state(ws, entries, at), label)
            base = directory_base(up.ensure_pristine(log), up.pin.describe())
            exported.append(write_commits(git, base, walk(source, base, ws.settings.fuzz)))
        return rebase, _git_range_diff(git, exported, extra)
