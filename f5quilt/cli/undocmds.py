"""undo, redo and log."""
from __future__ import annotations

import json
import time

import click

from f5quilt.ops import undo as undo_core
from f5quilt.output import Reporter
from . import cli
from .common import Context, verbosity


@cli.command()
@click.argument("steps", type=click.IntRange(1), default=1, required=False)
@verbosity
def undo(steps: int, reporter: Reporter) -> int:
    """Undo the last STEPS commands that changed anything (default 1).

    Restores the series, .pc/, the patch files, the settings and the tree
    files exactly as they were before (a rebase counts as one command).
    Refuses, listing the files, when a file changed after that command
    without being recorded: nothing unrecorded is ever discarded. Undo of a
    refresh restores the old patch file and keeps the edits in the tree.
    """
    return undo_core.undo(Context.workspace(), reporter, steps)


@cli.command()
@click.argument("steps", type=click.IntRange(1), default=1, required=False)
@verbosity
def redo(steps: int, reporter: Reporter) -> int:
    """Redo the last STEPS undone commands (default 1)."""
    return undo_core.redo(Context.workspace(), reporter, steps)


@cli.command("log")
@click.option("--json", "as_json", is_flag=True, help="Print the log as a JSON list.")
@click.option("-n", "limit", type=click.IntRange(1), default=None, help="Only the last N entries.")
def log_(as_json: bool, limit: int) -> int:
    """List the recorded commands, newest last: id, time, command, what changed.

    The log keeps the last `log: {keep: N}` commands (settings; default 50)
    in f5quilt's own state, where GNU quilt never looks. Entries marked
    (undone) can be redone.
    """
    lines = undo_core.log_lines(Context.workspace(repair=False))
    if limit:
        lines = lines[-limit:]
    if as_json:
        click.echo(json.dumps([line.to_json() for line in lines], indent=1))
        return 0
    for line in lines:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(line.time))
        parts = [f"{k}: {len(v)}" if k in ("tree", "state") else f"{k}: {', '.join(v)}"
                 for k, v in line.changed.items() if v and k != "state"]
        flag = " (undone)" if line.undone else ""
        click.echo(f"{line.seq:>4}  {when}  {line.command}{flag}" + (f"  [{'; '.join(parts)}]" if parts else ""))
    return 0
