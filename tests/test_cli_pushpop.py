"""push/pop and the queries through the real CLI entry point, on real files."""
from __future__ import annotations

from pathlib import Path

import click
import pytest

from helpers import BETA_HUNK, GREEK, Runner, created_hunk, make_series, numbered, snapshot, upper_hunk, write_tree

BASE = {"f.txt": numbered(10), "g.txt": GREEK}

P1 = "Description: first\n\n" + upper_hunk("f.txt", 3)
P2 = BETA_HUNK + created_hunk("sub/new.txt")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write_tree(tmp_path, BASE)
    make_series(tmp_path, {"p1.diff": P1, "p2.diff": P2})
    return tmp_path


def test_push_all_pop_all_round_trip(tree: Path, run: Runner) -> None:
    before = snapshot(tree)
    rc, out, _ = run(tree, "push", "-a")
    assert rc == 0
    assert "Applying patch patches/p1.diff" in out
    assert out.rstrip().endswith("Now at patch patches/p2.diff")
    assert (tree / "f.txt").read_text().count("LINE 3") == 1
    assert (tree / "sub/new.txt").read_text() == "created\n"
    assert (tree / ".pc/applied-patches").read_text() == "p1.diff\np2.diff\n"
    assert (tree / ".pc/.version").read_text() == "2\n"
    assert (tree / ".pc/p2.diff/sub/new.txt").read_bytes() == b""  # quilt: empty = created
    assert (tree / ".pc/p1.diff/f.txt").read_text() == BASE["f.txt"]
    rc, out, _ = run(tree, "pop", "-a")
    assert rc == 0 and out.rstrip().endswith("No patches applied")
    after = snapshot(tree, skip_pc=True)
    assert after == {k: v for k, v in before.items()}


def test_exit_codes_for_nothing_to_do(tree: Path, run: Runner) -> None:
    rc, _, err = run(tree, "pop")
    assert rc == 2 and "No patch removed" in err
    assert run(tree, "top")[0] == 2
    run(tree, "push", "-a")
    rc, _, err = run(tree, "push")
    assert rc == 2 and "File series fully applied, ends at patch patches/p2.diff" in err


def test_queries(tree: Path, run: Runner) -> None:
    run(tree, "push")
    assert run(tree, "top")[1] == "patches/p1.diff\n"
    assert run(tree, "next")[1] == "patches/p2.diff\n"
    assert run(tree, "applied")[1] == "patches/p1.diff\n"
    assert run(tree, "unapplied")[1] == "patches/p2.diff\n"
    assert run(tree, "series", "-v")[1] == "= patches/p1.diff\n  patches/p2.diff\n"
    assert run(tree, "previous")[0] == 2
    run(tree, "push")
    assert run(tree, "previous")[1] == "patches/p1.diff\n"


def test_push_by_name_and_number_pop_to_name(tree: Path, run: Runner) -> None:
    assert run(tree, "push", "patches/p2.diff")[0] == 0
    assert run(tree, "top")[1] == "patches/p2.diff\n"
    assert run(tree, "pop", "p1.diff")[0] == 0
    assert run(tree, "top")[1] == "patches/p1.diff\n"
    assert run(tree, "pop", "1")[0] == 0
    assert run(tree, "push", "2")[0] == 0
    assert run(tree, "top")[1] == "patches/p2.diff\n"


def test_failing_hunk_changes_nothing_and_names_patch_file_and_hunk(tree: Path, run: Runner) -> None:
    (tree / "g.txt").write_text("alpha\nbeta changed\ngamma\n")
    run(tree, "push")
    before = snapshot(tree)
    rc, out, err = run(tree, "push")
    assert rc == 1
    assert "patching file g.txt" in out and "Hunk #1 FAILED at 1." in out
    # quilt mode: quilt's wording
    assert "Patch patches/p2.diff does not apply (enforce with -f)" in err
    assert snapshot(tree) == before  # all or nothing: sub/new.txt not created either


def test_force_leaves_rejects_and_marks_needs_refresh(tree: Path, run: Runner) -> None:
    (tree / "g.txt").write_text("alpha\nbeta changed\ngamma\n")
    run(tree, "push")
    rc, out, _ = run(tree, "push", "-f")
    assert rc == 1
    assert "saving rejects to file g.txt.rej" in out
    assert (tree / "g.txt.rej").read_text().startswith("--- g.txt\n+++ g.txt\n@@ -1,3 +1,3 @@\n")
    assert (tree / "sub/new.txt").exists()
    assert (tree / ".pc/p2.diff~refresh").exists()
    rc, _, err = run(tree, "pop")
    assert rc == 1 and "needs to be refreshed first" in err
    assert run(tree, "pop", "-f")[0] == 0
    assert not (tree / ".pc/p2.diff~refresh").exists()
    assert (tree / "g.txt").read_text() == "alpha\nbeta changed\ngamma\n"


def test_pop_refuses_unrefreshed_edits_regardless_of_mtime(tree: Path, run: Runner) -> None:
    import os
    run(tree, "push")
    f = tree / "f.txt"
    st = f.stat()
    f.write_text(f.read_text().replace("line 9", "line nine"))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime: content still counts
    rc, out, err = run(tree, "pop")
    # quilt mode: quilt's two lines
    assert rc == 1 and "does not remove cleanly" in err and "Hint: `quilt diff -z'" in err
    assert "line nine" in f.read_text()
    (tree / "f5quilt.yaml").write_text("tree: .\n")  # f5quilt's own: the files named
    rc, out, err = run(tree, "pop")
    assert rc == 1 and "does not remove cleanly" in err and "f.txt" in out
    assert "line nine" in f.read_text()


def test_push_refuses_over_unrefreshed_edits_of_the_same_file(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path, BASE)
    p3 = P1.replace("-line 3\n+LINE 3", "-line 3\n+LINE 3").replace("@@ -2,3 +2,3 @@\n line 2\n-line 3\n+LINE 3\n line 4",
                                                                      "@@ -7,3 +7,3 @@\n line 7\n-line 8\n+LINE 8\n line 9")
    make_series(tmp_path, {"p1.diff": P1, "p3.diff": p3})
    run(tmp_path, "push")
    (tmp_path / "f.txt").write_text((tmp_path / "f.txt").read_text() + "unrefreshed\n")
    rc, _, err = run(tmp_path, "push")
    assert rc == 1 and "f.txt has changes not refreshed into patches/p1.diff" in err


def test_dry_run_writes_nothing(tree: Path, run: Runner) -> None:
    before = snapshot(tree)
    rc, out, _ = run(tree, "push", "--dry-run")
    assert rc == 0 and "applies (dry run)" in out
    assert snapshot(tree) == before


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd-x", "a/../../x"])
def test_paths_leaving_the_tree_are_refused_before_writing(tmp_path: Path, run: Runner, path: str) -> None:
    write_tree(tmp_path, BASE)
    bad = f"--- /dev/null\n+++ b/{path.lstrip('/')}\n@@ -0,0 +1 @@\n+x\n" if not path.startswith("/") else \
        f"--- /dev/null\n+++ {path}\n@@ -0,0 +1 @@\n+x\n"
    make_series(tmp_path, {"bad.diff": bad})
    if path.startswith("/"):
        (tmp_path / "patches/series").write_text("bad.diff -p0\n")
    before = snapshot(tmp_path)
    rc, _, err = run(tmp_path, "push")
    assert rc == 1
    assert "patches/bad.diff" in err and "refusing" in err or "cannot strip" in err
    assert snapshot(tmp_path) == before
    assert not (tmp_path.parent / "escape.txt").exists()


def test_symlink_out_of_tree_is_refused(tmp_path: Path, run: Runner) -> None:
    tree = tmp_path / "tree"
    outside = tmp_path / "outside"
    outside.mkdir()
    write_tree(tree, BASE)
    (tree / "link").symlink_to(outside)
    make_series(tree, {"bad.diff": "--- /dev/null\n+++ b/link/x.txt\n@@ -0,0 +1 @@\n+x\n"})
    rc, _, err = run(tree, "push")
    assert rc == 1 and "symlink" in err
    assert not (outside / "x.txt").exists()


def test_missing_patch_file_and_malformed_patch(tree: Path, run: Runner) -> None:
    (tree / "patches/series").write_text("p1.diff\nmissing.diff\n")
    run(tree, "push")
    (tree / "f5quilt.yaml").write_text("tree: .\n")
    rc, _, err = run(tree, "push")
    assert rc == 1 and "patches/series:2: names patches/missing.diff, which does not exist" in err
    (tree / "f5quilt.yaml").unlink()
    # quilt mode: as quilt, a missing patch file is an empty patch
    rc, out, _ = run(tree, "push")
    assert rc == 0 and "Patch patches/missing.diff does not exist; applied empty patch" in out
    assert run(tree, "pop")[0] == 0
    (tree / "patches/series").write_text("broken.diff\n")
    (tree / "patches/broken.diff").write_text("--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n line 1\n")
    run(tree, "pop", "-a")
    rc, _, err = run(tree, "push")
    assert rc == 1 and err.startswith("patches/broken.diff:")


@pytest.mark.parametrize("command", [("push",), ("goto", "missing.diff")])
def test_missing_patch_file_push_and_goto_agree(tree: Path, run: Runner, command: tuple) -> None:
    """push and goto to a patch whose file is missing say the same in each dialect: f5quilt's
    series:line error, and quilt 0.68's empty patch (its test/missing.test) in quilt mode."""
    (tree / "patches/series").write_text("p1.diff\nmissing.diff\n")
    assert run(tree, "push")[0] == 0
    (tree / "f5quilt.yaml").write_text("tree: .\n")
    before = snapshot(tree)
    rc, _, err = run(tree, *command)
    assert rc == 1 and err.strip() == "patches/series:2: names patches/missing.diff, which does not exist"
    assert snapshot(tree) == before
    (tree / "f5quilt.yaml").unlink()
    rc, out, _ = run(tree, *command)
    assert rc == 0 and "Patch patches/missing.diff does not exist; applied empty patch" in out
    assert (tree / ".pc/applied-patches").read_text() == "p1.diff\nmissing.diff\n"


def test_series_errors_name_file_and_line(tree: Path, run: Runner) -> None:
    (tree / "patches/series").write_text("# comment\np1.diff -X\n")
    rc, _, err = run(tree, "push")
    assert rc == 1 and "series:2: unknown patch option '-X'" in err


def test_sigkill_at_random_points_is_always_repairable(tree: Path) -> None:
    """Real SIGKILLs: kill push/pop -a at many instants; the next command repairs."""
    import os
    import signal
    import subprocess
    import sys
    import time
    before = snapshot(tree, skip_pc=True)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    for delay in [0.05, 0.1, 0.15, 0.2, 0.3]:
        for cmd in (["push", "-a"], ["pop", "-a"]):
            proc = subprocess.Popen([sys.executable, "-m", "f5quilt", *cmd], cwd=tree, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    rc = subprocess.run([sys.executable, "-m", "f5quilt", "pop", "-a"], cwd=tree, env=env,
                        capture_output=True, text=True)
    assert rc.returncode in (0, 2), rc.stderr
    assert snapshot(tree, skip_pc=True) == before


def test_quiet_and_colour(tree: Path, run: Runner) -> None:
    # quilt mode: -q hides GNU patch's chatter, not quilt's steps (as quilt's -q)
    rc, out, _ = run(tree, "push", "-q")
    assert rc == 0 and out == "Applying patch patches/p1.diff\nNow at patch patches/p1.diff\n"
    rc, out, _ = run(tree, "pop", "-q")
    assert rc == 0 and out == "Removing patch patches/p1.diff\nNo patches applied\n"
    run(tree, "push")
    rc, out, _ = run(tree, "pop", "-v")
    assert "Restoring f.txt" in out and "\033[" not in out


def test_help_for_every_command_explains(run: Runner, tmp_path: Path) -> None:
    from f5quilt.cli import cli
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None, name
        assert cmd.help and len(cmd.help) > 20, name
    rc, out, _ = run(tmp_path, "--help")
    assert rc == 0 and "Exit codes" in out


def test_reverse_and_p0_series_options(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path, {"f.txt": "LINE\n"})
    make_series(tmp_path, {"r.diff": "--- f.txt\n+++ f.txt\n@@ -1 +1 @@\n-LINE\n+LINE\n".replace("-LINE\n+LINE", "-line\n+LINE")})
    (tmp_path / "patches/series").write_text("r.diff -p0 -R\n")
    assert run(tmp_path, "push")[0] == 0
    assert (tmp_path / "f.txt").read_text() == "line\n"


def test_every_command_has_a_section_in_the_docs() -> None:
    from helpers import ROOT
    from f5quilt.cli import cli
    doc = (ROOT / "docs/commands.md").read_text()
    for name in cli.list_commands(click.Context(cli)):
        assert f"\n## {name}\n" in doc, name


def test_already_applied_patch_is_recognised(tree: Path, run: Runner) -> None:
    (tree / "f.txt").write_text(BASE["f.txt"].replace("line 3\n", "LINE 3\n"))
    before = snapshot(tree)
    rc, _, err = run(tree, "push")
    assert rc == 1 and "Patch patches/p1.diff can be reverse-applied" in err
    assert snapshot(tree) == before


def test_crlf_mangled_patch_applies_to_lf_file_as_gnu_patch_does(tree: Path, run: Runner) -> None:
    (tree / "patches/p1.diff").write_bytes(P1.replace("\n", "\r\n").encode())
    rc, out, _ = run(tree, "push")
    assert rc == 0 and "(f.txt: stripped trailing CRs from the patch)" in out
    assert "LINE 3\n" in (tree / "f.txt").read_text()


def test_creation_without_dev_null(tmp_path: Path, run: Runner) -> None:
    write_tree(tmp_path, BASE)
    make_series(tmp_path, {"c.diff": "--- a/new.txt\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+x\n+y\n"})
    assert run(tmp_path, "push")[0] == 0
    assert (tmp_path / "new.txt").read_text() == "x\ny\n"
    assert run(tmp_path, "pop")[0] == 0 and not (tmp_path / "new.txt").exists()


def test_directory_where_a_file_is_expected_is_a_one_line_error(tree: Path, run: Runner) -> None:
    (tree / "g.txt").unlink()
    (tree / "g.txt").mkdir()
    run(tree, "push")
    rc, _, err = run(tree, "push")
    assert rc == 1 and "g.txt: is a directory, not a file" in err and "Traceback" not in err


def test_write_failure_mid_push_is_undone_with_one_line(tree: Path, run: Runner,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails after other files were written (disk full...) leaves nothing behind."""
    from f5quilt.repo.transaction import Transaction
    run(tree, "push")
    before = snapshot(tree)
    real = Transaction.write
    calls = []

    def failing(self, path, data, mode=None):  # type: ignore[no-untyped-def]
        calls.append(path)
        if Path(path) == tree / "sub/new.txt":  # the tree file, after the backups and g.txt
            raise OSError(28, "No space left on device", str(path))
        return real(self, path, data, mode)
    monkeypatch.setattr(Transaction, "write", failing)
    rc, _, err = run(tree, "push")
    assert rc == 1 and "No space left on device" in err and "nothing was changed" in err
    assert len(err.strip().splitlines()) == 1
    assert any(Path(c).name == "g.txt" for c in calls)  # g.txt had been written already
    assert snapshot(tree) == before
    monkeypatch.setattr(Transaction, "write", real)
    assert run(tree, "push")[0] == 0


def test_a_second_command_on_the_same_tree_is_refused(tree: Path, run: Runner) -> None:
    import fcntl
    import os
    fd = os.open(tree, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another f5quilt holds the tree
    try:
        before = snapshot(tree)
        rc, _, err = run(tree, "push")
        assert rc == 1 and "another f5quilt command is working on" in err
        assert snapshot(tree) == before
        assert run(tree, "check")[0] == 0  # read-only: no lock needed
    finally:
        os.close(fd)
    assert run(tree, "push")[0] == 0
    assert run(tree, "pop")[0] == 0  # the lock was released when the command ended


def test_quilt_environment_and_upward_search(tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, BASE)
    write_tree(tmp_path, {"debian/patches/my-series": "p1.diff\n", "debian/patches/p1.diff": P1})
    monkeypatch.setenv("QUILT_PATCHES", "debian/patches")
    monkeypatch.setenv("QUILT_SERIES", "my-series")
    monkeypatch.setenv("QUILT_PC", ".state")
    rc, out, _ = run(tmp_path, "push")
    assert rc == 0 and "Applying patch debian/patches/p1.diff" in out
    assert (tmp_path / ".state/applied-patches").read_text() == "p1.diff\n"
    assert (tmp_path / ".state/.quilt_series").read_text() == "my-series\n"
    (tmp_path / "sub").mkdir()
    monkeypatch.delenv("QUILT_PATCHES")
    monkeypatch.delenv("QUILT_SERIES")
    # from a subdirectory, the tree is found upward by its state dir, which remembers the rest
    rc, out, _ = run(tmp_path / "sub", "top")
    assert rc == 0 and out.strip().endswith("p1.diff")
    assert run(tmp_path / "sub", "pop")[0] == 0
