"""check: does the whole series apply to the pinned upstream? (also the pre-commit hook)"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import click

from f5quilt.ops.series.check import CLEAN, CONFLICT, CONTAINED, ERROR, FAILS, MERGE, CheckReport, run_check

from f5quilt.errors import EXIT_ERROR, F5QuiltError
from f5quilt.output import VERBOSE, Reporter
from f5quilt.events import ignore
from .render import render
from f5quilt.repo.workspace import Workspace
from . import cli
from .common import Context
from .options import fuzz_option, json_option, verbosity


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
    said = render(reporter, ws)  # the downloads: the pinned one with -v only, --onto's always
    report = run_check(ws, strict=strict, tree_check=tree_check, fuzz=fuzz, onto=onto,
                       log=said if reporter.level >= VERBOSE else ignore, info=said)
    rc = 0 if report.ok else EXIT_ERROR
    if as_json:
        return rc, report.to_json()
    _render(ws, report, reporter)
    return rc, None


def _render(ws: Workspace, report: CheckReport, reporter: Reporter) -> None:
    """The report as text: problems on stderr, the summary line, -v where each hunk landed."""
    from f5quilt.ops.stack.guards import why_text
    strict, show = report.strict, ws.settings.show_file
    for rel in report.unlisted:
        reporter.warn(f"warning: {ws.display(rel)} is not in the series")
    for name, why in report.skipped.items():
        reporter.info(f"Skipping patch {ws.display(name)} ({why_text(why)})")
    for r in report.patches:
        shown = ws.display(r.name)
        if r.status == ERROR:
            reporter.error(r.error)
        elif r.status == CONTAINED:
            reporter.error(f"{shown}: contained upstream: {report.upstream or 'upstream'} already "
                           "has its changes (it reverse-applies exactly); drop it (f5quilt delete), "
                           "or a rebase drops it")
        elif r.status in (FAILS, CONFLICT):
            if r.because:
                reporter.error(f"{shown}: fails because {ws.display(r.because)} failed (same files)")
            for h in r.hunks:
                if not h.applied:
                    reporter.error(f"{shown}: {show(h.file)}: {h.message}" + (f" ({h.why})" if h.why else ""))
                    for anchor in h.anchors:
                        reporter.verbose(f"  anchored between {anchor}")
        elif r.status == MERGE:
            for h in r.hunks:
                if h.merge is not None or h.offset or h.fuzz:
                    (reporter.error if strict else reporter.info)(f"{shown}: {show(h.file)}: {h.message}")
                    for anchor in h.anchors:
                        reporter.verbose(f"  anchored between {anchor}")
        elif r.status != CLEAN:
            for h in r.hunks:
                if h.offset or h.fuzz:
                    (reporter.error if strict else reporter.info)(f"{shown}: {show(h.file)}: {h.message}")
        else:
            reporter.verbose(f"{shown}: clean")
        for h in r.hunks:  # -v: where each hunk landed, as --json says
            if h.applied:
                reporter.verbose(f"  {h.file}: hunk #{h.hunk} {h.landing} at line {h.line}"
                                 + (f", offset {h.offset}" if h.offset else "")
                                 + (f", fuzz {h.fuzz}" if h.fuzz else ""))
    for d in report.drift:
        shown = d.file if report.stale else ws.settings.show_path(ws.tree / d.file)
        reporter.error(f"{shown}: {d.why}")
    for item in report.installed:
        reporter.warn(f"note: {item['why']}")
    against = report.upstream or "the unpatched tree"
    n = len(report.patches)
    if report.ok:
        reporter.info(f"{n} patch{'es apply' if n != 1 else ' applies'} to {against}")
        return
    if report.not_landing:
        reporter.error(f"{report.not_landing} of {n} patches do not apply{' exactly' if strict else ''} to {against}")
    if report.drift and not report.stale:
        reporter.error(f"{len(report.drift)} file(s) in the tree differ from {against} + applied patches")
