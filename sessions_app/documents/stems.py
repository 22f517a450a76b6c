"""Stemmed content words, for telling that two phrases name the same work.

"Deploy the new build to staging" and "Staging deploy" share the stems ``deploy`` and
``stage``; "Encryption key rotation" and "ENCRYPTION KEYS ROTATION" are the same three.
Words are folded (``folding.words``), stop words dropped, and each stemmed with Snowball's
English or Russian stemmer by its script. Pure Python, no Django.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

from .folding import words

__all__ = ["content_stems", "names_same_work", "negated"]

_STOP = frozenset(
    "a an the to of for and or in on at by with from into via is are be was were it this that "
    "и в во на с со по для к ко из от до о об а но или что это как".split()
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# A "done" that is denied or still pending: "not done", "isn't done yet", "не готово", "still fails".
_NEGATED = re.compile(
    r"\b(not|isn t|isnt|aren t|never|no longer|yet to|still|fails?|failed|failing|broken|blocked|undone)\b"
    r"|(?<![\w])(не|ещё не|еще не|пока не|падает|сломан\w*|ошибк\w*)(?![\w])",
    re.IGNORECASE,
)


@lru_cache(maxsize=4)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


# Stems are compared on their first 6 letters: Snowball leaves a Russian verb and its noun
# apart ("развернут", "развертыван"), and 6 letters still tell "config" from "confirm".
_STEM_CHARS = 6


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    return _stemmer("russian" if _CYRILLIC.search(word) else "english").stemWord(word)[:_STEM_CHARS]


def content_stems(text: str) -> frozenset[str]:
    """The stems of the words of ``text`` that carry meaning (stop words dropped)."""
    return frozenset(_stem(word) for word in words(text) if word not in _STOP)


def negated(text: str) -> bool:
    """True when ``text`` says the work is not done, or still failing."""
    return bool(_NEGATED.search(" ".join(words(text))))


def names_same_work(done: frozenset[str], step: frozenset[str]) -> bool:
    """Whether a done phrase (its stems) names the work of a step (its stems). Conservative:

    - every word of the step is in the done phrase; or
    - the done phrase is two or more of the step's words and nothing else ("Staging deploy"
      for "Deploy the new build to staging"); or
    - they share two or more words that are at least 60% of the step's ("Phase 1 Railway
      setup" and "Phase 1 / Step 1-2: Railway + PostgreSQL live");

    and every number of the step is in the done phrase ("Release v1.3" does not close
    "Release v1.2").
    """
    if not step or not done:
        return False
    if any(stem.isdigit() and stem not in done for stem in step):
        return False
    shared = len(done & step)
    if shared == len(step):
        return True
    return shared >= 2 and (shared == len(done) or shared >= 0.6 * len(step))
