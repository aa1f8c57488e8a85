"""The command line: thin click commands over the core, one error boundary.

Exit codes: 0 ok; 1 error; 2 nothing to do (quilt) or usage error;
3 conflicts left in the tree; 4 internal error (a bug); 130 interrupted.
"""
from __future__ import annotations

import sys
from typing import Any, List, Optional

import click

from f5quilt.errors import EXIT_INTERRUPTED
from f5quilt.output import guarded
from .common import Context

EPILOG = ("Exit codes: 0 ok, 1 error, 2 nothing to do, 3 conflicts left in the "
          "tree, 4 internal error, 130 interrupted.")


# command -> the module that defines it, in the order --help lists them (daily use first).
# Modules are imported only when their command runs: `push` never loads git, tarfile
# or the merge machinery, which keeps start-up, paid on every command, short.
COMMANDS = {
    "init": "initcmd",
    "push": "stackcmds", "pop": "stackcmds", "goto": "guardcmds",
    "refresh": "authoringcmds", "diff": "authoringcmds", "new": "authoringcmds", "add": "authoringcmds",
    "edit": "authoringcmds", "files": "authoringcmds", "patches": "authoringcmds", "header": "authoringcmds",
    "delete": "authoringcmds", "rename": "authoringcmds", "import": "authoringcmds", "fold": "authoringcmds",
    "revert": "authoringcmds", "remove": "authoringcmds",
    "series": "query", "applied": "query", "unapplied": "query", "top": "query", "next": "query",
    "previous": "query",
    "undo": "undocmds", "redo": "undocmds", "log": "undocmds", "stash": "stashcmds",
    "rebase": "rebasecmds", "status": "rebasecmds",
    "upstream": "upstreamcmds", "rerere": "rererecmds",
    "check": "checkcmd",
    "exec": "depcmds", "install": "depcmds", "capture": "depcmds", "absorb": "depcmds", "restore": "depcmds",
    "export": "gitcmds", "range-diff": "gitcmds",
    "guard": "guardcmds", "select": "guardcmds",
    "fork": "quiltcmds", "snapshot": "quiltcmds", "annotate": "quiltcmds", "grep": "quiltcmds",
    "graph": "quiltcmds", "upgrade": "quiltcmds", "mail": "quiltcmds", "setup": "quiltcmds",
}


class Group(click.Group):
    def list_commands(self, ctx: click.Context) -> List[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            import importlib
            importlib.import_module(f"{__name__}.{COMMANDS[cmd_name]}")  # registers its commands
        command = super().get_command(ctx, cmd_name)
        if command is not None and ctx.resilient_parsing:  # only while completing
            from .completion import attach
            attach(command)
        return command


@click.group(cls=Group, epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="f5quilt", message="f5quilt %(version)s")
@click.option("-u", "--upstream", "upstream_name", metavar="NAME",
              help="Which upstream of f5quilt.yaml's upstreams: (default: the one whose tree or patches "
                   "folder holds the current directory; check and status go over all).")
def cli(upstream_name: Optional[str]) -> None:
    """Manage a series of patches on top of a vendored tree, like GNU quilt.

    Patches are listed in patches/series and applied to the tree named in
    f5quilt.yaml (or, without that file, the current directory, as quilt
    does). State lives in .pc/ in quilt's own format, so quilt and f5quilt
    can take turns on the same tree.
    """
    Context.upstream = upstream_name



def _quilt_mode_argv(argv: List[str]) -> List[str]:
    """Without an f5quilt.yaml: quilt's ``--quiltrc FILE`` before the command, the quiltrc
    read (repo/quiltrc.py), and its ``QUILT_<COMMAND>_ARGS`` put before the command's own."""
    from f5quilt.repo.quiltrc import command_line
    rest, Context.quiltrc = command_line(argv, COMMANDS)  # for load_settings: Settings.quiltrc
    return rest


def main(argv: Optional[List[str]] = None) -> int:
    """The command line: user errors are one line, bugs a report (``output.guarded``)."""
    Context.argv = list(sys.argv[1:] if argv is None else argv)
    Context.upstream = None
    Context.quiltrc = None
    return guarded(_run_click)


def _run_click() -> int:
    """The command run by click; click's own exits and usage errors said as click says them
    (every other error reaches ``output.guarded``)."""
    try:
        argv = _quilt_mode_argv(Context.argv)
        rv: Any = cli.main(args=argv, prog_name="f5quilt", standalone_mode=False)
        return int(rv or 0)
    except click.exceptions.Abort:
        sys.stderr.write("Interrupted\n")
        return EXIT_INTERRUPTED
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
