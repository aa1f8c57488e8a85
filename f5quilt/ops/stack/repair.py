"""Repair before a command: what a killed command left is rolled back, and said.

Every writing op calls ``recover`` first (``ops/opening`` does it for every command whose
workspace it opens); it is its own module so that the ops below push and pop can repair
without importing them.
"""
from __future__ import annotations

from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace


def recover(ws: Workspace, emit: Emit) -> None:
    """Roll back an operation a killed process left half done, and say so."""
    if ws.txn is not None:  # inside this process's own transaction: nothing was interrupted
        return
    from f5quilt.repo.transaction import Quarantined  # lazy: start-up
    command = ws.repair()
    if isinstance(command, Quarantined):
        emit(ev.Quarantined(str(command)))
    elif command:
        emit(ev.RolledBack(command))
        ws.stack.reread()
