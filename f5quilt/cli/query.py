"""Read-only queries: series, applied, unapplied, top, next, previous."""
from __future__ import annotations

import json
from typing import Any, List

import click

from f5quilt.errors import NothingToDo
from f5quilt.output import Reporter
from f5quilt.repo.workspace import Workspace
from . import cli
from .common import Context, verbosity


def _names(ws: Workspace, names: List[str], reporter: Reporter) -> None:
    for name in names:
        reporter.result(ws.display(name))


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


JSON_HELP = "Print JSON (schema in docs/commands.md); patch names bare, without the patches folder."


@cli.command()
@click.option("-v", "--verbose", is_flag=True,
              help="Mark applied patches with = (top) and +, those the selected guards skip with G; "
                   "show each patch's guards.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def series(verbose: bool, as_json: bool) -> int:
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
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@verbosity
def applied(as_json: bool, reporter: Reporter) -> int:
    """List applied patches."""
    ws = Context.workspace()
    names = ws.stack.applied()
    if as_json:
        _json(names)
    if not names:
        raise NothingToDo("No patches applied")
    if not as_json:
        _names(ws, names, reporter)
    return 0


@cli.command()
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@verbosity
def unapplied(as_json: bool, reporter: Reporter) -> int:
    """List patches not yet applied."""
    ws = Context.workspace()
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
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@verbosity
def top(as_json: bool, reporter: Reporter) -> int:
    """Print the name of the topmost applied patch."""
    ws = Context.workspace()
    name = ws.stack.top()
    if as_json:
        _json({"top": name})
    if name is None:
        raise NothingToDo("No patches applied")
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
@verbosity
def previous(reporter: Reporter) -> int:
    """Print the name of the patch below the top one."""
    ws = Context.workspace()
    applied = ws.stack.applied()
    if len(applied) < 2:
        raise NothingToDo("No patches applied" if not applied else "No previous patch")
    reporter.result(ws.display(applied[-2]))
    return 0
