"""f5quilt.yaml's common shape read without PyYAML: nested mappings of plain names to plain
words, integers and true/false, exactly as ``yaml.safe_load`` reads them; None for anything
else, which then goes to PyYAML.

Every command in the f5quilt dialect reads the settings, the shell-prompt queries too, and
importing yaml (its reader, scanner, resolver...) took a quarter of such a query's time. What
is read here is a strict subset, each part of it read the one way YAML 1.1 reads it:

- ASCII only, no tab, no carriage return or other control character;
- blank lines and ``#`` comments (whole lines, or after a value and a space);
- ``key:`` lines, the key a plain name (letter or ``_``, then letters, digits, ``_``, ``-``;
  none of YAML's words for true, false or null), top-level keys at column 0, each nested
  mapping's keys at one deeper indentation, no key twice in a mapping;
- a value: a nested mapping (the lines below, deeper), nothing (null), a decimal integer
  without a leading zero, ``true``/``false``, a quoted string on one line without escapes or
  its own quote, or a plain word that starts with a letter, ``_``, ``/`` or ``.`` (not a
  float's ``.5``, ``.inf``, ``.nan``) and holds only
  letters, digits and ``_ . / = < > ~ + @ % - , ; !`` and ``:`` not before a space or the end.

A word of YAML's true/false/null vocabulary (yes, No, on, OFF, null, Y...) in a word, any
other form (lists, flow style, anchors, tags, several documents, multi-line scalars) or any
doubt gives None. ``tests/test_plainyaml.py`` holds this reader to ``yaml.safe_load``.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*))?\Z")
_WORD = re.compile(r"[A-Za-z_/.][A-Za-z0-9_./=<>~+@%,;!-]*(?::[A-Za-z0-9_./=<>~+@%,;!-]+)*\Z")
_INT = re.compile(r"(?:0|[1-9][0-9]*)\Z")
# YAML 1.1's booleans and null, and the y/n other readers take: never read here
_SPECIAL = {"yes", "no", "true", "false", "on", "off", "null", "y", "n", "~"}


def _scalar(text: str) -> Tuple[bool, Any]:
    """``(True, value)`` for a value read here, ``(False, None)`` otherwise."""
    if text[:1] in ("'", '"'):
        quote = text[0]
        end = text.find(quote, 1)
        if end < 0 or "\\" in text[:end] or not _comment_or_nothing(text[end + 1:]):
            return False, None
        return True, text[1:end]
    cut = text.find("#")
    if cut >= 0:
        if text[cut - 1] != " ":
            return False, None
        text = text[:cut].rstrip(" ")
    if text in ("true", "false"):
        return True, text == "true"
    if _INT.match(text):
        return True, int(text)
    if text.startswith(".") and (text[1:2].isdigit() or text.lower() in (".inf", ".nan")):
        return False, None  # YAML's floats (.5, .inf, .NaN)
    if _WORD.match(text) and text.lower() not in _SPECIAL:
        return True, text
    return False, None


def _comment_or_nothing(rest: str) -> bool:
    stripped = rest.lstrip(" ")
    return not stripped or (stripped.startswith("#") and stripped != rest)


def load(text: str) -> Optional[Dict[str, Any]]:
    """The settings as ``yaml.safe_load(text) or {}`` gives them, or None when ``text`` is not
    of the shape read here (PyYAML then reads it, and says what is wrong with it)."""
    if not text.isascii() or any(c < " " and c != "\n" for c in text) or "\x7f" in text:
        return None
    root: Dict[str, Any] = {}
    stack: List[Tuple[int, Dict[str, Any]]] = [(0, root)]  # mappings open: keys' indentation
    pending: Optional[Tuple[str, Dict[str, Any], int]] = None  # a key with nothing after it yet
    for raw in text.split("\n"):
        body = raw.lstrip(" ")
        if not body or body.startswith("#"):
            continue
        indent = len(raw) - len(body)
        match = _LINE.match(body.rstrip(" "))
        if match is None or match.group(1).lower() in _SPECIAL:
            return None
        if pending is not None:
            key, mapping, at = pending
            pending = None
            if indent > at:  # the key's value is the mapping below it
                child: Dict[str, Any] = {}
                mapping[key] = child
                stack.append((indent, child))
        while stack[-1][0] > indent:
            stack.pop()
        if stack[-1][0] != indent:
            return None  # deeper than a mapping allows, or back to an indentation never opened
        mapping = stack[-1][1]
        key, rest = match.group(1), match.group(2) or ""
        if key in mapping:
            return None
        rest = rest.strip(" ")
        if not rest or rest.startswith("#"):
            mapping[key] = None
            pending = (key, mapping, indent)
            continue
        read, value = _scalar(rest)
        if not read:
            return None
        mapping[key] = value
    return root
