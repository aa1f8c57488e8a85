"""A patch's header as a commit (author, date, message) and back, exactly.

``to_commit`` reads a header for ``export --git``/``--mbox``; ``to_header``
writes one for ``import --git``. The pair round-trips byte for byte:
``to_commit`` picks the first form whose ``to_header`` gives the header back
unchanged, and falls back to keeping the header verbatim in the message.
The form (and the patch's series line) travel as two trailers at the end
of the message, as gbp pq's ``Gbp-Pq:`` does::

    F5quilt-Patch: 01-foo.patch [-p0] [-R]
    F5quilt-Header: dep3 | mail | none | verbatim

Forms:

* ``dep3``: ``Description:``/``Subject:`` (first line: the subject;
  continuation lines: the body, `` .`` for a blank line) and other
  one-line fields (kept as trailers, in order), then a blank line. The
  commit's author is ``Author:``/``From:``, its date ``Date:`` or
  ``Last-Update:``. A ``Description`` that is not the first field is
  recorded as ``dep3 KEY POSITION``.
* ``mail``: ``From:``, ``Date:`` (RFC 2822, as git writes it),
  ``Subject:``, a blank line, the body and a blank line; what ``import
  --git`` writes for a commit that carries no trailers.
* ``none``: no header (the subject is made from the patch's name).
* ``verbatim``: anything else, kept as is after a subject line.
"""
from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Tuple

ENC, ERRORS = "utf-8", "surrogateescape"
TRAILER_PATCH = "F5quilt-Patch"
TRAILER_HEADER = "F5quilt-Header"
TRAILER_UPSTREAM = "F5quilt-Upstream"
# a header without a date: a fixed one, so the same series always gives the same commits
FALLBACK_DATE = (946684800, 0)  # 2000-01-01T00:00:00Z
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FIELD_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):(?: (.*)|)$")
_PREFIX_RE = re.compile(r"^(\[[^]]*\]\s*)+")

Date = Tuple[int, int]  # (unix seconds, UTC offset in minutes)


@dataclass
class Commit:
    name: str          # author
    email: str
    date: Date
    message: str       # ends with a newline
    dated: bool = True  # False: the header had no date, ``date`` is the fallback


@dataclass
class Imported:
    header: str
    name: Optional[str]     # the patch's name, when the commit carries it
    options: str            # series options (-p0, -R) from the trailer


# -- dates and people ---------------------------------------------------
def format_date(date: Date) -> str:
    """RFC 2822 as git format-patch writes it: ``Thu, 1 Jan 2026 00:00:00 +0000``."""
    ts, off = date
    dt = datetime.fromtimestamp(ts, timezone(timedelta(minutes=off)))
    sign = "-" if off < 0 else "+"
    return (f"{DAYS[dt.weekday()]}, {dt.day} {MONTHS[dt.month - 1]} {dt.year} "
            f"{dt:%H:%M:%S} {sign}{abs(off) // 60:02d}{abs(off) % 60:02d}")


def git_date(date: Date) -> str:
    """The form GIT_AUTHOR_DATE takes."""
    ts, off = date
    sign = "-" if off < 0 else "+"
    return f"@{ts} {sign}{abs(off) // 60:02d}{abs(off) % 60:02d}"


def parse_date(value: str) -> Optional[Date]:
    value = value.strip()
    if not value:
        return None
    parsed = email.utils.parsedate_tz(value)
    found: Optional[Date] = None
    if parsed is not None and parsed[9] is not None:
        try:
            found = email.utils.mktime_tz(parsed), parsed[9] // 60
        except (OverflowError, ValueError):
            return None
    else:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        off = dt.utcoffset() or timedelta(0)
        found = int(dt.timestamp()), int(off.total_seconds()) // 60
    # git takes dates from 1970 on, and offsets within a day
    return found if found[0] >= 0 and abs(found[1]) < 24 * 60 else None


def parse_person(value: str) -> Tuple[str, str]:
    """``Name <email>`` (or a bare name, or a bare address) as (name, email)."""
    value = value.strip()
    m = re.match(r"^(.*?)\s*<([^<>]*)>\s*$", value)
    if m:
        name = m.group(1).strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('\\"', '"')
        return name or m.group(2), m.group(2).strip()
    if re.fullmatch(r"[^\s@<>]+@[^\s@<>]+", value):
        return value, value
    return value, ""


# -- export: header -> commit --------------------------------------------
def subject_from_name(name: str) -> str:
    base = name
    for ext in (".patch", ".diff", ".dpatch"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    return base or name


def to_commit(header: bytes, name: str, options: str, default_author: Tuple[str, str]) -> Commit:
    """The commit a patch header becomes; ``to_header`` of it gives ``header`` back."""
    text = header.decode(ENC, ERRORS)
    trailers = [f"{TRAILER_PATCH}: {name}" + (f" {options}" if options else "")]
    fields = _lenient_fields(text)
    author = parse_person(fields["author"]) if fields.get("author") else default_author
    date = parse_date(fields.get("date") or "") or parse_date(fields.get("last-update") or "")
    dated = date is not None
    commit = Commit(author[0], author[1], date or FALLBACK_DATE, "", dated)
    if not text:
        commit.message = f"{subject_from_name(name)}\n\n" + _trailers(trailers, "none")
        return commit
    for build in (_mail_message, _dep3_message):
        message = build(text, trailers, commit)
        if message is not None:
            trial = Commit(commit.name, commit.email, commit.date, message, dated)
            if to_header(trial).header == text:
                commit.message = message
                return commit
    subject = _one_line(fields.get("subject") or "") or _first_line(text) or subject_from_name(name)
    commit.message = f"{subject}\n\n{text}\n" + _trailers(trailers, "verbatim")
    return commit


def _trailers(lines: List[str], form: str) -> str:
    return "\n".join([*lines, f"{TRAILER_HEADER}: {form}"]) + "\n"


def _one_line(value: str) -> str:
    return _PREFIX_RE.sub("", value).strip()


def _first_line(text: str) -> str:
    for line in text.split("\n"):
        if line.strip() and not line.startswith("From "):
            return line.strip()[:100]
    return ""


def _lenient_fields(text: str) -> Dict[str, str]:
    """author, date, last-update, subject from wherever they are in the header."""
    found: Dict[str, str] = {}
    keys = {"from": "author", "author": "author", "date": "date", "last-update": "last-update",
            "subject": "subject", "description": "subject"}
    for line in text.split("\n"):
        m = _FIELD_RE.match(line.rstrip("\r"))
        if m and m.group(1).lower() in keys:
            found.setdefault(keys[m.group(1).lower()], (m.group(2) or "").strip())
    return found


def _dep3_message(text: str, trailers: List[str], commit: Commit) -> Optional[str]:
    if not text.endswith("\n\n") or "\r" in text:
        return None
    lines = text[:-2].split("\n")
    fields: List[str] = []
    key, pos, subject, body = "", 0, "", []
    in_description = False
    for line in lines:
        if line.startswith(" "):
            if not in_description:
                return None  # a continuation of another field: not this form
            body.append("" if line == " ." else line[1:])
            continue
        m = _FIELD_RE.match(line)
        if m is None:
            return None
        in_description = m.group(1).lower() in ("description", "subject") and not key
        if in_description:
            key, subject = m.group(1), (m.group(2) or "").strip()
            pos = len(fields)
            continue
        fields.append(line)
    if not key or not subject:
        return None
    form = "dep3" if key == "Description" and pos == 0 else f"dep3 {key} {pos + 1}"
    parts = [subject] + (["\n".join(body)] if body else []) + ["\n".join(fields + trailers) if fields
                                                               else "\n".join(trailers)]
    return "\n\n".join(parts) + f"\n{TRAILER_HEADER}: {form}\n"


def _mail_message(text: str, trailers: List[str], commit: Commit) -> Optional[str]:
    head, sep, body = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or len(lines) != 3 or not lines[2].startswith("Subject: "):
        return None
    subject = lines[2][len("Subject: "):]
    if not subject.strip():
        return None
    body = body[:-2] if body.endswith("\n\n") else body
    return "\n\n".join([subject] + ([body] if body else []) + [""]) + _trailers(trailers, "mail")


# -- import: commit -> header ---------------------------------------------
def to_header(commit: Commit) -> Imported:
    """The header ``import --git`` writes for a commit (and its trailers' name and options)."""
    msg = commit.message if commit.message.endswith("\n") else commit.message + "\n"
    lines = msg[:-1].split("\n")
    form, name, options = "", None, ""
    if (len(lines) >= 2 and lines[-1].startswith(f"{TRAILER_HEADER}: ")
            and lines[-2].startswith(f"{TRAILER_PATCH}: ")):
        form = lines[-1].split(": ", 1)[1].strip()
        words = lines[-2].split(": ", 1)[1].split()
        name, options = (words[0], " ".join(words[1:])) if words else (None, "")
        lines = lines[:-2]
    if form == "none":
        return Imported("", name, options)
    if form == "verbatim" and len(lines) >= 2 and lines[1] == "":
        return Imported("\n".join(lines[2:]), name, options)
    if form.startswith("dep3") and len(lines) >= 2 and lines[1] == "":
        words = form.split()
        key, pos = (words[1], int(words[2]) - 1) if len(words) == 3 and words[2].isdigit() else ("Description", 0)
        last = max(i for i, x in enumerate(lines) if x == "")
        desc = [f"{key}: {lines[0]}"] + [" ." if x == "" else " " + x for x in lines[2:last]]
        fields = lines[last + 1:]
        out = fields[:pos] + desc + fields[pos:]
        return Imported("\n".join(out) + "\n\n", name, options)
    if form == "mail" and len(lines) >= 2 and lines[1] == "" and lines[-1] == "":
        subject, body = lines[0], "\n".join(lines[2:-1])
    else:
        # a commit of any other origin: git's subject (the first paragraph) and body
        text = "\n".join(lines).strip("\n")
        para, _, rest = text.partition("\n\n")
        subject = " ".join(x.strip() for x in para.split("\n"))
        body = "\n".join(x.rstrip() for x in rest.strip("\n").split("\n")) if rest.strip() else ""
    person = f"{commit.name} <{commit.email}>"
    head = f"From: {person}\nDate: {format_date(commit.date)}\nSubject: {subject}\n\n"
    return Imported(head + (body + "\n\n" if body else ""), name, options)


def slug(subject: str) -> str:
    """A patch name made from a subject, as git format-patch makes file names."""
    s = re.sub(r"[^A-Za-z0-9._]+", "-", _one_line(subject)).strip("-.").lower()
    return (s[:52].rstrip("-.") or "patch") + ".patch"


# -- header --git: a block both DEP-3 readers and git am take -------------------
_SPECIALS_RE = re.compile(r'[,;:<>()\[\]@"\\]')
_MBOX_FROM_RE = re.compile(r"^From [0-9a-f]{7,40} ")


def person(name: str, mail: str) -> str:
    """``Name <mail>`` for a header line, the name quoted when a mail parser would split it."""
    if _SPECIALS_RE.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{mail}>" if mail else name


class HeaderDateError(ValueError):
    pass


def git_header(text: str, *, author: Optional[str], default_author: str, now: Date,
               fallback_subject: str) -> str:
    """``text`` (a patch header) with a ``From:``/``Date:``/``Subject:`` block first.

    DEP-3 takes the block as its first set of fields (``From`` for ``Author``,
    ``Subject`` for ``Description``) and the free text after it as the long
    description; ``git am`` takes it as a mail header and the rest as the
    message. A leading DEP-3 field set is turned into the block: its
    Description/Subject (first line: the subject, continuation lines: the
    body), Author/From and Date; its other fields (Origin, Bug, Forwarded...)
    go last, as DEP-3's second set of fields, which git keeps as trailers.
    A free-form header gives its first line as the subject. ``author``
    overrides the header's; a header without one gets ``default_author``;
    without a date, DEP-3's ``Last-Update``, else ``now``. Applying it twice changes nothing more.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and _MBOX_FROM_RE.match(lines[0]):
        lines = lines[1:]  # git format-patch's "From <sha> Mon Sep 17 ..." line
    while lines and not lines[0].strip():
        lines.pop(0)
    first: List[str] = []
    while lines and lines[0].strip():
        first.append(lines.pop(0))
    rest = "\n".join(lines).strip("\n")
    fields = _field_set(first)
    if fields is not None and not any(_known_field(key) for key, _v, _c in fields):
        fields = None  # "utils: speed up x": git's `area: what` subject, not a DEP-3 field set
    subject, body, found_author, found_date, others = "", [], "", "", []
    if fields is None:
        if first:
            subject = first[0].strip()
            body = [x.rstrip() for x in first[1:]]
    else:
        for key, value, cont in fields:
            low = key.lower()
            if low in ("subject", "description") and not subject:
                subject = _one_line(value) if low == "subject" else value.strip()
                body = ["" if c.strip() == "." else c[1:] if c.startswith(" ") else c for c in cont]
            elif low in ("from", "author") and not found_author:
                found_author = " ".join([value.strip()] + [c.strip() for c in cont])
            elif low == "date" and not found_date:
                found_date = value.strip()
            else:
                others.append("\n".join([f"{key}: {value}".rstrip()] + cont))
    last_update = next((v for k, v, _ in fields or [] if k.lower() == "last-update"), "")
    if found_date:
        parsed = parse_date(found_date)
        if parsed is None:
            raise HeaderDateError(found_date)
        date = parsed
    else:
        date = parse_date(last_update) or now
    if author is None:
        author = found_author or default_author
    name, mail = parse_person(author)
    out = [f"From: {person(name, mail)}", f"Date: {format_date(date)}",
           f"Subject: {subject or fallback_subject}", ""]
    paragraphs = ["\n".join(body).strip("\n"), rest, "\n".join(others)]
    for para in paragraphs:
        if para:
            out += [para, ""]
    return "\n".join(out) + "\n"


# the fields of DEP-3 and of a mail header a patch's header starts with
_KNOWN_FIELDS = {"description", "subject", "from", "author", "date", "origin", "bug", "forwarded",
                 "applied-upstream", "reviewed-by", "acked-by", "last-update", "signed-off-by",
                 "index", "patch-name", "message-id", "to", "cc", "content-type", "mime-version",
                 "content-transfer-encoding", "f5quilt-header"}


def _known_field(key: str) -> bool:
    low = key.lower()
    return low in _KNOWN_FIELDS or low.startswith(("bug-", "x-"))


def _field_set(lines: List[str]) -> Optional[List[Tuple[str, str, List[str]]]]:
    """A paragraph of RFC 2822-like fields (key, first-line value, continuation lines), or None."""
    if not lines:
        return None
    out: List[Tuple[str, str, List[str]]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and out:
            out[-1][2].append(line)
            continue
        m = _FIELD_RE.match(line.rstrip())
        if m is None:
            return None
        out.append((m.group(1), m.group(2) or "", []))
    return out
