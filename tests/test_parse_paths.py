"""model/patch.py reads a hunk's lines two ways: from the raw bytes at the place unidiff's
counts give (unidiff parsed ``metadata_only``, the fast path: a third less time on glibc's
series), or from unidiff's own line objects (the fallback when the two disagree). Both must
give the same patch, or the same one-line error, for every input: the patches of the test
data, odd hand-made ones, and random hunks (hypothesis)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from f5quilt.errors import F5QuiltError
from f5quilt.model import patch as P

ROOT = Path(__file__).resolve().parent.parent


def _both(data: bytes, lenient: bool, monkeypatch: pytest.MonkeyPatch) -> Tuple[object, object]:
    def outcome() -> object:
        try:
            return repr(P.parse_patch(data, "p.diff", lenient))
        except F5QuiltError as exc:
            return ("error", type(exc).__name__, str(exc))
    fast = outcome()
    with monkeypatch.context() as m:
        def disagree(*_a: object, **_k: object) -> List[P.Hunk]:
            raise P._Disagree()
        m.setattr(P, "_raw_hunks", disagree)
        full = outcome()
    return fast, full


ODD = [
    b"--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n",
    b"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n\n\\ No newline at end of file\n",
    b"--- a/x\r\n+++ b/x\r\n@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+c\r\n\r\n",
    b"--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ Kein Zeilenumbruch\n",
    b"--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n\rfoo\n-b\n+c\n",
    b"--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n+d\n",
    b"--- a/x\n+++ b/x\n@@ -1,3 +1,2 @@\n a\n-b\n+c\n",
    b"desc\n@@ -1 +1 @@ in text\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-b\n+c\n@@ -5 +5 @@\n-b\n+c\n",
    b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-b\n+c\n\\ No newline at end of file\n\\ No newline at end of file\n",
    b"--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n\\ No newline at end of file\n a\n-b\n+c\n",
    b"diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-b\n+c\n"
    b"diff --git a/y b/y\nnew file mode 100644\n--- /dev/null\n+++ b/y\n@@ -0,0 +1 @@\n+n\n",
]


def _corpus() -> List[Path]:
    out = [p for p in sorted((ROOT / "tests/data").rglob("*")) if p.is_file()
           and p.suffix in (".diff", ".patch")]
    return out + sorted((ROOT / "patches").glob("*.patch"))


@pytest.mark.parametrize("lenient", [False, True])
def test_both_ways_agree_on_the_corpus_and_odd_patches(lenient: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = [p.read_bytes() for p in _corpus()] + ODD
    assert len(inputs) > len(ODD)
    for data in inputs:
        fast, full = _both(data, lenient, monkeypatch)
        assert fast == full, data[:200]


BODY = st.sampled_from([b" a\n", b"-b\n", b"+c\n", b"\n", b"\r\n", b" a\r\n",
                        b"\\ No newline at end of file\n", b"\\ other\n", b"x garbage\n", b"\rz\n"])


@settings(max_examples=300, deadline=None)
@given(hunks=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.lists(BODY, max_size=8)),
                      min_size=1, max_size=3),
       tail=st.lists(BODY, max_size=3), lenient=st.booleans())
def test_both_ways_agree_on_random_hunks(hunks: List[Tuple[int, int, List[bytes]]], tail: List[bytes],
                                         lenient: bool) -> None:
    data = b"--- a/x\n+++ b/x\n"
    for start, (old, new, body) in enumerate(hunks):
        data += b"@@ -%d,%d +%d,%d @@\n" % (start * 10 + 1, old, start * 10 + 1, new) + b"".join(body)
    data += b"".join(tail)
    with pytest.MonkeyPatch.context() as mp:
        fast, full = _both(data, lenient, mp)
    assert fast == full, data
