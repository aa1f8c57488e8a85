"""``install``: the patched tree built into a wheel (PEP 517, through pip) and installed.

The build runs on a copy of the tree (pristine + the applied patches, without
``.pc/``), so setuptools' ``build/`` and ``*.egg-info`` never land in the
vendored tree as edits outside any patch. The wheel gets a marker,
``<name>.dist-info/f5quilt.json`` (listed in its RECORD, so pip installs and
uninstalls it with the rest): the pin and a hash of the applied patches.
Each install is also remembered in f5quilt's state (``installs.json``, one
entry per environment, written in a transaction) so that ``status`` and
``check`` can find the installed copies and say when one is not the series.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from f5quilt.errors import F5QuiltError
from f5quilt import proc
from f5quilt import __version__
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace

MARKER = "f5quilt.json"
INSTALLS = "installs.json"  # in the state dir


def stack_hash(ws: Workspace, names: List[str]) -> str:
    """What an installed copy was built from: the pin, and each patch (name, options, bytes)."""
    h = hashlib.sha256()
    up = ws.upstream()
    h.update(json.dumps(up.pin.identity() if up else None, sort_keys=True).encode())
    for name in names:
        entry = ws.entry(name)
        h.update(f"\0{name}\0{entry.strip}\0{entry.reverse}\0".encode())
        path = ws.patch_file(name)
        h.update(path.read_bytes() if path.is_file() else b"")
    return h.hexdigest()


@dataclass
class Installed:
    wheel: Path                      # the wheel built (in --wheel-dir, or a removed temp dir)
    dist: str                        # the distribution's name, as in its dist-info
    version: str
    marker: Dict[str, Any]
    where: Optional[str] = None      # the environment: an interpreter or a --target folder


def _run(argv: List[str], what: str) -> None:
    done = proc.run(argv, text=True, ok=None)
    if done.returncode != 0:  # pip's conclusion is its last line that says "error", not its last
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        last = next((ln.strip() for ln in reversed(lines) if "error" in ln.lower()), lines[-1].strip() if lines else "")
        raise F5QuiltError(f"{what} failed (exit {done.returncode}): {last}")


def _add_marker(wheel: Path, marker: Dict[str, Any]) -> str:
    """Put the marker into the wheel's dist-info and its RECORD; the dist-info's name."""
    with zipfile.ZipFile(wheel) as zf:
        infos = zf.infolist()
        contents = {i.filename: zf.read(i.filename) for i in infos}
    records = [n for n in contents if n.endswith(".dist-info/RECORD") and n.count("/") == 1]
    if len(records) != 1:
        raise F5QuiltError(f"{wheel.name}: not a wheel (no single .dist-info/RECORD)")
    distinfo = records[0].split("/")[0]
    data = (json.dumps(marker, indent=1, sort_keys=True) + "\n").encode()
    name = f"{distinfo}/{MARKER}"
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record = contents[records[0]].decode()
    record = "".join(ln + "\n" for ln in record.splitlines() if not ln.startswith(name + ","))
    record += f"{name},sha256={digest},{len(data)}\n"
    tmp = wheel.with_name(wheel.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in infos:
            if info.filename in (records[0], name):
                continue
            out.writestr(info, contents[info.filename])
        out.writestr(name, data)
        out.writestr(records[0], record)
    os.replace(tmp, wheel)
    return distinfo


def install(ws: Workspace, emit: Emit, *, python: str, target: Optional[Path] = None,
            wheel_dir: Optional[Path] = None, build_isolation: bool = True,
            name: Optional[str] = None) -> Installed:
    """Build the patched tree into a wheel with ``python -m pip wheel``; install it into
    ``python``'s environment (or ``target``), or only keep it in ``wheel_dir``."""
    from f5quilt.ops.stack.drift import unrecorded_work  # lazy: start-up

    if not ws.tree.is_dir():
        raise F5QuiltError(f"tree {os.path.relpath(ws.tree, ws.settings.base)} does not exist; "
                           "`f5quilt push -a` fetches it")
    if name is not None and name not in _names(ws):
        raise F5QuiltError(f"no upstream {name} here (this repository vendors {_names(ws)[0]})")
    stale = ws.tree_mismatch()
    if stale:
        raise F5QuiltError(stale)
    edits = unrecorded_work(ws)
    if edits:
        raise F5QuiltError(f"{edits[0].shown(ws.settings)}; refresh, capture or revert it first "
                           "(the installed copy would be neither the pin nor the series)")
    for patch in ws.stack.applied():
        if ws.stack.conflicts(patch):
            raise F5QuiltError(f"{ws.display(patch)} has unresolved conflicts; resolve and refresh it first")
    applied = ws.stack.applied()
    up = ws.upstream()
    marker: Dict[str, Any] = {
        "f5quilt": __version__, "pin": up.pin.describe() if up else None,
        "tree": os.path.relpath(ws.tree, ws.settings.base), "patches": applied,
        "series_hash": stack_hash(ws, applied),
        "whole_series": applied == ws.series.names,
    }
    with tempfile.TemporaryDirectory(prefix="f5quilt-install-") as tmp:
        src = Path(tmp) / "src"
        pc = ws.settings.pc_name
        shutil.copytree(ws.tree, src, symlinks=True,
                        ignore=shutil.ignore_patterns(pc, "__pycache__", "*.pyc", "build", "*.egg-info"))
        built = Path(tmp) / "wheels"
        emit(ev.BuildingWheel(str(marker["tree"]), len(applied), python))
        argv = [python, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                "--wheel-dir", str(built), str(src)]
        if not build_isolation:
            argv.insert(4, "--no-build-isolation")
        _run(argv, "pip wheel")
        wheels = sorted(built.glob("*.whl"))
        if len(wheels) != 1:
            raise F5QuiltError(f"pip wheel built {len(wheels)} wheels, expected one")
        distinfo = _add_marker(wheels[0], marker)
        dist, version = distinfo[:-len(".dist-info")].rsplit("-", 1)
        result = Installed(wheels[0], dist, version, marker)
        if wheel_dir is not None:
            wheel_dir.mkdir(parents=True, exist_ok=True)
            result.wheel = wheel_dir / wheels[0].name
            shutil.copyfile(wheels[0], result.wheel)
            emit(ev.WheelWritten(str(result.wheel)))
            return result
        argv = [python, "-m", "pip", "install", "--no-deps", "--force-reinstall", "--no-index",
                "--disable-pip-version-check", str(wheels[0])]
        if target is not None:
            argv[4:4] = ["--target", str(target), "--upgrade"]
        _run(argv, "pip install")
    result.where = str(target.resolve()) if target is not None else python
    with ws.transaction(f"install {dist}"):
        records = [r for r in read_installs(ws) if (r.get("target"), r.get("python")) !=
                   ((str(target.resolve()), None) if target is not None else (None, python))]
        records.append({"dist": dist, "version": version, "series_hash": marker["series_hash"],
                        "target": str(target.resolve()) if target is not None else None,
                        "python": None if target is not None else python})
        ws.fs.write_text(ws.state_dir / INSTALLS, json.dumps(records, indent=1, sort_keys=True) + "\n")
    emit(ev.DistInstalled(dist, version, str(target) if target is not None else None, python,
                          str(marker["pin"]), len(applied)))
    return result


def _names(ws: Workspace) -> List[str]:
    """What ``install NAME`` may call this repository's upstream: the tree's folder, the project."""
    names = [ws.tree.name]
    spec = str(ws.settings.upstream.get("pypi", ""))
    if spec:
        names.append(spec.split("==")[0].strip())
    return names


def read_installs(ws: Workspace) -> List[Dict[str, Any]]:
    path = ws.state_dir / INSTALLS
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise F5QuiltError(f"{path}: unreadable ({exc}); remove it and install again") from None
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


def _installed_marker(record: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The marker of the copy a record names, as installed now (None: not there any more)."""
    dist = str(record.get("dist", ""))
    if record.get("target"):
        canon = dist.lower().replace("-", "_")
        for info in Path(record["target"]).glob("*.dist-info"):
            if info.name.lower().replace("-", "_").startswith(canon + "-") and (info / MARKER).is_file():
                try:
                    return dict(json.loads((info / MARKER).read_text()))
                except (OSError, ValueError):
                    return None
        return None
    python = str(record.get("python") or "")
    code = ("import importlib.metadata as m, sys\n"
            "try:\n  t = m.distribution(sys.argv[1]).read_text(sys.argv[2])\n"
            "except m.PackageNotFoundError:\n  t = None\n"
            "print(t or '')")
    try:
        done = proc.run([python, "-c", code, dist, MARKER], text=True, timeout=60, ok=None)
    except F5QuiltError:  # the interpreter is gone, or did not answer
        return None
    try:
        return dict(json.loads(done.stdout)) if done.returncode == 0 and done.stdout.strip() else None
    except ValueError:
        return None


def installed_mismatches(ws: Workspace) -> List[Dict[str, str]]:
    """Each remembered installed copy that is not the series as it stands (or is gone)."""
    found: List[Dict[str, str]] = []
    records = read_installs(ws)
    if not records:
        return found
    want = stack_hash(ws, ws.series.names)
    for record in records:
        where = record.get("target") or record.get("python") or "?"
        marker = _installed_marker(record)
        if marker is None:
            why = (f"{record.get('dist')} installed by f5quilt in {where} is gone or was replaced "
                   "(not the patched release any more); `f5quilt install` puts it back")
        elif marker.get("series_hash") != want:
            why = (f"{record.get('dist')} installed in {where} is not the series "
                   f"(built from {marker.get('pin')} with {len(marker.get('patches') or [])} patches "
                   "as they were then); `f5quilt install` again")
        else:
            continue
        found.append({"kind": "installed", "where": str(where), "why": why})
    return found
