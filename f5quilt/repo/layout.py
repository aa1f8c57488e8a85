"""The names a command leaves in f5quilt's state folder, and whether a killed command left
any there: asked before every command, so a query answers it without importing the
transaction layer (its start-up time counts in a shell prompt)."""
from __future__ import annotations

import os
from pathlib import Path

from f5quilt.fsutil import TMP_PREFIX

TXN = "txn"            # the journal of the command under way
LOG = "log"            # committed commands, for undo/redo/log
DEAD = ".dead-"        # folders being removed (renamed first, so a kill leaves no half folder)


def unsettled(state: Path) -> bool:
    """A journal, a journal being written, or a folder being removed in ``state``: what
    ``transaction.repair`` finishes. False costs one or two directory reads."""
    try:
        names = os.listdir(state)
    except (FileNotFoundError, NotADirectoryError):
        return False
    if any(n in (TXN, TMP_PREFIX + TXN) or n.startswith(DEAD) for n in names):
        return True
    if LOG in names:
        try:
            return any(n.startswith(DEAD) for n in os.listdir(state / LOG))
        except (FileNotFoundError, NotADirectoryError):
            return False
    return False
