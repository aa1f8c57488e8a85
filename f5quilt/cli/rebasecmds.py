"""rebase and status."""
from __future__ import annotations

import os
from typing import Optional

import click

from f5quilt.ops import rebase as rebase_core
from f5quilt.output import Reporter
from f5quilt.ops.pushpop import unrefreshed_files
from . import cli
from .common import Context, verbosity


@cli.command()
@click.option("--onto", "onto", metavar="NEW_PIN",
              help="The new release: name==X (PyPI sdist), URL@ref (git), or a local directory or archive.")
@click.option("--continue", "cont", is_flag=True, help="Go on after resolving conflicts (refreshes the patch).")
@click.option("--skip", is_flag=True, help="Drop the patch the rebase stopped at from the series (file kept).")
@click.option("--abort", is_flag=True, help="Restore the old pin, old tree and old patches, byte for byte.")
@click.option("--force", is_flag=True,
              help="Start even though the tree holds unrecorded edits or unknown files "
                   "(the old tree is kept in the log: `f5quilt undo` brings it back).")
@verbosity
def rebase(onto: Optional[str], cont: bool, skip: bool, abort: bool, force: bool, reporter: Reporter) -> int:
    """Move the series onto a new upstream release.

    Switches the tree to NEW_PIN, pushes every patch with 3-way merge
    (base: the old pin plus the earlier patches), refreshes each patch that
    needed an offset, fuzz or merge, and updates the pin at the end. A
    conflict stops it (exit 3); a patch upstream already contains stops it
    with an offer to --skip it.

    It refuses to start while the tree holds edits that no patch records
    (unrefreshed edits, edits outside any patch, unknown files), and before
    it drops the old tree it proves the rewritten series applies exactly to
    NEW_PIN. Each step is one transaction: a killed step is rolled back by
    the next command, and `f5quilt undo` undoes a finished rebase.
    """
    if sum(bool(x) for x in (onto, cont, skip, abort)) != 1:
        raise click.UsageError("give exactly one of --onto NEW_PIN, --continue, --skip, --abort")
    ws = Context.workspace()
    if onto:
        return rebase_core.start(ws, reporter, rebase_core.parse_new_pin(ws, onto), force=force)
    if cont:
        return rebase_core.cont(ws, reporter)
    if skip:
        return rebase_core.skip(ws, reporter)
    return rebase_core.abort(ws, reporter)


@cli.command()
@verbosity
def status(reporter: Reporter) -> int:
    """Tell the pin, the applied patches, what needs attention, and edits outside patches."""
    ws = Context.workspace()
    up = ws.upstream()
    reporter.result(f"upstream: {up.pin.describe() if up else '(none pinned)'}")
    reporter.result(f"tree: {os.path.relpath(ws.tree, ws.settings.base)}"
                    + ("" if ws.tree.exists() else " (missing: push fetches it)"))
    state = rebase_core.in_progress(ws)
    if state:
        where = f", stopped at {ws.display(state['stopped'])}" if state.get("stopped") else ""
        reporter.result(f"rebase in progress onto {state['new_pin']['spec']}{where}")
    applied = ws.stack.applied() if ws.tree.exists() else []
    reporter.result(f"applied: {len(applied)} of {len(ws.series.names)}")
    for name in applied:
        flags = []
        if ws.stack.conflicts(name):
            flags.append("CONFLICTS in " + ", ".join(sorted(ws.stack.conflicts(name) or {})))
        if ws.stack.needs_refresh(name):
            flags.append("needs refresh")
        reporter.result(f"  {ws.display(name)}" + (f"  [{'; '.join(flags)}]" if flags else ""))
    if applied:
        touched = sorted({rel for n in applied for rel in ws.stack.backup_files(n)})
        for rel, owner in sorted(unrefreshed_files(ws, touched).items()):
            reporter.result(f"unrefreshed: {rel} (in {ws.display(owner)})")
    if ws.tree.exists() and up is not None and not state:  # mid-rebase the tree is on the new release
        from f5quilt.ops.drift import tree_drift
        for d in tree_drift(ws, up.reader(), up):
            if "not refreshed" not in d["why"]:
                reporter.result(f"outside any patch: {d['file']}: {d['why']}")
    return 0
