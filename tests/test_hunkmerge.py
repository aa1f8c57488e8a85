"""Hunk-scoped 3-way merge (engine/hunkmerge.py): files whose sections moved,
with many repeated lines, where a whole-file diff3 aligns the wrong regions."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import Runner, write_tree
from f5quilt.engine.gitdiff import diff_files
from f5quilt.engine.hunkmerge import HUNK, merge_scoped
from f5quilt.engine.merge import merge3, merge_file

L = ("tree", "base", "patch")


def section(name: str, tests: int = 4) -> str:
    body = "".join(f"def test_{name.lower()}{i}(self):\n    ...\n\n" for i in range(tests))
    return f"Section {name}\n========\n\n{body}"


def doc(order: str) -> bytes:
    return "".join(section(n) for n in order).encode()


def patched(data: bytes) -> bytes:
    """The patch: two bodies, in sections B and D, get a real assertion."""
    return (data.replace(b"def test_b2(self):\n    ...\n", b"def test_b2(self):\n    assert b2\n")
                .replace(b"def test_d1(self):\n    ...\n", b"def test_d1(self):\n    assert d1\n"))


def test_moved_sections_merge_each_hunk_in_its_own_region() -> None:
    base = doc("ABCDE")
    for order in ("AEDCB", "BACDE", "EDCBA", "CDEAB"):
        ours = doc(order).replace(b"def test_c1(self):", b"def test_c1(self, tmp):")
        # the whole-file diff3 misaligns the sections: its word-level pass then
        # "resolves" the conflict by editing the wrong test
        whole = merge3(ours, base, patched(base), L)
        assert whole.data != patched(ours)
        out = merge_file(ours, base, patched(base), L)
        assert out.conflicts == 0 and out.level == HUNK, order
        assert out.data == patched(ours), order
        assert out.regions is not None and all(r.clean for r in out.regions)
        anchors = sorted((r.above.text, r.below.text) for r in out.regions)
        assert anchors == [(b"def test_b2(self):\n", b"def test_b3(self):\n"),
                           (b"def test_d1(self):\n", b"def test_d2(self):\n")]


def test_repeated_lines_never_anchor_and_the_nearest_unique_ones_do() -> None:
    base = b"".join(b"...\n" if i % 2 else f"item {i}\n".encode() for i in range(20))
    theirs = base.replace(b"item 10\n...\n", b"item 10\n... (changed)\n")
    ours = base.replace(b"item 2\n", b"item two\n").replace(b"item 18\n", b"")
    ours = ours[ours.index(b"item 8\n"):] + ours[:ours.index(b"item 8\n")]   # rotated
    out = merge_scoped(ours, base, theirs, L)
    assert out is not None and out.conflicts == 0
    (region,) = out.regions
    assert (region.above.text, region.below.text) == (b"item 10\n", b"item 12\n")
    assert out.data == ours.replace(b"item 10\n...\n", b"item 10\n... (changed)\n")


def test_two_regions_that_fit_equally_well_stay_a_conflict() -> None:
    base = doc("ABC")
    ours = (section("A") + section("B") + section("B") + section("C")).encode()  # B twice
    theirs = base.replace(b"def test_b2(self):\n    ...\n", b"def test_b2(self):\n    assert b2\n")
    out = merge_scoped(ours, base, theirs, L)
    assert out is not None and out.conflicts == 1
    (region,) = out.regions
    assert not region.clean and "two places fit equally well" in region.reason
    # narrowed: markers around the lines between the unique anchors only
    assert (region.above.text, region.below.text) == (b"def test_a3(self):\n", b"Section C\n")
    head = ours[:ours.index(b"def test_a3(self):\n") + len(b"def test_a3(self):\n")]
    assert out.data.startswith(head + b"<<<<<<< tree\n    ...\n")
    assert out.data.endswith(b">>>>>>> patch\n" + section("C").encode())
    assert out.data.count(b"<<<<<<< tree\n") == 1 and out.data.count(b"assert b2") == 1


def test_anchors_out_of_order_never_give_a_clean_guess() -> None:
    base = b"alpha\nx\nbeta\nx\ngamma\n"
    theirs = b"alpha\nx\nbeta\ny\ngamma\n"
    ours = b"gamma\nx\nbeta\nz\nalpha\n"   # the unique lines around the change swapped places
    part = merge_scoped(ours, base, theirs, L)
    assert part is not None and part.conflicts == 1  # (beta, end of file): the nearest pair in order
    (region,) = part.regions
    assert (region.above.text, region.below.text) == (b"beta\n", b"")
    assert merge_file(ours, base, theirs, L).conflicts >= 1


def test_a_block_whose_section_moved_away_is_bounded_by_the_next_anchors_in_order() -> None:
    """Upstream moved the second half first: the unique line after the change now
    stands at the top; the block is bounded by the end of the file instead, and a
    block of the other half in that stretch of base is merged in its own region."""
    first = b"".join(f"first {i}\n...\n".encode() for i in range(6))
    second = b"".join(f"second {i}\n...\n".encode() for i in range(6))
    base = first + second
    theirs = base.replace(b"first 5\n...\n", b"first 5\nchanged\n").replace(b"second 3\n...\n",
                                                                             b"second 3\nchanged too\n")
    ours = second + first
    out = merge_scoped(ours, base, theirs, L)
    assert out is not None and out.conflicts == 0
    assert out.data == (second.replace(b"second 3\n...\n", b"second 3\nchanged too\n")
                        + first.replace(b"first 5\n...\n", b"first 5\nchanged\n"))
    bounds = sorted((r.above.describe(), r.below.describe()) for r in out.regions)
    assert bounds == [("line 23: first 5", "end of file"), ("line 7: second 3", "line 9: second 4")]


def _moved_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(tmp_path / "cache"))
    write_tree(tmp_path / "v1", {"t.py": doc("ABCDE")})
    write_tree(tmp_path / "v2", {"t.py": doc("EDCBA").replace(b"def test_c1(self):", b"def test_c1(self, tmp):")})
    patch = diff_files({"t.py": doc("ABCDE")}, {"t.py": patched(doc("ABCDE"))})
    write_tree(tmp_path / "repo", {
        "f5quilt.yaml": f"tree: tree\nupstream:\n  path: {tmp_path / 'v1'}\n",
        "patches/series": "p.diff\n", "patches/p.diff": patch})
    return tmp_path / "repo"


def test_push_merge_explains_each_hunk_and_shows_anchors_with_v(tmp_path: Path, run: Runner,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _moved_repo(tmp_path, monkeypatch)
    assert run(repo, "upstream", "fetch")[0] == 0
    (repo / "tree/t.py").write_bytes((tmp_path / "v2/t.py").read_bytes())  # upstream reorganized t.py
    assert run(repo, "push")[0] == 1
    rc, out, err = run(repo, "push", "--merge", "-v")
    assert rc == 0, out + err
    assert (repo / "tree/t.py").read_bytes() == patched((tmp_path / "v2/t.py").read_bytes())
    assert "Hunk #1 succeeded at 53 (offset 30 lines)." in out  # section B moved down, whole
    assert "Hunk #2 merged in its own region (3-way, hunk-scoped)." in out
    assert "  anchored between line 22: def test_d1(self): .. line 25: def test_d2(self):" in out
    assert run(repo, "pop")[0] == 0
    rc, out, _ = run(repo, "push", "--merge")  # without -v: no anchors
    assert rc == 0 and "hunk-scoped" in out and "anchored" not in out


def test_check_onto_json_says_how_each_hunk_lands(tmp_path: Path, run: Runner,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _moved_repo(tmp_path, monkeypatch)
    rc, out, err = run(repo, "check", "--onto", str(tmp_path / "v2"), "--json")
    assert rc == 0, out + err
    (p,) = json.loads(out)["patches"]
    assert p["status"] == "merge"
    assert [h["landing"] for h in p["hunks"]] == ["offset", "merged hunk-scoped"]
    assert p["hunks"][1]["merge"] == "hunk" and len(p["hunks"][1]["anchors"]) == 1
    rc, out, err = run(repo, "check", "--strict", "--json")
    assert [h["landing"] for h in json.loads(out)["patches"][0]["hunks"]] == ["exact", "exact"]
