"""Stemmed content words, for telling that two phrases name the same work.

"Deploy the new build to staging" and "Staging deploy" share the stems ``deploy`` and
``stage``; "Encryption key rotation" and "ENCRYPTION KEYS ROTATION" are the same three.
Words are folded (``folding.words``), stop words dropped, and each stemmed with Snowball's
English or Russian stemmer by its script. Pure Python, no Django.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise

import snowballstemmer

from .folding import words

__all__ = ["content_stems", "names_same_work", "negated"]

_STOP = frozenset(
    "a an the to of for and or in on at by with from into via is are be was were it this that "
    "и в во на с со по для к ко из от до о об а но или что это как".split()
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# A "done" that is denied or still pending: "not done", "isn't done yet", "не готово", "still fails".
# Matched on folded words (a set lookup per word, ten times faster than the regex it replaces).
_NEGATING = frozenset(
    "not isnt never still fail fails failed failing broken blocked undone не падает".split()
)  # "ещё не", "пока не": their "не" is enough
_NEGATING_PAIRS = frozenset({("isn", "t"), ("aren", "t"), ("no", "longer"), ("yet", "to")})
_NEGATING_STARTS = ("сломан", "ошибк")


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
    found = words(text)
    return any(word in _NEGATING or word.startswith(_NEGATING_STARTS) for word in found) or any(
        pair in _NEGATING_PAIRS for pair in pairwise(found)
    )


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
    shared = len(done & step)
    if shared == len(step):
        return True  # every word, numbers included
    if shared < 2 or (shared != len(done) and shared < 0.6 * len(step)):
        return False
    return all(stem in done or not stem.isdigit() for stem in step)
