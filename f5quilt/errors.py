"""Errors that reach the user, and the exit codes they map to.

Exit codes follow GNU quilt where quilt has the same situation and StGit
for the rest:

* 0 — success
* 1 — error (bad input, a patch that does not apply, refused operation)
* 2 — nothing to do (quilt's convention: series fully applied, no patch
  applied, ...) or a usage error reported by click
* 3 — a 3-way merge left conflicts in the tree
* 4 — an unexpected internal error (a bug; a report is printed)
* 130 — interrupted
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing and pathlib only for mypy: every module imports an error, the
if TYPE_CHECKING:     # shell-prompt queries too, whose start-up imports neither (fastpath.py)
    from pathlib import Path
    from typing import Optional, Union

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_NOTHING = 2
EXIT_CONFLICT = 3
EXIT_BUG = 4
EXIT_INTERRUPTED = 130


class F5QuiltError(Exception):
    """A user-facing error: printed as one line, exit code ``exit_code``."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, exit_code: Optional[int] = None,
                 detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        if exit_code is not None:
            self.exit_code = exit_code


def located(path: Union[str, Path], line: Optional[int], message: str) -> str:
    """Format ``file:line: message`` the way compilers and git do."""
    if line is None:
        return f"{path}: {message}"
    return f"{path}:{line}: {message}"


class PatchFormatError(F5QuiltError):
    """A patch file that cannot be parsed."""

    def __init__(self, path: Union[str, Path], line: Optional[int],
                 message: str) -> None:
        super().__init__(located(path, line, message))
        self.path = str(path)
        self.line = line


class NothingToDo(F5QuiltError):
    exit_code = EXIT_NOTHING


class Conflicted(F5QuiltError):
    """Refused or stopped over conflicts left to resolve."""
    exit_code = EXIT_CONFLICT


class BadUsage(F5QuiltError):
    """Options that cannot go together, or a value of the wrong form (click's usage code)."""
    exit_code = EXIT_NOTHING


class NotFound(F5QuiltError):
    """quilt's plain failure (exit 1) where it would otherwise be "nothing to do"."""
    exit_code = EXIT_ERROR


class UnsafePath(F5QuiltError):
    """A path in a patch that would leave the tree."""
