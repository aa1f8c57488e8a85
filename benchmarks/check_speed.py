#!/usr/bin/env python3
"""`f5quilt check` wall time (interpreter start included) vs `git apply --check`.

Both check the same series against the same pristine release (the cached
pin); the figure to read is the ratio, and f5quilt's absolute wall time
against the 0.5 s budget of a pre-commit hook.

    python benchmarks/check_speed.py [--runs 10]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wall(cmd: List[str], cwd: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {r.stdout}{r.stderr}")
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    from f5quilt.repo.settings import load_settings
    from f5quilt.repo.workspace import Workspace
    ws = Workspace.open(load_settings(ROOT))
    up = ws.upstream()
    assert up is not None, "f5quilt.yaml pins no upstream"
    pristine = up.ensure_pristine()
    patches = [str(ws.patch_file(n)) for n in ws.series.names]
    f5 = wall([sys.executable, "-m", "f5quilt", "check", "--strict"], ROOT, args.runs)
    ga = wall(["git", "apply", "--check", *patches], pristine, args.runs)
    print(f"series: {len(patches)} patches against {up.pin.describe()}, median of {args.runs} runs")
    print(f"f5quilt check --strict : {f5 * 1000:7.1f} ms wall (budget 500 ms)")
    print(f"git apply --check      : {ga * 1000:7.1f} ms wall")
    print(f"ratio f5quilt/git apply: {f5 / ga:.2f}")
    return 0 if f5 <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
