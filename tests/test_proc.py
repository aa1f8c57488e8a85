"""f5quilt.proc.run: the one way f5quilt runs another program, and what it says when that fails;
no module runs subprocess (or GitPython's command runner) itself."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from helpers import ROOT, Runner, write_tree
from f5quilt import proc
from f5quilt.errors import F5QuiltError


def test_output_is_captured_and_the_status_judged() -> None:
    r = proc.run([sys.executable, "-c", "print('hi')"])
    assert r.stdout == b"hi\n" and r.returncode == 0
    r = proc.run([sys.executable, "-c", "import sys; sys.exit(1)"], ok=(0, 1))
    assert r.returncode == 1
    assert proc.run([sys.executable, "-c", "import sys; sys.exit(7)"], ok=None).returncode == 7


def test_a_failure_is_its_last_line_of_stderr() -> None:
    code = "import sys; sys.stderr.write('warming up\\nthe real reason\\n\\n'); sys.exit(3)"
    with pytest.raises(F5QuiltError) as info:
        proc.run([sys.executable, "-c", code], what="tool")
    assert info.value.message == "tool: the real reason"
    with pytest.raises(F5QuiltError) as info:
        proc.run([sys.executable, "-c", "import sys; sys.exit(3)"], what="tool")
    assert info.value.message == "tool failed (exit status 3)"


def test_a_missing_program_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(proc.ProgramMissing) as info:
        proc.run(["f5quilt-no-such-program", "x"])
    assert info.value.message == "f5quilt-no-such-program: command not found"
    with pytest.raises(proc.ProgramMissing) as info:
        proc.run(["f5quilt-no-such-program"], missing="You have to install it")
    assert info.value.message == "You have to install it"
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(proc.ProgramMissing, match=r"not-executable: Permission denied"):
        proc.run([str(script)])


def test_a_missing_folder_is_not_a_missing_program(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        proc.run([sys.executable, "-c", ""], cwd=tmp_path / "gone")


def test_stdin_is_closed_unless_input_is_given() -> None:
    assert proc.run([sys.executable, "-c", "import sys; print(len(sys.stdin.read()))"]).stdout == b"0\n"
    assert proc.run(["cat"], input=b"abc").stdout == b"abc"
    assert proc.run(["cat"], input="abc", text=True).stdout == "abc"


def test_env_adds_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_PROC_KEPT", "kept")
    code = "import os; print(os.environ['F5QUILT_PROC_KEPT'], os.environ['LC_ALL'])"
    assert proc.run([sys.executable, "-c", code], env=proc.GIT_ENV, text=True).stdout == "kept C\n"


def test_a_timeout_is_one_line() -> None:
    with pytest.raises(F5QuiltError, match=r"^sleeper: no answer after 0.2 s$"):
        proc.run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.2, what="sleeper")


def test_exec_of_a_missing_program_is_one_line(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path, {"f.txt": "x\n", "patches/series": "p.diff\n",
                          "patches/p.diff": "--- a/f.txt\n+++ b/f.txt\n@@ -1 +1 @@\n-x\n+y\n"})
    rc, _, err = run(tmp_path, "exec", "--", "f5quilt-no-such-program")
    assert rc == 1 and err.strip().splitlines()[-1] == "f5quilt-no-such-program: command not found"


def test_nothing_else_runs_programs() -> None:
    """subprocess, os.system/popen and GitPython's Git.execute appear only in f5quilt/proc.py."""
    pattern = re.compile(r"subprocess\.(run|Popen|call|check_output|check_call)\(|os\.(system|popen)\("
                         r"|\.execute\(|git\.Git\(")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "f5quilt").rglob("*.py"))
                 if path.name != "proc.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
