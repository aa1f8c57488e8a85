"""A team's day with a vendored tree, end to end through the real CLI, against two real PyPI
sdists of a small pure-Python package (six 1.16.0 and 1.17.0, cached in .cache/), the real
pre-commit and real git: init, three patches, a commit refused by the hook, a rebase that drops
a contained patch and stops on a real conflict, a teammate's stale tree, a wrong sha256 with a
warm cache, status --exit-code, and every --json output checked against its documented schema."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest

from helpers import ROOT, Runner, git
from f5quilt.repo.upstream import sha256_of

pytestmark = pytest.mark.slow_network

CACHE = Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()
HELPER = '\n\ndef vendored_marker():\n    """Added by the team."""\n    return "vendored"\n'


def json_of(run: Runner, docs: Dict[str, Any], cwd: Path, *args: str, rc: int = 0) -> Any:
    """``f5quilt ARGS --json`` in ``cwd``: its exit code must be ``rc``; its output, checked
    against the command's schema in docs/commands.md when it has one, decoded."""
    import jsonschema
    code, out, err = run(cwd, *args, "--json")
    assert code == rc, err
    data = json.loads(out)
    if args[0] in docs:
        jsonschema.validate(data, docs[args[0]])
    return data


def test_a_teams_day(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_json_output import schemas
    from test_precommit import PRE_COMMIT, hook_repo
    monkeypatch.setenv("F5QUILT_CACHE", str(CACHE))
    docs = schemas()

    def js(cwd: Path, *args: str, rc: int = 0) -> Any:
        return json_of(run, docs, cwd, *args, rc=rc)

    # -- setting up -----------------------------------------------------------
    repo = tmp_path / "team"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    rc, out, err = run(repo, "init", "--pypi", "six==1.16.0")
    assert rc == 0, err
    sha = sha256_of(CACHE / "sdist/six-1.16.0.tar.gz")
    assert f"  pypi: six==1.16.0\n  sha256: {sha}\n" in (repo / "f5quilt.yaml").read_text()
    tree = repo / "third_party/six"
    assert (tree / "six.py").is_file()
    hooks, rev = hook_repo(tmp_path)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: f5quilt-check\n")
    env = dict(os.environ, PRE_COMMIT_HOME=str(CACHE / "pre-commit"))
    subprocess.run([PRE_COMMIT, "install"], cwd=repo, env=env, check=True, capture_output=True)

    def commit(message: str) -> subprocess.CompletedProcess[str]:
        git("add", "-A", cwd=repo)
        return subprocess.run(["git", "commit", "-m", message], cwd=repo, env=env, capture_output=True, text=True)

    assert set(git("status", "--porcelain", "--untracked-files=all", cwd=repo).split()) == {
        "??", ".gitignore", ".pre-commit-config.yaml", "f5quilt.yaml", "patches/series"}
    assert commit("vendor six 1.16.0").returncode == 0

    # -- three patches --------------------------------------------------------
    def patch(name: str, rel: str, old: str, new: str) -> None:
        assert run(repo, "new", name)[0] == 0
        assert run(repo, "add", f"third_party/six/{rel}")[0] == 0
        f = tree / rel
        text = f.read_text()
        assert old in text
        f.write_text(text.replace(old, new, 1) if old else text + new)
        rc, out, err = run(repo, "refresh")
        assert rc == 0 and "Refreshed patch" in out, err

    patch("01-license-years.patch", "LICENSE", "2010-2020", "2010-2024")   # upstream does it in 1.17.0
    patch("02-version-tag.patch", "six.py", '__version__ = "1.16.0"', '__version__ = "2.0.0+team"')
    patch("03-helper.patch", "six.py", "", HELPER)
    assert js(repo, "series") == [
        {"patch": n, "applied": True, "top": n.startswith("03"), "strip": 1, "reverse": False, "guards": []}
        for n in ("01-license-years.patch", "02-version-tag.patch", "03-helper.patch")]
    assert js(repo, "files", "02-version-tag.patch") == {"patch": "02-version-tag.patch", "files": ["six.py"]}
    assert js(repo, "patches", "third_party/six/six.py")["patches"] == ["02-version-tag.patch", "03-helper.patch"]
    assert js(repo, "top") == {"top": "03-helper.patch"} and js(repo, "unapplied", rc=2) == []
    c = commit("three patches")
    assert c.returncode == 0, c.stdout + c.stderr

    # a commit that breaks a patch is refused by the real pre-commit, saying where and why
    good = (repo / "patches/02-version-tag.patch").read_text()
    (repo / "patches/02-version-tag.patch").write_text(good.replace(' __author__', ' __authors__'))
    bad = commit("broken")
    assert bad.returncode != 0
    assert "patches/02-version-tag.patch: third_party/six/six.py: Hunk #1 FAILED" in bad.stdout + bad.stderr
    assert "expected ' __author__" not in bad.stdout  # the patch's line, not the tree's
    assert "expected '__authors__" in bad.stdout + bad.stderr
    (repo / "patches/02-version-tag.patch").write_text(good)

    # byte code is not noise; status is compact and its exit code says all is well
    (tree / "__pycache__").mkdir()
    (tree / "__pycache__/six.cpython-311.pyc").write_bytes(b"\0")
    rc, out, _ = run(repo, "status", "--exit-code")
    assert rc == 0 and len(out.splitlines()) == 3, out
    assert js(repo, "status")["attention"] == []

    # -- a teammate clones --------------------------------------------------
    mate = tmp_path / "mate"
    git("clone", "-q", str(repo), str(mate))
    rc, out, err = run(mate, "push", "-a")
    assert rc == 0 and "Now at patch patches/03-helper.patch" in out, err

    # -- the rebase to 1.17.0 ---------------------------------------------------
    rc, out, err = run(repo, "rebase", "--onto", "six==1.17.0")
    assert rc == 3, out + err
    assert "Patch patches/01-license-years.patch is contained in six==1.17.0" in out
    assert "Moved patches/01-license-years.patch to .f5quilt/dropped/01-license-years.patch" in out
    assert "Conflicts in third_party/six/six.py while rebasing patches/02-version-tag.patch" in err
    rc, out, _ = run(repo, "status", "--exit-code")
    assert rc == 1 and "rebase in progress onto six==1.17.0" in out
    kinds = {a["kind"] for a in js(repo, "status")["attention"]}
    assert {"rebase", "conflicts"} <= kinds
    text = (tree / "six.py").read_text()
    assert "<<<<<<<" in text
    import re
    resolved = re.sub(r"<<<<<<< .*?\n(.*?)>>>>>>> [^\n]*\n",
                      lambda m: '__version__ = "2.0.0+team"\n', text, flags=re.S)
    (tree / "six.py").write_text(resolved)
    rc, out, err = run(repo, "rebase", "--continue")
    assert rc == 0, out + err
    sha17 = sha256_of(CACHE / "sdist/six-1.17.0.tar.gz")
    assert f"  pypi: six==1.17.0\n  sha256: {sha17}\n" in (repo / "f5quilt.yaml").read_text()
    assert (repo / "patches/series").read_text() == "02-version-tag.patch\n03-helper.patch\n"
    assert run(repo, "check", "--strict")[0] == 0
    report = json.loads(run(repo, "check", "--json")[1])
    assert report["ok"] and report["unlisted"] == []
    c = commit("rebase onto six 1.17.0")
    assert c.returncode == 0, c.stdout + c.stderr
    log = js(repo, "log")
    assert any("rebase" in e["command"] for e in log)

    # -- the teammate pulls: a stale tree, said and rebuilt ----------------------
    git("pull", "-q", "--ff-only", cwd=mate)
    rc, out, err = run(mate, "series")
    assert rc == 0 and err.strip() == ("warning: third_party/six holds six==1.16.0; the pin is six==1.17.0; "
                                       "`f5quilt upstream fetch --replace` rebuilds it")
    rc, _, err = run(mate, "push", "-a")
    assert rc == 1 and "third_party/six holds six==1.16.0" in err
    rc, out, _ = run(mate, "status", "--exit-code")
    assert rc == 1 and "stale-tree" in out
    rc, out, err = run(mate, "upstream", "fetch", "--replace")
    assert rc == 0, out + err
    assert "Now at patch patches/03-helper.patch" in out
    assert '__version__ = "2.0.0+team"' in (mate / "third_party/six/six.py").read_text()
    assert run(mate, "status", "--exit-code")[0] == 0

    # -- a wrong sha256 with a warm cache is caught ------------------------------
    settings = (mate / "f5quilt.yaml").read_text()
    (mate / "f5quilt.yaml").write_text(settings.replace(sha17, "ab" * 32))
    rc, _, err = run(mate, "check")
    assert rc == 1 and f"not the pin's {'ab' * 32}" in err
    rc, _, err = run(mate, "push", "-a")
    assert rc == 1 and "sha256" in err
    (mate / "f5quilt.yaml").write_text(settings)
    assert js(mate, "applied") == ["02-version-tag.patch", "03-helper.patch"]


def test_the_projects_own_f5_series(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same outputs on this repository's own payload (F5-TTS 1.1.22 and its series)."""
    import shutil

    from test_json_output import schemas
    monkeypatch.setenv("F5QUILT_CACHE", str(CACHE))
    docs = schemas()
    repo = tmp_path / "own"
    shutil.copytree(ROOT / "patches", repo / "patches")
    shutil.copy(ROOT / "f5quilt.yaml", repo / "f5quilt.yaml")
    names = (repo / "patches/series").read_text().split()

    def js(*args: str, rc: int = 0) -> Any:
        return json_of(run, docs, repo, *args, rc=rc)

    st = js("status")
    assert st["tree_exists"] is False and st["applied"] == 0 and st["series"] == len(names)
    report = js("check", "--strict")
    assert report["ok"] and {p["status"] for p in report["patches"]} == {"clean"}
    rc, out, err = run(repo, "push", "-a")
    assert rc == 0, out + err
    rc, out, _ = run(repo, "status", "--exit-code")
    assert rc == 0 and out.splitlines()[2] == f"top: patches/{names[-1]}  ({len(names)} of {len(names)} applied)"
    st = js("status")
    assert st["tree_built_from"] == st["upstream"] == "f5-tts==1.1.22" and st["attention"] == []
    assert [p["patch"] for p in js("series")] == names and js("applied") == names
    assert js("top") == {"top": names[-1]}
    for name in names:
        files = js("files", name)["files"]
        assert files
        assert name in js("patches", f"third_party/F5-TTS/{files[0]}")["patches"]
    rc, out, _ = run(repo, "refresh")
    assert rc == 0 and "is unchanged" in out  # every patch is exact on its pin
    assert run(repo, "pop", "-a")[0] == 0
    assert js("check", "--tree")["ok"]
