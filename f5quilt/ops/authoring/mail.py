"""quilt's mail: a patch series as messages (subjects, recipients from the headers' tags,
replies), written as an mbox or handed to sendmail."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, Optional

from f5quilt.errors import F5QuiltError
from f5quilt import proc
from f5quilt import events as ev
from f5quilt.events import Emit
from f5quilt.repo.workspace import Workspace


# -- mail --------------------------------------------------------------------
_SUBJECT_PREFIX = re.compile(r"^(?:(?:\[[^\]]*\]|fwd:|fw:|re:|aw:|tr:)[ \t]*)*", re.I)


_CC_TAGS = ("signed-off-by", "acked-by", "suggested-by", "reviewed-by", "requested-by", "reported-by",
            "tested-by", "cc")


def _header_value(text: str, name: str) -> Optional[str]:
    """quilt's extract_header_value: NAME's value with its continuation lines, or None."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lower().startswith(name.lower() + ":"):
            value = [line[len(name) + 1:]]
            for more in lines[i + 1:]:
                if not more or not more.startswith((" ", "\t")):
                    break
                value.append(more)
            return "\n".join(value)
    return None


def _join(text: str) -> str:
    return " ".join(text.split())


def patch_subject(header: str) -> Optional[str]:
    """quilt's subject of a patch: a Subject: header (continuation lines kept), else a
    DESC..EDESC block, else a first paragraph shorter than 150 characters; then
    [..], Re:, Fwd: ... prefixes dropped."""
    return _mail_parts(header, header)[0]


def _mail_parts(header: str, whole: str) -> tuple[Optional[str], str]:
    """(subject, body) of a patch as quilt_mail_patch_filter cuts them."""
    subject = _header_value(header, "Subject")
    body = ""
    lines = whole.split("\n")
    if subject and subject.strip():
        k = lines.index("") if "" in lines else len(lines)
        body = "\n".join(lines[k + 1:])
    else:
        subject = None
        hl = header.split("\n")
        if any(l.startswith("DESC") for l in hl):
            start = next(i for i, l in enumerate(hl) if l.startswith("DESC"))
            desc = []
            for l in hl[start + 1:]:
                if l.startswith("EDESC"):
                    break
                desc.append(l)
            if "\n".join(desc).strip():
                subject = _join(" ".join(desc))
                kept, inside = [], False
                for l in lines:
                    if l.startswith("DESC"):
                        inside = True
                    if not inside:
                        kept.append(l)
                    if l.startswith("EDESC"):
                        inside = False
                body = "\n".join(kept)
        if subject is None:
            para = []
            for l in hl:
                para.append(l)
                if not l.strip(" \t"):
                    break
            text = "\n".join(para)
            text = text[:-1] if text.endswith("\n") else text
            if 0 < len(text) < 150:
                subject = _join(text)
                k = next((i for i, l in enumerate(lines) if not l.strip(" \t")), len(lines))
                body = "\n".join(lines[k + 1:])
    if not subject:
        return None, ""
    if subject[:1] in (" ", "\t"):  # quilt's sed is anchored before the space after "Subject:";
        return subject.lstrip(" \t").rstrip("\n"), body  # continuation lines kept, as quilt's header
    return _SUBJECT_PREFIX.sub("", _join(subject)) or None, body


def _address(value: str, charset: str = "UTF-8") -> str:
    """An address as quilt's edmail writes it: the name quoted when it must be, a
    non-ASCII name as an RFC 2047 q-word."""
    import email.utils  # lazy: start-up
    name, addr = email.utils.parseaddr(value)
    if not addr:
        return value
    if name and not name.isascii():
        raw = name.encode("utf-8")
        word = "".join(chr(b) if 0x21 <= b <= 0x7e and b not in (0x3d, 0x3f, 0x5f) else f"={b:02X}" for b in raw)
        return f"=?{charset}?q?{word}?= <{addr}>"
    return email.utils.formataddr((name, addr))


def _deliver(value: str) -> str:
    import email.utils  # lazy: start-up
    return email.utils.parseaddr(value)[1] or value


def _recipients(header: str, field: str, charset: str) -> list[str]:
    """To: the header's To: lines; Cc: its Signed-off-by/Acked-by/.../Cc lines (quilt's
    rule), the user's own address (LOGNAME@) left out."""
    import getpass  # lazy: start-up
    names = ("to",) if field == "to" else _CC_TAGS
    me = (os.environ.get("LOGNAME") or getpass.getuser()) + "@"
    out: list[str] = []
    for line in header.split("\n"):
        m = re.match(r"^([A-Za-z-]+):\s*(.*@.*)$", line)
        if m and m.group(1).lower() in names and not re.search(r"\b" + re.escape(me), line):
            value = _address(m.group(2).strip(), charset)
            if value not in out:
                out.append(value)
    return out


def _reply_headers(path: str) -> tuple[list[str], str, list[str]]:
    """quilt's in_reply_to_header/references_header for the message in PATH, and its subject:
    (In-Reply-To lines, subject, References ids)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        raise F5QuiltError(f"File {path} does not exist") from None
    head = text.split("\n\n", 1)[0]
    msgid = (_header_value(head, "Message-ID") or "").strip()
    refs = (_header_value(head, "References") or "").strip()
    if not refs:
        irt = (_header_value(head, "In-Reply-To") or "").strip()
        if irt and irt.count("@") < 2:
            refs = irt
    ids = [r.strip() for r in refs.split("\n") if r.strip()] if refs else []
    if msgid:
        ids.append(msgid)
    subject = re.sub(r"^ *(?:[rR][eE]: *)*", "", (_header_value(head, "Subject") or "").strip("\n"))
    return ([f"In-Reply-To: {msgid}"] if msgid else []), _join(subject), ids


def mail_messages(ws: Workspace, patches: list[str], *, sender: str, prefix: str, subject: Optional[str],
                  message: Optional[str], sender_from: Optional[str], to: list[str], cc: list[str],
                  bcc: list[str], signature: Optional[str], charset: str = "UTF-8",
                  reply_to: Optional[str] = None) -> list[tuple[list[str], str]]:
    """quilt's mail: an introduction ([PREFIX 0/N]) and one message per patch ([PREFIX n/N]
    its subject, References: the introduction), each as (envelope recipients, message
    text with its Bcc: header): the headers, their order and the bodies as GNU quilt 0.66
    writes them. (quilt's --reply-to also mails the patches to the replied-to message's
    id and drops the last Cc/Bcc, as its awk keeps a References: continuation line; not
    copied.)"""
    import email.utils  # lazy: start-up
    import time as _time  # lazy: start-up
    from f5quilt.model.patch import patch_header  # lazy: start-up
    parts: Dict[str, tuple[str, str, str]] = {}
    for name in patches:
        pf = ws.patch_file(name)
        if not pf.is_file():
            raise F5QuiltError(f"Patch {ws.display(name)} does not exist")
        whole = pf.read_bytes().decode("utf-8", "surrogateescape")
        header = patch_header(whole.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")
        sub, body = _mail_parts(header, whole)
        if not sub:
            raise F5QuiltError(f"Unable to extract a subject header from {ws.display(name)}")
        parts[name] = (sub, body, header)
    seen: Dict[str, list[str]] = {}
    for name in patches:
        seen.setdefault(_join(parts[name][0]), []).append(name)
    dups = [n for names in sorted(seen.items()) if len(names[1]) > 1 for n in names[1]]
    if dups:
        raise F5QuiltError(f"Patches {', '.join(ws.display(n) for n in dups)} have duplicate subject headers.")
    reply_lines: list[str] = []
    refs: list[str] = []
    if reply_to:
        reply_lines, old_subject, refs = _reply_headers(reply_to)
        if not subject:
            subject = f"Re: {old_subject}"
    if not subject:
        raise F5QuiltError("Introduction has no subject header")
    total = len(patches)
    width = len(str(total))
    address = re.sub(r".*<([^<>]+)>.*", r"\1", sender)
    domain = address.split("@", 1)[-1]
    start = _time.time()

    def msgid(k: int) -> str:
        t = start + k * 0.001
        return f"<{_time.strftime('%Y%m%d%H%M%S', _time.gmtime(t))}.{int((t % 1) * 1e9):09d}@{domain}>"

    def recipients(*groups: list[str]) -> tuple[list[list[str]], list[str]]:
        taken: set[str] = set()
        shown: list[list[str]] = []
        envelope: list[str] = []
        for group in groups:
            kept = []
            for r in group:
                addr = _address(r, charset)
                d = _deliver(addr)
                if d not in taken:
                    taken.add(d)
                    kept.append(addr)
                    envelope.append(d)
            shown.append(kept)
        return shown, envelope

    def render(num: int, sub: str, extra_to: list[str], extra_cc: list[str], body: str,
               references: list[str], mime: bool) -> tuple[list[str], str]:
        (t, c, b), envelope = recipients(to + extra_to, cc + extra_cc, bcc)
        lines = [f"Message-ID: {msgid(num)}", "User-Agent: f5quilt",
                 f"Date: {email.utils.formatdate(int(start) + num, localtime=True)}",
                 f"From: {sender_from or sender}"]
        for field, values in (("To", t), ("Cc", c), ("Bcc", b)):
            if values:
                lines.append(f"{field}: " + ",\n ".join(values))
        if num == 0:
            lines += reply_lines
            if references:
                lines.append("References: " + "\n ".join(references))
        lines.append(f"Subject: [{prefix} {num:0{width}d}/{total}] {sub}")
        if num:
            lines.append("References: " + "\n ".join(references))
        if mime:
            lines += ["MIME-Version: 1.0", f"Content-Type: text/plain; charset={charset}"]
        return envelope, "\n".join(lines) + "\n\n" + body

    out = []
    intro_body = (f"{message}\n\n" if message else "") + (f"-- \n{signature}\n" if signature else "")
    out.append(render(0, subject, [], [], intro_body, refs, False))
    for num, name in enumerate(patches, 1):
        sub, body, header = parts[name]
        if not body.endswith("\n"):
            body += "\n"
        out.append(render(num, sub, _recipients(header, "to", charset), _recipients(header, "cc", charset),
                          body + "\n", refs + [msgid(0)], True))
    return out


def mbox(messages: list[tuple[list[str], str]], sender: str) -> bytes:
    """The messages as quilt's --mbox writes them: a From line, ">From " quoting."""
    import time as _time  # lazy: start-up
    address = re.sub(r".*<([^<>]+)>.*", r"\1", sender)
    lt = _time.localtime()
    stamp = _time.strftime("%a %b ", lt) + f"{lt.tm_mday:2d}" + _time.strftime(" %H:%M:%S %Y", lt)
    out = []
    for _envelope, text in messages:
        quoted = re.sub(r"(?m)^From ", ">From ", text)
        out.append(f"From {address} {stamp}\n{quoted}\n")
    return "".join(out).encode("utf-8", "surrogateescape")


def send(messages: list[tuple[list[str], str]], sender: str, emit: Emit,
         env: Dict[str, str]) -> None:
    """quilt's --send: each message, its Bcc: header removed, piped into
    ``${QUILT_SENDMAIL:-sendmail} ${QUILT_SENDMAIL_ARGS--f SENDER} RECIPIENTS``, the
    command line printed first."""
    cmd = (env.get("QUILT_SENDMAIL") or "sendmail").split()
    args = env["QUILT_SENDMAIL_ARGS"].split() if "QUILT_SENDMAIL_ARGS" in env else ["-f", sender]
    for envelope, text in messages:
        full = cmd + args + envelope
        emit(ev.SendingMail(tuple(full)))
        head, _, body = text.partition("\n\n")
        kept = re.sub(r"(?im)^bcc:.*\n(?:[ \t].*\n)*", "", head + "\n")
        proc.run(full, input=(kept + "\n" + body).encode("utf-8", "surrogateescape"), what=cmd[0],
                 stdout=proc.INHERIT, stderr=proc.INHERIT)  # its words are the user's to read
