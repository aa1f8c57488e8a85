"""Where things are: the settings file, or GNU quilt's rules without one.

With an ``f5quilt.yaml`` in the current directory or above it, the tree,
the patches folder and the defaults come from there (paths relative to
the file). Without one, f5quilt behaves like quilt: the tree is the
nearest directory above holding ``.pc/`` (or the current one), patches
come from ``$QUILT_PATCHES`` (default ``patches``), the series from
``$QUILT_SERIES`` (default ``series``), the state from ``$QUILT_PC``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from f5quilt.errors import F5QuiltError
from f5quilt.record import field, record
from f5quilt.repo.layout import (SETTINGS_NAME, STATE_NAME, leaving_project, patches_shown, quilt_places,
                                 settings_file_above, settled_key, yaml_places)
from f5quilt.repo.layout import pc_name as plain_pc_name
from f5quilt.strenum import StrEnum

KNOWN_KEYS = {"tree", "patches", "series", "pc", "fuzz", "refresh", "upstream", "log", "ignore", "rerere",
              "upstreams"}
# what one entry of `upstreams:` may say; fuzz, refresh, ignore, rerere and pc at the top are its defaults
UPSTREAM_KEYS = {"tree", "patches", "series", "pc", "fuzz", "refresh", "upstream", "ignore", "rerere"}
PER_UPSTREAM_ONLY = {"tree", "patches", "series", "upstream"}
DEFAULT_LOG_KEEP = 50
# files in the tree no patch records and no command reports (gitignore patterns); the
# settings' ignore: list comes after these (a `!*.pyc` there takes one back)
DEFAULT_IGNORE = ("__pycache__/", "*.pyc")
# Fuzz, in one place. A command's --fuzz, or the dialect's default (``Settings.fuzz``: quilt mode
# GNU patch's 2 or QUILT_PATCH_OPTS' -F N; f5quilt mode f5quilt.yaml's ``fuzz:``, 0 unless set),
# is ``Settings.fuzz_for``. Re-reading a patch that is already pushed (what it left: drift's
# expected content, a pop's recorded after-image) allows GNU patch's default, as the push may have
# needed it; refresh's repositioning after a fuzz push allows at least REPOSITION_FUZZ. Checks of
# exactness (check --strict, rebase's verification, "applies reversed") use 0.
REPLAY_FUZZ = 2
REPOSITION_FUZZ = 3


class Dialect(StrEnum):
    """Whose behaviour and words a command follows, decided once as the settings load:
    GNU quilt's (no f5quilt.yaml: quilt 0.68's messages, exit codes and quirks) or f5quilt's."""
    QUILT = "quilt"
    F5QUILT = "f5quilt"


@record
class Settings:
    tree: Path                     # absolute root of the patched tree
    patches: Path                  # absolute patches directory
    series: Path                   # absolute series file
    pc_name: str = ".pc"
    fuzz: int = 0
    settings_file: Optional[Path] = None
    refresh_index: bool = False
    upstream: Dict[str, Any] = field(default_factory=dict)
    base: Path = field(default_factory=Path.cwd)  # where displayed paths are relative to
    log_keep: int = DEFAULT_LOG_KEEP  # entries of the undo log kept
    ignore: List[str] = field(default_factory=lambda: list(DEFAULT_IGNORE))
    name: Optional[str] = None     # the upstream's name (the project's, or `default`; an upstreams: key)
    upstream_names: Tuple[str, ...] = ()  # every upstream the settings list (empty in quilt mode)
    state: Optional[Path] = None   # f5quilt's state folder for this upstream (None: the default)
    # quilt's configuration as the settings loaded it: the quiltrc's QUILT_* variables (quilt
    # mode), else the environment's (QUILT_DIFF_OPTS, QUILT_REFRESH_ARGS, QUILT_SENDMAIL...)
    quiltrc: Dict[str, str] = field(default_factory=dict)

    def fuzz_for(self, given: Optional[int]) -> int:
        """The fuzz a command applies patches with: its --fuzz when given, else the dialect's
        default that the settings loaded (quilt: 2 or QUILT_PATCH_OPTS' -F; f5quilt: ``fuzz:``)."""
        return self.fuzz if given is None else given

    @property
    def reposition_fuzz(self) -> int:
        """What refresh allows when it rewrites the positions of a patch pushed with fuzz."""
        return max(self.fuzz, REPOSITION_FUZZ)

    def ignored(self) -> Callable[[str], bool]:
        """A matcher of tree-relative paths for the ignore patterns (gitignore's rules)."""
        import pathspec
        spec = pathspec.GitIgnoreSpec.from_lines(self.ignore)
        return lambda rel: bool(spec.match_file(rel))
    rerere: bool = True            # remember conflict resolutions and replay them
    # set by whoever builds the settings; not derived from settings_file, which also says where
    # the state lives (quilt's `setup` keeps an undo log in .f5quilt/ and speaks quilt)
    dialect: Dialect = Dialect.QUILT
    # f5quilt.yaml's tree, patches and series as written (resolved from the file's folder):
    # what the shell-prompt record keeps (Workspace.note_for_prompt)
    raw_places: Optional[Tuple[str, str, str]] = None
    # the settings file's key as read, when settled (layout.settled_key): the prompt record's key
    prompt_key: Optional[Tuple[int, int, int, int, int]] = None

    @property
    def quilt_patches(self) -> str:
        """What .pc/.quilt_patches holds: the patches dir relative to the tree."""
        return os.path.relpath(self.patches, self.tree)

    @property
    def quilt_series(self) -> str:
        if self.series.parent == self.patches:
            return self.series.name
        return os.path.relpath(self.series, self.tree)

    def display(self, patch_name: str) -> str:
        """A patch name as quilt prints it: with the patches folder in front."""
        return f"{self.patches_display}/{patch_name}"

    def show_path(self, path: Path) -> str:
        """A path as a message names it: relative to the current directory (absolute only where
        no relative path reaches it, another drive)."""
        try:
            return os.path.relpath(path, self.base)
        except ValueError:
            return str(path)

    def show_file(self, rel: str) -> str:
        """A tree file (``rel``, relative to the tree) as a message names it: in the f5quilt
        dialect relative to the current directory, like every path f5quilt prints; in quilt's,
        relative to the tree, as quilt prints it."""
        if self.dialect is Dialect.QUILT:
            return rel
        return self.show_path(self.tree / rel)

    @property
    def patches_display(self) -> str:
        return patches_shown(self.dialect is Dialect.QUILT, str(self.base), str(self.tree), str(self.patches))


def find_settings_file(start: Path) -> Optional[Path]:
    """The nearest f5quilt.yaml in ``start`` (absolute, resolved) or above it."""
    found = settings_file_above(str(start))
    return Path(found) if found is not None else None


class UndecidedUpstream(F5QuiltError):
    """Several upstreams and nothing to pick one by; ``names`` lists them (check/status go over all)."""

    def __init__(self, path: Path, names: Tuple[str, ...]) -> None:
        super().__init__(f"{path}: several upstreams ({', '.join(names)}): pick one with -u NAME, "
                         "or run the command inside its tree or patches folder")
        self.names = names


def load_settings(cwd: Optional[Path] = None, env: Optional[Dict[str, str]] = None,
                  upstream: Optional[str] = None, quiltrc: Optional[Dict[str, str]] = None) -> Settings:
    """The settings of one upstream: ``upstream`` by name (the -u option), else the one whose tree
    or patches folder holds ``cwd``, else the only one; UndecidedUpstream when that leaves several.

    ``quiltrc``: the QUILT_* variables of the quiltrc the command line read (repo/quiltrc.py; quilt
    mode), over the environment's; without it, the QUILT_* of ``env`` (default the environment).
    They become ``Settings.quiltrc``, where the commands read them."""
    cwd = (cwd or Path.cwd()).resolve()
    if quiltrc is None:
        quiltrc = {k: v for k, v in (os.environ if env is None else env).items() if k.startswith("QUILT_")}
    env = {**os.environ, **quiltrc} if env is None else dict(env)
    settings = _load(cwd, env, upstream)
    settings.quiltrc = dict(quiltrc)
    return settings


def _load(cwd: Path, env: Dict[str, str], upstream: Optional[str]) -> Settings:
    path = find_settings_file(cwd)
    if path is not None:
        try:
            return _from_file(path, cwd, upstream)
        except F5QuiltError as exc:  # the file as found (absolute), named from the current directory
            if exc.message.startswith(str(path)):
                exc.message = os.path.relpath(path, cwd) + exc.message[len(str(path)):]
                exc.args = (exc.message,)
            raise
    if upstream is not None:
        raise F5QuiltError(f"-u {upstream}: no {SETTINGS_NAME} here or above (quilt mode has one tree)")
    return _quilt_mode(cwd, env)


def _quilt_mode(cwd: Path, env: Dict[str, str]) -> Settings:
    tree, patches, series, pc, fuzz = quilt_places(str(cwd), env)
    return Settings(tree=Path(tree), patches=Path(patches), series=Path(series), pc_name=pc, base=cwd, fuzz=fuzz)


def _at(path: Path, key: Optional[str], value: Any = None) -> str:
    """``FILE:LINE`` of ``key`` for an error's message (the file is read only then)."""
    return f"{path}:{_line_of(path, key, value)}"


def _line_of(path: Path, key: Optional[str], value: Any = None) -> int:
    """The line of ``key: value`` in the settings file (the first ``key:`` line without a
    match; 1 when absent). Read only when an error names it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    first = 0
    for i, line in enumerate(lines, 1):
        if key and line.lstrip().startswith(f"{key}:"):
            if value is not None and str(value) in line:
                return i
            first = first or i
    return first or 1


def _from_file(path: Path, cwd: Path, wanted: Optional[str] = None) -> Settings:
    try:
        key = settled_key(str(path))  # before reading: a change during the read shows in it
    except OSError:
        key = None
    data = _read_yaml(path)
    if "upstreams" not in data:
        settings = _one_upstream(path, cwd, data)
        settings.prompt_key = key
        settings.name = _project_name(settings.upstream)
        settings.upstream_names = (settings.name,)
        if wanted is not None and wanted != settings.name:
            raise F5QuiltError(f"{path}: no upstream {wanted!r}; the only one is {settings.name}")
        return settings
    every = _several_upstreams(path, cwd, data)
    if wanted is not None:
        if wanted not in every:
            raise F5QuiltError(f"{path}: no upstream {wanted!r} (upstreams: {', '.join(every)})")
        return every[wanted]
    # the innermost tree or patches folder holding the current directory
    holding = [(len(folder.parts), name) for name, s in every.items() for folder in (s.tree, s.patches)
               if cwd == folder or cwd.is_relative_to(folder)]
    if holding:
        return every[max(holding)[1]]
    if len(every) == 1:
        return next(iter(every.values()))
    raise UndecidedUpstream(path, tuple(every))


def all_upstreams(path: Path) -> Dict[str, Settings]:
    """Every upstream a settings file lists, by name (the single-pin form: one)."""
    data = _read_yaml(path)
    if "upstreams" in data:
        return _several_upstreams(path, path.parent, data)
    one = _from_file(path, path.parent)
    return {str(one.name): one}


def upstream_name_of(pin: Dict[str, Any]) -> str:
    return _project_name(pin)


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


def _project_name(pin: Dict[str, Any]) -> str:
    """The single-pin form's upstream name: the PyPI project, the git repository or the path's
    last part (what `-u` accepts there), or ``default`` when nothing is pinned."""
    spec = str(pin.get("pypi") or pin.get("git") or pin.get("path") or "")
    if pin.get("pypi"):
        name = re.split(r"[<>=!~;\[ @]", spec, maxsplit=1)[0]
    else:
        name = re.sub(r"(\.git|\.tar(\.\w+)?|\.tgz|\.zip)$", "", spec.rstrip("/").rsplit("/", 1)[-1].split(":")[-1])
    return name if _NAME.match(name) else "default"


def _several_upstreams(path: Path, cwd: Path, data: Dict[str, Any]) -> Dict[str, Settings]:
    """The ``upstreams:`` form: each entry a vendored release with its own tree, patches, pin,
    ``.pc/`` (quilt's, at its tree's root) and f5quilt state (``.f5quilt/upstreams/NAME/``)."""
    entries = data["upstreams"]
    if not isinstance(entries, dict) or not entries:
        raise F5QuiltError(f"{_at(path, 'upstreams')}: upstreams must be a mapping of names to upstreams")
    clash = sorted(PER_UPSTREAM_ONLY & set(data))
    if clash:
        raise F5QuiltError(f"{_at(path, clash[0])}: {', '.join(clash)} belong(s) inside each entry of upstreams:")
    root = path.parent.resolve()
    defaults = {k: v for k, v in data.items() if k in UPSTREAM_KEYS}
    every: Dict[str, Settings] = {}
    for name, entry in entries.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise F5QuiltError(f"{_at(path, str(name))}: upstream name {name!r} must be a plain name "
                               "(letters, digits, . _ -)")
        if not isinstance(entry, dict):
            raise F5QuiltError(f"{_at(path, name)}: upstreams: {name}: must be a mapping (tree, patches, upstream...)")
        unknown = sorted(set(entry) - UPSTREAM_KEYS)
        if unknown:
            raise F5QuiltError(f"{_at(path, unknown[0])}: upstreams: {name}: "
                               f"unknown setting(s): {', '.join(unknown)}")
        if "tree" not in entry:
            raise F5QuiltError(f"{_at(path, name)}: upstreams: {name}: needs a tree (where its release is vendored)")
        merged = {**defaults, "patches": f"patches/{name}", **entry, "log": data.get("log")}
        one = _one_upstream(path, cwd, merged)
        for key, folder in (("tree", one.tree), ("patches", one.patches)):
            if folder == root or not folder.is_relative_to(root):
                raise F5QuiltError(f"{_at(path, name)}: upstreams: {name}: {key} must be a folder inside {root}")
        for other in every.values():
            if any(x.is_relative_to(y) for x in (one.tree, one.patches) for y in (other.tree, other.patches)) \
                    or any(y.is_relative_to(x) for x in (one.tree, one.patches) for y in (other.tree, other.patches)):
                raise F5QuiltError(f"{_at(path, name)}: upstreams: {name}: shares its tree or patches folder "
                                   f"with {other.name}")
        one.name = name
        one.state = root / STATE_NAME / "upstreams" / name
        every[name] = one
    for one in every.values():
        one.upstream_names = tuple(every)
    return every


def _read_yaml(path: Path) -> Dict[str, Any]:
    import yaml  # only when a settings file exists: keeps quilt-mode start-up light

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise F5QuiltError(f"{path}:{line}: not UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise F5QuiltError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise F5QuiltError(f"{path}:1: settings must be a mapping")
    _names_are_text(path, text, data)
    return data


def _names_are_text(path: Path, text: str, data: Dict[Any, Any]) -> None:
    """Refuse a setting whose name YAML reads as no text (``?`` alone is a null key, ``1:`` a
    number), at its line, in the file and in each entry of ``upstreams:``."""
    entries = data.get("upstreams")
    maps = [data, *(e for e in entries.values() if isinstance(e, dict))] if isinstance(entries, dict) else [data]
    bad = [k for m in maps for k in m if not isinstance(k, str)]
    if not bad:
        return
    import yaml  # lazy: start-up (_read_yaml has loaded it already)
    top = yaml.compose(text)  # the same mappings as nodes, in the same order: the first odd key's line
    nodes = [top, *(e for k, v in top.value if k.value == "upstreams" and isinstance(v, yaml.MappingNode)
                    for _, e in v.value if isinstance(e, yaml.MappingNode))]
    line = next((k.start_mark.line + 1 for n in nodes for k, _ in n.value
                 if k.tag not in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:merge")), 1)
    raise F5QuiltError(f"{path}:{line}: a setting's name must be text, not {bad[0]!r}")


def _one_upstream(path: Path, cwd: Path, data: Dict[str, Any]) -> Settings:
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise F5QuiltError(f"{_at(path, unknown[0])}: unknown setting(s): {', '.join(unknown)}")
    root = path.parent
    for key in ("tree", "patches", "series", "pc"):
        if key in data and not isinstance(data[key], str):
            raise F5QuiltError(f"{_at(path, key)}: {key} must be a path (a string)")
    raw_places = (str(data.get("tree", ".")), str(data.get("patches", "patches")), str(data.get("series", "series")))
    tree_s, patches_s, series_s = yaml_places(str(root), raw_places)
    tree = Path(tree_s)
    if tree.exists() and not tree.is_dir():
        raise F5QuiltError(f"{_at(path, 'tree')}: tree {data.get('tree')} is not a directory")
    if raw_places[2].startswith("/") or ".." in Path(raw_places[2]).parts:
        raise F5QuiltError(f"{_at(path, 'series')}: series must be a name inside the patches folder")
    log = data.get("log") or {}
    keep = log.get("keep", DEFAULT_LOG_KEEP) if isinstance(log, dict) else None
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise F5QuiltError(f"{_at(path, 'log')}: log must be a mapping like {{keep: {DEFAULT_LOG_KEEP}}} "
                           "(keep >= 1)")
    patches, series = Path(patches_s), Path(series_s)
    # every folder f5quilt writes resolves inside the project (no `../x`, no absolute path, no
    # symlink leading out): settings from a clone or a tarball cannot steer writes elsewhere
    pc_name = plain_pc_name(data.get("pc", ".pc"), str(path))
    name = leaving_project(str(root), str(tree), str(patches), pc_name)
    if name is not None:
        what = (f"{name} {data.get(name, pc_name)}" + (" (a symlink)" if name == "pc" else "")) if name \
            else ".f5quilt (a symlink)"
        raise F5QuiltError(f"{_at(path, name, data.get(name) if name else None)}: {what} leads outside {root}; "
                           "f5quilt writes only inside the project")
    fuzz = data.get("fuzz", 0)
    if not isinstance(fuzz, int) or isinstance(fuzz, bool) or fuzz < 0:
        raise F5QuiltError(f"{_at(path, 'fuzz')}: fuzz must be a non-negative integer")
    refresh = data.get("refresh") or {}
    rerere = data.get("rerere", True)
    if not isinstance(rerere, bool):
        raise F5QuiltError(f"{_at(path, 'rerere')}: rerere must be true or false")
    upstream = data.get("upstream") or {}
    if not isinstance(upstream, dict):
        raise F5QuiltError(f"{_at(path, 'upstream')}: upstream must be a mapping")
    ignore = data.get("ignore") or []
    if isinstance(ignore, str):
        ignore = [ignore]
    if not isinstance(ignore, list) or not all(isinstance(x, str) and x.strip() and "\n" not in x for x in ignore):
        raise F5QuiltError(f"{_at(path, 'ignore')}: ignore must be a list of gitignore patterns (strings)")
    return Settings(tree=tree, patches=patches, series=series,
                    pc_name=pc_name, fuzz=fuzz, settings_file=path,
                    log_keep=keep, ignore=list(DEFAULT_IGNORE) + ignore, rerere=rerere,
                    refresh_index=bool(refresh.get("index", False)) if isinstance(refresh, dict) else False,
                    upstream=upstream, base=cwd, dialect=Dialect.F5QUILT, raw_places=raw_places)
