"""docs/commands.md's command reference, written from the click commands themselves.

The cog blocks in docs/commands.md call :func:`reference` (regenerate with
``cog -r docs/commands.md``); tests/test_docs_commands.py runs cog in check mode, so a
command whose usage, help or options change without the document fails the tests.
Only what click declares is written here: no terminal width, no environment.
"""
from __future__ import annotations

import inspect
from typing import List, Optional

import click

from . import COMMANDS, cli


def _context(command: click.Command, name: str, parent: Optional[click.Context]) -> click.Context:
    return click.Context(command, info_name=name, parent=parent)


def _help_text(text: Optional[str]) -> List[str]:
    """A docstring as markdown paragraphs: click's ``\\b`` (keep the lines) becomes a code block."""
    if not text:
        return []
    lines: List[str] = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b\n"):
            lines += ["```", *paragraph.splitlines()[1:], "```", ""]
        else:
            lines += [" ".join(part.strip() for part in paragraph.splitlines()), ""]
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _options(command: click.Command, ctx: click.Context) -> List[str]:
    rows = []
    left_out = command.get_help_option(ctx)  # -h is everywhere (said once, above)
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None or param is left_out or param.name == "version":  # also arguments, hidden
            continue
        names, text = record
        rows.append(f"| `{_cell(names)}` | {_cell(text)} |")
    if not rows:
        return []
    return ["| option | |", "|---|---|", *rows, ""]


def _command(command: click.Command, ctx: click.Context, heading: Optional[str]) -> List[str]:
    usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    lines = [heading, ""] if heading else []
    lines += [f"`{usage}`", ""]
    lines += _help_text(command.help)
    lines += _options(command, ctx)
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            subcommand = command.get_command(ctx, sub)
            assert subcommand is not None
            lines += _command(subcommand, _context(subcommand, sub, ctx), f"**`{ctx.command_path} {sub}`**")
    return lines


def _root() -> click.Context:
    return _context(cli, "f5quilt", None)


def reference(name: str) -> str:
    """The reference of command ``name`` (``push``, ``upstream``...): usage, help, options,
    and each subcommand's, as markdown."""
    root = _root()
    command = cli.get_command(root, name)
    if command is None:
        raise KeyError(name)
    lines = _command(command, _context(command, name, root), None)
    return "\n".join(lines).rstrip("\n") + "\n"


def overview() -> str:
    """The group's usage, its options and every command with its one-line summary."""
    root = _root()
    lines = [f"`{' '.join(['f5quilt', *cli.collect_usage_pieces(root)])}`", ""]
    lines += _options(cli, root)
    lines += ["| command | |", "|---|---|"]
    for name in COMMANDS:
        command = cli.get_command(root, name)
        assert command is not None
        lines.append(f"| [`{name}`](#{name}) | {_cell(command.get_short_help_str(limit=200))} |")
    return "\n".join(lines) + "\n"
