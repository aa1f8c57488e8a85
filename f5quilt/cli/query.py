"""Read-only queries: series, applied, unapplied, top, next, previous."""
from __future__ import annotations

import json
from typing import Any, List, Optional

import click

from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt.ops.stack import queries
from f5quilt.repo.settings import Dialect
from f5quilt.output import Reporter
from f5quilt.repo.workspace import Workspace
from . import cli
from .common import Context
from .options import color_option, json_option, verbosity


def _names(ws: Workspace, names: List[str], reporter: Reporter) -> None:
    for name in names:
        reporter.result(ws.display(name))


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


def _none_applied(ws: Workspace) -> F5QuiltError:
    """quilt's applied and previous fail (exit 1) with nothing applied; f5quilt says 2."""
    return queries.none_applied(ws)


# series, applied and top run in ops/stack/queries.py, which the shell-prompt fast path
# (f5quilt/fastpath.py) also runs for the same command lines parsed without click
@cli.command()
@click.option("-v", "--verbose", is_flag=True,
              help="Mark applied patches with = (top) and +, those the selected guards skip with G; "
                   "show each patch's guards.")
@json_option()
@color_option("Accepted for quilt (QUILT_SERIES_ARGS); output is plain.")
def series(verbose: bool, as_json: bool, color: Optional[str]) -> int:
    """List all patches in the series file."""
    queries.series(Context.workspace(records=False), verbose, as_json, click.echo)
    return 0


@cli.command()
@click.argument("patch", required=False)
@json_option()
@verbosity
def applied(patch: Optional[str], as_json: bool, reporter: Reporter) -> int:
    """List applied patches (up to PATCH)."""
    queries.applied(Context.workspace(records=False), patch, as_json, click.echo)
    return 0


@cli.command()
@click.argument("patch", required=False)
@json_option()
@verbosity
def unapplied(patch: Optional[str], as_json: bool, reporter: Reporter) -> int:
    """List patches not yet applied (or those after PATCH in the series)."""
    ws = Context.workspace()
    if patch is not None:
        series = ws.series.names
        after = series[series.index(ws.resolve_name(patch)) + 1:]
        _names(ws, after, reporter)
        return 0
    names = ws.unapplied()
    if as_json:
        _json(names)
    if not names:
        top = ws.stack.top()
        raise NothingToDo(f"File series fully applied, ends at patch {ws.display(top or '')}")
    if not as_json:
        _names(ws, names, reporter)
    return 0


@cli.command()
@json_option()
@verbosity
def top(as_json: bool, reporter: Reporter) -> int:
    """Print the name of the topmost applied patch."""
    queries.top(Context.workspace(records=False), as_json, click.echo)
    return 0


@cli.command("next")
@verbosity
def next_(reporter: Reporter) -> int:
    """Print the name of the next patch after the top one."""
    ws = Context.workspace()
    rest = ws.unapplied()
    if not rest:
        top = ws.stack.top()
        raise NothingToDo(f"File series fully applied, ends at patch {ws.display(top or '')}")
    reporter.result(ws.display(rest[0]))
    return 0


@cli.command()
@click.argument("patch", required=False)
@verbosity
def previous(patch: Optional[str], reporter: Reporter) -> int:
    """Print the name of the patch below the top one (or before PATCH in the series)."""
    ws = Context.workspace()
    quilt = ws.settings.dialect is Dialect.QUILT
    if patch is not None:
        names = ws.series.names
        i = names.index(ws.resolve_name(patch))
        if i == 0:
            if quilt:
                return 2  # quilt prints nothing
            raise NothingToDo("No previous patch")
        reporter.result(ws.display(names[i - 1]))
        return 0
    applied = ws.stack.applied()
    if len(applied) < 2:
        if not applied:
            raise _none_applied(ws)
        if quilt:
            return 2  # quilt prints nothing
        raise NothingToDo("No previous patch")
    reporter.result(ws.display(applied[-2]))
    return 0
