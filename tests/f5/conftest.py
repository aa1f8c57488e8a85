"""Fixtures for the F5-TTS payload tests.

f5_trees (session): (pristine_root, patched_root), two F5-TTS 1.1.22 source trees: the pin of
f5quilt.yaml as released, and the tree `python -m f5quilt push -a` makes of it. The sdist is
downloaded once into $F5QUILT_CACHE (default <repo>/.cache).

The F5-TTS code runs in subprocesses (f5_harness.py) under $F5QUILT_F5_PYTHON (default: this
interpreter), an interpreter with torch, torchaudio, vocos and F5-TTS's other dependencies; the
pytest process itself needs none of them.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


F5_VERSION = "1.1.22"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PATCHES = REPO / "patches"
HARNESS = HERE / "f5_harness.py"


def pytest_configure(config):
    config.addinivalue_line("markers", "f5: F5-TTS payload tests (patched vs pristine F5-TTS, needs torch)")


def cache_dir() -> Path:
    return Path(os.environ.get("F5QUILT_CACHE", REPO / ".cache"))


def f5_python() -> str:
    return os.environ.get("F5QUILT_F5_PYTHON", sys.executable)


def build_f5_trees(work: Path, upto: str | None = None):
    """Pristine: the pin materialized by f5quilt. Patched: `python -m f5quilt push -a` of patches/series
    (a copy, in the project push writes in; up to the patch whose name starts with upto, if given) into a fresh
    tree (fetched by push itself), with an offset or fuzz treated as an error."""
    import yaml

    from f5quilt.repo.upstream import Upstream, default_cache, parse_pin

    pin = yaml.safe_load((REPO / "f5quilt.yaml").read_text())["upstream"]
    repo = work / "repo"
    repo.mkdir()
    shutil.copytree(PATCHES, repo / "patches")  # settings' folders lie inside the project (issue 18)
    if upto is not None:
        names = (PATCHES / "series").read_text().split()
        end = next(i for i, n in enumerate(names) if n.startswith(upto))
        (repo / "patches" / "series").write_text("".join(n + "\n" for n in names[: end + 1]))
    (repo / "f5quilt.yaml").write_text(yaml.safe_dump({"tree": "patched", "patches": "patches", "upstream": pin}))
    env = dict(os.environ, F5QUILT_CACHE=str(cache_dir().resolve()), NO_COLOR="1")
    res = subprocess.run([sys.executable, "-m", "f5quilt", "push", "-a"], cwd=repo, env=env,
                         capture_output=True, text=True)
    out = res.stdout + res.stderr
    if res.returncode != 0 or "offset" in out or "fuzz" in out:
        raise RuntimeError(f"the series does not apply exactly to {pin}:\n{out}")
    up = Upstream(parse_pin(pin, REPO), default_cache(REPO) if "F5QUILT_CACHE" not in os.environ else cache_dir())
    up.materialize(work / "pristine")
    return work / "pristine", repo / "patched"


@pytest.fixture(scope="session")
def f5_trees(tmp_path_factory):
    """(pristine_root, patched_root): F5-TTS 1.1.22 as released, and with patches/series applied.

    $F5QUILT_F5_PATCHED_TREE replaces the patched tree by a tree made elsewhere: benchmarks/payload_mutants.py
    runs these tests on the series with one line of one patch broken, and each such mutant must fail a test."""
    pristine, patched = build_f5_trees(tmp_path_factory.mktemp("f5trees"))
    return pristine, Path(os.environ.get("F5QUILT_F5_PATCHED_TREE", patched))


@pytest.fixture(scope="session")
def f5_run(tmp_path_factory):
    """run(tree, scenarios) -> {name: result}: runs f5_harness.py in a subprocess importing from tree."""
    probe = subprocess.run([f5_python(), "-c", "import torch, torchaudio, vocos, soundfile, torchdiffeq"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        if os.environ.get("F5QUILT_REQUIRE_F5"):  # CI: a missing stack is a failure, not a skip
            pytest.fail(f"{f5_python()} lacks F5-TTS's dependencies: {probe.stderr[-300:]}")
        pytest.skip(f"{f5_python()} lacks F5-TTS's dependencies (set F5QUILT_F5_PYTHON): {probe.stderr[-300:]}")
    work = tmp_path_factory.mktemp("f5run")
    counter = [0]

    def run(tree, scenarios, timeout=600):
        counter[0] += 1
        job = work / f"job{counter[0]}.json"
        out = work / f"out{counter[0]}.json"
        job.write_text(json.dumps(scenarios))
        # torch.compile's cache lives in this session's folder (pytest removes it), not in /tmp for ever
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", TORCHINDUCTOR_CACHE_DIR=str(work / "inductor"))
        res = subprocess.run([f5_python(), str(HARNESS), str(tree), str(job), str(out)], capture_output=True,
                             text=True, timeout=timeout, cwd=work, env=env)
        if res.returncode != 0:
            raise RuntimeError(f"harness failed (rc {res.returncode}) on {tree}:\n{res.stdout[-3000:]}\n{res.stderr[-6000:]}")
        return json.loads(out.read_text())

    return run


@pytest.fixture(scope="session")
def ref_wavs(tmp_path_factory, f5_run):
    """Reference clips: mono 24 kHz, and stereo 44.1 kHz (downmix + resample path); mono_b, another voice of
    mono's length; voice, a copy of mono that a test rewrites with mono_b's bytes between two calls."""
    d = tmp_path_factory.mktemp("refs")
    code = (
        "import sys; sys.path.insert(0, %r); import f5_harness as h; "
        "h.write_ref_wav(%r); h.write_ref_wav(%r, sr=44100, channels=2, seed=1, seconds=1.2); "
        "h.write_ref_wav(%r, seed=3); h.write_ref_wav(%r)"
        % (str(HERE), str(d / "mono.wav"), str(d / "stereo.wav"), str(d / "mono_b.wav"), str(d / "voice.wav"))
    )
    subprocess.run([f5_python(), "-c", code], check=True)
    return {"mono": str(d / "mono.wav"), "stereo": str(d / "stereo.wav"), "mono_b": str(d / "mono_b.wav"),
            "voice": str(d / "voice.wav"), "dir": d}
