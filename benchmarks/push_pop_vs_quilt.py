#!/usr/bin/env python3
"""f5quilt vs GNU quilt: `push -a` + `pop -a` on real Debian series, same run.

Fetches the Debian source packages (cached) with scripts/fetch-debian-series.sh,
then for each: copies the pristine tree twice, times GNU quilt and f5quilt
doing push -a then pop -a, checks both leave identical files after the push
and after the pop, and prints the time ratio f5quilt/quilt (target <= 0.2).
The timed set is the four long series (BENCHMARKED); --package PKG (repeatable)
times others of the fetched set (PACKAGES) instead.

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
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}: {r.stderr.strip()}")
    return dt


def run_one(src: Path, work: Path) -> Tuple[float, float, float, float, bool]:
    env = dict(os.environ, QUILT_PATCHES="debian/patches", PYTHONPATH=str(ROOT))
    q, f = work / "quilt", work / "f5quilt"
    for d in (q, f):
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(src, d, symlinks=True)
    quilt = ["quilt", "--quiltrc=/dev/null"]
    f5 = [sys.executable, "-m", "f5quilt"]
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
    args = ap.parse_args()
    trees = fetch(args.cache.resolve())
    pkgs = sorted(trees / name for name in (args.package or BENCHMARKED))
    print(f"{'package':10} {'patches':>7} {'quilt s':>8} {'f5quilt s':>9} {'ratio':>6}  identical")
    tq = tf = 0.0
    total_patches = 0
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in pkgs:
            series = (pkg / "debian/patches/series").read_text().split("\n")
            n = sum(1 for s in series if s.strip() and not s.startswith("#"))
            best = None
            for _ in range(args.runs):
                qpush, qpop, fpush, fpop, same = run_one(pkg, Path(tmp))
                q, f = qpush + qpop, fpush + fpop
                if best is None or f / q < best[1] / best[0]:
                    best = (q, f, same)
            assert best is not None
            q, f, same = best
            ok = ok and same
            tq += q
            tf += f
            total_patches += n
            print(f"{pkg.name:10} {n:7d} {q:8.2f} {f:9.2f} {f / q:6.3f}  {'yes' if same else 'NO'}")
    print(f"{'total':10} {total_patches:7d} {tq:8.2f} {tf:9.2f} {tf / tq:6.3f}  {'yes' if ok else 'NO'}")
    print(f"f5quilt/quilt time ratio for push -a + pop -a: {tf / tq:.3f} (target <= 0.2)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
