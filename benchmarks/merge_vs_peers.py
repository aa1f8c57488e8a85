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

The same cases are built from other PyPI projects' consecutive releases
(``--projects``; their sdists are downloaded once with ``pip download
--no-deps --no-binary :all:`` into .cache/bench/), over their code and their
documentation (.py, .rst, .md, .txt): documentation pages with many short,
repeated lines are where a whole-file merge misaligns.

    python benchmarks/merge_vs_peers.py [--old 1.1.7] [--new 1.1.22] [--projects all|none|a,b] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from f5quilt.engine.gitdiff import diff_files  # noqa: E402
from f5quilt.engine.locate import apply_hunks  # noqa: E402
from f5quilt.engine.apply import apply_patch  # noqa: E402
from f5quilt.engine.merge import merge_into  # noqa: E402
from f5quilt.model.patch import Hunk, parse_patch, split_lines  # noqa: E402
from f5quilt.repo.upstream import Pin, Upstream, default_cache, list_files  # noqa: E402

RIGHT, REFUSED, WRONG = "right", "refused", "WRONG"
DOCS = (".py", ".rst", ".md", ".txt")

# (pip name, old, new): consecutive releases, code-heavy and documentation-heavy
PROJECTS: List[Tuple[str, str, str]] = [
    ("click", "8.1.8", "8.2.0"),       # code, docs/*.rst
    ("attrs", "22.2.0", "23.1.0"),     # documentation-heavy (docs/*.md, *.rst)
    ("jinja2", "3.1.3", "3.1.4"),      # docs/*.rst with repeated paragraphs
    ("requests", "2.31.0", "2.32.0"),  # code, HISTORY.md
    ("markdown", "3.5", "3.5.1"),      # docs/*.md
]
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


def _cut(old: bytes, ours: bytes, new: bytes, hunks: List[Hunk]) -> Optional[bytes]:
    """A line to move the file's second half up at: it starts a paragraph (a blank
    line above it), occurs once in old, ours and new, and no change is within two
    lines of it; the one nearest the middle."""
    lines = split_lines(old)
    if not lines or not old.endswith(b"\n") or not ours.endswith(b"\n") or not new.endswith(b"\n"):
        return None
    near: Set[int] = set()
    for h in hunks:
        start = h.old_start if h.old_len == 0 else h.old_start - 1
        near.update(range(start - 2, start + max(h.old_len, 1) + 2))
    counts = [split_lines(d) for d in (old, ours, new)]
    best: Optional[Tuple[int, int]] = None
    for i in range(1, len(lines)):
        if lines[i - 1].strip() or not lines[i].strip() or i in near:
            continue
        if any(c.count(lines[i]) != 1 for c in counts):
            continue
        score = abs(i - len(lines) // 2)
        if best is None or score < best[0]:
            best = (score, i)
    return None if best is None else lines[best[1]]


def _rotate(data: bytes, at: bytes) -> bytes:
    lines = split_lines(data)
    j = lines.index(at)
    return b"".join(lines[j:] + lines[:j])


def cases(old_root: Path, new_root: Path, *, fine: bool = False,
          suffixes: Tuple[str, ...] = (".py",), moved: bool = False) -> List[Case]:
    """With ``moved``, upstream also reorganized the file: its second half (from a
    paragraph near the middle) now comes first, in ours and in the right answer."""
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
            truth = new
            if moved:
                at = _cut(old, ours, new, hunks)
                if at is None:
                    continue
                ours, truth = _rotate(ours, at), _rotate(new, at)
            patch = diff_files({rel: old}, {rel: theirs}, context=3)
            out.append((f"{rel}#{parity}{'f' if fine else ''}{'m' if moved else ''}", old, ours, patch, truth))
    return out


def sdist_root(name: str, version: str, cache: Path) -> Path:
    """The unpacked sdist of name==version, downloaded and unpacked once under ``cache``."""
    src = cache / "src" / f"{name}-{version}"
    if not src.exists():
        cache.mkdir(parents=True, exist_ok=True)
        found = [p for p in cache.glob("*.tar.gz") if p.name.lower() == f"{name}-{version}.tar.gz"]
        if not found:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                            f"{name}=={version}", "-d", str(cache)], check=True, capture_output=True)
            found = [p for p in cache.glob("*.tar.gz") if p.name.lower() == f"{name}-{version}.tar.gz"]
        tmp = Path(tempfile.mkdtemp(dir=cache))
        with tarfile.open(found[0]) as tar:
            tar.extractall(tmp, filter="data")
        (only,) = list(tmp.iterdir())
        src.parent.mkdir(parents=True, exist_ok=True)
        only.rename(src)
        shutil.rmtree(tmp)
    return src


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


def tally_cases(family_cases: List[Case], tools: Dict[str, Callable[[bytes, bytes, bytes, Path],
                Tuple[Optional[bytes], bool]]], tmp: Path) -> Dict[str, object]:
    tally = {t: {RIGHT: 0, REFUSED: 0, WRONG: 0} for t in tools}
    wrong: Dict[str, List[str]] = {t: [] for t in tools}
    for name, base, ours, patch, truth in family_cases:
        for tool, fn in tools.items():
            verdict = judge(*fn(base, ours, patch, tmp), truth)
            tally[tool][verdict] += 1
            if verdict == WRONG:
                wrong[tool].append(name)
    return {"cases": len(family_cases), "tally": tally, "wrong": wrong}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", default="1.1.7")
    ap.add_argument("--new", default="1.1.22")
    ap.add_argument("--projects", default="all", help="all, none, or a comma-separated list of: "
                    + ", ".join(p[0] for p in PROJECTS))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cache = default_cache(ROOT)
    roots = [Upstream(Pin("pypi", f"f5-tts=={v}"), cache).ensure_pristine() for v in (args.old, args.new)]
    families = {f"F5-TTS {args.old} -> {args.new}, coarse": cases(*roots),
                f"F5-TTS {args.old} -> {args.new}, fine": cases(*roots, fine=True),
                f"F5-TTS {args.old} -> {args.new}, moved": cases(*roots, moved=True)}
    wanted = {p[0] for p in PROJECTS} if args.projects == "all" else \
        set() if args.projects == "none" else set(args.projects.split(","))
    for name, old, new in PROJECTS:
        if name not in wanted:
            continue
        pair = [sdist_root(name, v, cache / "bench") for v in (old, new)]
        families[f"{name} {old} -> {new}, coarse"] = cases(*pair, suffixes=DOCS)
        families[f"{name} {old} -> {new}, fine"] = cases(*pair, fine=True, suffixes=DOCS)
        families[f"{name} {old} -> {new}, moved"] = cases(*pair, suffixes=DOCS, moved=True)
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
            report[family] = tally_cases(family_cases, tools, Path(tmp))
    total = {t: {v: sum(r["tally"][t][v] for r in report.values()) for v in (RIGHT, REFUSED, WRONG)}  # type: ignore[index]
             for t in tools}
    if args.json:
        print(json.dumps({"families": report, "total": total}, indent=1))
        return 0
    for family, rep in list(report.items()) + [("all", {"cases": sum(int(r["cases"]) for r in report.values()),  # type: ignore[call-overload]
                                                         "tally": total})]:
        print(f"{rep['cases']} drift cases, {family}; right answer known")
        print(f"  {'tool':22} {'right':>6} {'refused':>8} {'WRONG':>6}")
        for tool, t in rep["tally"].items():  # type: ignore[attr-defined]
            print(f"  {tool:22} {t[RIGHT]:6d} {t[REFUSED]:8d} {t[WRONG]:6d}")
        for tool, names in rep.get("wrong", {}).items():  # type: ignore[attr-defined]
            if names:
                print(f"    {tool} WRONG: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
