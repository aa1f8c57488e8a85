"""Fixtures shared by the tests (helpers live in helpers.py)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from helpers import ROOT, Runner

# CI's runs draw the same examples every time (HYPOTHESIS_PROFILE=ci, set by .ci/run): a red run
# is a change's doing, not the dice's. Exploring is local: without the profile each run draws new
# examples (F5QUILT_FUZZ_EXAMPLES=N draws more), and what it finds becomes an @example.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_report_header(config: pytest.Config) -> str:
    """Free disk where the tests write (their tmp folders, the download cache): a run that fills the disk
    fails at random fixtures, and this line says why."""
    import shutil
    import tempfile
    cache = Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache"))
    places = {"tmp": Path(tempfile.gettempdir()), "cache": cache if cache.exists() else ROOT}
    return "free disk: " + ", ".join(f"{k} {shutil.disk_usage(v).free / 2**30:.1f} GiB" for k, v in places.items())


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setenv("NO_COLOR", "1")
    return Runner(capsys, monkeypatch)


@pytest.fixture(scope="session")
def debian_trees() -> Path:
    """The Debian source trees with long or odd series (benchmarks/push_pop_vs_quilt.py's
    fetch: same packages, same cache, $F5QUILT_CACHE or .cache/), fetched once a session."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from push_pop_vs_quilt import fetch
    return fetch(Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve())


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A folder outside every project a test builds: nothing f5quilt does may touch it."""
    c = tmp_path / "canary"
    c.mkdir()
    (c / "precious").write_text("keep me\n")
    return c
