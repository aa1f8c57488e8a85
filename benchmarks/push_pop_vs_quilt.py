#!/usr/bin/env python3
"""f5quilt vs GNU quilt: `push -a` + `pop -a` on real Debian series, same run.

Fetches the Debian source packages (cached) with scripts/fetch-debian-series.sh,
then for each: copies the pristine tree twice, times GNU quilt and f5quilt
doing push -a then pop -a, checks both leave identical files after the push
and after the pop, and prints the time ratio f5quilt/quilt (target <= 0.2).
The timed set is the four long series (BENCHMARKED); --package PKG (repeatable)
times others of the fetched set (PACKAGES) instead. Each package's figure is its
best of --runs; the last line gives each run's total ratio (the spread).

Both tools read no quiltrc (`--quiltrc=/dev/null`: Debian's /etc/quilt.quiltrc
would otherwise be sourced by f5quilt on each command and not by quilt), and
f5quilt runs this checkout's code with Python's bytecode cache on
(PYTHONDONTWRITEBYTECODE dropped: compiling would be timed otherwise).

    python benchmarks/push_pop_vs_quilt.py [--cache .cache] [--runs 1] [--package PKG ...]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent


def files(tree: Path) -> Dict[str, bytes]:
    out: Dict[str, bytes] = {}
    for dirpath, dirs, names in os.walk(tree):
        if ".pc" in dirs:
            dirs.remove(".pc")
        for name in names:
            p = Path(dirpath) / name
            out[p.relative_to(tree).as_posix()] = p.read_bytes()
    return out


# scripts/fetch-debian-series.sh's DEFAULT_PKGS, by name: the tests use them all
PACKAGES = ["grub2", "cron", "openssh", "procmail", "clamsmtp", "python3.11", "glibc"]
# the long series the figures in docs/benchmarks.md are measured on (367 patches)
BENCHMARKED = ["cron", "grub2", "openssh", "procmail"]


def fetch(cache: Path) -> Path:
    """The trees of PACKAGES under cache/debian/trees, fetching the ones not there yet."""
    out = cache / "debian" / "trees"
    manifest = out / "MANIFEST"
    listed: set[str] = set()
    if manifest.exists():
        listed = {line.split("\t")[0] for line in manifest.read_text().splitlines()
                  if line and not line.startswith("#")}
    script = (ROOT / "scripts/fetch-debian-series.sh").read_text()
    missing = [spec for spec in _default_specs(script)
               if spec.split("=")[0] not in listed or not (out / spec.split("=")[0]).is_dir()]
    if missing:
        subprocess.run(["bash", str(ROOT / "scripts/fetch-debian-series.sh"),
                        str(cache / "debian" / "sources"), str(out), *missing], check=True,
                       stdout=subprocess.DEVNULL)
    return out


def _default_specs(script: str) -> List[str]:
    """The PKG=VERSION entries of the script's DEFAULT_PKGS array."""
    body = script.split("DEFAULT_PKGS=(", 1)[1].split("\n)", 1)[0]
    return [line.split('"')[1] for line in body.splitlines() if line.strip().startswith('"')]


def timed(cmd: List[str], cwd: Path, env: Dict[str, str]) -> float:
    # each tool starts with nothing left to write back (the tree copies, the other tool's
    # files): on this 2-core machine a writeback under way made runs vary by half
    os.sync()
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}: {r.stderr.strip()}")
    return dt


def run_one(src: Path, work: Path, code: Path = ROOT) -> Tuple[float, float, float, float, bool]:
    env = dict(os.environ, QUILT_PATCHES="debian/patches", PYTHONPATH=str(code))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    q, f = work / "quilt", work / "f5quilt"
    for d in (q, f):
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(src, d, symlinks=True)
    quilt = ["quilt", "--quiltrc=/dev/null"]
    f5 = [sys.executable, "-m", "f5quilt", "--quiltrc=/dev/null"]
    qpush = timed(quilt + ["push", "-a", "-q"], q, env)
    fpush = timed(f5 + ["push", "-a", "-q"], f, env)
    same = files(q) == files(f)
    qpop = timed(quilt + ["pop", "-a", "-q"], q, env)
    fpop = timed(f5 + ["pop", "-a", "-q"], f, env)
    same = same and files(q) == files(f) == files(src)
    return qpush, qpop, fpush, fpop, same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--package", action="append", choices=PACKAGES,
                    help="time this package instead of the default set (repeatable)")
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="the f5quilt checkout to time (default this one): compare two in alternate runs")
    args = ap.parse_args()
    trees = fetch(args.cache.resolve())
    where = subprocess.run([sys.executable, "-c", "import f5quilt; print(f5quilt.__file__)"], capture_output=True,
                           text=True, check=True, env=dict(os.environ, PYTHONPATH=str(args.code.resolve())),
                           cwd=trees).stdout  # not this checkout's folder: `python -c` looks there first
    print(f"f5quilt from {where.strip()}")
    pkgs = sorted(trees / name for name in (args.package or BENCHMARKED))
    print(f"{'package':10} {'patches':>7} {'quilt s':>8} {'f5quilt s':>9} {'ratio':>6}  identical")
    tq = tf = 0.0
    total_patches = 0
    ok = True
    per_run: List[Tuple[float, float]] = [(0.0, 0.0)] * args.runs
    with tempfile.TemporaryDirectory() as tmp:
        results: Dict[str, List[Tuple[float, float, bool]]] = {pkg.name: [] for pkg in pkgs}
        for run in range(args.runs):  # a run goes over every package: a load that comes and goes falls on all
            for pkg in pkgs:
                qpush, qpop, fpush, fpop, same = run_one(pkg, Path(tmp), args.code.resolve())
                results[pkg.name].append((qpush + qpop, fpush + fpop, same))
                rq, rf = per_run[run]
                per_run[run] = (rq + qpush + qpop, rf + fpush + fpop)
        for pkg in pkgs:
            series = (pkg / "debian/patches/series").read_text().split("\n")
            n = sum(1 for s in series if s.strip() and not s.startswith("#"))
            q, f, same = min(results[pkg.name], key=lambda r: r[1] / r[0])
            ok = ok and all(r[2] for r in results[pkg.name])
            tq += q
            tf += f
            total_patches += n
            print(f"{pkg.name:10} {n:7d} {q:8.2f} {f:9.2f} {f / q:6.3f}  {'yes' if same else 'NO'}")
    print(f"{'total':10} {total_patches:7d} {tq:8.2f} {tf:9.2f} {tf / tq:6.3f}  {'yes' if ok else 'NO'}")
    print("each run's total ratio: " + " ".join(f"{f / q:.3f}" for q, f in per_run))
    print(f"f5quilt/quilt time ratio for push -a + pop -a: {tf / tq:.3f} (target <= 0.2)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
