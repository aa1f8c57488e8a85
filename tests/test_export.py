"""The series as git commits and back, against real git: export --git/--mbox,
import --git, git am, git bisect and range-diff."""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple, Union

import pytest

from f5quilt.engine.gitdiff import diff_files
from f5quilt.model.mailheader import Commit, to_commit, to_header
from f5quilt.model.patch import patch_header
from helpers import ROOT, Runner, git, snapshot, write_tree

F5_DATA = ROOT / "tests/data/f5-1.1.7-series"
UTILS = "src/f5_tts/infer/utils_infer.py"
API = "src/f5_tts/api.py"
UPSTREAM = {
    UTILS: "".join(f"utils line {i}\n" for i in range(1, 41)),
    API: "".join(f"api line {i}\n" for i in range(1, 21)),
    "tools/old.sh": "echo old\n",
    "check.sh": "grep -q 'utils line 30' src/f5_tts/infer/utils_infer.py\n",
}


def f5_header(name: str) -> str:
    """The real DEP-3 header of a patch of the F5-TTS 1.1.7 test series."""
    return patch_header((F5_DATA / name).read_bytes()).decode()


def edit(files: Dict[str, str], rel: str, old: str, new: str) -> Dict[str, str]:
    out = dict(files)
    assert old in out[rel]
    out[rel] = out[rel].replace(old, new)
    return out


def diff(before: Mapping[str, Optional[str]], after: Mapping[str, Optional[str]],
         modes: Optional[Dict[str, Tuple[Optional[int], Optional[int]]]] = None, prefixes: bool = True) -> str:
    """A diff in f5quilt's canonical form (what refresh writes)."""
    changed = [k for k in after if before.get(k) != after[k] or (modes and k in modes)]
    enc = {k: (v.encode() if v is not None else None) for k, v in before.items()}
    return diff_files({k: enc.get(k) for k in changed},
                      {k: (after[k] or "").encode() if after[k] is not None else None for k in changed},
                      modes=modes, prefixes=prefixes).decode()


def build_series(root: Path) -> Dict[str, str]:
    """An F5-TTS-like series in every header form, with a new script, a chmod, a deletion and -p0."""
    t0: Dict[str, Optional[str]] = dict(UPSTREAM)
    t1 = edit(UPSTREAM, UTILS, "utils line 5\n", "utils line 5\ncache = {}\n")
    t2 = edit(t1, UTILS, "utils line 20\n", "with autocast():\n    utils line 20\n")
    p3_after = {"tools/run.sh": "#!/bin/sh\necho run\n", "check.sh": UPSTREAM["check.sh"]}
    t4 = edit(t2, API, "api line 10\n", "api line 10  # skip_spectrogram\n")
    t5 = edit(t4, API, "api line 15\n", "api line 15\nAPI = 2\n")
    patches = {
        "01-ref-audio-tensor-cache.patch": f5_header("01-ref-audio-tensor-cache.patch")
        + diff({UTILS: t0[UTILS]}, {UTILS: t1[UTILS]}),
        "02-autocast.patch": f5_header("02-autocast.patch") + diff({UTILS: t1[UTILS]}, {UTILS: t2[UTILS]}),
        "03-run-script.patch": "From: Jane Doe <jane@example.org>\nDate: Thu, 1 Jan 2026 10:00:00 +0100\n"
        "Subject: tools: a run script\n\nAnd check.sh becomes executable.\n\n"
        + diff({"tools/run.sh": None, "check.sh": UPSTREAM["check.sh"]}, p3_after,
               modes={"tools/run.sh": (None, 0o755), "check.sh": (0o644, 0o755)}),
        "04-no-header.patch": diff({"tools/old.sh": "echo old\n", API: t2[API]},
                                   {"tools/old.sh": None, API: t4[API]}),
        "05-format-patch.patch": "From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001\n"
        "From: Bob <bob@example.org>\nDate: Fri, 02 Jan 2026 12:00:00 +0000\nSubject: [PATCH] api: version 2\n\n"
        "Bump it.\n---\n api.py | 1 +\n\n" + diff({API: t4[API]}, {API: t5[API]}, prefixes=False),
    }
    files: Dict[str, Union[bytes, str]] = {f"patches/{n}": text for n, text in patches.items()}
    write_tree(root, files)
    (root / "patches/series").write_text("# the F5-like series\n" + "".join(
        n + (" -p0" if n.startswith("05") else "") + "\n" for n in patches))
    return patches


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    write_tree(tmp_path / "upstream", dict(UPSTREAM.items()))
    repo = tmp_path / "repo"
    write_tree(repo, {"f5quilt.yaml": f"tree: third_party/F5-TTS\nupstream:\n  path: {tmp_path / 'upstream'}\n",
                      ".gitignore": "third_party/\n.cache/\n.f5quilt/\n"})
    build_series(repo)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "series v1", cwd=repo)
    return repo


def tree_of(repo: Path, rev: str) -> Dict[str, Tuple[bytes, bool]]:
    out: Dict[str, Tuple[bytes, bool]] = {}
    for line in git("ls-tree", "-r", rev, cwd=repo).splitlines():
        meta, rel = line.split("\t", 1)
        mode, _, sha = meta.split()
        data = subprocess.run(["git", "cat-file", "blob", sha], cwd=repo, check=True, capture_output=True).stdout
        out[rel] = (data, mode == "100755")
    return out


def tree_on_disk(root: Path) -> Dict[str, Tuple[bytes, bool]]:
    return {rel: (data, bool(os.stat(root / rel).st_mode & stat.S_IXUSR))
            for rel, data in snapshot(root, skip_pc=True).items()}


def test_export_builds_one_commit_per_patch_touching_nothing(repo: Path, run: Runner) -> None:
    head = git("rev-parse", "HEAD", cwd=repo)
    rc, out, err = run(repo, "export", "--git", "f5")
    assert rc == 0, err
    assert "Exported 5 patches to branch f5" in out
    log = git("log", "--reverse", "--format=%an <%ae>|%ad|%s", "--date=iso-strict", "f5", cwd=repo).splitlines()
    assert log[0] == f"Test <test@example.invalid>|2000-01-01T00:00:00+00:00|Upstream {repo.parent / 'upstream'}"
    assert log[1:] == [
        "Test <test@example.invalid>|2000-01-01T00:00:00+00:00|"
        "Cache the loaded reference audio tensor in infer_process",
        "Test <test@example.invalid>|2000-01-01T00:00:00+00:00|Run model sampling under CUDA autocast (fp16)",
        "Jane Doe <jane@example.org>|2026-01-01T10:00:00+01:00|tools: a run script",
        "Test <test@example.invalid>|2000-01-01T00:00:00+00:00|04-no-header",
        "Bob <bob@example.org>|2026-01-02T12:00:00+00:00|api: version 2",
    ]
    body = git("log", "-1", "--format=%B", "f5~4", cwd=repo)
    assert body.startswith("Cache the loaded reference audio tensor in infer_process\n\nRepeated inference")
    assert body.endswith("Forwarded: not-needed\nF5quilt-Patch: 01-ref-audio-tensor-cache.patch\n"
                         "F5quilt-Header: dep3\n\n")  # (%B adds a newline)
    # the user's work tree, index and branch are as they were
    assert git("rev-parse", "HEAD", cwd=repo) == head
    assert git("status", "--porcelain", cwd=repo) == ""
    assert git("symbolic-ref", "HEAD", cwd=repo).strip() == "refs/heads/main"
    # the branch's tree is what push -a builds, exec bits included
    assert run(repo, "push", "-a")[0] == 0
    assert tree_of(repo, "f5") == tree_on_disk(repo / "third_party/F5-TTS")
    assert tree_of(repo, "f5")["tools/run.sh"][1] and tree_of(repo, "f5")["check.sh"][1]
    assert tree_of(repo, "f5~5") == {rel: (data.encode(), False) for rel, data in UPSTREAM.items()}


def test_export_refuses_existing_or_checked_out_branch_and_is_deterministic(repo: Path, run: Runner) -> None:
    assert run(repo, "export", "--git", "f5")[0] == 0
    first = git("rev-parse", "f5", cwd=repo)
    rc, _, err = run(repo, "export", "--git", "f5")
    assert rc == 1 and err == "branch f5 exists already; --force replaces it\n"
    assert run(repo, "export", "--git", "f5", "--force")[0] == 0
    assert git("rev-parse", "f5", cwd=repo) == first  # same series, same commits
    rc, _, err = run(repo, "export", "--git", "main", "--force")
    assert rc == 1 and "branch main is checked out" in err
    rc, _, err = run(repo, "export", "--git", "bad..name")
    assert rc == 1 and "not a valid branch name" in err
    assert run(repo, "export")[0] == 2  # usage: nothing asked for


def test_export_of_a_series_that_does_not_apply_names_the_hunk(repo: Path, run: Runner) -> None:
    p = repo / "patches/02-autocast.patch"
    p.write_text(p.read_text().replace(" utils line 19\n", " utils line 99\n"))
    rc, _, err = run(repo, "export", "--git", "f5")
    assert rc == 1
    assert err.startswith("patches/02-autocast.patch: third_party/F5-TTS/src/f5_tts/infer/utils_infer.py: Hunk #1 FAILED at 18. "
                          "(the series does not apply to ")
    assert "f5" not in git("branch", "--list", "f5", cwd=repo)


def test_import_of_the_exported_branch_gives_the_patch_files_back(repo: Path, run: Runner, tmp_path: Path) -> None:
    assert run(repo, "export", "--git", "f5")[0] == 0
    other = tmp_path / "other"
    write_tree(other, {"f5quilt.yaml": (repo / "f5quilt.yaml").read_text(), "patches/series": "# kept\n"})
    rc, out, err = run(other, "import", "--git", "f5", "--repo", str(repo))
    assert rc == 0, err
    first = git("rev-parse", "f5~4", cwd=repo)[:12]
    assert out.splitlines()[0] == f"Importing commit {first} as patch patches/01-ref-audio-tensor-cache.patch"
    assert snapshot(other / "patches") == {
        **{k: v for k, v in snapshot(repo / "patches").items() if k != "series"},
        "series": (repo / "patches/series").read_bytes().replace(b"# the F5-like series\n", b"# kept\n")}
    # and what it built is the same series: exporting it again gives the same commits
    git("init", "-q", cwd=other)
    assert run(other, "export", "--git", "again")[0] == 0
    assert git("rev-parse", "again^{tree}", cwd=other) == git("rev-parse", "f5^{tree}", cwd=repo)
    assert git("log", "--format=%an%ad%B", "again", cwd=other) == git("log", "--format=%an%ad%B", "f5", cwd=repo)


def test_the_note_gives_a_non_canonical_diff_back_until_the_commit_changes(repo: Path, run: Runner,
                                                                           tmp_path: Path) -> None:
    p = repo / "patches/02-autocast.patch"
    canonical = p.read_text()
    # GNU diff style: timestamps, one line of context less, no diff --git line
    p.write_text(f5_header("02-autocast.patch") + "--- a/src/f5_tts/infer/utils_infer.py\t2026-01-01 00:00:00\n"
                 "+++ b/src/f5_tts/infer/utils_infer.py\t2026-01-02 00:00:00\n"
                 "@@ -19,5 +19,6 @@\n utils line 18\n utils line 19\n-utils line 20\n+with autocast():\n"
                 "+    utils line 20\n utils line 21\n utils line 22\n")
    rc, _, err = run(repo, "export", "--git", "f5")
    assert rc == 0, err
    assert git("notes", "--ref=f5quilt", "show", "f5~3", cwd=repo) == p.read_text()
    other = tmp_path / "other"
    other.mkdir()
    assert run(other, "import", "--git", "f5", "--repo", str(repo), "-q")[0] == 0
    assert (other / "patches/02-autocast.patch").read_text() == p.read_text()
    # a commit that is not the exported one (here: reworded) gets the diff refresh writes
    wt = tmp_path / "wt"
    git("worktree", "add", "-q", "--detach", str(wt), "f5~3", cwd=repo)
    message = git("log", "-1", "--format=%B", "HEAD", cwd=wt).rstrip("\n").replace("(fp16)", "(float16)")
    git("commit", "-q", "--amend", "--cleanup=verbatim", "-m", message, cwd=wt)
    rc, _, err = run(other, "import", "-f", "--git", "HEAD~1..HEAD", "--repo", str(wt))
    assert rc == 0, err
    assert (other / "patches/02-autocast.patch").read_text() == canonical.replace("(fp16)", "(float16)")


def test_import_goes_after_the_top_patch_and_refuses_a_taken_name(repo: Path, run: Runner) -> None:
    assert run(repo, "export", "--git", "f5")[0] == 0
    rc, _, err = run(repo, "import", "--git", "f5~1..f5")
    assert rc == 1 and err == "Patch patches/05-format-patch.patch exists. Replace with -f.\n"
    message = git("log", "-1", "--format=%B", "f5", cwd=repo).rstrip("\n")
    twice = git("commit-tree", "f5^{tree}", "-p", "f5", "-m", message, cwd=repo).strip()
    rc, _, err = run(repo, "import", "-f", "--git", f"f5~1..{twice}")
    assert rc == 1 and err == f"two commits of f5~1..{twice} are patch patches/05-format-patch.patch\n"
    assert run(repo, "push", "2")[0] == 0
    (repo / "patches/series").write_text("# the F5-like series\n01-ref-audio-tensor-cache.patch\n02-autocast.patch\n"
                                         "04-no-header.patch\n05-format-patch.patch -p0\n")
    (repo / "patches/03-run-script.patch").unlink()
    rc, out, _ = run(repo, "import", "--git", "f5~3..f5~2")
    third = git("rev-parse", "f5~2", cwd=repo)[:12]
    assert rc == 0 and out == f"Importing commit {third} as patch patches/03-run-script.patch\n"
    assert (repo / "patches/series").read_text().splitlines()[3:5] == ["03-run-script.patch", "04-no-header.patch"]
    assert git("status", "--porcelain", cwd=repo) == ""  # byte for byte what was committed


def _shouting_repo(up: Path, message: str) -> None:
    """A git repository: a start commit, then one changing a.txt's line two (``message``)."""
    write_tree(up, {"a.txt": "one\ntwo\n"})
    git("init", "-q", cwd=up)
    git("add", "-A", cwd=up)
    git("commit", "-q", "-m", "start", cwd=up)
    (up / "a.txt").write_text("one\nTWO\n")
    git("commit", "-q", "-am", message, cwd=up)


def test_import_of_ordinary_commits_writes_git_style_headers(tmp_path: Path, run: Runner) -> None:
    up = tmp_path / "up"
    _shouting_repo(up, "Shout two\n\nBecause.\n\nSigned-off-by: Test <test@example.invalid>")
    (up / "a.txt").write_text("ONE\nTWO\n")
    git("commit", "-q", "-am", "Shout one", cwd=up)
    tree = tmp_path / "tree"
    tree.mkdir()
    rc, out, err = run(tree, "import", "--git", "HEAD~2..HEAD", "--repo", str(up))
    assert rc == 0, err
    assert (tree / "patches/series").read_text() == "shout-two.patch\nshout-one.patch\n"
    assert (tree / "patches/shout-two.patch").read_text() == (
        "From: Test <test@example.invalid>\nDate: Thu, 1 Jan 2026 00:00:00 +0000\nSubject: Shout two\n\n"
        "Because.\n\nSigned-off-by: Test <test@example.invalid>\n\n"
        "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n")
    # a root commit that is not an exported upstream commit is refused, and nothing is written
    rc, _, err = run(tree, "import", "--git", "HEAD", "--repo", str(up))
    assert rc == 1 and "has no parent; start the range after it" in err
    rc, _, err = run(tree, "import", "--git", "nope..HEAD", "--repo", str(up))
    assert rc == 1 and "nope..HEAD: not a revision range" in err
    assert (tree / "patches/series").read_text() == "shout-two.patch\nshout-one.patch\n"


def test_import_never_overwrites_an_unlisted_patch_file(tmp_path: Path, run: Runner) -> None:
    """Issue 18: a patch named after the commit subject overwrote a patch file the series does
    not list (work in progress, say), exit 0."""
    up = tmp_path / "up"
    _shouting_repo(up, "Shout two")
    tree = tmp_path / "tree"
    write_tree(tree, {"patches/shout-two.patch": "my draft\n"})
    rc, out, err = run(tree, "import", "--git", "HEAD~1..HEAD", "--repo", str(up))
    assert rc == 0, err
    assert (tree / "patches/shout-two.patch").read_text() == "my draft\n"
    assert (tree / "patches/series").read_text() == "shout-two-2.patch\n"


def test_git_am_of_the_mbox_onto_the_pristine_commit_gives_the_same_tree(repo: Path, run: Runner,
                                                                         tmp_path: Path) -> None:
    assert run(repo, "export", "--git", "f5")[0] == 0
    rc, out, err = run(repo, "export", "--mbox", str(tmp_path / "series.mbox"))
    assert rc == 0, err
    text = (tmp_path / "series.mbox").read_text()
    assert text.count("\nSubject: [PATCH ") == 5 and "Subject: [PATCH 3/5] tools: a run script\n" in text
    wt = tmp_path / "am"
    git("worktree", "add", "-q", "--detach", str(wt), "f5~5", cwd=repo)
    git("am", "-q", "--patch-format=mboxrd", str(tmp_path / "series.mbox"), cwd=wt)
    assert git("rev-parse", "HEAD^{tree}", cwd=wt) == git("rev-parse", "f5^{tree}", cwd=repo)
    assert git("log", "--format=%an|%s", "f5~5..HEAD", cwd=wt) == git("log", "--format=%an|%s", "f5~5..f5", cwd=repo)


def test_git_bisect_run_finds_a_planted_breaking_patch(repo: Path, run: Runner, tmp_path: Path) -> None:
    # 02 is planted to break check.sh (it greps for "utils line 30")
    p = repo / "patches/02-autocast.patch"
    before = UPSTREAM[UTILS].replace("utils line 5\n", "utils line 5\ncache = {}\n")
    p.write_text(f5_header("02-autocast.patch") + diff(
        {UTILS: before},
        {UTILS: before.replace("utils line 30\n", "").replace("utils line 20\n", "with autocast():\n    utils line 20\n")}))
    assert run(repo, "export", "--git", "f5")[0] == 0
    wt = tmp_path / "bisect"
    git("worktree", "add", "-q", "--detach", str(wt), "f5", cwd=repo)
    git("bisect", "start", "f5", "f5~5", cwd=wt)
    out = git("bisect", "run", "sh", "check.sh", cwd=wt)
    bad = git("rev-parse", "f5~3", cwd=repo).strip()
    assert f"{bad} is the first bad commit" in out
    assert "Run model sampling under CUDA autocast (fp16)" in out


def test_range_diff_shows_changed_added_dropped_across_a_new_pin(repo: Path, run: Runner, tmp_path: Path) -> None:
    # v2: upstream moved (two lines on top of utils: the patches land at an offset), 02 changed,
    # 04 and 05 dropped, a new patch added
    drifted = {**UPSTREAM, UTILS: "# header\n# more\n" + UPSTREAM[UTILS]}
    write_tree(tmp_path / "upstream2", {**drifted})
    (repo / "f5quilt.yaml").write_text(
        f"tree: third_party/F5-TTS\nupstream:\n  path: {tmp_path / 'upstream2'}\n")
    p = repo / "patches/02-autocast.patch"
    p.write_text(p.read_text().replace("+with autocast():\n+    utils line 20\n", "+with autocast(dtype):\n+    utils line 20\n"))
    (repo / "patches/04-no-header.patch").unlink()
    (repo / "patches/06-new.patch").write_text("Description: add a line\n\n" + diff(
        {"tools/old.sh": "echo old\n"}, {"tools/old.sh": "echo old\necho new\n"}))
    (repo / "patches/series").write_text(
        "01-ref-audio-tensor-cache.patch\n02-autocast.patch\n03-run-script.patch\n06-new.patch\n")
    git("commit", "-q", "-am", "series v2", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "--amend", "--no-edit", cwd=repo)
    refs_before = git("for-each-ref", cwd=repo)
    git("update-ref", "refs/f5quilt/range-diff/999999999/old", "HEAD", cwd=repo)  # left by a killed run
    rc, out, err = run(repo, "range-diff", "HEAD~1", "HEAD")
    assert rc == 1, err
    lines = out.splitlines()
    assert "unchanged: 01-ref-audio-tensor-cache.patch" in lines
    assert "unchanged: 03-run-script.patch" in lines
    assert "changed:   02-autocast.patch" in lines
    assert "dropped:   04-no-header.patch" in lines
    assert "added:     06-new.patch" in lines
    assert "    -+with autocast():" in lines and "    ++with autocast(dtype):" in lines
    assert lines[-1] == "2 unchanged, 1 changed, 1 added, 2 dropped", out
    assert git("for-each-ref", cwd=repo) == refs_before  # the temporary refs are gone
    rc, out, _ = run(repo, "range-diff", "HEAD", "HEAD")
    assert rc == 0 and out.splitlines()[-1] == "4 unchanged, 0 changed, 0 added, 0 dropped"
    # without NEW: the series as it is now, edits not committed included
    p.write_text(p.read_text().replace("+with autocast(dtype):\n", "+with autocast(dtype, enabled):\n"))
    rc, out, _ = run(repo, "range-diff", "HEAD")
    assert rc == 1 and "changed:   02-autocast.patch" in out and "    ++with autocast(dtype, enabled):" in out


def test_quilt_mode_exports_the_tree_with_its_patches_popped(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path, {"f.txt": "a\nb\nc\n"})
    (tmp_path / "patches").mkdir()
    (tmp_path / "patches/p.diff").write_text(
        "Description: b in capitals\n\n" + diff({"f.txt": "a\nb\nc\n"}, {"f.txt": "a\nB\nc\n"}))
    (tmp_path / "patches/series").write_text("p.diff\n")
    git("init", "-q", cwd=tmp_path)
    assert run(tmp_path, "push")[0] == 0
    rc, _, err = run(tmp_path, "export", "--git", "q")
    assert rc == 0, err
    assert git("show", "q~1:f.txt", cwd=tmp_path) == "a\nb\nc\n"
    assert git("show", "q:f.txt", cwd=tmp_path) == "a\nB\nc\n"
    assert git("log", "-1", "--format=%s", "q", cwd=tmp_path) == "b in capitals\n"
    assert git("ls-tree", "-r", "--name-only", "q", cwd=tmp_path) == "f.txt\n"  # not patches/ nor .pc/


HEADERS = [
    b"", b"no newline at the end", b"just text\n\nmore text\n\n",
    b"From: A B <a@b.c>\nDate: Thu, 1 Jan 2026 00:00:00 +0000\nSubject: Fix it\n\nBody.\n\n",
    b"From: A B <a@b.c>\nDate: Thu, 1 Jan 2026 00:00:00 +0000\nSubject: Fix it\n\n",
    b"Author: Me\nDescription: x\n long\n .\n more\nBug: 1\n\n",
    b"Subject: y\nOrigin: upstream\n\n",
    b"Description: trailing dot\n body\n .\n\n",
    b"Description: latin-1 \xe9t\xe9\nAuthor: J\xf6rg\n\n",
    b"Description: crlf\r\n body\r\n\r\n",
    b"From 123 Mon Sep 17 00:00:00 2001\nFrom: A <a@b.c>\nDate: Thu, 01 Jan 2026 00:00:00 +0000\n"
    b"Subject: [PATCH] Fix\n\nbody\n---\n a | 1 +\n\n",
]


@pytest.mark.parametrize("header", HEADERS + [
    patch_header(p.read_bytes()) for p in sorted([*F5_DATA.glob("*.patch"), *(ROOT / "patches").glob("*.patch")])])
def test_every_header_round_trips_through_a_commit_message(header: bytes) -> None:
    commit = to_commit(header, "x.patch", "-p0", ("Fallback", "f@example.invalid"))
    back = to_header(commit)
    assert back.header.encode("utf-8", "surrogateescape") == header
    assert (back.name, back.options) == ("x.patch", "-p0")
    assert "\n" not in commit.message.split("\n\n", 1)[0]  # a one-line subject
    if header.startswith(b"Description: ") and b"\r" not in header:
        assert commit.message.endswith("F5quilt-Header: dep3\n")  # readable, not verbatim


def test_odd_people_and_dates_still_make_commits(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path, {"f.txt": "a\nb\nc\n"})
    body = diff({"f.txt": "a\nb\nc\n"}, {"f.txt": "a\nB\nc\n"})
    (tmp_path / "patches").mkdir()
    (tmp_path / "patches/p.diff").write_text("Author: <only@example.org>\nDate: 1960-01-01\nSubject: old\n\n" + body)
    (tmp_path / "patches/series").write_text("p.diff\n")
    git("init", "-q", cwd=tmp_path)
    rc, _, err = run(tmp_path, "export", "--git", "x")
    assert rc == 0, err
    assert git("log", "-1", "--format=%an|%ae|%ad", "--date=iso-strict", "x", cwd=tmp_path) == \
        "only@example.org|only@example.org|2000-01-01T00:00:00+00:00\n"
    (tmp_path / "patches/p.diff").write_text("Author: Müller, Jörg <j@example.org>\nSubject: ü\n\n" + body)
    assert run(tmp_path, "export", "--mbox", "-")[0] == 0
    rc, out, _ = run(tmp_path, "export", "--mbox", str(tmp_path / "m"))
    info = subprocess.run(["git", "mailinfo", "/dev/null", "/dev/null"], input=(tmp_path / "m").read_bytes(),
                          capture_output=True, check=True).stdout.decode()
    assert "Author: Müller, Jörg\nEmail: j@example.org\nSubject: ü\n" in info


def test_dep3_and_mail_headers_give_author_and_date() -> None:
    c = to_commit(f5_header("01-ref-audio-tensor-cache.patch").encode(), "a.patch", "", ("F", "f@x"))
    assert (c.name, c.email, c.dated) == ("F", "f@x", False)
    c = to_commit((ROOT / "patches/06-half-depthwise-conv-in-fp32.patch").read_bytes().split(b"\n\ndiff")[0]
                  + b"\n\n", "b.patch", "", ("F", "f@x"))
    assert (c.name, c.email, c.date) == ("f5quilt payload", "", (1795564800, 0))  # Author:, Last-Update:
    c = to_commit(b"From: A B <a@b.c>\nDate: Thu, 1 Jan 2026 10:00:00 +0100\nSubject: S\n\n", "c.patch", "", ("F", ""))
    assert (c.name, c.email, c.date, c.message.split("\n")[0]) == ("A B", "a@b.c", (1767258000, 60), "S")
    assert to_header(Commit("A B", "a@b.c", (1767258000, 60), "S\n\nbody\n")).header == (
        "From: A B <a@b.c>\nDate: Thu, 1 Jan 2026 10:00:00 +0100\nSubject: S\n\nbody\n\n")


def test_export_needs_a_repository(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    write_tree(tmp_path / "t", {"f.txt": "a\n", "patches/series": ""})
    rc, _, err = run(tmp_path / "t", "export", "--git", "x")
    assert rc == 1 and "not in a git repository (name one with --repo)" in err
    shutil.rmtree(tmp_path / "t")


@pytest.mark.slow_network
def test_f5_117_series_round_trips_and_its_rebase_shows_in_range_diff(tmp_path: Path, run: Runner,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The real F5-TTS 1.1.7 test series on the real sdist; then its rebase onto 1.1.22 as a range-diff."""
    from test_f5_drift import CONFLICT, SHA_117
    monkeypatch.setenv("F5QUILT_CACHE", str(Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()))
    repo = tmp_path / "repo"
    shutil.copytree(F5_DATA, repo / "patches")
    write_tree(repo, {".gitignore": "third_party/\n", "f5quilt.yaml":
                      f"tree: third_party/F5-TTS\nupstream:\n  pypi: f5-tts==1.1.7\n  sha256: {SHA_117}\n"})
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "series on 1.1.7", cwd=repo)
    rc, out, err = run(repo, "export", "--git", "f5-117")
    assert rc == 0, err
    subjects = [f5_header(n).split("\n")[0][len("Description: "):] for n in sorted(os.listdir(F5_DATA)) if n != "series"]
    assert git("log", "--reverse", "--format=%s", "f5-117", cwd=repo).splitlines() == ["Upstream f5-tts==1.1.7", *subjects]
    assert run(repo, "push", "-a")[0] == 0
    assert tree_of(repo, "f5-117") == tree_on_disk(repo / "third_party/F5-TTS")

    other = tmp_path / "other"
    write_tree(other, {"f5quilt.yaml": (repo / "f5quilt.yaml").read_text()})
    assert run(other, "import", "--git", "f5-117", "--repo", str(repo))[0] == 0
    assert snapshot(other / "patches") == snapshot(F5_DATA)

    assert run(repo, "export", "--mbox", str(tmp_path / "f5.mbox"))[0] == 0
    git("worktree", "add", "-q", "--detach", str(tmp_path / "am"), "f5-117~5", cwd=repo)
    git("am", "-q", str(tmp_path / "f5.mbox"), cwd=tmp_path / "am")
    assert git("rev-parse", "HEAD^{tree}", cwd=tmp_path / "am") == git("rev-parse", "f5-117^{tree}", cwd=repo)

    # the rebase of test_f5_drift: 02 resolved by hand, 03 skipped, 05 (contained) dropped
    utils = repo / "third_party/F5-TTS/src/f5_tts/infer/utils_infer.py"
    assert run(repo, "rebase", "--onto", "f5-tts==1.1.22")[0] == 3
    utils.write_text(CONFLICT.sub(lambda m: m.group("ours"), utils.read_text()))
    assert run(repo, "rebase", "--continue")[0] == 3
    assert run(repo, "rebase", "--skip")[0] == 0
    git("commit", "-q", "-am", "series rebased onto 1.1.22", cwd=repo)
    rc, out, err = run(repo, "range-diff", "HEAD~1", "HEAD")
    assert rc == 1, err
    lines = out.splitlines()
    assert "changed:   01-ref-audio-tensor-cache.patch" in lines  # upstream's context moved under it
    assert "unchanged: 04-docstring-note.patch" in lines   # it only moved: same patch at an offset
    assert "changed:   02-autocast.patch" in lines         # resolved by hand
    assert "dropped:   03-skip-spectrogram.patch" in lines
    assert "dropped:   05-already-upstream.patch" in lines
    assert "    -+    use_amp = device is not None and \"cuda\" in str(device)" in lines  # the interdiff
    assert lines[-1] == "1 unchanged, 2 changed, 0 added, 2 dropped"
    # the same, from f5quilt's log alone: the series before the rebase and the one it left
    rc, logged, err = run(repo, "range-diff", "--rebase")
    assert rc == 1, err
    assert logged.splitlines()[0].startswith("`rebase --onto f5-tts==1.1.22` (3 steps in the log")  # 05, contained, is dropped without a stop
    assert logged.splitlines()[1:] == lines


@pytest.mark.debian
@pytest.mark.parametrize("pkg", ["grub2", "cron", "openssh", "procmail"])
def test_debian_series_export_import_and_am(pkg: str, tmp_path: Path, run: Runner,
                                            monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """367 real patches in four styles (gbp pq, Index:+timestamps, format-patch, plain): commits, tree,
    byte-identical import (the notes), git am of the mbox."""
    if shutil.which("apt-get") is None:
        pytest.skip("needs apt (.ci/run installs it)")
    trees = request.getfixturevalue("debian_trees")  # conftest: fetched once a session
    monkeypatch.setenv("QUILT_PATCHES", "debian/patches")
    src = tmp_path / pkg
    shutil.copytree(trees / pkg, src, symlinks=True)
    git("init", "-q", cwd=src)
    rc, out, err = run(src, "export", "--git", "series")
    assert rc == 0, err
    names = [line.split()[0] for line in (src / "debian/patches/series").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(git("rev-list", "series", cwd=src).split()) == len(names) + 1
    assert run(src, "push", "-a", "-q")[0] == 0
    exported = {rel: data for rel, (data, _x) in tree_of(src, "series").items()}
    assert exported == {k: v for k, v in snapshot(src, skip_pc=True).items()
                        if not k.startswith((".git/", "debian/patches/"))}
    other = tmp_path / "other"
    other.mkdir()
    assert run(other, "import", "--git", "series", "--repo", str(src), "-q")[0] == 0
    for name in names:
        assert (other / "debian/patches" / name).read_bytes() == (src / "debian/patches" / name).read_bytes(), name
    assert run(src, "export", "--mbox", str(tmp_path / "s.mbox"))[0] == 0
    git("worktree", "add", "-q", "--detach", str(tmp_path / "am"), f"series~{len(names)}", cwd=src)
    git("am", "-q", "--patch-format=mboxrd", str(tmp_path / "s.mbox"), cwd=tmp_path / "am")
    assert git("rev-parse", "HEAD^{tree}", cwd=tmp_path / "am") == git("rev-parse", "series^{tree}", cwd=src)


def test_a_reversed_entry_round_trips_without_the_notes_too(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path / "t", {"f.txt": "a\nb\nc\n", "run.sh": "echo\n"})
    os.chmod(tmp_path / "t/run.sh", 0o755)
    # -R: the patch file holds the change backwards (B -> b); the series applies it reversed
    (tmp_path / "t/patches").mkdir()
    (tmp_path / "t/patches/r.diff").write_text(
        "Description: b in capitals, kept as a reverse patch\n\n" + diff({"f.txt": "a\nB\nc\n"}, {"f.txt": "a\nb\nc\n"}))
    (tmp_path / "t/patches/series").write_text("r.diff -R\n")
    git("init", "-q", cwd=tmp_path / "t")
    rc, _, err = run(tmp_path / "t", "export", "--git", "r")
    assert rc == 0, err
    assert git("show", "r:f.txt", cwd=tmp_path / "t") == "a\nB\nc\n"
    assert "100755 blob" in git("ls-tree", "r", "run.sh", cwd=tmp_path / "t")
    git("update-ref", "-d", "refs/notes/f5quilt", cwd=tmp_path / "t")  # as in a clone: no notes
    (tmp_path / "u").mkdir()
    assert run(tmp_path / "u", "import", "--git", "r", "--repo", str(tmp_path / "t"))[0] == 0
    assert snapshot(tmp_path / "u/patches") == snapshot(tmp_path / "t/patches")


@pytest.mark.slow_network
def test_this_repositorys_payload_round_trips_even_without_the_notes(tmp_path: Path, run: Runner,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("F5QUILT_CACHE", str(Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()))
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "patches", repo / "patches")
    shutil.copy(ROOT / "f5quilt.yaml", repo / "f5quilt.yaml")
    git("init", "-q", cwd=repo)
    assert run(repo, "export", "--git", "payload")[0] == 0
    # one commit per patch, each with its header's author, date and subject (read here by hand,
    # so the check follows the payload as it evolves)
    log = git("log", "--reverse", "--format=%an|%ad|%s", "--date=short", "payload", cwd=repo).splitlines()[1:]
    names = (ROOT / "patches/series").read_text().split()
    assert len(log) == len(names)
    for name, line in zip(names, log):
        fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", (ROOT / "patches" / name).read_text().split("\n---")[0],
                                 flags=re.M))
        if "Description" in fields:
            assert line == f"{fields['Author']}|{fields['Last-Update']}|{fields['Description']}", name
        else:  # no header: git's identity, the fixed date, the name as subject
            assert line == f"Test|2000-01-01|{name[:-len('.patch')]}", name
    git("update-ref", "-d", "refs/notes/f5quilt", cwd=repo)
    other = tmp_path / "other"
    other.mkdir()
    assert run(other, "import", "--git", "payload", "--repo", str(repo))[0] == 0
    assert snapshot(other / "patches") == snapshot(ROOT / "patches")
