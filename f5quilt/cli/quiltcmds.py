"""quilt's commands that f5quilt had not (ops/authoring/quiltcmds.py does the work)."""
from __future__ import annotations

import re
from typing import Optional

import click

from f5quilt.ops.authoring import mail as mailing, quiltcmds, quiltquery
from f5quilt.ops.series import setup as quiltsetup
from f5quilt.output import Reporter
from . import cli
from .render import exit_code, render
from .common import Context
from .options import fuzz_option, verbosity


@cli.command()
@click.argument("new_name", required=False)
@verbosity
def fork(new_name: Optional[str], reporter: Reporter) -> int:
    """Fork the top patch: it goes on under NEW_NAME (default: NAME-2, NAME-3...) in the
    series and .pc/, and the old patch file stays for the series of others that use it."""
    ws = Context.workspace()
    quiltcmds.fork(ws, render(reporter, ws), new_name)
    return 0


@cli.command()
@click.option("-d", "remove", is_flag=True, help="Only remove the current snapshot.")
@verbosity
def snapshot(remove: bool, reporter: Reporter) -> int:
    """Take a snapshot of the tree's patched files (in .pc/.snap), for `diff --snapshot`."""
    ws = Context.workspace()
    quiltcmds.snapshot(ws, render(reporter, ws), remove=remove)
    return 0


@cli.command()
@click.argument("file")
@click.option("-P", "patch", help="Annotate as the file is after this patch.")
def annotate(file: str, patch: Optional[str]) -> int:
    """Print FILE with, before each line, the number of the applied patch that last
    changed it; the numbered patches follow (quilt's annotate)."""
    from f5quilt.ops.authoring.core import tree_rel
    ws = Context.workspace()
    for line in quiltquery.annotate(ws, patch, tree_rel(ws, file)):
        click.echo(line)
    return 0


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def grep(args: tuple[str, ...]) -> int:
    """Search the tree's files with grep, the patches folder and .pc/ left out:
    grep [GREP-OPTIONS] PATTERN [FILE|DIR...] (quilt's grep; options go to grep)."""
    from f5quilt import proc
    from f5quilt.errors import F5QuiltError
    ws = Context.workspace(repair=False)
    opts: list[str] = []
    rest = list(args)
    while rest and rest[0].startswith("-") and rest[0] != "--":
        opts.append(rest.pop(0))
    if rest and rest[0] == "--":
        rest.pop(0)
    if not rest:
        raise F5QuiltError("Usage: quilt grep [-h|options] {pattern} [files ...]")
    pattern, paths = rest[0], rest[1:]
    files = quiltquery.grep_files(ws, paths)
    if not files:
        return 1
    h = [] if "-h" in opts else ["-H"]
    return proc.run(["grep", *h, *opts, "--", pattern, *files], ok=None,  # grep's exit code is ours
                    cwd=None if paths else ws.tree,  # quilt greps from the tree's root (names relative to it)
                    stdin=proc.INHERIT, stdout=proc.INHERIT, stderr=proc.INHERIT).returncode


@cli.command()
@click.argument("patch", required=False)
@click.option("--all", "all_", is_flag=True, help="Every applied patch and its dependencies.")
@click.option("--reduce", is_flag=True, help="Leave out transitive edges (through graphviz's tred).")
@click.option("--lines", is_flag=False, flag_value="2", default=None, metavar="[=NUM]",
              help="A dependency is an overlap of the changed lines, with NUM lines of context (default 2).")
@click.option("--edge-labels", type=click.Choice(["files"]), default=None, help="Label edges with the files.")
@click.option("-T", "fmt", type=click.Choice(["ps"]), default=None, help="PostScript output (through graphviz's dot).")
def graph(patch: Optional[str], all_: bool, reduce: bool, lines: Optional[str], edge_labels: Optional[str],
          fmt: Optional[str]) -> int:
    """Print the dependencies between applied patches as a dot graph (quilt's graph): a
    patch depends on another if both touch the same file or, with --lines, if their
    changes overlap. Without --all: the patches PATCH (default the top) depends on and
    that depend on it."""
    import shutil
    import sys
    from f5quilt import proc
    from f5quilt.errors import F5QuiltError
    from f5quilt.output import NORMAL
    if patch is not None and all_:
        raise F5QuiltError("Usage: quilt graph [--all] [--reduce] [--lines[=num]] [--edge-labels=files] "
                           "[-T ps] [patch]", exit_code=1)
    if lines is not None and not lines.isdigit():  # getopt's "lines::": `--lines PATCH` is no value
        if patch is not None:
            raise F5QuiltError(f"--lines={lines}: not a number", exit_code=1)
        patch, lines = lines, "2"
    for wanted, tool, option in ((fmt, "dot", "-T"), (reduce, "tred", "--reduce")):
        if wanted and shutil.which(tool) is None:
            raise F5QuiltError(f"You have to install '{tool}' (from package graphviz) to use "
                               f"'quilt graph {option}'")
    text = quiltquery.graph(Context.workspace(repair=False), patch, all_=all_,
                           edge_files=edge_labels == "files", lines=int(lines) if lines is not None else None,
                           emit=render(Reporter(NORMAL))).encode("utf-8", "surrogateescape")
    for wanted, cmd in ((reduce, ["tred"]), (fmt, ["dot", f"-T{fmt}"])):
        if wanted:
            text = proc.run(cmd, input=text, stderr=proc.INHERIT).stdout
    sys.stdout.flush()
    sys.stdout.buffer.write(text)
    return 0


@cli.command()
@click.option("--latest", is_flag=True, help="f5quilt mode: the newest final release (the default).")
@click.option("--onto", metavar="SPEC",
              help="f5quilt mode: a version specifier (PEP 440: '<25'), a bare version, or a full pin.")
@click.option("--continue", "cont", is_flag=True,
              help="f5quilt mode: go on once the conflicts are resolved (rebase --continue).")
@click.option("--summary", metavar="FILE", type=click.Path(dir_okay=False),
              help="f5quilt mode: write a markdown summary (per patch: clean, merged, conflict, dropped; "
                   "range-diff) to FILE, for a pull request's body.")
@verbosity
def upgrade(latest: bool, onto: Optional[str], cont: bool, summary: Optional[str], reporter: Reporter) -> int:
    """Without f5quilt.yaml, quilt's: bring .pc/ to version 2. With it, the autopilot.

    Quilt mode: bring .pc/ to quilt's version 2 format (the only one
    f5quilt reads or writes). f5quilt mode: find the newest release of the
    pinned project (PyPI's index or the git tags; within --onto SPEC),
    forecast (check --onto), rebase, drop the patches upstream now
    contains, and go on past conflicts: each conflicted patch is left
    pushed with its markers and recorded; resolve them, then `upgrade
    --continue`. Several upstreams: each in turn (or -u NAME). Exit 0 done,
    2 nothing newer, 3 conflicts to resolve, 1 error.
    """
    from f5quilt.repo.settings import Dialect, load_settings, UndecidedUpstream
    try:
        settings = load_settings(upstream=Context.upstream, quiltrc=Context.quiltrc)
        quilt_mode = settings.dialect is Dialect.QUILT
    except UndecidedUpstream:
        quilt_mode = False
    if quilt_mode:
        if latest or onto or cont or summary:
            raise click.UsageError("--latest, --onto, --continue and --summary need an f5quilt.yaml "
                                   "(in quilt mode upgrade is quilt's .pc/ format upgrade)")
        ws = Context.workspace()
        quiltcmds.upgrade(ws, render(reporter, ws))
        return 0
    if latest and onto:
        raise click.UsageError("give --latest or --onto SPEC, not both")
    if cont and (latest or onto):
        raise click.UsageError("--continue takes no --latest or --onto")
    from f5quilt.errors import NothingToDo
    from f5quilt.ops.series import upgrade as autopilot
    reports = []
    worst = 0
    names = Context.upstreams()
    for name in names:
        Context.upstream = name
        ws = Context.workspace(stale_tree="ignore")
        try:
            if cont:
                report = autopilot.resume(ws, render(reporter, ws))
            else:
                report = autopilot.upgrade(ws, render(reporter, ws), onto)
        except NothingToDo as exc:
            if len(names) == 1:
                raise
            reporter.info(f"{name}: {exc.message}")
            continue
        reports.append(report)
        worst = max(worst, exit_code(report.stop))
    if summary and reports:
        from pathlib import Path
        from f5quilt.fsutil import atomic_write_text
        atomic_write_text(Path(summary), autopilot.summary_markdown(reports))
        reporter.info(f"Wrote the summary to {summary}")
    if not reports:
        raise NothingToDo("every upstream is at its newest release")
    return worst


@cli.command()
@click.argument("range_", nargs=-1, metavar="[FIRST_PATCH [LAST_PATCH]]")
@click.option("--mbox", "mbox_file", metavar="FILE", help="Write the messages to FILE, an mbox.")
@click.option("--send", is_flag=True, help="Send the messages: ${QUILT_SENDMAIL:-sendmail} "
              "${QUILT_SENDMAIL_ARGS--f SENDER} RECIPIENTS... (the quiltrc's or the environment's).")
@click.option("--prefix", default="patch", show_default=True, help="The subject prefix: [PREFIX n/N].")
@click.option("--subject", help="The introduction's subject.")
@click.option("-m", "message", help="The introduction's text.")
@click.option("-M", "message_file", type=click.Path(dir_okay=False), help="The introduction's text, from a file.")
@click.option("--sender", help="The envelope sender (default LOGNAME@host).")
@click.option("--from", "from_", help="The From: header (default the sender).")
@click.option("--to", multiple=True, help="A To: recipient (repeatable).")
@click.option("--cc", multiple=True, help="A Cc: recipient (repeatable).")
@click.option("--bcc", multiple=True, help="A Bcc: recipient (repeatable).")
@click.option("--charset", default=None,
              help="The charset named in the headers (default UTF-8 in a UTF-8 locale, else ISO-8859-15, as quilt).")
@click.option("--signature", type=click.Path(allow_dash=True), help="A signature file, or - for none.")
@click.option("--reply-to", metavar="MESSAGE", help="Reply to the message in this file (In-Reply-To:, "
              "References:, Subject: Re: its subject).")
@verbosity
def mail(range_: tuple[str, ...], mbox_file: Optional[str], send: bool, prefix: str, subject: Optional[str],
         message: Optional[str], message_file: Optional[str], sender: Optional[str], from_: Optional[str],
         to: tuple[str, ...], cc: tuple[str, ...], bcc: tuple[str, ...], charset: Optional[str],
         signature: Optional[str], reply_to: Optional[str], reporter: Reporter) -> int:
    """Mail the series (or FIRST_PATCH..LAST_PATCH, - for the first/last) as quilt's mail:
    an introduction [PREFIX 0/N] and one message per patch, its subject from the header
    (Subject:, DESC/EDESC, or a short first paragraph), To:/Cc: from its To:/Signed-off-by:
    lines; into an mbox (--mbox) or through sendmail (--send)."""
    import os
    import socket
    from pathlib import Path
    from f5quilt.errors import F5QuiltError
    usage = ("Usage: quilt mail {--mbox file|--send} [-m text] [-M file] [--prefix prefix] [--sender ...] "
             "[--from ...] [--to ...] [--cc ...] [--bcc ...] [--subject ...] [--reply-to message] "
             "[--charset ...] [--signature file] [first_patch [last_patch]]")
    if len(range_) > 2 or not (mbox_file or send):
        raise F5QuiltError(usage, exit_code=1)
    if mbox_file and send:
        raise F5QuiltError("mail: --mbox and --send: choose one", exit_code=1)
    if message and message_file:
        raise F5QuiltError("Introduction message already specified", exit_code=1)
    ws = Context.workspace(repair=False)
    names = ws.series.names
    if range_:
        first = names[0] if range_[0] == "-" else ws.resolve_name(range_[0])
        last = first if len(range_) < 2 else (names[-1] if range_[1] == "-" else ws.resolve_name(range_[1]))
        if names.index(first) > names.index(last):
            raise F5QuiltError(f"Patch {ws.display(first)} not applied before patch {ws.display(last)}",
                               exit_code=1)
        names = names[names.index(first):names.index(last) + 1]
    if message_file:
        message = Path(message_file).read_text().rstrip("\n")
    sig: Optional[str] = None
    if signature and signature != "-":
        sig = Path(signature).read_text().rstrip("\n")
    elif signature is None and Path(os.path.expanduser("~/.signature")).is_file():
        sig = Path(os.path.expanduser("~/.signature")).read_text().rstrip("\n")
    if not sender:
        try:
            host = Path("/etc/mailname").read_text().strip()
        except OSError:
            host = socket.getfqdn()
        if "." not in host:
            host = socket.gethostname()
        sender = f"{os.environ.get('LOGNAME') or os.environ.get('USER') or 'root'}@{host}"
        if not re.match(r"^.*@.*\..*$", sender):
            raise F5QuiltError("Could not determine the envelope sender address. Please use --sender.")
    env = {**os.environ, **ws.settings.quiltrc}
    locale = env.get("LC_ALL") or env.get("LANG") or ""
    messages = mailing.mail_messages(
        ws, names, sender=sender, prefix=prefix, subject=subject, message=message, sender_from=from_,
        to=list(to), cc=list(cc), bcc=list(bcc), signature=sig, reply_to=reply_to,
        charset=charset or ("UTF-8" if locale.endswith(".UTF-8") else "ISO-8859-15"))
    if send:
        mailing.send(messages, sender, render(reporter), env)
    else:
        assert mbox_file is not None
        Path(mbox_file).write_bytes(mailing.mbox(messages, sender))  # an output file the user names
    return 0


@cli.command()
@click.argument("series_file", metavar="{SPECFILE|SERIESFILE}")
@click.option("-d", "prefix", default=None, help="Unpack into this folder (default: the current one).")
@click.option("--sourcedir", help="Where the archives and patches are (default: the series file's folder; "
              "for a spec file the current one).")
@click.option("-v", "verbose", is_flag=True, help="Show what the spec file's %prep does.")
@fuzz_option("Accepted for quilt (rpm's fuzz when applying; setup applies nothing).")
@click.option("--slow", is_flag=True, help="Accepted for quilt (f5quilt reads spec files as --slow does).")
@click.option("--fast", is_flag=True, help="Accepted for quilt.")
def setup(series_file: str, prefix: Optional[str], sourcedir: Optional[str], verbose: bool, fuzz: Optional[int],
          slow: bool, fast: bool) -> int:
    """Set up a tree from a series file or an RPM spec file (quilt's setup). Series file:
    unpack each `# Source:` archive and link `patches` and `series` in the `# Patchdir:`
    folder. Spec file (read without rpmbuild): unpack the archives its %prep unpacks, and
    in the patches' folder link `patches` to the sources and write `series` with the
    patches %prep applies and their -p/-R options; what f5quilt cannot evaluate in the
    spec (shell that unpacks or patches, %(...), Lua, %ifarch) is an error naming the line."""
    from pathlib import Path
    from f5quilt.errors import F5QuiltError
    from f5quilt.output import NORMAL
    from f5quilt.repo.settings import Settings
    from f5quilt.repo.workspace import Workspace
    if not Path(series_file).is_file():
        raise F5QuiltError(f"{series_file}: no such {'spec' if series_file.endswith('.spec') else 'series'} file")
    root = Path(prefix or ".").resolve()
    # the undo log goes to PREFIX/.f5quilt (quilt's setup leaves no .pc/ there; neither does this)
    settings = Settings(tree=root, patches=root / "patches", series=root / "patches" / "series",
                        base=Path.cwd(), settings_file=root / "f5quilt.yaml")
    reporter = Reporter(NORMAL)
    reporter.speaks_quilt = True
    if series_file.endswith(".spec"):
        quiltsetup.setup_spec(Workspace.open(settings), render(reporter), series_file,
                             prefix=prefix.rstrip("/") + "/" if prefix else "",
                             sourcedir=sourcedir.rstrip("/") + "/" if sourcedir else "", verbose=verbose)
        return 0
    quiltsetup.setup(Workspace.open(settings), render(reporter), series_file, sourcedir=sourcedir)
    return 0
