"""Patch headers git understands: ``header --git`` and ``new --author``.

The block itself is ``model/mailheader.git_header``; here are the author
(given, the header's, or git's configured identity) and the writes, each
through the command's transaction.
"""
from __future__ import annotations

import os
import time
from typing import Optional

from f5quilt.errors import F5QuiltError
from f5quilt import proc
from f5quilt.fsutil import DEFAULT_MODE
from f5quilt.model.mailheader import Date, HeaderDateError, git_header, parse_person, person, subject_from_name
from f5quilt.events import Emit
from f5quilt.ops.authoring.core import header_of, named_or_top, new_patch, set_header
from f5quilt.ops.stack.repair import recover
from f5quilt.repo.workspace import Workspace


def git_identity(ws: Workspace) -> Optional[str]:
    """``Name <mail>`` as git would author a commit here (its config, its environment), or None."""
    try:
        r = proc.run(["git", "var", "GIT_AUTHOR_IDENT"], cwd=ws.settings.base, text=True, ok=None)
    except proc.ProgramMissing:
        return None
    ident = r.stdout.strip()
    if r.returncode != 0 or " <" not in ident:
        return None
    who = ident.rsplit(" ", 2)[0]  # drop "<timestamp> <offset>"
    name, mail = parse_person(who)
    return person(name, mail) if mail else None


def checked_author(given: str) -> str:
    name, mail = parse_person(given)
    if not mail or "@" not in mail or not name:
        raise F5QuiltError(f"--author {given!r}: give it as \"Name <mail@example.org>\"")
    return person(name, mail)


def _now() -> Date:
    """Now, or SOURCE_DATE_EPOCH (UTC) where the reproducible-builds convention sets it."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        if int(epoch) > 253402300799:  # 9999-12-31T23:59:59Z: what a Date: header can say
            raise F5QuiltError(f"SOURCE_DATE_EPOCH={epoch[:20]}: out of range (after the year 9999)")
        return int(epoch), 0
    ts = int(time.time())
    off = time.localtime(ts).tm_gmtoff // 60
    return ts, off


def _header(ws: Workspace, name: str, current: bytes, author: Optional[str]) -> bytes:
    default = git_identity(ws)
    try:
        text = git_header(current.decode("utf-8", "surrogateescape"),
                          author=checked_author(author) if author is not None else None,
                          default_author=default or "", now=_now(),
                          fallback_subject=subject_from_name(name.rsplit("/", 1)[-1]))
    except HeaderDateError as exc:
        raise F5QuiltError(f"{ws.display(name)}: Date: {exc.args[0]!r} is not a date git understands; "
                           "fix it with header -e") from None
    if " <" not in text.split("\n", 1)[0]:
        raise F5QuiltError(f"{ws.display(name)}: no author (git am wants an address): give --author "
                           "\"Name <mail>\" or set git's user.name and user.email")
    return text.encode("utf-8", "surrogateescape")


def header_git(ws: Workspace, emit: Emit, given: Optional[str], author: Optional[str]) -> bool:
    """Add or update the From:/Date:/Subject: block of ``given`` (default: the top patch);
    False when the header already is exactly that."""
    recover(ws, emit)
    name = named_or_top(ws, given)
    current = header_of(ws, name)
    new = _header(ws, name, current, author)
    if new == current:
        return False
    set_header(ws, name, new)
    return True


def new_with_author(ws: Workspace, emit: Emit, given: str, author: str) -> None:
    """``new`` whose patch file starts with a git-style header: one transaction."""
    recover(ws, emit)
    with ws.transaction(f"new {given}"):
        new_patch(ws, emit, given)
        name = ws.stack.top()
        assert name is not None
        header = _header(ws, name, b"", author or None)
        ws.fs.write(ws.patch_file(name), header, DEFAULT_MODE)
