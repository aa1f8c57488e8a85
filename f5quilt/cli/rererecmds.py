"""rerere: the conflict resolutions f5quilt remembers and replays."""
from __future__ import annotations

import click

from f5quilt.output import Reporter
from . import cli
from .render import render
from .common import Context
from .options import verbosity


@cli.group()
def rerere() -> None:
    """Remembered conflict resolutions (as git's rerere).

    When a patch that was left with conflicts (push --merge, a rebase step)
    is refreshed, each conflict and what it was resolved to are recorded in
    f5quilt's state; a later merge meeting the same conflict resolves it the
    same way, says so, and leaves the patch marked for review. Turn it off
    with `rerere: false` in f5quilt.yaml.
    """


@rerere.command()
@click.argument("patch")
@verbosity
def forget(patch: str, reporter: Reporter) -> int:
    """Drop every recorded resolution of PATCH."""
    from f5quilt.ops.stack.rerere import forget as forget_
    ws = Context.workspace()
    forget_(ws, render(reporter, ws), patch)
    return 0


@rerere.command(name="status")
@verbosity
def status_(reporter: Reporter) -> int:
    """List the recorded resolutions: patch, file, key."""
    from f5quilt.ops.stack.rerere import status_lines
    for line in status_lines(Context.workspace(repair=False)):
        reporter.result(line)
    return 0
