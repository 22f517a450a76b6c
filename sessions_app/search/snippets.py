"""The snippet of a hit: the line of its body that holds the best match, the match marked.

The best line is the one whose own terms satisfy the query's clauses at the best levels (a
phrase, a whole identifier, then stems and parts); the tokens that make the match are
wrapped in ``**`` and the line is cut to SNIPPET_CHARS around the first of them.
"""

from __future__ import annotations

from sessions_app.documents.folding import fold

from .parser import EXACT, ParsedQuery
from .stems import stem
from .terms import token_terms
from .tokens import _TOKEN, Token, tokens  # _TOKEN: the tokenizer's own regex, as terms.py reads it

__all__ = ["MARK", "SNIPPET_CHARS", "snippet"]

SNIPPET_CHARS = 200
MARK = "**"


def snippet(text: str, parsed: ParsedQuery) -> str:
    """The marked line of ``text`` holding the best match ('' for an empty text)."""
    best_line, best_score, best_terms = "", 0, frozenset()
    needles = _needles(parsed)
    wanted = frozenset(t for clause in parsed.clauses for alt in clause for t in alt.terms)
    for line, folded in zip(text.split("\n"), fold(text).split("\n"), strict=False):
        if not line.strip() or not any(needle in folded for needle in needles):
            continue  # holds none of the query's words: skip the tokenizing (16 ms a hit without this)
        present = _line_terms(line, wanted)
        score, used = 0, set()
        for clause in parsed.clauses:
            hits = [alt for alt in clause if alt.terms <= present]
            if hits:
                top = max(alt.level for alt in hits)
                score += top
                used |= {t for alt in hits if alt.level == top for t in alt.terms}
        if score > best_score:
            best_line, best_score, best_terms = line, score, frozenset(used)
            if score == EXACT * len(parsed.clauses):
                break  # every clause matched exactly: no line can do better
    if not best_score:
        best_line = next((line for line in text.split("\n") if line.strip()), "")
    return _cut(*_marked(best_line.strip(), best_terms))


def _line_terms(line: str, wanted: frozenset[str]) -> set[str]:
    """The terms of ``line`` among ``wanted``: ``document_terms("", line)`` restricted to the
    query's, without counting every term and pair of the line (half a snippet's time at 10
    hits of the bench corpus, best of 5 under load: 9.4 -> 5.4 ms)."""
    present: set[str] = set()
    stream: list[str] = []
    for raw in _TOKEN.findall(line):
        terms, runs = token_terms(raw)
        present.update(t for t in terms if t in wanted)
        stream.extend(runs)
    if any(t.startswith("b:") for t in wanted):
        pairs = (f"b:{a} {b}" for a, b in zip(stream, stream[1:], strict=False))
        present.update(t for t in pairs if t in wanted)
    return present


def _needles(parsed: ParsedQuery) -> set[str]:
    """The first 3 characters of every word of the query's terms (stems keep them too, but for
    an ending like retry -> retri, hence 3): a line holding none of them cannot match."""
    found = set()
    for clause in parsed.clauses:
        for alt in clause:
            for term in alt.terms:
                found.update(word[:3] for word in term[2:].split(" "))
    return found


def _marked(line: str, terms: frozenset[str]) -> tuple[str, int]:
    """(``line`` with the matching tokens marked, offset of the first mark or -1)."""
    found = list(tokens(line))
    marked = {i for i, token in enumerate(found) if any(_token_has(token, t) for t in terms)}
    stream = [(run, i) for i, token in enumerate(found) for run in token.runs]
    for (a, i), (b, j) in zip(stream, stream[1:], strict=False):
        if f"b:{a} {b}" in terms:
            marked |= {i, j}
    if not marked:
        return line, -1
    out, position, first = [], 0, -1
    spans = _merge([(found[i].start, found[i].end) for i in sorted(marked)], line)
    for start, end in spans:
        out.append(line[position:start])
        first = first if first >= 0 else sum(map(len, out))
        out.append(f"{MARK}{line[start:end]}{MARK}")
        position = end
    out.append(line[position:])
    return "".join(out), first


def _token_has(token: Token, term: str) -> bool:
    kind, value = term[:2], term[2:]
    if kind == "w:":
        return token.whole == value
    if kind == "s:":
        return token.simple and stem(token.whole) == value
    if kind == "i:":
        return not token.simple and value in token.parts
    if kind == "p:":
        return any(piece.startswith(value) for piece in (*token.runs, *token.parts))
    return False


def _merge(spans: list[tuple[int, int]], line: str) -> list[tuple[int, int]]:
    """Join marked tokens separated only by spaces or a hyphen into one mark."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and line[merged[-1][1] : start].strip(" -") == "":
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _cut(line: str, first: int) -> str:
    if len(line) <= SNIPPET_CHARS:
        return line
    start = max(0, first - SNIPPET_CHARS // 3) if first > 0 else 0
    piece = line[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(line) else "")
