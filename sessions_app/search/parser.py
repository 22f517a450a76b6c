"""The query language: words, "phrases", OR, -excluded, prefix*; what cannot be honoured is said.

Pure Python, no Django. A query parses into *clauses* (all must match) of *alternatives*
(any may match); an alternative is a set of terms (see ``terms``) that must all be present
and a *level* that ranks it: EXACT (the word, the whole identifier, the phrase) above STEM
(another form of the word, a prefix) above PART (the word inside an identifier, or the
identifier's parts scattered). ``-word`` removes the sessions holding it exactly.

The same parsed query is evaluated twice: in SQL over hashed terms (``query``), and in Python
over a decrypted session's terms (``matches``, the decrypt-and-scan reference of the tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .stems import stem
from .terms import PREFIX_MAX, PREFIX_MIN
from .tokens import Token, tokens

__all__ = ["EXACT", "PART", "STEM", "Alternative", "ParsedQuery", "best_levels", "matches", "parse", "prune"]

EXACT, STEM, PART = 3, 2, 1
MAX_CLAUSES = 8  # words ANDed
MAX_ALTERNATIVES = 24  # per clause: a word costs up to 4, so about 6 words ORed
MAX_EXCLUDED = 8
MAX_TERMS = 64  # distinct terms in one query: bounds the SQL it becomes
MAX_IGNORED = 10  # notes in an answer

_ITEM = re.compile(r'(-?)"([^"]*)("?)|(\S+)')


@dataclass(frozen=True)
class Alternative:
    """Terms that must all be present, and how well a session holding them matches."""

    terms: frozenset[str]
    level: int


@dataclass
class ParsedQuery:
    clauses: list[list[Alternative]] = field(default_factory=list)
    excluded: list[Alternative] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    # Required phrases of 3+ runs: the index matches them pair by pair, ``phrases`` checks them whole.
    phrases: list[tuple[str, ...]] = field(default_factory=list)

    def all_terms(self) -> set[str]:
        found = {t for clause in self.clauses for alt in clause for t in alt.terms}
        return found | {t for alt in self.excluded for t in alt.terms}


def parse(query: str) -> ParsedQuery:
    """Parse ``query``; every part it cannot honour is named in ``ignored`` with the reason."""
    parsed = ParsedQuery()
    pending_or = False
    for match in _ITEM.finditer(query):
        minus, phrase, closing, bare = match.groups()
        if bare == "OR":
            if parsed.clauses and not pending_or:
                pending_or = True
            else:
                parsed.ignored.append("OR: needs a word on each side")
            continue
        if phrase is not None:
            if not closing:
                parsed.ignored.append('": no closing quote, read as a phrase to the end')
            clauses = _phrase_clauses(phrase, parsed)
            negative = bool(minus)
        else:
            negative = bare.startswith("-")
            body = bare[1:] if negative else bare
            clauses = _bare_clauses(body, bare, parsed)
        if not clauses:
            pending_or = False
            continue
        if negative:
            _exclude(
                parsed, [alt for clause in clauses for alt in clause if alt.level == EXACT], match.group()
            )
        elif pending_or:
            _or(parsed, clauses, match.group())
        else:
            before = len(parsed.clauses)
            _and(parsed, clauses, match.group())
            runs = tuple(run for token in tokens(phrase or "") for run in token.runs)
            if len(runs) >= 3 and len(parsed.clauses) > before:
                parsed.phrases.append(runs)
        pending_or = pending_or and negative
    if pending_or:
        parsed.ignored.append("OR: needs a word on each side")
    if parsed.excluded and not parsed.clauses:
        parsed.ignored.append("-: an exclusion alone finds nothing; add a word to find")
        parsed.excluded = []
    if len(parsed.ignored) > MAX_IGNORED:
        more = len(parsed.ignored) - MAX_IGNORED
        parsed.ignored[MAX_IGNORED:] = [f"... and {more} more"]
    return parsed


def _bare_clauses(body: str, raw: str, parsed: ParsedQuery) -> list[list[Alternative]]:
    star = body.endswith("*")
    found = list(tokens(body))
    if not found:
        parsed.ignored.append(f"{raw}: no letter or digit to search")
        return []
    clauses = [_token_alternatives(token) for token in found]
    if star:
        last = found[-1]
        if len(found) > 1 or not last.simple:
            parsed.ignored.append(f"{raw}: * works after one plain word; searched without it")
        elif len(last.whole) < PREFIX_MIN:
            parsed.ignored.append(f"{raw}: a prefix needs {PREFIX_MIN} characters; searched as a word")
        else:
            if len(last.whole) > PREFIX_MAX:
                parsed.ignored.append(f"{raw}: prefixes match on their first {PREFIX_MAX} characters")
            clauses[-1] = [
                Alternative(frozenset({"w:" + last.whole}), EXACT),
                Alternative(frozenset({"p:" + last.whole[:PREFIX_MAX]}), STEM),
            ]
    return clauses


def _token_alternatives(token: Token) -> list[Alternative]:
    alts = [Alternative(frozenset({"w:" + token.whole}), EXACT)]
    if token.simple:
        stemmed = stem(token.whole)
        alts.append(Alternative(frozenset({"s:" + stemmed}), STEM))
        if stemmed != token.whole:
            alts.append(Alternative(frozenset({"w:" + stemmed}), STEM))
        alts.append(Alternative(frozenset({"i:" + token.whole}), PART))
        return alts
    if len(token.runs) > 1:
        alts.append(Alternative(_pairs(token.runs), STEM))  # "rate-limit" ~ "rate limit"
    alts.append(Alternative(frozenset("i:" + part for part in token.parts), PART))
    return alts


def _phrase_clauses(text: str, parsed: ParsedQuery) -> list[list[Alternative]]:
    found = list(tokens(text))
    runs = [run for token in found for run in token.runs]
    if not runs:
        parsed.ignored.append(f'"{text}": no letter or digit to search')
        return []
    if len(found) == 1:
        alts = [Alternative(frozenset({"w:" + found[0].whole}), EXACT)]
        if len(runs) > 1:
            alts.append(Alternative(_pairs(runs), EXACT))
        return [alts]
    return [[Alternative(_pairs(runs), EXACT)]]


def _pairs(runs: tuple[str, ...] | list[str]) -> frozenset[str]:
    return frozenset(f"b:{a} {b}" for a, b in zip(runs, runs[1:], strict=False))


def _and(parsed: ParsedQuery, clauses: list[list[Alternative]], raw: str) -> None:
    room = MAX_CLAUSES - len(parsed.clauses)
    if len(clauses) > room or _too_many(parsed, clauses):
        parsed.ignored.append(f"{raw}: over the query's limit of {MAX_CLAUSES} words or {MAX_TERMS} terms")
        return
    parsed.clauses.extend(clauses)


def _or(parsed: ParsedQuery, clauses: list[list[Alternative]], raw: str) -> None:
    merged = parsed.clauses[-1] + [alt for alt in clauses[0] if alt not in parsed.clauses[-1]]
    if len(merged) > MAX_ALTERNATIVES or len(clauses) > 1 or _too_many(parsed, clauses):
        parsed.ignored.append(f"OR {raw}: over the limit of {MAX_ALTERNATIVES} alternatives per word")
        return
    parsed.clauses[-1] = merged


def _exclude(parsed: ParsedQuery, alts: list[Alternative], raw: str) -> None:
    if len(parsed.excluded) + len(alts) > MAX_EXCLUDED or _too_many(parsed, [alts]):
        parsed.ignored.append(f"{raw}: over the limit of {MAX_EXCLUDED} exclusions")
        return
    parsed.excluded.extend(alts)


def _too_many(parsed: ParsedQuery, clauses: list[list[Alternative]]) -> bool:
    new = {t for clause in clauses for alt in clause for t in alt.terms}
    return len(parsed.all_terms() | new) > MAX_TERMS


def prune(parsed: ParsedQuery, known: set[str]) -> ParsedQuery:
    """Drop an identifier's scattered-parts fallback when the whole identifier is in the index
    (``known``: the terms any session holds): the parts are only a fallback (issue #17)."""
    clauses = []
    for clause in parsed.clauses:
        whole = any(alt.level == EXACT and alt.terms <= known for alt in clause)
        clauses.append([alt for alt in clause if not (whole and _is_fallback(alt))])
    return ParsedQuery(clauses, parsed.excluded, parsed.ignored, parsed.phrases)


def _is_fallback(alt: Alternative) -> bool:
    return alt.level == PART and len(alt.terms) > 1


def best_levels(parsed: ParsedQuery, present: set[str]) -> list[int] | None:
    """The best level each clause reaches in a session holding ``present`` terms; None: no match."""
    if any(alt.terms <= present for alt in parsed.excluded):
        return None
    levels = []
    for clause in parsed.clauses:
        level = max((alt.level for alt in clause if alt.terms <= present), default=0)
        if not level:
            return None
        levels.append(level)
    return levels


def matches(parsed: ParsedQuery, present: set[str]) -> bool:
    """True when a session holding ``present`` terms matches (the decrypt-and-scan reference)."""
    return bool(parsed.clauses) and best_levels(parsed, present) is not None
