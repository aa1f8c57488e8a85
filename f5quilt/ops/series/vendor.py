"""Setting a repository up (``init``) and rebuilding the tree from the pin
(``upstream fetch --replace``).

``init`` writes ``f5quilt.yaml``, an empty series and the ``.gitignore``
lines, fetches the pin and materializes the tree, all in one transaction
(``f5quilt undo`` takes it all back); the pin is recorded with what was
fetched: an archive's sha256, a git ref's resolved commit.

``replace_tree`` is for a tree built from another pin than the settings
name now (a teammate moved the pin): it refuses while the tree holds edits
no patch records (rebase's rule, judged against the pin that built the
tree), and otherwise swaps the tree in one transaction and pushes again
what was applied.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional

from f5quilt.errors import BadUsage, F5QuiltError
from f5quilt.model.series import load_series
from f5quilt import events as ev
from f5quilt.events import Emit, Stop
from f5quilt.repo.pcdir import AppliedStack
from f5quilt.repo.layout import SETTINGS_NAME, STATE_NAME
from f5quilt.repo.settings import (Dialect, Settings, all_upstreams, find_settings_file, load_settings,
                                   upstream_name_of)
from f5quilt.repo.upstream import Pin, Upstream, default_cache, sha256_of
from f5quilt.repo.workspace import Workspace
from f5quilt.fsutil import safe_user_name

if TYPE_CHECKING:
    from f5quilt.output import Progress


# -- init ------------------------------------------------------------------
def pin_of_option(pypi: Optional[str], git_url: Optional[str], path: Optional[str], base: Path) -> Pin:
    """The pin from exactly one of --pypi NAME==VER, --git URL[@REF], --path DIR|ARCHIVE."""
    given = [x for x in (pypi, git_url, path) if x]
    if len(given) != 1:
        raise BadUsage("init: give exactly one of --pypi NAME==VERSION, --git URL@REF, --path DIR")
    if pypi:
        name, sep, version = pypi.partition("==")
        if not sep or not name.strip() or not version.strip() or re.search(r"[<>=!~,;\s]", name + version):
            raise BadUsage(f"init: --pypi wants an exact version, NAME==VERSION, not {pypi!r}")
        return Pin("pypi", f"{name.strip()}=={version.strip()}")
    if git_url:
        url, ref = git_url, None
        head, at, tail = git_url.rpartition("@")
        # user@host:repo (scp-like) is not URL@REF: a ref follows a URL, not a user name
        if at and tail and ("/" in head or ":" in head):
            url, ref = head, tail
        return Pin("git", url, ref)
    assert path is not None
    full = (base / path).resolve()
    if not full.exists():
        raise F5QuiltError(f"init: --path {path}: no such directory or archive")
    return Pin("path", str(full))


def default_tree(pin: Pin) -> str:
    if pin.kind == "pypi":
        name = pin.spec.partition("==")[0]
    else:
        name = re.sub(r"(\.git|\.tar(\.\w+)?|\.tgz|\.zip)$", "", pin.spec.rstrip("/").rsplit("/", 1)[-1])
        name = name.rsplit(":", 1)[-1] or "upstream"
    return f"third_party/{name}"


def _settings_text(tree: str, patches: str, pin: Pin, base: Path) -> str:
    fields = pin.to_settings()
    if pin.kind == "path":
        fields["path"] = os.path.relpath(pin.spec, base)
    lines = ["# f5quilt settings (docs/commands.md); `f5quilt rebase --onto` moves the pin",
             f"tree: {tree}", f"patches: {patches}", "upstream:"]
    lines += [f"  {k}: {v}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


def _with_upstream(text: str, others: Dict[str, Settings], name: str, tree: str, patches: str, pin: Pin,
                   base: Path) -> str:
    """The settings with one more entry in ``upstreams:``; the single-pin form's tree, patches,
    series and upstream lines (with their comments) move, indented, under an entry of their own."""
    fields = pin.to_settings()
    if pin.kind == "path":
        fields["path"] = os.path.relpath(pin.spec, base)
    entry = [f"  {name}:", f"    tree: {tree}", f"    patches: {patches}", "    upstream:"]
    entry += [f"      {k}: {v}" for k, v in fields.items()]
    lines = text.splitlines()
    if any(o.state is not None for o in others.values()):  # upstreams: already: add at its end
        top = next(i for i, ln in enumerate(lines) if re.match(r"upstreams:\s*(#.*)?$", ln))
        end = top + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t", "#")):
            end += 1
        while end > top + 1 and not lines[end - 1].strip():
            end -= 1
        return "\n".join(lines[:end] + entry + lines[end:]) + "\n"
    (old,) = others.values()
    moved: List[str] = []
    kept: List[str] = []
    i = 0
    while i < len(lines):
        if re.match(r"(tree|patches|series|upstream)\s*:", lines[i]):
            moved.append("    " + lines[i])
            i += 1
            while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
                moved.append("    " + lines[i])
                i += 1
            continue
        kept.append(lines[i])
        i += 1
    if not any(re.match(r"\s*patches\s*:", ln) for ln in moved):
        moved.append("    patches: patches")  # the single form's default, which upstreams: does not share
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept + ["upstreams:", f"  {old.name}:"] + moved + entry) + "\n"


def _gitignore_lines(base: Path, tree: Path, cache: Path) -> List[str]:
    out = [f"/{os.path.relpath(tree, base)}/", "/.f5quilt/"]
    if cache == base / ".cache":
        out.append("/.cache/")
    return out


def init(base: Path, emit: Emit, pin: Pin, *, tree: Optional[str], patches: Optional[str],
         command_line: str = "", name: Optional[str] = None, progress: Optional[Progress] = None) -> None:
    """Set up ``base`` (the repository root) for a vendored tree; one transaction.
    ``progress``: a terminal's progress bar for the download and the extraction."""
    from f5quilt.ops.stack.repair import recover  # lazy: start-up
    from f5quilt.repo.transaction import repair_unsettled  # lazy: start-up
    try:
        # an init killed before its f5quilt.yaml appeared, or while its rollback removed it
        command = repair_unsettled(base / STATE_NAME) if not (base / SETTINGS_NAME).exists() else None
    except OSError as exc:
        from f5quilt.repo.transaction import os_error  # lazy: start-up
        raise os_error(exc, "repairing an interrupted command") from None
    if command:
        emit(ev.RolledBack(command))
    existing = find_settings_file(base)
    if existing == base / SETTINGS_NAME and (base / ".f5quilt" / "txn").exists():
        # an init killed after it wrote the settings: roll it back, as any command would
        recover(Workspace.open(load_settings(base)), emit)
        existing = find_settings_file(base)
    if existing is not None and existing.parent != base:
        raise F5QuiltError(f"{SETTINGS_NAME} exists already at {existing}: run init there to add an upstream")
    others = all_upstreams(existing) if existing is not None else {}
    if others:  # another upstream beside those the settings list
        name = name or upstream_name_of(pin.to_settings())
        if name in others:
            raise F5QuiltError(f"init: upstream {name} exists already in {SETTINGS_NAME} (choose another "
                               "name with -u NAME, or `f5quilt -u NAME rebase --onto NEW_PIN` to move its pin)")
        if not re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z", name):
            raise F5QuiltError(f"init -u {name!r}: an upstream name is letters, digits, . _ -")
        if any(((o.state or base / ".f5quilt") / "rebase").exists() for o in others.values()):
            raise F5QuiltError("init: a rebase is in progress: finish it (rebase --continue/--abort) first")
    tree_rel = tree or default_tree(pin)
    patches_rel = patches or "patches"
    if others and not patches:  # patches/NAME, unless an upstream has patches/ itself
        taken = any(o.patches == base.resolve() / "patches" for o in others.values())
        patches_rel = f"patches-{name}" if taken else f"patches/{name}"
    for what, rel in (("--tree", tree_rel), ("--patches", patches_rel)):
        if rel.strip("/") in ("", "."):
            raise F5QuiltError(f"init {what} {rel!r}: refused, it must be a folder inside the repository")
        safe_user_name(base, rel, f"init {what}")
    tree_path = (base / tree_rel).resolve()
    if tree_path.exists():
        raise F5QuiltError(f"init: {tree_rel} exists already; remove it or choose another --tree")
    for other in others.values():
        new_patches = (base / patches_rel).resolve()
        mine, theirs = (tree_path, new_patches), (other.tree, other.patches)
        if any(x.is_relative_to(y) or y.is_relative_to(x) for x in mine for y in theirs):
            raise F5QuiltError(f"init: {tree_rel} or {patches_rel} overlaps upstream {other.name}'s folders")
    settings_file = base / SETTINGS_NAME
    cache = default_cache(base)
    up = Upstream(pin, cache, progress)
    # fetch before anything is written: a failed download leaves the repository as it was
    up.ensure_pristine(emit)
    if pin.kind == "git":
        pin = Pin(pin.kind, pin.spec, pin.ref, None, up.resolved_commit())
    elif pin.kind == "pypi" or Path(pin.spec).is_file():
        pin = Pin(pin.kind, pin.spec, pin.ref, sha256_of(up.archive(emit)))
    up = Upstream(pin, cache, progress)
    patches_path = (base / patches_rel).resolve()
    settings = Settings(tree=tree_path, patches=patches_path, series=patches_path / "series",
                        settings_file=settings_file, upstream=pin.to_settings(), base=base,
                        dialect=Dialect.F5QUILT)
    if others:
        settings.name, settings.state = name, base / ".f5quilt" / "upstreams" / str(name)
    ws = Workspace(settings, AppliedStack(tree_path, settings.pc_name), load_series(settings.series))
    ws.command_line = command_line or f"init {pin.describe()}"
    with ws.transaction(f"init {pin.describe()}") as fs:
        if others:
            fs.write_text(settings_file, _with_upstream(settings_file.read_text(), others, str(name),
                                                        tree_rel, patches_rel, pin, base))
            for old in others.values():  # the single-pin form's state becomes its upstream's
                record = base / ".f5quilt" / "tree-pin.json"
                if old.state is None and record.is_file():
                    fs.write(base / ".f5quilt" / "upstreams" / str(old.name) / "tree-pin.json", record.read_bytes())
        else:
            fs.write_text(settings_file, _settings_text(tree_rel, patches_rel, pin, base))
        if not settings.series.exists():
            fs.mkdirs(patches_path)
            fs.write_text(settings.series, "")
        gi = base / ".gitignore"
        text = gi.read_text() if gi.is_file() else ""
        have = {line.strip() for line in text.splitlines()}
        add = [line for line in _gitignore_lines(base, tree_path, cache)
               if line not in have and line.strip("/") not in have and line.lstrip("/") not in have]
        if add:
            sep = "" if not text or text.endswith("\n") else "\n"
            fs.write_text(gi, text + sep + "# f5quilt: the vendored tree, its state and the download cache\n"
                          + "".join(a + "\n" for a in add))
        emit(ev.Fetching(pin.describe(), tree_rel))
        up.materialize(tree_path, emit, txn=fs)
        ws.record_tree_pin(pin)
    recorded = f"commit {pin.commit}" if pin.commit else (f"sha256 {pin.sha256}" if pin.sha256 else "a directory")
    emit(ev.Initialised(SETTINGS_NAME, pin.describe(), recorded, os.path.relpath(settings.series, base), bool(add)))
    return


# -- upstream fetch --replace ------------------------------------------------
def replace_tree(ws: Workspace, emit: Emit, *, force: bool = False) -> Optional[Stop]:
    """Rebuild the tree from the pin the settings name, then push again what was applied."""
    from f5quilt.ops.stack.pushpop import push_plan  # lazy: start-up
    from f5quilt.ops.stack.repair import recover  # lazy: start-up
    from f5quilt.ops.stack.drift import Unrecorded, tree_upstream, unrecorded_work  # lazy: start-up
    from f5quilt.ops.stack.stash import keep_in_stash, refuse_to_lose  # lazy: start-up
    from f5quilt.ops.series.rebase import in_progress  # lazy: start-up

    recover(ws, emit)
    up = ws.upstream()
    if up is None or ws.settings.settings_file is None:
        raise F5QuiltError("no upstream pinned in the settings (f5quilt.yaml: upstream:)")
    if in_progress(ws):
        raise F5QuiltError("a rebase is in progress: use rebase --continue, --skip or --abort")
    applied: List[str] = []
    lost: "List[Unrecorded]" = []
    if ws.tree.is_dir():
        for name in ws.stack.applied():
            if ws.stack.conflicts(name) or ws.stack.needs_refresh(name):
                raise F5QuiltError(f"Patch {ws.display(name)} has conflicts or needs a refresh; settle it "
                                   "(refresh, or pop -f) before the tree is replaced")
        lost = unrecorded_work(ws, tree_upstream(ws))
        refuse_to_lose(ws, lost, "upstream fetch --replace", force)
        applied = ws.stack.applied()
    up.ensure_pristine(emit)  # fetch (and check) before touching anything
    rel = os.path.relpath(ws.tree, ws.settings.base)
    with ws.transaction(f"upstream fetch --replace {up.pin.describe()}") as fs:
        keep_in_stash(ws, fs, lost, "upstream fetch --replace", emit)
        if ws.tree.is_dir():
            fs.discard_dir(ws.tree)  # kept in the log: `f5quilt undo` brings the old tree back
        emit(ev.Fetching(up.pin.describe(), rel, replacing=True))
        up.materialize(ws.tree, emit, txn=fs)
        ws.record_tree_pin(up.pin)
        ws.reload()
        fs.savepoint()
        names = ws.series.names
        still = [names.index(n) for n in applied if n in names]
        if still:
            plan = names[:max(still) + 1]
        elif applied:
            plan = names  # every applied patch was renamed or replaced: the whole series
        else:
            plan = []
        status = push_plan(ws, emit, plan, fuzz=ws.settings.fuzz, force=False, merge=False).stop if plan else None
    if plan:
        emit(ev.NowAt(ws.stack.top(), spacer=False))
    return status
