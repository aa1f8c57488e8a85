"""docs/commands.md's command reference is what click says: cog's check mode fails when a
command's usage, help or options changed without `cog -r docs/commands.md`."""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from cogapp import Cog

from helpers import ROOT
from f5quilt.cli import COMMANDS, cli

DOC = ROOT / "docs/commands.md"


def cog_check(path: Path) -> int:
    """cog in check mode, in this process (so a patched command is what it sees): 0 current."""
    return int(Cog().main(["cog", "--check", str(path)]))


def test_the_reference_is_current() -> None:
    assert cog_check(DOC) == 0, "docs/commands.md is stale: run `cog -r docs/commands.md`"


def test_every_command_has_its_generated_reference_under_its_heading() -> None:
    doc = DOC.read_text()
    blocks = re.findall(r'\n## (\S+)\n<!-- \[\[\[cog cog\.out\(reference\("([^"]+)"\)\) \]\]\] -->\n', doc)
    assert [heading for heading, _ in blocks] == [name for _, name in blocks]
    assert sorted(name for _, name in blocks) == sorted(COMMANDS)
    assert sorted(COMMANDS) == sorted(cli.list_commands(click.Context(cli)))


def test_a_changed_option_help_fails_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "commands.md"
    doc.write_text(DOC.read_text())
    push = cli.get_command(click.Context(cli), "push")
    assert push is not None
    force = next(param for param in push.params if param.name == "force")
    assert isinstance(force, click.Option)
    monkeypatch.setattr(force, "help", "Something else entirely.")
    assert cog_check(doc) != 0
    Cog().main(["cog", "-r", str(doc)])
    assert "| `-f, --force` | Something else entirely. |" in doc.read_text()
    assert cog_check(doc) == 0


def test_a_new_command_without_its_block_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(COMMANDS, "frobnicate", "query")
    with pytest.raises(AssertionError):
        test_every_command_has_its_generated_reference_under_its_heading()
