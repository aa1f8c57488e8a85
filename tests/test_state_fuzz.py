"""Journal and log entries are input: a fuzz of wrong types and shapes. Repair and the log
reader never raise anything but a one-line error, never touch a canary outside the
project, and move what they cannot trust aside (quarantine) instead of running it."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict

from hypothesis import HealthCheck, given, settings, strategies as st

from f5quilt.errors import F5QuiltError
from f5quilt.repo.transaction import Roots, read_log, repair

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2 ** 40), st.floats(allow_nan=True),
                    st.sampled_from(["", ".", "..", "../canary/precious", "/abs", "a\0b", "tree", "pc",
                                     "f.txt", "out/precious", "b0", "c1", "=b0", "0" * 40, "rw"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
entry = st.fixed_dictionaries(
    {"op": st.one_of(st.sampled_from(["file", "mkdir", "rmdir", "rename", "adopt", "discard", "scratch"]),
                     values)},
    optional={k: values for k in ("root", "rel", "mode", "before", "slot", "src", "dst", "after",
                                  "mode_after")})


def _project(base: Path) -> Dict[str, Path]:
    canary = base / "canary"
    canary.mkdir()
    (canary / "precious").write_text("keep me\n")
    tree = base / "p/tree"
    tree.mkdir(parents=True)
    (tree / "f.txt").write_text("f\n")
    (tree / "out").symlink_to(canary)
    state = base / "p/.f5quilt"
    state.mkdir()
    return {"tree": tree, "state": state, "canary": canary}


def _intact(canary: Path) -> None:
    assert sorted(p.name for p in canary.iterdir()) == ["precious"]
    assert (canary / "precious").read_text() == "keep me\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(entry, values), min_size=1, max_size=4), values)
def test_journal_entries_of_any_type(entries: Any, header: Any) -> None:
    base = Path(tempfile.mkdtemp())
    try:
        p = _project(base)
        txn = p["state"] / "txn"
        (txn / "objects").mkdir(parents=True)
        (txn / "objects/b0").write_text("old\n")
        head = header if isinstance(header, dict) else {"command": header}
        (txn / "journal").write_text("\n".join(json.dumps(x) for x in [head, *entries]) + "\n")
        roots = Roots({"tree": p["tree"], "state": p["state"]})
        try:
            repair(p["state"], roots)
        except F5QuiltError as exc:
            assert "\n" not in str(exc)
        _intact(p["canary"])
        # whatever happened, the next command is not blocked: nothing is left to run
        assert not txn.exists() or not (txn / "journal").exists() or repair(p["state"], roots) is not None
    finally:
        shutil.rmtree(base)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.fixed_dictionaries({"ops": st.lists(st.one_of(entry, values), max_size=3)},
                                       optional={k: values for k in ("command", "time", "kind",
                                                                     "targets", "group")}), values))
def test_log_entries_of_any_type(manifest: Any) -> None:
    base = Path(tempfile.mkdtemp())
    try:
        p = _project(base)
        entry_dir = p["state"] / "log/00000001"
        entry_dir.mkdir(parents=True)
        (entry_dir / "manifest.json").write_text(json.dumps(manifest))
        notes: list = []
        entries = read_log(p["state"], notes)  # never raises: a bad entry is moved aside
        assert [e.seq for e in entries] == ([1] if entry_dir.exists() else [])
        if not entry_dir.exists():
            assert len(notes) == 1 and "set aside" in notes[0]
            assert [q.name.startswith("00000001-") for q in (p["state"] / "quarantine").iterdir()] == [True]
        for e in entries:
            assert all(isinstance(t, int) for t in e.targets) and e.kind in ("do", "undo", "redo")
        _intact(p["canary"])
    finally:
        shutil.rmtree(base)
