"""Issue 21's acceptance: a day in the life of a repository patching two real PyPI
dependencies (packaging 23.2 and idna 3.6, cached in F5QUILT_CACHE): two pins, capture,
absorb, exec, install into a fresh venv, the upgrade autopilot through two conflicts, and the
real pre-commit hook guarding a patches folder that is not `patches/`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, Runner, git, new_patch, resolve_markers
from test_precommit import PRE_COMMIT, first_commit, hook_repo

CACHE = Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()
ENCODE = "uts46: bool = False, std3_rules: bool = False, transitional: bool = False) -> bytes:"
# upstream idna refuses upper case outside ASCII without uts46; the captured patch turns uts46 on by default
UPSTREAM_BEHAVIOUR = ("import sys; sys.path.insert(0, {tree!r}); import idna\n"
                      "try: idna.encode('BÜCHER.example')\nexcept idna.IDNAError: sys.exit(0)\nsys.exit(1)")


@pytest.mark.slow_network
@pytest.mark.skipif(not Path(PRE_COMMIT).exists(), reason="pre-commit not installed (pip install -e .[test])")
def test_a_day_patching_two_pypi_dependencies(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(CACHE))
    hooks, rev = hook_repo(tmp_path)
    repo = tmp_path / "app"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    # -- two pins: init twice, idna's series in a folder of its own choosing -----------
    assert run(repo, "init", "--pypi", "packaging==23.2")[0] == 0
    rc, out, err = run(repo, "-u", "idna", "init", "--pypi", "idna==3.6", "--patches", "deps/idna-patches")
    assert rc == 0, err
    pk, idna = repo / "third_party/packaging", repo / "third_party/idna"
    new_patch(run, pk, "01-version.patch", "src/packaging/__init__.py", '__version__ = "23.2"',
              '__version__ = "23.2+app"')
    new_patch(run, pk, "02-canon.patch", "src/packaging/utils.py", "version: Union[Version, str], *",
              "version: Union[Version, str, None], *")
    new_patch(run, idna, "01-note.patch", "idna/__init__.py", "from .package_data import __version__",
              "from .package_data import __version__  # vendored by app")
    new_patch(run, idna, "02-helper.patch", "idna/__init__.py", "", '\n\ndef vendored_by() -> str:\n    return "app"\n')

    # -- capture: an edit made without `add` becomes a patch on top ----------------------
    core = idna / "idna/core.py"
    core.write_text(core.read_text().replace(ENCODE, ENCODE.replace("uts46: bool = False", "uts46: bool = True"), 1))
    rc, out, err = run(repo, "-u", "idna", "capture", "03-uts46.patch")
    assert rc == 0, err
    captured = (repo / "deps/idna-patches/03-uts46.patch").read_text()
    assert "+def encode(" in captured and "uts46: bool = True" in captured and "__init__" not in captured
    assert (repo / "deps/idna-patches/series").read_text().split() == ["01-note.patch", "02-helper.patch",
                                                                       "03-uts46.patch"]

    # -- absorb: a line 01 wrote, in a file 02 changed after it, is refused; 02's own line goes into 02
    init = idna / "idna/__init__.py"
    written = init.read_text()
    init.write_text(written.replace("# vendored by app", "# vendored by app, fixed"))
    rc, out, err = run(idna, "absorb")
    assert rc == 1 and "idna/__init__.py:1: last written by " in err and "01-note.patch" in err
    assert init.read_text() != written  # refused: the edit stays in the tree, no patch changed
    assert run(idna, "restore", "idna/__init__.py")[0] == 0 and init.read_text() == written
    init.write_text(written.replace('return "app"', 'return "app, absorbed"'))
    rc, out, err = run(repo, "-u", "idna", "absorb")
    assert rc == 0, err
    assert '+    return "app, absorbed"' in (repo / "deps/idna-patches/02-helper.patch").read_text()
    assert "absorbed" not in (repo / "deps/idna-patches/01-note.patch").read_text()
    rc, out, err = run(repo, "status", "--json")
    assert rc == 0, err

    # -- exec: the first patch that breaks a test of upstream's behaviour -----------------
    probe = [sys.executable, "-c", UPSTREAM_BEHAVIOUR.format(tree=str(idna))]
    rc, out, err = run(repo, "-u", "idna", "exec", "--", *probe)
    assert rc == 1 and "Patch deps/idna-patches/03-uts46.patch breaks" in err
    assert "Now at patch deps/idna-patches/03-uts46.patch" in out
    rc, out, err = run(repo, "-u", "idna", "exec", "--json", "--", *probe)
    data = json.loads(out)
    assert rc == 1 and data["first_broken"]["patch"] == "deps/idna-patches/03-uts46.patch"
    assert [s["returncode"] for s in data["steps"]] == [0, 0, 0, 1]
    assert 'return "app, absorbed"' in init.read_text() and "uts46: bool = True" in core.read_text()

    # -- install into a fresh venv: the patched code is what it imports --------------------
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin/python")
    rc, out, err = run(repo, "-u", "idna", "install", "--python", py)
    assert rc == 0, err
    assert "Installed idna 3.6 for" in out
    shown = subprocess.run([py, "-c", "import idna; print(idna.vendored_by(), idna.encode('BÜCHER.example'), "
                            "idna.__file__)"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert shown.startswith("app, absorbed b'xn--bcher-kva.example' ") and str(venv) in shown

    # -- upgrade: packaging 23.2 -> 24.1, both patches conflict, both recorded ------------
    summary = tmp_path / "pr.md"
    rc, out, err = run(repo, "-u", "packaging", "upgrade", "--onto", "<24.2", "--summary", str(summary))
    assert rc == 3, err
    assert "2 patch(es) conflict: patches/01-version.patch, patches/02-canon.patch" in err
    resolve_markers(pk / "src/packaging/__init__.py", '__version__ = "24.1+app"')
    resolve_markers(pk / "src/packaging/utils.py",
                    "    version: Version | str | None, *, strip_trailing_zero: bool = True")
    rc, out, err = run(repo, "-u", "packaging", "upgrade", "--continue", "--summary", str(summary))
    assert rc == 0, err
    body = summary.read_text()
    assert "## packaging: packaging==23.2 → packaging==24.1" in body
    assert "| `01-version.patch` | conflict | resolved by hand |" in body
    assert "| `02-canon.patch` | conflict | resolved by hand |" in body
    rc, out, err = run(repo, "check")
    assert rc == 0 and "2 patches apply to packaging==24.1" in out and "3 patches apply to idna==3.6" in out

    # -- the pre-commit hook: the day's work commits; a broken idna patch does not ----------
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: f5quilt-check\n")
    env, good = first_commit(tmp_path, repo, CACHE)
    assert "Passed" in good
    note = repo / "deps/idna-patches/01-note.patch"
    note.write_text(note.read_text().replace("-from .package_data import __version__\n", "-from .package_data import x\n"))
    git("add", "-A", cwd=repo)
    bad = subprocess.run(["git", "commit", "-m", "bad"], cwd=repo, env=env, capture_output=True, text=True)
    assert bad.returncode != 0, bad.stdout + bad.stderr
    assert "deps/idna-patches/01-note.patch: third_party/idna/idna/__init__.py: Hunk #1 FAILED at 1." in bad.stdout + bad.stderr
    assert git("log", "--oneline", cwd=repo).count("\n") == 1
