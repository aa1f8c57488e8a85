"""Real upstream drift: a series written against F5-TTS 1.1.7, rebased onto 1.1.22.

Between those releases upstream refactored infer_batch_process (process_batch
became _infer_basic + infer_single_process), so some patches merge, some
conflict, one lands at an offset and one is already contained upstream.
The sdists come from PyPI once and are cached in $F5QUILT_CACHE (.cache/).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from helpers import ROOT, Runner, snapshot

pytestmark = pytest.mark.slow_network

DATA = ROOT / "tests/data/f5-1.1.7-series"
SHA_117 = "3840a31b23ef0f73c3cc738e92db0174dd815de2c639e2829490f3af06fd79aa"
SHA_1122 = "c4d86a8bb74836165a93ca91747cd1b75bb2105a37b96ffe6c083f0f0ce7dbdd"
CONFLICT = re.compile(r"<<<<<<< [^\n]*\n(?P<ours>.*?)\|\|\|\|\|\|\| [^\n]*\n.*?=======\n.*?>>>>>>> [^\n]*\n", re.S)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("F5QUILT_CACHE", str(Path(os.environ.get("F5QUILT_CACHE", ROOT / ".cache")).resolve()))
    repo = tmp_path / "repo"
    shutil.copytree(DATA, repo / "patches")
    (repo / "f5quilt.yaml").write_text(
        f"tree: third_party/F5-TTS\npatches: patches\nupstream:\n  pypi: f5-tts==1.1.7\n  sha256: {SHA_117}\n")
    return repo


def test_rebase_117_series_onto_1122(repo: Path, run: Runner) -> None:
    rc, out, err = run(repo, "push", "-a")
    assert rc == 0, out + err
    before = snapshot(repo)
    utils = repo / "third_party/F5-TTS/src/f5_tts/infer/utils_infer.py"

    rc, out, err = run(repo, "rebase", "--onto", "f5-tts==1.1.22")
    assert rc == 3, out + err
    assert "Hunk #2 merged at line level (3-way)." in out          # 01: drifted context, merged
    assert "Refreshed patch patches/01-ref-audio-tensor-cache.patch" in out
    assert "Conflicts in third_party/F5-TTS/src/f5_tts/infer/utils_infer.py while rebasing patches/02-autocast.patch" in err
    assert "<<<<<<< src/f5_tts/infer/utils_infer.py (tree)" in utils.read_text()
    assert (repo / "patches/02-autocast.patch").read_bytes() == (DATA / "02-autocast.patch").read_bytes()

    # abort: old pin, old tree, old patches, byte for byte
    rc, out, err = run(repo, "rebase", "--abort")
    assert rc == 0, out + err
    assert snapshot(repo) == before

    # again; resolve 02 by keeping upstream's side of the conflict, continue
    assert run(repo, "rebase", "--onto", "f5-tts==1.1.22")[0] == 3
    utils.write_text(CONFLICT.sub(lambda m: m.group("ours"), utils.read_text()))
    rc, out, err = run(repo, "rebase", "--continue")
    assert rc == 3, out + err   # 03 conflicts next (the refactored per-batch code)
    assert "Refreshed patch patches/02-autocast.patch" in out
    assert "while rebasing patches/03-skip-spectrogram.patch" in err
    rc, out, err = run(repo, "rebase", "--skip")
    assert rc == 0, out + err   # 04 lands at an offset and is refreshed; 05 is already upstream: dropped
    assert "Refreshed patch patches/04-docstring-note.patch" in out
    assert "Patch patches/05-already-upstream.patch is contained in f5-tts==1.1.22" in out

    settings = (repo / "f5quilt.yaml").read_text()
    assert f"pypi: f5-tts==1.1.22\n  sha256: {SHA_1122}\n" in settings
    assert (repo / "patches/series").read_text().split() == [
        "01-ref-audio-tensor-cache.patch", "02-autocast.patch", "04-docstring-note.patch"]
    assert (repo / ".f5quilt/dropped/03-skip-spectrogram.patch").exists()  # skipped: moved out
    assert not (repo / "patches/05-already-upstream.patch").exists()
    rc, out, err = run(repo, "check", "--strict")
    assert rc == 0, out + err
    assert "torch.autocast" in (repo / "patches/02-autocast.patch").read_text()
    assert run(repo, "pop", "-a")[0] == 0
    assert run(repo, "check", "--tree")[0] == 0  # the tree is pristine 1.1.22 again


def test_check_onto_forecasts_the_rebase_without_a_tree(repo: Path, run: Runner) -> None:
    import json
    rc, out, err = run(repo, "check", "--onto", "f5-tts==1.1.22", "--json")
    assert rc == 1
    states = {p["patch"]: p["status"] for p in json.loads(out)["patches"]}
    assert states == {"01-ref-audio-tensor-cache.patch": "merge", "02-autocast.patch": "conflict",
                      "03-skip-spectrogram.patch": "conflict", "04-docstring-note.patch": "offset",
                      "05-already-upstream.patch": "contained"}
    merged = next(p for p in json.loads(out)["patches"] if p["status"] == "merge")
    assert [h["merge"] for h in merged["hunks"] if "merge" in h] == ["line"]
    assert not (repo / "third_party").exists()
    assert run(repo, "check", "--strict")[0] == 0  # against its own pin the series is exact


def test_rebase_replays_a_resolution_recorded_before_an_abort(repo: Path, run: Runner) -> None:
    """rerere: 02's conflict resolved and recorded (rebase --continue refreshes it), the
    rebase aborted; the next rebase meets the same conflict and resolves it the same way,
    says so, and stops there for review."""
    assert run(repo, "push", "-a")[0] == 0
    utils = repo / "third_party/F5-TTS/src/f5_tts/infer/utils_infer.py"
    assert run(repo, "rebase", "--onto", "f5-tts==1.1.22")[0] == 3
    # resolve 02 by hand: upstream's side, plus the patch's autocast note
    resolved = CONFLICT.sub(lambda m: m.group("ours") + "    # autocast: resolved by hand\n", utils.read_text())
    utils.write_text(resolved)
    rc, out, err = run(repo, "rebase", "--continue")
    assert rc == 3, out + err
    assert "Recorded 1 conflict resolution of patches/02-autocast.patch (rerere)" in out
    assert "while rebasing patches/03-skip-spectrogram.patch" in err
    assert run(repo, "rebase", "--abort")[0] == 0
    assert "patches/02-autocast.patch: src/f5_tts/infer/utils_infer.py" in run(repo, "rerere", "status")[1]

    rc, out, err = run(repo, "rebase", "--onto", "f5-tts==1.1.22")
    assert rc == 3, out + err
    assert "Resolved 1 conflict in third_party/F5-TTS/src/f5_tts/infer/utils_infer.py using a previous resolution (rerere)" in out
    assert "while rebasing patches/02-autocast.patch were resolved as before (rerere); review them." in err
    assert utils.read_text() == resolved
    assert "conflicts: patches/02-autocast.patch: conflicts in" in run(repo, "status")[1]  # marked for review
    rc, out, err = run(repo, "rebase", "--continue")
    assert rc == 3, out + err   # reviewed: on to 03, as before
    assert "Refreshed patch patches/02-autocast.patch" in out
    assert "while rebasing patches/03-skip-spectrogram.patch" in err
    assert "# autocast: resolved by hand" in (repo / "patches/02-autocast.patch").read_text()
    # forgotten: the conflict comes back
    assert run(repo, "rebase", "--abort")[0] == 0
    assert run(repo, "rerere", "forget", "02-autocast.patch")[0] == 0
    rc, out, err = run(repo, "rebase", "--onto", "f5-tts==1.1.22")
    assert rc == 3 and "previous resolution" not in out and "<<<<<<<" in utils.read_text()
