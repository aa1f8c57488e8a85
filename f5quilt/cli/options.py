"""The options several commands share, each declared once: --fuzz, --json, --color, -q/-v.

A command's --fuzz arrives as None when not given; ``Settings.fuzz_for`` turns that into the
dialect's default (repo/settings.py), the one place it is decided.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import click

from f5quilt.output import NORMAL, QUIET, VERBOSE, Reporter

F = TypeVar("F", bound=Callable[..., Any])

FUZZ_HELP = ("Ignore up to N context lines at each end of a hunk (default: quilt mode GNU patch's 2, "
             "or QUILT_PATCH_OPTS' -F N; with f5quilt.yaml its fuzz:, else 0). A hunk that then fits "
             "more than one place is refused.")
JSON_HELP = "Print JSON (schema in docs/commands.md); patch names bare, without the patches folder."


def fuzz_option(help: str = FUZZ_HELP) -> Callable[[F], F]:
    """--fuzz N (0 to 10), passed on as ``fuzz``: an int, or None for the settings' default."""
    return click.option("--fuzz", type=click.IntRange(0, 10), default=None, metavar="N", help=help)


def json_option(help: str = JSON_HELP) -> Callable[[F], F]:
    """--json, passed on as ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def color_option(help: str) -> Callable[[F], F]:
    """quilt's --color[=always|auto|never], passed on as ``color`` (None when not given)."""
    return click.option("--color", "color", default=None, is_flag=False, flag_value="auto",
                        metavar="[=always|auto|never]", help=help)


def verbosity(func: F) -> F:
    """-q/--quiet and -v/--verbose, passed on as ``reporter``."""
    @click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
    @click.option("-v", "--verbose", is_flag=True, help="Print every file and hunk.")
    @functools.wraps(func)
    def wrapper(*args: Any, quiet: bool, verbose: bool, **kwargs: Any) -> Any:
        level = QUIET if quiet else (VERBOSE if verbose else NORMAL)
        return func(*args, reporter=Reporter(level), **kwargs)
    return wrapper  # type: ignore[return-value]
