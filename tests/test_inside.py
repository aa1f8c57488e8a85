"""check_inside with the tree's real path worked out once (Workspace.inside, every file a push
or pop reads and writes) decides as check_inside from scratch: the same path, the same refusals."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from f5quilt.errors import UnsafePath
from f5quilt.fsutil import check_inside

RELS = ["x", "a/x", "a/b/x", "a/c/d/x", "f/x", "ln/x", "ln/b/x", "out/x", "out/y/z", "a/lb/x", "a/lb", "ln",
        "./x", "a//x", "a/../x", "a/b/../../out/x", "q/../out/x", "a/out2/x", "a/b/up/x", "dangling/x"]


def _decided(root: Path, rel: str, **kw: str) -> str:
    try:
        return str(check_inside(root, rel, **kw))
    except UnsafePath:
        return "refused"


@pytest.mark.parametrize("rel", RELS)
def test_inside_with_the_real_root_given_decides_alike(tmp_path: Path, rel: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "link-to-tree"  # the tree reached through a symlink, as a user's may be
    (tmp_path / "tree" / "a" / "b").mkdir(parents=True)
    root.symlink_to(tmp_path / "tree")
    (root / "f").write_text("x\n")
    (root / "ln").symlink_to(root / "a")        # inside, to a folder
    (root / "out").symlink_to(outside)          # out of the tree
    (root / "a" / "lb").symlink_to("b")         # inside, relative
    (root / "a" / "out2").symlink_to("../../outside")
    (root / "a" / "b" / "up").symlink_to("..")  # inside, upwards
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    alone = _decided(root, rel)
    assert _decided(root, rel, real_root=os.path.realpath(root)) == alone
    assert (alone == "refused") is (rel in ("out/x", "out/y/z", "a/lb", "ln", "a/b/../../out/x", "q/../out/x",
                                            "a/out2/x", "dangling/x"))
