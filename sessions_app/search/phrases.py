"""Phrases of three words or more are checked whole on the decrypted candidates.

The blind index holds adjacent word pairs, so ``"a b c"`` finds the sessions holding ``a b``
and ``b c``, possibly far apart. Issue #17 asks for adjacency: the candidates the index ranks
first are decrypted and kept only when the phrase's runs follow each other in the text,
separated by nothing but non-word characters (as the run stream the pairs come from).
A regex over the folded text costs ~20 µs for a 5 KB session; decrypting and reading the
VERIFY_MAX best candidates bounds the work of one query.
"""

from __future__ import annotations

import re
import uuid

from annoris.crypto import DecryptionError
from sessions_app.documents.folding import fold
from sessions_app.models import Session

__all__ = ["VERIFY_MAX", "keep_phrases"]

VERIFY_MAX = 200  # candidates decrypted to check a phrase; beyond them the answer says so


def _pattern(runs: tuple[str, ...]) -> re.Pattern[str]:
    body = r"[\W_]+".join(re.escape(run) for run in runs)
    return re.compile(rf"(?<![^\W_]){body}(?![^\W_])")


def _holds(text: str, patterns: list[re.Pattern[str]]) -> bool:
    """True when ``text`` holds every phrase (its runs adjacent, in order)."""
    folded = fold(text)
    return all(pattern.search(folded) for pattern in patterns)


def keep_phrases(
    ranked: list[tuple[uuid.UUID, float]], total: int, phrases: list[tuple[str, ...]], ignored: list[str]
) -> tuple[list[tuple[uuid.UUID, float]], int]:
    """(the candidates whose text holds every phrase, best first; their count).

    ``ranked`` is the index's best VERIFY_MAX (or fewer) of ``total`` candidates; when there were
    more, ``ignored`` says that only the best were checked."""
    checked = ranked[:VERIFY_MAX]
    patterns = [_pattern(runs) for runs in phrases]  # once a query, not once a candidate
    rows = Session.objects.only("id", "content").in_bulk([sid for sid, _ in checked])
    kept = []
    for sid, score in checked:
        row = rows.get(sid)
        try:
            if row is not None and _holds(row.text, patterns):
                kept.append((sid, score))
        except DecryptionError:
            continue
    if total > len(checked):
        shown = " ".join(f'"{" ".join(runs)}"' for runs in phrases)
        ignored.append(f"{shown}: checked whole in the best {len(checked)} of {total} candidates")
    return kept, len(kept)
