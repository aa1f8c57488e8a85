"""Shell completion (click's, for bash, zsh and fish): patch names from the series for the
arguments and options that take a patch, the shell's own file names for those that take
files. Attached to each command when it is loaded (``Group.get_command``), so every
command, present or future, gets it by its parameter names.

Completing reads the settings and the series only: it never repairs, locks or writes.
"""
from __future__ import annotations

from typing import Any, List

import click
from click.shell_completion import CompletionItem

# parameters that name a patch of the series, and those that name files in the tree
PATCH_PARAMS = {"name", "target", "patch", "combine"}
FILE_PARAMS = {"files", "file"}
# ... except where the name is a new one
NEW_NAMES = {("new", "name"), ("import", "name"), ("rename", "new_name")}


def complete_patches(ctx: click.Context, param: click.Parameter, incomplete: str) -> List[CompletionItem]:
    try:
        from f5quilt.model.series import load_series
        from f5quilt.repo.settings import load_settings
        from .common import Context
        settings = load_settings(upstream=ctx.find_root().params.get("upstream_name"),  # -u NAME
                                 quiltrc=Context.quiltrc)
        names = load_series(settings.series).names
    except Exception:  # noqa: BLE001 - completion must never fail loudly
        return []
    prefix = settings.patches_display.rstrip("/") + "/"
    if incomplete.startswith(prefix):
        # the shell replaces the word with what it is offered: keep the folder the user typed,
        # or `push patches/0<TAB>` would become the names' common prefix, `0`
        return [CompletionItem(prefix + n) for n in names if n.startswith(incomplete[len(prefix):])]
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


def complete_files(ctx: click.Context, param: click.Parameter, incomplete: str) -> List[CompletionItem]:
    return [CompletionItem(incomplete, type="file")]  # the shell completes file names itself


def attach(command: Any) -> None:
    """Give ``command`` (and a group's subcommands) patch- and file-name completion."""
    if not isinstance(command, click.Command) or getattr(command, "_f5_completion", False):
        return
    command._f5_completion = True  # type: ignore[attr-defined]
    for param in command.params:
        if param.name is None or (command.name, param.name) in NEW_NAMES:
            continue
        if getattr(param, "_custom_shell_complete", None) is not None:
            continue
        if param.name in PATCH_PARAMS:
            param._custom_shell_complete = complete_patches  # click's hook for shell_complete=
        elif param.name in FILE_PARAMS:
            param._custom_shell_complete = complete_files
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            attach(sub)
