"""push and pop."""
from __future__ import annotations

import json
from typing import Callable, Optional

import click

from f5quilt.ops.stack import pushpop as stack
from f5quilt.errors import F5QuiltError
from f5quilt.output import Reporter
from f5quilt.repo.settings import Dialect
from f5quilt.repo.workspace import Workspace
from . import cli
from .render import exit_code, render
from .common import Context
from .options import color_option, fuzz_option, json_option, verbosity


def _target(arg: Optional[str]) -> tuple[Optional[int], Optional[str]]:
    if arg is None:
        return None, None
    if arg.isdigit():
        return int(arg), None
    return None, arg


def _to_stderr(reporter: Reporter, color: Optional[str] = None) -> Reporter:
    """--json: the command's lines go to stderr (coloured as stderr allows, or as --color
    says), so stdout holds the JSON alone."""
    shown = Reporter(reporter.level, out=reporter.err, err=reporter.err)
    shown.speaks_quilt = reporter.speaks_quilt
    if color in ("always", "never"):
        shown.colour = color == "always"
    return shown


def _refresh_excludes(*, force: bool, refresh: bool) -> None:
    if force and refresh:
        raise F5QuiltError("Options -f and --refresh are mutually exclusive")


def refresh_hook(ws: Workspace, reporter: Reporter) -> Callable[[], object]:
    from .authoringcmds import refresh_hook as hook  # only when asked: push/pop load fast
    return hook(ws, reporter)


@cli.command()
@click.argument("target", required=False, metavar="[NUM|PATCH]")
@click.option("-a", "--all", "all_", is_flag=True, help="Apply all patches in the series.")
@fuzz_option()
@click.option("-m", "--merge", is_flag=True,
              help="When a hunk does not fit, 3-way merge against the pinned upstream; "
                   "conflicts are left as markers (exit 3).")
@click.option("-f", "--force", is_flag=True,
              help="Apply even with failing hunks: leave .rej files and mark the patch as needing refresh.")
@click.option("--dry-run", is_flag=True, help="Check the next patch applies; change nothing.")
@click.option("--refresh", "refresh", is_flag=True,
              help="Refresh each patch right after it is pushed (quilt mode: with QUILT_REFRESH_ARGS); "
                   "one transaction, undone in one step.")
@color_option("Colour the hunk messages: auto (on a terminal, the default), always or never.")
@json_option("Print the outcome as JSON on stdout (the patches pushed, why it stopped, the top); "
             "the progress lines go to stderr.")
@verbosity
def push(target: Optional[str], all_: bool, fuzz: Optional[int], merge: bool, force: bool,
         dry_run: bool, refresh: bool, color: Optional[str], as_json: bool, reporter: Reporter) -> int:
    """Apply the next patch, NUM patches, all (-a), or up to PATCH.

    Each patch is applied all or nothing: a hunk that does not fit leaves
    every file as it was. Offsets are found like GNU patch; fuzz is used
    only when asked.
    """
    ws = Context.workspace(stale_tree="refuse")
    reporter.speaks_quilt = ws.settings.dialect is Dialect.QUILT
    if color in ("always", "never"):
        reporter.colour = color == "always"
    _refresh_excludes(force=force, refresh=refresh)
    if refresh and dry_run:
        raise F5QuiltError("Options --dry-run and --refresh are mutually exclusive")
    count, name = _target(target)
    if all_ and target:
        raise F5QuiltError("push: -a and a patch name exclude each other")
    shown = _to_stderr(reporter, color) if as_json else reporter
    with render(shown, ws) as emit:
        outcome = stack.push(ws, emit, target=name, all_=all_, count=count,
                             fuzz=ws.settings.fuzz_for(fuzz), force=force, dry_run=dry_run, merge=merge,
                             refresh=refresh_hook(ws, shown) if refresh else None,
                             quilt=ws.settings.dialect is Dialect.QUILT)
    if as_json:
        click.echo(json.dumps(outcome.to_json(ws.stack.top()), indent=2))
    return exit_code(outcome.stop)


@cli.command()
@click.argument("target", required=False, metavar="[NUM|PATCH]")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all applied patches.")
@click.option("-f", "--force", is_flag=True,
              help="Remove even if files have changes not refreshed into the patch (they are lost).")
@click.option("-R", "verify", is_flag=True,
              help="quilt's 'always verify the patch removes cleanly': f5quilt always does (by content).")
@click.option("--refresh", "refresh", is_flag=True,
              help="Refresh each patch just before it is popped (quilt mode: with QUILT_REFRESH_ARGS); "
                   "one transaction, undone in one step.")
@json_option("Print the outcome as JSON on stdout (the patches popped, the new top); "
             "the progress lines go to stderr.")
@verbosity
def pop(target: Optional[str], all_: bool, force: bool, verify: bool, refresh: bool, as_json: bool,
        reporter: Reporter) -> int:
    """Remove the top patch, NUM patches, all (-a), or down to PATCH.

    Refuses when a file differs from what the patch left (edits not yet
    refreshed), judged by content, not mtimes.
    """
    ws = Context.workspace()
    reporter.speaks_quilt = ws.settings.dialect is Dialect.QUILT
    _refresh_excludes(force=force, refresh=refresh)
    count, name = _target(target)
    shown = _to_stderr(reporter) if as_json else reporter
    with render(shown, ws) as emit:
        outcome = stack.pop(ws, emit, target=name, all_=all_, count=count, force=force,
                            refresh=refresh_hook(ws, shown) if refresh else None,
                            quilt=ws.settings.dialect is Dialect.QUILT)
    if as_json:
        click.echo(json.dumps(outcome.to_json(ws.stack.top()), indent=2))
    return 0
