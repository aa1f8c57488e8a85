"""The command line: thin click commands over the core, one error boundary.

Exit codes: 0 ok; 1 error; 2 nothing to do (quilt) or usage error;
3 conflicts left in the tree; 4 internal error (a bug); 130 interrupted.
"""
from __future__ import annotations

import sys
import traceback
from typing import Any, List, Optional

import click

from f5quilt.errors import EXIT_BUG, EXIT_INTERRUPTED, F5QuiltError
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



def _progress_on_a_terminal() -> None:
    """click's progress bar for long loops (extracting a release), on a terminal only."""
    from f5quilt import output
    isatty = getattr(sys.stderr, "isatty", None)
    if not (isatty and isatty()):
        output.progress_hook = None
        return

    def bar(items: Any, label: str) -> Any:
        with click.progressbar(items, label=label, file=sys.stderr) as shown:
            yield from shown
    output.progress_hook = bar


def _quilt_mode_argv(argv: List[str]) -> List[str]:
    """Without an f5quilt.yaml: quilt's ``--quiltrc FILE`` before the command, the quiltrc
    read (repo/quiltrc.py), and its ``QUILT_<COMMAND>_ARGS`` put before the command's own."""
    option: Optional[str] = None
    rest = list(argv)
    if rest and rest[0].startswith("--quiltrc"):
        if rest[0] == "--quiltrc" and len(rest) > 1:
            option, rest = rest[1], rest[2:]
        elif rest[0].startswith("--quiltrc="):
            option, rest = rest[0].split("=", 1)[1], rest[1:]
    from f5quilt.repo import quiltrc
    from f5quilt.repo.settings import find_settings_file
    from pathlib import Path
    if find_settings_file(Path.cwd().resolve()) is not None:
        return rest
    variables = Context.quiltrc = quiltrc.load(option)  # for load_settings: Settings.quiltrc
    if rest and rest[0] in COMMANDS:
        rest = [rest[0], *quiltrc.command_args(rest[0], variables), *rest[1:]]
    return rest


def main(argv: Optional[List[str]] = None) -> int:
    """The one error boundary: user errors are one line, bugs a report."""
    Context.argv = list(sys.argv[1:] if argv is None else argv)
    Context.upstream = None
    Context.quiltrc = None
    _progress_on_a_terminal()
    try:
        argv = _quilt_mode_argv(Context.argv)
        rv: Any = cli.main(args=argv, prog_name="f5quilt", standalone_mode=False)
        return int(rv or 0)
    except F5QuiltError as exc:
        sys.stdout.flush()  # what the command printed comes before its error, as in quilt
        shown = Context.reporter_for_errors()
        for line in exc.detail.splitlines():  # what the error is about, one line each (files...)
            shown.error(line)
        shown.error(exc.message)
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except OSError as exc:
        # the operating system said no (ENOSPC, EACCES, EROFS, ENAMETOOLONG...) outside a
        # transaction, or after one rolled back: one line, never a trace
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        Context.reporter_for_errors().error(f"{where}{exc.strerror or exc}")
        return 1
    except click.exceptions.Abort:
        sys.stderr.write("Interrupted\n")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted\n")
        return EXIT_INTERRUPTED
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except Exception:  # noqa: BLE001 - the boundary for bugs
        from .. import __version__
        sys.stderr.write(f"f5quilt {__version__} (python {sys.version.split()[0]}): internal error, "
                         "please report this with the trace below\n")
        traceback.print_exc()
        return EXIT_BUG
