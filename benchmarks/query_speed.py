#!/usr/bin/env python3
"""The shell-prompt queries, f5quilt vs GNU quilt in the same run: `applied`, `top`,
`series` on a 2,000-patch series with 1,000 applied (quilt mode, the state pushed by
f5quilt and read by both). Prints each command's median wall time over --runs and the
ratio f5quilt / quilt (target: within 2x). Both outputs are compared.

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
from typing import List

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


def timed(cmd: List[str], cwd: Path, runs: int, env: dict) -> "tuple[float, str]":
    times, out = [], ""
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        out = r.stdout
    return statistics.median(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patches", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    if shutil.which("quilt") is None:
        print("GNU quilt is not installed", file=sys.stderr)
        return 1
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", LC_ALL="C")
    f5 = [sys.executable, "-m", "f5quilt"]
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        build(tree, args.patches)
        subprocess.run(f5 + ["push", "-q", str(args.patches // 2)], cwd=tree, env=env, check=True,
                       capture_output=True)
        print(f"{args.patches} patches, {args.patches // 2} applied; median of {args.runs} runs")
        print(f"{'command':<10} {'quilt s':>8} {'f5quilt s':>10} {'ratio':>6}")
        ok = True
        for query in (["applied"], ["top"], ["series"]):
            tq, oq = timed(["quilt"] + query, tree, args.runs, env)
            tf, of = timed(f5 + query, tree, args.runs, env)
            same = "" if oq == of else "  (outputs differ)"
            ok = ok and oq == of
            print(f"{' '.join(query):<10} {tq:8.3f} {tf:10.3f} {tf / tq:6.2f}{same}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
