"""The shell-prompt queries' plain case (``fastpath.plain_answer``: quilt mode read with ``os``
alone, neither pathlib, typing, re nor the workspace) answers exactly as the general path
(``ops/stack/opening.open_workspace`` and ``ops/stack/queries``) on generated quilt trees: every
answer it gives is the general path's, byte for byte. What it leaves (None) the general path
answers as before; tests/test_query_imports.py runs both as programs, against click too."""
from __future__ import annotations

import io
import os
import random
import tempfile
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from f5quilt import fastpath
from f5quilt.errors import F5QuiltError
from f5quilt.ops.stack import queries
from f5quilt.ops.stack.opening import open_workspace

# names a series may hold, the odd ones included: a '#' inside a name, a folder, a ./; and,
# less often, ones that leave the patches folder or are absolute, a backslash
NAMES = ["a.diff", "b.patch", "sub/c.diff", "d#e.diff", "./f.diff", "g", "h.diff"]
BAD_NAMES = ["../out.diff", "/abs.diff", "x\\y.diff"]
# patch options, and less often the unknown and the malformed; "-p١": re's \d takes any Unicode digit
OPTIONS = ["", "", "", " -p0", " -p1", " -R", " -p2 -R", " -p\u0661"]
BAD_OPTIONS = [" -p", " -pX"]
COMMENTS = ["", "", " # note", "\t#x", "#glued", "\u00a0#nbsp", " #x#+y"]
GUARDS = [" #+cuda", " #-cpu # also"]
ODD = 20


def quilt_trees(rnd: random.Random) -> Tuple[Dict[str, str], Dict[str, Optional[str]], str, List[str]]:
    """A quilt tree's files (relative path -> text), the QUILT_* variables, the folder the query
    runs in, the query's command and flags. Mostly sound; each odd or bad thing about one time
    in ``ODD`` (chosen by ``rnd``: hypothesis left alone explores a list's last element as
    often as all the others, and nearly every tree would be an error)."""
    def pick(good: List[Any], bad: List[Any]) -> Any:
        return rnd.choice(bad if rnd.random() < 1 / ODD else good)

    env = {"QUILT_PATCHES": pick([None, "patches"], ["my/changes", "p//q/"]),
           "QUILT_SERIES": pick([None, "series"], ["other", "sub/ser"]),
           "QUILT_PC": pick([None, ".pc", "state"], ["a/b"])}
    patches = env["QUILT_PATCHES"] or "patches"
    pc = env["QUILT_PC"] or ".pc"
    series_name = env["QUILT_SERIES"] or "series"
    lines: List[str] = []
    names: List[str] = []
    unique = iter(rnd.sample(NAMES, len(NAMES)))
    for _ in range(rnd.randint(1, 6)):
        kind = pick(["entry"], ["blank", "comment"])
        eol = rnd.choice(["\n", "\n", "\r\n"])
        if kind == "blank":
            lines.append(rnd.choice(["", "  ", "\t"]) + eol)
            continue
        if kind == "comment":
            lines.append(rnd.choice(["# a comment", "  #+guard only", "#"]) + eol)
            continue
        how = pick(["unique"], ["twice", "bad"])
        name = next(unique, "z.diff") if how == "unique" else rnd.choice(BAD_NAMES + names[-1:])
        names.append(name)
        lines.append(rnd.choice(["", "  "]) + name + pick(OPTIONS, BAD_OPTIONS) + pick(COMMENTS, GUARDS) + eol)
    files: Dict[str, str] = {f"{patches}/.keep": ""}
    if "/" in series_name:
        files[series_name] = "".join(lines)
    else:
        where = pick(["patches"], ["tree", "pc", "none"])
        series_path = {"patches": f"{patches}/{series_name}", "tree": series_name, "pc": f"{pc}/{series_name}",
                       "none": None}[where]
        if series_path is not None:
            files[series_path] = "".join(lines)
    applied_kind = pick(["prefix"], ["any", "none"])
    in_order = [n[2:] if n.startswith("./") else n for n in names]
    if applied_kind == "prefix":
        applied = in_order[:rnd.randint(0, len(in_order))]
    elif applied_kind == "any":
        applied = rnd.sample(NAMES + BAD_NAMES + ["sub/../x", " pad.diff", ""], rnd.randint(0, 4))
    else:
        applied = []
    if applied_kind != "none" and (applied or rnd.random() < 0.5):
        files[f"{pc}/applied-patches"] = "".join(f"{n}\n" for n in applied)
    remembered = pick([None, f"{patches}\n"], ["", "my/changes\n", "../x\n"])
    if remembered is not None:
        files[f"{pc}/.quilt_patches"] = remembered
    cwd = rnd.choice([".", ".", "sub", patches.rstrip("/")])
    command = rnd.choice([["applied"], ["top"], ["series"], ["series", "verbose"]])
    return files, env, cwd, command


def _both(root: Path, cwd: str, command: List[str], quiltrc: Optional[Dict[str, str]],
          upstream: Optional[str] = None) -> Tuple[Optional[str], str]:
    """The plain case's answer (None: left to the general path) and what the general path
    printed (its warnings after it), or its error ("error: ..."). ``quiltrc`` None: the
    f5quilt.yaml above ``cwd`` says where things are."""
    query = fastpath.Query(command[0], upstream, frozenset(command[1:]), None)
    here = os.getcwd()
    os.chdir(root / cwd)
    try:
        plain = fastpath.plain_answer(query, quiltrc, hold=False)
        out, warned = io.StringIO(), []
        try:
            with redirect_stdout(out):
                ws = open_workspace(command[0], lock=lambda _d: None, upstream=upstream, quiltrc=quiltrc,
                                    records=False, warn=warned.append)
                if command[0] == "series":
                    queries.series(ws, "verbose" in command, False, fastpath._echo)
                elif command[0] == "applied":
                    queries.applied(ws, None, False, fastpath._echo)
                else:
                    queries.top(ws, False, fastpath._echo)
        except F5QuiltError as exc:
            return plain, f"error: {exc.message}"
        return plain, out.getvalue() + "".join(f"warning: {w}\n" for w in warned)
    finally:
        os.chdir(here)


@pytest.fixture
def no_quilt_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("QUILT_"):
            monkeypatch.delenv(key)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=True))
def test_plain_case_answers_as_the_general_path(no_quilt_env: None, rnd: random.Random) -> None:
    files, env, cwd, command = quilt_trees(rnd)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "t"
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(text.encode())
        (root / cwd).mkdir(parents=True, exist_ok=True)
        plain, general = _both(root, cwd, command, {k: v for k, v in env.items() if v is not None})
        event("answered by the plain case" if plain is not None else "left to the general path")
        if plain is not None:
            assert general == (plain + "\n" if plain else "")


TREE = {"patches/series": "# the series\r\none.diff -p0 # first\r\n\r\ntwo.diff\t#x\r\nthree.diff -R\r\n",
        "patches/.keep": "", "sub/.keep": ""}


@pytest.mark.parametrize("cwd,command,expected", [
    (".", ["top"], "patches/two.diff\n"),
    (".", ["applied"], "patches/one.diff\npatches/two.diff\n"),
    (".", ["series", "verbose"], "+ patches/one.diff\n= patches/two.diff\n  patches/three.diff\n"),
    ("sub", ["top"], "../patches/two.diff\n"),
    ("patches", ["series"], "../patches/one.diff\n../patches/two.diff\n../patches/three.diff\n"),
])
def test_plain_case_answers_a_plain_tree(tmp_path: Path, no_quilt_env: None, cwd: str, command: List[str],
                                         expected: str) -> None:
    """The plain case is not a shortcut that never fires: on a plain tree (comments, options,
    CRLF, a subfolder) it answers, and as the general path does."""
    for rel, text in {**TREE, ".pc/applied-patches": "one.diff\ntwo.diff\n"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, newline="")
    plain, general = _both(tmp_path, cwd, command, {})
    assert plain is not None and plain + "\n" == general == expected


# -- f5quilt.yaml: the places the last committing command recorded (Workspace.note_for_prompt) --

def _pin_json(tree_rel: str, spec: str) -> str:
    return ('{"pin": {"commit": null, "kind": "pypi", "ref": null, "sha256": null, "spec": "%s"}, '
            '"tree": "%s"}\n' % (spec, tree_rel))


YAML_TREES = [("tree: .\n", "."), ("tree: vendor/up\npatches: my/patches\nseries: order\npc: .state\n", "vendor/up"),
              ("tree: link\n", "link")]
# what may change after the record was written, each of which the record must notice (or
# which leaves the answer as it was)
CHANGES = ["nothing", "nothing", "yaml same size", "yaml longer", "tree-pin another release",
           "tree-pin removed", "rebase started", "tree gone", "link elsewhere", "series edited",
           "applied edited", "state unsettled", "pc a file", "settings removed"]


def _yaml_project(root: Path, rnd: random.Random) -> Tuple[str, str]:
    """A project with an f5quilt.yaml (written a minute ago) and its record; the tree folder."""
    yaml, tree_rel = rnd.choice(YAML_TREES)
    yaml += "upstream:\n  pypi: f5-tts==1.1.22\n"
    patches = "my/patches" if "my/patches" in yaml else "patches"
    series = "order" if "series: order" in yaml else "series"
    pc = ".state" if "pc: .state" in yaml else ".pc"
    real_tree = "vendor/real" if tree_rel == "link" else tree_rel
    (root / real_tree).mkdir(parents=True, exist_ok=True)
    if tree_rel == "link":
        (root / "link").symlink_to("vendor/real")
        (root / "vendor/other").mkdir(parents=True)
    names = rnd.sample(["a.diff", "b.diff", "sub/c.diff", "d#e.diff"], rnd.randint(0, 4))
    (root / patches).mkdir(parents=True, exist_ok=True)
    (root / patches / series).write_text("".join(f"{n}{rnd.choice(['', ' -p1', ' # c'])}\n" for n in names))
    applied = names[:rnd.randint(0, len(names))]
    if applied:
        (root / tree_rel / pc).mkdir(parents=True, exist_ok=True)
        (root / tree_rel / pc / "applied-patches").write_text("".join(f"{n}\n" for n in applied))
    (root / ".f5quilt").mkdir()
    if rnd.random() < 0.7:
        (root / ".f5quilt" / "tree-pin.json").write_text(_pin_json(tree_rel if tree_rel != "link" else "vendor/real",
                                                                    "f5-tts==1.1.22"))
    settings = root / "f5quilt.yaml"
    settings.write_text(yaml)
    past = settings.stat().st_mtime - 60
    os.utime(settings, (past, past))
    here = os.getcwd()
    os.chdir(root)
    try:  # what a committing command does at its end
        open_workspace("push", lock=lambda _d: None, records=False, warn=lambda _l: None).note_for_prompt()
    finally:
        os.chdir(here)
    return tree_rel, pc


def _change(root: Path, change: str, tree_rel: str, pc: str) -> None:
    settings = root / "f5quilt.yaml"
    state = root / ".f5quilt"
    if change == "yaml same size":  # as an editor saving within the same second would
        st = settings.stat()
        text = settings.read_text()
        settings.write_text(text.replace("1.1.22", "1.1.23"))
        os.utime(settings, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "yaml longer":
        settings.write_text(settings.read_text() + "fuzz: 1\n")
    elif change == "tree-pin another release":
        (state / "tree-pin.json").write_text(_pin_json(tree_rel, "f5-tts==1.0.0"))
    elif change == "tree-pin removed":
        (state / "tree-pin.json").unlink(missing_ok=True)
    elif change == "rebase started":
        (state / "rebase").mkdir()
        (state / "rebase" / "state.json").write_text("{}\n")
    elif change == "tree gone":
        target = root / ("vendor/real" if tree_rel == "link" else tree_rel)
        if tree_rel != ".":
            import shutil
            shutil.rmtree(target)
    elif change == "link elsewhere" and tree_rel == "link":
        (root / "link").unlink()
        (root / "link").symlink_to("vendor/other")
    elif change == "series edited":
        series = next(p for p in root.rglob("*") if p.name in ("series", "order"))
        series.write_text("z.diff\n" + series.read_text())
    elif change == "applied edited":
        (root / tree_rel / pc).mkdir(parents=True, exist_ok=True)
        (root / tree_rel / pc / "applied-patches").write_text("a.diff\n")
    elif change == "state unsettled":
        (state / "txn").mkdir()
    elif change == "pc a file":
        if not (root / tree_rel / pc).exists():
            (root / tree_rel).mkdir(parents=True, exist_ok=True)
            (root / tree_rel / pc).write_text("")
    elif change == "settings removed":
        settings.unlink()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=True))
def test_plain_case_with_f5quilt_yaml_answers_as_the_general_path(no_quilt_env: None, rnd: random.Random) -> None:
    """The record stands in for f5quilt.yaml only while what it was made from is unchanged:
    an edit of the settings within the same second (same size, same mtime), another tree-pin,
    a rebase under way, a tree replaced or re-linked all send the query to the general path."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        root.mkdir()
        tree_rel, pc = _yaml_project(root, rnd)
        change = rnd.choice(CHANGES)
        _change(root, change, tree_rel, pc)
        cwd = rnd.choice([".", ".", tree_rel if (root / tree_rel).is_dir() else "."])
        command = rnd.choice([["applied"], ["top"], ["series"], ["series", "verbose"]])
        upstream = rnd.choice([None, None, "f5-tts", "other"])
        plain, general = _both(root, cwd, command, None, upstream)
        event(f"{'answered by the plain case' if plain is not None else 'left to the general path'}"
              f"{' (nothing changed)' if change == 'nothing' else ''}")
        if plain is not None:
            assert general == (plain + "\n" if plain else ""), change
        if change in ("yaml same size", "yaml longer", "tree-pin another release", "rebase started",
                      "settings removed", "state unsettled"):
            assert plain is None, change


def test_plain_case_with_f5quilt_yaml_answers_a_settled_project(no_quilt_env: None, tmp_path: Path) -> None:
    """A project whose settings have not changed since the last command committed is answered
    by the plain case (the record is not a shortcut that never fires)."""
    rnd = random.Random(7)
    for i in range(12):
        root = tmp_path / str(i)
        root.mkdir()
        tree_rel, _pc = _yaml_project(root, rnd)
        for command in (["series"], ["series", "verbose"]):
            plain, general = _both(root, ".", command, None)
            assert plain is not None and general == (plain + "\n" if plain else "")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_a_damaged_prompt_record_is_no_record(data: bytes, with_magic: bool) -> None:
    """Whatever the record file holds, a query reads it as a record or as none, never an error
    (it is read by splitting: nothing in it is evaluated)."""
    from f5quilt.repo import layout
    with tempfile.TemporaryDirectory() as tmp:
        settings = os.path.join(tmp, "f5quilt.yaml")
        with open(settings, "w") as fh:
            fh.write("tree: .\n")
        key = ":".join(str(n) for n in layout.settings_key(settings))
        head = f"{layout.PROMPT_MAGIC}\0{settings}\0{key}\0".encode() if with_magic else b""
        with open(os.path.join(tmp, layout.PROMPT), "wb") as fh:
            fh.write(head + data)
        record = layout.read_prompt_record(tmp, settings)
        assert record is None or len(record) == 9
