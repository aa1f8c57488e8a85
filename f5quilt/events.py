"""What an operation tells its caller while it runs: typed events, never text on a stream.

A layer of its own between ``repo/`` and ``engine/``: ops and repo emit these, the hunk
reports they carry come from the engine.

An op takes an ``emit`` callable (``Emit``) and calls it with the records below; it prints
nothing and picks no exit code. ``cli/render.py`` turns the events into the lines a quilt or
an f5quilt user expects (the dialect, ``-q``/``-v``, colour, a progress bar over a long
series); tests and other callers read the records themselves. What an op *returns* is its
outcome (``PushOutcome``, ``PopOutcome``, ``CheckReport``, ``StatusReport``...); a stop it
cannot get past is an exception carrying the reason (``errors.Conflicted`` and the rest).

``Said`` is a line an op has not (yet) given a record of its own: its ``Level`` says who
sees it, as quilt's and GNU patch's verbosity levels do.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from f5quilt.engine.apply import PatchResult


class Level(Enum):
    INFO = "info"            # progress; -q hides it
    STEP = "step"            # a step of a command; -q hides it, except in quilt's words
    QUILT_INFO = "quilt"     # what quilt says at its normal level, f5quilt only with -v
    VERBOSE = "verbose"      # -v only
    RESULT = "result"        # a query's answer: shown even with -q
    WARN = "warn"            # stderr, always
    ERROR = "error"          # stderr, always, red on a terminal: what a stop is about


class Event:
    """Base of every event an op emits."""


Emit = Callable[[Event], None]


def ignore(event: Event) -> None:
    """An ``Emit`` that drops everything: an op run for its result alone."""


def warnings_only(emit: "Emit") -> "Emit":
    """``emit`` passing on only warnings: a step whose chatter a bigger op says better."""
    def passed(event: Event) -> None:
        if isinstance(event, (RolledBack, Quarantined, ConflictsDropped)) or \
                (isinstance(event, Said) and event.level in (Level.WARN, Level.RESULT)):
            emit(event)
    return passed


@dataclass(frozen=True)
class Said(Event):
    level: Level
    text: str
    colour: Optional[str] = None


# -- repair --------------------------------------------------------------
@dataclass(frozen=True)
class RolledBack(Event):
    """An interrupted command was rolled back before this one started."""
    command: str

    @property
    def text(self) -> str:
        return f"Rolled back an interrupted `f5quilt {self.command}`: everything is as it was before it"


@dataclass(frozen=True)
class Quarantined(Event):
    """A journal or log entry that could not be trusted was set aside (``text`` says where)."""
    text: str


# -- push ----------------------------------------------------------------
@dataclass(frozen=True)
class Plan(Event):
    """A loop over ``count`` patches starts (``verb``: Pushing, Popping)."""
    verb: str
    count: int


@dataclass(frozen=True)
class Applying(Event):
    patch: str


@dataclass(frozen=True)
class AppliedEmpty(Event):
    """quilt's words for a patch with no change: its file is ``missing``, or it is empty."""
    patch: str
    missing: bool


@dataclass(frozen=True)
class HunkReports(Event):
    """How each hunk of a patch landed (GNU patch's lines); ``directory``: fold's ``patch -d``."""
    result: "PatchResult"
    force: bool
    directory: str = ""


@dataclass(frozen=True)
class Rejects(Event):
    """Hunks of ``path`` that did not apply: ``saved`` to PATH.rej, or left out of a refused push."""
    path: str
    rejected: int
    total: int
    saved: bool


@dataclass(frozen=True)
class Skipped(Event):
    """A patch the selected guards rule out."""
    patch: str
    why: str


@dataclass(frozen=True)
class Pushed(Event):
    """A patch is on the stack: ``forced`` (rejects left, needs refresh) or with ``conflicts``
    left to resolve; ``replayed``: every conflict was resolved by a recorded resolution."""
    patch: str
    forced: bool = False
    conflicts: Tuple[str, ...] = ()
    replayed: bool = False


@dataclass(frozen=True)
class DryRunApplies(Event):
    patch: str


@dataclass(frozen=True)
class NowAt(Event):
    """The top patch once a push or pop is done (None: none applied); ``spacer``: f5quilt's
    blank line before it."""
    patch: Optional[str]
    spacer: bool = True


@dataclass(frozen=True)
class Folded(Event):
    """fold put a patch's changes into the top patch (quilt's fold says only GNU patch's lines)."""
    patch: str


# -- pop -----------------------------------------------------------------
@dataclass(frozen=True)
class NotInPatch(Event):
    """A file of the top patch holds edits its patch file does not (pop refuses)."""
    path: str


@dataclass(frozen=True)
class ConflictsDropped(Event):
    """Popping a patch left conflicted drops its merge and markers."""
    patch: str
    paths: Tuple[str, ...]


@dataclass(frozen=True)
class Removing(Event):
    patch: str
    empty: bool = False


@dataclass(frozen=True)
class Restoring(Event):
    """A file of the popped patch: its backup restored, or ``removed`` (the patch created it)."""
    path: str
    removed: bool


@dataclass(frozen=True)
class Popped(Event):
    patch: str


# -- outcomes ------------------------------------------------------------
class Stop(Enum):
    """Why a push ended before its plan did."""
    CONFLICTS = "conflicts"  # a patch applied with conflicts to resolve
    FORCED = "forced"        # a patch forced on with rejects: needs refresh
    STOPPED = "stopped"      # a rebase stopped at a patch that does not apply, or is contained upstream


@dataclass
class PushOutcome:
    pushed: List[str] = field(default_factory=list)  # names, in order
    stop: Optional[Stop] = None
    dry_run: bool = False

    def to_json(self, top: Optional[str]) -> Dict[str, Any]:
        return {"pushed": self.pushed, "stop": self.stop.value if self.stop else None, "top": top}


@dataclass
class PopOutcome:
    popped: List[str] = field(default_factory=list)  # names, in order

    def to_json(self, top: Optional[str]) -> Dict[str, Any]:
        return {"popped": self.popped, "top": top}


# -- a line, by level ----------------------------------------------------
def info(text: str, colour: Optional[str] = None) -> Said:
    return Said(Level.INFO, text, colour)


def step(text: str) -> Said:
    return Said(Level.STEP, text)


def quilt_info(text: str) -> Said:
    return Said(Level.QUILT_INFO, text)


def verbose(text: str) -> Said:
    return Said(Level.VERBOSE, text)


def result(text: str) -> Said:
    return Said(Level.RESULT, text)


def warn(text: str) -> Said:
    return Said(Level.WARN, text)


def error(text: str) -> Said:
    return Said(Level.ERROR, text)


def info_lines(emit: "Emit") -> Callable[[str], None]:
    """A log callable (what fetching and unpacking say) that emits each line as ``info``."""
    return lambda text: emit(info(text))
