"""Issue 18's invariant, as a hypothesis state machine: whatever a user runs (push, pop, add,
edit, refresh, undo, redo, new, fetch --replace, forced or not) with random edits and a tiny
log, every line the user typed is in the tree, a patch or the stash; never only in the log."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import List

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from f5quilt.cli import main
from helpers import make_series, numbered, upper_hunk, write_tree

FILES = ["m.py", "keep.txt", "other.txt"]


class UserSession(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="f5quilt-stateful-"))
        write_tree(self.root / "v1", {"m.py": numbered(30), "keep.txt": "k\n", "other.txt": "o\n"})
        write_tree(self.root / "v2", {"m.py": "head\n" + numbered(30), "keep.txt": "k\n", "other.txt": "o2\n"})
        write_tree(self.root / "repo", {"f5quilt.yaml": "tree: tree\npatches: patches\nupstream:\n"
                                        "  path: ../v1\nlog: {keep: 2}\n"})
        make_series(self.root / "repo", {"pm.diff": upper_hunk("m.py", 10)})
        self.repo = self.root / "repo"
        self.typed: List[str] = []
        self.patches = 0
        self.cwd = os.getcwd()

    def teardown(self) -> None:
        os.chdir(self.cwd)
        shutil.rmtree(self.root, ignore_errors=True)

    def f5(self, *argv: str) -> int:
        os.chdir(self.repo)
        try:
            rc = main(list(argv))
        finally:
            os.chdir(self.cwd)
        assert rc != 4, f"internal error in {argv}"
        return rc

    @rule(n=st.integers(1, 3))
    def push(self, n: int) -> None:
        self.f5("push", str(n))

    @rule()
    def pop(self) -> None:
        self.f5("pop")

    @rule(name=st.sampled_from(FILES))
    def edit(self, name: str) -> None:
        path = self.repo / "tree" / name
        if not (self.repo / "tree").is_dir():
            return
        line = f"typed-{len(self.typed)}"
        with open(path, "a") as fh:
            fh.write(line + "\n")
        self.typed.append(line)

    @rule(name=st.sampled_from(FILES))
    def add(self, name: str) -> None:
        self.f5("add", f"tree/{name}")

    @rule()
    def refresh(self) -> None:
        self.f5("refresh")

    @rule()
    def new(self) -> None:
        self.patches += 1
        self.f5("new", f"p{self.patches}.diff")

    @rule(force=st.booleans())
    def undo(self, force: bool) -> None:
        self.f5("undo", *(["--force"] if force else []))

    @rule(force=st.booleans())
    def redo(self, force: bool) -> None:
        self.f5("redo", *(["--force"] if force else []))

    @rule(force=st.booleans())
    def replace(self, force: bool) -> None:
        self.f5("upstream", "fetch", "--replace", *(["--force"] if force else []))

    @rule(patch=st.sampled_from(["pm.diff", "p1.diff", "p2.diff"]))
    def goto(self, patch: str) -> None:
        self.f5("goto", patch)

    @rule(onto=st.sampled_from(["../v1", "../v2"]), force=st.booleans())
    def rebase(self, onto: str, force: bool) -> None:
        if self.f5("rebase", "--onto", onto, *(["--force"] if force else [])) != 0:
            self.f5("rebase", "--abort")

    @invariant()
    def every_typed_line_is_somewhere_lasting(self) -> None:
        homes = []
        for folder in ("tree", "patches", ".f5quilt/stash"):
            base = self.repo / folder
            if base.is_dir():
                for p in base.rglob("*"):
                    if p.is_file() and ".pc" not in p.relative_to(self.repo).parts:
                        homes.append(p.read_text(errors="replace"))
        everything = "\n".join(homes)
        lost = [line for line in self.typed if line not in everything]
        assert not lost, f"only in the log (or gone): {lost}"


UserSession.TestCase.settings = settings(max_examples=150, stateful_step_count=14, deadline=None,
                                         suppress_health_check=list(HealthCheck))
test_user_session = UserSession.TestCase
