"""The patch model: unidiff underneath, plus what unidiff leaves out.

unidiff parses the structure (file headers, git extended headers, hunks).
This layer adds what f5quilt needs and unidiff does not give (see
FINDINGS.md): byte-faithful lines (CRLF kept, ``\\ No newline at end of
file`` folded into the line it marks), ``index`` blob ids, copies told
apart from renames, binary patches flagged, hunks with more lines than
their header counts rejected (ignored past the counts in quilt mode, as GNU
patch does), and every error tied to a patch line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple, Union

from unidiff.constants import (RE_DIFF_GIT_DELETED_FILE, RE_DIFF_GIT_HEADER,
                               RE_DIFF_GIT_HEADER_NO_PREFIX, RE_DIFF_GIT_HEADER_URI_LIKE,
                               RE_TARGET_FILENAME)
from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk as UHunk
from unidiff.patch import PatchedFile, PatchSet

from f5quilt.model.binpatch import BinaryHunk, BinaryPatchError, parse_binary
from f5quilt.model import contextdiff
from f5quilt.errors import PatchFormatError
from f5quilt.model.gnunames import cut_away, fetchname, parse_c_string, parse_git_header

ENCODING = "utf-8"
ERRORS = "surrogateescape"  # decode any byte, re-encode it unchanged
DEV_NULL = "/dev/null"
# the epoch (GNU patch: "the file does not exist"), in diff -u's and in diff -c's (ctime's) format
EPOCH_RE = re.compile(r"^(19(69-12-31|70-01-01) |[A-Z][a-z]{2} (Dec 31 .* 1969|Jan  1 .* 1970)$)")

# quilt's patch_header(): the header ends at the first line that starts a diff
HEADER_END_RE = re.compile(rb"^(---|\*\*\*|Index:)[ \t][^ \t]|^diff -")
UNIFIED_HUNK_RE = re.compile(rb"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
INDEX_RE = re.compile(r"^index ([0-9a-f]+)\.\.([0-9a-f]+)")


def split_lines(data: bytes) -> List[bytes]:
    """Split on LF only, keeping terminators: CR stays part of the line."""
    if not data:
        return []
    parts = data.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


@dataclass
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str
    # (tag, bytes) with tag in " -+"; bytes carry their own line terminator
    lines: List[Tuple[str, bytes]]
    line: int  # line of the @@ header in the patch file

    @property
    def old_lines(self) -> List[bytes]:
        return [text for tag, text in self.lines if tag != "+"]

    @property
    def new_lines(self) -> List[bytes]:
        return [text for tag, text in self.lines if tag != "-"]

    @property
    def leading_context(self) -> int:
        n = 0
        for tag, _ in self.lines:
            if tag != " ":
                break
            n += 1
        return n

    @property
    def trailing_context(self) -> int:
        n = 0
        for tag, _ in reversed(self.lines):
            if tag != " ":
                break
            n += 1
        return n

    def without_cr(self) -> "Hunk":
        """The hunk with the CR of every CRLF line end removed (GNU patch's CR stripping)."""
        def strip(text: bytes) -> bytes:
            if text.endswith(b"\r\n"):
                return text[:-2] + b"\n"
            return text[:-1] if text.endswith(b"\r") else text
        return Hunk(self.old_start, self.old_len, self.new_start, self.new_len, self.section,
                    [(t, strip(x)) for t, x in self.lines], self.line)

    def reversed(self) -> "Hunk":
        swap = {"+": "-", "-": "+", " ": " "}
        return Hunk(self.new_start, self.new_len, self.old_start, self.old_len,
                    self.section, [(swap[t], x) for t, x in self.lines], self.line)

    def to_bytes(self) -> bytes:
        """The hunk in unified format, as a .rej file wants it."""
        def rng(start: int, length: int) -> str:
            return f"{start}" if length == 1 else f"{start},{length}"
        head = f"@@ -{rng(self.old_start, self.old_len)} +{rng(self.new_start, self.new_len)} @@"
        if self.section:
            head += " " + self.section
        out = [head.encode(ENCODING, ERRORS) + b"\n"]
        for tag, text in self.lines:
            out.append(tag.encode() + text)
            if not text.endswith(b"\n"):
                out.append(b"\n\\ No newline at end of file\n")
        return b"".join(out)


@dataclass
class FilePatch:
    old_name: str
    new_name: str
    line: int
    hunks: List[Hunk] = field(default_factory=list)
    old_mode: Optional[str] = None
    new_mode: Optional[str] = None
    rename: bool = False
    copy: bool = False
    binary: bool = False
    index: Optional[Tuple[str, str]] = None
    old_timestamp: Optional[str] = None
    new_timestamp: Optional[str] = None
    git: bool = False
    notes: List[str] = field(default_factory=list)  # said when the patch is applied
    # a "GIT binary patch": its forward hunk and, when the patch has one, its
    # reverse hunk (swapped by reversed()); binary without data is the
    # "Binary files A and B differ" placeholder
    binary_data: bool = False
    binary_forward: Optional[BinaryHunk] = None
    binary_reverse: Optional[BinaryHunk] = None

    @property
    def creates(self) -> bool:
        if self.old_name == DEV_NULL:
            return True
        if self.old_timestamp and EPOCH_RE.match(self.old_timestamp):
            return True
        return False

    @property
    def deletes(self) -> bool:
        if self.new_name == DEV_NULL:
            return True
        if self.new_timestamp and EPOCH_RE.match(self.new_timestamp):
            return True
        return False

    def reversed(self) -> "FilePatch":
        return FilePatch(
            self.new_name, self.old_name, self.line, [h.reversed() for h in self.hunks],
            old_mode=self.new_mode, new_mode=self.old_mode, rename=self.rename, copy=False,
            binary=self.binary, index=(self.index[1], self.index[0]) if self.index else None,
            old_timestamp=self.new_timestamp, new_timestamp=self.old_timestamp, git=self.git,
            notes=self.notes, binary_data=self.binary_data,
            binary_forward=self.binary_reverse, binary_reverse=self.binary_forward)


@dataclass
class Patch:
    path: str
    header: bytes
    files: List[FilePatch]
    crlf: bool = False  # every line ends in CRLF: maybe a patch mangled by an editor

    def reversed(self) -> "Patch":
        return Patch(self.path, self.header, [f.reversed() for f in self.files], self.crlf)


def patch_header(data: bytes) -> bytes:
    """The description before the first diff, byte for byte (quilt's rule)."""
    pos = 0
    for line in split_lines(data):
        if HEADER_END_RE.match(line):
            break
        pos += len(line)
    return data[:pos]


class _Counted:
    """Iterator over decoded lines that remembers how far unidiff read."""

    def __init__(self, lines: Sequence[str]) -> None:
        self._lines = lines
        self.consumed = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.consumed += 1
            yield line


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of unusual file names (GNU patch's parse_c_string)."""
    raw = name.encode(ENCODING, ERRORS)
    if len(raw) >= 2 and raw[:1] == b'"':
        parsed = parse_c_string(raw)
        if parsed is not None and parsed[1] == len(raw):
            return parsed[0].decode(ENCODING, ERRORS)
    return name


def _for_unidiff(text_lines: List[str]) -> List[str]:
    """The lines as unidiff should see them: the same, except a git diff's
    ``+++`` line whose name, read unidiff's way (up to a tab), is not the one
    unidiff took from ``diff --git`` (a timestamp after spaces, a name with
    spaces and no tab): unidiff would refuse it ("Target without source"),
    where GNU patch goes by the ``+++`` line. unidiff is shown its own name;
    the names are read from the raw lines afterwards (``_header_names``)."""
    out = text_lines
    target: Optional[str] = None
    for i, line in enumerate(text_lines):
        if line.startswith("diff --git "):
            m = (RE_DIFF_GIT_HEADER.match(line) or RE_DIFF_GIT_HEADER_URI_LIKE.match(line)
                 or RE_DIFF_GIT_HEADER_NO_PREFIX.match(line))
            target = m.group("target") if m else None
        elif line.startswith("@@"):
            target = None
        elif target is not None and RE_DIFF_GIT_DELETED_FILE.match(line):
            target = DEV_NULL
        elif target is not None and line.startswith("+++ "):
            m = RE_TARGET_FILENAME.match(line)
            if m and m.group("filename") != target:
                if out is text_lines:
                    out = list(text_lines)
                out[i] = f"+++ {target}\n"
    return out


def parse_patch(data: bytes, path: Union[str, Path], lenient_counts: bool = False) -> Patch:
    """Parse a patch file's bytes; raise PatchFormatError naming path:line.

    A hunk with more lines than its ``@@`` header counts is refused, unless
    ``lenient_counts`` (quilt mode): then, as GNU patch does, the hunk ends
    where its counts say and the lines after it are ignored, with a note.
    """
    raw_lines = split_lines(data)
    text_lines = [raw.decode(ENCODING, ERRORS) for raw in raw_lines]
    # no line of stars, no context diff: the usual case costs one search of the bytes
    has_stars = data.startswith(contextdiff.STARS) or b"\n" + contextdiff.STARS in data
    context_files = _context_files(raw_lines, path) if has_stars else []
    for_unidiff = _for_unidiff(text_lines)
    if context_files:
        # unidiff reads unified and git diffs only: it sees a neutral line in place of
        # each line of a context diff (the line numbers stay)
        for_unidiff = list(for_unidiff)
        for first, end, _fp in context_files:
            for i in range(first, end):
                for_unidiff[i] = CONTEXT_PLACEHOLDER
    counted = _Counted(for_unidiff)
    try:
        # unidiff checks the structure (files, hunks, their counts and line kinds) without
        # making an object per line; each hunk's lines are then read from the raw bytes at
        # the place unidiff's counts give (_raw_hunks). A patch where the two disagree is
        # parsed again with unidiff's own lines (never seen on the Debian corpus)
        patchset = PatchSet(counted, metadata_only=True)
    except UnidiffParseError as exc:
        raise PatchFormatError(path, counted.consumed, str(exc).split(":")[0].strip()) from None
    files: List[FilePatch] = []
    try:
        for pf in patchset:
            files.append(_file_patch(pf, text_lines, path, lenient_counts, raw_lines))
    except _Disagree:
        counted = _Counted(for_unidiff)
        try:
            patchset = PatchSet(counted)
        except UnidiffParseError as exc:
            raise PatchFormatError(path, counted.consumed, str(exc).split(":")[0].strip()) from None
        files = [_file_patch(pf, text_lines, path, lenient_counts) for pf in patchset]
    if context_files:
        files.extend(fp for _first, _end, fp in context_files)
        files.sort(key=lambda f: f.line)
    from_context = {id(fp) for _first, _end, fp in context_files}
    for n, fp in enumerate(files):
        end = files[n + 1].line - 1 if n + 1 < len(files) else len(raw_lines)
        if id(fp) in from_context:
            continue
        if not fp.binary or fp.git:
            _header_names(fp, raw_lines, end, path)
        if fp.binary and fp.git:
            _binary_data(fp, raw_lines, end, path)
    # unidiff takes a broken "@@" line for header text and drops its hunk: refuse it
    headers = {h.line for fp in files for h in fp.hunks}
    first_file = min((fp.line for fp in files), default=len(text_lines) + 1)
    for no, line in enumerate(text_lines, 1):
        if no > first_file and line.startswith("@@") and no not in headers:
            raise PatchFormatError(path, no, "malformed hunk header")
    if not files and any(HEADER_END_RE.match(x) for x in raw_lines):
        first = next(i for i, x in enumerate(raw_lines, 1) if HEADER_END_RE.match(x))
        raise PatchFormatError(path, first, "diff header without any hunk")
    crlf = bool(text_lines) and all(x.endswith("\r\n") for x in text_lines)
    return Patch(str(path), patch_header(data), files, crlf)


CONTEXT_PLACEHOLDER = "\x00f5quilt: a line of a context diff\n"


def _context_files(raw_lines: Sequence[bytes],
                   path: Union[str, Path]) -> List[Tuple[int, int, FilePatch]]:
    """The context-diff file sections (``diff -c``): (first index, end index, FilePatch),
    names and timestamps read as GNU patch reads them (``*** `` old, ``--- `` new)."""
    out: List[Tuple[int, int, FilePatch]] = []
    i = 0
    old_left = new_left = 0  # of the unified hunk being read: its lines are never a header
    while i < len(raw_lines):
        line = raw_lines[i]
        if old_left > 0 or new_left > 0:
            tag = line[:1]
            if tag in (b" ", b"\n", b"\r"):
                old_left, new_left = old_left - 1, new_left - 1
            elif tag == b"-":
                old_left -= 1
            elif tag == b"+":
                new_left -= 1
            elif tag != b"\\":
                old_left = new_left = 0
                continue
            i += 1
            continue
        m = UNIFIED_HUNK_RE.match(line)
        if m:
            old_left, new_left = int(m.group(1) or 1), int(m.group(2) or 1)
            i += 1
            continue
        if not contextdiff.starts_at(raw_lines, i):
            i += 1
            continue
        section = contextdiff.parse_section(raw_lines, i, path)
        fp = FilePatch(old_name="", new_name="", line=section.new_line)
        for h in section.hunks:
            fp.hunks.append(Hunk(h.old_start, h.old_len, h.new_start, h.new_len, h.section, h.lines, h.line))
        noted = False
        for index, side in ((i, "old"), (i + 1, "new")):
            rest = raw_lines[index][4:]
            name, stamp, ok = fetchname(rest)
            if not ok:
                raise PatchFormatError(path, index + 1, "malformed quoted file name")
            dropped = cut_away(rest)
            text_stamp = stamp.decode(ENCODING, ERRORS) if stamp and dropped is None else None
            setattr(fp, f"{side}_timestamp", text_stamp)
            setattr(fp, f"{side}_name", DEV_NULL if name is None else name.decode(ENCODING, ERRORS))
            if name is not None and dropped is not None and not noted:
                noted = True
                fp.notes.append(f"line {index + 1}: the file name is {name.decode(ENCODING, ERRORS)!r}, "
                                f"as GNU patch reads it: {dropped.decode(ENCODING, ERRORS)!r} after it is "
                                "not part of it (only a tab separates a name with spaces from a timestamp)")
        out.append((i, section.end, fp))
        i = section.end
    return out


def _header_names(fp: FilePatch, raw_lines: Sequence[bytes], end: int,
                  path: Union[str, Path]) -> None:
    """Re-read ``fp``'s file names (and timestamps) exactly as GNU patch reads them.

    unidiff takes everything up to a tab as the name; GNU patch ends a name at
    the first whitespace unless a tab follows (see gnunames). For a git diff
    the names of the ``diff --git`` line hold until ``---``/``+++`` lines
    give others, as in GNU patch.
    """
    def text(raw: bytes) -> str:
        return raw.decode(ENCODING, ERRORS)

    if fp.git:
        names = parse_git_header(raw_lines[fp.line - 1][len(b"diff --git "):])
        if names is not None:
            # GNU patch ignores the names of "rename from"/"copy from" lines (git leaves
            # out their prefix): those of diff --git, then of ---/+++, hold
            if fp.old_name != DEV_NULL:
                fp.old_name = text(names[0])
            if fp.new_name != DEV_NULL:
                fp.new_name = text(names[1])
        stop = min([end] + [h.line - 1 for h in fp.hunks])
        heads = [i for i in range(fp.line, stop) if raw_lines[i][:4] in (b"--- ", b"+++ ")]
        if len(heads) < 2:
            return
        minus, plus = heads[0], heads[1]
    else:
        plus = fp.line - 1
        minus = plus - 1
        if minus < 0 or raw_lines[minus][:4] != b"--- " or raw_lines[plus][:4] != b"+++ ":
            return
    noted = False
    for index, side in ((minus, "old"), (plus, "new")):
        rest = raw_lines[index][4:]
        name, stamp, ok = fetchname(rest)
        if not ok:
            if fp.git:
                continue  # GNU patch ignores a malformed name; the diff --git one holds
            raise PatchFormatError(path, index + 1, "malformed quoted file name")
        dropped = cut_away(rest)
        setattr(fp, f"{side}_timestamp", text(stamp) if stamp and dropped is None else None)
        if name is None:
            setattr(fp, f"{side}_name", DEV_NULL)
            continue
        setattr(fp, f"{side}_name", text(name))
        if dropped is not None and not noted:
            noted = True
            fp.notes.append(f"line {index + 1}: the file name is {text(name)!r}, as GNU patch reads it: "
                            f"{text(dropped)!r} after it is not part of it (only a tab separates "
                            "a name with spaces from a timestamp)")


def _binary_data(fp: FilePatch, raw_lines: Sequence[bytes], end: int,
                 path: Union[str, Path]) -> None:
    """Decode the ``GIT binary patch`` between ``fp``'s header and line ``end``."""
    for i in range(fp.line, end):  # 0-based index of the line after the header
        if raw_lines[i].rstrip(b"\r\n") == b"GIT binary patch":
            try:
                fp.binary_forward, fp.binary_reverse, _ = parse_binary(raw_lines, i + 1)
            except BinaryPatchError as exc:
                raise PatchFormatError(path, exc.line, exc.message) from None
            fp.binary_data = True
            return


def _file_patch(pf: PatchedFile, text_lines: Sequence[str],
                path: Union[str, Path], lenient_counts: bool = False,
                raw_lines: Optional[Sequence[bytes]] = None) -> FilePatch:
    """``fp`` from unidiff's file; ``raw_lines``: unidiff parsed without its lines
    (``metadata_only``), the hunks' lines are read from these (``_raw_hunks``)."""
    info = [str(x) for x in (pf.patch_info or [])]
    fp = FilePatch(
        # a patch saved with CRLF line ends must not make "a.txt\r" a file name
        old_name=_unquote((pf.source_file or "").rstrip("\r")),
        new_name=_unquote((pf.target_file or "").rstrip("\r")),
        line=pf.diff_line_no or 0,
        old_mode=pf.source_mode,
        new_mode=pf.target_mode,
        binary=bool(pf.is_binary_file),
        old_timestamp=pf.source_timestamp.rstrip("\r") if pf.source_timestamp else None,
        new_timestamp=pf.target_timestamp.rstrip("\r") if pf.target_timestamp else None,
        git=any(x.startswith("diff --git ") for x in info),
    )
    for x in info:
        m = INDEX_RE.match(x)
        if m:
            fp.index = (m.group(1), m.group(2))
        if x.startswith("rename from "):
            fp.rename = True
        if x.startswith("copy from "):
            fp.copy = True
        if x.startswith("rename from ") or x.startswith("copy from "):
            fp.old_name = "a/" + _unquote(x.split(" ", 2)[2].rstrip("\r\n"))
        if x.startswith("rename to ") or x.startswith("copy to "):
            fp.new_name = "b/" + _unquote(x.split(" ", 2)[2].rstrip("\r\n"))
    if raw_lines is not None:
        fp.hunks.extend(_raw_hunks(pf, raw_lines, text_lines, path, fp.notes if lenient_counts else None))
    else:
        for uh in pf:
            fp.hunks.append(_hunk(uh, text_lines, path, fp.notes if lenient_counts else None))
    extended = fp.rename or fp.copy or fp.binary or fp.old_mode or fp.new_mode
    if not fp.hunks and not extended:
        raise PatchFormatError(path, fp.line, f"no hunk for {fp.new_name or fp.old_name}")
    return fp


class _Disagree(Exception):
    """unidiff's hunk and the raw lines at its place do not match (parsed again in full)."""


EMPTY_BODY_RE = re.compile(rb"[\r\n]{1,2}")  # unidiff's empty context line: its value
NO_NEWLINE_RE = re.compile(rb"\\ No newline at end of file")  # unidiff's marker after a hunk


def _raw_hunks(pf: PatchedFile, raw_lines: Sequence[bytes], text_lines: Sequence[str],
               path: Union[str, Path], notes: Optional[List[str]]) -> List[Hunk]:
    """The hunks of unidiff's file ``pf`` (parsed ``metadata_only``: counts, no lines), each
    hunk's lines read from ``raw_lines`` as unidiff reads them: from its ``@@`` line on, until
    both counts are used up (a ``\\`` line marks the line before as having no newline), then
    the blank lines and ``\\ No newline`` markers unidiff attaches to the hunk after it."""
    out: List[Hunk] = []
    i = max((pf.diff_line_no or 1) - 1, 0)
    n = len(raw_lines)
    for uh in pf:
        while i < n and not UNIFIED_HUNK_RE.match(raw_lines[i]):
            i += 1
        if i >= n:
            raise _Disagree()
        m = UNIFIED_HUNK_RE.match(raw_lines[i])
        assert m is not None
        if int(m.group(1) or 1) != uh.source_length or int(m.group(2) or 1) != uh.target_length:
            raise _Disagree()
        header = i + 1  # 1-based, as the patch's line numbers
        old_left, new_left = uh.source_length, uh.target_length
        lines: List[Tuple[str, bytes]] = []
        i += 1
        first = True  # unidiff reads one line even for a hunk that counts none
        while (first or old_left > 0 or new_left > 0) and i < n:
            first = False
            raw = raw_lines[i]
            tag = raw[:1]
            if tag == b" ":
                lines.append((" ", raw[1:]))
                old_left, new_left = old_left - 1, new_left - 1
            elif tag == b"-":
                lines.append(("-", raw[1:]))
                old_left -= 1
            elif tag == b"+":
                lines.append(("+", raw[1:]))
                new_left -= 1
            elif tag == b"\\":
                _no_newline(lines, path, i + 1)
            elif tag in (b"\r", b"\n"):
                m2 = EMPTY_BODY_RE.match(raw)
                assert m2 is not None
                lines.append((" ", m2.group(0)))
                old_left, new_left = old_left - 1, new_left - 1
            else:
                raise _Disagree()
            i += 1
        if old_left != 0 or new_left != 0:
            raise _Disagree()
        last_no = i  # 1-based number of the hunk's last line
        while i < n and (raw_lines[i] == b"\n" or NO_NEWLINE_RE.match(raw_lines[i])):
            if raw_lines[i] != b"\n":
                _no_newline(lines, path, None)
            i += 1
        if last_no == header:
            header = 0  # no line at all: as unidiff's lines would say (the @@ line is then refused)
        hunk = Hunk(uh.source_start, uh.source_length, uh.target_start, uh.target_length,
                    uh.section_header or "", lines, header)
        out.append(_check_count(hunk, last_no, text_lines, path, notes))
    return out


def _no_newline(lines: List[Tuple[str, bytes]], path: Union[str, Path], no: Optional[int]) -> None:
    if not lines:
        raise PatchFormatError(path, no, "'\\ No newline' marker with no line before it")
    tag, text = lines[-1]
    if text.endswith(b"\n"):
        lines[-1] = (tag, text[:-1])


def _check_count(hunk: Hunk, last_no: int, text_lines: Sequence[str],
                 path: Union[str, Path], notes: Optional[List[str]]) -> Hunk:
    """unidiff stops at the counted length and silently drops what follows; hunk-like
    lines right after it mean the @@ counts are wrong."""
    header_line = hunk.line
    if last_no and last_no < len(text_lines):
        nxt = text_lines[last_no]
        if nxt.startswith("\\"):
            nxt = text_lines[last_no + 1] if last_no + 1 < len(text_lines) else ""
        if nxt[:1] in ("+", "-", " ") and not re.match(r"^(--- |\+\+\+ |-- ?\r?$)", nxt) \
                and nxt.strip() != "":
            if notes is not None:  # GNU patch: the hunk ends at its counts, the rest is garbage
                notes.append(f"line {last_no + 1}: ignored the lines after the hunk at line {header_line}, "
                             "which its header does not count (as GNU patch does)")
                return hunk
            raise PatchFormatError(
                path, last_no + 1,
                f"hunk at line {header_line} has more lines than its header counts")
    return hunk


def _hunk(uh: UHunk, text_lines: Sequence[str],
          path: Union[str, Path], notes: Optional[List[str]] = None) -> Hunk:
    """A hunk from unidiff's own line objects (the fallback of ``_raw_hunks``)."""
    lines: List[Tuple[str, bytes]] = []
    last_no = 0
    first_no: Optional[int] = None
    for ul in uh:
        if ul.diff_line_no is not None:
            last_no = ul.diff_line_no
            if first_no is None:
                first_no = ul.diff_line_no
        if ul.line_type == "\\":
            _no_newline(lines, path, ul.diff_line_no)
            continue
        if ul.line_type not in (" ", "+", "-"):
            continue  # unidiff's pseudo-line for a blank line after the hunk
        lines.append((ul.line_type, ul.value.encode(ENCODING, ERRORS)))
    header_line = (first_no - 1) if first_no else 0
    hunk = Hunk(uh.source_start, uh.source_length, uh.target_start,
                uh.target_length, uh.section_header or "", lines, header_line)
    return _check_count(hunk, last_no, text_lines, path, notes)


def load_patch(path: Path, display: Optional[str] = None, lenient_counts: bool = False) -> Patch:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PatchFormatError(display or path, None, "patch file not found") from None
    except IsADirectoryError:
        raise PatchFormatError(display or path, None, "is a directory, not a patch") from None
    return parse_patch(decompress(path.name, data, display or path), display or path, lenient_counts)


COMPRESSED = (".gz", ".bz2", ".xz", ".lzma")


def decompress(name: str, data: bytes, display: object = None) -> bytes:
    """A patch file named ``*.gz``/``.bz2``/``.xz``/``.lzma`` read as quilt reads it (uncompressed)."""
    import bz2
    import gzip
    import lzma
    try:
        if name.endswith(".gz"):
            return gzip.decompress(data)
        if name.endswith(".bz2"):
            return bz2.decompress(data)
        if name.endswith((".xz", ".lzma")):
            return lzma.decompress(data)
    except (OSError, EOFError, ValueError, lzma.LZMAError) as exc:
        raise PatchFormatError(str(display or name), None, f"cannot decompress: {exc}") from None
    return data


def compress(name: str, data: bytes) -> bytes:
    """The reverse of decompress(): what quilt writes back into a compressed patch file."""
    import bz2
    import gzip
    import lzma
    if name.endswith(".gz"):
        return gzip.compress(data, mtime=0)
    if name.endswith(".bz2"):
        return bz2.compress(data)
    if name.endswith(".xz"):
        return lzma.compress(data)
    if name.endswith(".lzma"):
        return lzma.compress(data, format=lzma.FORMAT_ALONE)
    return data


_QUILT_NAME_LINE = re.compile(rb"^[ \t]*(\+\+\+|---|\*\*\*)[ \t]+\S+(?:[ \t]+(\S+))?")


def quilt_file_names(data: bytes, strip: Union[int, str]) -> List[str]:
    """The files a patch names, read as quilt's own ``filenames_in_patch`` reads them (an awk
    script over the ``+++``/``---``/``***`` lines: the name runs to the first tab, spaces
    included; a name without enough ``/`` is kept whole), in the patch's order. quilt uses it
    for the patches it has not applied (``files``, ``patches``) and for the order of ``diff``;
    GNU patch may read a name otherwise (it ends an untabbed name at a space)."""
    levels = 1 if strip == "ab" else int(strip)
    seen: List[str] = []
    for raw in split_lines(data):
        m = _QUILT_NAME_LINE.match(raw)
        if not m:
            continue
        third = m.group(2)
        if (m.group(1) == b"---" and third == b"----") or (m.group(1) == b"***" and third == b"****"):
            continue
        line = raw.rstrip(b"\n").split(b"\t", 1)[0]
        if len(line) < 4 or line[3:4] != b" ":
            continue
        name = line[4:]
        if not name or name == b"/dev/null":
            continue
        for _ in range(levels):
            name = re.sub(rb"^[^/]+/", b"", name, count=1)
        text = name.decode(ENCODING, ERRORS)
        if text not in seen:
            seen.append(text)
    return seen
