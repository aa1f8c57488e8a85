"""Commands for a patched Python dependency: exec, install, capture, absorb, restore."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional, Tuple

import click

from f5quilt.output import QUIET, Reporter
from f5quilt.repo.workspace import Workspace
from . import cli
from .render import render
from .common import Context
from .options import json_option, verbosity


@cli.command("exec", context_settings={"ignore_unknown_options": True})
@json_option("Print each step and the first failure as JSON.")
@click.option("--keep-going", is_flag=True, help="Run CMD after every patch, not only up to the first failure.")
@click.option("--no-base", is_flag=True, help="Do not run CMD at the base (no patch applied) first.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD [ARG]...")
@verbosity
def exec_(command: Tuple[str, ...], as_json: bool, keep_going: bool, no_base: bool, reporter: Reporter) -> int:
    """Run CMD with each patch pushed in turn (as git rebase --exec).

    Pops every patch, runs CMD at the base, then pushes the patches of the
    series one by one (guarded-out ones skipped) and runs CMD after each,
    in the current directory, without a shell. It stops at the first
    patch that breaks CMD (exit non-zero) or does not apply, names it, and
    puts the tree back as it was: the same patches applied, every file as
    before (the walk is one transaction rolled back at the end, so nothing
    is logged and a killed exec is undone by the next command).

    Refuses while the tree holds edits no patch records (refresh, capture
    or revert them first). Exit 0 when CMD passed everywhere, 1 when a
    patch (or the base) breaks it.
    """
    from f5quilt.ops.series.execseries import exec_series
    ws = Context.workspace(stale_tree="refuse")
    out = Reporter(QUIET, out=reporter.err, err=reporter.err) if as_json else reporter
    result = exec_series(ws, render(out, ws), list(command), cwd=Path.cwd(), keep_going=keep_going, base=not no_base,
                         stdout_to_stderr=as_json)
    broken = result.first_broken
    if as_json:
        click.echo(json.dumps({"command": list(command), "steps": [s.to_json(ws) for s in result.steps],
                               "first_broken": broken.to_json(ws) if broken else None,
                               "top": ws.display(result.restored_top) if result.restored_top else None},
                              indent=2))
        return 0 if broken is None else 1
    if broken is None:
        reporter.info(f"{' '.join(command)} passed at the base and after each of {len(result.steps) - 1} "
                      "patches" if result.steps and result.steps[0].patch is None else
                      f"{' '.join(command)} passed after each of {len(result.steps)} patches")
    elif broken.patch is None:
        reporter.error(f"{' '.join(command)} fails at the base already (exit {broken.returncode}), "
                       "before any patch")
    elif broken.returncode is None:
        reporter.error(f"Patch {ws.display(broken.patch)} does not apply: {broken.error}")
    else:
        reporter.error(f"Patch {ws.display(broken.patch)} breaks {' '.join(command)} (exit {broken.returncode})")
    top = result.restored_top
    reporter.step(f"Now at patch {ws.display(top)}" if top else "No patches applied")
    return 0 if broken is None else 1


@cli.command()
@click.argument("name", required=False)
@click.option("--python", "python", metavar="PYTHON",
              help="The interpreter whose pip builds and installs (default: the one running f5quilt).")
@click.option("--target", type=click.Path(file_okay=False, path_type=Path),
              help="Install into this folder (pip install --target) instead of the environment.")
@click.option("--wheel-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Only build: write the wheel into this folder, install nothing.")
@click.option("--no-build-isolation", is_flag=True,
              help="Build with what the interpreter has (offline), not in pip's isolated environment.")
@verbosity
def install(name: Optional[str], python: Optional[str], target: Optional[Path], wheel_dir: Optional[Path],
            no_build_isolation: bool, reporter: Reporter) -> int:
    """Build the patched tree into a wheel and install it.

    Builds a wheel (PEP 517, `python -m pip wheel --no-deps`) from a copy of
    the tree as it stands (pristine + the applied patches; the tree itself
    gets no build/ or egg-info) and installs it with pip into the active
    interpreter's environment (--python, or --target DIR; --wheel-dir DIR
    only builds). The wheel's dist-info carries f5quilt.json: the pin and a
    hash of the applied patches; status and check say when an installed
    copy is no longer the series. NAME: the upstream (its tree's folder or
    project name). Refuses while the tree holds edits no patch records.
    Exit 0 installed, 1 error (pip's last error line is shown).
    """
    import sys
    from f5quilt.ops.series.install import install as install_core
    if target is not None and wheel_dir is not None:
        raise click.UsageError("give --target or --wheel-dir, not both")
    ws = Context.workspace()
    install_core(ws, render(reporter, ws), python=python or sys.executable, target=target, wheel_dir=wheel_dir,
                 build_isolation=not no_build_isolation, name=name)
    return 0


def _tree_files(ws: Workspace, files: Tuple[str, ...]) -> Optional[List[str]]:
    """FILE arguments (relative to the current directory) as paths in the tree."""
    from f5quilt.ops.authoring.core import tree_rel
    return [tree_rel(ws, f) for f in files] if files else None


@cli.command()
@click.argument("name")
@click.argument("files", nargs=-1, type=click.Path())
@verbosity
def capture(name: str, files: Tuple[str, ...], reporter: Reporter) -> int:
    """Turn the edits made without `add` into a new patch on top.

    Every file that differs from pristine + the applied patches (what
    `status` lists as edited outside any patch, created, deleted, or not
    refreshed) -- or only FILES -- goes into a new patch NAME on top,
    written at once; the tree keeps its content. One transaction: `f5quilt
    undo` takes it back. Exit 0 done, 2 nothing to capture, 1 error.
    """
    from f5quilt.ops.authoring.capture import capture as capture_core
    ws = Context.workspace(stale_tree="refuse")
    capture_core(ws, render(reporter, ws), name, _tree_files(ws, files))
    return 0


@cli.command()
@click.argument("files", nargs=-1, type=click.Path())
@click.option("-n", "--dry-run", is_flag=True, help="Say where each file's changes would go; write nothing.")
@verbosity
def absorb(files: Tuple[str, ...], dry_run: bool, reporter: Reporter) -> int:
    """Move each edit into the applied patch that last changed its lines.

    As `git absorb`/`jj absorb`: for each changed region of each edited file
    (or only FILES), the applied patch that last wrote those lines takes the
    change and is refreshed; the tree is unchanged. Refuses, in one line
    naming the file and lines, a change to lines no patch wrote (capture
    it), to lines several patches wrote, or into a patch that a later patch
    follows in the same file. One transaction. Exit 0 done, 2 nothing to
    absorb, 1 refused or error.
    """
    from f5quilt.ops.authoring.capture import absorb as absorb_core, absorb_plan
    ws = Context.workspace(stale_tree="refuse")
    if dry_run:
        plan = absorb_plan(ws, _tree_files(ws, files))
        for name, rels in plan.items():
            for rel in rels:
                reporter.info(f"{ws.settings.show_file(rel)} -> {ws.display(name)}")
        return 0 if plan else 2
    absorb_core(ws, render(reporter, ws), _tree_files(ws, files))
    return 0


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@verbosity
def restore(files: Tuple[str, ...], reporter: Reporter) -> int:
    """Put FILES back as pristine + the applied patches say.

    Undoes edits that no patch holds (which `revert` cannot: it works on the
    top patch's files) as well as unrefreshed ones: each file gets the
    content the last applied patch holding it leaves (its patch file), or
    the pristine release's. One transaction: `f5quilt undo` brings the
    edits back. Exit 0 done, 2 a file holds no edits, 1 error.
    """
    from f5quilt.ops.authoring.capture import restore as restore_core
    ws = Context.workspace(stale_tree="refuse")
    restore_core(ws, render(reporter, ws), _tree_files(ws, files) or [])
    return 0
