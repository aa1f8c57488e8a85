"""Terse-by-default output with -q/-v, colour only on a terminal, never with NO_COLOR."""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing only for mypy: the error boundary runs in a prompt's query
if TYPE_CHECKING:
    from typing import Callable, Iterable, Iterator, List, Optional, Sequence, TextIO, TypeVar

    T = TypeVar("T")
    # A progress bar around a long loop (extracting a release, pushing under -q): the command
    # line passes click's bar (cli.common.terminal_bar) when stderr is a terminal, through the
    # workspace (Workspace.progress) and each Upstream; None (the default): the loop runs silently.
    Progress = Callable[[Sequence[object], str], Iterable[object]]


def with_progress(items: Sequence[T], label: str, bar: Optional[Progress]) -> Iterator[T]:
    """``items``, shown by ``bar`` (a progress bar on a terminal) when there is one."""
    if bar is None or len(items) < 2:
        yield from items
        return
    for item in bar(items, label):
        yield item  # type: ignore[misc]

QUIET, NORMAL, VERBOSE = 0, 1, 2

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}


def use_colour(stream: TextIO) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty: Optional[Callable[[], bool]] = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Reporter:
    """Where the core's messages go; the CLI gives stdout/stderr, tests a list."""

    def __init__(self, level: int = NORMAL, out: Optional[TextIO] = None,
                 err: Optional[TextIO] = None) -> None:
        self.level = level
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.colour = use_colour(self.out)
        self.lines: List[str] = []
        # the words and verbosity of GNU quilt, chosen per command by cli/ (quilt's commands
        # in a quilt-dialect tree; f5quilt's own, like goto, keep f5quilt's words): -q hides
        # only the chatter GNU patch's -s hides, quilt's own steps ("Applying patch", "Now at
        # patch") still print. How a command *behaves* is ws.settings.dialect, never this.
        self.speaks_quilt = False

    def _paint(self, text: str, colour: Optional[str]) -> str:
        if colour and self.colour:
            return f"\033[{_COLOURS[colour]}m{text}\033[0m"
        return text

    def info(self, text: str, colour: Optional[str] = None) -> None:
        """Normal progress (quilt prints it; -q hides it)."""
        if self.level >= NORMAL:
            self.out.write(self._paint(text, colour) + "\n")

    def step(self, text: str) -> None:
        """A step of a command (Applying/Removing/Now at patch): -q hides it, but not in quilt mode."""
        if self.level >= NORMAL or self.speaks_quilt:
            self.out.write(text + "\n")

    def quilt_info(self, text: str) -> None:
        """What GNU quilt prints at normal verbosity and f5quilt only with -v."""
        if self.level >= VERBOSE or (self.speaks_quilt and self.level >= NORMAL):
            self.out.write(text + "\n")

    def verbose(self, text: str) -> None:
        if self.level >= VERBOSE:
            self.out.write(text + "\n")

    def result(self, text: str) -> None:
        """The answer to a query command: printed even with -q."""
        self.out.write(text + "\n")

    def warn(self, text: str) -> None:
        self.err.write(self._paint(text, "yellow") + "\n")

    def error(self, text: str) -> None:
        self.err.write(self._paint(text, "red") + "\n")


def guarded(run: Callable[[], int]) -> int:
    """The one error boundary (the command line's and the shell-prompt fast path's): a user
    error is its detail lines and one line on stderr, red on a terminal, with its exit code; an
    error of the operating system one line; a bug a report with the trace (exit 4)."""
    from f5quilt.errors import EXIT_BUG, EXIT_INTERRUPTED, F5QuiltError

    def shown() -> Reporter:
        return Reporter(NORMAL, out=sys.stderr, err=sys.stderr)

    try:
        return run()
    except F5QuiltError as exc:
        sys.stdout.flush()  # what the command printed comes before its error, as in quilt
        reporter = shown()
        for line in exc.detail.splitlines():  # what the error is about, one line each (files...)
            reporter.error(line)
        reporter.error(exc.message)
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except OSError as exc:
        # the operating system said no (ENOSPC, EACCES, EROFS, ENAMETOOLONG...) outside a
        # transaction, or after one rolled back: one line, never a trace
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        shown().error(f"{where}{exc.strerror or exc}")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted\n")
        return EXIT_INTERRUPTED
    except Exception:  # noqa: BLE001 - the boundary for bugs
        import traceback
        from f5quilt import __version__
        sys.stderr.write(f"f5quilt {__version__} (python {sys.version.split()[0]}): internal error, "
                         "please report this with the trace below\n")
        traceback.print_exc()
        return EXIT_BUG
