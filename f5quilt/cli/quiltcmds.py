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


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def grep(args: tuple[str, ...]) -> int:
    """Search the tree's files with grep, the patches folder and .pc/ left out:
    grep [GREP-OPTIONS] PATTERN [FILE|DIR...] (quilt's grep; options go to grep)."""
    import subprocess
    from f5quilt.errors import F5QuiltError
    ws = Context.workspace(repair=False)
    opts: list[str] = []
    rest = list(args)
    while rest and rest[0].startswith("-") and rest[0] != "--":
        opts.append(rest.pop(0))
    if rest and rest[0] == "--":
        rest.pop(0)
    if not rest:
        raise F5QuiltError("Usage: quilt grep [-h|options] {pattern} [files ...]")
    pattern, paths = rest[0], rest[1:]
    files = quiltcmds.grep_files(ws, paths)
    if not files:
        return 1
    h = [] if "-h" in opts else ["-H"]
    return subprocess.run(["grep", *h, *opts, "--", pattern, *files]).returncode


@cli.command()
@click.argument("patch", required=False)
@click.option("--all", "all_", is_flag=True, help="Every applied patch, not only what PATCH depends on.")
@click.option("--edge-labels", type=click.Choice(["files"]), default=None, help="Label edges with the files.")
def graph(patch: Optional[str], all_: bool, edge_labels: Optional[str]) -> int:
    """Print the dependencies between applied patches as a dot graph (quilt's graph, without
    --lines and -T: pipe it into `dot -Tpng`)."""
    click.echo(quiltcmds.graph(Context.workspace(repair=False), patch, all_=all_,
                               edge_files=edge_labels == "files"), nl=False)
    return 0


@cli.command()
@verbosity
def upgrade(reporter: Reporter) -> int:
    """Bring .pc/ to quilt's version 2 format (the only one f5quilt reads or writes)."""
    quiltcmds.upgrade(Context.workspace(), reporter)
    return 0
