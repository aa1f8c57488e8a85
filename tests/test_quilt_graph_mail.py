"""quilt graph (--lines, --edge-labels, --reduce, -T) and mail (--send, --reply-to, the
headers) as GNU quilt 0.66 gives them: the same commands run by both on copies of a tree."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from test_quilt_mode import both, same

pytestmark = [pytest.mark.quilt,
              pytest.mark.skipif(shutil.which("quilt") is None, reason="GNU quilt not installed")]

LINES = "".join(f"line {i}\n" for i in range(1, 31))


def edit(tree: Path, rel: str, old: str, new: str) -> None:
    (tree / rel).write_text((tree / rel).read_text().replace(old, new))


def stack(tmp_path: Path) -> tuple[Path, Path]:
    qt, ft = both(tmp_path, {"f": LINES, "g": "g\n", "h": "h\n"})
    steps = [("a.diff", ["f", "g"], [("f", "line 2\n", "line two\n"), ("g", "g", "G")]),
             ("b.diff", ["f"], [("f", "line 25\n", "line twenty-five\n")]),
             ("c.diff", ["f", "h"], [("f", "line 3\n", "line three\n"), ("h", "h", "H")]),
             ("d.diff", ["h"], [("h", "H", "HH")]),
             ("e.diff", ["g"], [("g", "G", "GG")])]
    for name, files, edits in steps:
        same(tmp_path, qt, ft, "new", name)
        same(tmp_path, qt, ft, "add", *files)
        for tree in (qt, ft):
            for rel, old, new in edits:
                edit(tree, rel, old, new)
        same(tmp_path, qt, ft, "refresh")
    return qt, ft


def test_graph_as_quilt(tmp_path: Path) -> None:
    qt, ft = stack(tmp_path)
    for args in (["graph"], ["graph", "--all"], ["graph", "--all", "--lines"], ["graph", "--all", "--lines=0"],
                 ["graph", "--all", "--lines=5"], ["graph", "--lines", "c.diff"], ["graph", "--edge-labels=files"],
                 ["graph", "--all", "--edge-labels=files", "--lines=1"], ["graph", "a.diff"], ["graph", "b.diff"],
                 ["graph", "e.diff"], ["graph", "--lines"], ["graph", "nosuch.diff"]):
        same(tmp_path, qt, ft, *args)
    rc, out = same(tmp_path, qt, ft, "graph", "--all", "--lines")
    assert "n0 -> n2" in out and "n1 -> n2" not in out  # c overlaps a's lines, not b's
    rc, out = same(tmp_path, qt, ft, "graph", "--all")
    assert "n1 -> n2" in out and "n0 -> n2" not in out  # by file: the latest patch changing f


@pytest.mark.skipif(shutil.which("dot") is None or shutil.which("tred") is None, reason="graphviz not installed")
def test_graph_reduce_and_ps_through_graphviz(tmp_path: Path) -> None:
    qt, ft = stack(tmp_path)
    for args in (["graph", "--all", "--reduce"], ["graph", "--reduce", "--lines", "--edge-labels=files"],
                 ["graph", "--all", "-T", "ps"], ["graph", "--all", "--reduce", "-T", "ps"]):
        rc, out = same(tmp_path, qt, ft, *args)
        assert rc == 0 and (out.startswith("%!PS") if "ps" in args else "digraph" in out)


def test_graph_needs_graphviz_for_ps_and_reduce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    qt, ft = stack(tmp_path)
    # both tools run with a PATH that has everything but graphviz's dot and tred
    farm = tmp_path / "bin-without-graphviz"
    farm.mkdir()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if os.path.isdir(folder):
            for entry in os.scandir(folder):
                if entry.name not in ("dot", "tred") and not os.path.lexists(farm / entry.name):
                    (farm / entry.name).symlink_to(entry.path)
    monkeypatch.setenv("PATH", str(farm))
    for args in (["graph", "-T", "ps"], ["graph", "--reduce"]):
        rc, out = same(tmp_path, qt, ft, *args)
        assert rc == 1 and "graphviz" in out


# -- mail ------------------------------------------------------------------------------
FAKE_SENDMAIL = """#!/bin/sh
d="$(dirname "$0")/../sent"
mkdir -p "$d"
n=$(ls "$d" | wc -l)
{ echo "ARGS: $*"; cat; } > "$d/$n"
"""
PATCHES = {"1.diff": "Subject: [PATCH] Re: first one\n  continued\n\nSigned-off-by: A. B. <ab@x.org>\nTo: Some One <one@x.org>\n"
                     "Reviewed-by: Ü Name <u@x.org>\n\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n",
           "2.diff": "DESC\nsecond\nsplit\nEDESC\nFrom a body\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-y\n+z\n",
           "3.diff": "A short first paragraph.\n\nCc: c@x.org\n\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-z\n+w\n"}


def mail_trees(tmp_path: Path) -> tuple[Path, Path]:
    qt, ft = both(tmp_path, {"f": "x\n"})
    for tree in (qt, ft):
        for name, text in PATCHES.items():
            (tree / "patches" / name).write_text(text)
        (tree / "patches/series").write_text("".join(n + "\n" for n in PATCHES))
        (tree.parent / "bin").mkdir()
        (tree.parent / "bin/sendmail").write_text(FAKE_SENDMAIL)
        (tree.parent / "bin/sendmail").chmod(0o755)
    return qt, ft


def normalized(text: str) -> str:
    import re
    text = re.sub(r"<\d{14}\.\d{9}@", "<ID@", text)
    text = re.sub(r"(?m)^Date: .*$", "Date: D", text)
    text = re.sub(r"(?m)^From (\S+) .*$", r"From \1 T", text)
    return re.sub(r"(?m)^User-Agent: .*$", "User-Agent: UA", text)


def run_mail(tool: str, tree: Path, rc: Path, *args: str) -> tuple[int, str, list[str]]:
    import subprocess
    import sys
    from helpers import ROOT
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUILTRC=str(rc), NO_COLOR="1", LC_ALL="C.UTF-8",
               PATH=f"{tree.parent / 'bin'}:{os.environ['PATH']}", LOGNAME="tester", HOME=str(tree.parent))
    cmd = ["quilt"] if tool == "quilt" else [sys.executable, "-m", "f5quilt"]
    r = subprocess.run([*cmd, *args], cwd=tree, env=env, capture_output=True, text=True)
    sent = tree.parent / "sent"
    msgs = [normalized((sent / str(k)).read_text()) for k in range(len(list(sent.iterdir())))] \
        if sent.is_dir() else []
    if sent.is_dir():
        shutil.rmtree(sent)
    return r.returncode, r.stdout, msgs


@pytest.mark.parametrize("args", [
    ["--send", "--to", "a@x.org", "--to", "Bee Bee <b@x.org>", "--cc", "c@x.org", "--bcc", "d@x.org"],
    ["--send", "--from", "Me <me@x.org>", "--subject", "The series", "--prefix", "RFC v2", "--to", "a@x.org"],
    ["--send", "--reply-to", "../orig.eml", "--cc", "ab@x.org", "2.diff", "-"],
    ["--mbox", "../mbox", "--to", "a@x.org", "--bcc", "d@x.org", "-", "2.diff"],
])
def test_mail_send_and_mbox_as_quilt(tmp_path: Path, args: list[str]) -> None:
    """The same messages (Message-IDs, dates and User-Agent aside), recipients and sendmail
    command lines as GNU quilt 0.66, through a fake sendmail on PATH."""
    qt, ft = mail_trees(tmp_path)
    for tree in (qt, ft):
        (tree.parent / "orig.eml").write_text("Message-ID: <orig@x.org>\nSubject: Re: RE: the plan\n\nbody\n")
    common = ["mail", "--sender", "me@x.org", "-m", "hello\nworld", "--signature", "-"]
    if "--subject" not in args and "--reply-to" not in args:
        common += ["--subject", "Intro"]
    a = run_mail("quilt", qt, tmp_path / "quiltrc", *common, *args)
    b = run_mail("f5", ft, tmp_path / "quiltrc", *common, *args)
    assert b == a
    if "--mbox" in args:
        assert normalized((ft.parent / "mbox").read_text()) == normalized((qt.parent / "mbox").read_text())
        assert "Bcc: d@x.org" in (ft.parent / "mbox").read_text()
    else:
        assert len(b[2]) == 1 + (3 if "2.diff" not in args else 2)
        assert all("Bcc" not in m for m in b[2])
        assert "d@x.org" not in b[2][0] or b[2][0].startswith("ARGS: -f me@x.org a@x.org")


def test_mail_sendmail_from_quiltrc(tmp_path: Path) -> None:
    qt, ft = mail_trees(tmp_path)
    rc = tmp_path / "mailrc"
    for tree in (qt, ft):
        (tree.parent / "bin/mysend").write_text(FAKE_SENDMAIL)
        (tree.parent / "bin/mysend").chmod(0o755)
    rc.write_text('QUILT_SENDMAIL=mysend\nQUILT_SENDMAIL_ARGS="-i -t"\n')
    args = ["mail", "--send", "--sender", "me@x.org", "--subject", "S", "-m", "x", "--to", "a@x.org", "1.diff"]
    a = run_mail("quilt", qt, rc, *args)
    b = run_mail("f5", ft, rc, *args)
    assert b == a and a[1].startswith("mysend -i -t a@x.org")
