"""The authoring loop: new, add, edit, refresh, and quilt's other daily commands."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from helpers import Runner, make_series, snapshot, write_tree

BASE = {"src/a.py": "".join(f"a{i}\n" for i in range(1, 21)), "src/b.py": "b1\nb2\nb3\n"}
HEADER = "Description: make a5 loud\nAuthor: Test <t@example.invalid>\nForwarded: not-needed\n\n"
P1 = HEADER + "--- a/src/a.py\n+++ b/src/a.py\n@@ -4,3 +4,3 @@\n a4\n-a5\n+A5\n a6\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write_tree(tmp_path, BASE)
    make_series(tmp_path, {"p1.diff": P1})
    return tmp_path


def f5_mode(tree: Path) -> Path:
    """f5quilt's own conventions (churn-free refresh, git mode lines) need an f5quilt.yaml;
    without one refresh writes what GNU quilt writes (test_quilt_mode.py)."""
    (tree / "f5quilt.yaml").write_text("tree: .\n")
    return tree


def test_new_add_edit_refresh_loop(tree: Path, run: Runner) -> None:
    f5_mode(tree)
    assert run(tree, "push")[0] == 0
    rc, out, _ = run(tree, "new", "p2.diff")
    assert rc == 0 and out == "Patch patches/p2.diff is now on top\n"
    assert (tree / "patches/series").read_text() == "p1.diff\np2.diff\n"
    rc, out, _ = run(tree, "add", "src/b.py")
    assert rc == 0 and out == "File src/b.py added to patch patches/p2.diff\n"
    assert run(tree, "add", "src/b.py")[0] == 2  # already in the patch
    (tree / "src/b.py").write_text("b1\nB2\nb3\n")
    rc, out, _ = run(tree, "refresh")
    assert rc == 0 and out == "Refreshed patch patches/p2.diff\n"
    assert (tree / "patches/p2.diff").read_text() == (
        "diff --git a/src/b.py b/src/b.py\n--- a/src/b.py\n+++ b/src/b.py\n"
        "@@ -1,3 +1,3 @@\n b1\n-b2\n+B2\n b3\n")
    assert run(tree, "pop", "-a")[0] == 0
    assert snapshot(tree, skip_pc=True)["src/b.py"] == b"b1\nb2\nb3\n"
    assert run(tree, "push", "-a")[0] == 0
    assert (tree / "src/b.py").read_text() == "b1\nB2\nb3\n"


def test_edit_runs_the_editor(tree: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    editor = tree / "ed.sh"
    editor.write_text("#!/bin/sh\nprintf 'edited\\n' >> \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(editor))
    run(tree, "push")
    assert run(tree, "edit", "src/b.py")[0] == 0
    assert (tree / "src/b.py").read_text().endswith("edited\n")
    run(tree, "refresh")
    assert "+edited" in (tree / "patches/p1.diff").read_text()


def test_refresh_keeps_header_and_is_churn_free(tree: Path, run: Runner) -> None:
    f5_mode(tree)
    run(tree, "push")
    patch = tree / "patches/p1.diff"
    before = patch.read_bytes()
    st = patch.stat()
    rc, out, _ = run(tree, "refresh")
    assert rc == 0 and out == "Patch patches/p1.diff is unchanged\n"
    assert patch.read_bytes() == before and patch.stat().st_mtime_ns == st.st_mtime_ns
    (tree / "src/a.py").write_text((tree / "src/a.py").read_text().replace("a10\n", "A10\n"))
    run(tree, "refresh")
    text = patch.read_text()
    assert text.startswith(HEADER)  # byte for byte
    assert "+A10" in text and "\t" not in text and "index " not in text
    again = patch.read_bytes()
    run(tree, "refresh")
    assert patch.read_bytes() == again


def test_refresh_with_nothing_applied(tree: Path, run: Runner) -> None:
    rc, _, err = run(tree, "refresh")
    assert rc == 1 and "No patches applied" in err  # quilt mode: quilt's exit code
    rc, _, err = run(f5_mode(tree), "refresh")
    assert rc == 2 and "No patches applied" in err


def test_add_outside_the_tree_is_refused(tree: Path, run: Runner) -> None:
    run(tree, "push")
    outside = tree.parent / "outside.txt"
    outside.write_text("x")
    rc, _, err = run(tree, "add", str(outside))
    assert rc == 1 and "not inside the tree" in err
    rc, _, err = run(tree, "add", "../outside.txt")
    assert rc == 1


def test_patches_outside_the_tree(tree: Path, run: Runner) -> None:
    """quilt mode: a name outside the tree is in no patch (nothing printed, as quilt);
    with f5quilt.yaml the tree is a folder of the repository: refused, naming the tree."""
    run(tree, "push")
    rc, out, err = run(tree, "patches", "/dev/null", "src/a.py")
    assert (rc, out) == (0, "patches/p1.diff\n"), err
    rc, out, err = run(tree, "patches", "../elsewhere.py")
    assert (rc, out, err) == (0, "", "")
    rc, out, err = run(f5_mode(tree), "patches", "/dev/null", "src/a.py")
    assert rc == 1 and out == "" and "/dev/null: not inside the tree" in err


def test_add_refuses_file_of_a_later_applied_patch(tree: Path, run: Runner) -> None:
    run(tree, "push")
    run(tree, "new", "p2.diff")
    run(tree, "add", "src/b.py")
    rc, _, err = run(tree, "add", "-P", "p1.diff", "src/b.py")
    assert rc == 1 and "File src/b.py modified by patch patches/p2.diff" in err


def test_refresh_refuses_when_later_patch_touches_same_files(tree: Path, run: Runner) -> None:
    run(tree, "push")
    run(tree, "new", "p2.diff")
    run(tree, "add", "src/a.py")
    (tree / "src/a.py").write_text((tree / "src/a.py").read_text().replace("a15\n", "A15\n"))
    run(tree, "refresh")
    rc, _, err = run(tree, "refresh", "p1.diff")
    assert rc == 1 and "More recent patches modify files in patch patches/p1.diff" in err
    rc, _, _ = run(tree, "refresh", "-f", "p1.diff")
    assert rc == 0
    text = (tree / "patches/p1.diff").read_text()
    assert "+A5" in text and "A15" not in text  # p2's change stays in p2


def test_refresh_after_forced_push_clears_marker(tree: Path, run: Runner) -> None:
    (tree / "src/a.py").write_text((tree / "src/a.py").read_text().replace("a5\n", "five\n"))
    assert run(tree, "push", "-f")[0] == 1
    assert (tree / ".pc/p1.diff~refresh").exists()
    (tree / "src/a.py").write_text((tree / "src/a.py").read_text().replace("five\n", "A5\n"))
    assert run(tree, "refresh")[0] == 0
    assert not (tree / ".pc/p1.diff~refresh").exists()
    assert run(tree, "pop")[0] == 0


def test_diff_z_shows_only_unrefreshed_edits(tree: Path, run: Runner) -> None:
    run(tree, "push")
    rc, out, _ = run(tree, "diff", "-z")
    assert rc == 0 and out == ""
    (tree / "src/a.py").write_text((tree / "src/a.py").read_text().replace("a12\n", "A12\n"))
    out = run(tree, "diff", "-z")[1]
    assert "-a12\n+A12" in out and "A5" not in out
    full = run(tree, "diff")[1]
    assert "+A5" in full and "+A12" in full


def test_files_patches_header(tree: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(tree, "files", "p1.diff")[1] == "src/a.py\n"  # unapplied: from the patch
    run(tree, "push")
    assert run(tree, "files")[1] == "src/a.py\n"
    assert run(tree, "patches", "src/a.py")[1] == "patches/p1.diff\n"
    assert run(tree, "header")[1] == HEADER
    import io
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"New description\n")))
    assert run(tree, "header", "-r")[0] == 0
    text = (tree / "patches/p1.diff").read_text()
    assert text.startswith("New description\n--- a/src/a.py")  # quilt mode: stored as given, as quilt


def test_delete_rename_import(tree: Path, run: Runner) -> None:
    extra = tree / "incoming.diff"
    extra.write_text("Desc\n\n--- a/src/b.py\n+++ b/src/b.py\n@@ -1 +1 @@\n-b1\n+B1\n")
    run(tree, "push")
    rc, out, _ = run(tree, "import", "-P", "imp.diff", str(extra))
    assert rc == 0 and (tree / "patches/series").read_text() == "p1.diff\nimp.diff\n"
    assert (tree / "patches/imp.diff").read_text().startswith("Desc\n")
    rc, _, err = run(tree, "rename", "-P", "imp.diff", "p1.diff")
    assert rc == 1 and "exists already" in err
    assert run(tree, "rename", "-P", "p1.diff", "first.diff")[0] == 0
    assert (tree / ".pc/applied-patches").read_text() == "first.diff\n"
    assert (tree / ".pc/first.diff/src/a.py").exists() and (tree / "patches/first.diff").exists()
    run(tree, "push")
    rc, _, err = run(tree, "delete", "first.diff")
    assert rc == 1 and "currently applied" in err
    assert run(tree, "delete", "-r")[0] == 0  # the top: popped, then removed
    assert not (tree / "patches/imp.diff").exists()
    assert (tree / "patches/series").read_text() == "first.diff\n"
    assert run(tree, "pop")[0] == 0
    assert snapshot(tree, skip_pc=True)["src/a.py"] == BASE["src/a.py"].encode()


def test_fold_revert_remove(tree: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    run(tree, "push")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(
        b"--- a/src/b.py\n+++ b/src/b.py\n@@ -1,3 +1,3 @@\n b1\n-b2\n+FOLDED\n b3\n")))
    assert run(tree, "fold")[0] == 0
    assert "FOLDED" in (tree / "src/b.py").read_text()
    assert run(tree, "files")[1] == "src/a.py\nsrc/b.py\n"
    assert run(tree, "revert", "src/b.py")[0] == 0  # not in the patch file yet: back to before
    assert (tree / "src/b.py").read_text() == BASE["src/b.py"]
    (tree / "src/a.py").write_text((tree / "src/a.py").read_text().replace("a7\n", "A7\n"))
    assert run(tree, "revert", "src/a.py")[0] == 0
    assert "A7" not in (tree / "src/a.py").read_text() and "A5" in (tree / "src/a.py").read_text()
    assert run(tree, "remove", "src/a.py")[0] == 0
    assert (tree / "src/a.py").read_text() == BASE["src/a.py"]


def test_f5_layout_with_settings(tmp_path: Path, run: Runner) -> None:
    """The same loop with f5quilt.yaml: tree in third_party/, patches at the repo root."""
    write_tree(tmp_path / "third_party/F5-TTS", BASE)
    write_tree(tmp_path, {"f5quilt.yaml": "tree: third_party/F5-TTS\npatches: patches\n",
                          "patches/series": "p1.diff\n", "patches/p1.diff": P1})
    assert run(tmp_path, "push")[0] == 0
    t = tmp_path / "third_party/F5-TTS"
    assert (t / ".pc/.quilt_patches").read_text() == "../../patches\n"
    rc, out, _ = run(t / "src", "add", "b.py")  # FILE relative to the cwd, inside the tree
    assert rc == 0 and "File b.py added to patch ../../../patches/p1.diff" in out  # both named from the cwd
    (t / "src/b.py").write_text("b1\nb2\nchanged\n")
    assert run(tmp_path, "refresh")[0] == 0
    assert "--- a/src/b.py\n+++ b/src/b.py" in (tmp_path / "patches/p1.diff").read_text()
    assert run(tmp_path, "pop")[0] == 0


def test_refresh_records_executable_bits(tree: Path, run: Runner) -> None:
    f5_mode(tree)
    run(tree, "push")
    run(tree, "new", "script.diff")
    run(tree, "add", "tool.sh", "src/b.py")
    (tree / "tool.sh").write_text("#!/bin/sh\necho hi\n")
    (tree / "tool.sh").chmod(0o755)
    (tree / "src/b.py").chmod(0o755)
    assert run(tree, "refresh")[0] == 0
    text = (tree / "patches/script.diff").read_text()
    assert "new file mode 100755" in text
    assert "old mode 100644\nnew mode 100755" in text
    assert run(tree, "pop")[0] == 0
    assert not (tree / "tool.sh").exists()
    assert run(tree, "push")[0] == 0
    assert os.access(tree / "tool.sh", os.X_OK) and os.access(tree / "src/b.py", os.X_OK)


@pytest.mark.parametrize("options", ["-p0", "-R", "-p0 -R"])
def test_refresh_keeps_the_series_entry_form(tmp_path: Path, run: Runner, options: str) -> None:
    write_tree(tmp_path, {"a.txt": "one\ntwo\n"})
    body = "--- a.txt\n+++ a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n"
    if "-R" in options:
        body = body.replace("-two\n+TWO\n", "-TWO\n+two\n")  # applied reversed: two -> TWO
    if "-p0" not in options:
        body = body.replace("--- a.txt", "--- a/a.txt").replace("+++ a.txt", "+++ b/a.txt")
    make_series(tmp_path, {"p.diff": body})
    (tmp_path / "patches/series").write_text(f"p.diff {options}\n")
    f5_mode(tmp_path)
    assert run(tmp_path, "push")[0] == 0
    before = (tmp_path / "patches/p.diff").read_bytes()
    rc, out, _ = run(tmp_path, "refresh")
    assert rc == 0 and "unchanged" in out and (tmp_path / "patches/p.diff").read_bytes() == before
    with (tmp_path / "a.txt").open("a") as fh:
        fh.write("three\n")
    assert run(tmp_path, "refresh")[0] == 0
    text = (tmp_path / "patches/p.diff").read_text()
    assert ("--- a/a.txt" in text) == ("-p0" not in options)
    end = (tmp_path / "a.txt").read_text()
    assert run(tmp_path, "pop")[0] == 0
    assert run(tmp_path, "push")[0] == 0  # the refreshed patch still applies in its own form
    assert (tmp_path / "a.txt").read_text() == end


def test_pop_refuses_edits_to_a_file_quilt_added(tree: Path, run: Runner) -> None:
    import shutil
    import subprocess
    if shutil.which("quilt") is None:
        pytest.skip("GNU quilt not installed (.ci/run installs it)")
    assert run(tree, "push")[0] == 0
    env = dict(os.environ, QUILT_PATCHES="patches")
    subprocess.run(["quilt", "--quiltrc=/dev/null", "add", "src/b.py"], cwd=tree, env=env, check=True,
                   capture_output=True)
    (tree / "src/b.py").write_text("edited after quilt add\n")
    rc, _, err = run(tree, "pop")
    assert rc == 1 and "does not remove cleanly" in err
    assert (tree / "src/b.py").read_text() == "edited after quilt add\n"
    # and after quilt refresh, f5quilt sees the edit recorded and pops
    subprocess.run(["quilt", "--quiltrc=/dev/null", "refresh"], cwd=tree, env=env, check=True, capture_output=True)
    assert run(tree, "pop")[0] == 0


def test_fold_force_reports_and_saves_rejects(tree: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    run(tree, "push")
    incoming = (b"--- a/src/b.py\n+++ b/src/b.py\n@@ -1,3 +1,3 @@\n b1\n-b2\n+B2\n b3\n"
                b"--- a/src/a.py\n+++ b/src/a.py\n@@ -15,3 +15,3 @@\n a15\n-nope\n+x\n a17\n")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(incoming)))
    before = snapshot(tree)
    rc, out, err = run(tree, "fold")
    assert rc == 1 and "Hunk #1 FAILED at 15." in out and snapshot(tree) == before
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(incoming)))
    rc, out, _ = run(tree, "fold", "-f")
    assert rc == 0 and "saving rejects to file src/a.py.rej" in out
    assert (tree / "src/a.py.rej").exists() and "B2" in (tree / "src/b.py").read_text()


def test_diff_combine_spans_patches(tree: Path, run: Runner) -> None:
    f5_mode(tree)
    run(tree, "push")
    run(tree, "new", "p2.diff")
    run(tree, "add", "src/a.py", "src/b.py")
    (tree / "src/a.py").write_text((tree / "src/a.py").read_text().replace("a15\n", "A15\n"))
    (tree / "src/b.py").write_text("b1\nB2\nb3\n")
    run(tree, "refresh")
    both = run(tree, "diff", "--combine", "-")[1]
    assert "+A5" in both and "+A15" in both and "+B2" in both
    assert both.count("--- a/src/a.py") == 1  # one diff per file across the span
    only_p2 = run(tree, "diff", "--combine", "p2.diff")[1]
    assert "+A15" in only_p2 and "+B2" in only_p2 and "+A5" not in only_p2
    assert run(tree, "diff", "-P", "p1.diff")[1].count("+A") == 1  # p1 alone: up to p2's backup
