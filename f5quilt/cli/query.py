"""Read-only queries: series, applied, unapplied, top, next, previous."""
from __future__ import annotations

import json
from typing import Any, List, Optional

import click

from f5quilt.errors import F5QuiltError, NothingToDo
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




def _none_applied(ws: Workspace) -> NothingToDo:
    """quilt's applied and previous fail (exit 1) with nothing applied; f5quilt says 2."""
    from f5quilt.ops.authoring import _none_applied as none_applied
    return none_applied(ws)


@cli.command()
@click.option("-v", "--verbose", is_flag=True,
              help="Mark applied patches with = (top) and +, those the selected guards skip with G; "
                   "show each patch's guards.")
@json_option()
@color_option("Accepted for quilt (QUILT_SERIES_ARGS); output is plain.")
def series(verbose: bool, as_json: bool, color: Optional[str]) -> int:
    """List all patches in the series file."""
    ws = Context.workspace()
    applied = ws.stack.applied()
    top = applied[-1] if applied else None
    if as_json:
        _json([{"patch": e.name, "applied": e.name in applied, "top": e.name == top,
                "strip": e.strip, "reverse": e.reverse, "guards": list(e.guards)} for e in ws.series.entries])
        return 0
    skipped = {}
    if verbose and any(e.guards for e in ws.series.entries):
        from f5quilt.ops.guards import guarded_out
        skipped = guarded_out(ws, ws.series.names)
    for entry in ws.series.entries:
        name = entry.name
        if verbose:
            mark = "=" if name == top else ("+" if name in applied else ("G" if name in skipped else " "))
            guards = "".join(f" #{g}" for g in entry.guards)
            click.echo(f"{mark} {ws.display(name)}{guards}")
        else:
            click.echo(ws.display(name))
    return 0


@cli.command()
@click.argument("patch", required=False)
@json_option()
@verbosity
def applied(patch: Optional[str], as_json: bool, reporter: Reporter) -> int:
    """List applied patches (up to PATCH)."""
    ws = Context.workspace()
    names = ws.stack.applied()
    if patch is not None:
        name = ws.resolve_name(patch)
        if name not in names:
            raise F5QuiltError(f"Patch {ws.display(name)} is not applied")
        names = names[:names.index(name) + 1]
    if as_json:
        _json(names)
    if not names:
        raise _none_applied(ws)
    if not as_json:
        _names(ws, names, reporter)
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
    ws = Context.workspace()
    name = ws.stack.top()
    if as_json:
        _json({"top": name})
    if name is None:
        quilt_empty = ws.settings.settings_file is None and not ws.series.entries
        raise NothingToDo("No patches in series" if quilt_empty else "No patches applied")
    if not as_json:
        reporter.result(ws.display(name))
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
    quilt = ws.settings.settings_file is None
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
