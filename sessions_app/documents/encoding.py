"""Repair of UTF-8 text that was once decoded with a single-byte code page.

A session written in UTF-8, opened as Mac Roman (or cp1252 / latin-1) and saved again as
UTF-8 turns every multi-byte character into a run of 2-4 accented letters and symbols:
"🚀" becomes "üöÄ", "Проблема" becomes "–ü—Ä–æ–±–ª–µ–º–∞". ftfy repairs the cp1252 case but
not Mac Roman (and its ``fix_text`` turns "‚úÖ" into "'úÖ"), so both are handled here by
one mechanism, which also keeps the count of repaired characters honest:

1. Find maximal runs of non-ASCII characters that the code page can encode. A UTF-8
   multi-byte sequence never contains an ASCII byte, so damage never spans ASCII.
2. Encode each run back to bytes and decode every *strictly valid* UTF-8 sequence in it;
   a byte that starts no valid sequence keeps its original character. Sequences that
   decode to control, unassigned or private-use characters are refused.
3. Accept a code page only on evidence (one 3-4 byte sequence, or at least two
   sequences) so that a lone coincidence in correct text ("—é" is valid UTF-8 as Mac
   Roman bytes) is left alone. When both code pages qualify, the one that explains the
   runs best (most sequences, fewest leftover characters) wins.

Correct text (real Cyrillic, emoji, typographic quotes) contains no such runs or none that
decode, so it comes out unchanged: the repair is idempotent.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["repair_mojibake"]

# Display names used in the repair note, keyed by codec.
_CODEPAGES: dict[str, str] = {"mac_roman": "Mac Roman", "cp1252": "cp1252"}

# Categories a repaired character may not have: controls, surrogates, private use,
# unassigned. Real text never decodes to these; coincidences often do.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})


@dataclass(frozen=True)
class _Attempt:
    """The result of repairing one text with one code page."""

    text: str
    sequences: int  # UTF-8 sequences decoded
    long_sequences: int  # of which 3 or 4 bytes long
    repaired_chars: int  # characters of the result that came from a decoded sequence
    leftover_chars: int  # non-ASCII encodable characters that stayed as they were

    @property
    def has_evidence(self) -> bool:
        """True when the repair is too consistent to be a coincidence in correct text."""
        return self.long_sequences >= 1 or self.sequences >= 2

    @property
    def score(self) -> int:
        """How well the code page explains the text; higher is better."""
        return self.sequences - self.leftover_chars


def repair_mojibake(text: str) -> tuple[str, str | None]:
    """Undo UTF-8 that was decoded as Mac Roman or cp1252 (latin-1) and re-encoded.

    Returns ``(text, None)`` unchanged when no repair is warranted, otherwise the repaired
    text and a one-line note such as
    ``'mojibake: UTF-8 read as Mac Roman, 812 characters repaired'`` where the count is
    the number of characters in the result that were restored. Only damaged runs change;
    everything else, including line endings, is kept exactly.
    """
    # A code page that cannot show a single lead+continuation pair in the text cannot
    # decode a sequence there: it is skipped without the run-by-run repair.
    attempts = [
        (codec, _repair_with(text, codec)) for codec in _CODEPAGES if _pair_pattern(codec).search(text)
    ]
    usable = [(codec, a) for codec, a in attempts if a.has_evidence]
    if not usable:
        return text, None
    codec, best = max(usable, key=lambda item: item[1].score)
    if best.score <= 0:
        return text, None
    note = f"mojibake: UTF-8 read as {_CODEPAGES[codec]}, {best.repaired_chars} characters repaired"
    return best.text, note


def _encode_char(char: str, codec: str) -> bytes | None:
    """The single byte ``codec`` uses for a non-ASCII ``char``, or None if it has none.

    cp1252 is treated "sloppily" like browsers do: U+0080..U+009F map to their own byte,
    which also covers text that went through latin-1 instead of cp1252.
    """
    if codec == "cp1252" and 0x80 <= ord(char) <= 0x9F:
        return bytes([ord(char)])
    try:
        encoded = char.encode(codec)
    except UnicodeEncodeError:
        return None
    return encoded if len(encoded) == 1 and encoded[0] >= 0x80 else None


def _repair_with(text: str, codec: str) -> _Attempt:
    """Repair every encodable non-ASCII run of ``text`` as if it were ``codec`` mojibake."""
    out: list[str] = []
    totals = [0, 0, 0, 0]  # sequences, long sequences, repaired chars, leftover chars
    last = 0
    for run in _run_pattern(codec).finditer(text):  # the scan runs in C, not per character
        out.append(text[last : run.start()])
        chars = run.group()
        _flush_run(chars, b"".join(_encode_char(char, codec) or b"" for char in chars), out, totals)
        last = run.end()
    out.append(text[last:])
    return _Attempt("".join(out), *totals)


@functools.cache
def _run_pattern(codec: str) -> re.Pattern[str]:
    """Runs of the non-ASCII characters ``codec`` encodes as one byte (what its mojibake is made of)."""
    return re.compile("[" + "".join(re.escape(c) for c in _encodable(codec)) + "]+")


@functools.cache
def _encodable(codec: str) -> tuple[str, ...]:
    """The non-ASCII characters ``codec`` encodes as one byte."""
    chars = {chr(code) for code in range(0x80, 0x100) if _encode_char(chr(code), codec)}
    for byte in range(0x80, 0x100):
        try:
            chars.add(bytes([byte]).decode(codec))
        except UnicodeDecodeError:
            continue  # cp1252 leaves five bytes undefined
    return tuple(sorted(c for c in chars if _encode_char(c, codec) is not None))


@functools.cache
def _pair_pattern(codec: str) -> re.Pattern[str]:
    """A character ``codec`` encodes as a UTF-8 lead byte, then one it encodes as a continuation
    byte: the shortest trace a decodable sequence leaves in the text."""
    leads, continuations = [], []
    for char in _encodable(codec):
        byte = _encode_char(char, codec)[0]  # type: ignore[index]  # encodable by construction
        if 0xC2 <= byte <= 0xF4:
            leads.append(char)
        elif byte <= 0xBF:
            continuations.append(char)
    return re.compile(
        "[" + "".join(re.escape(c) for c in leads) + "][" + "".join(re.escape(c) for c in continuations) + "]"
    )


def _flush_run(chars: str, data: bytes, out: list[str], totals: list[int]) -> None:
    """Decode the valid UTF-8 sequences of one run into ``out`` and update ``totals``."""
    index = 0
    while index < len(data):
        decoded = _sequence_at(data, index)
        if decoded is None:
            out.append(chars[index])
            totals[3] += 1
            index += 1
            continue
        char, length = decoded
        out.append(char)
        totals[0] += 1
        totals[1] += length >= 3
        totals[2] += 1
        index += length


def _sequence_at(data: bytes, index: int) -> tuple[str, int] | None:
    """The character and length of a valid, plausible UTF-8 sequence at ``index``."""
    length = _sequence_length(data[index])
    if length == 0 or index + length > len(data):
        return None
    try:
        char = data[index : index + length].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if unicodedata.category(char) in _REFUSED_CATEGORIES:
        return None
    return char, length


def _sequence_length(lead: int) -> int:
    """Bytes in the UTF-8 sequence introduced by ``lead``; 0 if it cannot start one."""
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0
