"""check: does the whole series apply to the pinned upstream? (also the pre-commit hook)"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import click

from f5quilt.ops.check import CLEAN, CONFLICT, CONTAINED, ERROR, FAILS, MERGE, NOT_LANDING, check_series, unlisted_patch_files

from f5quilt.errors import EXIT_ERROR, F5QuiltError
from f5quilt.output import Reporter
from f5quilt.repo.workspace import Workspace
from . import cli
from .common import Context
from .options import fuzz_option, json_option, verbosity


def unpatched_reader(ws: Workspace) -> Any:
    """Without a pin: the tree as it is with every applied patch popped."""
    first_backup: Dict[str, str] = {}
    for name in ws.stack.applied():
        for rel in ws.stack.backup_files(name):
            first_backup.setdefault(rel, name)

    def read(rel: str) -> Optional[bytes]:
        owner = first_backup.get(rel)
        if owner is None:
            return ws.read_tree(rel)
        return ws.stack.backup(owner, rel)
    return read


def series_files_among(ws: Workspace, files: Tuple[str, ...]) -> bool:
    """Whether any of ``files`` (relative to the current directory) is the settings file, the
    series file or inside the patches folder, wherever the settings put them."""
    watched = [ws.settings.patches.resolve(), ws.settings.series.resolve()]
    if ws.settings.settings_file is not None:
        watched.append(ws.settings.settings_file.resolve())
    for name in files:
        path = Path(os.path.abspath(name))
        if any(path == w or w in path.parents for w in watched):
            return True
    return False


@cli.command()
@click.option("--strict", is_flag=True, help="Fail on any offset or fuzz, not only on failing hunks.")
@json_option("Print a machine-readable report on stdout.")
@click.option("--tree", "tree_check", is_flag=True,
              help="Also check the tree equals pristine + applied patches (edits outside any patch).")
@fuzz_option()
@click.option("--onto", metavar="NEW_PIN",
              help="Forecast a rebase: check against NEW_PIN instead, 3-way merging in memory what does not "
                   "fit (states merge, conflict, contained).")
@click.option("--if-changed", is_flag=True,
              help="Check only when one of FILES (the pre-commit hook passes the staged ones) is the "
                   "settings, the series or in the patches folder the settings name; else exit 0.")
@click.argument("files", nargs=-1, type=click.Path())
@verbosity
def check(strict: bool, as_json: bool, tree_check: bool, fuzz: Optional[int], onto: Optional[str],
          if_changed: bool, files: Tuple[str, ...], reporter: Reporter) -> int:
    """Prove the series applies to the pinned upstream, touching no tree.

    Applies every patch in memory, in order, onto the pristine release the
    settings pin (without a pin: the tree with its applied patches popped).
    Reports per patch: clean, offset, fuzz, fails (file, hunk, why) or error
    (missing or unparseable patch, path leaving the tree). Warns about patch
    files the series does not list. With --onto NEW_PIN it forecasts a
    rebase: what does not fit is 3-way merged in memory (merge, conflict),
    and a patch NEW_PIN already has is reported (contained). Exit 0 when
    everything applies (with --strict: exactly), 1 otherwise.
    """
    if files and not if_changed:
        raise click.UsageError("FILES are for --if-changed (the pre-commit hook)")
    watch = files if if_changed else None
    names = Context.upstreams()
    if len(names) == 1:
        rc, report = _check_one(strict, as_json, tree_check, fuzz, onto, watch, reporter)
        if report is not None:
            click.echo(json.dumps(report, indent=2))
        return rc
    if onto:
        raise F5QuiltError(f"check --onto: several upstreams ({', '.join(map(str, names))}); pick one with -u NAME")
    reports: Dict[str, Any] = {}
    worst = 0
    for name in names:  # every upstream of the settings, each against its own pin
        Context.upstream = name
        if not as_json and watch is None:
            reporter.info(f"upstream {name}:")
        rc, report = _check_one(strict, as_json, tree_check, fuzz, onto, watch, reporter)
        if report is not None:
            reports[str(name)] = report
        worst = max(worst, rc)
    Context.upstream = None
    if as_json:
        click.echo(json.dumps({"ok": worst == 0, "upstreams": reports}, indent=2))
    return worst


def _check_one(strict: bool, as_json: bool, tree_check: bool, fuzz: Optional[int], onto: Optional[str],
               watch: Optional[Tuple[str, ...]], reporter: Reporter) -> "Tuple[int, Optional[Dict[str, Any]]]":
    """One upstream's check: its exit code, and with --json its report (printed by the caller).
    With ``watch`` (the hook's staged files), an upstream none of whose files changed is skipped."""
    ws = Context.workspace(repair=False)  # check writes nothing, not even a repair
    if watch is not None and not series_files_among(ws, watch):
        return 0, None
    if not ws.settings.series.exists():
        raise F5QuiltError(f"No series file found ({ws.settings.series})")
    up = ws.upstream()
    log = reporter.verbose
    base = up.reader(log) if up is not None else unpatched_reader(ws)
    merge_base = None
    if onto:
        from f5quilt.repo.upstream import Upstream, pin_from_arg
        if up is None:
            raise F5QuiltError("check --onto needs the current upstream pin in the settings")
        merge_base = base
        up = Upstream(pin_from_arg(onto, ws.settings.base), up.cache)
        base = up.reader(reporter.info)
    from f5quilt.ops.guards import guarded_out, why_text
    skipped = guarded_out(ws, ws.series.names)  # patches the selected guards rule out
    results = check_series([n for n in ws.series.names if n not in skipped], ws.load, ws.entry, base,
                           fuzz=ws.settings.fuzz_for(fuzz), display=ws.display,
                           merge_base=merge_base)
    unlisted = unlisted_patch_files(ws.settings.patches, ws.series)
    drift: List[Dict[str, str]] = []
    stale = ws.tree_mismatch() if tree_check else None
    if stale:  # against another release every file upstream changed would read as an edit
        drift = [{"file": ws.settings.show_path(ws.tree), "why": f"stale tree: {stale}"}]
    elif tree_check:
        from f5quilt.ops.drift import tree_drift
        drift = tree_drift(ws, base, up)
    from f5quilt.ops.install import installed_mismatches
    installed = [] if onto else installed_mismatches(ws)  # said, never failing the check
    ok = not any(r.status in NOT_LANDING for r in results) and not drift
    if strict and any(r.status != CLEAN for r in results):
        ok = False
    if as_json:
        return (0 if ok else EXIT_ERROR), {
            "upstream": up.pin.describe() if up else None,
            "ok": ok, "strict": strict,
            "patches": [r.to_json() for r in results],
            "unlisted": unlisted,
            "drift": drift,
            "skipped": [{"patch": n, "guard": why} for n, why in skipped.items()],
            "installed": installed,
        }
    for rel in unlisted:
        reporter.warn(f"warning: {ws.display(rel)} is not in the series")
    for name, why in skipped.items():
        reporter.info(f"Skipping patch {ws.display(name)} ({why_text(why)})")
    for r in results:
        shown = ws.display(r.name)
        if r.status == ERROR:
            reporter.error(r.error)
        elif r.status == CONTAINED:
            reporter.error(f"{shown}: contained upstream: {up.pin.describe() if up else 'upstream'} already "
                           "has its changes (it reverse-applies exactly); drop it (f5quilt delete), "
                           "or a rebase drops it")
        elif r.status in (FAILS, CONFLICT):
            if r.because:
                reporter.error(f"{shown}: fails because {ws.display(r.because)} failed (same files)")
            for h in r.hunks:
                if h["status"] != "applied":
                    reporter.error(f"{shown}: {ws.settings.show_file(h['file'])}: {h['message']}"
                                   + (f" ({h['why']})" if h.get("why") else ""))
                    for anchor in h.get("anchors", []):
                        reporter.verbose(f"  anchored between {anchor}")
        elif r.status == MERGE:
            for h in r.hunks:
                if "merge" in h or h["offset"] or h["fuzz"]:
                    (reporter.error if strict else reporter.info)(f"{shown}: {ws.settings.show_file(h['file'])}: {h['message']}")
                    for anchor in h.get("anchors", []):
                        reporter.verbose(f"  anchored between {anchor}")
        elif r.status != CLEAN:
            for h in r.hunks:
                if h["offset"] or h["fuzz"]:
                    (reporter.error if strict else reporter.info)(f"{shown}: {ws.settings.show_file(h['file'])}: {h['message']}")
        else:
            reporter.verbose(f"{shown}: clean")
        for h in r.hunks:  # -v: where each hunk landed, as --json says
            if h["status"] == "applied":
                reporter.verbose(f"  {h['file']}: hunk #{h['hunk']} {h['landing']} at line {h['line']}"
                                 + (f", offset {h['offset']}" if h["offset"] else "")
                                 + (f", fuzz {h['fuzz']}" if h["fuzz"] else ""))
    for d in drift:
        shown = d["file"] if stale else ws.settings.show_path(ws.tree / d["file"])
        reporter.error(f"{shown}: {d['why']}")
    for item in installed:
        reporter.warn(f"note: {item['why']}")
    against = up.pin.describe() if up else "the unpatched tree"
    n = len(results)
    if ok:
        reporter.info(f"{n} patch{'es apply' if n != 1 else ' applies'} to {against}")
    else:
        bad = sum(1 for r in results if r.status in NOT_LANDING or (strict and r.status != CLEAN))
        if bad:
            reporter.error(f"{bad} of {n} patches do not apply{' exactly' if strict else ''} to {against}")
        if drift and not stale:
            reporter.error(f"{len(drift)} file(s) in the tree differ from {against} + applied patches")
    return (0 if ok else EXIT_ERROR), None
