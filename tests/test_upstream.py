"""The upstream pin: fetch into a missing tree, cache, checks, no half trees."""
from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from helpers import ROOT, Runner, write_tree
from f5quilt.errors import F5QuiltError
from f5quilt.repo.upstream import Pin, Upstream, pin_from_arg, sha256_of

PATCH = "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n"


def make_release(tmp: Path, name: str = "proj-1.0") -> Path:
    src = tmp / "src" / name
    write_tree(src, {"pkg/mod.py": "x = 1\ny = 2\n", "README": "r\n"})
    archive = tmp / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src, arcname=name)
    return archive


def make_repo(tmp: Path, archive: Path, sha: str = "") -> Path:
    repo = tmp / "repo"
    write_tree(repo, {"patches/series": "one.diff\n", "patches/one.diff": PATCH})
    (repo / "f5quilt.yaml").write_text(
        f"tree: third_party/proj\npatches: patches\nupstream:\n  path: {archive}\n" + (f"  sha256: {sha}\n" if sha else ""))
    return repo


def test_push_fetches_missing_tree_from_archive_pin(tmp_path: Path, run: Runner,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    repo = make_repo(tmp_path, make_release(tmp_path))
    rc, out, _ = run(repo, "push", "-a")
    assert rc == 0, out
    assert out.startswith("Fetching upstream ")
    assert (repo / "third_party/proj/pkg/mod.py").read_text() == "x = 1\ny = 3\n"
    assert (repo / "third_party/proj/.pc/.quilt_patches").read_text() == "../../patches\n"
    assert "Now at patch patches/one.diff" in out


def test_directory_pin_and_pin_arguments(tmp_path: Path) -> None:
    d = tmp_path / "d"
    write_tree(d, {"a": "1\n"})
    up = Upstream(pin_from_arg(str(d), tmp_path), tmp_path / "cache")
    assert up.reader()("a") == b"1\n" and up.reader()("missing") is None
    assert pin_from_arg("f5-tts==1.1.22", tmp_path) == Pin("pypi", "f5-tts==1.1.22")
    assert pin_from_arg("https://example.invalid/x.git@v1", tmp_path) == Pin("git", "https://example.invalid/x.git", "v1")
    with pytest.raises(F5QuiltError):
        pin_from_arg(str(tmp_path / "nope"), tmp_path)


def test_sha_mismatch_is_refused_and_nothing_is_created(tmp_path: Path, run: Runner,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    archive = make_release(tmp_path)
    repo = make_repo(tmp_path, archive)
    up = Upstream(Pin("pypi", "proj==1.0", sha256="0" * 64), tmp_path / "cache")
    (tmp_path / "cache/sdist").mkdir(parents=True)
    os.link(archive, tmp_path / "cache/sdist/proj-1.0.tar.gz")
    with pytest.raises(F5QuiltError, match="does not match the pin"):
        up.materialize(repo / "third_party/proj")
    assert not (repo / "third_party/proj").exists()
    assert sha256_of(archive)  # and the right hash passes:
    Upstream(Pin("pypi", "proj==1.0", sha256=sha256_of(archive)), tmp_path / "cache").materialize(repo / "third_party/proj")
    assert (repo / "third_party/proj/pkg/mod.py").exists()


def test_broken_archive_leaves_no_half_tree(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    archive = make_release(tmp_path)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])  # truncated download
    repo = make_repo(tmp_path, archive)
    rc, _, err = run(repo, "push")
    assert rc == 1 and "not a readable source archive" in err
    assert not (repo / "third_party/proj").exists()
    assert not (repo / "third_party").exists() or not any((repo / "third_party").iterdir())
    assert not any((tmp_path / "cache").rglob("pkg"))


def test_git_pin_reads_pristine_from_git_objects(tmp_path: Path) -> None:
    from helpers import git_upstream_v1_v2
    src = tmp_path / "up"
    git_upstream_v1_v2(src)
    up = Upstream(Pin("git", str(src), "v1"), tmp_path / "cache")
    assert up.reader()("a.txt") == b"v1\n"
    up.materialize(tmp_path / "tree")
    assert (tmp_path / "tree/a.txt").read_text() == "v1\n"


@pytest.mark.slow_network
def test_real_pypi_sdist_of_the_pinned_release(tmp_path: Path) -> None:
    """The project's own pin, fetched from PyPI (cached in .cache/ between runs)."""
    import yaml
    pin_data = yaml.safe_load((ROOT / "f5quilt.yaml").read_text())["upstream"]
    cache = Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache"))
    up = Upstream(Pin("pypi", pin_data["pypi"], sha256=pin_data["sha256"]), cache)
    read = up.reader()
    assert b"def infer_batch_process" in (read("src/f5_tts/infer/utils_infer.py") or b"")


def test_upstream_fetch_command(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    repo = make_repo(tmp_path, make_release(tmp_path))
    rc, out, _ = run(repo, "upstream", "fetch", "--cache-only")
    assert rc == 0 and "Pristine" in out and not (repo / "third_party").exists()
    assert run(repo, "upstream", "fetch")[0] == 0
    assert (repo / "third_party/proj/pkg/mod.py").read_text() == "x = 1\ny = 2\n"
    rc, out, _ = run(repo, "upstream", "fetch")
    assert rc == 2 and "exists already" in out
