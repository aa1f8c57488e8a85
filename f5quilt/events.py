"""What an operation tells its caller while it runs: typed events, never text on a stream.

A layer of its own between ``repo/`` and ``engine/``: ops and repo emit these, the hunk
reports they carry come from the engine.

An op takes an ``emit`` callable (``Emit``) and calls it with the records below; it prints
nothing and picks no exit code. ``cli/render.py`` turns the events into the lines a quilt or
an f5quilt user expects (the dialect, ``-q``/``-v``, colour, a progress bar over a long
series); tests and other callers read the records themselves. What an op *returns* is its
outcome (``PushOutcome``, ``PopOutcome``, ``CheckReport``, ``StatusReport``...); a stop it
cannot get past is an exception carrying the reason (``errors.Conflicted`` and the rest).

Every event is a record with a class of its own (``Warns`` marks those said on stderr
whatever ``-q`` says), and the words are the renderer's: a caller never parses text.
``Quarantined`` alone carries a note, the one the journal's reader wrote on where it put an
entry it could not trust.
"""
from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from f5quilt.record import field, record

if TYPE_CHECKING:
    from f5quilt.engine.apply import PatchResult


class Event:
    """Base of every event an op emits."""


class Warns(Event):
    """An event said only on stderr, whatever ``-q`` says: something the user must know
    (``tests/ops/test_series_events.py`` checks the renderer against this mark)."""


Emit = Callable[[Event], None]


def ignore(event: Event) -> None:
    """An ``Emit`` that drops everything: an op run for its result alone."""


def warnings_only(emit: "Emit") -> "Emit":
    """``emit`` passing on only warnings: a step whose chatter a bigger op says better."""
    def passed(event: Event) -> None:
        if isinstance(event, Warns):
            emit(event)
    return passed


# -- repair --------------------------------------------------------------
@record
class RolledBack(Warns):
    """An interrupted command was rolled back before this one started."""
    command: str

    @property
    def text(self) -> str:
        return f"Rolled back an interrupted `f5quilt {self.command}`: everything is as it was before it"


@record
class Quarantined(Warns):
    """A journal or log entry that could not be trusted was set aside (``text`` says where)."""
    text: str


# -- push ----------------------------------------------------------------
@record
class Plan(Event):
    """A loop over ``count`` patches starts (``verb``: Pushing, Popping)."""
    verb: str
    count: int


@record
class Applying(Event):
    patch: str


@record
class AppliedEmpty(Event):
    """quilt's words for a patch with no change: its file is ``missing``, or it is empty."""
    patch: str
    missing: bool


@record
class HunkReports(Event):
    """How each hunk of a patch landed (GNU patch's lines); ``directory``: fold's ``patch -d``."""
    result: "PatchResult"
    force: bool
    directory: str = ""


@record
class Rejects(Event):
    """Hunks of ``path`` that did not apply: ``saved`` to PATH.rej, or left out of a refused push."""
    path: str
    rejected: int
    total: int
    saved: bool


@record
class Skipped(Event):
    """A patch the selected guards rule out."""
    patch: str
    why: str


@record
class Pushed(Event):
    """A patch is on the stack: ``forced`` (rejects left, needs refresh) or with ``conflicts``
    left to resolve; ``replayed``: every conflict was resolved by a recorded resolution."""
    patch: str
    forced: bool = False
    conflicts: Tuple[str, ...] = ()
    replayed: bool = False


@record
class DryRunApplies(Event):
    patch: str


@record
class NowAt(Event):
    """The top patch once a push or pop is done (None: none applied); ``spacer``: f5quilt's
    blank line before it."""
    patch: Optional[str]
    spacer: bool = True


@record
class Folded(Event):
    """fold put a patch's changes into the top patch (quilt's fold says only GNU patch's lines)."""
    patch: str


# -- pop -----------------------------------------------------------------
@record
class NotInPatch(Event):
    """A file of the top patch holds edits its patch file does not (pop refuses)."""
    path: str


@record
class ConflictsDropped(Warns):
    """Popping a patch left conflicted drops its merge and markers."""
    patch: str
    paths: Tuple[str, ...]


@record
class Removing(Event):
    patch: str
    empty: bool = False


@record
class Restoring(Event):
    """A file of the popped patch: its backup restored, or ``removed`` (the patch created it)."""
    path: str
    removed: bool


@record
class Popped(Event):
    patch: str


# -- authoring (new, add, refresh, revert, remove, delete, rename, import) -----
@record
class Created(Event):
    """new: ``patch`` is in the series and on top."""
    patch: str


@record
class FileAdded(Event):
    """add: ``file`` (tree-relative) is in ``patch``; ``already``: it was before (quilt exits 2);
    ``edited``: it was edited before it was added, so the edit goes into the patch."""
    patch: str
    file: str
    already: bool = False
    edited: bool = False


@record
class Refreshed(Event):
    """refresh: ``patch`` now records what the tree holds (``unchanged``: it did already;
    ``empty``: quilt's words for a patch that changes nothing)."""
    patch: str
    unchanged: bool = False
    empty: bool = False


@record
class FileReverted(Event):
    """revert: ``file``'s changes in ``patch`` taken back (``unchanged``: it had none)."""
    patch: str
    file: str
    unchanged: bool = False


@record
class FileRemoved(Event):
    """remove: ``file`` is no longer in ``patch`` (its backup is back in the tree)."""
    patch: str
    file: str


@record
class Deleted(Event):
    """delete: ``patch`` is out of the series."""
    patch: str


@record
class Renamed(Event):
    """rename: ``old`` is now ``new``."""
    old: str
    new: str


@record
class Imported(Event):
    """import: ``source`` (as given) stored as ``patch``; quilt's words for ``replaced`` (a patch of
    that name was in the series) and ``in_place`` (the source is the patch file itself)."""
    patch: str
    source: str
    replaced: bool = False
    in_place: bool = False


@record
class Forked(Event):
    """fork: the top patch ``old`` goes on as ``new``; ``old``'s file stays."""
    old: str
    new: str


@record
class FileCaptured(Event):
    """capture: an edit of ``file`` outside the series went into the new ``patch``."""
    patch: str
    file: str


@record
class FileRestored(Event):
    """restore: ``file`` is as ``holder`` (the last applied patch that changes it) leaves it,
    or pristine (``holder`` None)."""
    file: str
    holder: Optional[str]


@record
class Absorbing(Event):
    """absorb: ``file``'s edit goes into ``patch``, the applied patch that last changes it."""
    patch: str
    file: str


# -- guards, rerere, stash --------------------------------------------------
@record
class GuardsSet(Event):
    """guard: ``patch``'s guards are now ``guards`` (none: unguarded)."""
    patch: str
    guards: Tuple[str, ...]


@record
class Selected(Event):
    """select: the selected guards are now ``guards`` (none selected: empty)."""
    guards: Tuple[str, ...]


@record
class SkipChanged(Event):
    """select: ``patch`` is skipped now (``why``: its guard as ``why_text`` says it; ``applied``:
    it is applied, so popping it drops it) or no longer (``why`` None)."""
    patch: str
    why: Optional[str]
    applied: bool = False


@record
class RerereReplayed(Event):
    """A merge's ``done`` conflicts in ``file`` resolved as recorded before; ``left`` still to do."""
    file: str
    done: int
    left: int


@record
class RerereRecorded(Event):
    """refresh recorded ``count`` conflict resolutions of ``patch``."""
    patch: str
    count: int


@record
class RerereNotRecorded(Event):
    """refresh could not record ``file``'s resolution: the lines around the conflicts changed too."""
    file: str


@record
class RerereForgot(Event):
    """rerere forget: ``count`` recorded resolutions of ``patch`` gone."""
    patch: str
    count: int


@record
class Stashed(Event):
    """A forced command kept ``count`` unrecorded changes in stash number ``stash``."""
    count: int
    stash: int


# -- undo, redo --------------------------------------------------------------
@record
class ChangedSince(Warns):
    """undo/redo refused: ``path`` has changes made after ``command`` that the log does not record."""
    path: str
    command: str


@record
class Undone(Event):
    """``command`` undone (``redone``: done again)."""
    command: str
    redone: bool = False


@record
class TreeKept(Event):
    """An undo put an older tree back; the replaced one, edits and all, is kept in the log."""


# -- rebase (rebase, upgrade) ---------------------------------------------
@record
class RebaseStarted(Event):
    """The series' ``count`` patches go from the ``old`` pin onto the ``new`` one (as described)."""
    count: int
    old: str
    new: str


@record
class Contained(Event):
    """``patch``'s result is in the new release (``pin``) already: it reverse-applies cleanly.
    ``dropped`` from the series, or the rebase stops there (--keep-contained)."""
    patch: str
    pin: str
    dropped: bool


@record
class RebaseBlocked(Event):
    """``patch`` could not be pushed onto the new release (``why``: the error); the rebase stops."""
    patch: str
    why: str


@record
class RebaseConflicts(Event):
    """Merging ``patch`` left conflicts in ``files`` (tree-relative): ``replayed``, resolved as
    before (rerere), for review; ``going_on``, recorded under --keep-going and the rebase went on."""
    patch: str
    files: Tuple[str, ...]
    replayed: bool = False
    going_on: bool = False


@record
class ConflictsLeft(Event):
    """--keep-going ended with ``patches`` conflicted, to resolve one by one."""
    patches: Tuple[str, ...]


@record
class PatchMoved(Event):
    """A dropped patch's file moved out of the patches folder, ``to`` (relative to the current
    folder); ``git_rm``: the path git still tracks, when the patches folder is in git."""
    patch: str
    to: str
    git_rm: Optional[str] = None


@record
class EmptiedPatch(Warns):
    """``patch`` changes nothing now: its resolution kept upstream's side everywhere."""
    patch: str


@record
class Unverified(Warns):
    """The rebased series does not apply exactly to the new release: ``problems`` (a line per
    patch, as check --strict says it) and the stop's ``message``."""
    problems: Tuple[str, ...]
    message: str


@record
class Rebased(Event):
    """The rebase is done: the series sits on ``pin``; ``dropped`` left the series."""
    pin: str
    dropped: Tuple[str, ...] = ()


@record
class RebaseSkipped(Event):
    """--skip: ``patch`` left the series."""
    patch: str


@record
class LeftoversRemoved(Event):
    """--abort found only the leftovers of a rebase killed before it started, and removed them."""


@record
class RebaseAborted(Event):
    """--abort: the tree and the series are back on ``pin``."""
    pin: str


# -- quilt's own commands (diff, refresh, upgrade, mail, graph) ---------------
@record
class TrailingWhitespace(Warns):
    """refresh: added ``lines`` of ``file`` end in white space; ``removed``: --strip-trailing-whitespace
    took it off."""
    file: str
    lines: Tuple[int, ...]
    removed: bool = False


@record
class Shadowed(Warns):
    """diff: later applied patches change files of ``patch``, so the tree is not what it leaves."""
    patch: str


@record
class NotModified(Warns):
    """diff FILE: no applied patch up to the one asked for changes ``file``."""
    file: str


@record
class BackupMissing(Warns):
    """graph: the applied patch ``patch`` has no backup folder in ``pc_name``; it is left out."""
    pc_name: str
    patch: str


@record
class PcUpgraded(Event):
    """quilt's upgrade: the meta-data in ``pc_name`` were converted to version 2 (``already``: they
    were in it)."""
    pc_name: str
    already: bool


@record
class SendingMail(Event):
    """mail --send: the command line a message is piped into."""
    argv: Tuple[str, ...]


@record
class Unpacking(Event):
    """setup: the archive ``archive`` (as the series or spec file names it) is unpacked."""
    archive: str


@record
class AlternativeNames(Event):
    """setup: ``clashes`` (what, path: "Directory"/"File" and the name) exist where the patches and
    series links go, so quilt_patches and quilt_series are used."""
    clashes: Tuple[Tuple[str, str], ...]


@record
class SpecRecord(Event):
    """setup -v on a spec file: one record of what rpmbuild's %prep did."""
    tag: str
    dir: str
    name: str
    opts: str


@record
class Running(Event):
    """exec: ``argv`` runs with the series applied up to ``patch`` (None: the base)."""
    argv: Tuple[str, ...]
    patch: Optional[str]


@record
class UpstreamCommitSkipped(Event):
    """import --git: commit ``sha`` is upstream's own, not a patch."""
    sha: str


# -- upstream, init, install, import --git ------------------------------------
@record
class Downloading(Event):
    """A PyPI pin's sdist ``spec`` is not in the cache: pip downloads it."""
    spec: str


@record
class Downloaded(Event):
    """The sdist ``file`` (``size`` bytes) came in ``seconds``."""
    file: str
    size: int
    seconds: float


@record
class Extracting(Event):
    """The archive ``file`` (``size`` bytes) is unpacked into the cache's pristine copy."""
    file: str
    size: int


@record
class Cloning(Event):
    """A git pin (``pin``, described) is cloned into the cache."""
    pin: str


@record
class Fetching(Event):
    """The tree ``tree`` (relative to the project) is being built from the pin ``pin`` (described):
    missing, or (``replacing``) ``upstream fetch --replace``."""
    pin: str
    tree: str
    replacing: bool = False


@record
class Initialised(Event):
    """init wrote ``settings`` (upstream ``pin``, checked by ``recorded``: a commit, a sha256 or
    nothing for a folder), the series ``series`` and (``gitignore``) the .gitignore lines."""
    settings: str
    pin: str
    recorded: str
    series: str
    gitignore: bool


@record
class BuildingWheel(Event):
    """install: a wheel of ``tree`` with ``patches`` patches applied is built by ``python``."""
    tree: str
    patches: int
    python: str


@record
class WheelWritten(Event):
    """install --wheel-dir: the wheel was written to ``path`` (no install)."""
    path: str


@record
class DistInstalled(Event):
    """install: ``dist`` ``version`` went into the folder ``target``, or (None) into ``python``'s
    environment, built from ``pin`` with ``patches`` patches."""
    dist: str
    version: str
    target: Optional[str]
    python: str
    pin: str
    patches: int


@record
class Upgrading(Event):
    """upgrade: the series moves from the pin ``old`` to ``new`` (both described)."""
    old: str
    new: str


@record
class CommitImported(Event):
    """import --git: commit ``sha`` became the patch ``patch``."""
    sha: str
    patch: str


# -- outcomes ------------------------------------------------------------
class Stop(Enum):
    """Why a push ended before its plan did."""
    CONFLICTS = "conflicts"  # a patch applied with conflicts to resolve
    FORCED = "forced"        # a patch forced on with rejects: needs refresh
    STOPPED = "stopped"      # a rebase stopped at a patch that does not apply, or is contained upstream


@record
class PushOutcome:
    pushed: List[str] = field(default_factory=list)  # names, in order
    stop: Optional[Stop] = None
    dry_run: bool = False

    def to_json(self, top: Optional[str]) -> Dict[str, Any]:
        return {"pushed": self.pushed, "stop": self.stop.value if self.stop else None, "top": top}


@record
class PopOutcome:
    popped: List[str] = field(default_factory=list)  # names, in order

    def to_json(self, top: Optional[str]) -> Dict[str, Any]:
        return {"popped": self.popped, "top": top}
