"""Token counts as the models count them, for budgeting what an assistant loads.

``count_tokens(text)`` is the largest of three real counts: OpenAI's ``cl100k_base`` and
``o200k_base`` (tiktoken) and Claude's tokenizer (the ``tokenizer.json`` of the anthropic
0.34.2 wheel); see ``encoders.py``. It is exact, not an estimate: never below any of the
three, and 0% above the largest. A budget holds for every one of them.

Real counts are not quite additive: where two pieces meet, a run of whitespace may split
into one more token than either piece had alone. The context charges each piece
``BOUNDARY`` extra for that (``piece_cost``), so a budget filled piece by piece holds for
the whole, and the count it reports stays a few percent above the real one.

Long texts are never counted whole when only a bound matters: ``count_within`` stops
once a prefix is over the limit, and ``prefix_within`` finds the longest prefix within a
budget from one encoding of a window just larger than it. Both are linear in what they
read, so cutting a 1 MB session costs milliseconds at any budget (issue #20, finding 1).
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from functools import lru_cache

from .encoders import encoders

__all__ = [
    "BOUNDARY",
    "COUNTER_NAME",
    "count_tokens",
    "count_within",
    "forget_counts",
    "piece_cost",
    "prefix_within",
]

COUNTER_NAME = "max(cl100k_base, o200k_base, claude)"
BOUNDARY = 1  # tokens a piece may gain where it meets the next one
# A prefix cut at a word boundary counts at most this many tokens more than it does inside the
# whole text (its last word's BPE may differ); count_within uses it to decide "over" early.
_PREFIX_SLACK = 8
_CHARS_PER_TOKEN = 3  # first window: budget * 3 characters (English averages ~4 per token)
_CACHED_CHARS = 65_536  # texts up to this size keep their count (sessions come back often)


def count_tokens(text: str) -> int:
    """The largest of the cl100k_base, o200k_base and Claude counts of ``text``."""
    if not text:
        return 0
    if len(text) <= _CACHED_CHARS:
        return _cached_count(text)
    counted = _LARGE.get(text)
    if counted is None:
        counted = _remember(text, _count(text))
    return counted


def _count(text: str) -> int:
    return max(encoder.count(text) for encoder in encoders())


_cached_count = lru_cache(maxsize=4096)(_count)
# A long session's cut counts the same window and the same prefix more than once (whether it
# fits, where it stops, the marker): their counts are kept, a handful at a time.
_LARGE: OrderedDict[str, int] = OrderedDict()
_LARGE_KEPT = 16


_LARGE_LOCK = threading.Lock()


def _remember(text: str, counted: int) -> int:
    if len(text) > _CACHED_CHARS:
        with _LARGE_LOCK:
            _LARGE[text] = counted
            while len(_LARGE) > _LARGE_KEPT:
                _LARGE.popitem(last=False)
    return counted


def forget_counts() -> None:
    """Drop every kept count (benchmarks time a cold cut with it)."""
    _cached_count.cache_clear()
    with _LARGE_LOCK:
        _LARGE.clear()


def piece_cost(text: str) -> int:
    """What the context charges for one piece of its markdown: its count plus ``BOUNDARY``."""
    return count_tokens(text) + BOUNDARY if text else 0


def count_within(text: str, limit: int) -> int:
    """``count_tokens(text)`` when that is at most ``limit``, else some number above ``limit``.

    Reads a window of the text that grows threefold while its count stays within the
    limit, so a 1 MB text is read only as far as needed to know it is over.
    """
    window = limit * _CHARS_PER_TOKEN + 1024
    while window < len(text):
        head = text[:window]
        for encoder in encoders():  # one tokenizer over the limit is enough to know
            counted = encoder.count(head)
            if counted > limit + _PREFIX_SLACK:
                return counted
        window *= 3
    return count_tokens(text)


def prefix_within(text: str, room: int) -> str:
    """The longest prefix of ``text`` ending at a word boundary that counts at most ``room``.

    The whole text when it fits; ``""`` when not even its first word does. One encoding
    of a window per tokenizer finds where each would stop; the shortest such prefix is
    then checked and, in the rare case a tokenizer counts it over, shrunk.
    """
    if room <= 0 or not text:
        return ""
    window = min(len(text), room * _CHARS_PER_TOKEN + 1024)
    while True:
        piece = text[:window]
        ids = [encoder.encode(piece) for encoder in encoders()]
        _remember(piece, max(map(len, ids)))
        stops = [_stop(encoder, piece, room, found) for encoder, found in zip(encoders(), ids, strict=True)]
        if all(stop is None for stop in stops):  # the window fits every tokenizer
            if window == len(text):
                return text
            window = min(len(text), window * 3)
            continue
        break
    cut = _word_start(text, min(stop for stop in stops if stop is not None))
    while cut > 0:
        counted = count_tokens(text[:cut])
        if counted <= room:
            return text[:cut].rstrip()
        cut = _word_start(text, min(cut - 1, cut * room // counted))
    return ""


def _stop(encoder, piece: str, room: int, ids: list[int]) -> int | None:  # noqa: ANN001 - an Encoder
    """Characters of ``piece`` its first ``room`` tokens (of ``ids``) cover; None when all of it fits."""
    if len(ids) <= room:
        return None
    if encoder.nfkc and not unicodedata.is_normalized("NFKC", piece):
        return len(piece) * room // len(ids)  # normalised text has other offsets: a proportional guess
    return len(encoder.encoding.decode_bytes(ids[:room]).decode("utf-8", errors="ignore"))


def _word_start(text: str, position: int) -> int:
    """The start of the word ``position`` falls in (or ``position`` when no whitespace precedes)."""
    if position >= len(text) or text[position].isspace():
        return position
    space = max(text.rfind(" ", 0, position), text.rfind("\n", 0, position))
    return space if space > 0 else position
