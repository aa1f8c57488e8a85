"""The shell-prompt queries without click: ``applied``, ``top`` and ``series`` answered
before the command line (click and the command map) is imported.

A prompt runs these on every line it draws, and importing click and the command map cost
most of their time. ``main`` (the ``f5quilt`` program and ``python -m f5quilt``) reads the
arguments first: a plain query, with only options this module reads exactly as click would
(below), is answered here, through the same code the click commands run (the settings and
the quiltrc as ``cli`` reads them, ``ops/opening.open_workspace``, ``ops/queries``, the error
boundary ``output.guarded``); anything else (``--help``, ``-qv``, ``--``, a second argument,
an unknown option, an ASCII-only stdout) goes to ``f5quilt.cli.main`` unchanged.
``tests/test_query_imports.py`` checks that both give the same bytes and exit codes.

What is read here, as click reads it:
- before the command: ``-u NAME``, ``--upstream NAME``, ``--upstream=NAME`` (NAME not
  starting with ``-``); quilt mode's ``--quiltrc FILE`` first, as ``cli`` takes it;
- ``applied [PATCH]`` and ``top``: ``-q``/``--quiet``, ``-v``/``--verbose``, ``--json``;
- ``series``: ``-v``/``--verbose``, ``--json``, ``--color`` (not followed by a value)
  and ``--color=WHEN``.

The plain case (``plain_answer``): importing pathlib, typing, re and the workspace was two
thirds of what was left of a query's time, so the common case is read with ``os`` alone,
through the functions the general path builds its settings and state from
(``repo/layout.py``, ``model/series.py``): quilt mode; or an f5quilt.yaml through the record
its last committing command wrote (``Workspace.note_for_prompt``), while that record still
matches. Guards, ``--json``, ``applied PATCH``, an error to say, a repair to make, a record
that no longer matches: the general path, as before. ``tests/test_prompt_plain.py`` compares
the two on generated trees.
"""
from __future__ import annotations

import os
import sys

from f5quilt.errors import F5QuiltError

TYPE_CHECKING = False  # typing and pathlib only for mypy: see the plain case above
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Dict, FrozenSet, List, Optional

QUERIES = ("applied", "top", "series")
_FLAGS: Dict[str, Dict[str, str]] = {
    "applied": {"-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose", "--json": "json"},
    "top": {"-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose", "--json": "json"},
    "series": {"-v": "verbose", "--verbose": "verbose", "--json": "json", "--color": "color"},
}


class Query:
    """A query's command line: the command, -u's upstream, the flags given, applied's PATCH."""

    def __init__(self, command: str, upstream: Optional[str], flags: FrozenSet[str],
                 patch: Optional[str]) -> None:
        self.command, self.upstream, self.flags, self.patch = command, upstream, flags, patch


def parse(argv: List[str]) -> Optional[Query]:
    """``argv`` (after quilt mode's ``--quiltrc``) as a query this module answers, or None."""
    i, upstream = 0, None
    while i < len(argv) and argv[i].startswith("-"):
        arg = argv[i]
        if arg in ("-u", "--upstream") and i + 1 < len(argv) and argv[i + 1][:1] not in ("", "-"):
            upstream, i = argv[i + 1], i + 2
        elif arg.startswith("--upstream=") and arg[len("--upstream="):][:1] not in ("", "-"):
            upstream, i = arg[len("--upstream="):], i + 1
        else:
            return None
    if i >= len(argv) or argv[i] not in QUERIES:
        return None
    command, known = argv[i], _FLAGS[argv[i]]
    flags, patch = set(), None
    rest = argv[i + 1:]
    for j, arg in enumerate(rest):
        if arg in known:
            # click's --color takes a following word as its value (--color never): not read here
            if arg == "--color" and j + 1 < len(rest) and (rest[j + 1] == "-" or rest[j + 1][:1] != "-"):
                return None
            flags.add(known[arg])
        elif command == "series" and arg.startswith("--color="):
            flags.add("color")
        elif command == "applied" and patch is None and arg[:1] not in ("", "-"):
            patch = arg
        else:
            return None
    return Query(command, upstream, frozenset(flags), patch)


def _plain_query(argv: List[str]) -> bool:
    """Whether ``argv`` looks like a query before the quiltrc is read (which may add options)."""
    rest = argv
    if rest and rest[0].startswith("--quiltrc"):
        if rest[0] == "--quiltrc" and len(rest) > 1:
            rest = rest[2:]
        elif rest[0].startswith("--quiltrc="):
            rest = rest[1:]
    return parse(rest) is not None


def _echo(text: str) -> None:
    """click.echo's rules for a line of text on stdout: ANSI escapes dropped when stdout is not
    a terminal, then flushed."""
    out = text + "\n"
    if "\033" in out and not sys.stdout.isatty():
        import re  # lazy: start-up
        out = re.sub(r"\033\[[;?0-9]*[a-zA-Z]", "", out)  # click's _ansi_re
    sys.stdout.write(out)
    sys.stdout.flush()


def _answerable_streams() -> bool:
    """click rewraps an ASCII-only stdout as UTF-8 ('replace'): such a run goes to click."""
    import codecs  # lazy: start-up (loaded by the interpreter already)
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        if stream is None or not encoding:
            return False
        try:
            if codecs.lookup(encoding).name == "ascii":
                return False
        except LookupError:
            pass
    return True


class _Other(Exception):
    """Not the plain case: the general path answers (and says any error)."""


def plain_answer(query: Query, quiltrc: Optional[Dict[str, str]], hold: bool = True) -> Optional[str]:
    """What ``query`` prints (without its last newline) in the plain case, read with ``os``
    alone; None for any other case, which the general path answers. Takes the lock as the
    general path does, and keeps it until the process ends (``hold``; released again when it
    returns None); writes nothing."""
    from f5quilt.model.series import altered, load_series
    from f5quilt.repo import layout

    if query.patch is not None or "json" in query.flags:
        return None  # applied PATCH, --json
    fd = None
    try:
        cwd = os.path.realpath(os.getcwd())  # Path.cwd().resolve()
        if quiltrc is not None:  # quilt mode
            if query.upstream is not None:
                raise _Other  # -u without f5quilt.yaml: an error
            tree, patches, series_file, pc_name, _fuzz = layout.quilt_places(cwd, {**os.environ, **quiltrc})
            root, state = tree, os.path.join(tree, pc_name, layout.STATE_NAME)
            if any(layout.unsettled(os.path.join(d, layout.STATE_NAME)) for d in layout.folders_up(cwd)) \
                    or not os.path.isfile(series_file):
                raise _Other  # an init to roll back, no series file
        else:  # f5quilt.yaml: its places as the last command that committed recorded them
            settings_file = layout.settings_file_above(cwd)
            if settings_file is None:
                raise _Other
            root = os.path.dirname(settings_file)
            state = os.path.join(root, layout.STATE_NAME)
            record = layout.read_prompt_record(state, settings_file)
            if record is None or query.upstream not in (None, record[0]):
                raise _Other  # no record for the settings as they are now; -u another upstream
            tree, patches, series_file = layout.yaml_places(root, record[1:4])
            pc_name = record[4]
            try:
                with open(os.path.join(state, layout.TREE_PIN), "rb") as fh:
                    pin: Optional[bytes] = fh.read()
            except OSError:
                pin = None
            if (os.path.exists(tree) and not os.path.isdir(tree)) \
                    or layout.leaving_project(root, tree, patches, pc_name) is not None \
                    or record[5:] != (tree, os.path.isdir(tree), pin,
                                      os.path.exists(os.path.join(state, layout.REBASE_STATE))):
                raise _Other  # the settings' errors; the tree-pin check could say something
        fd = layout.flock(root)
        pc = os.path.join(tree, pc_name)
        if (os.path.lexists(pc) and (os.path.islink(pc) or not os.path.isdir(pc))) or layout.unsettled(state):
            raise _Other  # a .pc that is not a folder, a repair to make
        applied = layout.read_applied(os.path.join(pc, "applied-patches"))
        series = load_series(series_file)  # type: ignore[arg-type]  # a str path reads the same
        if any(e.guards for e in series.entries) or (quiltrc is not None and altered(applied, series)):
            raise _Other  # guards (series -v marks what they skip), quilt's consistency error
        shown = layout.patches_shown(quiltrc is not None, cwd, tree, patches)
        if query.command == "series":
            top = applied[-1] if applied else None
            if "verbose" in query.flags:
                done = set(applied)
                lines = [f"{'=' if e.name == top else '+' if e.name in done else ' '} {shown}/{e.name}"
                         for e in series.entries]
            else:
                lines = [f"{shown}/{e.name}" for e in series.entries]
        elif not applied:
            raise _Other  # "No patches applied" and its exit code
        else:
            lines = [f"{shown}/{name}" for name in (applied if query.command == "applied" else applied[-1:])]
        text = "\n".join(lines)
        if "\033" in text:
            raise _Other  # click drops escapes from what is not a terminal (re's work)
        text.encode(sys.stdout.encoding, sys.stdout.errors or "strict")  # what cannot be printed
        if hold:
            fd = None  # the lock stays held until the process exits, as the general path's
        return text
    except (_Other, F5QuiltError, OSError, UnicodeError):
        return None
    finally:
        if fd is not None:
            os.close(fd)


def answer(argv: List[str]) -> Optional[int]:
    """The exit code of a query answered here, or None when ``argv`` is for ``cli.main``."""
    if not argv or not _plain_query(argv) or not _answerable_streams():
        return None
    from f5quilt.output import guarded
    query: Optional[Query] = None

    def run() -> int:
        nonlocal query
        from f5quilt.repo.quiltrc import command_line
        rest, quiltrc = command_line(argv, QUERIES)
        query = parse(rest)
        if query is None:  # the quiltrc's QUILT_<COMMAND>_ARGS: options click must read
            return -1
        text = plain_answer(query, quiltrc)
        if text is not None:
            if text:
                _echo(text)
            return 0
        return _general(query, quiltrc, argv)

    code = guarded(run)
    return None if code == -1 and query is None else code


def _general(query: Query, quiltrc: Optional[Dict[str, str]], argv: List[str]) -> int:
    """Any query: the workspace opened as every command opens it, the answer ``ops/queries``'."""
    from f5quilt.ops.stack import queries
    from f5quilt.ops.stack.opening import open_workspace
    from f5quilt.output import NORMAL, Reporter
    from f5quilt.repo.layout import flock

    def lock(directory: Path) -> None:
        flock(directory)  # the descriptor stays open: the lock is held until the process exits

    ws = open_workspace(query.command, lock=lock, argv=argv, upstream=query.upstream, quiltrc=quiltrc,
                        records=False, warn=Reporter(NORMAL, out=sys.stderr, err=sys.stderr).warn)
    flags = query.flags
    if query.command == "series":
        queries.series(ws, "verbose" in flags, "json" in flags, _echo)
    elif query.command == "applied":
        queries.applied(ws, query.patch, "json" in flags, _echo)
    else:
        queries.top(ws, "json" in flags, _echo)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """The ``f5quilt`` program: a query answered here, any other command line by click."""
    args = list(sys.argv[1:] if argv is None else argv)
    code = answer(args)
    if code is not None:
        return code
    from f5quilt.cli import main as click_main
    return click_main(args)
