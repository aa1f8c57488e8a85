"""The layers stay visible: import-linter's contracts (.importlinter) hold.

cli -> ops -> repo -> engine -> model -> (fsutil, output, proc) -> errors, and
nothing below the command line imports click.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_layers_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    r = subprocess.run([exe, "--config", str(ROOT / ".importlinter")], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "2 kept, 0 broken" in r.stdout


def test_no_output_or_exit_code_below_the_command_line() -> None:
    """Ops and repo emit typed events and return outcomes (f5quilt/events.py): no Reporter,
    no exit code, no print or write to the process's streams (issue 19's check)."""
    import ast
    import re

    found = []
    for path in sorted((ROOT / "f5quilt").glob("[or]*/*.py")):
        if path.parent.name not in ("ops", "repo"):
            continue
        text = path.read_text()
        for m in re.finditer(r"\bReporter\b|\bEXIT_[A-Z]+\b|\bexit_code=", text):
            found.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: print(")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr") \
                    and isinstance(node.value, ast.Name) and node.value.id == "sys":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: sys.{node.attr}")
    assert not found, "\n".join(found)
