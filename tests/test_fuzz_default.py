"""--fuzz is declared once (cli/options.py) and its default decided once (Settings.fuzz_for):
quilt mode GNU patch's 2 or QUILT_PATCH_OPTS' -F N, f5quilt mode f5quilt.yaml's fuzz: (0)."""
from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from helpers import Runner, write_tree
from f5quilt.cli import COMMANDS, cli
from f5quilt.repo.settings import load_settings

SEVEN = "a\nb\nc\nd\ne\nf\ng\n"
# its first context line is not in the file: it applies with fuzz 1 and not without
NEEDS_FUZZ_1 = "--- a/f.txt\n+++ b/f.txt\n@@ -1,7 +1,7 @@\n Z\n b\n c\n-d\n+D\n e\n f\n g\n"


def _quilt_tree(root: Path) -> Path:
    write_tree(root, {"f.txt": SEVEN, "patches/series": "top.diff\n", "patches/top.diff": ""})
    return root


def _fold(run: Runner, monkeypatch: pytest.MonkeyPatch, root: Path, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(NEEDS_FUZZ_1.encode())))
    return run(root, "fold", *args)[0]


def test_every_fuzz_option_is_the_one_declaration() -> None:
    ctx = click.Context(cli)
    found = {}
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        for param in command.params:
            if "--fuzz" in getattr(param, "opts", ()):
                found[name] = param
    assert set(found) == {"push", "goto", "check", "fold", "setup"}
    for param in found.values():
        assert param.default is None and isinstance(param.type, click.IntRange)
        assert (param.type.min, param.type.max) == (0, 10)


def test_fold_in_quilt_mode_uses_gnu_patchs_default_fuzz(tmp_path: Path, run: Runner,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """quilt's fold runs GNU patch with QUILT_PATCH_OPTS and no -F: fuzz 2 (it was 0 here)."""
    root = _quilt_tree(tmp_path)
    assert run(root, "push")[0] == 0
    assert run(root, "add", "f.txt")[0] == 0
    assert _fold(run, monkeypatch, root) == 0
    assert (root / "f.txt").read_text() == SEVEN.replace("d\n", "D\n")


def test_fold_in_quilt_mode_follows_quilt_patch_opts(tmp_path: Path, run: Runner,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = _quilt_tree(tmp_path)
    rc_file = tmp_path / "quiltrc"
    rc_file.write_text("QUILT_PATCH_OPTS='-F0'\n")
    monkeypatch.setenv("QUILTRC", str(rc_file))
    assert run(root, "push")[0] == 0
    assert _fold(run, monkeypatch, root) == 1
    assert (root / "f.txt").read_text() == SEVEN
    assert _fold(run, monkeypatch, root, "--fuzz", "1") == 0
    assert (root / "f.txt").read_text() == SEVEN.replace("d\n", "D\n")


@pytest.mark.quilt
@pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed")
def test_gnu_quilt_folds_it_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _quilt_tree(tmp_path)
    monkeypatch.setenv("QUILTRC", "-")
    subprocess.run(["quilt", "push"], cwd=root, check=True, capture_output=True)
    subprocess.run(["quilt", "fold"], cwd=root, check=True, capture_output=True, input=NEEDS_FUZZ_1.encode())
    assert (root / "f.txt").read_text() == SEVEN.replace("d\n", "D\n")


def test_the_default_per_dialect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    quilt = _quilt_tree(tmp_path / "q")
    settings = load_settings(quilt, env={})
    assert settings.fuzz_for(None) == 2 and settings.fuzz_for(0) == 0
    assert load_settings(quilt, env={"QUILT_PATCH_OPTS": "--fuzz=1"}).fuzz_for(None) == 1
    write_tree(tmp_path / "f", {"f5quilt.yaml": "tree: t\n", "t/f.txt": SEVEN, "patches/series": ""})
    assert load_settings(tmp_path / "f").fuzz_for(None) == 0
    (tmp_path / "f/f5quilt.yaml").write_text("tree: t\nfuzz: 3\n")
    assert load_settings(tmp_path / "f").fuzz_for(None) == 3 and load_settings(tmp_path / "f").fuzz_for(1) == 1
