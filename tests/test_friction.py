"""Friction found trying f5quilt as a new user would (issue 21, item 6): each a regression test."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from helpers import Runner, numbered, snapshot, write_tree
from test_depcmds import project


def log_entries(repo: Path) -> list:  # type: ignore[type-arg]
    return sorted(p.name for p in (repo / ".f5quilt/log").iterdir()) if (repo / ".f5quilt/log").is_dir() else []


def test_rebase_onto_the_current_pin_says_nothing_to_do_and_logs_nothing(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    before, log = snapshot(repo), log_entries(repo)
    rc, out, err = run(repo, "rebase", "--onto", str(tmp_path / "proj-1.0"))
    assert rc == 2 and "nothing to rebase" in err, out + err
    assert snapshot(repo) == before and log_entries(repo) == log


def test_new_without_settings_says_quilt_mode_once_on_a_terminal(tmp_path: Path, run: Runner,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import f5quilt.cli.authoringcmds as cmds
    monkeypatch.setattr(cmds, "_on_a_terminal", lambda: True)
    (tmp_path / "a").mkdir()
    rc, out, err = run(tmp_path / "a", "new", "-q", "a.patch")
    assert rc == 0 and err == ""  # -q: errors only
    (tmp_path / "b").mkdir()
    rc, out, err = run(tmp_path / "b", "new", "b.patch")
    assert rc == 0 and len(err.splitlines()) == 1
    assert err.startswith("quilt mode (no f5quilt.yaml here or above): making patches/ and .pc/ in ")
    rc, out, err = run(tmp_path / "b", "new", "c.patch")
    assert rc == 0 and err == ""  # said once: the folders exist now
    monkeypatch.setattr(cmds, "_on_a_terminal", lambda: False)
    (tmp_path / "c").mkdir()
    assert run(tmp_path / "c", "new", "d.patch")[2] == ""  # scripts and quilt's own suite: quilt's output


def test_a_patch_named_by_its_number_gets_a_suggestion(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    rc, out, err = run(repo, "goto", "01")
    assert rc == 1 and err.strip() == "Patch 01 is not in series; did you mean patches/01-five.patch?"
    rc, out, err = run(repo, "push", "patches/0")
    assert "did you mean patches/01-five.patch or patches/02-twenty.patch?" in err


def test_check_tree_on_a_stale_tree_says_stale_instead_of_listing_upstreams_changes(
        tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    write_tree(tmp_path / "proj-1.1", {"mod.py": numbered(30), "other.py": numbered(10) + "line 11\n"})
    settings = repo / "f5quilt.yaml"
    settings.write_text(settings.read_text().replace("path: ../proj-1.0", "path: ../proj-1.1"))
    rc, out, err = run(repo, "check", "--tree")
    assert rc == 1
    assert "other.py" not in err, err  # upstream's change, not an edit
    assert "third_party/proj-1.0: stale tree: third_party/proj-1.0 holds" in err
    data = json.loads(run(repo, "check", "--tree", "--json")[1])
    assert [d["file"] for d in data["drift"]] == ["third_party/proj-1.0"]


def test_check_verbose_shows_where_each_hunk_landed(tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    rc, out, err = run(repo, "check", "-v")
    assert rc == 0
    assert "  mod.py: hunk #1 exact at line 2" in out and "  mod.py: hunk #1 exact at line 17" in out


def test_range_diff_rebase_shows_a_much_changed_patch_as_changed_not_dropped_and_added(
        tmp_path: Path, run: Runner) -> None:
    repo = project(tmp_path, run)
    assert run(repo, "pop", "-a")[0] == 0
    def release(n: int) -> str:  # lines 14-26 renamed upstream: 02's context is all new
        return "".join(f"row {i} of the new release\n" if 14 <= i <= 26 else f"line {i}\n" for i in range(1, n + 1))
    write_tree(tmp_path / "proj-2.0", {"mod.py": release(30), "other.py": numbered(10)})
    rc, out, err = run(repo, "rebase", "--onto", str(tmp_path / "proj-2.0"))
    assert rc == 3, out + err
    mod = repo / "third_party/proj-1.0/mod.py"
    mod.write_text(release(30).replace("line 5\n", "LINE 5\n")
                   .replace("row 20 of the new release\n", "A COMPLETELY DIFFERENT TWENTIETH ROW\n"))
    rc, out, err = run(repo, "rebase", "--continue")
    assert rc == 0, out + err
    rc, out, err = run(repo, "range-diff", "--rebase")
    assert "changed:   02-twenty.patch" in out, out
    assert "dropped" not in out.replace("0 dropped", "") and "added:" not in out
    assert "+A COMPLETELY DIFFERENT TWENTIETH ROW" in out


@pytest.mark.slow_network
def test_a_download_ends_with_a_summary_line_and_shows_pips_progress_on_a_terminal(
        tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from f5quilt import events as ev
    from f5quilt.cli.render import Renderer
    from f5quilt.output import Reporter
    from f5quilt.repo.upstream import Pin, Upstream
    import io
    said = io.StringIO()
    events: list = []  # type: ignore[type-arg]
    shown = Renderer(Reporter(out=said))

    def emit(event: ev.Event) -> None:
        events.append(event)
        shown(event)
    # not a terminal (no progress bar given): quiet pip, one summary line
    Upstream(Pin("pypi", "packaging==24.1"), tmp_path / "c1").archive(emit)
    assert events[0] == ev.Downloading("packaging==24.1")
    assert isinstance(events[1], ev.Downloaded) and events[1].file == "packaging-24.1.tar.gz"
    assert events[1].size > 10_000 and events[1].seconds >= 0
    lines = said.getvalue().splitlines()
    assert lines[0] == "Downloading packaging==24.1 from PyPI"
    assert lines[1].startswith("Downloaded packaging-24.1.tar.gz (") and lines[1].endswith(" s)")
    assert "Saved" not in capfd.readouterr().err
    on_a_terminal = lambda items, label: items  # noqa: E731  (what cli.common.terminal_bar gives there)
    Upstream(Pin("pypi", "packaging==24.1"), tmp_path / "c2", on_a_terminal).archive(emit)
    shown = capfd.readouterr()
    assert "packaging-24.1.tar.gz" in shown.err and shown.out == ""  # pip's progress, on stderr


def test_push_q_draws_a_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    """The bar comes from the command line (cli.common.terminal_bar), handed to the renderer:
    on a terminal `push -a -q` shows it on stderr; through a pipe it shows nothing."""
    import os
    import pty
    import subprocess
    import sys

    t = tmp_path / "t"
    (t / "patches").mkdir(parents=True)
    names = []
    for i in range(3):
        (t / f"f{i}.txt").write_text("a\n")
        (t / f"patches/p{i}.diff").write_text(f"--- a/f{i}.txt\n+++ b/f{i}.txt\n@@ -1 +1 @@\n-a\n+b\n")
        names.append(f"p{i}.diff")
    (t / "patches/series").write_text("\n".join(names) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "f5quilt", "push", "-a", "-q"], cwd=t, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    assert p.wait() == 0
    os.close(master)
    assert b"Pushing" in shown, shown
    assert (t / ".pc/applied-patches").read_text() == "".join(n + "\n" for n in names)
    assert subprocess.run([sys.executable, "-m", "f5quilt", "pop", "-a", "-q"], cwd=t,
                          capture_output=True).stderr == b""  # no terminal: no bar
