"""Git-style commands: export (--git, --mbox), range-diff; import --git lives with import."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt.fsutil import atomic_write
from f5quilt.output import Reporter
from .render import render
from f5quilt.repo.workspace import Workspace
from . import cli
from .common import Context
from .options import verbosity


@cli.command()
@click.option("--git", "branch", metavar="BRANCH", help="Build BRANCH: the pristine tree, then one commit per patch.")
@click.option("--mbox", "mbox_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the series as an mbox that git am accepts (- for standard output).")
@click.option("--repo", type=click.Path(file_okay=False), help="The git repository (default: the one holding the series).")
@click.option("-f", "--force", is_flag=True, help="Replace BRANCH when it exists.")
@verbosity
def export(branch: Optional[str], mbox_file: Optional[str], repo: Optional[str], force: bool,
           reporter: Reporter) -> int:
    """Export the series as git commits (--git BRANCH) or as an mbox (--mbox FILE).

    The branch's first commit holds the pristine upstream tree (at the root
    of the commit's tree); each next commit is one patch, in series order,
    with the author, date, subject and body of the patch header (DEP-3 or
    From:/Date:/Subject:). Only git plumbing runs: the work tree, the index
    and the current branch are never touched. An existing BRANCH is replaced
    only with --force. Each patch file also goes, byte for byte, into a git
    note (refs/notes/f5quilt) on its commit, so `import --git BRANCH` gives
    the patch files back exactly.
    """
    from f5quilt.ops.series import gitseries

    if not branch and not mbox_file:
        raise click.UsageError("export needs --git BRANCH or --mbox FILE")
    ws = Context.workspace(repair=False)  # reads the series, writes nothing of it
    ws.require_series()
    source = gitseries.workspace_source(ws)
    if len(source.names) != len(ws.series.names):  # guards: the series as push -a applies it
        from f5quilt.ops.stack.guards import guarded_out, why_text
        for name, why in guarded_out(ws, ws.series.names).items():
            reporter.info(f"Skipping patch {ws.display(name)} ({why_text(why)})")
    base = gitseries.workspace_base(ws, render(reporter, ws))
    git = gitseries.Git(Path(repo) if repo else gitseries.default_repo(ws)) if (branch or repo) else None
    if mbox_file:
        author = git.identity() if git is not None else _identity(ws)
        data = gitseries.mbox(source, base, author, ws.settings.fuzz)
        if mbox_file == "-":
            import sys
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
        else:
            atomic_write(Path(mbox_file), data)
            reporter.info(f"Wrote {len(source.names)} patch{'es' if len(source.names) != 1 else ''} to {mbox_file}")
    if branch and git is not None:
        done = gitseries.export_git(git, base, source, branch, force=force, fuzz=ws.settings.fuzz)
        reporter.info(f"Exported {len(done.commits)} patch{'es' if len(done.commits) != 1 else ''} to branch "
                      f"{branch} (upstream {done.upstream[:12]}, top {done.tip[:12]})")
    return 0


def _identity(ws: Workspace) -> tuple[str, str]:
    """git's identity where there is a git to ask, else f5quilt."""
    from f5quilt.ops.series import gitseries
    try:
        return gitseries.Git(gitseries.default_repo(ws)).identity()
    except F5QuiltError:
        return ("f5quilt", "")


@cli.command("range-diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option("--rebase", "rebase", is_flag=True,
              help="Compare the series before the last rebase in f5quilt's log with the series it left.")
@click.option("--creation-factor", type=click.IntRange(0, 1000), default=None,
              help="Passed to git range-diff: how different a patch may be and still match.")
@verbosity
def range_diff(old: Optional[str], new: Optional[str], rebase: bool, creation_factor: Optional[int],
               reporter: Reporter) -> int:
    """Compare the series at git revisions OLD and NEW, patch by patch.

    Without NEW, the series as it is now (patches/ and the settings, edits
    not committed included). Exports each version (its series, patch files
    and pin, as that revision has them) to temporary refs and runs git
    range-diff: each patch is
    unchanged, changed (with the interdiff of the patch itself), added or
    dropped. Exit 0 when the two series are the same, 1 when they differ.

    With --rebase (no OLD, NEW), the two versions are the series before the
    last rebase and the series that rebase left, both read from f5quilt's
    log (no git revision needed), each exported onto its own pin.
    """
    from f5quilt.ops.series import gitseries

    extra = [f"--creation-factor={creation_factor}"] if creation_factor is not None else []
    if rebase:
        if old or new:
            raise click.UsageError("range-diff --rebase takes no revisions")
        from f5quilt.ops.series.rebase import in_progress
        ws = Context.workspace()  # repairs first: the log must be whole
        if in_progress(ws):
            raise F5QuiltError("a rebase is in progress: finish it (--continue, --skip) or --abort it first")
        done, entries = gitseries.range_diff_rebase(ws, render(reporter, ws), extra)
        reporter.info(f"`{done.command}` ({done.steps} step{'s' if done.steps != 1 else ''} in the log, "
                      f"from entry {done.first}):")
    else:
        if old is None:
            raise click.UsageError("range-diff needs OLD (a git revision) or --rebase")
        ws = Context.workspace(repair=False)
        git = gitseries.Git(gitseries.default_repo(ws))
        entries = gitseries.range_diff(ws, git, old, new, render(reporter, ws), extra)
    if not entries:
        raise NothingToDo("Both series are empty")
    counts = {"unchanged": 0, "changed": 0, "added": 0, "dropped": 0}
    for e in entries:
        counts[e.status] += 1
        if e.status == "changed" and e.old != e.new:
            names = f"{e.old} -> {e.new}"
        else:
            names = str(e.new if e.status != "dropped" else e.old)
        reporter.result(f"{e.status + ':':<10} {names}")
        for line in e.interdiff:
            reporter.result(line)
    reporter.info(", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0 if counts["unchanged"] == len(entries) else 1
