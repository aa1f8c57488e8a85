"""upstream: fetch the pinned release into the tree or the cache."""
from __future__ import annotations

import click

from f5quilt.errors import F5QuiltError
from f5quilt.output import Reporter
from . import cli
from .common import Context, verbosity


@cli.group()
def upstream() -> None:
    """Work with the upstream release the series is pinned to (settings' upstream:)."""


@upstream.command()
@click.option("--cache-only", is_flag=True, help="Only download and extract into the cache; leave the tree alone.")
@verbosity
def fetch(cache_only: bool, reporter: Reporter) -> int:
    """Materialize the pinned release into the (missing) tree.

    Downloads are cached and checked against the pin's sha256; the tree is
    built in a temporary directory and renamed into place, so an
    interrupted fetch never leaves half a tree.
    """
    ws = Context.workspace()
    up = ws.upstream()
    if up is None:
        raise F5QuiltError("no upstream pinned in the settings (f5quilt.yaml: upstream:)")
    if cache_only:
        path = up.ensure_pristine(reporter.info)
        reporter.info(f"Pristine {up.pin.describe()} in {path}")
        return 0
    if ws.tree.exists():
        reporter.info(f"Tree {ws.tree} exists already; nothing fetched")
        return 2
    ws.ensure_tree(reporter)
    return 0
