"""f5quilt.proc.run: the one way f5quilt runs another program, and what it says when that fails;
no module runs subprocess (or GitPython's command runner) itself."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, Runner, f5quilt_cmd, write_tree
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


def test_edit_and_grep_run_in_the_tree_root_without_moving_f5quilt(tmp_path: Path, run: Runner,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """quilt runs the editor and (without FILES) grep in the tree's root, on tree-relative names;
    f5quilt gives the program that folder, and its own current directory stays where it was."""
    import os
    import stat
    write_tree(tmp_path, {"src/a.txt": "needle\n", "patches/series": "p.diff\n", "patches/p.diff": "",
                          "patches/hay.txt": "needle\n"})
    editor = tmp_path / "ed.sh"
    editor.write_text("#!/bin/sh\npwd > \"$OLDPWD_LOG\"\necho \"$1\" >> \"$OLDPWD_LOG\"\nprintf 'edited\\n' >> \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "editor.log"
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setenv("OLDPWD_LOG", str(log))
    assert run(tmp_path, "push")[0] == 0
    assert run(tmp_path / "src", "edit", "a.txt")[0] == 0
    assert log.read_text().splitlines() == [str(tmp_path), "src/a.txt"]
    assert Path(os.getcwd()) == tmp_path / "src"
    assert (tmp_path / "src/a.txt").read_text() == "needle\nedited\n"
    assert run(tmp_path / "src", "grep", "needle")[0] == 0  # grep writes to the real stdout
    assert Path(os.getcwd()) == tmp_path / "src"

    def grep(*args: str) -> str:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        r = subprocess.run(f5quilt_cmd("grep", *args), cwd=tmp_path / "src", env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout
    assert grep("needle") == "src/a.txt:needle\n"  # the tree's names; the patches folder left out
    assert grep("needle", "a.txt") == "a.txt:needle\n"


def test_f5quilt_never_moves_its_own_current_directory() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "f5quilt").rglob("*.py"))
                 for n, line in enumerate(path.read_text().splitlines(), 1) if "os.chdir(" in line]
    assert offenders == []


def test_capture_is_run_without_subprocess() -> None:
    """proc.capture (quilt mode's quiltrc, read by every command): the exit status and both
    streams whole, however much each says; SIGPIPE as a shell expects it (Python ignores it);
    a missing program one line."""
    env = dict(os.environ)
    code, out, err = proc.capture(["bash", "-c", "echo out; echo err >&2; exit 3"], env)
    assert (code, out, err) == (3, b"out\n", b"err\n")
    code, out, err = proc.capture(["bash", "-c", "head -c 300000 /dev/zero >&2; head -c 200000 /dev/zero"], env)
    assert (code, len(out), len(err)) == (0, 200000, 300000)
    code, out, err = proc.capture(["bash", "-c", "yes | head -n 1"], env)  # yes ends by SIGPIPE, silently
    assert (code, out, err) == (0, b"y\n", b"")
    code, out, _ = proc.capture(["bash", "-c", "read -r x; echo \"[$x]\"; echo $F5Q_ONLY"], {"F5Q_ONLY": "1"})
    assert out == b"[]\n1\n"  # stdin closed; exactly the environment given
    with pytest.raises(proc.ProgramMissing) as info:
        proc.capture(["f5quilt-no-such-program"], env)
    assert info.value.message == "f5quilt-no-such-program: command not found"
