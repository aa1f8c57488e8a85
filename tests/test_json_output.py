"""status (compact, -v, --exit-code, ignore:, added files) and --json on the query commands,
checked against the schemas docs/commands.md documents."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict

import jsonschema
import pytest

from helpers import ROOT, Runner, write_tree

PATCH = "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1,2 +1,2 @@\n-x = 1\n+x = 10\n y = 2\n"


def schemas() -> Dict[str, Any]:
    doc = (ROOT / "docs/commands.md").read_text()
    found = re.findall(r"<!-- schema: (\w+) -->\n```json\n(.*?)```", doc, re.S)
    return {name: json.loads(text) for name, text in found}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    write_tree(tmp_path / "up", {"pkg/mod.py": "x = 1\ny = 2\n", "pkg/other.py": "o\n"})
    write_tree(tmp_path / "repo", {
        "f5quilt.yaml": f"tree: tp\nupstream:\n  path: {tmp_path / 'up'}\n",
        "patches/one.patch": PATCH,
        "patches/two.patch": "--- a/pkg/other.py\n+++ b/pkg/other.py\n@@ -1 +1 @@\n-o\n+O\n",
        "patches/series": "one.patch\ntwo.patch\n"})
    return tmp_path / "repo"


def test_every_documented_schema_is_checked() -> None:
    assert set(schemas()) == {"status", "series", "applied", "unapplied", "top", "files", "patches"}


def test_json_outputs_match_their_schemas(repo: Path, run: Runner) -> None:
    docs = schemas()

    def check(name: str, *args: str, rc: int = 0) -> Any:
        code, out, err = run(repo, name, *args, "--json")
        assert code == rc, err
        data = json.loads(out)
        jsonschema.validate(data, docs[name])
        return data

    assert check("applied", rc=2) == [] and check("top", rc=2) == {"top": None}
    assert check("unapplied") == ["one.patch", "two.patch"]
    assert run(repo, "push")[0] == 0
    assert check("applied") == ["one.patch"] and check("top") == {"top": "one.patch"}
    assert check("series") == [
        {"patch": "one.patch", "applied": True, "top": True, "strip": 1, "reverse": False, "guards": []},
        {"patch": "two.patch", "applied": False, "top": False, "strip": 1, "reverse": False, "guards": []}]
    assert check("files") == {"patch": "one.patch", "files": ["pkg/mod.py"]}
    assert check("files", "two.patch") == {"patch": "two.patch", "files": ["pkg/other.py"]}
    assert check("patches", "tp/pkg/mod.py") == {"file": "pkg/mod.py", "patches": ["one.patch"]}
    st = check("status")
    assert st["applied"] == 1 and st["series"] == 2 and st["top"] == "one.patch" and st["attention"] == []
    assert st["tree_built_from"] == st["upstream"]
    (repo / "tp/pkg/other.py").write_text("edited\n")
    st = check("status")
    assert st["attention"] == [{"kind": "outside", "file": "pkg/other.py", "why": "edited outside any patch"}]
    jsonschema.validate(st, docs["status"])


def test_status_compact_verbose_exit_code_ignore_and_added(repo: Path, run: Runner) -> None:
    assert run(repo, "push")[0] == 0
    rc, out, _ = run(repo, "status", "--exit-code")
    assert rc == 0
    assert out.splitlines() == [f"upstream: {repo.parent / 'up'}", "tree: tp",
                                "top: patches/one.patch  (1 of 2 applied)"]
    rc, out, _ = run(repo, "status", "-v")
    assert "  + patches/one.patch" in out and "    patches/two.patch" in out
    # byte code is ignored by default; other stray files are not, unless the settings say so
    write_tree(repo / "tp", {"pkg/__pycache__/mod.cpython-311.pyc": "x", "stray.pyc": "x", "notes.txt": "n\n"})
    rc, out, _ = run(repo, "status", "--exit-code")
    assert rc == 1 and "outside: tp/notes.txt: not in pristine" in out and "pyc" not in out
    with open(repo / "f5quilt.yaml", "a") as fh:
        fh.write("ignore: ['*.txt', '!stray.pyc']\n")
    rc, out, _ = run(repo, "status", "--exit-code")
    assert rc == 1 and "stray.pyc" in out and "notes.txt" not in out and "__pycache__" not in out
    (repo / "tp/stray.pyc").unlink()
    # a file added to the top patch (new) and written: shown as added, not as outside any patch
    assert run(repo, "add", "tp/pkg/new.py")[0] == 0
    (repo / "tp/pkg/new.py").write_text("new\n")
    rc, out, _ = run(repo, "status", "--exit-code")
    assert rc == 1
    assert "  added: tp/pkg/new.py: added to patches/one.patch; not refreshed yet" in out
    assert "outside" not in out
    assert run(repo, "refresh")[0] == 0
    assert run(repo, "status", "--exit-code")[0] == 0


def test_bad_ignore_setting_is_one_line(repo: Path, run: Runner) -> None:
    with open(repo / "f5quilt.yaml", "a") as fh:
        fh.write("ignore: {a: 1}\n")
    rc, _, err = run(repo, "status")
    assert rc == 1 and "ignore must be a list of gitignore patterns" in err and len(err.splitlines()) == 1
