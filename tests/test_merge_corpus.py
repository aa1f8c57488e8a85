"""The merge bar on real drift with a known right answer (benchmarks/merge_vs_peers.py):
f5quilt lands more cases right than git apply --3way and wiggle, and none wrong; also
when upstream moved the second half of each file first ("moved")."""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import merge_vs_peers as mvp  # noqa: E402

pytestmark = [pytest.mark.slow_network,
              pytest.mark.skipif(shutil.which("wiggle") is None, reason="wiggle not installed (.ci/run installs it)")]


@pytest.mark.parametrize("fine,moved", [(False, False), (True, False), (False, True)],
                         ids=["coarse", "fine", "moved"])
def test_f5quilt_merges_more_right_and_never_wrong(fine: bool, moved: bool) -> None:
    from f5quilt.repo.upstream import Pin, Upstream, default_cache
    cache = default_cache(ROOT)
    roots = [Upstream(Pin("pypi", f"f5-tts=={v}"), cache).ensure_pristine() for v in ("1.1.7", "1.1.22")]
    cases = mvp.cases(*roots, fine=fine, moved=moved)
    assert len(cases) >= 40
    tally = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tool, fn in (("f5quilt", mvp.run_f5quilt), ("git", mvp.run_git_3way), ("wiggle", mvp.run_wiggle)):
            verdicts = [mvp.judge(*fn(base, ours, patch, Path(tmp)), truth) for _n, base, ours, patch, truth in cases]
            tally[tool] = {v: verdicts.count(v) for v in (mvp.RIGHT, mvp.REFUSED, mvp.WRONG)}
    assert tally["f5quilt"][mvp.WRONG] == 0, tally
    assert tally["f5quilt"][mvp.RIGHT] >= tally["git"][mvp.RIGHT], tally
    assert tally["f5quilt"][mvp.RIGHT] > tally["wiggle"][mvp.RIGHT], tally
    if fine or moved:
        assert tally["f5quilt"][mvp.RIGHT] > tally["git"][mvp.RIGHT], tally
    if moved:  # sections moved: the hunk-scoped merge lands what a whole-file diff3 cannot
        assert tally["f5quilt"][mvp.RIGHT] >= 50 and tally["wiggle"][mvp.WRONG] > 0, tally
