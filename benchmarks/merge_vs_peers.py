#!/usr/bin/env python3
"""Drift cases with a known right answer: f5quilt's merge vs git apply --3way, wiggle, GNU patch.

Each case comes from a real upstream change of one file between two F5-TTS
releases (default 1.1.7 -> 1.1.22): git diff -U0 splits it into minimal
hunks; the odd ones are "upstream drift" (ours = old + odd), the even ones
are "our patch", written with 3 lines of context against the old file
(theirs = old + even). The right answer is the new release's file, which
is old + all hunks. A second case per file swaps the roles. Each tool
applies the patch to ``ours`` and lands it right, refuses (or leaves
conflict markers), or lands it WRONG without saying so.

    python benchmarks/merge_vs_peers.py [--old 1.1.7] [--new 1.1.22] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from f5quilt.engine.gitdiff import diff_files  # noqa: E402
from f5quilt.engine.locate import apply_hunks  # noqa: E402
from f5quilt.engine.apply import apply_patch  # noqa: E402
from f5quilt.engine.merge import merge_into  # noqa: E402
from f5quilt.model.patch import Hunk, parse_patch, split_lines  # noqa: E402
from f5quilt.repo.upstream import Pin, Upstream, default_cache, list_files  # noqa: E402

RIGHT, REFUSED, WRONG = "right", "refused", "WRONG"
Case = Tuple[str, bytes, bytes, bytes, bytes]  # name, base, ours, patch, truth


def minimal_hunks(old: bytes, new: bytes, fine: bool) -> List[Hunk]:
    """git's -U0 hunks; with ``fine``, a block that rewrites n lines into n lines
    becomes n one-line hunks, so drift and patch edit neighbouring lines."""
    diff = diff_files({"f": old}, {"f": new}, context=0)
    patch = parse_patch(diff, "minimal")
    hunks = patch.files[0].hunks if patch.files else []
    if not fine:
        return hunks
    out: List[Hunk] = []
    for h in hunks:
        minus = [t for tag, t in h.lines if tag == "-"]
        plus = [t for tag, t in h.lines if tag == "+"]
        if len(minus) == len(plus) > 1:
            for i, (a, b) in enumerate(zip(minus, plus)):
                out.append(Hunk(h.old_start + i, 1, h.new_start + i, 1, "", [("-", a), ("+", b)], 0))
        else:
            out.append(h)
    return out


def apply_exact(data: bytes, hunks: List[Hunk]) -> Optional[bytes]:
    res = apply_hunks(split_lines(data), hunks)
    return b"".join(res.lines) if res.ok else None


def cases(old_root: Path, new_root: Path, fine: bool = False,
          suffixes: Tuple[str, ...] = (".py",)) -> List[Case]:
    out: List[Case] = []
    for rel in sorted(set(list_files(old_root)) & set(list_files(new_root))):
        if not rel.endswith(suffixes):
            continue
        old, new = (old_root / rel).read_bytes(), (new_root / rel).read_bytes()
        if old == new:
            continue
        hunks = minimal_hunks(old, new, fine)
        if len(hunks) < 2:
            continue
        for parity in (0, 1):
            drift = [h for i, h in enumerate(hunks) if i % 2 == parity]
            mine = [h for i, h in enumerate(hunks) if i % 2 != parity]
            ours = apply_exact(old, drift)
            theirs = apply_exact(old, mine)
            if ours is None or theirs is None:
                continue
            patch = diff_files({rel: old}, {rel: theirs}, context=3)
            out.append((f"{rel}#{parity}{'f' if fine else ''}", old, ours, patch, new))
    return out


def run_f5quilt(base: bytes, ours: bytes, patch: bytes, work: Path) -> Tuple[Optional[bytes], bool]:
    """What push --merge does: locate at fuzz 0; what fails, and what landed at an
    offset, goes through the 3-way merge against the base (pushpop.merge_failed_files)."""
    p = parse_patch(patch, "p")
    res = apply_patch(p, lambda rel: ours, strip=1, fuzz=0)
    if res.ok and not any(r.offset for c in res.changes.values() for r in c.reports):
        return res.changes[next(iter(res.changes))].after, False
    exact = apply_patch(p, lambda rel: base, strip=1, fuzz=0)
    assert exact.ok
    conflicts = merge_into(res, lambda rel: base, exact, "patch")
    return res.changes[next(iter(res.changes))].after, bool(conflicts)


def run_git_3way(base: bytes, ours: bytes, patch: bytes, work: Path) -> Tuple[Optional[bytes], bool]:
    repo = work / "git"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir()
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    rel = patch.split(b"\n", 1)[0].split(b" b/", 1)[1].decode()
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@b"]
    subprocess.run(git + ["init", "-q"], cwd=repo, check=True, env=env)
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_bytes(base)
    subprocess.run(git + ["add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(git + ["commit", "-qm", "base"], cwd=repo, check=True, env=env)
    (repo / rel).write_bytes(ours)
    subprocess.run(git + ["commit", "-qam", "ours"], cwd=repo, check=True, env=env)
    # git apply --3way needs the pre-image blob named on the index line
    full = subprocess.run(["git", "hash-object", "--stdin"], input=base, capture_output=True, check=True).stdout.strip()
    lines = patch.split(b"\n")
    lines.insert(1, b"index " + full + b".." + b"0" * 40 + b" 100644")
    r = subprocess.run(git + ["apply", "--3way", "-"], cwd=repo, input=b"\n".join(lines), capture_output=True, env=env)
    data = (repo / rel).read_bytes()
    conflict = r.returncode != 0 or b"<<<<<<<" in data
    return (None if r.returncode != 0 and data == ours else data), conflict


def run_wiggle(base: bytes, ours: bytes, patch: bytes, work: Path) -> Tuple[Optional[bytes], bool]:
    f = work / "w.py"
    for leftover in work.glob("w.py*"):
        leftover.unlink()  # wiggle refuses to overwrite its own .porig backup
    f.write_bytes(ours)
    (work / "w.patch").write_bytes(patch)
    r = subprocess.run(["wiggle", "--replace", str(f), str(work / "w.patch")],
                       capture_output=True)
    data = f.read_bytes()
    return data, r.returncode != 0 or b"<<<<<<<" in data


def run_gnu_patch(fuzz: int) -> Callable[[bytes, bytes, bytes, Path], Tuple[Optional[bytes], bool]]:
    def run(base: bytes, ours: bytes, patch: bytes, work: Path) -> Tuple[Optional[bytes], bool]:
        f = work / "g.py"
        f.write_bytes(ours)
        r = subprocess.run(["patch", f"-F{fuzz}", "-N", "-s", "--no-backup-if-mismatch", "-r", "-", str(f)],
                           input=patch, capture_output=True)
        return f.read_bytes(), r.returncode != 0
    return run


def judge(result: Optional[bytes], conflict: bool, truth: bytes) -> str:
    if conflict or result is None:
        return REFUSED
    return RIGHT if result == truth else WRONG


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", default="1.1.7")
    ap.add_argument("--new", default="1.1.22")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cache = default_cache(ROOT)
    roots = [Upstream(Pin("pypi", f"f5-tts=={v}"), cache).ensure_pristine() for v in (args.old, args.new)]
    families = {"coarse (git's -U0 blocks alternate)": cases(*roots),
                "fine (neighbouring lines alternate)": cases(*roots, fine=True)}
    tools: Dict[str, Callable[[bytes, bytes, bytes, Path], Tuple[Optional[bytes], bool]]] = {
        "f5quilt push --merge": run_f5quilt,
        "git apply --3way": run_git_3way,
    }
    if shutil.which("wiggle"):
        tools["wiggle --replace"] = run_wiggle
    tools["GNU patch -F2"] = run_gnu_patch(2)
    report: Dict[str, Dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family, family_cases in families.items():
            tally = {t: {RIGHT: 0, REFUSED: 0, WRONG: 0} for t in tools}
            wrong: Dict[str, List[str]] = {t: [] for t in tools}
            for name, base, ours, patch, truth in family_cases:
                for tool, fn in tools.items():
                    verdict = judge(*fn(base, ours, patch, Path(tmp)), truth)
                    tally[tool][verdict] += 1
                    if verdict == WRONG:
                        wrong[tool].append(name)
            report[family] = {"cases": len(family_cases), "tally": tally, "wrong": wrong}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    for family, rep in report.items():
        print(f"{rep['cases']} drift cases from F5-TTS {args.old} -> {args.new}, {family}; right answer known")
        print(f"  {'tool':22} {'right':>6} {'refused':>8} {'WRONG':>6}")
        for tool, t in rep["tally"].items():  # type: ignore[attr-defined]
            print(f"  {tool:22} {t[RIGHT]:6d} {t[REFUSED]:8d} {t[WRONG]:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
