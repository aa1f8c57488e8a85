"""f5quilt check: every report state, JSON, --strict, --tree, bad inputs, and no writes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import Runner, snapshot, write_tree

PRISTINE = {"m.py": "".join(f"l{i}\n" for i in range(1, 31)), "n.py": "a\nb\nc\n"}


def patch(line: int, old: str, new: str, f: str = "m.py") -> str:
    return (f"--- a/{f}\n+++ b/{f}\n@@ -{line - 1},3 +{line - 1},3 @@\n"
            f" l{line - 1}\n-{old}\n+{new}\n l{line + 1}\n")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    write_tree(tmp_path / "upstream", PRISTINE)
    write_tree(tmp_path / "repo", {
        "f5quilt.yaml": f"tree: tree\nupstream:\n  path: {tmp_path / 'upstream'}\n",
        "patches/clean.diff": patch(5, "l5", "L5"),
        "patches/series": "clean.diff\n",
    })
    return tmp_path / "repo"


def set_series(repo: Path, **patches: str) -> None:
    for name, text in patches.items():
        (repo / "patches" / name).write_text(text)
    (repo / "patches/series").write_text("".join(n + "\n" for n in patches))


def test_clean_series_passes_without_a_tree(repo: Path, run: Runner) -> None:
    rc, out, _ = run(repo, "check")
    assert rc == 0 and "1 patch applies to" in out
    assert not (repo / "tree").exists()  # no tree needed, none created


def test_each_state_in_json(repo: Path, run: Runner) -> None:
    set_series(repo,
               **{"a-clean.diff": patch(5, "l5", "L5"),
                  # written against a file with two extra lines at the top: offset -2
                  "b-offset.diff": patch(12, "l10", "L10").replace("@@ -11,3 +11,3 @@", "@@ -13,3 +13,3 @@")
                  .replace(" l11\n-l10\n+L10\n l13\n", " l9\n-l10\n+L10\n l11\n"),
                  "c-fuzz.diff": "--- a/m.py\n+++ b/m.py\n@@ -19,3 +19,3 @@\n l19\n-l20\n+L20\n changed\n",
                  "d-fails.diff": patch(25, "nope", "x"),
                  "e-missing.diff": "x"})
    (repo / "patches/e-missing.diff").unlink()
    rc, out, _ = run(repo, "check", "--json", "--fuzz", "1")
    assert rc == 1
    report = json.loads(out)
    status = {p["patch"]: p["status"] for p in report["patches"]}
    assert status == {"a-clean.diff": "clean", "b-offset.diff": "offset", "c-fuzz.diff": "fuzz",
                      "d-fails.diff": "fails", "e-missing.diff": "error"}
    fails = next(p for p in report["patches"] if p["status"] == "fails")
    assert fails["hunks"][0] == {"file": "m.py", "hunk": 1, "status": "failed", "line": 24, "offset": 0,
                                 "fuzz": 1, "message": "Hunk #1 FAILED at 24.",  # fuzz: the most tried
                                 "landing": "failed",
                                 "mismatch": {"line": 25, "expected": "nope", "found": "l25"},
                                 "why": "line 25: expected 'nope', found 'l25'"}
    offset = next(p for p in report["patches"] if p["status"] == "offset")
    assert offset["hunks"][0]["offset"] == -4 and offset["hunks"][0]["landing"] == "offset"
    assert "patches/series:5: names patches/e-missing.diff, which does not exist" in next(
        p for p in report["patches"] if p["status"] == "error")["error"]
    assert report["ok"] is False and report["upstream"].endswith("upstream")


def test_strict_fails_on_offset(repo: Path, run: Runner) -> None:
    set_series(repo, **{"off.diff": patch(8, "l8", "L8").replace("@@ -7,3 +7,3 @@", "@@ -9,3 +9,3 @@")})
    assert run(repo, "check")[0] == 0
    rc, _, err = run(repo, "check", "--strict")
    assert rc == 1 and "patches/off.diff: tree/m.py: Hunk #1 succeeded at 7 (offset -2 lines)." in err


def test_bad_inputs_name_the_file(repo: Path, run: Runner) -> None:
    set_series(repo, **{"trav.diff": "--- a/../evil\n+++ b/../evil\n@@ -1 +1 @@\n-a\n+b\n"})
    rc, _, err = run(repo, "check")
    assert rc == 1 and "patches/trav.diff" in err and "leaves the tree" in err
    set_series(repo, **{"bad.diff": "--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n l1\n"})
    rc, _, err = run(repo, "check")
    assert rc == 1 and "\npatches/bad.diff:4: " in err


def test_unlisted_patch_files_are_warned_about(repo: Path, run: Runner) -> None:
    (repo / "patches/stray.diff").write_text("x")
    rc, _, err = run(repo, "check")
    assert rc == 0 and "warning: patches/stray.diff is not in the series" in err


def test_check_writes_nothing(repo: Path, run: Runner) -> None:
    assert run(repo, "push", "-a")[0] == 0
    (repo / "tree/n.py").write_text("local edit\n")
    before = snapshot(repo)
    run(repo, "check", "--tree")
    run(repo, "check", "--json")
    after = snapshot(repo)
    assert after == before


def test_tree_drift_reports_edits_outside_patches(repo: Path, run: Runner) -> None:
    assert run(repo, "push", "-a")[0] == 0
    assert run(repo, "check", "--tree")[0] == 0
    (repo / "tree/n.py").write_text("local edit\n")
    (repo / "tree/m.py").write_text((repo / "tree/m.py").read_text() + "unrefreshed\n")
    (repo / "tree/extra.txt").write_text("new\n")
    rc, out, err = run(repo, "check", "--tree", "--json")
    assert rc == 1
    drift = {d["file"]: d["why"] for d in json.loads(out)["drift"]}
    assert drift == {"n.py": "edited outside any patch",
                     "m.py": "changes not refreshed into patches/clean.diff",
                     "extra.txt": "not in pristine + applied patches (created outside any patch)"}


def test_status_tells_pin_patches_and_edits(repo: Path, run: Runner) -> None:
    rc, out, _ = run(repo, "status")
    assert rc == 0 and "tree: tree (missing: push fetches it)" in out and "(0 of 1 applied)" in out
    assert run(repo, "push")[0] == 0
    (repo / "tree/m.py").write_text((repo / "tree/m.py").read_text() + "unrefreshed\n")
    (repo / "tree/n.py").write_text("edited\n")
    rc, out, _ = run(repo, "status")
    assert rc == 0
    assert out.splitlines()[0].startswith("upstream: ") and out.splitlines()[0].endswith("/upstream")
    assert "top: patches/clean.diff  (1 of 1 applied)\n" in out  # compact: -v lists the patches
    assert "unrefreshed: tree/m.py: changes not refreshed into patches/clean.diff" in out
    assert "outside: tree/n.py: edited outside any patch" in out
