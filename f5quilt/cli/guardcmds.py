"""goto (StGit), guard and select (Mercurial MQ's qguard, qselect)."""
from __future__ import annotations

from typing import List, Optional, Tuple

import click

from f5quilt.errors import F5QuiltError
from f5quilt.ops.stack import guards as ops
from f5quilt.ops.stack import pushpop
from f5quilt.output import Reporter
from . import cli
from .render import exit_code, render
from .common import Context
from .options import fuzz_option, verbosity


@cli.command()
@click.argument("patch")
@fuzz_option("When pushing: as push --fuzz.")
@click.option("-m", "--merge", is_flag=True, help="When pushing: 3-way merge what does not fit (see push).")
@verbosity
def goto(patch: str, fuzz: Optional[int], merge: bool, reporter: Reporter) -> int:
    """Push or pop until PATCH is the top patch (StGit's goto).

    Pops the patches above PATCH when it is applied, else pushes up to it,
    skipping patches the selected guards rule out. One command in the log:
    `f5quilt undo` goes back in one step.
    """
    ws = Context.workspace()
    with render(reporter, ws) as emit:
        return exit_code(pushpop.goto(ws, emit, patch, fuzz=ws.settings.fuzz_for(fuzz), merge=merge))


def _split(args: Tuple[str, ...]) -> Tuple[Optional[str], List[str]]:
    """[PATCH] then +GUARD/-GUARD words; the patch may be left out (the top one)."""
    words = list(args)
    patch = None
    if words and words[0][:1] not in ("+", "-"):
        patch = words.pop(0)
    for w in words:
        if w[:1] not in ("+", "-"):
            raise F5QuiltError(f"guard {w!r} must start with + or - (give the patch first)")
    return patch, words


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[PATCH] [+GUARD|-GUARD]...")
@click.option("--none", "none_", is_flag=True, help="Remove every guard of the patch.")
@click.option("-l", "--list", "list_", is_flag=True, help="List the guards of every patch.")
@verbosity
def guard(args: Tuple[str, ...], none_: bool, list_: bool, reporter: Reporter) -> int:
    """Set, remove or show the guards of PATCH (default: the top patch).

    `guard PATCH +cuda -cpu`: PATCH is pushed only while `cuda` is
    selected, and never while `cpu` is (`f5quilt select`). Guards are
    written in the series line as a comment, in Mercurial MQ's form
    (`PATCH #+cuda #-cpu`): GNU quilt ignores them and pushes every patch.
    Without guards, prints the patch's guards.
    """
    ws = Context.workspace()
    patch, words = _split(args)
    if list_:
        if patch or words or none_:
            raise click.UsageError("guard -l takes no patch or guard")
        for e in ws.series.entries:
            reporter.result(f"{ws.display(e.name)}: {ops.describe_guards(e.guards)}")
        return 0
    if not words and not none_:
        name = ws.resolve_name(patch) if patch else ws.stack.top()
        if name is None:
            raise F5QuiltError("No patches applied (name the patch)")
        reporter.result(f"{ws.display(name)}: {ops.describe_guards(ws.entry(name).guards)}")
        return 0
    if words and none_:
        raise click.UsageError("guard: --none and guards exclude each other")
    ops.guard(ws, render(reporter, ws), patch, words, none=none_)
    return 0


@cli.command()
@click.argument("guards", nargs=-1, metavar="[GUARD]...")
@click.option("--none", "none_", is_flag=True, help="Select no guard.")
@verbosity
def select(guards: Tuple[str, ...], none_: bool, reporter: Reporter) -> int:
    """Choose the active guards of this tree (Mercurial MQ's qselect).

    `select cuda` pushes patches guarded `+cuda` and skips those guarded
    `-cuda`; patches without guards are always pushed. The selection
    belongs to this tree, not to the series (f5quilt's state, next to the
    log), and is undoable. Without arguments, prints the selection and the
    patches it skips.
    """
    ws = Context.workspace()
    if guards and none_:
        raise click.UsageError("select: --none and guards exclude each other")
    if not guards and not none_:
        selected = ops.read_selected(ws)
        reporter.result("Selected guards: " + (" ".join(selected) or "none"))
        for name, why in ops.guarded_out(ws, ws.series.names).items():
            reporter.info(f"skipped: {ws.display(name)} ({ops.why_text(why)})")
        return 0
    ops.select(ws, render(reporter, ws), list(guards), none=none_)
    return 0
