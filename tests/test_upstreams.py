"""Several upstreams in one f5quilt.yaml (`upstreams:`): choosing one (-u, the current
directory), a state folder each, check/status/the pre-commit hook over all, init adding one,
rebase writing its pin into its own entry. Offline: the upstreams are local directories."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import Runner, git, snapshot, write_tree

ALPHA_FIX = "--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
BETA_FIX = "--- a/n.py\n+++ b/n.py\n@@ -1,2 +1,2 @@\n p\n-q\n+Q\n"
SETTINGS = """\
# two vendored releases
fuzz: 0
upstreams:
  alpha:            # the first
    tree: third_party/alpha
    upstream:
      path: src/alpha
  beta:
    tree: third_party/beta
    patches: beta-patches
    upstream:
      path: src/beta
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    write_tree(root, {
        "src/alpha/m.py": "a\nb\nc\nd\n", "src/beta/n.py": "p\nq\n",
        "f5quilt.yaml": SETTINGS,
        "patches/alpha/series": "fix.diff\n", "patches/alpha/fix.diff": ALPHA_FIX,
        "beta-patches/series": "fix.diff\n", "beta-patches/fix.diff": BETA_FIX,
    })
    return root


def test_several_upstreams_need_a_choice(repo: Path, run: Runner) -> None:
    before = snapshot(repo)
    rc, out, err = run(repo, "push")
    assert rc == 1
    assert err.strip().splitlines() == ["f5quilt.yaml: several upstreams (alpha, beta): pick one "
                                        "with -u NAME, or run the command inside its tree or patches folder"]
    rc, out, err = run(repo, "-u", "gamma", "push")
    assert rc == 1 and "no upstream 'gamma' (upstreams: alpha, beta)" in err
    # the settings file named from the current directory, as every path a message shows
    rc, out, err = run(repo / "src/alpha", "-u", "gamma", "push")
    assert rc == 1 and err.startswith("../../f5quilt.yaml: no upstream 'gamma'"), err
    assert snapshot(repo) == before


def test_each_upstream_has_its_tree_pc_and_state(repo: Path, run: Runner) -> None:
    rc, out, err = run(repo, "-u", "alpha", "push")
    assert rc == 0, err
    assert (repo / "third_party/alpha/m.py").read_text() == "a\nB\nc\nd\n"
    # quilt's .pc/ at the tree's root (quilt run inside the tree finds it), f5quilt's state apart
    assert (repo / "third_party/alpha/.pc/applied-patches").read_text() == "fix.diff\n"
    assert (repo / "third_party/alpha/.pc/.quilt_patches").read_text().strip() == "../../patches/alpha"
    assert (repo / ".f5quilt/upstreams/alpha/tree-pin.json").is_file()
    assert not (repo / ".f5quilt/upstreams/beta").exists()
    # the current directory picks: inside beta's patches folder, then inside alpha's tree
    rc, out, err = run(repo / "beta-patches", "push")
    assert rc == 0, err
    assert (repo / "third_party/beta/n.py").read_text() == "p\nQ\n"
    rc, out, err = run(repo / "third_party/alpha", "top")
    assert rc == 0 and out.strip().endswith("patches/alpha/fix.diff")
    # undo is per upstream: beta's push goes, alpha's stays
    rc, out, err = run(repo, "-u", "beta", "undo")
    assert rc == 0, err
    assert not (repo / "third_party/beta").exists()
    assert (repo / "third_party/alpha/m.py").read_text() == "a\nB\nc\nd\n"


def test_check_and_status_cover_every_upstream(repo: Path, run: Runner) -> None:
    import jsonschema
    from test_json_output import schemas
    rc, out, err = run(repo, "check")
    assert rc == 0, err
    assert "1 patch applies to" in out and out.count("1 patch applies") == 2
    # a broken patch in the second upstream fails the whole check
    (repo / "beta-patches/fix.diff").write_text(BETA_FIX.replace(" p\n", " x\n"))
    rc, out, err = run(repo, "check")
    assert rc == 1
    assert "beta-patches/fix.diff: third_party/beta/n.py: Hunk #1 FAILED" in err and "1 of 1 patches do not apply" in err
    rc, out, err = run(repo, "check", "--json")
    data = json.loads(out)
    assert rc == 1 and data["ok"] is False
    assert [data["upstreams"][n]["ok"] for n in ("alpha", "beta")] == [True, False]
    rc, out, err = run(repo, "-u", "alpha", "check")
    assert rc == 0, err
    rc, out, err = run(repo, "status")
    assert rc == 0, err
    assert "== alpha ==" in out and "== beta ==" in out and "tree: third_party/beta (missing" in out
    rc, out, err = run(repo, "status", "--json")
    for name, report in json.loads(out)["upstreams"].items():
        jsonschema.validate(report, schemas()["status"])
        assert report["series"] == 1


def test_settings_paths_stay_inside_the_project(repo: Path, run: Runner) -> None:
    cases = {
        "outside": SETTINGS.replace("tree: third_party/beta", "tree: ../elsewhere"),
        "shared": SETTINGS.replace("patches: beta-patches", "patches: patches/alpha"),
        "nested": SETTINGS.replace("tree: third_party/beta", "tree: third_party/alpha/sub"),
        "top-level tree": "tree: x\n" + SETTINGS,
        "bad name": SETTINGS.replace("  beta:", "  ../beta:"),
    }
    for what, text in cases.items():
        (repo / "f5quilt.yaml").write_text(text)
        rc, out, err = run(repo, "-u", "alpha", "push")
        assert rc == 1, what
        assert len(err.strip().splitlines()) == 1 and "f5quilt.yaml" in err, (what, err)
        assert not (repo / "third_party").exists()


def test_single_pin_form_is_one_upstream(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    write_tree(tmp_path, {"up/m.py": "a\nb\nc\n", "r/patches/series": "fix.diff\n", "r/patches/fix.diff": ALPHA_FIX,
                          "r/f5quilt.yaml": f"tree: t\nupstream:\n  path: {tmp_path / 'up'}\n"})
    rc, out, err = run(tmp_path / "r", "-u", "up", "push")
    assert rc == 0, err
    assert (tmp_path / "r/.f5quilt/tree-pin.json").is_file()  # its state where it always was
    rc, out, err = run(tmp_path / "r", "-u", "other", "top")
    assert rc == 1 and "no upstream 'other'; the only one is up" in err


def test_init_adds_an_upstream(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "r"
    write_tree(root, {"src/a/m.py": "a\nb\nc\n", "src/b/n.py": "p\nq\n"})
    assert run(root, "init", "--path", "src/a", "--tree", "third_party/a")[0] == 0
    single = (root / "f5quilt.yaml").read_text()
    rc, out, err = run(root, "-u", "bee", "init", "--path", "src/b")
    assert rc == 0, err
    text = (root / "f5quilt.yaml").read_text()
    assert text.startswith("# f5quilt settings")  # the comment is kept
    assert "upstreams:\n  a:\n    tree: third_party/a\n    patches: patches\n    upstream:\n      path: src/a\n" in text
    assert "  bee:\n    tree: third_party/b\n    patches: patches-bee\n" in text  # not inside a's patches/
    assert (root / "patches-bee/series").read_text() == ""
    assert (root / "third_party/b/n.py").is_file()
    # the first upstream keeps its tree's record, under its own name now
    assert (root / ".f5quilt/upstreams/a/tree-pin.json").is_file()
    assert run(root, "-u", "a", "status")[1].count("(built from") == 0
    rc, out, err = run(root, "-u", "bee", "init", "--path", "src/b", "--tree", "third_party/b2")
    assert rc == 1 and "upstream bee exists already" in err
    rc, out, err = run(root, "-u", "c", "init", "--path", "src/b", "--tree", "third_party/a/x")
    assert rc == 1 and "overlaps upstream a" in err
    # one transaction: undo puts the single-pin form back
    rc, out, err = run(root, "-u", "bee", "undo")
    assert rc == 0, err
    assert (root / "f5quilt.yaml").read_text() == single
    assert not (root / "third_party/b").exists() and not (root / ".f5quilt/upstreams/a").exists()


def test_rebase_writes_the_pin_into_its_entry(repo: Path, run: Runner) -> None:
    write_tree(repo, {"src/alpha2/m.py": "top\na\nb\nc\nd\n"})
    assert run(repo, "-u", "alpha", "push")[0] == 0
    rc, out, err = run(repo / "third_party/alpha", "rebase", "--onto", str(repo / "src/alpha2"))
    assert rc == 0, err
    assert (repo / "f5quilt.yaml").read_text() == SETTINGS.replace("path: src/alpha\n", "path: src/alpha2\n")
    assert (repo / "third_party/alpha/m.py").read_text() == "top\na\nB\nc\nd\n"
    assert not (repo / ".f5quilt/rebase").exists()


def test_precommit_hook_checks_every_upstream(repo: Path, tmp_path: Path) -> None:
    from test_precommit import PRE_COMMIT, hook_repo
    hooks, rev = hook_repo(tmp_path)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: f5quilt-check\n")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pc-home"))
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    assert subprocess.run([PRE_COMMIT, "run"], cwd=repo, env=env, capture_output=True).returncode == 0
    (repo / "patches/alpha/fix.diff").write_text(ALPHA_FIX.replace(" a\n", " z\n"))
    git("add", "-A", cwd=repo)
    proc = subprocess.run([PRE_COMMIT, "run"], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and "patches/alpha/fix.diff" in proc.stdout


def test_completion_follows_dash_u(repo: Path) -> None:
    from test_completion import complete
    (repo / "beta-patches/other.diff").write_text(BETA_FIX)
    (repo / "beta-patches/series").write_text("fix.diff\nother.diff\n")
    assert complete(repo, "f5quilt -u beta push ") == ["plain,fix.diff", "plain,other.diff"]
    assert complete(repo, "f5quilt -u alpha push ") == ["plain,fix.diff"]
    assert complete(repo, "f5quilt push ") == []  # several, none chosen: nothing, no error
