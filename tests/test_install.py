"""install: a real PyPI sdist (packaging 24.1, flit_core backend) patched, built into a wheel,
installed into a fresh venv and imported with the patch visible; the marker in its dist-info;
status and check say when the installed copy is no longer the series."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import ROOT, Runner, git, snapshot

pytestmark = pytest.mark.slow_network

CACHE = Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()
INIT = "third_party/packaging/src/packaging/__init__.py"


def test_install_the_patched_release_into_a_fresh_venv(tmp_path: Path, run: Runner,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(CACHE))
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    rc, out, err = run(repo, "init", "--pypi", "packaging==24.1")
    assert rc == 0, err
    assert run(repo, "new", "01-marker.patch")[0] == 0
    assert run(repo, "add", INIT)[0] == 0
    with open(repo / INIT, "a") as f:
        f.write('\nPATCHED_BY_F5QUILT = "01"\n')
    assert run(repo, "refresh")[0] == 0

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin/python")
    tree_before = snapshot(repo / "third_party/packaging")
    rc, out, err = run(repo, "install", "packaging", "--python", py)
    assert rc == 0, err
    assert "Installed packaging 24.1 for" in out
    assert snapshot(repo / "third_party/packaging") == tree_before  # no build/, no egg-info in the tree
    shown = subprocess.run([py, "-c", "import packaging, importlib.metadata as m; "
                            "print(packaging.PATCHED_BY_F5QUILT, packaging.__file__); "
                            "print(m.distribution('packaging').read_text('f5quilt.json'))"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    first, marker = shown.split("\n", 1)
    assert first.startswith("01 ") and str(venv) in first
    marker_data = json.loads(marker)
    assert marker_data["pin"] == "packaging==24.1" and marker_data["patches"] == ["01-marker.patch"]
    assert marker_data["whole_series"] is True
    rc, out, err = run(repo, "status", "--json")
    assert [a for a in json.loads(out)["attention"] if a["kind"] == "installed"] == []

    # the series moves on: status and check say the installed copy is not the series any more
    assert run(repo, "new", "02-more.patch")[0] == 0
    assert run(repo, "add", INIT)[0] == 0
    with open(repo / INIT, "a") as f:
        f.write('MORE = 2\n')
    assert run(repo, "refresh")[0] == 0
    rc, out, err = run(repo, "status", "--json")
    installed = [a for a in json.loads(out)["attention"] if a["kind"] == "installed"]
    assert len(installed) == 1 and "is not the series" in installed[0]["why"] and py in installed[0]["where"]
    rc, out, err = run(repo, "check")
    assert rc == 0 and "note: packaging installed in" in err and "is not the series" in err
    rc, out, err = run(repo, "install", "--python", py)
    assert rc == 0, err
    rc, out, err = run(repo, "status", "--json")
    assert [a for a in json.loads(out)["attention"] if a["kind"] == "installed"] == []

    # someone reinstalls the release from elsewhere: the marker is gone, status says so
    subprocess.run([py, "-m", "pip", "uninstall", "-y", "-q", "packaging"], check=True)
    rc, out, err = run(repo, "status")
    assert "is gone or was replaced" in out

    # --wheel-dir only builds; --target installs into a folder
    rc, out, err = run(repo, "install", "--python", py, "--wheel-dir", str(tmp_path / "wheels"))
    assert rc == 0, err
    (wheel,) = (tmp_path / "wheels").glob("packaging-24.1-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        record = zf.read("packaging-24.1.dist-info/RECORD").decode()
        assert "packaging-24.1.dist-info/f5quilt.json,sha256=" in record
        assert "MORE = 2" in zf.read("packaging/__init__.py").decode()
    rc, out, err = run(repo, "install", "--python", py, "--target", str(tmp_path / "site"))
    assert rc == 0, err
    found = subprocess.run([py, "-c", "import packaging; print(packaging.MORE, packaging.__file__)"],
                           env=dict(os.environ, PYTHONPATH=str(tmp_path / "site")), cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert found.startswith("2 ") and str(tmp_path / "site") in found

    # an edit no patch records is refused: the installed copy would be neither pin nor series
    (repo / "third_party/packaging/README.rst").write_text("edited\n")
    rc, out, err = run(repo, "install", "--python", py)
    assert rc == 1 and "README.rst: edited outside any patch" in err
