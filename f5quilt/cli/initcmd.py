"""init: set a repository up for a vendored tree."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from f5quilt.output import Reporter
from . import cli
from .render import render
from .common import Context, terminal_bar
from .options import verbosity


@cli.command()
@click.option("--pypi", metavar="NAME==VERSION", help="A PyPI sdist, at an exact version.")
@click.option("--git", "git_url", metavar="URL[@REF]", help="A git repository at a tag, branch or commit.")
@click.option("--path", metavar="DIR|ARCHIVE", help="A local directory or source archive.")
@click.option("--tree", metavar="DIR", help="Where the vendored tree goes (default third_party/NAME).")
@click.option("--patches", metavar="DIR", help="The patches folder (default patches).")
@verbosity
def init(pypi: Optional[str], git_url: Optional[str], path: Optional[str], tree: Optional[str],
         patches: Optional[str], reporter: Reporter) -> int:
    """Set this directory up: f5quilt.yaml, an empty series, the tree.

    Writes f5quilt.yaml with the pin, an empty patches/series, and
    .gitignore lines for the tree, f5quilt's state (.f5quilt/) and the
    download cache (.cache/); fetches the release and materializes the
    tree. The pin records what was fetched: an archive's sha256, a git
    ref's commit (the ref is kept for people). One transaction: `f5quilt
    undo` takes it all back. Where f5quilt.yaml exists already, adds an
    upstream to it (named by -u NAME, else after the project; its patches
    folder defaults to patches/NAME), the single-pin form becoming an
    `upstreams:` mapping with the first upstream under its project name.
    """
    from f5quilt.ops.series.vendor import init as do_init, pin_of_option
    base = Path.cwd().resolve()
    pin = pin_of_option(pypi, git_url, path, base)
    do_init(base, render(reporter), pin, tree=tree, patches=patches, command_line=" ".join(Context.argv),
            name=Context.upstream, progress=terminal_bar())
    return 0
