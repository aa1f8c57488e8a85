"""The queries people put in a shell prompt (applied, top, series) start fast: they import
neither the engine, the transaction layer, the patch parser (unidiff), GitPython nor click
(f5quilt/fastpath.py answers them); and the fast path answers every case exactly as the
click command line does (stdout, stderr, exit code, colour, the lock)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, Runner, make_series, numbered, snapshot, upper_hunk, write_tree

HEAVY = ("f5quilt.engine", "f5quilt.repo.transaction", "f5quilt.repo.journal", "f5quilt.model.patch", "unidiff", "git",
         "click", "f5quilt.events", "dataclasses")  # events: its records cost a query 16 ms


def _settled_settings(path: Path, text: str) -> None:
    """An f5quilt.yaml as a project has it: written well before the command that commits after
    it (a record made within two seconds of its last change is not trusted: git's racy rule)."""
    path.write_text(text)
    past = path.stat().st_mtime - 60
    os.utime(path, (past, past))


def imported(cwd: Path, *args: str, program: tuple = ("-m", "f5quilt"), **extra: str) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", **extra)
    r = subprocess.run([sys.executable, "-X", "importtime", *program, *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    # -X importtime: "import time: self | cumulative | module" on stderr, one line a module
    return {line.rsplit("|", 1)[1].strip() for line in r.stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


# what the plain case (fastpath.plain_answer) does without: each costs a prompt's query
# milliseconds (pathlib 9, typing 8, re 5, subprocess 11, json 7, yaml 17, measured as
# `python -c "import X"` against `python -c pass`), and the workspace brings them all
LIGHT = ("pathlib", "typing", "re", "enum", "subprocess", "json", "yaml", "signal", "f5quilt.repo.settings",
         "f5quilt.repo.workspace", "f5quilt.ops")


@pytest.mark.parametrize("settings", [False, True], ids=["quilt-mode", "f5quilt.yaml"])
@pytest.mark.parametrize("query", [("applied",), ("top",), ("series",), ("series", "-v")])
def test_queries_import_no_engine(tmp_path: Path, run: Runner, settings: bool, query: tuple) -> None:
    write_tree(tmp_path, {"f.txt": numbered(10)})
    make_series(tmp_path, {"p1.diff": upper_hunk("f.txt", 3), "p2.diff": upper_hunk("f.txt", 7)})
    if settings:
        _settled_settings(tmp_path / "f5quilt.yaml", "tree: .\n")
    assert run(tmp_path, "push")[0] == 0  # the push's commit writes the prompt record
    modules = imported(tmp_path, *query)
    # the check reads what the query imported: the series parser in both cases
    assert "f5quilt.model.series" in modules
    heavy = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == [], f"{' '.join(query)} imported {heavy}"
    # the plain case, with or without f5quilt.yaml: os, the state files' readers, nothing else
    # what the interpreter loads before f5quilt (an editable install's finder: pathlib, re...)
    # is not the query's
    modules -= imported(tmp_path, program=("-c", "pass"))
    light = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in LIGHT))
    assert light == [], f"{' '.join(query)} imported {light}"


# Debian's /etc/quilt.quiltrc, whose QUILT_SERIES_ARGS every `series` reads
DEBIAN_QUILTRC = """QUILT_DIFF_OPTS="--show-c-function"
QUILT_PUSH_ARGS="--color=auto"
QUILT_SERIES_ARGS="--color=auto"
[ -n "$LESS" -a -z "${QUILT_PAGER+x}" ] && QUILT_PAGER="less -FRX"
QUILT_PATCHES_PREFIX=yes
"""


@pytest.mark.parametrize("query", [("series",), ("top",)])
def test_a_quiltrc_s_arguments_bring_no_shlex(tmp_path: Path, run: Runner, query: tuple) -> None:
    """QUILT_SERIES_ARGS="--color=auto" (Debian's quiltrc) split without shlex, which brought
    re and enum into every `series` (5 ms of a prompt's query)."""
    write_tree(tmp_path, {"t/f.txt": numbered(10), "quiltrc": DEBIAN_QUILTRC})
    make_series(tmp_path / "t", {"p1.diff": upper_hunk("f.txt", 3)})
    assert run(tmp_path / "t", "push")[0] == 0
    modules = imported(tmp_path / "t", *query, QUILTRC=str(tmp_path / "quiltrc"))
    modules -= imported(tmp_path, program=("-c", "pass"))
    assert "f5quilt.model.series" in modules
    light = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in LIGHT + ("shlex",)))
    assert light == [], f"{' '.join(query)} imported {light}"


# -- the shell-prompt fast path (f5quilt/fastpath.py) against the click command line ----------

# each command runs twice: through the fast path (python -m f5quilt's entry, which records
# who answered: its plain case, its general path, or click) and through click's command
# line (f5quilt.cli.main)
FAST = ("import os, sys\nimport f5quilt.fastpath as fp\nplain, answered = fp.plain_answer, []\n"
        "def spy(*args):\n    got = plain(*args)\n    answered.append(got is not None)\n    return got\n"
        "fp.plain_answer = spy\nrc = fp.main()\n"
        "open(os.environ['F5Q_MARK'], 'w').write('click' if 'click' in sys.modules else "
        "'plain' if any(answered) else 'general')\nsys.exit(rc)\n")
CLICK = "import sys\nfrom f5quilt.cli import main\nsys.exit(main())\n"

YAML_UPSTREAMS = """\
upstreams:
  alpha:
    tree: third_party/alpha
  beta:
    tree: third_party/beta
    patches: beta-patches
"""
QUILTRC_SERIES_V = 'QUILT_SERIES_ARGS="-v"\nQUILT_PATCHES=patches\n'


def _quilt_tree(root: Path, applied: int = 2) -> Path:
    write_tree(root, {"f.txt": numbered(12), "sub/x.txt": "x\n"})
    make_series(root, {"p1.diff": upper_hunk("f.txt", 3), "p2.diff": upper_hunk("f.txt", 6),
                       "p3.diff": upper_hunk("f.txt", 9)})
    if applied:
        r = subprocess.run([sys.executable, "-m", "f5quilt", "push", str(applied)], cwd=root,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    return root


def _setup(kind: str, tmp: Path) -> Path:
    """A tree of ``kind``; the folder the command runs in."""
    t = tmp / "t"
    if kind == "quilt":
        return _quilt_tree(t)
    if kind == "quilt-none-applied":
        return _quilt_tree(t, applied=0)
    if kind == "quilt-all-applied":
        return _quilt_tree(t, applied=3)
    if kind == "quilt-subfolder":
        return _quilt_tree(t) / "sub"
    if kind == "quilt-empty-series":
        (t / "patches").mkdir(parents=True)
        (t / "patches" / "series").write_text("")
        return t
    if kind == "quilt-no-series":
        t.mkdir(parents=True)
        (t / "f.txt").write_text("x\n")
        return t
    if kind == "quilt-altered-series":
        _quilt_tree(t)
        (t / "patches" / "series").write_text("p2.diff\np1.diff\np3.diff\n")
        return t
    if kind == "quilt-bad-state":  # an unsafe name in applied-patches
        _quilt_tree(t)
        (t / ".pc" / "applied-patches").write_text("p1.diff\n../evil\n")
        return t
    if kind == "quilt-quiltrc":
        _quilt_tree(t)
        (tmp / "quiltrc").write_text(QUILTRC_SERIES_V)
        return t
    if kind == "quilt-bad-quiltrc":
        _quilt_tree(t)
        (tmp / "quiltrc").write_text("if then\n")
        return t
    if kind == "f5quilt":
        _quilt_tree(t, applied=0)
        _settled_settings(t / "f5quilt.yaml", "tree: .\n")
        r = subprocess.run([sys.executable, "-m", "f5quilt", "push"], cwd=t,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return t
    if kind == "f5quilt-edited":  # the settings changed since the last command committed
        t = _setup("f5quilt", tmp)
        (t / "f5quilt.yaml").write_text("tree: .\nfuzz: 1\n")
        return t
    if kind == "f5quilt-bad-settings":
        _quilt_tree(t, applied=0)
        (t / "f5quilt.yaml").write_text("tree: .\nfuzz: true\n")
        return t
    if kind == "f5quilt-upstreams":
        t.mkdir(parents=True)
        (t / "f5quilt.yaml").write_text(YAML_UPSTREAMS)
        _quilt_tree(t / "third_party" / "alpha", applied=0)
        (t / "third_party" / "alpha" / "patches").rename(t / "patches")
        (t / "patches").mkdir(exist_ok=True)
        (t / "patches").rename(t / "alpha-patches")
        (t / "patches").mkdir()
        (t / "alpha-patches").rename(t / "patches" / "alpha")
        pc = t / "third_party" / "alpha" / ".pc"
        pc.mkdir()
        (pc / "applied-patches").write_text("p1.diff\n")
        write_tree(t, {"third_party/beta/b.txt": "b\n", "beta-patches/series": "b1.diff\n",
                       "beta-patches/b1.diff": upper_hunk("b.txt", 1)})
        return t
    raise AssertionError(kind)


CASES = [
    # (tree, arguments, who answers: the fast path's plain case, its general path, or click)
    ("quilt", "applied", "plain"), ("quilt", "top", "plain"), ("quilt", "series", "plain"),
    ("quilt", "series -v", "plain"), ("quilt", "series --verbose --json", "general"),
    ("quilt", "applied --json", "general"), ("quilt", "top --json -q", "general"), ("quilt", "top -v", "plain"),
    ("quilt", "applied -q p1.diff", "general"), ("quilt", "applied patches/p1", "general"),
    ("quilt", "applied p3.diff", "general"), ("quilt", "applied nothere", "general"),
    ("quilt", "series --color", "plain"), ("quilt", "series --color=always -v", "plain"),
    ("quilt", "--quiltrc - series", "plain"), ("quilt", "--quiltrc=- top", "plain"),
    ("quilt", "-u alpha top", "general"),
    ("quilt-none-applied", "top", "general"), ("quilt-none-applied", "applied", "general"),
    ("quilt-none-applied", "top --json", "general"), ("quilt-none-applied", "series -v", "plain"),
    ("quilt-all-applied", "series -v", "plain"),
    ("quilt-subfolder", "applied", "plain"), ("quilt-subfolder", "top", "plain"), ("quilt-subfolder", "series -v", "plain"),
    ("quilt-subfolder", "applied ../patches/p1.diff", "general"),
    ("quilt-empty-series", "top", "general"), ("quilt-empty-series", "applied", "general"),
    ("quilt-empty-series", "series", "plain"), ("quilt-empty-series", "series --json", "general"),
    ("quilt-no-series", "top", "general"), ("quilt-no-series", "series", "general"), ("quilt-no-series", "applied", "general"),
    ("quilt-altered-series", "top", "general"), ("quilt-altered-series", "series", "general"),
    ("quilt-bad-state", "applied", "general"),
    ("quilt-quiltrc", "series", "plain"), ("quilt-quiltrc", "top", "plain"),
    ("quilt-bad-quiltrc", "top", "general"),
    ("f5quilt", "applied", "plain"), ("f5quilt", "top", "plain"), ("f5quilt", "series -v", "plain"),
    ("f5quilt", "-u default series", "plain"), ("f5quilt-edited", "top", "general"),
    ("f5quilt", "applied --json", "general"), ("f5quilt", "-u nosuch top", "general"), ("f5quilt", "-u t top", "general"),
    ("f5quilt-bad-settings", "series", "general"), ("f5quilt-bad-settings", "top", "general"),
    ("f5quilt-upstreams", "top", "general"), ("f5quilt-upstreams", "-u alpha applied", "general"),
    ("f5quilt-upstreams", "--upstream alpha series -v", "general"),
    ("f5quilt-upstreams", "--upstream=beta series", "general"), ("f5quilt-upstreams", "-u beta top", "general"),
    ("f5quilt-upstreams", "-u gamma top", "general"),
    # what the fast path leaves to click, which must then answer exactly as before
    ("quilt", "top -qv", "click"), ("quilt", "applied p1.diff p2.diff", "click"), ("quilt", "top --help", "click"),
    ("quilt", "series --color never", "click"), ("quilt", "-ualpha top", "click"), ("quilt", "applied -- p1.diff", "click"),
    ("quilt", "--version", "click"), ("quilt", "unapplied", "click"), ("quilt", "top --jso", "click"),
]


def _run(code: str, cwd: Path, args: list, env: dict) -> "subprocess.CompletedProcess[bytes]":
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, timeout=120)


@pytest.mark.parametrize("kind,args,who", CASES, ids=[f"{k}:{a}" for k, a, _ in CASES])
def test_fast_path_answers_as_click_does(tmp_path: Path, kind: str, args: str, who: str) -> None:
    cwd = _setup(kind, tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", F5Q_MARK=str(tmp_path / "mark"))
    if kind in ("quilt-quiltrc", "quilt-bad-quiltrc"):
        env["QUILTRC"] = str(tmp_path / "quiltrc")
    before = snapshot(tmp_path / "t")
    by_click = _run(CLICK, cwd, args.split(), env)
    by_fast = _run(FAST, cwd, args.split(), env)
    assert (by_fast.returncode, by_fast.stdout, by_fast.stderr) == \
        (by_click.returncode, by_click.stdout, by_click.stderr)
    assert (tmp_path / "mark").read_text() == who
    assert b"Traceback" not in by_click.stderr
    assert snapshot(tmp_path / "t") == before  # a query writes nothing


def test_fast_path_cases_cover_what_they_claim(tmp_path: Path) -> None:
    """The cases above reach the outcomes they are there for (not all one answer)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", F5Q_MARK=str(tmp_path / "mark"))
    seen = {}
    for kind, args in [("quilt-none-applied", "applied"), ("quilt-no-series", "top"),
                       ("f5quilt-bad-settings", "top"), ("f5quilt-upstreams", "top"),
                       ("quilt-altered-series", "top"), ("quilt-subfolder", "top"), ("quilt-bad-state", "applied")]:
        r = _run(FAST, _setup(kind, tmp_path / kind), args.split(), env)
        seen[kind] = (r.returncode, r.stdout.decode(), r.stderr.decode())
    assert seen["quilt-none-applied"] == (1, "", "No patches applied\n")
    assert seen["quilt-no-series"] == (1, "", "No series file found\n")
    assert seen["f5quilt-bad-settings"][0] == 1 and "fuzz must be" in seen["f5quilt-bad-settings"][2]
    assert seen["f5quilt-upstreams"][0] == 1 and "several upstreams (alpha, beta)" in seen["f5quilt-upstreams"][2]
    assert seen["quilt-altered-series"][0] == 1 and "no longer matches" in seen["quilt-altered-series"][2]
    assert seen["quilt-subfolder"] == (0, "../patches/p2.diff\n", "")
    assert seen["quilt-bad-state"][0] == 1 and "unsafe patch name" in seen["quilt-bad-state"][2]


@pytest.mark.parametrize("no_color", [False, True], ids=["terminal", "NO_COLOR"])
def test_fast_path_colours_an_error_on_a_terminal_as_click_does(tmp_path: Path, no_color: bool) -> None:
    import pty
    cwd = _setup("quilt-none-applied", tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm", F5Q_MARK=str(tmp_path / "mark"))
    env.pop("NO_COLOR", None)
    if no_color:
        env["NO_COLOR"] = "1"
    got = []
    for code in (CLICK, FAST):
        main_fd, tty_fd = pty.openpty()
        r = subprocess.run([sys.executable, "-c", code, "top"], cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=tty_fd, timeout=120)
        os.close(tty_fd)
        err = os.read(main_fd, 4096)
        os.close(main_fd)
        got.append((r.returncode, r.stdout, err))
    assert got[0] == got[1]
    assert (b"\033[31m" in got[1][2]) is not no_color and b"No patches applied" in got[1][2]


def test_fast_path_refuses_while_another_command_holds_the_lock(tmp_path: Path) -> None:
    import fcntl
    cwd = _setup("quilt", tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", F5Q_MARK=str(tmp_path / "mark"))
    fd = os.open(cwd, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        by_click, by_fast = (_run(code, cwd, ["top"], env) for code in (CLICK, FAST))
    finally:
        os.close(fd)
    assert by_fast.returncode == by_click.returncode == 1
    assert by_fast.stderr == by_click.stderr and b"another f5quilt command is working on" in by_fast.stderr
