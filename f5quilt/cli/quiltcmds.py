"""quilt's commands that f5quilt had not: fork, snapshot (more in ops/quiltcmds.py)."""
from __future__ import annotations

from typing import Optional

import click

from f5quilt.ops import quiltcmds
from f5quilt.output import Reporter
from . import cli
from .common import Context, verbosity


@cli.command()
@click.argument("new_name", required=False)
@verbosity
def fork(new_name: Optional[str], reporter: Reporter) -> int:
    """Fork the top patch: it goes on under NEW_NAME (default: NAME-2, NAME-3...) in the
    series and .pc/, and the old patch file stays for the series of others that use it."""
    quiltcmds.fork(Context.workspace(), reporter, new_name)
    return 0


@cli.command()
@click.option("-d", "remove", is_flag=True, help="Only remove the current snapshot.")
@verbosity
def snapshot(remove: bool, reporter: Reporter) -> int:
    """Take a snapshot of the tree's patched files (in .pc/.snap), for `diff --snapshot`."""
    quiltcmds.snapshot(Context.workspace(), reporter, remove=remove)
    return 0


@cli.command()
@click.argument("file")
@click.option("-P", "patch", help="Annotate as the file is after this patch.")
def annotate(file: str, patch: Optional[str]) -> int:
    """Print FILE with, before each line, the number of the applied patch that last
    changed it; the numbered patches follow (quilt's annotate)."""
    from f5quilt.ops.authoring import tree_rel
    ws = Context.workspace()
    for line in quiltcmds.annotate(ws, patch, tree_rel(ws, file)):
        click.echo(line)
    return 0
