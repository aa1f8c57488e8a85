"""A pinned project's releases: which versions it has (PyPI's JSON index: releases with an
sdist, not yanked; a git remote's tags, ``v`` prefix allowed), which one an ``--onto SPEC``
picks (a PEP 440 specifier, a bare version, or a full pin), and the pin of one version.
Versions are compared by ``packaging`` (a dependency of f5quilt). Used by the upgrade
autopilot and by ``rebase --onto VERSION``.
"""
from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

from f5quilt import proc
from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt.repo.upstream import Pin, pin_from_arg

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
