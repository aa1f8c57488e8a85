"""The upgrade autopilot (``f5quilt upgrade`` with an f5quilt.yaml): find the newest release,
forecast, rebase without stopping at the first conflict, and say what happened to each patch
in markdown (a pull request's body).

Which release: a PyPI pin's versions come from PyPI's JSON index (``/pypi/NAME/json``: releases
with an sdist, not yanked); a git pin's from its tags (``git ls-remote --tags``, ``v`` prefix
allowed). ``--onto SPEC`` is a PEP 440 specifier (``<25``, ``>=24,<25``), a bare version, or
a full pin as ``rebase --onto`` takes it. Pre-releases only when the specifier names one.
Versions are compared by ``packaging`` (a dependency of f5quilt).
"""
from __future__ import annotations

import difflib
import json
import os
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt import proc
from f5quilt import events as ev
from f5quilt.events import Emit, Stop
from f5quilt.repo.upstream import Pin, Upstream, default_cache, pin_from_arg
from f5quilt.repo.workspace import Workspace

PYPI_JSON = "https://pypi.org/pypi/{name}/json"  # $F5QUILT_PYPI_JSON overrides (a mirror, a file:// test)
SPECIFIER = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)")
VERSION = re.compile(r"^v?\d+(\.\d+)*([._-]?(a|b|rc|post|dev)\d*)*$", re.I)


# -- versions -------------------------------------------------------------------------
def _key(version: str) -> Any:
    """A release's version for ordering, or None when it is not a PEP 440 version."""
    from packaging.version import InvalidVersion, Version
    try:
        return Version(version)
    except InvalidVersion:
        return None


def _matches(version: str, spec: Optional[str]) -> bool:
    if not spec:
        v = _key(version)
        return v is not None and not v.is_prerelease
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    try:
        return SpecifierSet(spec).contains(version)
    except InvalidSpecifier:
        raise F5QuiltError(f"upgrade --onto {spec!r}: not a version specifier (PEP 440)") from None


def pypi_versions(project: str) -> List[str]:
    """Releases of ``project`` on PyPI that have an sdist and are not yanked."""
    url = os.environ.get("F5QUILT_PYPI_JSON", PYPI_JSON).format(name=project)
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - a fixed https index
            data = json.load(resp)
    except (OSError, ValueError) as exc:
        raise F5QuiltError(f"{url}: cannot read PyPI's index ({exc})") from None
    return [v for v, files in (data.get("releases") or {}).items()
            if any(f.get("packagetype") == "sdist" and not f.get("yanked") for f in files)]


def git_tag_versions(url: str) -> Dict[str, str]:
    """A git pin's release tags: version -> tag."""
    r = proc.run(["git", "ls-remote", "--tags", "--refs", url], text=True, what=f"git ls-remote {url}")
    found: Dict[str, str] = {}
    for line in r.stdout.splitlines():
        tag = line.rpartition("refs/tags/")[2]
        if VERSION.match(tag):
            found[tag[1:] if tag[:1] in "vV" else tag] = tag
    return found


def current_version(pin: Pin) -> Optional[str]:
    if pin.kind == "pypi":
        return pin.spec.partition("==")[2] or None
    if pin.kind == "git" and pin.ref and VERSION.match(pin.ref):
        return pin.ref[1:] if pin.ref[:1] in "vV" else pin.ref
    return None


def project_of(pin: Pin) -> str:
    return pin.spec.partition("==")[0]


def pin_at_version(pin: Pin, version: str, tags: Optional[Dict[str, str]] = None) -> Pin:
    """The same source at another version: ``NAME==VERSION``, or the git tag naming it."""
    if pin.kind == "pypi":
        return Pin("pypi", f"{project_of(pin)}=={version}")
    if pin.kind == "git":
        tags = tags if tags is not None else git_tag_versions(pin.spec)
        bare = version[1:] if version[:1] in "vV" else version
        if bare not in tags:
            raise F5QuiltError(f"{pin.spec}: no tag for version {version}")
        return Pin("git", pin.spec, tags[bare])
    raise F5QuiltError(f"a bare version ({version}) needs a PyPI or git pin; this one is {pin.describe()}")


def resolve_target(pin: Pin, onto: Optional[str], base: Path) -> Pin:
    """What to upgrade to: the newest release (within ``onto``'s specifier), a bare version,
    or ``onto`` as a full pin."""
    if onto and not SPECIFIER.match(onto) and not VERSION.match(onto.strip()):
        return pin_from_arg(onto, base)
    if onto and VERSION.match(onto.strip()):
        return pin_at_version(pin, onto.strip())
    tags: Dict[str, str] = {}
    if pin.kind == "pypi":
        versions = pypi_versions(project_of(pin))
    elif pin.kind == "git":
        tags = git_tag_versions(pin.spec)
        versions = list(tags)
    else:
        raise F5QuiltError(f"upgrade: {pin.describe()} has no releases to look up; "
                           "give the new one with --onto DIR|ARCHIVE")
    now = current_version(pin)
    candidates = [v for v in versions if _key(v) is not None and _matches(v, onto)]
    if not candidates:
        raise F5QuiltError(f"upgrade: no release of {pin.describe()} matches {onto or 'a final version'}")
    best = max(candidates, key=_key)
    if now is not None and _key(now) is not None and _key(best) <= _key(now):
        raise NothingToDo(f"{pin.describe()} is the newest release" + (f" matching {onto}" if onto else ""))
    return pin_at_version(pin, best, tags or None)


# -- the run --------------------------------------------------------------------------
@dataclass
class PatchOutcome:
    name: str
    forecast: str                   # check --onto's status before the rebase
    outcome: str                    # clean / merged / conflict / dropped / stopped / pending
    interdiff: str = ""             # the patch file, old -> new (what range-diff shows for it)


@dataclass
class UpgradeReport:
    upstream: Optional[str]
    old: str
    new: str
    stop: Optional[Stop]  # None: upgraded; else why the rebase waits
    patches: List[PatchOutcome] = field(default_factory=list)


def _patch_texts(ws: Workspace) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name in ws.series.names:
        try:
            out[name] = ws.patch_file(name).read_text(errors="surrogateescape")
        except OSError:
            out[name] = ""
    return out


def _interdiff(name: str, old: str, new: str) -> str:
    if old == new:
        return ""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}", n=2))


def upgrade(ws: Workspace, emit: Emit, onto: Optional[str]) -> UpgradeReport:
    """Forecast, then rebase onto the chosen release without stopping at a conflict."""
    from f5quilt.ops import rebase
    from f5quilt.ops.check import check_series
    old_up = ws.upstream()
    if old_up is None or ws.settings.settings_file is None:
        raise F5QuiltError("upgrade needs an upstream pin in f5quilt.yaml")
    if rebase.in_progress(ws):
        raise F5QuiltError("a rebase is in progress: `f5quilt upgrade --continue` (or rebase --continue/--abort)")
    new_pin = resolve_target(old_up.pin, onto, ws.settings.base)
    new_up = Upstream(new_pin, default_cache(ws.settings.settings_file.parent))
    emit(ev.info(f"Upgrading {old_up.pin.describe()} to {new_pin.describe()}"))
    forecast = {r.name: str(r.status) for r in check_series(
        ws.series.names, ws.load, ws.entry, new_up.reader(ev.info_lines(emit)), fuzz=ws.settings.fuzz,
        display=ws.display, merge_base=old_up.reader(ev.info_lines(emit)))}
    before = _patch_texts(ws)
    outcomes: Dict[str, str] = {}  # filled by the rebase as it goes
    rc = rebase.start(ws, emit, new_pin, keep_going=True, outcomes=outcomes, forecast=forecast)
    return _report(ws, old_up.pin.describe(), new_pin.describe(), rc, forecast, before, outcomes)


def _report(ws: Workspace, old: str, new: str, rc: Optional[Stop], forecast: Dict[str, str],
            before: Dict[str, str], outcomes: Dict[str, str]) -> UpgradeReport:
    from f5quilt.ops import rebase
    ws.reload()
    state = rebase.load_state(ws) or {}
    after = _patch_texts(ws)
    report = UpgradeReport(ws.settings.name, old, new, rc)
    for name, text in before.items():
        outcome = outcomes.get(name) or ("stopped" if state.get("stopped") == name else "pending")
        report.patches.append(PatchOutcome(name, forecast.get(name, "-"), outcome,
                                           _interdiff(name, text, after.get(name, text))))
    return report


MARK = {"clean": "clean", "merged": "merged (3-way)", "conflict": "**conflict**",
        "dropped": "dropped (upstream has it)", "resolved": "resolved by hand",
        "stopped": "**stopped** (see the log)", "pending": "not reached"}


def summary_markdown(reports: List[UpgradeReport]) -> str:
    """A pull request's body: per upstream, per patch, what happened, and the patch diffs."""
    lines: List[str] = []
    for r in reports:
        title = f"{r.upstream}: " if r.upstream else ""
        lines += [f"## {title}{r.old} → {r.new}", ""]
        counts: Dict[str, int] = {}
        for p in r.patches:
            counts[p.outcome] = counts.get(p.outcome, 0) + 1
        lines += [", ".join(f"{n} {k}" for k, n in counts.items()) or "no patches", ""]
        lines += ["| patch | forecast | result |", "|---|---|---|"]
        lines += [f"| `{p.name}` | {p.forecast} | {MARK.get(p.outcome, p.outcome)} |" for p in r.patches]
        conflicted = [p.name for p in r.patches if p.outcome == "conflict"]
        if conflicted:
            lines += ["", "Conflicts to resolve, patch by patch (the markers are in the tree): "
                      + ", ".join(f"`{n}`" for n in conflicted)
                      + "; then `f5quilt upgrade --continue`."]
        diffs = [p for p in r.patches if p.interdiff]
        if diffs:
            lines += ["", "<details><summary>range-diff (each patch file, old → new)</summary>", ""]
            for p in diffs:
                lines += [f"### `{p.name}`", "", "```diff", p.interdiff.rstrip("\n"), "```", ""]
            lines += ["</details>"]
        lines.append("")
    return "\n".join(lines)


def resume(ws: Workspace, emit: Emit) -> UpgradeReport:
    """``upgrade --continue``: the rebase goes on after the conflicts were resolved; what each
    patch met is read from the rebase's state (the conflicted ones are then ``resolved``)."""
    from f5quilt.ops import rebase
    state = rebase.load_state(ws)
    if not state:
        raise NothingToDo("No upgrade in progress")
    outcomes = {n: ("resolved" if o == "conflict" else o) for n, o in (state.get("outcomes") or {}).items()}
    sdir = rebase.state_dir(ws)
    before = {}
    for name in state["series"]:
        try:
            before[name] = (sdir / "patches" / name).read_text(errors="surrogateescape")
        except OSError:
            before[name] = ""
    rc = rebase.cont(ws, emit)
    old = rebase.pin_of(state["old_pin"]).describe()
    new = rebase.pin_of(state["new_pin"]).describe()
    forecast = {str(k): str(v) for k, v in (state.get("forecast") or {}).items()}
    return _report(ws, old, new, rc, forecast, before, outcomes)
