"""rebase and status."""
from __future__ import annotations

import json
from typing import Any, Dict, Optional, Tuple

import click

from f5quilt.ops.series import rebase as rebase_core
from f5quilt.output import VERBOSE, Reporter
from . import cli
from .render import exit_code, render
from .common import Context
from .options import json_option, verbosity


@cli.command()
@click.option("--onto", "onto", metavar="NEW_PIN",
              help="The new release: name==X (PyPI sdist), URL@ref (git), a local directory or archive, "
                   "or a bare version (24.2: the pinned project's, on the same source).")
@click.option("--continue", "cont", is_flag=True, help="Go on after resolving conflicts (refreshes the patch).")
@click.option("--skip", is_flag=True,
              help="Drop the patch the rebase stopped at from the series (its file moves to .f5quilt/dropped/).")
@click.option("--abort", is_flag=True, help="Restore the old pin, old tree and old patches, byte for byte.")
@click.option("--force", is_flag=True,
              help="Start even though the tree holds unrecorded edits or unknown files "
                   "(they are kept in a stash entry first: `f5quilt stash list`).")
@click.option("--keep-contained", is_flag=True,
              help="Stop at a patch the new release already contains instead of dropping it.")
@verbosity
def rebase(onto: Optional[str], cont: bool, skip: bool, abort: bool, force: bool, keep_contained: bool,
           reporter: Reporter) -> int:
    """Move the series onto a new upstream release.

    Switches the tree to NEW_PIN, pushes every patch with 3-way merge
    (base: the old pin plus the earlier patches), refreshes each patch that
    needed an offset, fuzz or merge, and updates the pin at the end. A
    conflict stops it (exit 3); a patch upstream already contains is dropped
    with a note (--keep-contained: stop there and offer --skip). Dropped and
    skipped patch files move out of the patches folder to .f5quilt/dropped/.

    It refuses to start while the tree holds edits that no patch records
    (unrefreshed edits, edits outside any patch, unknown files), and before
    it drops the old tree it proves the rewritten series applies exactly to
    NEW_PIN. Each step is one transaction: a killed step is rolled back by
    the next command, and `f5quilt undo` undoes a finished rebase.
    """
    if sum(bool(x) for x in (onto, cont, skip, abort)) != 1:
        raise click.UsageError("give exactly one of --onto NEW_PIN, --continue, --skip, --abort")
    ws = Context.workspace(stale_tree="ignore" if onto else "warn")  # --onto refuses a stale tree itself
    emit = render(reporter, ws)
    if onto:
        stop = rebase_core.start(ws, emit, rebase_core.parse_new_pin(ws, onto), force=force,
                                 keep_contained=keep_contained)
    elif cont:
        stop = rebase_core.cont(ws, emit)
    elif skip:
        stop = rebase_core.skip(ws, emit)
    else:
        stop = rebase_core.abort(ws, emit)
    return exit_code(stop)


@cli.command()
@json_option("Print the status as JSON (schema in docs/commands.md).")
@click.option("--exit-code", is_flag=True, help="Exit 1 when anything needs attention.")
@verbosity
def status(as_json: bool, exit_code: bool, reporter: Reporter) -> int:
    """Where the series stands: the pin, the tree, the top patch, then what needs attention.

    Compact by default: the pin and what built the tree, the top patch and
    the counts, then only what needs attention (a stale tree, a rebase in
    progress, conflicts, patches needing a refresh, files added or changed
    and not refreshed, files changed outside any patch; __pycache__/, *.pyc
    and the settings' ignore: patterns left out). -v lists every patch.
    """
    names = Context.upstreams()
    if len(names) == 1:
        rc, report = _status_one(as_json, exit_code, reporter)
        if report is not None:
            click.echo(json.dumps(report, indent=2))
        return rc
    reports: Dict[str, Any] = {}
    worst = 0
    for name in names:  # every upstream of the settings, one block each
        Context.upstream = name
        if not as_json:
            reporter.result(f"== {name} ==")
        rc, reports[str(name)] = _status_one(as_json, exit_code, reporter)
        worst = max(worst, rc)
    Context.upstream = None
    if as_json:
        click.echo(json.dumps({"upstreams": reports}, indent=2))
    return worst


def _status_one(as_json: bool, exit_code: bool, reporter: Reporter) -> "Tuple[int, Optional[Dict[str, Any]]]":
    from f5quilt.ops.series.status import Kind, status_report
    ws = Context.workspace(stale_tree="ignore")  # status says it itself
    report = status_report(ws)
    rc = 1 if exit_code and report.attention else 0
    if as_json:
        return rc, report.to_json()
    tree_line = f"tree: {report.tree}"
    if not report.tree_exists:
        tree_line += " (missing: push fetches it)"
    elif report.tree_built_from and report.tree_built_from != report.upstream:
        tree_line += f" (built from {report.tree_built_from})"
    reporter.result(f"upstream: {report.upstream or '(none pinned)'}")
    reporter.result(tree_line)
    reporter.result(f"top: {ws.display(report.top) if report.top else '(no patch applied)'}  "
                    f"({report.applied} of {report.series} applied)")
    if reporter.level >= VERBOSE:
        for p in report.patches:
            flags = []
            if p.conflicts:
                flags.append("CONFLICTS in " + ", ".join(ws.settings.show_file(c) for c in p.conflicts))
            if p.needs_refresh:
                flags.append("needs refresh")
            mark = "+" if p.applied else " "
            reporter.result(f"  {mark} {ws.display(p.patch)}" + (f"  [{'; '.join(flags)}]" if flags else ""))
    if report.attention:
        reporter.result(f"needs attention ({len(report.attention)}):")
        for a in report.attention:
            where = (ws.settings.show_file(a.file) if a.file else "") or \
                (ws.display(a.patch) if a.patch and a.kind is not Kind.REBASE else "")
            reporter.result(f"  {a.kind}: " + (f"{where}: " if where else "") + a.why)
    return rc, None
