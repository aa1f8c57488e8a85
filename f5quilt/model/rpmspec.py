"""An RPM spec file's %prep read without rpmbuild, as quilt's setup records it.

GNU quilt's setup runs ``rpmbuild -bp`` with wrappers around tar and patch that record
which archive is unpacked in which folder and which patch is applied where with which
``-p``/``-R``; then (0.66's default, "slow" mode) it replays only those records in the
target. This module gives the same records from the spec text: the Name/Version tags,
%define/%global/%bcond, SourceN/PatchN, simple %if, and %prep's %setup, %patch,
%autosetup and %autopatch. What it cannot evaluate (shell that unpacks, patches or
changes folder in ways it cannot follow, %(...), Lua, %ifarch) is a one-line error
naming the spec file and line, never a guessed tree.
"""
from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from f5quilt.errors import F5QuiltError

SECTIONS = ("%prep", "%build", "%install", "%check", "%clean", "%files", "%changelog", "%description",
            "%package", "%pre", "%post", "%preun", "%postun", "%pretrans", "%posttrans", "%trigger",
            "%triggerin", "%triggerun", "%triggerpostun", "%verifyscript", "%generate_buildrequires",
            "%conf", "%filetriggerin", "%filetriggerun", "%transfiletriggerin")
_BUILTIN_EMPTY = {"nil", "dist"}
# shell words in %prep that unpack, patch or move: their effect on quilt's record can't be guessed
_UNFOLLOWED = {"tar", "patch", "unzip", "7z", "gzip", "bzip2", "xz", "zstd", "lzma", "cpio", "pushd", "popd",
               "git", "rpmuncompress", "%{__tar}", "%{__patch}", "%{__unzip}", "%__tar", "%__patch"}


@dataclass
class Record:
    """One line of quilt's setup record: ``tar DIR ARCHIVE`` or ``patch DIR PATCH [OPTS]``."""
    tag: str
    dir: str
    name: str
    opts: str = ""


@dataclass
class Spec:
    path: str
    macros: Dict[str, str] = field(default_factory=dict)
    sources: Dict[int, str] = field(default_factory=dict)
    patches: Dict[int, str] = field(default_factory=dict)
    line: int = 0
    broken: Dict[str, F5QuiltError] = field(default_factory=dict)

    def fail(self, what: str) -> "F5QuiltError":
        return F5QuiltError(f"{self.path}:{self.line}: {what}; f5quilt reads spec files without rpmbuild "
                            "and cannot evaluate it")

    # -- macros ----------------------------------------------------------------
    def lookup(self, name: str) -> Optional[str]:
        m = re.fullmatch(r"(SOURCE|PATCH)(\d+)", name)
        if m:
            table = self.sources if m.group(1) == "SOURCE" else self.patches
            num = int(m.group(2))
            if num in table:
                return os.path.join(self.macros.get("_sourcedir", "."), table[num])
            return None
        if name in self.broken:
            raise self.broken[name]
        if name in self.macros:
            return self.macros[name]
        if name in _BUILTIN_EMPTY:
            return ""
        return None

    def expand(self, text: str, depth: int = 0) -> str:
        if depth > 20:
            raise self.fail("macro recursion too deep")
        out: List[str] = []
        i = 0
        while i < len(text):
            c = text[i]
            if c != "%":
                out.append(c)
                i += 1
                continue
            nxt = text[i + 1:i + 2]
            if nxt == "%":
                out.append("%")
                i += 2
            elif nxt == "{":
                j, level = i + 2, 1
                while j < len(text) and level:
                    level += {"{": 1, "}": -1}.get(text[j], 0)
                    j += 1
                if level:
                    raise self.fail(f"unbalanced braces in {text.strip()!r}")
                out.append(self._brace(text[i + 2:j - 1], depth))
                i = j
            elif nxt in ("(", "["):
                raise self.fail(f"{'shell' if nxt == '(' else 'expression'} expansion %{nxt}...")
            else:
                m = re.match(r"[?!]*[A-Za-z_][A-Za-z0-9_]*", text[i + 1:])
                if not m:
                    out.append(c)
                    i += 1
                    continue
                out.append(self._brace(m.group(0), depth))
                i += 1 + len(m.group(0))
        return "".join(out)

    def _brace(self, body: str, depth: int) -> str:
        if body.startswith(("lua:", "expand:", "uncompress:", "shrink:", "gsub", "sub ", "load:")):
            raise self.fail(f"the macro %{{{body.split(':')[0]}}}")
        m = re.fullmatch(r"(with|without)\s+(\w+)", body)
        if m:
            on = f"with_{m.group(2)}" in self.macros
            return "1" if on == (m.group(1) == "with") else "0"
        m = re.fullmatch(r"([SP]):\s*(\d+)", body)
        if m:
            body = ("SOURCE" if m.group(1) == "S" else "PATCH") + m.group(2)
        m = re.fullmatch(r"(!?\??!?)([A-Za-z_][A-Za-z0-9_]*)(?::(.*))?", body, re.S)
        if not m:
            raise self.fail(f"the macro %{{{body}}}")
        flags, name, alt = m.group(1), m.group(2), m.group(3)
        value = self.lookup(name)
        if "?" in flags:
            defined = value is not None and name not in _BUILTIN_EMPTY or name in self.macros
            if "!" in flags:
                defined = not defined
            if alt is not None:
                return self.expand(alt, depth + 1) if defined else ""
            return self.expand(value or "", depth + 1) if defined and "!" not in flags else ""
        if value is None:
            raise self.fail(f"the macro %{{{name}}} is not defined")
        return self.expand(value, depth + 1)

    # -- %if -------------------------------------------------------------------
    def condition(self, expr: str) -> bool:
        text = self.expand(expr).strip()
        m = re.fullmatch(r'"([^"]*)"\s*(==|!=)\s*"([^"]*)"', text)
        if m:
            return (m.group(1) == m.group(3)) == (m.group(2) == "==")
        if not re.fullmatch(r"[0-9\s()!<>=&|\"]*", text) or not text:
            raise self.fail(f"the condition %if {expr.strip()}")
        py = text.replace("&&", " and ").replace("||", " or ").replace('"', "")
        py = re.sub(r"!(?!=)", " not ", py)
        try:
            return bool(eval(py, {"__builtins__": {}}, {}))  # digits and operators only (checked above)
        except Exception:
            raise self.fail(f"the condition %if {expr.strip()}") from None


def _opts(spec: Spec, args: List[str], spec_: str, what: str) -> Tuple[Dict[str, List[str]], List[str]]:
    """getopt over ARGS with SPEC_ (``"qcDTn:a:b:"``): {letter: [values]}, positional args."""
    takes = {spec_[k] for k in range(len(spec_)) if k + 1 < len(spec_) and spec_[k + 1] == ":"}
    known = set(spec_.replace(":", ""))
    found: Dict[str, List[str]] = {}
    rest: List[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-") and len(a) > 1:
            k = 1
            while k < len(a):
                letter = a[k]
                if letter not in known:
                    raise spec.fail(f"the option -{letter} of {what}")
                if letter in takes:
                    value = a[k + 1:]
                    if not value:
                        i += 1
                        if i >= len(args):
                            raise spec.fail(f"-{letter} needs a value")
                        value = args[i]
                    found.setdefault(letter, []).append(value)
                    break
                found.setdefault(letter, []).append("")
                k += 1
        else:
            rest.append(a)
        i += 1
    return found, rest


def read_spec(path: str, text: str, sourcedir: str) -> List[Record]:
    """quilt setup's records for the spec file at PATH (its text TEXT)."""
    spec = Spec(path)
    spec.macros["_sourcedir"] = sourcedir or "."
    spec.macros["_builddir"] = "."
    lines = text.split("\n")
    # join continuation lines, keeping the first line's number
    joined: List[Tuple[int, str]] = []
    k = 0
    while k < len(lines):
        num, cur = k + 1, lines[k]
        while cur.endswith("\\") and k + 1 < len(lines):
            k += 1
            cur = cur[:-1] + "\n" + lines[k]
        joined.append((num, cur))
        k += 1
    stack: List[Tuple[bool, bool]] = []  # (this branch taken, parent active)
    section = "preamble"
    prep: List[Tuple[int, str]] = []
    autonum = -1
    for num, raw in joined:
        spec.line = num
        line = raw.strip()
        active = all(s[0] for s in stack)
        word = line.split(None, 1)[0] if line else ""
        if word in ("%if", "%ifarch", "%ifnarch", "%ifos", "%ifnos", "%elif", "%elifarch", "%elifos"):
            if word in ("%ifarch", "%ifnarch", "%ifos", "%ifnos", "%elifarch", "%elifos"):
                if active or word.startswith("%elif"):
                    raise spec.fail(f"{word} (it depends on the build machine)")
                stack.append((False, False))
                continue
            expr = line[len(word):]
            if word == "%if":
                spec.macros.pop(f"\0done{len(stack) + 1}", None)
                stack.append((spec.condition(expr) if active else False, active))
            else:
                if not stack:
                    raise spec.fail("%elif without %if")
                taken, parent = stack[-1]
                if taken or not parent or spec.macros.get(f"\0done{len(stack)}") == "1":
                    stack[-1] = (False, parent)
                    if taken:
                        spec.macros[f"\0done{len(stack)}"] = "1"
                else:
                    stack[-1] = (spec.condition(expr), parent)
            continue
        if word == "%else":
            if not stack:
                raise spec.fail("%else without %if")
            taken, parent = stack[-1]
            done = taken or spec.macros.get(f"\0done{len(stack)}") == "1"
            stack[-1] = (not done and parent, parent)
            continue
        if word == "%endif":
            if not stack:
                raise spec.fail("%endif without %if")
            spec.macros.pop(f"\0done{len(stack)}", None)
            stack.pop()
            continue
        if not active:
            continue
        if word in SECTIONS or word.startswith("%package"):
            section = word
            continue
        if word in ("%define", "%global"):
            parts = line.split(None, 2)
            if len(parts) < 2:
                raise spec.fail(f"{word} without a name")
            if "(" in parts[1]:
                raise spec.fail(f"the parametric macro {parts[1]}")
            body = parts[2] if len(parts) > 2 else ""
            if word == "%global":
                try:
                    body = spec.expand(body)
                except F5QuiltError as exc:  # an error only where the macro is used
                    spec.broken[parts[1]] = exc
                    spec.macros.pop(parts[1], None)
                    continue
            spec.broken.pop(parts[1], None)
            spec.macros[parts[1]] = body
            continue
        if word in ("%bcond_with", "%bcond_without", "%undefine") and len(line.split()) < 2:
            raise spec.fail(f"{word} without a name")
        if word in ("%bcond_with", "%bcond_without"):
            name = line.split()[1]
            if word == "%bcond_without":
                spec.macros[f"with_{name}"] = "1"
            continue
        if word == "%undefine":
            spec.macros.pop(line.split()[1], None)
            continue
        if section == "preamble" or section == "%package":
            m = re.match(r"^(Name|Version|Release|Epoch|Source|Patch)(\d*)\s*:\s*(.*?)\s*$", line, re.I)
            if m:
                tag, n, value = m.group(1).lower(), m.group(2), spec.expand(m.group(3))
                if "\0" in value:
                    raise spec.fail(f"a NUL byte in {m.group(1)}:")
                if tag in ("name", "version", "release", "epoch"):
                    if section == "preamble":
                        spec.macros[tag] = value
                        spec.macros[tag.upper()] = value
                elif tag == "source":
                    spec.sources[int(n or 0)] = value.rsplit("/", 1)[-1].split("#", 1)[0]
                else:
                    if n:
                        autonum = int(n)
                    else:
                        autonum += 1
                    spec.patches[int(n) if n else autonum] = value.rsplit("/", 1)[-1]
            continue
        if section == "%prep":
            prep.append((num, raw))
    if stack:
        raise spec.fail("%if without %endif")
    return _prep(spec, prep)


def _prep(spec: Spec, prep: List[Tuple[int, str]]) -> List[Record]:
    records: List[Record] = []
    cwd = "."

    def number(text: str, what: str) -> int:
        if not re.fullmatch(r"\d{1,9}", text):
            raise spec.fail(f"{what} {text!r} is not a number")
        return int(text)

    def inside(folder: str, what: str) -> str:
        """A folder %prep works in: inside the build folder, never ``..`` or absolute (quilt
        setup would unpack or write there, outside the tree)."""
        norm = os.path.normpath(folder)
        if os.path.isabs(norm) or norm == ".." or norm.startswith("../") or "\0" in norm:
            raise spec.fail(f"{what} {folder!r} leads outside the build folder")
        return norm

    def source(n: int) -> str:
        if n not in spec.sources:
            raise spec.fail(f"Source{n} is not defined")
        return spec.sources[n]

    def patch(n: int, opts: Dict[str, List[str]]) -> None:
        if n not in spec.patches:
            raise spec.fail(f"Patch{n} is not defined")
        # no -p: quilt's wrapper records none either (the series then means -p1, as quilt's does)
        strip = opts["p"][-1] if "p" in opts else None
        extra: List[str] = []
        if strip is not None and strip != "1":
            extra.append(f"-p{strip}")
        if "R" in opts:
            extra.append("-R")
        where = cwd
        if "d" in opts:
            where = inside(os.path.join(cwd, opts["d"][-1]), "%patch -d")
        records.append(Record("patch", where, spec.patches[n], " ".join(extra)))

    def setup(opts: Dict[str, List[str]]) -> None:
        nonlocal cwd
        name = opts["n"][-1] if "n" in opts else f"{spec.lookup('name')}-{spec.lookup('version')}"
        if spec.lookup("name") is None and "n" not in opts:
            raise spec.fail("%setup without -n and no Name:/Version:")
        name = inside(name, "%setup -n" if "n" in opts else "%setup's folder")
        cwd = "."
        for b in opts.get("b", []):
            records.append(Record("tar", ".", source(number(b, "%setup -b"))))
        if "c" in opts:
            cwd = name
            if "T" not in opts:
                records.append(Record("tar", name, source(0)))
        else:
            if "T" not in opts:
                records.append(Record("tar", ".", source(0)))
            cwd = name
        for a in opts.get("a", []):
            records.append(Record("tar", name, source(number(a, "%setup -a"))))

    def autopatch(opts: Dict[str, List[str]], nums: List[str]) -> None:
        chosen = sorted(spec.patches) if not nums else [number(x, "%autopatch") for x in nums]
        if "m" in opts:
            chosen = [n for n in chosen if n >= number(opts["m"][-1], "%autopatch -m")]
        if "M" in opts:
            chosen = [n for n in chosen if n <= number(opts["M"][-1], "%autopatch -M")]
        for n in chosen:
            patch(n, {k: v for k, v in opts.items() if k == "p"})

    for num, raw in prep:
        spec.line = num
        head = re.match(r"^\s*(%\{?(?:setup|autosetup|autopatch|patch\d*)\}?)(?=\s|$)", raw)
        line = (head.group(1) + spec.expand(raw[head.end():]) if head else spec.expand(raw)).strip()
        if not line or line.startswith("#"):
            continue
        try:
            args = shlex.split(line, comments=True)
        except ValueError:
            raise spec.fail(f"shell line {raw.strip()!r}") from None
        if not args:
            continue
        word = args[0]
        if raw.strip().startswith("%setup"):
            opts, rest = _opts(spec, args[1:], "qcDTn:a:b:", "%setup")
            setup(opts)
        elif raw.strip().startswith("%autosetup"):
            opts, rest = _opts(spec, args[1:], "vcDNTn:a:b:p:S:", "%autosetup")
            if "S" in opts and opts["S"][-1] not in ("patch", ""):
                raise spec.fail(f"%autosetup -S {opts['S'][-1]}")
            setup(opts)
            if "N" not in opts:
                autopatch({k: v for k, v in opts.items() if k == "p"}, [])
        elif raw.strip().startswith("%autopatch"):
            opts, rest = _opts(spec, args[1:], "vqp:m:M:", "%autopatch")
            autopatch(opts, rest)
        elif re.match(r"^%\{?patch", raw.strip()):
            m = re.match(r"^%\{?patch(\d*)\}?", raw.strip())
            assert m
            opts, rest = _opts(spec, args[1:], "ERzsqfp:P:b:F:d:o:", "%patch")
            nums = [number(x, "%patch -P") for x in opts.pop("P", [])] + [number(x, "%patch") for x in rest]
            if m.group(1):
                nums.insert(0, int(m.group(1)))
            for n in nums or [0]:
                patch(n, opts)
        elif word == "cd" and len(args) == 2 and "$" not in args[1] and not os.path.isabs(args[1]):
            cwd = inside(os.path.join(cwd, args[1]), "cd")
        elif raw.strip().startswith("%"):
            raise spec.fail(f"the %prep macro {raw.strip().split()[0]}")
        elif any(a.split("/")[-1] in _UNFOLLOWED or "`" in a or "$(" in a for a in args if a not in ("|",)):
            raise spec.fail(f"shell line {raw.strip()!r}")
        # other shell lines (sed, rm, chmod, ...) change the scratch build only: quilt's
        # setup replays archives and patches, nothing else
    return records
