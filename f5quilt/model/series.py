"""The series file: quilt's grammar, rewritten without losing comments.

One patch per line, optionally followed by patch options (``-p0``,
``-p1``, ``-pN``, ``-R``); ``#`` starts a comment (whole line or after
whitespace); blank lines are kept. Editing operations touch only the
lines of the patches they change, so comments and layout survive.

Guards (Mercurial MQ's ``qguard``) live in a patch line's comment, in MQ's
own form, so GNU quilt (which drops everything from a ``#`` after
whitespace) and hg read the same file::

    cuda-kernels.patch -p1 #+cuda #-cpu   # any other comment stays

``#+NAME``: pushed only when NAME (or another of its ``+`` guards) is
selected; ``#-NAME``: skipped when NAME is selected; no guard: always.
"""
from __future__ import annotations

from f5quilt.errors import F5QuiltError, located
from f5quilt.record import field, record

TYPE_CHECKING = False  # re, pathlib and typing stay out of a shell-prompt query's start-up
if TYPE_CHECKING:
    import re
    from pathlib import Path
    from typing import List, Optional, Tuple

    from f5quilt.model.patch import Patch

# one guard in a comment, as MQ's guard_re: '#' then + or -, then a name
_GUARD = r"(?:^|\s)#([-+][^-+#\s][^#\s]*)"
_GUARD_NAME = r"[^-+#\s][^#\s]*"


def _re(pattern: str) -> "re.Pattern[str]":
    """A guard pattern, compiled where guards are read or written (re's import and the
    compiling are a query's start-up time otherwise; re caches what it compiled)."""
    import re  # lazy: start-up
    return re.compile(pattern)


def _comment_start(line: str) -> int:
    """Where a comment starts, as ``(^|\\s)#.*$`` finds it (the whitespace before the ``#``, or
    0 for a ``#`` in front), or -1: a ``#`` at the start or after whitespace (quilt's sed)."""
    i = line.find("#")
    while i > 0 and not line[i - 1].isspace():  # str.isspace is re's \s, character for character
        i = line.find("#", i + 1)
    return max(i - 1, 0) if i >= 0 else -1


@record
class SeriesEntry:
    name: str
    strip: int = 1
    reverse: bool = False
    line: int = 0  # 1-based line in the series file
    guards: List[str] = field(default_factory=list)  # "+cuda", "-cpu", in the line's order

    def orient(self, patch: "Patch") -> "Patch":
        """The patch as this entry applies it: reversed for ``-R``."""
        return patch.reversed() if self.reverse else patch

    def options_text(self) -> str:
        opts = []
        if self.strip != 1:
            opts.append(f"-p{self.strip}")
        if self.reverse:
            opts.append("-R")
        return " ".join(opts)


@record
class Series:
    path: Path
    raw_lines: List[str] = field(default_factory=list)
    entries: List[SeriesEntry] = field(default_factory=list)

    @property
    def names(self) -> List[str]:
        return [e.name for e in self.entries]

    def index(self, name: str) -> int:
        for i, e in enumerate(self.entries):
            if e.name == name:
                return i
        raise F5QuiltError(f"Patch {name} is not in series")

    def get(self, name: str) -> Optional[SeriesEntry]:
        for e in self.entries:
            if e.name == name:
                return e
        return None

    def to_text(self) -> str:
        return "".join(self.raw_lines)

    # editing: each keeps comments and the other lines untouched
    def insert_after(self, after: Optional[str], entry: SeriesEntry) -> None:
        if self.get(entry.name):
            raise F5QuiltError(f"Patch {entry.name} exists already")
        line = entry.name + (" " + entry.options_text() if entry.options_text() else "") + "\n"
        if after is None:
            # before the first patch (after leading comments)
            pos = self.entries[0].line - 1 if self.entries else len(self.raw_lines)
        else:
            pos = self.entries[self.index(after)].line
        if pos > 0 and pos == len(self.raw_lines) and self.raw_lines and not self.raw_lines[-1].endswith("\n"):
            self.raw_lines[-1] += "\n"
        self.raw_lines.insert(pos, line)
        self._reparse()

    def remove(self, name: str) -> None:
        entry = self.entries[self.index(name)]
        del self.raw_lines[entry.line - 1]
        self._reparse()

    def rename(self, old: str, new: str) -> None:
        entry = self.entries[self.index(old)]
        raw = self.raw_lines[entry.line - 1]
        self.raw_lines[entry.line - 1] = raw.replace(old, new, 1)
        self._reparse()

    def set_guards(self, name: str, guards: List[str]) -> None:
        """Replace the guards of ``name``'s line (other comments kept; MQ's ``#+a #-b`` form)."""
        for g in guards:
            check_guard(g[1:] if g[:1] in "+-" else g, signed=True, given=g)
        entry = self.entries[self.index(name)]
        raw = self.raw_lines[entry.line - 1]
        eol = raw[len(raw.rstrip("\r\n")):]
        body = raw[:len(raw) - len(eol)]
        start = _comment_start(body)
        code, comment = (body[:start], body[start:]) if start >= 0 else (body, "")
        rest = _re(_GUARD).sub("", comment).strip()
        parts = [code.rstrip()] + [f"#{g}" for g in guards] + ([rest] if rest else [])
        self.raw_lines[entry.line - 1] = " ".join(parts) + (eol or "\n")
        self._reparse()

    def _reparse(self) -> None:
        self.entries = parse_series_lines(self.raw_lines, self.path)


def check_guard(name: str, *, signed: bool = False, given: str = "") -> str:
    """A guard name: not empty, no whitespace or '#', not starting with + or - (MQ's rule)."""
    if signed and given[:1] not in ("+", "-"):
        raise F5QuiltError(f"guard {given!r} must start with + or -")
    if not _re(_GUARD_NAME).fullmatch(name):
        raise F5QuiltError(f"invalid guard name {name!r}: no whitespace, no '#', "
                           "and it may not start with + or -")
    return name


def pushable(guards: List[str], selected: "set[str] | frozenset[str]") -> Tuple[bool, str]:
    """Whether a patch with ``guards`` is pushed under ``selected`` (MQ's rule), and the
    guard that decides: a selected ``-g`` skips it; ``+`` guards want one of them selected."""
    if not guards:
        return True, ""
    for g in guards:
        if g[0] == "-" and g[1:] in selected:
            return False, g
    positive = [g for g in guards if g[0] == "+"]
    if not positive:
        return True, ""
    for g in positive:
        if g[1:] in selected:
            return True, g
    return False, " ".join(positive)


def parse_series_lines(raw_lines: List[str], path: Path) -> List[SeriesEntry]:
    entries: List[SeriesEntry] = []
    seen: dict[str, int] = {}
    for no, raw in enumerate(raw_lines, 1):
        comment = ""
        if "#" in raw:
            line = raw.rstrip("\r\n")
            start = _comment_start(line)
            if start >= 0:
                line, comment = line[:start], line[start:]
            words = line.split()
        else:
            words = raw.split()  # the line's words: split() drops the line end and the blanks
        if not words:
            continue
        name = words[0]
        strip, reverse = 1, False
        for opt in words[1:]:
            if opt.startswith("-p") and opt[2:].isdecimal():  # -p(\d+): re's \d is isdecimal
                strip = int(opt[2:])
            elif opt == "-R":
                reverse = True
            elif opt in ("-p", "--strip"):
                raise F5QuiltError(located(path, no, f"option {opt} needs its number attached (-p1)"))
            else:
                raise F5QuiltError(located(path, no, f"unknown patch option {opt!r}"))
        if name in seen:
            raise F5QuiltError(located(path, no, f"patch {name} listed twice (first at line {seen[name]})"))
        if name.startswith("/") or (".." in name and ".." in name.split("/")):
            raise F5QuiltError(located(path, no, f"patch name {name} leaves the patches directory"))
        seen[name] = no
        entry = SeriesEntry(name, strip, reverse, no)
        if "#+" in comment or "#-" in comment:
            entry.guards = _re(_GUARD).findall(comment)
        entries.append(entry)
    return entries


def altered(applied: List[str], series: Series) -> bool:
    """quilt 0.68's consistency check: the patches applied below the top are not the
    series' patches before it, in the same order (the series was edited by hand).
    A patch with guards may be missing: the selected guards may have skipped it."""
    if not applied:
        return False
    names = series.names
    top = applied[-1]
    before = names[:names.index(top)] if top in names else names
    guarded = {e.name for e in series.entries if e.guards}
    if guarded:
        # f5quilt's guards (comments quilt ignores) may have skipped a patch: not an edit
        below = set(applied)
        before = [n for n in before if n in below or n not in guarded]
    return applied[:-1] != before


def load_series(path: Path) -> Series:
    """Read a series file; a missing file is an empty series (as in quilt)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
    except FileNotFoundError:
        return Series(path)
    raw = text.splitlines(keepends=True)
    return Series(path, raw, parse_series_lines(raw, path))
