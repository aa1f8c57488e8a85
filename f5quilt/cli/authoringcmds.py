"""Authoring commands: new, add, edit, refresh, diff, files, patches, header,
delete, rename, import, fold, revert, remove."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Tuple

import click

from f5quilt.ops.authoring import core as authoring
from f5quilt import proc
from f5quilt.errors import EXIT_NOTHING, EXIT_OK, F5QuiltError, NothingToDo
from f5quilt.output import NORMAL, Reporter
from f5quilt.repo.workspace import Workspace
from f5quilt.repo.settings import Dialect
from . import cli
from .render import render
from f5quilt.events import Event
from .common import Context
from .options import color_option, fuzz_option, json_option, verbosity


def _run_editor(ws: Workspace, paths: list[str], cwd: Optional[Path] = None) -> None:
    sys.stdout.flush()  # what was said comes before the editor's own output
    # quilt's $EDITOR is the one after its quiltrc ran (quilt mode: the settings' quiltrc)
    editor = ws.settings.quiltrc.get("EDITOR") or os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi"
    r = proc.run(["sh", "-c", f'{editor} "$@"', editor, *paths], cwd=cwd, ok=None,  # the terminal is the editor's
                 stdin=proc.INHERIT, stdout=proc.INHERIT, stderr=proc.INHERIT)
    if r.returncode != 0:
        raise F5QuiltError(f"editor {editor} exited with {r.returncode}")


def _diff_format(unified: bool, unified_n: Optional[int], context_fmt: bool, context_n: Optional[int]) -> list[str]:
    """quilt's -u / -U N / -c / -C N (the last given wins in quilt; here -U/-C over -u/-c)."""
    if unified_n is not None:
        return ["-U", str(unified_n)]
    if context_n is not None:
        return ["-C", str(context_n)]
    if context_fmt:
        return ["-c"]
    return ["-u"]


def _quilt_format_options(func: Any) -> Any:
    """The options quilt's refresh and diff share (quilt mode: no f5quilt.yaml)."""
    for opt in reversed([
        click.option("-p", "strip", metavar="0|1|ab", default=None,
                     help="quilt mode: file names as DIR.orig/F and DIR/F (1, the series' level by default), "
                          "F.orig and F (0), or a/F and b/F (ab)."),
        click.option("-u", "unified", is_flag=True, help="Unified diff (the default)."),
        click.option("-U", "unified_n", type=int, default=None, metavar="N", help="Unified diff, N lines of context."),
        click.option("-c", "context_fmt", is_flag=True, help="quilt mode: context diff."),
        click.option("-C", "context_n", type=int, default=None, metavar="N", help="quilt mode: context diff, N lines."),
        click.option("--no-timestamps", is_flag=True, help="quilt mode: no timestamps on the ---/+++ lines "
                     "(QUILT_NO_DIFF_TIMESTAMPS)."),
        click.option("--no-index", is_flag=True, help="quilt mode: no Index: line and ==== separator "
                     "(QUILT_NO_DIFF_INDEX)."),
        click.option("--sort", is_flag=True, help="quilt mode: files in sorted order, not the patch's."),
    ]):
        func = opt(func)
    return func


def _quilt_style(ws: Any, name: str, strip: Optional[str], no_timestamps: bool, no_index: bool,
                 fmt: list[str], sort: bool) -> Any:
    from f5quilt.ops.authoring import quiltdiff
    if strip is None:
        strip = str(ws.entry(name).strip)
    return quiltdiff.style(ws.settings.quiltrc, strip=strip, no_timestamps=no_timestamps,
                           no_index=no_index, fmt=fmt, sort=sort)


def _reject_quilt_options(ws: Any, command: str, **given: Any) -> None:
    if ws.settings.dialect is Dialect.QUILT:
        return
    used = [k for k, v in given.items() if v not in (None, False)]
    if used:
        raise F5QuiltError(f"{command}: --{used[0].replace('_', '-')} is quilt's output format; with "
                           f"{ws.settings.settings_file.name} f5quilt writes a/ b/ names, no timestamps, no Index")


@cli.command()
@click.argument("name", required=False)
@click.option("-f", "--force", is_flag=True, help="Refresh even if later applied patches touch the same files.")
@click.option("--normalize", is_flag=True,
              help="Rewrite the diff in f5quilt's canonical form even when its effect is unchanged.")
@_quilt_format_options
@click.option("--diffstat", is_flag=True, help="quilt mode: put a diffstat after the header.")
@click.option("--backup", is_flag=True, help="quilt mode: keep the old patch as PATCH~.")
@click.option("--strip-trailing-whitespace", is_flag=True,
              help="quilt mode: take white space at the end of added lines out of the patch.")
@click.option("-z", "fork_name", is_flag=False, flag_value="", default=None, metavar="[NEW_NAME]",
              help="quilt mode: put the edits since the last refresh into a new patch after the top one "
                   "(NEW_NAME, default NAME-2), leaving the top patch as it was.")
@verbosity
def refresh(name: Optional[str], force: bool, normalize: bool, strip: Optional[str], unified: bool,
            unified_n: Optional[int], context_fmt: bool, context_n: Optional[int], no_timestamps: bool,
            no_index: bool, sort: bool, diffstat: bool, backup: bool, strip_trailing_whitespace: bool,
            fork_name: Optional[str], reporter: Reporter) -> int:
    """Fold the edits in the tree into the top patch (or NAME).

    With an f5quilt.yaml the output is churn-free: the header is kept byte
    for byte, a/ and b/ prefixes, no timestamps, no index lines (unless the
    settings' refresh: index: true), files in a stable order. An unchanged
    patch is not rewritten at all (not even reformatted, unless --normalize).
    Without one (quilt mode) it writes what GNU quilt writes: Index: lines,
    DIR.orig/F names (-p), timestamps, unless the options or the quiltrc say
    otherwise. Clears the needs-refresh mark of a forced push.
    """
    ws = Context.workspace()
    if ws.settings.dialect is Dialect.F5QUILT:
        _reject_quilt_options(ws, "refresh", p=strip, c=context_fmt, C=context_n, no_timestamps=no_timestamps,
                              no_index=no_index, sort=sort, diffstat=diffstat, backup=backup, z=fork_name)
        authoring.refresh(ws, render(reporter, ws), name, force=force, normalize=normalize)
        return 0
    from f5quilt.ops.stack import repair
    repair.recover(ws, render(reporter, ws))
    return _quilt_refresh(ws, reporter, name, force=force, strip=strip, unified=unified, unified_n=unified_n,
                          context_fmt=context_fmt, context_n=context_n, no_timestamps=no_timestamps,
                          no_index=no_index, sort=sort, diffstat=diffstat, backup=backup,
                          strip_trailing_whitespace=strip_trailing_whitespace, fork_name=fork_name)


def _quilt_refresh(ws: Any, reporter: Reporter, name: Optional[str], *, force: bool, strip: Optional[str],
                   unified: bool, unified_n: Optional[int], context_fmt: bool, context_n: Optional[int],
                   no_timestamps: bool, no_index: bool, sort: bool, diffstat: bool, backup: bool,
                   strip_trailing_whitespace: bool, fork_name: Optional[str], **_ignored: Any) -> int:
    """quilt mode's refresh, in the caller's transaction when there is one (push/pop --refresh)."""
    from f5quilt.ops.authoring import quiltdiff
    with ws.transaction(f"refresh {name or ''}".strip()):
        target = authoring.applied_or_top(ws, name)
        st = _quilt_style(ws, target, strip, no_timestamps, no_index,
                          _diff_format(unified, unified_n, context_fmt, context_n), sort)
        if fork_name is not None:
            if name is not None:
                raise F5QuiltError("Can only refresh the topmost patch with -z currently")
            quiltdiff.refresh_fork(ws, render(reporter, ws), target, st, fork_name or None)
            return 0
        return quiltdiff.refresh(ws, render(reporter, ws), target, st, force=force, backup=backup, diffstat=diffstat,
                                 strip_ws=strip_trailing_whitespace)



def refresh_hook(ws: Any, reporter: Reporter) -> Callable[[], object]:
    """What ``push --refresh`` and ``pop --refresh`` run on the top patch, inside their own
    transaction: f5quilt's refresh; in quilt mode, quilt's ``quilt refresh $QUILT_REFRESH_ARGS``
    (the quiltrc's options parsed by the refresh command itself, a patch name among them ignored)."""
    if ws.settings.dialect is Dialect.F5QUILT:
        return lambda: authoring.refresh_top(ws, render(reporter, ws))
    from f5quilt.output import QUIET, VERBOSE
    from f5quilt.repo import quiltrc
    args = quiltrc.command_args("refresh", ws.settings.quiltrc)
    params = dict(refresh.make_context("refresh", args).params) if args else {}
    for key, default in (("force", False), ("strip", None), ("unified", False), ("unified_n", None),
                         ("context_fmt", False), ("context_n", None), ("no_timestamps", False),
                         ("no_index", False), ("sort", False), ("diffstat", False), ("backup", False),
                         ("strip_trailing_whitespace", False), ("fork_name", None)):
        params.setdefault(key, default)
    # quilt runs its refresh without push's -q/-v: only the quiltrc's count
    level = QUIET if params.get("quiet") else VERBOSE if params.get("verbose") else NORMAL
    colour = reporter.colour
    reporter = Reporter(level, out=reporter.out, err=reporter.err)
    reporter.speaks_quilt, reporter.colour = True, colour
    params.pop("name", None)
    return lambda: _quilt_refresh(ws, reporter, None, **params)

@cli.command()
@click.argument("files", nargs=-1)
@click.option("-P", "patch", help="Diff this applied patch instead of the top one.")
@click.option("--combine", metavar="PATCH", help="Diff from PATCH (or - for the first) up to the top/-P patch.")
@click.option("-z", "unrefreshed", is_flag=True, help="Show only the edits not yet refreshed.")
@_quilt_format_options
@click.option("-R", "reverse", is_flag=True, help="quilt mode: the reverse diff.")
@click.option("--snapshot", is_flag=True, help="quilt mode: diff against the snapshot (see snapshot).")
@color_option("Accepted for quilt (QUILT_DIFF_ARGS); output is plain.")
@verbosity
def diff(files: Tuple[str, ...], patch: Optional[str], combine: Optional[str], unrefreshed: bool,
         strip: Optional[str], unified: bool, unified_n: Optional[int], context_fmt: bool,
         context_n: Optional[int], no_timestamps: bool, no_index: bool, sort: bool, reverse: bool,
         snapshot: bool, color: Optional[str], reporter: Reporter) -> int:
    """Show the diff of the top (or -P) patch as refresh would write it (FILES: only those)."""
    ws = Context.workspace()
    if ws.settings.dialect is Dialect.F5QUILT:
        _reject_quilt_options(ws, "diff", p=strip, c=context_fmt, C=context_n, no_timestamps=no_timestamps,
                              no_index=no_index, sort=sort, R=reverse, snapshot=snapshot)
        if files:
            raise F5QuiltError("diff FILE...: only in quilt mode (without f5quilt.yaml)")
        data = authoring.diff(ws, patch, combine=combine, unrefreshed=unrefreshed,
                              context=unified_n if unified_n is not None else 3)
    else:
        from f5quilt.ops.authoring import quiltdiff
        target = authoring.applied_or_top(ws, patch)
        st = _quilt_style(ws, target, strip, no_timestamps, no_index,
                          _diff_format(unified, unified_n, context_fmt, context_n), sort)
        wanted = [rel for rel in (authoring.query_rel(ws, f) for f in files) if rel is not None]
        if files and not wanted:
            return 0  # quilt: names outside the tree are in no patch, nothing to show
        warnings: "list[Event]" = []
        said = render(reporter, ws)
        try:
            data = quiltdiff.quilt_diff(ws, said, target, st, files=wanted, combine=combine,
                                        snapshot=snapshot, relative=unrefreshed, reverse=reverse,
                                        warnings=warnings)
        except quiltdiff.DiffFailed as exc:
            sys.stdout.flush()
            sys.stdout.buffer.write(exc.printed)
            sys.stdout.flush()
            raise
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        for note in warnings:
            said(note)
        return 0
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
    ws = Context.workspace()
    _say_quilt_mode(ws, reporter)
    if author is None and not git_style:
        authoring.new_patch(ws, render(reporter, ws), name)
    else:
        from f5quilt.ops.authoring.githeader import new_with_author
        new_with_author(ws, render(reporter, ws), name, author or "")
    return 0


def _on_a_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def _say_quilt_mode(ws: Workspace, reporter: Reporter) -> None:
    """The first `new` without an f5quilt.yaml makes a series folder and .pc/ wherever it runs:
    one line says so to a person at a terminal (never in -q, never to scripts or quilt's suite)."""
    if (ws.settings.dialect is Dialect.QUILT and reporter.level >= NORMAL and _on_a_terminal()
            and not ws.settings.series.exists() and not ws.stack.pc.exists()):
        reporter.warn(f"quilt mode (no f5quilt.yaml here or above): making {ws.settings.patches_display}/ "
                      f"and {ws.settings.pc_name}/ in {ws.tree}; `f5quilt init` vendors a release instead")


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("-P", "patch", help="Add to this applied patch instead of the top one.")
@verbosity
def add(files: Tuple[str, ...], patch: Optional[str], reporter: Reporter) -> int:
    """Back FILES up into the top patch before editing them.

    Refuses a file that a later applied patch also touches.
    """
    ws = Context.workspace()
    already = authoring.add_files(ws, render(reporter, ws), list(files), patch)
    return EXIT_NOTHING if already else EXIT_OK  # quilt: 2 when a file was in the patch already


@cli.command()
@click.argument("files", nargs=-1, required=True)
@verbosity
def edit(files: Tuple[str, ...], reporter: Reporter) -> int:
    """Add FILES to the top patch, then open them in $EDITOR."""
    ws = Context.workspace()
    authoring.add_files(ws, render(reporter, ws), list(files))  # a file there already: edit it anyway
    if ws.settings.dialect is Dialect.QUILT:
        # quilt runs the editor in the tree's root, on tree-relative names
        rels = [authoring.tree_rel(ws, f) for f in files]
        _run_editor(ws, rels, cwd=ws.tree)
        gone = [rel for rel in rels if not (ws.tree / rel).exists()
                and (ws.stack.backup_dir(ws.stack.top() or "") / rel).stat().st_size == 0]
        if gone:  # quilt: a file the editor did not create leaves the patch again
            authoring.remove_files(ws, render(reporter, ws), [str(ws.tree / rel) for rel in gone])
        return 0
    _run_editor(ws, list(files))
    return 0


@cli.command()
@click.argument("name", required=False)
@json_option("Print {\"patch\", \"files\"} as JSON.")
@verbosity
def files(name: Optional[str], as_json: bool, reporter: Reporter) -> int:
    """List the files the top patch (or NAME) touches; -v marks those it creates (+)
    and deletes (-), as quilt's files -v."""
    from f5quilt.output import VERBOSE
    ws = Context.workspace()
    patch = authoring.named_or_top(ws, name)
    found = authoring.patch_files(ws, patch)
    if as_json:
        import json
        click.echo(json.dumps({"patch": patch, "files": found}, indent=2))
        return 0
    applied = patch in ws.stack.applied()
    for rel in found:
        if reporter.level >= VERBOSE and applied:
            old, new = ws.stack.backup(patch, rel), authoring.content_after(ws, ws.stack.applied(), patch, rel)
            mark = "+" if old is None and new is not None else ("-" if new is None else " ")
            reporter.result(f"{mark} {rel}")
        else:
            reporter.result(rel)
    return 0


@cli.command()
@click.argument("files", nargs=-1, required=True)
@color_option("Accepted for quilt (QUILT_PATCHES_ARGS); output is plain.")
@json_option("Print {\"file\", \"patches\"} as JSON.")
@verbosity
def patches(files: Tuple[str, ...], color: Optional[str], as_json: bool, reporter: Reporter) -> int:
    """List the patches in the series that touch FILE (any of FILES); -v marks the
    top one with = and the other applied ones with +, as quilt's series -v."""
    from f5quilt.output import VERBOSE
    ws = Context.workspace()
    rels = [rel for rel in (authoring.query_rel(ws, f) for f in files) if rel is not None]
    applied = ws.stack.applied()
    top = applied[-1] if applied else None
    names = [name for name in ws.series.names if set(rels) & set(authoring.patch_files(ws, name))]
    if as_json:
        import json
        click.echo(json.dumps({"file": rels[0] if len(rels) == 1 else rels, "patches": names}, indent=2))
        return 0
    for name in names:
        if reporter.level >= VERBOSE:
            mark = "=" if name == top else ("+" if name in applied else " ")
            reporter.result(f"{mark} {ws.display(name)}")
        else:
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
        from f5quilt.ops.authoring.githeader import header_git
        ws = Context.workspace()
        changed = header_git(ws, render(Reporter(NORMAL), ws), name, author)
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
        _run_editor(ws, [fh.name])
        with open(fh.name, "rb") as f:
            text = f.read()
        os.unlink(fh.name)
    else:
        data = sys.stdin.buffer.read()
        text = current + data if append else data
    authoring.set_header(ws, patch, text)
    if append:
        click.echo(f"Appended text to header of patch {ws.display(patch)}")
    else:
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
    authoring.delete_patch(ws, render(reporter, ws), target, remove_file=remove, backup=backup)
    return 0


@cli.command()
@click.argument("new_name")
@click.option("-P", "patch", help="Rename this patch instead of the top one.")
@verbosity
def rename(new_name: str, patch: Optional[str], reporter: Reporter) -> int:
    """Rename the top patch (or -P) to NEW_NAME, in the series, patches/ and .pc/."""
    ws = Context.workspace()
    authoring.rename_patch(ws, render(reporter, ws), authoring.named_or_top(ws, patch), new_name)
    return 0


@cli.command("import")
@click.argument("files", nargs=-1)
@click.option("-P", "name", help="Store the (single) patch under this name.")
@click.option("-p", "strip", type=int, default=None, help="Strip level recorded in the series (default 1).")
@click.option("-f", "--force", is_flag=True, help="Overwrite a patch of the same name.")
@click.option("-R", "reverse", is_flag=True, help="Record the patch as applied reversed (-R in the series).")
@click.option("-d", "keep_header", type=click.Choice(["o", "a", "n"]), default=None,
              help="With -f over a patch whose header differs: keep the old (o), all (a) or the new (n) header.")
@click.option("--git", "git_range", metavar="RANGE",
              help="Import commits instead: RANGE as git rev-list takes it (A..B, or a branch from export --git).")
@click.option("--repo", type=click.Path(file_okay=False), help="With --git: the repository (default: the series').")
@verbosity
def import_(files: Tuple[str, ...], name: Optional[str], strip: Optional[int], force: bool,
            reverse: bool, keep_header: Optional[str], git_range: Optional[str], repo: Optional[str], reporter: Reporter) -> int:
    """Import patch FILES into the series after the top patch (header kept).

    With --git RANGE, each commit of RANGE becomes a patch (header from the
    commit: From/Date/Subject and body, or the header export --git took it
    from, byte for byte), written in the series' own diff style.
    """
    if git_range is None:
        if not files:
            raise click.UsageError("import needs patch FILES (or --git RANGE)")
        ws = Context.workspace()
        authoring.import_patches(ws, render(reporter, ws), list(files), name=name, force=force, strip=strip,
                                 keep_header=keep_header, reverse=reverse)
        return 0
    if files or name or strip is not None or reverse:
        raise click.UsageError("import --git takes no FILES, -P or -p")
    from f5quilt.ops.series import gitseries
    from pathlib import Path
    ws = Context.workspace()
    git = gitseries.Git(Path(repo) if repo else gitseries.default_repo(ws))
    gitseries.import_commits(ws, git, git_range.split(), render(reporter, ws), force=force)
    return 0


@cli.command()
@click.option("-p", "strip", type=int, default=1, show_default=True, help="Strip level of the incoming patch.")
@fuzz_option()
@click.option("-f", "--force", is_flag=True, help="Fold even if hunks fail.")
@verbosity
def fold(strip: int, fuzz: Optional[int], force: bool, reporter: Reporter) -> int:
    """Apply the patch on standard input to the top patch's files (then refresh)."""
    ws = Context.workspace()
    reporter.speaks_quilt = ws.settings.dialect is Dialect.QUILT
    authoring.fold(ws, render(reporter, ws), sys.stdin.buffer.read(), strip=strip, fuzz=ws.settings.fuzz_for(fuzz), force=force)
    return 0


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("-P", "patch", help="The top patch, named explicitly.")
@verbosity
def revert(files: Tuple[str, ...], patch: Optional[str], reporter: Reporter) -> int:
    """Undo the unrefreshed edits to FILES in the top patch."""
    ws = Context.workspace()
    authoring.revert_files(ws, render(reporter, ws), list(files), patch)
    return 0


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("-P", "patch", help="The top patch, named explicitly.")
@verbosity
def remove(files: Tuple[str, ...], patch: Optional[str], reporter: Reporter) -> int:
    """Take FILES out of the top patch, restoring their content from before it."""
    ws = Context.workspace()
    authoring.remove_files(ws, render(reporter, ws), list(files), patch)
    return 0
