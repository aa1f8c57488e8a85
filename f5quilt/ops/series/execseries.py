"""``exec``: a command run with each patch pushed in turn (git rebase --exec, StGit#469).

The whole walk is one transaction that ends in a rollback of itself: pop to the
base, push one patch at a time running the command after each, then put every
file back from the journal's before-images. The original applied state comes
back byte for byte (and inode for inode) after a failure, an interrupt or a
kill (the next command rolls the journal back), and the log keeps no entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from f5quilt.errors import F5QuiltError, NothingToDo
from f5quilt import proc
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace


@dataclass
class ExecStep:
    patch: Optional[str]  # None: the base (no patch applied)
    returncode: Optional[int]  # None: the patch did not apply, the command did not run
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def to_json(self, ws: Workspace) -> Dict[str, Any]:
        return {"patch": ws.display(self.patch) if self.patch else None, "returncode": self.returncode,
                "ok": self.ok, **({"error": self.error} if self.error else {})}


@dataclass
class ExecResult:
    steps: List[ExecStep] = field(default_factory=list)
    restored_top: Optional[str] = None

    @property
    def first_broken(self) -> Optional[ExecStep]:
        """The first step whose command failed (the base, when it fails already)."""
        for step in self.steps:
            if not step.ok:
                return step
        return None


class _Restore(F5QuiltError):
    """Raised inside the walk's transaction so that it rolls back, never seen by a user."""


def exec_series(ws: Workspace, emit: Emit, command: List[str], *, cwd: Path,
                keep_going: bool = False, base: bool = True, stdout_to_stderr: bool = False) -> ExecResult:
    """Run ``command`` (no shell) at the base (``base``) and after each patch is pushed;
    stop at the first failure unless ``keep_going``. The tree is put back at the end.
    ``stdout_to_stderr`` (--json): the command's output goes to stderr, the report alone to stdout."""
    from f5quilt.ops.stack.guards import guarded_out  # lazy: start-up
    from f5quilt.ops.stack.pushpop import pop_one, push_one  # lazy: start-up
    from f5quilt.ops.stack.repair import recover  # lazy: start-up
    from f5quilt.ops.stack.drift import unrecorded_work  # lazy: start-up

    ws.require_series()
    recover(ws, emit)
    if not ws.series.entries:
        raise NothingToDo("No patches in series")
    if ws.series_altered():
        raise F5QuiltError(f"The series file ({ws.settings.series.name}) no longer matches the "
                           "applied patches; pop them (pop -a), then push again")
    edits = unrecorded_work(ws)
    if edits:
        raise F5QuiltError(f"{edits[0].shown(ws.settings)}; refresh, capture or revert it first (exec pops and pushes every patch)")
    for name in ws.stack.applied():
        if ws.stack.conflicts(name):
            raise F5QuiltError(f"{ws.display(name)} has unresolved conflicts; resolve and refresh it first")
    names = [e.name for e in ws.series.entries]
    skipped = guarded_out(ws, names)
    plan = [n for n in names if n not in skipped]
    result = ExecResult(restored_top=ws.stack.top())

    def run(patch: Optional[str]) -> bool:
        emit(ev.Running(tuple(command), patch))
        rc = proc.run(command, cwd=cwd, ok=None, stdin=proc.INHERIT, stderr=proc.INHERIT,
                      stdout=2 if stdout_to_stderr else proc.INHERIT).returncode
        result.steps.append(ExecStep(patch, rc))
        return rc == 0 or keep_going

    try:
        with ws.transaction("exec " + " ".join(command)) as txn:
            while ws.stack.top() is not None:
                pop_one(ws, ev.ignore)
            try:
                if not base or run(None):
                    for name in plan:
                        try:
                            push_one(ws, name, ev.ignore)
                        except F5QuiltError as exc:  # a patch that does not apply breaks the walk
                            result.steps.append(ExecStep(name, None, exc.message))
                            break
                        if not run(name):
                            break
            finally:
                txn.savepoints.clear()  # the rollback goes back to the very beginning
            raise _Restore("restore")
    except _Restore:
        pass
    return result
