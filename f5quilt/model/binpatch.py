"""git's binary patches (``GIT binary patch``): decoded and applied, never written.

After ``GIT binary patch`` come one or two hunks: the forward one, which
turns the old content into the new, and (``git diff --binary`` always
writes it) the reverse one, which turns the new back into the old. A hunk
is ``literal N`` (the whole new content) or ``delta N`` (a git delta
against the content it applies to), N being the size of the inflated
data, then lines of base85 data (a length character, ``A``-``Z`` for 1-26
bytes and ``a``-``z`` for 27-52, then 5 characters per 4 bytes), then an
empty line. The bytes are a zlib stream.

Read the way git's apply.c reads them: the same line checks, the same
inflate check (exactly N bytes), the same delta replay checks. One
leniency: the end of the patch file also ends a hunk (git wants the empty
line). The blob ids of the ``index`` line are checked in ``apply.py``.
"""
from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

LITERAL = "literal"
DELTA = "delta"


class BinaryPatchError(ValueError):
    """Binary patch data that cannot be decoded: ``line`` is 1-based in the patch."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class DeltaError(ValueError):
    """A delta that does not fit the content it is applied to, or is malformed."""

    def __init__(self, message: str, *, mismatch: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.mismatch = mismatch  # the source is not the one the delta was made for


@dataclass(frozen=True)
class BinaryHunk:
    method: str   # LITERAL or DELTA
    size: int     # inflated size announced on the method line
    data: bytes   # inflated: the new content (literal) or a git delta (delta)
    line: int     # patch line of the "literal N" / "delta N" line

    def apply(self, source: bytes) -> bytes:
        """The content this hunk makes of ``source``."""
        if self.method == LITERAL:
            return self.data
        return apply_delta(source, self.data)


def _content(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith(b"\n") else line


def _decode_line(text: bytes, line: int) -> bytes:
    """One base85 line: length character, then 5 characters per 4 bytes."""
    # git: the minimum line is "A00000", and the length must be 1 + a multiple of 5
    if len(text) < 6 or (len(text) - 1) % 5:
        raise BinaryPatchError(line, "corrupt binary patch: bad line length")
    lead = text[0]
    if ord("A") <= lead <= ord("Z"):
        length = lead - ord("A") + 1
    elif ord("a") <= lead <= ord("z"):
        length = lead - ord("a") + 27
    else:
        raise BinaryPatchError(line, "corrupt binary patch: bad length character")
    room = (len(text) - 1) // 5 * 4
    # the filler of the last group is at most 3 bytes
    if room < length or length <= room - 4:
        raise BinaryPatchError(line, "corrupt binary patch: length character does not match the line")
    try:
        return base64.b85decode(text[1:])[:length]
    except ValueError:
        raise BinaryPatchError(line, "corrupt binary patch: bad base85 data") from None


def _inflate(data: bytes, size: int, line: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, size + 1)
    except zlib.error:
        raise BinaryPatchError(line, "corrupt binary patch: bad zlib data") from None
    if not inflater.eof or len(out) != size:
        raise BinaryPatchError(line, f"corrupt binary patch: data does not inflate to {size} bytes")
    return out


def _parse_hunk(lines: Sequence[bytes], start: int) -> Tuple[Optional[BinaryHunk], int]:
    """The hunk whose method line is ``lines[start]`` (0-based), and the index after it.

    (None, start) when ``lines[start]`` is not a method line.
    """
    if start >= len(lines):
        return None, start
    head = _content(lines[start])
    for method in (LITERAL, DELTA):
        prefix = method.encode() + b" "
        if head.startswith(prefix):
            number = head[len(prefix):]
            break
    else:
        return None, start
    if not number.isdigit():
        raise BinaryPatchError(start + 1, f"corrupt binary patch: bad size {number.decode('latin-1')!r}")
    size = int(number)
    chunks: List[bytes] = []
    i = start + 1
    while i < len(lines):
        text = _content(lines[i])
        i += 1
        if not text:
            break
        chunks.append(_decode_line(text, i))
    return BinaryHunk(method, size, _inflate(b"".join(chunks), size, start + 1), start + 1), i


def parse_binary(lines: Sequence[bytes], start: int) -> Tuple[BinaryHunk, Optional[BinaryHunk], int]:
    """Forward and reverse hunks of a ``GIT binary patch``.

    ``lines[start]`` (0-based) is the line after ``GIT binary patch``. Returns
    (forward, reverse or None, index of the first line after them).
    """
    forward, i = _parse_hunk(lines, start)
    if forward is None:
        raise BinaryPatchError(start + 1, "unrecognized binary patch: expected 'literal N' or 'delta N'")
    reverse, i = _parse_hunk(lines, i)
    return forward, reverse, i


def _varint(delta: bytes, pos: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(delta):
            raise DeltaError("truncated delta header")
        byte = delta[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def apply_delta(source: bytes, delta: bytes) -> bytes:
    """git's patch_delta(): replay copy/insert opcodes against ``source``."""
    src_size, pos = _varint(delta, 0)
    if src_size != len(source):
        raise DeltaError(f"made for {src_size} bytes, not {len(source)}", mismatch=True)
    dst_size, pos = _varint(delta, pos)
    out = bytearray()
    end = len(delta)
    while pos < end:
        cmd = delta[pos]
        pos += 1
        if cmd & 0x80:
            offset = size = 0
            for bit, shift, is_size in ((0x01, 0, False), (0x02, 8, False), (0x04, 16, False),
                                        (0x08, 24, False), (0x10, 0, True), (0x20, 8, True),
                                        (0x40, 16, True)):
                if cmd & bit:
                    if pos >= end:
                        raise DeltaError("truncated copy instruction")
                    if is_size:
                        size |= delta[pos] << shift
                    else:
                        offset |= delta[pos] << shift
                    pos += 1
            if size == 0:
                size = 0x10000
            if offset + size > len(source) or len(out) + size > dst_size:
                raise DeltaError("copy instruction out of bounds")
            out += source[offset:offset + size]
        elif cmd:
            if len(out) + cmd > dst_size or pos + cmd > end:
                raise DeltaError("insert instruction out of bounds")
            out += delta[pos:pos + cmd]
            pos += cmd
        else:
            raise DeltaError("unexpected delta opcode 0")
    if len(out) != dst_size:
        raise DeltaError(f"result has {len(out)} bytes, not {dst_size}")
    return bytes(out)


def blob_id(data: bytes, hex_length: int = 40) -> str:
    """git's object id of a blob with content ``data`` (``git hash-object``).

    SHA-1 (40 hex digits) unless ``hex_length`` says SHA-256 (64).
    """
    algo = hashlib.sha256 if hex_length == 64 else hashlib.sha1
    return algo(b"blob %d\0" % len(data) + data).hexdigest()


def id_matches(data: bytes, given: str) -> bool:
    """Whether ``given`` (a full or abbreviated id from an ``index`` line) names ``data``."""
    given = given.lower()
    if len(given) > 40:
        return blob_id(data, 64).startswith(given)
    return blob_id(data).startswith(given) or (len(given) < 40 and blob_id(data, 64).startswith(given))


def is_null_id(given: str) -> bool:
    return not given.strip("0")
