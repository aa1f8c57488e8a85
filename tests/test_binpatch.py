"""The ``GIT binary patch`` decoder against real ``git diff --binary`` / ``git apply``.

Every patch here is written by git; every expected result is what
``git apply`` (or ``git apply -R``) makes of the same input.
"""
from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple

import pytest

from f5quilt.engine.apply import apply_patch
from f5quilt.model.binpatch import DELTA, LITERAL, BinaryHunk, apply_delta, blob_id
from f5quilt.errors import F5QuiltError, PatchFormatError
from f5quilt.model.patch import parse_patch

from helpers import git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def _bytes(seed: int, n: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(n))


def git_binary_diff(tmp: Path, old: Mapping[str, Optional[bytes]], new: Mapping[str, Optional[bytes]]) -> bytes:
    """``git diff --binary`` from the files ``old`` to the files ``new`` (None: absent)."""
    repo = tmp / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir()
    git("init", "-q", cwd=repo)
    for state in (old, new):
        for rel, data in state.items():
            path = repo / rel
            if data is None:
                if path.exists():
                    path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "--allow-empty", "-m", "state", cwd=repo)
    return subprocess.run(["git", "diff", "--binary", "HEAD~1", "HEAD"], cwd=repo,
                          capture_output=True, check=True).stdout


def git_apply(tmp: Path, files: Mapping[str, Optional[bytes]], patch: bytes,
              *args: str) -> Optional[Dict[str, Optional[bytes]]]:
    """What ``git apply ARGS`` makes of ``files`` (None when it refuses)."""
    work = tmp / "gitapply"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    for rel, data in files.items():
        if data is not None:
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).write_bytes(data)
    (tmp / "p.diff").write_bytes(patch)
    r = subprocess.run(["git", "apply", *args, str(tmp / "p.diff")], cwd=work, capture_output=True)
    if r.returncode != 0:
        return None
    return {rel: (work / rel).read_bytes() if (work / rel).exists() else None for rel in files}


def ours(files: Mapping[str, Optional[bytes]], patch: bytes, reverse: bool = False) -> Dict[str, Optional[bytes]]:
    parsed = parse_patch(patch, "p.diff")
    if reverse:
        parsed = parsed.reversed()
    res = apply_patch(parsed, lambda rel: files.get(rel))
    assert res.ok
    return {rel: (res.changes[rel].after if rel in res.changes else data) for rel, data in files.items()}


BIG = _bytes(1, 20000)
CASES: Dict[str, Tuple[Dict[str, Optional[bytes]], Dict[str, Optional[bytes]]]] = {
    # small files: git writes literal hunks
    "literal": ({"b.bin": b"hello\0world\n"}, {"b.bin": b"hello\0WORLD\nmore\n"}),
    # a few bytes changed in a large file: git writes delta hunks
    "delta": ({"b.bin": BIG}, {"b.bin": BIG[:5000] + b"\0\1\2\3" + BIG[5004:15000] + BIG[15100:]}),
    "create": ({"b.bin": None}, {"b.bin": _bytes(2, 3000)}),
    "delete": ({"b.bin": _bytes(3, 700)}, {"b.bin": None}),
    "empty to data": ({"b.bin": b""}, {"b.bin": b"\0\xff" * 40}),
    "long lines": ({"b.bin": _bytes(4, 100)}, {"b.bin": _bytes(5, 100000)}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_and_reverse_match_git_apply(tmp_path: Path, case: str) -> None:
    old, new = CASES[case]
    patch = git_binary_diff(tmp_path, old, new)
    assert b"GIT binary patch" in patch
    fwd = git_apply(tmp_path, old, patch)
    assert fwd == new  # git agrees with itself
    assert ours(old, patch) == fwd
    back = git_apply(tmp_path, new, patch, "-R")
    assert back == old
    assert ours(new, patch, reverse=True) == back


def test_git_chose_both_methods() -> None:
    # the cases above really exercise literal and delta hunks, forward and reverse
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        methods = set()
        for old, new in (CASES["literal"], CASES["delta"]):
            fp = parse_patch(git_binary_diff(Path(d), old, new), "p").files[0]
            assert fp.binary_forward is not None and fp.binary_reverse is not None
            methods |= {fp.binary_forward.method, fp.binary_reverse.method}
    assert methods == {LITERAL, DELTA}


def test_index_ids_are_blob_ids(tmp_path: Path) -> None:
    old, new = CASES["delta"]
    fp = parse_patch(git_binary_diff(tmp_path, old, new), "p").files[0]
    assert fp.index == (blob_id(old["b.bin"] or b""), blob_id(new["b.bin"] or b""))
    r = subprocess.run(["git", "hash-object", "--stdin"], input=b"x\0y", capture_output=True, check=True)
    assert blob_id(b"x\0y") == r.stdout.decode().strip()


def test_wrong_preimage_is_refused_like_git(tmp_path: Path) -> None:
    old, new = CASES["delta"]
    patch = git_binary_diff(tmp_path, old, new)
    other = {"b.bin": _bytes(9, 20000)}
    assert git_apply(tmp_path, other, patch) is None
    with pytest.raises(F5QuiltError, match=r"^p.diff:1: b.bin: binary patch does not apply"):
        ours(other, patch)
    # already applied: said so
    with pytest.raises(F5QuiltError, match="looks applied already"):
        ours(new, patch)


def test_forward_only_patch_cannot_be_reversed(tmp_path: Path) -> None:
    old, new = CASES["literal"]
    patch = git_binary_diff(tmp_path, old, new)
    lines = patch.split(b"\n")
    cut = lines.index(b"", lines.index(b"GIT binary patch"))  # end of the forward hunk
    forward_only = b"\n".join(lines[:cut + 1]) + b"\n"
    assert git_apply(tmp_path, old, forward_only) == new
    assert ours(old, forward_only) == new
    assert git_apply(tmp_path, new, forward_only, "-R") is None
    with pytest.raises(F5QuiltError, match="without its reverse hunk"):
        ours(new, forward_only, reverse=True)


def _corrupt(patch: bytes, how: str) -> bytes:
    lines = patch.split(b"\n")
    data = lines.index(b"GIT binary patch") + 2  # first base85 line of the forward hunk
    line = lines[data]
    if how == "bad character":
        lines[data] = line[:3] + b'"' + line[4:]
    elif how == "bad length character":
        lines[data] = b"!" + line[1:]
    elif how == "truncated line":
        lines[data] = line[:-1]
    elif how == "wrong size":
        method, size = lines[data - 1].split(b" ")
        lines[data - 1] = method + b" " + str(int(size) + 1).encode()
    elif how == "bad zlib":
        lines[data] = line[:1] + b"00000" + line[6:]
    elif how == "unknown method":
        lines[data - 1] = b"literally 12"
    return b"\n".join(lines)


@pytest.mark.parametrize("how", ["bad character", "bad length character", "truncated line",
                                 "wrong size", "bad zlib", "unknown method"])
def test_corrupt_data_is_a_one_line_error_with_file_and_line(tmp_path: Path, how: str) -> None:
    old, new = CASES["delta"]
    bad = _corrupt(git_binary_diff(tmp_path, old, new), how)
    assert git_apply(tmp_path, old, bad) is None  # git refuses it too
    with pytest.raises(PatchFormatError) as info:
        parse_patch(bad, "patches/x.diff")
    msg = info.value.message
    assert "\n" not in msg
    first = bad.split(b"\n").index(b"GIT binary patch") + 1
    assert info.value.line in (first + 1, first + 2), msg
    assert msg.startswith(f"patches/x.diff:{info.value.line}: ")
    assert "binary patch" in msg


def test_delta_replay_checks() -> None:
    # src size 3, dst size 5: copy 3 bytes from offset 0, insert "xy"
    delta = bytes([3, 5, 0x90, 3, 2]) + b"xy"
    assert apply_delta(b"abc", delta) == b"abcxy"
    for bad in (bytes([3, 5, 0x90, 4, 2]) + b"xy",   # copy past the source
                bytes([3, 5, 0x90, 3, 3]) + b"xy",   # insert past the data
                bytes([3, 5, 0x90, 3, 0]),           # opcode 0
                bytes([3, 6, 0x90, 3, 2]) + b"xy"):  # result shorter than announced
        with pytest.raises(ValueError):
            apply_delta(b"abc", bad)
    with pytest.raises(ValueError, match="made for 3 bytes"):
        apply_delta(b"abcd", delta)
    assert BinaryHunk(LITERAL, 2, b"zz", 1).apply(b"whatever") == b"zz"


def _edited(rng: random.Random, data: bytes) -> Optional[bytes]:
    """A random edit of ``data``: bytes replaced, inserted, removed, appended; or the file gone."""
    kind = rng.choice(["replace", "insert", "remove", "append", "truncate", "rewrite", "gone"])
    if kind == "gone":
        return None
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(out) + 1)
        size = rng.choice([1, 3, 17, 200, 5000])
        if kind == "replace" and out:
            out[at:at + size] = _bytes(rng.randrange(10**9), min(size, len(out) - at))
        elif kind == "insert":
            out[at:at] = _bytes(rng.randrange(10**9), size)
        elif kind == "remove":
            del out[at:at + size]
        elif kind == "append":
            out += _bytes(rng.randrange(10**9), size)
        elif kind == "truncate":
            del out[at:]
        elif kind == "rewrite":
            out = bytearray(_bytes(rng.randrange(10**9), rng.choice([0, 5, 90, 3000])))
    return bytes(out)


def test_fuzzed_binary_files_match_git_apply_both_ways(tmp_path: Path) -> None:
    rng = random.Random(4242)
    old: Dict[str, Optional[bytes]] = {}
    new: Dict[str, Optional[bytes]] = {}
    for n in range(60):
        rel = f"f{n:02d}.bin"
        base = None if n % 10 == 0 else _bytes(n, rng.choice([1, 10, 100, 1000, 30000]))
        if base is not None and rng.random() < 0.5:
            base = base[:len(base) // 2] * 2  # repetitive content: git prefers deltas
        old[rel] = base
        new[rel] = _edited(rng, base) if base is not None else _bytes(1000 + n, rng.randint(1, 500))
        if new[rel] == old[rel]:
            new[rel] = (new[rel] or b"") + b"\0"
    patch = git_binary_diff(tmp_path, old, new)
    parsed = parse_patch(patch, "p.diff")
    methods = {h.method for fp in parsed.files for h in (fp.binary_forward, fp.binary_reverse) if h}
    assert methods == {LITERAL, DELTA} and len(parsed.files) == 60
    assert git_apply(tmp_path, old, patch) == new
    assert ours(old, patch) == new
    assert git_apply(tmp_path, new, patch, "-R") == old
    assert ours(new, patch, reverse=True) == old


def test_fuzzed_corruption_is_refused_where_git_apply_refuses_it(tmp_path: Path) -> None:
    old, new = CASES["delta"]
    patch = git_binary_diff(tmp_path, old, new)
    lines = patch.split(b"\n")
    data_lines = [i for i, x in enumerate(lines) if x[:1].isalpha() and not x.startswith((b"literal", b"delta",
                                                                                        b"diff", b"index",
                                                                                        b"GIT"))]
    alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~\"',."
    rng = random.Random(77)
    refused = 0
    for _ in range(60):
        bad = list(lines)
        i = rng.choice(data_lines)
        j = rng.randrange(len(bad[i]))
        bad[i] = bad[i][:j] + bytes([rng.choice(alphabet)]) + bad[i][j + 1:]
        mutated = b"\n".join(bad)
        if mutated == patch:
            continue
        gits = git_apply(tmp_path, old, mutated)
        try:
            mine: Optional[Dict[str, Optional[bytes]]] = ours(old, mutated)
        except F5QuiltError as exc:
            assert "\n" not in exc.message and exc.message.startswith("p.diff:")
            mine = None
        assert mine == gits, (i, j, bad[i])
        refused += gits is None
    assert refused > 40
