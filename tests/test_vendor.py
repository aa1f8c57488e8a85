"""init, a tree that knows which pin built it, upstream fetch --replace, the sha256 of a warm cache."""
from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from helpers import Runner, git, git_upstream_v1_v2, snapshot, write_tree
from f5quilt.repo.upstream import sha256_of


def release(tmp: Path, version: str, files: dict[str, str]) -> Path:
    src = tmp / "src" / f"proj-{version}"
    write_tree(src, files)
    archive = tmp / f"proj-{version}.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src, arcname=f"proj-{version}")
    return archive


V1 = {"pkg/mod.py": "x = 1\ny = 2\n", "README": "r\n"}
V2 = {"pkg/mod.py": "x = 1\ny = 2\nz = 3\n", "README": "r\n"}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("F5QUILT_CACHE", raising=False)
    r = tmp_path / "repo"
    r.mkdir()
    git("init", "-q", cwd=r)
    return r


def test_init_writes_settings_series_gitignore_and_tree(tmp_path: Path, repo: Path, run: Runner) -> None:
    archive = release(tmp_path, "1.0", V1)
    (repo / ".gitignore").write_text("*.o")  # no newline at the end: kept, lines added after it
    rc, out, err = run(repo, "init", "--path", str(archive), "--tree", "vendor/proj")
    assert rc == 0, err
    assert "sha256 " + sha256_of(archive) in out
    text = (repo / "f5quilt.yaml").read_text()
    assert "tree: vendor/proj\n" in text and "patches: patches\n" in text
    assert f"  path: ../proj-1.0.tar.gz\n  sha256: {sha256_of(archive)}\n" in text
    assert (repo / "patches/series").read_text() == ""
    assert (repo / "vendor/proj/pkg/mod.py").read_text() == V1["pkg/mod.py"]
    gi = (repo / ".gitignore").read_text().splitlines()
    assert gi[0] == "*.o" and {"/vendor/proj/", "/.f5quilt/", "/.cache/"} <= set(gi)
    # git really ignores the tree, the state and the cache: only the settings, series and .gitignore show
    shown = set(git("status", "--porcelain", "--untracked-files=all", cwd=repo).split())
    assert shown == {"??", ".gitignore", "f5quilt.yaml", "patches/series"}
    # the settings load, and the commands work
    rc, out, _ = run(repo, "status")
    assert rc == 0 and "vendor/proj" in out
    # re-running is refused, nothing changed
    before = snapshot(repo)
    rc, _, err = run(repo, "init", "--path", str(archive))
    assert rc == 1 and "init: upstream proj-1.0 exists already in f5quilt.yaml" in err
    assert snapshot(repo) == before
    # one transaction: undo takes it all back
    rc, _, err = run(repo, "undo")
    assert rc == 0, err
    assert not (repo / "f5quilt.yaml").exists() and not (repo / "vendor").exists()
    assert (repo / ".gitignore").read_text() == "*.o"


def test_init_usage_and_fetch_errors_change_nothing(tmp_path: Path, repo: Path, run: Runner) -> None:
    rc, _, err = run(repo, "init")
    assert rc == 2 and "exactly one of" in err
    rc, _, err = run(repo, "init", "--pypi", "requests>=2")
    assert rc == 2 and "NAME==VERSION" in err
    rc, _, err = run(repo, "init", "--path", str(tmp_path / "missing.tar.gz"))
    assert rc == 1 and "no such directory or archive" in err
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not an archive")
    rc, _, err = run(repo, "init", "--path", str(bad))
    assert rc == 1 and "not a readable source archive" in err
    assert sorted(p.name for p in repo.iterdir()) == [".cache", ".git"]  # only the cache dir


def test_init_git_pin_records_the_resolved_commit(tmp_path: Path, repo: Path, run: Runner) -> None:
    up = tmp_path / "up"
    commit = git_upstream_v1_v2(up)
    rc, out, err = run(repo, "init", "--git", f"{up}@v1")
    assert rc == 0, err
    text = (repo / "f5quilt.yaml").read_text()
    assert f"  git: {up}\n  ref: v1\n  commit: {commit}\n" in text
    assert (repo / "third_party/up/a.txt").read_text() == "v1\n"
    # the tag moves upstream: the commit still names what the series was written on
    git("tag", "-f", "v1", cwd=up)
    rc, out, err = run(repo, "check")
    assert rc == 0, err
    rc, _, err = run(tmp_path, "init", "--git", f"{tmp_path}/nope.git@v1")
    assert rc == 1 and len(err.strip().splitlines()) == 1 and "cannot fetch" in err


PATCH = "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1,2 +1,2 @@\n-x = 1\n+x = 10\n y = 2\n"


def _setup(tmp_path: Path, repo: Path, run: Runner) -> tuple[Path, Path]:
    a1, a2 = release(tmp_path, "1.0", V1), release(tmp_path, "1.1", V2)
    assert run(repo, "init", "--path", str(a1), "--tree", "tp/proj")[0] == 0
    (repo / "patches/one.patch").write_text(PATCH)
    (repo / "patches/series").write_text("one.patch\n")
    assert run(repo, "push")[0] == 0
    return a1, a2


def _move_pin(repo: Path, archive: Path) -> None:
    """What a teammate's rebase, pulled, does to the settings."""
    text = (repo / "f5quilt.yaml").read_text().splitlines(keepends=True)
    text = [f"  path: ../{archive.name}\n" if ln.startswith("  path:") else
            f"  sha256: {sha256_of(archive)}\n" if ln.startswith("  sha256:") else ln for ln in text]
    (repo / "f5quilt.yaml").write_text("".join(text))


def test_stale_tree_is_said_push_refused_replace_swaps_and_repushes(tmp_path: Path, repo: Path,
                                                                    run: Runner) -> None:
    _, a2 = _setup(tmp_path, repo, run)
    _move_pin(repo, a2)
    rc, out, err = run(repo, "series")
    assert rc == 0 and out == "patches/one.patch\n"
    assert err.strip().splitlines() == [
        f"warning: tp/proj holds {tmp_path}/proj-1.0.tar.gz; the pin is {tmp_path}/proj-1.1.tar.gz; "
        "`f5quilt upstream fetch --replace` rebuilds it"]
    rc, _, err = run(repo, "pop")
    assert rc == 0 and "fetch --replace" in err
    rc, _, err = run(repo, "push")
    assert rc == 1 and "holds" in err and "fetch --replace" in err
    assert not (repo / "tp/proj/.pc/applied-patches").exists() or \
        (repo / "tp/proj/.pc/applied-patches").read_text() == ""
    assert run(repo, "push")[0] == 1
    rc, out, _ = run(repo, "upstream", "fetch")
    assert rc == 2 and "--replace" in out
    # an edit outside any patch: refused, listed, nothing changed
    (repo / "tp/proj/README").write_text("mine\n")
    before = snapshot(repo)
    rc, _, err = run(repo, "upstream", "fetch", "--replace")
    assert rc == 1 and "README: edited outside any patch" in err and "1 unrecorded change" in err
    assert snapshot(repo) == before
    (repo / "tp/proj/README").write_text("r\n")
    # judged against the pin that built the tree (1.0), not the new one
    run(repo, "push")  # refused (stale), so apply the patch again on the old tree through --replace
    rc, out, err = run(repo, "upstream", "fetch", "--replace")
    assert rc == 0, err
    assert "Now at patch" not in out  # nothing was applied before
    assert (repo / "tp/proj/pkg/mod.py").read_text() == V2["pkg/mod.py"]
    rc, out, err = run(repo, "push")
    assert rc == 0 and err == ""
    assert (repo / "tp/proj/pkg/mod.py").read_text() == "x = 10\ny = 2\nz = 3\n"
    assert json.loads((repo / ".f5quilt/tree-pin.json").read_text())["pin"]["sha256"] == sha256_of(a2)


def test_replace_repushes_what_was_applied_and_undo_brings_the_old_tree(tmp_path: Path, repo: Path,
                                                                        run: Runner) -> None:
    _, a2 = _setup(tmp_path, repo, run)
    old = snapshot(repo / "tp/proj")
    _move_pin(repo, a2)
    rc, out, err = run(repo, "upstream", "fetch", "--replace")
    assert rc == 0, err
    assert "Applying patch patches/one.patch" in out and "Now at patch patches/one.patch" in out
    assert (repo / "tp/proj/pkg/mod.py").read_text() == "x = 10\ny = 2\nz = 3\n"
    assert run(repo, "status")[2] == ""  # no warning any more
    rc, _, err = run(repo, "undo")
    assert rc == 0, err
    assert snapshot(repo / "tp/proj") == old
    assert "fetch --replace" in run(repo, "status")[1]  # the record came back with the tree


def test_wrong_sha256_with_a_warm_cache(tmp_path: Path, repo: Path, run: Runner) -> None:
    a1, _ = _setup(tmp_path, repo, run)
    text = (repo / "f5quilt.yaml").read_text().replace(sha256_of(a1), "ab" * 32)
    (repo / "f5quilt.yaml").write_text(text)
    rc, _, err = run(repo, "check")
    lines = [ln for ln in err.splitlines() if not ln.startswith("warning:")]
    assert rc == 1 and len(lines) == 1
    assert f"sha256 {sha256_of(a1)}, not the pin's {'ab' * 32}" in lines[0]
    rc, _, err = run(repo, "push", "-a")  # the tree was built from the other archive
    assert rc == 1 and "sha256" in err
    # a cache from before the record: the cached archive is hashed instead
    for f in (repo / ".cache/pristine").glob("*.sha256"):
        f.unlink()
    rc, _, err = run(repo, "check")
    assert rc == 1 and "does not match the pin" in err


def test_extraction_progress_bar_only_on_a_terminal(tmp_path: Path, repo: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys
    from helpers import ROOT
    if shutil.which("script") is None:
        pytest.skip("script(1) is needed for a terminal")
    archive = release(tmp_path, "1.0", {f"pkg/m{i}.py": f"x = {i}\n" for i in range(20)})
    env = dict(os.environ, PYTHONPATH=str(ROOT), F5QUILT_CACHE=str(tmp_path / "c1"))
    cmd = f"{sys.executable} -m f5quilt init --path {archive}"
    tty = subprocess.run(["script", "-qec", cmd, "/dev/null"], cwd=repo, env=env, capture_output=True, text=True)
    assert tty.returncode == 0 and "100%" in tty.stdout and "[####" in tty.stdout
    other = tmp_path / "other"
    other.mkdir()
    env["F5QUILT_CACHE"] = str(tmp_path / "c2")
    plain = subprocess.run(cmd.split(), cwd=other, env=env, capture_output=True, text=True)
    assert plain.returncode == 0 and "%" not in plain.stdout + plain.stderr
    assert "Extracting proj-1.0.tar.gz (" in plain.stdout


def test_quiet_push_and_pop_of_a_series_show_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys
    from helpers import ROOT, make_series
    if shutil.which("script") is None:
        pytest.skip("script(1) is needed for a terminal")
    # f5quilt's terse -q (quilt mode keeps quilt's "Applying patch" lines under -q)
    write_tree(tmp_path, {"m.py": "".join(f"line {i}\n" for i in range(1, 60)), "f5quilt.yaml": "tree: .\n"})
    make_series(tmp_path, {f"p{k}.diff": f"--- a/m.py\n+++ b/m.py\n@@ -{4 * k - 1},3 +{4 * k - 1},3 @@\n"
                           f" line {4 * k - 1}\n-line {4 * k}\n+LINE {4 * k}\n line {4 * k + 1}\n"
                           for k in range(1, 8)})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for cmd, label in (("push -a -q", "Pushing"), ("pop -a -q", "Popping")):
        tty = subprocess.run(["script", "-qec", f"{sys.executable} -m f5quilt {cmd}", "/dev/null"],
                             cwd=tmp_path, env=env, capture_output=True, text=True)
        assert tty.returncode == 0 and f"{label}  [####" in tty.stdout and "100%" in tty.stdout
    plain = subprocess.run([sys.executable, "-m", "f5quilt", "push", "-a", "-q"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert plain.returncode == 0 and plain.stdout == plain.stderr == ""


def test_rebase_refuses_a_stale_tree_in_one_line(tmp_path: Path, repo: Path, run: Runner) -> None:
    _, a2 = _setup(tmp_path, repo, run)
    _move_pin(repo, a2)
    before = snapshot(repo)
    rc, _, err = run(repo, "rebase", "--onto", str(a2))
    assert rc == 1 and err.strip().splitlines() == [
        f"tp/proj holds {tmp_path}/proj-1.0.tar.gz; the pin is {tmp_path}/proj-1.1.tar.gz; "
        "`f5quilt upstream fetch --replace` rebuilds it"]
    assert snapshot(repo) == before
