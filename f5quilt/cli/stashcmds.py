"""stash: work that forced commands kept instead of discarding."""
from __future__ import annotations

import json
import time
from typing import Optional

import click

from f5quilt.output import Reporter
from . import cli
from .common import Context
from .options import json_option, verbosity


@cli.group()
def stash() -> None:
    """Unrecorded work kept by a forced command, never pruned.

    Commands that would replace or delete tree files holding edits no patch
    records (undo/redo of a fetch or a rebase, rebase, upstream fetch
    --replace) refuse. With --force they go ahead and first copy that work
    here, under a numbered entry that stays until you drop it.
    """


@stash.command("list")
@json_option("Print the entries as a JSON list.")
def list_(as_json: bool) -> int:
    """List the stash entries: id, time, the command that made it, how many files."""
    from f5quilt.ops.stack.stash import stashes
    found = stashes(Context.workspace(repair=False))
    if as_json:
        click.echo(json.dumps([s.to_json() for s in found], indent=1))
        return 0
    for s in found:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s.time))
        click.echo(f"{s.id:>4}  {when}  {s.command}  ({len(s.files)} file(s))")
    return 0


@stash.command()
@click.argument("stash_id", metavar="ID", type=click.IntRange(1), required=False)
@click.option("-p", "--patch", "as_patch", is_flag=True,
              help="Show each stashed file's content as a diff against the tree's current file.")
@verbosity
def show(stash_id: Optional[int], as_patch: bool, reporter: Reporter) -> int:
    """List the files of stash entry ID (default: the newest) and why each was kept."""
    from f5quilt.ops.stack.stash import describe_files, get
    ws = Context.workspace(repair=False)
    s = get(ws, stash_id)
    if not as_patch:
        for line in describe_files(s):
            reporter.result(line)
        return 0
    from f5quilt.engine.gitdiff import diff_files
    current = {}
    for f in s.files:
        path = ws.tree / f.file
        current[f.file] = path.read_bytes() if path.is_file() else None
    click.echo(diff_files(current, {f.file: s.content(f) for f in s.files}).decode(errors="replace"), nl=False)
    return 0


@stash.command()
@click.argument("stash_id", metavar="ID", type=click.IntRange(1), required=False)
@verbosity
def apply(stash_id: Optional[int], reporter: Reporter) -> int:
    """Write the files of stash entry ID (default: the newest) back into the tree.

    One transaction (f5quilt undo takes it back). Refuses where a file it
    would overwrite holds unrecorded work of its own. The entry stays until
    `f5quilt stash drop ID`."""
    from f5quilt.ops.stack.stash import apply as apply_
    s = apply_(Context.workspace(), stash_id)
    reporter.info(f"Applied stash {s.id} ({len(s.files)} file(s)); drop it with f5quilt stash drop {s.id}")
    return 0


@stash.command()
@click.argument("stash_id", metavar="ID", type=click.IntRange(1))
@verbosity
def drop(stash_id: int, reporter: Reporter) -> int:
    """Delete stash entry ID (f5quilt undo brings it back while the log holds the drop)."""
    from f5quilt.ops.stack.stash import drop as drop_
    s = drop_(Context.workspace(), stash_id)
    reporter.info(f"Dropped stash {s.id}")
    return 0
