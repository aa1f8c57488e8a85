"""Mutation check of the F5-TTS payload's tests: break the one line that matters in a patch, the tests must fail.

Usage (from the repository root; the F5 stack as for tests/f5):
    F5QUILT_F5_PYTHON=.venv-f5/bin/python python3 benchmarks/payload_mutants.py [--only NAME ...] [--list]

The script builds the patched tree once (`python -m f5quilt push -a` of patches/series onto the pin, as the
tests' fixture does), then for each mutant copies that tree, replaces one exact piece of text in one file (it
must occur exactly once, so a mutant cannot silently stop applying when the series changes), and runs
`pytest -m f5 -x` on the tests named for it with $F5QUILT_F5_PATCHED_TREE pointing at the copy. A mutant is
caught when pytest reports a failed test (or a test's fixture failing); it survives when they pass. Exit
status 1 when any survives or a run does not end in failed/passed tests (a collection error, pytest crashing).

A mutant's tests are the ones that are meant to catch it (-k selection), so the check stays within minutes on
a 2-core machine; `--all-tests` runs the whole f5 set for each mutant instead. Each selection first runs on the
unbroken tree (same prefix), where it must pass ("(unbroken) passes"); --no-baseline skips that.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
UTILS = "src/f5_tts/infer/utils_infer.py"
CFM = "src/f5_tts/model/cfm.py"
GRAPH = "src/f5_tts/infer/graph_sampler.py"
MODULES = "src/f5_tts/model/modules.py"

# name: (patch, file, text in the patched tree, its mutation, -k expression of the tests meant to catch it[, prefix])
# A prefix ("04") builds the series only up to that patch: 04's fallback clears the text cache that 07's finally
# in CFM.sample clears too, so only the series without 07 (what 04 must be right on) shows 04's line matters.
MUTANTS = {
    "01-key-without-content": (
        "01", UTILS,
        "        key = (hashlib.sha256(data).hexdigest(), float(target_rms)",
        "        key = (path, float(target_rms)",
        "cache or rewritten",
    ),
    "01-decode-file-again": (
        "01", UTILS,
        "        ref_audio = io.BytesIO(data)  # decode what was hashed",
        "        pass  # decode what was hashed",
        "cache or rewritten",
    ),
    "04-fallback-keeps-cache": (
        "04", UTILS,
        "        if clear_cache is not None:\n            clear_cache()\n",
        "        if clear_cache is not None:\n            pass\n",
        "compile_failing_in_the_warmup", "04",
    ),
    "05-replay-without-copy": (
        "05", GRAPH,
        "                for name, value in inputs.items():\n                    static[name].copy_(value)\n",
        "                for name, value in inputs.items():\n                    pass\n",
        "graph_sampler",
    ),
    "05-key-without-weights": (
        "05", GRAPH,
        "                if weights != self._weights:",
        "                if False:",
        "graph_sampler",
    ),
    "05-no-key-bias": (
        "05", GRAPH,
        "h = block(h, tt, mask=m, rope=rope, attn_bias=bias)",
        "h = block(h, tt, mask=m, rope=rope)",
        "graph_sampler",
    ),
    "05-options-ignored": (
        "05", GRAPH,
        'options = [k for k, v in other.items() if k != "t_inter" and v is not None and v is not False]',
        "options = []",
        "graph_sampler",
    ),
    "05-any-model": (
        "05", GRAPH,
        "        missing = [part for part in _DIT_PARTS if not hasattr(tr, part)]\n        if missing:",
        "        missing = [part for part in _DIT_PARTS if not hasattr(tr, part)]\n        if False:",
        "graph_sampler",
    ),
    "06-forced-off": (
        "06", MODULES,
        "        if x.dtype in (torch.float16, torch.bfloat16):",
        "        if False:",
        "depthwise",
    ),
    "06-result-left-fp32": (
        "06", MODULES,
        "            ).to(residual.dtype)",
        "            )",
        "depthwise",
    ),
    "07-forced-off": (
        "07", UTILS,
        '    return n_batches == 1 and torch.device(device).type == "cuda"\n',
        "    return False\n",
        "calling_thread",
    ),
    "07-no-finally": (
        "07", CFM,
        "        finally:\n            self.transformer.clear_cache()\n",
        "        except BaseException:\n            raise\n        self.transformer.clear_cache()\n",
        "failed_call",
    ),
}


def run(cmd, **kw):
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


def build_patched_tree(work: Path, upto: str | None = None) -> Path:
    sys.path.insert(0, str(REPO / "tests" / "f5"))
    sys.path.insert(0, str(REPO))
    os.environ["PYTHONPATH"] = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")  # this f5quilt pushes
    from conftest import build_f5_trees  # the fixture's own builder: same tree the tests use

    return build_f5_trees(work, upto)[1]


def mutate(tree: Path, into: Path, path: str, old: str, new: str) -> None:
    shutil.copytree(tree, into)
    f = into / path
    text = f.read_text()
    n = text.count(old)
    if n != 1:
        raise SystemExit(f"{path}: the mutant's text occurs {n} times in the patched tree (want 1): {old!r}")
    f.write_text(text.replace(old, new))


def outcome(res: subprocess.CompletedProcess) -> tuple[str, str]:
    out = res.stdout + res.stderr
    summary = next((ln for ln in reversed(out.splitlines()) if re.search(r"\d+ (passed|failed|error)", ln)), "")
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", out, re.M)  # a failed test, or its fixture failing
    if res.returncode == 1 and failed:
        why = next((ln[1:].strip() for ln in out.splitlines() if ln.startswith("E ")), "")
        return "caught", f"{failed[0].split('::')[-1]}: {why[:110]}"
    if res.returncode == 0:
        return "SURVIVED", summary.strip("= ")
    return "ERROR", (summary or out[-400:]).strip("= ")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", help="mutant names (default: all)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--all-tests", action="store_true", help="run every f5 test against each mutant")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip running each selection on the unbroken tree first (it must pass)")
    args = ap.parse_args()
    names = args.only or list(MUTANTS)
    if args.list:
        for name in names:
            patch, path, _, _, tests, *prefix = MUTANTS[name]
            upto = f"  on the series up to {prefix[0]}" if prefix else ""
            print(f"{name:24} patch {patch}  {path}  tests -k {tests!r}{upto}")
        return 0
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               F5QUILT_REQUIRE_F5="1")
    worst = 0
    with tempfile.TemporaryDirectory(prefix="f5mutants-") as tmp:
        work = Path(tmp)
        trees = {}
        print(f"{'mutant':24} {'patch':5} {'result':8} {'seconds':>7}  first failing test / summary")

        def pytest_on(tree, tests):
            cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "f5", "tests/f5"]
            if not args.all_tests:
                cmd += ["-k", tests]
            t0 = time.perf_counter()
            res = run(cmd, cwd=REPO, env=dict(env, F5QUILT_F5_PATCHED_TREE=str(tree)))
            return res, time.perf_counter() - t0

        baselines = set()
        for name in names:
            patch, path, old, new, tests, *prefix = MUTANTS[name]
            upto = prefix[0] if prefix else None
            if upto not in trees:
                (work / f"trees-{upto}").mkdir()
                trees[upto] = build_patched_tree(work / f"trees-{upto}", upto)
            tree = trees[upto]
            if not args.no_baseline and (upto, tests) not in baselines:
                # the same tests on the unbroken tree must pass, or a "caught" would say nothing
                baselines.add((upto, tests))
                res, dt = pytest_on(tree, tests)
                verdict, detail = outcome(res)
                ok = "passes" if verdict == "SURVIVED" else "FAILS"
                print(f"{'(unbroken, up to ' + upto + ')' if upto else '(unbroken)':24} {'':5} {ok:8} {dt:7.0f}  "
                      f"-k {tests!r}: {detail}", flush=True)
                if ok != "passes":
                    worst = 1
            into = work / name
            mutate(tree, into, path, old, new)
            res, dt = pytest_on(into, tests)
            verdict, detail = outcome(res)
            print(f"{name:24} {patch:5} {verdict:8} {dt:7.0f}  {detail}", flush=True)
            if verdict != "caught":
                worst = 1
            shutil.rmtree(into)
    return worst


if __name__ == "__main__":
    sys.exit(main())
