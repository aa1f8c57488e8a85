"""Unified diffs from git's own diff machinery (``git diff --no-index``).

Churn-free output, as users of long-lived series want: fixed ``a/`` ``b/``
prefixes, no timestamps, files in git's stable order, and no ``index``
lines unless asked for. One git process diffs all files of a patch.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Optional, Tuple

from f5quilt.errors import F5QuiltError
from f5quilt.proc import GIT_ENV, run

_INDEX_RE = re.compile(rb"^index [0-9a-f]+\.\.[0-9a-f]+( [0-7]+)?\n", re.M)
_GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}


def _git(args: list[str], cwd: str) -> "subprocess.CompletedProcess[bytes]":
    return run(["git", *args], cwd=cwd, env={**GIT_ENV, **_GIT_ENV}, ok=None)


def diff_files(old: Dict[str, Optional[bytes]], new: Dict[str, Optional[bytes]],
               *, context: int = 3, index: bool = False,
               modes: Optional[Dict[str, Tuple[Optional[int], Optional[int]]]] = None,
               prefixes: bool = True, algorithm: Optional[str] = None) -> bytes:
    """Diff ``old`` against ``new`` (rel path -> bytes, None = absent).

    ``modes`` (rel path -> (old mode, new mode)) lets git see executable bits,
    so a new script gets ``new file mode 100755`` and a chmod a mode change.
    """
    paths = sorted(set(old) | set(new))
    with tempfile.TemporaryDirectory(prefix="f5quilt-diff-") as tmp:
        for side, contents in (("a", old), ("b", new)):
            root = Path(tmp) / side
            root.mkdir()
            for rel in paths:
                data = contents.get(rel)
                if data is None:
                    continue
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                mode = (modes or {}).get(rel, (None, None))[0 if side == "a" else 1]
                os.chmod(target, 0o755 if mode is not None and mode & 0o111 else 0o644)
        args = ["-c", "core.quotePath=false", "diff", "--no-index", "--no-color", "--no-ext-diff",
                "--no-renames", "--no-textconv", "--no-prefix", f"-U{context}", "a", "b"]
        if index:
            args.insert(3, "--full-index")
        if algorithm:
            args.insert(3, f"--diff-algorithm={algorithm}")
        r = _git(args, tmp)
    if r.returncode not in (0, 1):
        raise F5QuiltError(f"git diff failed: {r.stderr.decode(errors='replace').strip()}")
    # --no-prefix over the dirs a/ and b/ gives a/X and b/X on ---/+++; the
    # diff --git line names one dir twice for a creation or deletion: mend it
    out = re.sub(rb"^diff --git [ab]/(.*) [ab]/(.*)$", rb"diff --git a/\1 b/\2", r.stdout, flags=re.M)
    if b"\nBinary files " in b"\n" + out or b"GIT binary patch" in out:
        raise F5QuiltError("a file in the patch is binary; f5quilt refreshes text patches only")
    if not index:
        out = _INDEX_RE.sub(b"", out)
    if not prefixes:  # a -p0 patch: paths relative to the tree, as they are
        out = re.sub(rb"^(--- |\+\+\+ )[ab]/", rb"\1", out, flags=re.M)
        out = re.sub(rb"^diff --git a/(.*) b/(.*)$", rb"diff --git \1 \2", out, flags=re.M)
    return out
