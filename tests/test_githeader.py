"""Headers git understands: header --git, new --git/--author; checked with the real git am."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import Runner, git, make_series, write_tree
from f5quilt.model.mailheader import to_commit

BASE = {"f.txt": "a\nb\nc\n", "g.txt": "x\n"}
DEP3 = ("Description: Make b big\n The long description,\n .\n in two paragraphs.\n"
        "Author: Jane Doe <jane@example.org>\nOrigin: vendor\nForwarded: no\nLast-Update: 2024-03-05\n\n")
DIFF = "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
EXPECTED = ("From: Jane Doe <jane@example.org>\nDate: Tue, 5 Mar 2024 00:00:00 +0000\nSubject: Make b big\n\n"
            "The long description,\n\nin two paragraphs.\n\n"
            "Origin: vendor\nForwarded: no\nLast-Update: 2024-03-05\n\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    t = tmp_path / "t"
    write_tree(t, BASE)
    make_series(t, {"p1.diff": DEP3 + DIFF})
    git("init", "-q", ".", cwd=t)
    git("config", "user.name", "Git User", cwd=t)
    git("config", "user.email", "git@example.org", cwd=t)
    return t


def dep3_fields(header: str) -> dict[str, str]:
    """DEP-3's first set of fields: RFC 2822-like lines up to the first empty line."""
    fields = {}
    for line in header.split("\n\n", 1)[0].split("\n"):
        key, _, value = line.partition(": ")
        fields[key] = value
    return fields


def test_header_git_turns_dep3_into_a_block_git_am_takes(repo: Path, run: Runner, tmp_path: Path) -> None:
    rc, out, err = run(repo, "header", "--git", "p1.diff")
    assert rc == 0, err
    assert out == "Replaced header of patch patches/p1.diff\n"
    data = (repo / "patches/p1.diff").read_text()
    assert data == EXPECTED + DIFF
    # again: nothing to change
    rc, out, _ = run(repo, "header", "--git", "p1.diff")
    assert rc == 0 and out == "Header of patch patches/p1.diff unchanged\n"
    # a DEP-3 reader: From is the author, Subject the description
    fields = dep3_fields(data)
    assert fields["From"] == "Jane Doe <jane@example.org>" and fields["Subject"] == "Make b big"
    commit = to_commit(EXPECTED.encode(), "p1.diff", "", ("x", "y"))  # export --git's reader
    assert (commit.name, commit.email) == ("Jane Doe", "jane@example.org")
    assert commit.message.startswith("Make b big\n\nThe long description,")
    # git am takes the patch file as it is
    am = tmp_path / "am"
    write_tree(am, BASE)
    git("init", "-q", ".", cwd=am)
    git("add", "-A", cwd=am)
    git("commit", "-qm", "pristine", cwd=am)
    git("am", "-q", str(repo / "patches/p1.diff"), cwd=am)
    log = git("log", "-1", "--format=%an <%ae>%n%aI%n%B", cwd=am)
    assert log == ("Jane Doe <jane@example.org>\n2024-03-05T00:00:00+00:00\nMake b big\n\n"
                   "The long description,\n\nin two paragraphs.\n\nOrigin: vendor\nForwarded: no\n"
                   "Last-Update: 2024-03-05\n\n")
    assert (am / "f.txt").read_text() == "a\nB\nc\n"
    # --author replaces the header's; undo restores the DEP-3 header
    assert run(repo, "header", "--git", "--author", "Doe, John <jd@example.org>", "p1.diff")[0] == 0
    assert (repo / "patches/p1.diff").read_text().startswith('From: "Doe, John" <jd@example.org>\n')
    assert run(repo, "undo")[0] == 0 and run(repo, "undo")[0] == 0
    assert (repo / "patches/p1.diff").read_text() == DEP3 + DIFF


def test_header_git_of_a_free_text_header_and_of_none(repo: Path, run: Runner) -> None:
    (repo / "patches/p1.diff").write_text("Fix the b.\nIt was small.\n\nMore notes.\n" + DIFF)
    (repo / "patches/p2.diff").write_text(DIFF.replace("f.txt", "g.txt").replace(" a\n-b\n+B\n c\n", "-x\n+X\n")
                                          .replace("-1,3 +1,3", "-1 +1"))
    (repo / "patches/series").write_text("p1.diff\np2.diff\n")
    assert run(repo, "header", "--git", "p1.diff")[0] == 0
    head = (repo / "patches/p1.diff").read_text().split("\n\n", 1)
    lines = head[0].split("\n")
    assert lines[0] == "From: Test <test@example.invalid>" and lines[1].startswith("Date: ")
    assert lines[2] == "Subject: Fix the b."
    assert head[1].startswith("It was small.\n\nMore notes.\n\n--- a/f.txt")
    assert run(repo, "header", "--git", "p2.diff")[0] == 0
    assert (repo / "patches/p2.diff").read_text().split("\n")[2] == "Subject: p2"
    (repo / "patches/p1.diff").write_text("Subject: x\nDate: last tuesday\n\n" + DIFF)
    rc, _, err = run(repo, "header", "--git", "p1.diff")
    assert rc == 1 and "'last tuesday' is not a date git understands" in err
    rc, _, err = run(repo, "header", "--git", "--author", "nobody", "p1.diff")
    assert rc == 1 and "Name <mail@example.org>" in err
    rc, _, err = run(repo, "header", "--author", "A <a@b>", "p1.diff")
    assert rc == 2 and "--author goes with --git" in err


def test_new_with_git_header_and_refresh_keeps_the_header(repo: Path, run: Runner) -> None:
    rc, out, err = run(repo, "new", "--author", "Ann Example <ann@example.org>", "02-fix-g.patch")
    assert rc == 0, err
    data = (repo / "patches/02-fix-g.patch").read_text()
    lines = data.split("\n")
    assert lines[0] == "From: Ann Example <ann@example.org>"
    assert lines[1] == "Date: Thu, 1 Jan 2026 00:00:00 +0000"  # SOURCE_DATE_EPOCH (helpers.py)
    assert lines[2:] == ["Subject: 02-fix-g", "", ""]
    assert run(repo, "add", "g.txt")[0] == 0
    (repo / "g.txt").write_text("X\n")
    assert run(repo, "refresh")[0] == 0
    refreshed = (repo / "patches/02-fix-g.patch").read_text()
    assert refreshed.startswith(data) and "+X\n" in refreshed
    # a hand-written header, odd spacing and all, is kept byte for byte too
    odd = "Subject:  spaced   out\r\nX-Odd:\ttab\n\n\nfree text\n\n"
    (repo / "patches/02-fix-g.patch").write_bytes((odd + refreshed[len(data):]).encode())
    (repo / "g.txt").write_text("XX\n")
    assert run(repo, "refresh")[0] == 0
    after = (repo / "patches/02-fix-g.patch").read_bytes()
    assert after.startswith(odd.encode() + b"--- a/g.txt\n") and after.endswith(b"+XX\n")  # quilt mode: quilt's diff
    # new --git: git's identity; the new is one log entry (one undo)
    assert run(repo, "new", "--git", "03.patch")[0] == 0
    assert (repo / "patches/03.patch").read_text().startswith("From: Test <test@example.invalid>\n")  # git var: GIT_AUTHOR_* first
    rc, out, _ = run(repo, "log", "--json")
    assert json.loads(out)[-1]["command"] == "new --git 03.patch"
    assert run(repo, "undo")[0] == 0
    assert not (repo / "patches/03.patch").exists() and "03.patch" not in (repo / "patches/series").read_text()


def test_new_without_an_identity_is_refused(repo: Path, run: Runner, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    shutil.rmtree(repo / ".git")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "")  # git var refuses an empty name, whatever the host
    before = (repo / "patches/series").read_text()
    rc, _, err = run(repo, "new", "--git", "x.patch")
    assert rc == 1 and "no author" in err
    assert (repo / "patches/series").read_text() == before and not (repo / "patches/x.patch").exists()


def test_header_git_keeps_a_git_style_subject_that_looks_like_a_field(repo: Path, run: Runner) -> None:
    """`utils: speed up the loop` is a subject in git's `area: what` style, not a DEP-3 field
    named `utils` (it used to be moved to the end and the subject became the patch's name)."""
    (repo / "patches/p1.diff").write_text("utils: speed up the loop\n\nThe body.\n\n" + DIFF)
    assert run(repo, "header", "--git", "p1.diff")[0] == 0
    text = (repo / "patches/p1.diff").read_text()
    assert text.split("\n")[2] == "Subject: utils: speed up the loop"
    assert text.split("\n\n", 1)[1].startswith("The body.\n\n--- a/f.txt")
    assert "\nutils:" not in text.split("Subject:", 1)[1]


@pytest.mark.parametrize("epoch", ["99999999999999999999", "253402300800"])
def test_huge_source_date_epoch_is_one_line(repo: Path, run: Runner, monkeypatch: pytest.MonkeyPatch,
                                            epoch: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    before = (repo / "patches/series").read_text()
    rc, out, err = run(repo, "new", "--author", "Ann Example <ann@example.org>", "02-x.patch")
    assert rc == 1 and "SOURCE_DATE_EPOCH" in err and len(err.strip().splitlines()) == 1, err
    assert (repo / "patches/series").read_text() == before and not (repo / "patches/02-x.patch").exists()
