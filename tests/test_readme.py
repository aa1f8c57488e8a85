"""The README's first command, as a new user runs it: in a fresh copy of the repository, with
the system python (PEP 668: no pip install outside a venv) and no `python` on PATH."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT

pytestmark = pytest.mark.slow_network

CACHE = Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()
SYSTEM_PYTHON = Path("/usr/bin/python3")


def first_command() -> str:
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("    "):
            return line.split("#", 1)[0].strip()
    raise AssertionError("README has no command")


@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no system python3 at /usr/bin")
def test_the_readmes_first_command_works_on_a_pep668_system_python(tmp_path: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    repo = tmp_path / "f5quilt"
    for rel in filter(None, listed):
        if (ROOT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, repo / rel)
    bin_dir = tmp_path / "bin"  # python3 is the system's; there is no `python`
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(SYSTEM_PYTHON)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "F5QUILT_CACHE": str(CACHE),
           "PIP_CACHE_DIR": str(CACHE / "pip"), "LANG": "C.UTF-8"}
    assert shutil.which("python", path=env["PATH"]) is None or not Path("/usr/bin/python").exists()
    command = first_command()
    assert command.startswith("python3 -m venv"), command
    r = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Now at patch patches/" in r.stdout
    assert (repo / "third_party/F5-TTS/src/f5_tts").is_dir()
    # the fetch from PyPI left the shell-prompt record, and a prompt's query is answered from it
    # (without yaml) with what the command line says
    from test_query_imports import CLICK, FAST
    assert (repo / ".f5quilt/prompt").is_file()
    said = {}
    for how, code in (("fast", FAST), ("click", CLICK)):
        mark = tmp_path / f"mark-{how}"
        q = subprocess.run([str(repo / ".venv/bin/python"), "-c", code, "applied"], cwd=repo / "third_party",
                           env=dict(env, F5Q_MARK=str(mark)), capture_output=True, text=True)
        assert q.returncode == 0, q.stderr
        said[how] = q.stdout
    assert (tmp_path / "mark-fast").read_text() == "plain"
    assert said["fast"] == said["click"] and said["fast"].startswith("../patches/01-")
