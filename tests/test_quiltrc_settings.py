"""quilt's configuration reaches the commands through the settings (Settings.quiltrc), read once
by the command line: no module keeps it between commands."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import Runner, write_tree
from f5quilt.repo import quiltrc
from f5quilt.repo.settings import load_settings


def test_the_settings_carry_the_quiltrc_they_were_loaded_with(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"f.txt": "x\n", "my/series": "", "patches/series": ""})
    rc = tmp_path / "rc"
    rc.write_text("QUILT_PATCHES=my\nQUILT_DIFFSTAT_OPTS='-w 40'\n")
    monkeypatch.delenv("QUILT_DIFFSTAT_OPTS", raising=False)
    variables = quiltrc.load(str(rc))
    settings = load_settings(tmp_path, quiltrc=variables)
    assert settings.patches == tmp_path / "my"
    assert settings.quiltrc["QUILT_DIFFSTAT_OPTS"] == "-w 40"
    plain = load_settings(tmp_path)  # no quiltrc handed over: the environment's QUILT_* only
    assert plain.patches == tmp_path / "patches" and "QUILT_DIFFSTAT_OPTS" not in plain.quiltrc
    monkeypatch.setenv("QUILT_DIFFSTAT_OPTS", "-w 50")
    assert load_settings(tmp_path).quiltrc["QUILT_DIFFSTAT_OPTS"] == "-w 50"
    assert not hasattr(quiltrc, "current")


def test_one_commands_quiltrc_does_not_reach_the_next(tmp_path: Path, run: Runner,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"f.txt": "x\n", "my/series": "m.diff\n", "my/m.diff": "",
                          "patches/series": "p.diff\n", "patches/p.diff": ""})
    rc = tmp_path / "rc"
    rc.write_text("QUILT_PATCHES=my\n")
    rc_code, out, _ = run(tmp_path, "--quiltrc", str(rc), "series")
    assert rc_code == 0 and out == "my/m.diff\n"
    rc_code, out, _ = run(tmp_path, "--quiltrc", "-", "series")
    assert rc_code == 0 and out == "patches/p.diff\n"


def test_edit_uses_the_editor_the_quiltrc_sets(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """quilt sources its quiltrc before `edit` reads $EDITOR: an EDITOR set there is the editor."""
    import stat
    write_tree(tmp_path, {"f.txt": "x\n", "patches/series": "p.diff\n", "patches/p.diff": ""})
    for name, word in (("env-ed.sh", "env"), ("rc-ed.sh", "quiltrc")):
        script = tmp_path / name
        script.write_text(f"#!/bin/sh\nprintf '{word}\\n' >> \"$1\"\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    rc = tmp_path / "rc"
    rc.write_text(f"EDITOR={tmp_path / 'rc-ed.sh'}\n")
    monkeypatch.setenv("EDITOR", str(tmp_path / "env-ed.sh"))
    assert run(tmp_path, "--quiltrc", "-", "push")[0] == 0
    assert run(tmp_path, "--quiltrc", str(rc), "edit", "f.txt")[0] == 0
    assert (tmp_path / "f.txt").read_text() == "x\nquiltrc\n"
    assert run(tmp_path, "--quiltrc", "-", "edit", "f.txt")[0] == 0  # no quiltrc: the environment's
    assert (tmp_path / "f.txt").read_text() == "x\nquiltrc\nenv\n"
