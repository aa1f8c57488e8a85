"""The workspace: settings + series + .pc/, and the door to the transaction layer.

Every command opens one ``Workspace``; a command that writes does so inside
``ws.transaction(...)``, whose ``Transaction`` (``transaction.py``) journals
each change so the next command can roll a killed one back, and records the
finished command in the log that ``undo`` reads.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional

from f5quilt.errors import F5QuiltError, UnsafePath
from f5quilt.record import field, record
from f5quilt.fsutil import (Stamp, atomic_write, check_inside, read_bytes_or_none, read_stamped, safe_relpath,
                            safe_user_name)
from f5quilt.model.series import Series, SeriesEntry, altered, load_series
from f5quilt.repo.layout import (PROMPT, REBASE_STATE, STATE_NAME, TREE_PIN, prompt_record, settings_key,
                                 unsettled)
from f5quilt.repo.pcdir import AppliedStack, NoWrites
from f5quilt.repo.settings import Dialect, Settings

if TYPE_CHECKING:
    from f5quilt.events import Emit
    from f5quilt.output import Progress
    from f5quilt.model.patch import Patch
    from f5quilt.repo.transaction import Roots, Transaction
    from f5quilt.repo.upstream import Pin, Upstream



@record
class Workspace:
    settings: Settings
    stack: AppliedStack
    series: Series
    _patch_cache: Dict[str, Patch] = field(default_factory=dict)

    txn: Optional[Transaction] = None
    observed: Dict[str, Optional[Stamp]] = field(default_factory=dict)  # tree files read, as first read
    memo: Dict[str, Any] = field(default_factory=dict)  # what one command computes once (the pristine reader)
    command_line: str = ""  # what the log calls the command (the CLI sets it from argv)
    progress: "Optional[Progress]" = None  # a terminal's progress bar (the CLI's), for each Upstream

    @classmethod
    def open(cls, settings: Settings, records: bool = True) -> "Workspace":
        """``records=False``: a read-only query's, which reads none of f5quilt's per-patch
        records in .pc/ and so does not validate them up front (``AppliedStack.validate``)."""
        stack = AppliedStack(settings.tree, settings.pc_name)
        stack.validate(records)
        return cls(settings, stack, load_series(settings.series))

    @classmethod
    def unread(cls, settings: Settings) -> "Workspace":
        """The workspace's places without its state read (no series, no applied patches), for
        rolling back what a killed command left before anything of it is parsed: a file that
        command was writing may be cut short until then. ``.pc`` is checked to be a folder."""
        stack = AppliedStack(settings.tree, settings.pc_name)
        stack.check_folder()
        return cls(settings, stack, Series(settings.series))

    # -- the transaction layer -------------------------------------------
    @property
    def state_dir(self) -> Path:
        """f5quilt's own state (journal, log): beside the settings, outside the tree a rebase
        replaces; without settings inside .pc/, where GNU quilt never looks."""
        if self.settings.state is not None:  # one of several upstreams: a folder of its own
            return self.settings.state
        if self.settings.settings_file is not None:
            return self.settings.settings_file.parent / STATE_NAME
        return self.stack.pc / STATE_NAME

    # the transaction layer and the patch parser are imported where used: a query (applied,
    # top, series: shell prompts) opens a workspace and needs neither
    def roots(self) -> Roots:
        from f5quilt.repo.transaction import Roots
        dirs = {"tree": self.tree, "pc": self.stack.pc, "patches": self.settings.patches,
                "series": self.settings.series.parent, "state": self.state_dir}
        if self.settings.settings_file is not None:
            dirs["base"] = self.settings.settings_file.parent
        return Roots(dirs)

    def repair(self) -> Optional[str]:
        """Roll back what a killed command left half done; its name, or None."""
        if not unsettled(self.state_dir):
            return None
        from f5quilt.repo.transaction import os_error, repair
        try:
            return repair(self.state_dir, self.roots())
        except OSError as exc:
            raise os_error(exc, "repairing an interrupted command") from None

    @property
    def fs(self) -> Transaction:
        if self.txn is None:
            raise AssertionError("a write outside a transaction")
        return self.txn

    def _quilt_readable(self, txn: Transaction) -> None:
        """Without settings f5quilt's log lives in .pc/.f5quilt/: a .pc/ that GNU quilt would
        then find must be one it accepts (.version and friends), not ask to `quilt upgrade`."""
        if txn.changed and self.settings.settings_file is None and not (self.stack.pc / ".version").exists():
            self.stack.initialize(self.settings.quilt_patches, self.settings.quilt_series)

    @contextmanager
    def transaction(self, command: str, group: Optional[str] = None) -> Iterator[Transaction]:
        """Every write of a command: committed into the log at the end; on an error, what
        follows the last savepoint is rolled back and the rest committed (quilt keeps the
        patches pushed before the one that failed); a crash is rolled back by the next command."""
        if self.txn is not None:  # nested (delete pops, rebase pushes): one transaction
            yield self.txn
            return
        from f5quilt.repo.transaction import ConcurrentEdit, Transaction, os_error
        txn = Transaction(self.state_dir, self.roots(), self.command_line or command,
                          keep=self.settings.log_keep)
        txn.group = group
        txn.observed = self.observed
        try:
            txn.begin()
        except OSError as exc:
            raise os_error(exc, command) from None
        self.txn = txn
        self.stack.fs = txn
        try:
            yield txn
        except F5QuiltError:
            try:
                if txn.savepoints:  # keep what was finished (quilt keeps the patches pushed before)
                    txn.rollback_to(txn.savepoints[-1])
                    self._quilt_readable(txn)
                    txn.commit()
                else:
                    txn.rollback()
            except OSError:
                txn.rollback()
            raise
        except OSError as exc:
            txn.rollback()
            raise os_error(exc, command) from None
        except BaseException:
            txn.rollback()
            raise
        else:
            try:
                txn.check_before_images()
                self._quilt_readable(txn)
                txn.commit()
                self.note_for_prompt()
            except ConcurrentEdit:
                txn.rollback()  # the save is in a before-image: the rollback puts it back
                raise
            except OSError as exc:
                txn.rollback()
                raise os_error(exc, command) from None
        finally:
            self.txn = None
            self.stack.fs = NoWrites()  # type: ignore[assignment]
            self.stack.reread()

    def note_for_prompt(self) -> None:
        """Write the shell-prompt record (``layout.read_prompt_record``): after each command
        that commits, so that a prompt's query (``fastpath.plain_answer``) finds f5quilt.yaml's
        places without importing yaml. For one upstream pinned by PyPI or git whose tree-pin
        check has nothing to say; never an error (without a record a query reads the settings)."""
        s = self.settings
        if s.settings_file is None or s.state is not None or s.prompt_key is None or s.raw_places is None \
                or s.upstream.get("path"):
            return
        try:
            if settings_key(str(s.settings_file)) != s.prompt_key:
                return  # changed since this command read it
            recorded = self._recorded_pin()
            if self.tree_mismatch() is not None or (recorded is not None and recorded["kind"] == "path"):
                return
            try:
                pin: Optional[bytes] = self.tree_pin_file.read_bytes()
            except OSError:
                pin = None
            record = prompt_record(str(s.settings_file), s.prompt_key, str(s.name), s.raw_places, s.pc_name,
                                   os.path.realpath(self.tree), self.tree.is_dir(), pin,
                                   (self.state_dir / REBASE_STATE).exists())
            if record is None:
                return
            path = self.state_dir / PROMPT
            if read_bytes_or_none(path) != record:  # the same record (an undo, an abort): left as it is
                atomic_write(path, record)
        except (OSError, F5QuiltError):
            pass

    @property
    def tree(self) -> Path:
        return self.settings.tree

    def display(self, name: str) -> str:
        return self.settings.display(name)

    def patch_file(self, name: str) -> Path:
        return self.settings.patches / name

    def load(self, name: str) -> Patch:
        if name not in self._patch_cache:
            from f5quilt.model.patch import load_patch
            path = self.patch_file(name)
            entry = self.series.get(name)
            if entry is not None and not path.is_file():
                # the error is in the series line that names it
                series = os.path.relpath(self.settings.series, self.settings.base)
                raise F5QuiltError(f"{series}:{entry.line}: names {self.display(name)}, "
                                   "which does not exist")
            # quilt mode reads a hunk's counts as GNU patch does: lines past them are ignored
            self._patch_cache[name] = load_patch(path, self.display(name),
                                                 lenient_counts=self.settings.dialect is Dialect.QUILT)
        return self._patch_cache[name]

    def oriented(self, name: str) -> Patch:
        """Patch ``name`` as its series entry applies it (reversed for -R)."""
        return self.entry(name).orient(self.load(name))

    def forget_patch(self, name: str) -> None:
        """Drop the parsed copy of a patch file that was just rewritten."""
        self._patch_cache.pop(name, None)

    def entry(self, name: str) -> SeriesEntry:
        entry = self.series.get(name)
        if entry is None:
            raise F5QuiltError(f"Patch {self.display(name)} is not in series")
        return entry

    def resolve_name(self, given: str) -> str:
        """Accept ``x.diff``, ``patches/x.diff`` or a path to the patch file."""
        candidates = [given]
        prefix = self.settings.patches_display.rstrip("/") + "/"
        if given.startswith(prefix):
            candidates.append(given[len(prefix):])
        try:
            candidates.append(os.path.relpath(Path(given).resolve(), self.settings.patches))
        except ValueError:
            pass
        for name in candidates:
            if self.series.get(name):
                return name
        # quilt's find_patch: the name with .patch/.diff/.dif and a compression suffix, when one fits
        import re
        for name in candidates[:2] if self.settings.dialect is Dialect.QUILT else []:
            pattern = re.compile(re.escape(name) + r"(|\.patch|\.diff?)(|\.gz|\.bz2|\.xz|\.lzma|\.lz)$")
            found = [n for n in self.series.names if pattern.match(n)]
            if len(found) == 1:
                return found[0]
        hint = ""
        if self.settings.dialect is not Dialect.QUILT:  # quilt's dialect keeps quilt's words
            bare = candidates[1] if len(candidates) > 1 and given.startswith(prefix) else given
            near = [n for n in self.series.names if n.startswith(bare)] or \
                   [n for n in self.series.names if bare in n]
            if near:
                hint = "; did you mean " + " or ".join(self.display(n) for n in near[:3]) + \
                       (f" (and {len(near) - 3} more)" if len(near) > 3 else "") + "?"
        raise F5QuiltError(f"Patch {given} is not in series{hint}")

    def patch_name(self, name: str, what: str) -> str:
        """A patch name a user gave (new, rename, fork, import): ``safe_user_name``'s rules,
        and never the name of a state file in the patches folder (the series file itself,
        ``.pc``, f5quilt's state), which the patch would then overwrite or be read as."""
        rel = safe_user_name(self.settings.patches, name, what)
        reserved = {os.path.relpath(self.settings.series, self.settings.patches), self.settings.pc_name,
                    STATE_NAME, ".quilt_patches", ".quilt_series", ".version"}
        if rel in reserved or rel.split("/")[0] in (self.settings.pc_name, STATE_NAME):
            raise UnsafePath(f"{what} {name!r}: refused, that is the name of a state file "
                             f"({os.path.join(self.settings.patches_display, rel)})")
        return rel

    def inside(self, rel: str) -> Path:
        """``check_inside(self.tree, rel)``, the tree's own real path worked out once a command
        (a push or pop checks every file it reads and writes, each one an lstat per folder of
        the tree's path); a folder below the tree is looked at once, until the command
        removes or moves a folder (``Transaction.epoch``)."""
        real = self.memo.get("real tree")
        if real is None:
            real = self.memo["real tree"] = os.path.realpath(self.tree)
        # folders found real are remembered until this command removes or moves one
        epoch = self.txn.epoch if self.txn is not None else 0
        known = self.memo.get("real folders")
        if known is None or known[0] != epoch:
            known = self.memo["real folders"] = (epoch, {})
        return check_inside(self.tree, rel, real_root=real, known=known[1])

    def read_tree(self, rel: str) -> Optional[bytes]:
        """A tree file's bytes (None: absent). What the command first read of each file is
        remembered: the transaction refuses to replace a file that changed since (an editor
        saved it while the command ran), so that save never ends up only in the log."""
        path = self.inside(safe_relpath(rel))
        data, stamp = read_stamped(path)
        self.observed.setdefault(os.path.abspath(path), stamp)
        return data

    def upstream(self) -> "Optional[Upstream]":
        from f5quilt.repo.upstream import Upstream, default_cache, parse_pin
        data = self.settings.upstream
        if not data:
            return None
        base = self.settings.settings_file.parent if self.settings.settings_file else self.tree
        return Upstream(parse_pin(data, base, str(self.settings.settings_file or "settings")),
                        default_cache(base), self.progress)

    def ensure_tree(self, emit: "Emit") -> None:
        """Fetch the pinned upstream when the tree is missing (fresh clone)."""
        if self.tree.is_dir():
            return
        up = self.upstream()
        if up is None:
            raise F5QuiltError(f"tree {self.tree} does not exist and no upstream is pinned in the settings")
        rel = os.path.relpath(self.tree, self.settings.base)
        from f5quilt import events as ev  # a fetch only: a query opens a workspace without it
        emit(ev.Fetching(up.pin.describe(), rel))
        with self.transaction(f"upstream fetch {up.pin.describe()}"):
            up.materialize(self.tree, emit, txn=self.fs)
            self.record_tree_pin(up.pin)

    # -- which pin built the tree ------------------------------------------
    @property
    def tree_pin_file(self) -> Path:
        return self.state_dir / TREE_PIN

    def record_tree_pin(self, pin: "Pin") -> None:
        """Remember (through the transaction: undo puts the old record back) that the
        tree was just built from ``pin``."""
        if self.settings.settings_file is None:
            return
        base = self.settings.settings_file.parent
        rel = os.path.relpath(self.tree, base)
        identity: Dict[str, Any] = dict(pin.identity())
        if os.path.isabs(str(identity["spec"])) and pin.kind in ("path", "git"):
            # relative to the settings: a project moved (or cloned elsewhere) with its upstream
            # beside it still knows which pin built its tree
            identity["spec"] = os.path.relpath(str(identity["spec"]), base)
            identity["relative"] = True
        import json
        self.fs.write_text(self.tree_pin_file,
                           json.dumps({"tree": rel, "pin": identity}, indent=1, sort_keys=True) + "\n")

    def _recorded_pin(self) -> Optional[Dict[str, Optional[str]]]:
        """The recorded pin's fields, or None (no record, another tree path, unreadable)."""
        if self.settings.settings_file is None:
            return None
        try:
            raw = self.tree_pin_file.read_bytes()
        except OSError:
            return None
        import json  # here, not at the top: a query where no pin was recorded reads none
        try:
            data = json.loads(raw)
            pin = data["pin"]
            rel = os.path.relpath(self.tree, self.settings.settings_file.parent)
            if data.get("tree") != rel or not isinstance(pin, dict):
                return None
            fields = {k: pin.get(k) for k in ("kind", "spec", "ref", "commit", "sha256")}
            if not all(v is None or isinstance(v, str) for v in fields.values()):
                return None
            if not fields["kind"] or not fields["spec"]:
                return None
            if pin.get("relative") is True:
                fields["spec"] = os.path.normpath(os.path.join(self.settings.settings_file.parent,
                                                               str(fields["spec"])))
            return fields
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def tree_pin(self) -> "Optional[Pin]":
        """The pin recorded when the tree was built; None when unknown (a tree built
        before the record existed, by hand, or for another tree path)."""
        from f5quilt.repo.upstream import Pin
        f = self._recorded_pin()
        if f is None:
            return None
        return Pin(str(f["kind"]), str(f["spec"]), f["ref"], f["sha256"], f["commit"])

    def tree_mismatch(self) -> Optional[str]:
        """One line when the tree was built from another pin than the settings name
        (a teammate moved the pin), else None. Quiet during a rebase (the tree is then
        on the new release while the settings still name the old one).

        Runs on every command: reads one small file and the settings already loaded,
        never the upstream module (tarfile, subprocess: start-up time)."""
        data = self.settings.upstream
        if self.settings.settings_file is None or not data or not self.tree.is_dir():
            return None
        built = self._recorded_pin()
        if built is None or (self.state_dir / REBASE_STATE).exists():
            return None
        if built["kind"] == "path" and not os.path.exists(str(built["spec"])):
            return None  # an older, absolute record from before the project moved: not judged
        kinds = [k for k in ("pypi", "git", "path") if data.get(k)]
        if len(kinds) != 1:
            return None  # the command that reads the pin says what is wrong with it
        kind, spec = kinds[0], str(data[kinds[0]])
        if kind == "path":
            spec = str((self.settings.settings_file.parent / spec).resolve())

        def text(v: object) -> Optional[str]:
            return str(v).lower() if v is not None else None

        ref, commit, sha = data.get("ref"), text(data.get("commit")), text(data.get("sha256"))
        ref = str(ref) if ref is not None else None

        def describe(k: Optional[str], sp: Optional[str], rf: Optional[str]) -> str:
            return f"{sp} {rf or 'HEAD'}" if k == "git" else str(sp)

        rel = os.path.relpath(self.tree, self.settings.base)
        hint = "; `f5quilt upstream fetch --replace` rebuilds it"
        now = describe(kind, spec, ref)
        was = describe(built["kind"], built["spec"], built["ref"])
        if (built["kind"], built["spec"], built["ref"]) != (kind, spec, ref):
            return f"{rel} holds {was}; the pin is {now}{hint}"
        if built["commit"] and commit and built["commit"] != commit:
            return (f"{rel} holds {was} at commit {built['commit'][:12]}; "
                    f"the pin is commit {commit[:12]}{hint}")
        if built["sha256"] and sha and built["sha256"] != sha:
            return (f"{rel} was built from {was} with sha256 {built['sha256'][:16]}...; "
                    f"the pin's sha256 is {sha[:16]}...{hint}")
        return None

    def reload(self) -> None:
        """Read the series and .pc/ again (the tree was replaced), inside the same transaction."""
        fs = self.stack.fs
        self.stack = AppliedStack(self.settings.tree, self.settings.pc_name)
        self.stack.validate()
        self.stack.fs = fs
        self.series = load_series(self.settings.series)
        self._patch_cache.clear()

    def save_series(self) -> None:
        self.fs.write_text(self.settings.series, self.series.to_text())

    def require_series(self) -> None:
        if not self.settings.series.exists():
            raise F5QuiltError(f"No series file found ({self.settings.series})")

    def series_altered(self) -> bool:
        """quilt 0.68's consistency check (``model.series.altered``) on this workspace."""
        return altered(self.stack.applied(), self.series)

    def unapplied(self) -> List[str]:
        applied = self.stack.applied()
        names = self.series.names
        if not applied:
            return names
        top = applied[-1]
        if top not in names:
            raise F5QuiltError(f"Applied patch {self.display(top)} is not in the series "
                               f"({self.settings.series})")
        return names[names.index(top) + 1:]


def repair_without_settings(start: Path) -> Optional[str]:
    """No f5quilt.yaml from ``start`` up: roll back what an ``init`` killed before its
    settings file appeared (or while its rollback removed it) left in ``.f5quilt/`` of the
    folder it ran in. Its name, or None; one stat a folder when there is nothing."""
    for directory in [start, *start.parents]:
        state = directory / STATE_NAME
        if unsettled(state) and not (directory / "f5quilt.yaml").exists():
            from f5quilt.repo.transaction import os_error, repair_unsettled
            try:
                command = repair_unsettled(state)
            except OSError as exc:
                raise os_error(exc, "repairing an interrupted command") from None
            if command:
                return command
    return None
