"""Property-based fuzzing (hypothesis) of everything f5quilt reads from disk, through the
real commands: patch files, the series, the settings and .pc/ state. Whatever the input,
a command ends with one of the documented exit codes and never with a traceback (exit 4)."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from f5quilt.cli import main
from helpers import write_tree

BASE = {"f.txt": "".join(f"line {i}\n" for i in range(1, 11)), "g.txt": "alpha\nbeta\ngamma\n"}
GOOD = ("--- a/f.txt\n+++ b/f.txt\n@@ -2,3 +2,3 @@\n line 2\n-line 3\n+LINE 3\n line 4\n"
        "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+created\n")

FRAGMENTS = [
    "--- a/f.txt\n", "+++ b/f.txt\n", "--- /dev/null\n", "+++ /dev/null\n", "@@ -1,3 +1,3 @@\n",
    "@@ -0,0 +1 @@\n", "@@ -1 +1 @@\n", "@@ @@\n", "@@ -99999999999999,1 +1 @@\n", " line 1\n", "-line 3\n",
    "+x\n", "\\ No newline at end of file\n", "diff --git a/f.txt b/f.txt\n", "new file mode 100644\n",
    "deleted file mode 100755\n", "old mode 100644\n", "new mode 100755\n", "rename from f.txt\n",
    "rename to ../../x\n", "copy from g.txt\n", "copy to h.txt\n", "index 0000000..1111111 100644\n",
    "Binary files a/f.txt and b/f.txt differ\n", "GIT binary patch\n", "literal 5\n", "delta 3\n",
    "zcmZ\n", '--- "a/\\x"\n', '+++ "b/\\303\\251"\n', "--- a/" + "n" * 300 + "\n",
    "+++ b/dir/\n", "--- a/.pc/x\n", "+++ /etc/passwd\n", "\r\n", "\0\n", "\xff\n", "\n",
]

commands: List[Tuple[str, ...]] = [("push",), ("push", "-a", "--merge"), ("pop", "-a", "-f"), ("refresh",),
                                   ("series",), ("status",), ("check",), ("diff",), ("files",),
                                   ("undo",), ("log",)]


@contextlib.contextmanager
def sandbox() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="f5q-fuzz-"))
    old = os.getcwd()
    try:
        write_tree(d, BASE)
        (d / "patches").mkdir()
        os.chdir(d)
        yield d
    finally:
        os.chdir(old)
        shutil.rmtree(d, ignore_errors=True)


def run_all(root: Path, cmds: List[Tuple[str, ...]]) -> None:
    for cmd in cmds:
        err = io.StringIO()
        out = io.TextIOWrapper(io.BytesIO())
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = main(list(cmd))
        assert rc in (0, 1, 2, 3), (cmd, rc, err.getvalue())
        assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue(), err.getvalue()


fuzz = settings(max_examples=int(os.environ.get("F5QUILT_FUZZ_EXAMPLES", "120")), deadline=None, suppress_health_check=list(HealthCheck))


@fuzz
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30).map(lambda t: t + "\n")),
                max_size=25), st.binary(max_size=20), st.integers(0, len(GOOD)))
def test_patch_files(fragments: List[str], junk: bytes, cut: int) -> None:
    with sandbox() as root:
        body = GOOD[:cut] + "".join(fragments)
        (root / "patches/p.diff").write_bytes(body.encode("utf-8", "surrogateescape") + junk)
        (root / "patches/series").write_text("p.diff\n")
        run_all(root, [("push",), ("refresh",), ("pop", "-f"), ("check",)])


@fuzz
@given(st.lists(st.one_of(st.sampled_from(["p.diff", "p.diff -p0", "p.diff -R", "-p1", "# c", "missing.diff",
                                           "../x.diff", "/abs.diff", "p.diff -p", "p.diff --x", "p.diff p.diff",
                                           "\0", "dir/", " ", "\t"]),
                          st.text(max_size=20)), max_size=8))
def test_series(lines: List[str]) -> None:
    with sandbox() as root:
        (root / "patches/p.diff").write_text(GOOD)
        (root / "patches/series").write_bytes("\n".join(lines).encode("utf-8", "surrogateescape"))
        run_all(root, [("series",), ("push", "-a"), ("pop", "-a"), ("new", "n.diff"), ("delete", "n.diff")])


@fuzz
@given(st.lists(st.one_of(st.sampled_from(["tree: .", "tree: missing", "tree: f.txt", "patches: patches",
                                           "patches: ..", "series: ../s", "pc: ''", "pc: x/y", "pc: .pc",
                                           "fuzz: -1", "fuzz: x", "fuzz: 2", "refresh: {index: true}",
                                           "refresh: 3", "upstream: {path: .}", "upstream: []",
                                           "upstream: {pypi: 'x=='}", "log: {keep: 2}", "log: 0",
                                           "unknown: 1", "[", "tree: [1]", "\xff", "- a"]),
                          st.text(max_size=15)), max_size=6))
@example(lines=["?"])  # found by CI's run: a null key crashed the unknown-settings message (exit 4)
@example(lines=["upstreams:", "  a:", "    tree: a", "    1: x"])
def test_settings(lines: List[str]) -> None:
    with sandbox() as root:
        (root / "patches/p.diff").write_text(GOOD)
        (root / "patches/series").write_text("p.diff\n")
        (root / "f5quilt.yaml").write_bytes("\n".join(lines).encode("utf-8", "surrogateescape"))
        run_all(root, [("series",), ("push",), ("status",), ("pop",)])


STATE_FILES = [".pc/applied-patches", ".pc/.version", ".pc/.quilt_patches", ".pc/.f5quilt/sums/p.diff.json",
               ".pc/.f5quilt/conflicts/p.diff.json", ".pc/.f5quilt/empty/p.diff.json",
               ".pc/.f5quilt/txn/journal", ".pc/.f5quilt/log/00000001/manifest.json", ".pc/p.diff/f.txt",
               ".pc/p.diff~refresh"]


@fuzz
@given(st.sampled_from(STATE_FILES),
       st.one_of(st.sampled_from(["p.diff\n", "../../x\n", "/abs\n", "p.diff\np.diff\n", "{}", "[]", "null",
                                  '{"f.txt": null}', '{"../x": "0"}', '{"command": "x"}\n{"op": "file"}\n',
                                  '{"command": "x"}\n{"op": "file", "root": "tree", "rel": "../x", "before": null}\n',
                                  '{"command": "x"}\n{"op": "rename", "src": ["tree", "."], "dst": ["nope", "x"]}\n',
                                  '{"ops": [{"op": "file", "root": "tree", "rel": "f.txt", "before": "zz"}]}',
                                  "\0", "\xff\xfe", ""]),
                 st.text(max_size=40)),
       st.booleans(), st.booleans())
def test_pc_state(where: str, content: str, pushed: bool, as_dir: bool) -> None:
    with sandbox() as root:
        (root / "patches/p.diff").write_text(GOOD)
        (root / "patches/series").write_text("p.diff\n")
        if pushed:
            run_all(root, [("push",)])
        target = root / where
        if target.is_dir():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if as_dir:
            if target.exists():
                target.unlink()
            target.mkdir(exist_ok=True)
        else:
            target.write_bytes(content.encode("utf-8", "surrogateescape"))
        run_all(root, commands)


@pytest.mark.parametrize("text, line, said", [
    ("?\n", 1, "a setting's name must be text, not None"),
    ("tree: .\n1: x\n", 2, "a setting's name must be text, not 1"),
    ("upstreams:\n  a:\n    tree: a\n    ? \n", 4, "a setting's name must be text, not None"),
    ("tree: .\nbogus: 1\n", 2, "unknown setting(s): bogus"),
    ("upstreams:\n  a:\n    tree: a\n    bogus: 2\n", 4, "upstreams: a: unknown setting(s): bogus"),
    ("tree: .\n\nfuzz: x\n", 3, "fuzz must be a non-negative integer"),
    ("tree: .\nrerere: 3\n", 2, "rerere must be true or false"),
    ("# a comment\ntree: f.txt\n", 2, "tree f.txt is not a directory"),
    ("upstreams:\n  a:\n    patches: p\n", 2, "upstreams: a: needs a tree (where its release is vendored)"),
])
def test_a_bad_setting_is_one_line_at_its_line(text: str, line: int, said: str) -> None:
    """Names YAML reads as no text (``?`` alone, a number), unknown names and bad values: one
    line naming the file and the line, exit 1, nothing written."""
    with sandbox() as root:
        (root / "f5quilt.yaml").write_text(text)
        before = sorted(p.relative_to(root) for p in root.rglob("*"))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO())):
            rc = main(["series"])
        assert rc == 1, err.getvalue()
        assert err.getvalue().strip().splitlines() == [f"f5quilt.yaml:{line}: {said}"]
        assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
