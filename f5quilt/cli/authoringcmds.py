"""Authoring commands: new, add, edit, refresh, diff, files, patches, header,
delete, rename, import, fold, revert, remove."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Optional, Tuple

import click

from f5quilt.ops import authoring
from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt.output import NORMAL, Reporter
from . import cli
from .common import Context, verbosity


def _run_editor(paths: list[str]) -> None:
    editor = os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi"
    r = subprocess.run(["sh", "-c", f'{editor} "$@"', editor, *paths])
    if r.returncode != 0:
        raise F5QuiltError(f"editor {editor} exited with {r.returncode}")


@cli.command()
@click.argument("name", required=False)
@click.option("-f", "--force", is_flag=True, help="Refresh even if later applied patches touch the same files.")
@click.option("--normalize", is_flag=True,
              help="Rewrite the diff in f5quilt's canonical form even when its effect is unchanged.")
@verbosity
def refresh(name: Optional[str], force: bool, normalize: bool, reporter: Reporter) -> int:
    """Fold the edits in the tree into the top patch (or NAME).

    Output is churn-free: the header is kept byte for byte, a/ and b/
    prefixes, no timestamps, no index lines (unless the settings' refresh:
    index: true), files in a stable order. An unchanged patch is not
    rewritten at all (not even reformatted, unless --normalize). Clears the
    needs-refresh mark of a forced push.
    """
    return authoring.refresh(Context.workspace(), reporter, name, force=force, normalize=normalize)


@cli.command()
@click.option("-P", "patch", help="Diff this applied patch instead of the top one.")
@click.option("--combine", metavar="PATCH", help="Diff from PATCH (or - for the first) up to the top/-P patch.")
@click.option("-z", "unrefreshed", is_flag=True, help="Show only the edits not yet refreshed.")
@click.option("-U", "context", type=int, default=3, show_default=True, help="Lines of context.")
def diff(patch: Optional[str], combine: Optional[str], unrefreshed: bool, context: int) -> int:
    """Show the diff of the top (or -P) patch as refresh would write it."""
    data = authoring.diff(Context.workspace(), patch, combine=combine, unrefreshed=unrefreshed, context=context)
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    return 0


@cli.command()
@click.argument("name")
@click.option("--git", "git_style", is_flag=True,
              help="Start the patch with a From:/Date:/Subject: header (as header --git writes it), "
                   "the author from git's user.name and user.email.")
@click.option("--author", metavar='"NAME <MAIL>"', default=None, help="The same header (implies --git), this author.")
@verbosity
def new(name: str, git_style: bool, author: Optional[str], reporter: Reporter) -> int:
    """Create a new, empty patch NAME after the top one and make it the top.

    With --git or --author, the patch file starts with a header both DEP-3
    readers and git am accept; refresh keeps it as it is.
    """
    if author is None and not git_style:
        authoring.new_patch(Context.workspace(), reporter, name)
    else:
        from f5quilt.ops.githeader import new_with_author
        new_with_author(Context.workspace(), reporter, name, author or "")
    return 0


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("-P", "patch", help="Add to this applied patch instead of the top one.")
@verbosity
def add(files: Tuple[str, ...], patch: Optional[str], reporter: Reporter) -> int:
    """Back FILES up into the top patch before editing them.

    Refuses a file that a later applied patch also touches.
    """
    return authoring.add_files(Context.workspace(), reporter, list(files), patch)


@cli.command()
@click.argument("files", nargs=-1, required=True)
@verbosity
def edit(files: Tuple[str, ...], reporter: Reporter) -> int:
    """Add FILES to the top patch, then open them in $EDITOR."""
    ws = Context.workspace()
    status = authoring.add_files(ws, reporter, list(files))
    _run_editor(list(files))
    return 0 if status in (0, 2) else status


@cli.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print {\"patch\", \"files\"} as JSON.")
@verbosity
def files(name: Optional[str], as_json: bool, reporter: Reporter) -> int:
    """List the files the top patch (or NAME) touches."""
    ws = Context.workspace()
    patch = authoring.named_or_top(ws, name)
    found = authoring.patch_files(ws, patch)
    if as_json:
        import json
        click.echo(json.dumps({"patch": patch, "files": found}, indent=2))
        return 0
    for rel in found:
        reporter.result(rel)
    return 0


@cli.command()
@click.argument("file")
@click.option("--json", "as_json", is_flag=True, help="Print {\"file\", \"patches\"} as JSON.")
@verbosity
def patches(file: str, as_json: bool, reporter: Reporter) -> int:
    """List the patches in the series that touch FILE."""
    ws = Context.workspace()
    rel = authoring.tree_rel(ws, file)
    names = [name for name in ws.series.names if rel in authoring.patch_files(ws, name)]
    if as_json:
        import json
        click.echo(json.dumps({"file": rel, "patches": names}, indent=2))
        return 0
    for name in names:
        reporter.result(ws.display(name))
    return 0


@cli.command()
@click.argument("name", required=False)
@click.option("-a", "append", is_flag=True, help="Append standard input to the header.")
@click.option("-r", "replace", is_flag=True, help="Replace the header with standard input.")
@click.option("-e", "edit_", is_flag=True, help="Edit the header in $EDITOR.")
@click.option("--git", "git_style", is_flag=True,
              help="Add or update a From:/Date:/Subject: block that DEP-3 readers and git am both accept.")
@click.option("--author", metavar='"NAME <MAIL>"', default=None,
              help="With --git: the author (default: the header's, else git's user.name/user.email).")
def header(name: Optional[str], append: bool, replace: bool, edit_: bool, git_style: bool,
           author: Optional[str]) -> int:
    """Print or change the header (description) of the top patch or NAME.

    --git rewrites the header as From:, Date:, Subject:, a blank line and
    the body: a DEP-3 Description/Author/Date becomes that block, its other
    fields (Origin, Bug, Forwarded...) follow the body as DEP-3's second set
    of fields (trailers to git). `git am` then takes the patch file as it is.
    """
    if author is not None and not git_style:
        raise click.UsageError("header: --author goes with --git")
    if git_style:
        if append or replace or edit_:
            raise click.UsageError("header: --git excludes -a, -r and -e")
        from f5quilt.ops.githeader import header_git
        ws = Context.workspace()
        changed = header_git(ws, Reporter(NORMAL), name, author)
        shown = ws.display(authoring.named_or_top(ws, name))
        click.echo(f"Replaced header of patch {shown}" if changed else f"Header of patch {shown} unchanged")
        return 0
    ws = Context.workspace()
    patch = authoring.named_or_top(ws, name)
    current = authoring.header_of(ws, patch)
    if not (append or replace or edit_):
        sys.stdout.flush()
        sys.stdout.buffer.write(current)
        return 0
    if edit_:
        import tempfile
        with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as fh:
            fh.write(current)
        _run_editor([fh.name])
        with open(fh.name, "rb") as f:
            text = f.read()
        os.unlink(fh.name)
    else:
        data = sys.stdin.buffer.read()
        text = current + data if append else data
    authoring.set_header(ws, patch, text)
    click.echo(f"Replaced header of patch {ws.display(patch)}")
    return 0


@cli.command()
@click.argument("name", required=False)
@click.option("-n", "next_", is_flag=True, help="Delete the next unapplied patch.")
@click.option("-r", "remove", is_flag=True, help="Also remove the patch file.")
@click.option("--backup", is_flag=True, help="With -r: keep the patch file as NAME~.")
@verbosity
def delete(name: Optional[str], next_: bool, remove: bool, backup: bool, reporter: Reporter) -> int:
    """Remove the top patch, NAME or the next (-n) from the series.

    An applied patch must be the top one; it is popped first.
    """
    ws = Context.workspace()
    if next_:
        rest = ws.unapplied()
        if not rest:
            raise NothingToDo("No next patch")
        target = rest[0]
    else:
        target = authoring.named_or_top(ws, name)
    authoring.delete_patch(ws, reporter, target, remove_file=remove, backup=backup)
    return 0


@cli.command()
@click.argument("new_name")
@click.option("-P", "patch", help="Rename this patch instead of the top one.")
@verbosity
def rename(new_name: str, patch: Optional[str], reporter: Reporter) -> int:
    """Rename the top patch (or -P) to NEW_NAME, in the series, patches/ and .pc/."""
    ws = Context.workspace()
    authoring.rename_patch(ws, reporter, authoring.named_or_top(ws, patch), new_name)
    return 0


@cli.command("import")
@click.argument("files", nargs=-1)
@click.option("-P", "name", help="Store the (single) patch under this name.")
@click.option("-p", "strip", type=int, default=None, help="Strip level recorded in the series (default 1).")
@click.option("-f", "--force", is_flag=True, help="Overwrite a patch of the same name.")
@click.option("--git", "git_range", metavar="RANGE",
              help="Import commits instead: RANGE as git rev-list takes it (A..B, or a branch from export --git).")
@click.option("--repo", type=click.Path(file_okay=False), help="With --git: the repository (default: the series').")
@verbosity
def import_(files: Tuple[str, ...], name: Optional[str], strip: Optional[int], force: bool,
            git_range: Optional[str], repo: Optional[str], reporter: Reporter) -> int:
    """Import patch FILES into the series after the top patch (header kept).

    With --git RANGE, each commit of RANGE becomes a patch (header from the
    commit: From/Date/Subject and body, or the header export --git took it
    from, byte for byte), written in the series' own diff style.
    """
    if git_range is None:
        if not files:
            raise click.UsageError("import needs patch FILES (or --git RANGE)")
        authoring.import_patches(Context.workspace(), reporter, list(files), name=name, force=force, strip=strip)
        return 0
    if files or name or strip is not None:
        raise click.UsageError("import --git takes no FILES, -P or -p")
    from f5quilt.ops import gitseries
    from pathlib import Path
    ws = Context.workspace()
    git = gitseries.Git(Path(repo) if repo else gitseries.default_repo(ws))
    gitseries.import_commits(ws, git, git_range.split(), reporter, force=force)
    return 0


@cli.command()
@click.option("-p", "strip", type=int, default=1, show_default=True, help="Strip level of the incoming patch.")
@click.option("--fuzz", type=click.IntRange(0, 10), default=0, help="Fuzz allowed.")
@click.option("-f", "--force", is_flag=True, help="Fold even if hunks fail.")
@verbosity
def fold(strip: int, fuzz: int, force: bool, reporter: Reporter) -> int:
    """Apply the patch on standard input to the top patch's files (then refresh)."""
    authoring.fold(Context.workspace(), reporter, sys.stdin.buffer.read(), strip=strip, fuzz=fuzz, force=force)
    return 0


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("-P", "patch", help="The top patch, named explicitly.")
@verbosity
def revert(files: Tuple[str, ...], patch: Optional[str], reporter: Reporter) -> int:
    """Undo the unrefreshed edits to FILES in the top patch."""
    authoring.revert_files(Context.workspace(), reporter, list(files), patch)
    return 0


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("-P", "patch", help="The top patch, named explicitly.")
@verbosity
def remove(files: Tuple[str, ...], patch: Optional[str], reporter: Reporter) -> int:
    """Take FILES out of the top patch, restoring their content from before it."""
    authoring.remove_files(Context.workspace(), reporter, list(files), patch)
    return 0
