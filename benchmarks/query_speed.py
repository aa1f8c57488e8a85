#!/usr/bin/env python3
"""The shell-prompt queries, f5quilt vs GNU quilt in the same run: `applied`, `top`,
`series` on a 2,000-patch series with 1,000 applied (the state pushed by f5quilt and read by
both). f5quilt runs twice: in quilt mode (no settings, the quiltrc sourced as quilt does) and
in a copy of the tree with an f5quilt.yaml (`tree: .` and a pin; a pop and a push there
after it, as in a project, so the queries find the prompt record). Prints each command's
median wall time over --runs, its fastest and slowest run, and the ratio f5quilt / quilt
(target: within 2x of `quilt applied`: the slowest of the three against it is printed
last); also the interpreter's own start-up (`python -c pass`), the floor under
any Python program. Every output is compared with quilt's.

The f5quilt runs use this checkout's code (PYTHONPATH; the file it imports is printed) with
Python's bytecode cache on (PYTHONDONTWRITEBYTECODE dropped for them: compiling would be
timed otherwise).

    python benchmarks/query_speed.py [--patches 2000] [--runs 15]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parent.parent


def build(tree: Path, n: int) -> None:
    (tree / "patches").mkdir(parents=True)
    names = []
    for i in range(1, n + 1):
        name = f"{i:04d}-change.diff"
        (tree / "patches" / name).write_text(
            f"--- /dev/null\n+++ b/files/f{i}.txt\n@@ -0,0 +1 @@\n+line {i}\n")
        names.append(name)
    (tree / "patches" / "series").write_text("".join(f"{x}\n" for x in names))


def timed(cmds: List[Tuple[List[str], Path]], runs: int, env: dict) -> List[Tuple[List[float], str]]:
    """Each command (in its folder) run ``runs`` times, taking turns (a load that comes and goes
    on a shared machine falls on all of them): its wall times and its last stdout."""
    times: List[List[float]] = [[] for _ in cmds]
    outs = [""] * len(cmds)
    for _ in range(runs):
        for i, (cmd, cwd) in enumerate(cmds):
            t0 = time.perf_counter()
            r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
            times[i].append(time.perf_counter() - t0)
            outs[i] = r.stdout
    return list(zip(times, outs))


def shown(times: List[float]) -> str:
    return f"{statistics.median(times):.3f} ({min(times):.3f}-{max(times):.3f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patches", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    if shutil.which("quilt") is None:
        print("GNU quilt is not installed", file=sys.stderr)
        return 1
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", LC_ALL="C")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    f5 = [sys.executable, "-m", "f5quilt"]
    where = subprocess.run([sys.executable, "-c", "import f5quilt; print(f5quilt.__file__)"], env=env,
                           capture_output=True, text=True, check=True, cwd=tempfile.gettempdir()).stdout.strip()
    print(f"f5quilt from {where}")
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        build(tree, args.patches)
        subprocess.run(f5 + ["push", "-q", str(args.patches // 2)], cwd=tree, env=env, check=True,
                       capture_output=True)
        settled = Path(tmp) / "settled"
        shutil.copytree(tree, settled, symlinks=True)
        settings = settled / "f5quilt.yaml"
        settings.write_text(
            "tree: .\nupstream:\n  pypi: f5-tts==1.1.22\n"
            "  sha256: c4d86a8bb74836165a93ca91747cd1b75bb2105a37b96ffe6c083f0f0ce7dbdd\n")
        # as in a project, the settings were written well before the last command that
        # committed (whose prompt record the queries read: a record made within 2 s of the
        # settings' last change is not trusted)
        past = settings.stat().st_mtime - 60
        os.utime(settings, (past, past))
        for step in (["pop", "-q"], ["push", "-q"]):
            subprocess.run(f5 + step, cwd=settled, env=env, check=True, capture_output=True)
        [(floor, _)] = timed([([sys.executable, "-c", "pass"], tree)], args.runs, env)
        print(f"{args.patches} patches, {args.patches // 2} applied; seconds, median (fastest-slowest) "
              f"of {args.runs} runs")
        print(f"{'command':<8} {'quilt':>20} {'f5quilt, quilt mode':>22} {'ratio':>6} "
              f"{'f5quilt.yaml':>22} {'ratio':>6}")
        ok, quilt_top, quilt_applied, worst = True, 0.0, 0.0, [0.0, 0.0]
        for query in (["applied"], ["top"], ["series"]):
            (tq, oq), (tf, of), (ty, oy) = timed(
                [(["quilt"] + query, tree), (f5 + query, tree), (f5 + query, settled)], args.runs, env)
            same = "" if oq == of == oy else "  (outputs differ)"
            ok = ok and oq == of == oy
            q = statistics.median(tq)
            quilt_top = q if query == ["top"] else quilt_top
            quilt_applied = q if query == ["applied"] else quilt_applied
            worst = [max(worst[0], statistics.median(tf)), max(worst[1], statistics.median(ty))]
            print(f"{' '.join(query):<8} {shown(tq):>20} {shown(tf):>22} {statistics.median(tf) / q:6.2f} "
                  f"{shown(ty):>22} {statistics.median(ty) / q:6.2f}{same}")
        print(f"slowest of the three against quilt applied: quilt mode {worst[0] / quilt_applied:.2f}, "
              f"f5quilt.yaml {worst[1] / quilt_applied:.2f} (target: within 2x)")
        print(f"python -c pass: {shown(floor)}, {statistics.median(floor) / quilt_top:.2f} of quilt top's "
              "(the interpreter's start-up alone)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
