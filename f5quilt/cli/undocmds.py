"""undo, redo and log."""
from __future__ import annotations

import json
import time

import click

from f5quilt.ops.stack import undo as undo_core
from f5quilt.output import Reporter
from . import cli
from .render import render
from .common import Context
from .options import json_option, verbosity


FORCE = click.option("-f", "--force", is_flag=True,
                     help="Where the whole tree is replaced (a fetch, a rebase) and it holds edits no patch "
                          "records: go ahead, keeping them in a stash (f5quilt stash list).")


@cli.command()
@click.argument("steps", type=click.IntRange(1), default=1, required=False)
@FORCE
@verbosity
def undo(steps: int, force: bool, reporter: Reporter) -> int:
    """Undo the last STEPS commands that changed anything (default 1).

    Restores the series, .pc/, the patch files, the settings and the tree
    files exactly as they were before (a rebase counts as one command).
    Refuses, listing the files, when a file changed after that command
    without being recorded: nothing unrecorded is ever discarded. Undo of a
    refresh restores the old patch file and keeps the edits in the tree.
    Undo of a command that built or replaced the whole tree refuses while
    the tree holds unrecorded work; --force stashes that work first.
    """
    ws = Context.workspace()
    undo_core.undo(ws, render(reporter, ws), steps, force)
    return 0


@cli.command()
@click.argument("steps", type=click.IntRange(1), default=1, required=False)
@FORCE
@verbosity
def redo(steps: int, force: bool, reporter: Reporter) -> int:
    """Redo the last STEPS undone commands (default 1), by their log ids.

    An undone entry is never pruned from the log while it can be redone."""
    ws = Context.workspace()
    undo_core.redo(ws, render(reporter, ws), steps, force)
    return 0


@cli.command("log")
@json_option("Print the log as a JSON list.")
@click.option("-n", "limit", type=click.IntRange(1), default=None, help="Only the last N entries.")
def log_(as_json: bool, limit: int) -> int:
    """List the recorded commands, newest last: id, time, command, what changed.

    The log keeps the last `log: {keep: N}` commands (settings; default 50)
    in f5quilt's own state, where GNU quilt never looks. Entries marked
    (undone) can be redone.
    """
    notes: list[str] = []
    lines = undo_core.log_lines(Context.workspace(repair=False), notes)
    for note in notes:
        Context.reporter_for_errors().warn(note)
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
