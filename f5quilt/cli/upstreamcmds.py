"""upstream: fetch the pinned release into the tree or the cache."""
from __future__ import annotations

import click

from f5quilt.errors import F5QuiltError
from f5quilt.output import Reporter
from . import cli
from .render import exit_code, render
from .common import Context
from .options import verbosity


@cli.group()
def upstream() -> None:
    """Work with the upstream release the series is pinned to (settings' upstream:)."""


@upstream.command()
@click.option("--cache-only", is_flag=True, help="Only download and extract into the cache; leave the tree alone.")
@click.option("--replace", is_flag=True,
              help="Rebuild an existing tree from the pin (after the pin moved) and push again what was "
                   "applied; refused while the tree holds edits no patch records.")
@click.option("-f", "--force", is_flag=True,
              help="With --replace: go ahead over unrecorded edits, keeping them in a stash (f5quilt stash).")
@verbosity
def fetch(cache_only: bool, replace: bool, force: bool, reporter: Reporter) -> int:
    """Materialize the pinned release into the (missing) tree.

    Downloads are cached and checked against the pin's sha256 (a warm cache
    too); the tree is built in a temporary directory and renamed into
    place, so an interrupted fetch never leaves half a tree. The tree
    remembers which pin built it: when the pin moves (a teammate's rebase),
    every command says so, and --replace swaps the tree in one transaction
    (`f5quilt undo` brings the old one back).
    """
    ws = Context.workspace(stale_tree="ignore" if replace else "warn")
    up = ws.upstream()
    if up is None:
        raise F5QuiltError("no upstream pinned in the settings (f5quilt.yaml: upstream:)")
    if cache_only and replace:
        raise click.UsageError("--cache-only and --replace exclude each other")
    if replace:
        from f5quilt.ops.series.vendor import replace_tree
        with render(reporter, ws) as emit:  # it pushes the applied patches again: a plan
            return exit_code(replace_tree(ws, emit, force=force))
    if cache_only:
        path = up.ensure_pristine(render(reporter, ws))
        reporter.info(f"Pristine {up.pin.describe()} in {path}")
        return 0
    if ws.tree.exists():
        reporter.info(f"Tree {ws.tree} exists already; nothing fetched "
                      "(`f5quilt upstream fetch --replace` rebuilds it from the pin)")
        return 2
    ws.ensure_tree(render(reporter, ws))
    return 0
