"""The upgrade autopilot: choosing the release (offline: a file:// index, a git repository's
tags), quilt mode's upgrade untouched, and a day in the life with two real PyPI upstreams
(packaging 23.2 -> 24.1 with two conflicting patches, idna beside it), cached in F5QUILT_CACHE."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers import ROOT, Runner, git, new_patch, resolve_markers, write_tree
from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt.repo.releases import resolve_target
from f5quilt.repo.upstream import Pin

CACHE = Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()


def _index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sdist = [{"packagetype": "sdist", "yanked": False}]
    releases = {"23.2": sdist, "24.0": sdist, "24.1": sdist, "24.2": [{"packagetype": "sdist", "yanked": True}],
                "24.3": [{"packagetype": "bdist_wheel", "yanked": False}], "25.0rc1": sdist, "25.0": sdist,
                "not-a-version": sdist}
    (tmp_path / "demo.json").write_text(json.dumps({"releases": releases}))
    monkeypatch.setenv("F5QUILT_PYPI_JSON", (tmp_path / "{name}.json").as_uri().replace("%7B", "{").replace("%7D", "}"))


def test_the_newest_release_within_a_specifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _index(tmp_path, monkeypatch)
    pin = Pin("pypi", "demo==23.2", sha256="0" * 64)
    assert resolve_target(pin, None, tmp_path) == Pin("pypi", "demo==25.0")  # no rc, no yanked
    assert resolve_target(pin, "<25", tmp_path).spec == "demo==24.1"  # 24.2 yanked, 24.3 no sdist
    assert resolve_target(pin, ">23.2,<24.1", tmp_path).spec == "demo==24.0"
    assert resolve_target(pin, "==25.0rc1", tmp_path).spec == "demo==25.0rc1"  # asked for
    assert resolve_target(pin, "24.0", tmp_path).spec == "demo==24.0"  # a bare version
    with pytest.raises(NothingToDo, match="newest release matching <24"):
        resolve_target(pin, "<24", tmp_path)
    with pytest.raises(F5QuiltError, match="not a version specifier"):
        resolve_target(pin, "<<2", tmp_path)
    with pytest.raises(F5QuiltError, match="no release of demo==23.2 matches >30"):
        resolve_target(pin, ">30", tmp_path)


def test_git_tags_are_the_releases(tmp_path: Path) -> None:
    repo = tmp_path / "up"
    write_tree(repo, {"m.py": "x\n"})
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "one", cwd=repo)
    for tag in ("v1.0", "v1.1", "v2.0", "nightly"):
        git("tag", tag, cwd=repo)
    pin = Pin("git", repo.as_uri(), "v1.0", commit="0" * 40)
    assert resolve_target(pin, None, tmp_path) == Pin("git", repo.as_uri(), "v2.0")
    assert resolve_target(pin, "<2", tmp_path).ref == "v1.1"
    assert resolve_target(pin, "1.1", tmp_path).ref == "v1.1"
    with pytest.raises(F5QuiltError, match="no tag for version 3.0"):
        resolve_target(pin, "3.0", tmp_path)


def test_quilt_mode_upgrade_is_quilts(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path, {"patches/series": "", ".pc/.version": "2\n", ".pc/applied-patches": ""})
    rc, out, err = run(tmp_path, "upgrade")
    assert rc == 0, err
    rc, out, err = run(tmp_path, "upgrade", "--latest")
    assert rc == 2 and "need an f5quilt.yaml" in err


@pytest.mark.slow_network
def test_a_day_with_two_pypi_upstreams(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(CACHE))
    repo = tmp_path / "app"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    # two pins in one repository: init twice (the second turns the file into upstreams:)
    assert run(repo, "init", "--pypi", "packaging==23.2")[0] == 0
    rc, out, err = run(repo, "-u", "idna", "init", "--pypi", "idna==3.6")
    assert rc == 0, err
    settings = (repo / "f5quilt.yaml").read_text()
    assert "upstreams:\n  packaging:\n" in settings and "  idna:\n    tree: third_party/idna\n" in settings
    pk, idna = repo / "third_party/packaging", repo / "third_party/idna"

    def patch(cwd: Path, name: str, rel: str, old: str, new: str) -> None:
        new_patch(run, cwd, name, rel, old, new)

    patch(pk, "01-version.patch", "src/packaging/__init__.py", '__version__ = "23.2"', '__version__ = "23.2+app"')
    patch(pk, "02-note.patch", "src/packaging/_structures.py", "# This file", "# vendored by app\n# This file")
    patch(pk, "03-canon.patch", "src/packaging/utils.py", "version: Union[Version, str], *",
          "version: Union[Version, str, None], *")
    patch(pk, "04-docs.patch", "docs/requirements.txt", "furo\n",
          'furo\nsphinx-toolbox\ntyping-extensions>=4.1.0; python_version < "3.9"\n')
    patch(idna, "01-idna.patch", "idna/__init__.py", "from .package_data import __version__",
          "from .package_data import __version__  # vendored by app")

    # status and check over both upstreams, from the repository root
    rc, out, err = run(repo, "status")
    assert rc == 0, err
    assert "== packaging ==" in out and "== idna ==" in out and "top: patches-idna/01-idna.patch" in out
    assert "(4 of 4 applied)" in out and "(1 of 1 applied)" in out
    rc, out, err = run(repo, "check")
    assert rc == 0 and "4 patches apply to packaging==23.2" in out and "1 patch applies to idna==3.6" in out

    # the autopilot: newest below 24.2 is 24.1; two conflicts recorded, the rest goes on
    rc, out, err = run(repo, "-u", "packaging", "upgrade", "--onto", "<24.2", "--summary", "pr.md")
    assert rc == 3, err
    assert "2 patch(es) conflict: patches/01-version.patch, patches/03-canon.patch" in err
    body = (repo / "pr.md").read_text()
    assert "## packaging: packaging==23.2 → packaging==24.1" in body
    for row in ("| `01-version.patch` | conflict | **conflict** |", "| `02-note.patch` | clean | clean |",
                "| `03-canon.patch` | conflict | **conflict** |",
                "| `04-docs.patch` | contained | dropped (upstream has it) |"):
        assert row in body
    assert "`01-version.patch`, `03-canon.patch`; then `f5quilt upgrade --continue`" in body
    rc, out, err = run(repo, "-u", "packaging", "status")
    assert "rebase in progress onto packaging==24.1" in out
    assert "patches/01-version.patch: conflicts in third_party/packaging/src/packaging/__init__.py" in out
    assert "patches/03-canon.patch: conflicts in third_party/packaging/src/packaging/utils.py" in out
    assert "(3 of 3 applied)" in out  # 04 dropped, 02 pushed past the first conflict
    # resolved patch by patch: one left, --continue refuses naming it
    resolve_markers(pk / "src/packaging/__init__.py", '__version__ = "24.1+app"')
    rc, out, err = run(repo, "-u", "packaging", "upgrade", "--continue")
    assert rc == 1 and "src/packaging/utils.py still has conflict markers (patches/03-canon.patch)" in err
    resolve_markers(pk / "src/packaging/utils.py", "    version: Version | str | None, *, strip_trailing_zero: bool = True")
    rc, out, err = run(repo, "-u", "packaging", "upgrade", "--continue", "--summary", "pr.md")
    assert rc == 0, err
    body = (repo / "pr.md").read_text()
    assert "| `01-version.patch` | conflict | resolved by hand |" in body
    assert '\n-+__version__ = "23.2+app"\n' in body and '\n++__version__ = "24.1+app"\n' in body  # range-diff
    assert "packaging==24.1\n" in (repo / "f5quilt.yaml").read_text()
    assert not (repo / "patches/04-docs.patch").exists()
    rc, out, err = run(repo, "check")
    assert rc == 0 and "3 patches apply to packaging==24.1" in out and "idna==3.6" in out
    # nothing newer within the spec: exit 2, nothing written
    rc, out, err = run(repo, "-u", "packaging", "upgrade", "--onto", "<24.2")
    assert rc == 2 and "packaging==24.1 is the newest release matching <24.2" in err
    # rebase --onto with a bare version: the pinned project's release
    rc, out, err = run(idna, "rebase", "--onto", "3.7")
    assert rc == 0, err
    assert "    upstream:\n      pypi: idna==3.7\n" in (repo / "f5quilt.yaml").read_text()


def test_the_documented_workflow_runs_the_autopilot() -> None:
    import yaml
    from f5quilt.cli import cli
    flow = yaml.safe_load((ROOT / "docs/upgrade-workflow.yml").read_text())
    script = "\n".join(step.get("run", "") for step in flow["jobs"]["upgrade"]["steps"])
    assert "f5quilt upgrade --latest --summary" in script and "f5quilt upgrade --onto" in script
    assert flow[True]["schedule"]  # YAML 1.1 reads `on:` as True; GitHub reads it as `on`
    import click
    command = cli.get_command(click.Context(cli), "upgrade")
    assert command is not None
    options = {o for p in command.params for o in p.opts}
    assert {"--latest", "--onto", "--summary", "--continue"} <= options
