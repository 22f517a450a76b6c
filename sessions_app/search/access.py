"""Reading the postings and the sessions for the threshold algorithms (``topk``, ``phrase_topk``).

Session ids travel as text (``::text``, the canonical form; sent as one comma-separated string,
IDS): psycopg built a ``UUID`` for each of the thousands of rows a deep page reads, and quoted
each element of an array parameter (at 100,000 sessions, a page of 100 spent ~95 ms there).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from django.db import connection
from django.db.backends.utils import CursorWrapper

from sessions_app.models import SearchPosting, Session

__all__ = [
    "IDS", "Filters", "allowed", "capped_count", "conditions", "session_sql", "soft_deleted", "sorted_access",
    "uuid_int", "weights",
]  # fmt: skip

IDS = "string_to_array(%s, ',')::uuid[]"  # session ids sent as one comma-separated string


class Filters(Protocol):
    """``ranking.Filters`` (not imported: ``ranking`` imports this module)."""

    @property
    def project_id(self) -> uuid.UUID | None: ...
    @property
    def state(self) -> str | None: ...
    @property
    def since(self) -> datetime | None: ...


def conditions(filters: Filters) -> list[tuple[str, object]]:
    """The filters besides ``deleted_at IS NULL`` as (condition on the sessions table, value)."""
    found: list[tuple[str, object]] = []
    if filters.project_id is not None:
        found.append(("project_id = %s", filters.project_id))
    if filters.state is not None:
        found.append(("state = %s", filters.state))
    if filters.since is not None:
        found.append(("created_at >= %s", filters.since))
    return found


def session_sql(filters: Sequence[tuple[str, object]], params: list, column: str) -> str:
    """The filters as a probe of the sessions table by its key (no hash of all sessions)."""
    sessions = Session._meta.db_table
    if not filters:
        return f"NOT EXISTS (SELECT 1 FROM {sessions} s WHERE s.id = {column} AND s.deleted_at IS NOT NULL)"  # noqa: S608
    conditions = " AND ".join(f"s.{condition}" for condition, _ in filters)
    params.extend(value for _, value in filters)
    return (
        f"EXISTS (SELECT 1 FROM {sessions} s WHERE s.id = {column} "  # noqa: S608
        f"AND s.deleted_at IS NULL AND {conditions} OFFSET 0)"
    )


def sorted_access(
    cursors: dict[int, tuple[float, str] | None], batch: int
) -> dict[int, list[tuple[float, str]]]:
    """The next ``batch`` postings of each word after its cursor, best weight first: one round trip."""
    table = SearchPosting._meta.db_table
    parts, params = [], []
    for term, cursor in cursors.items():
        if cursor is None:
            parts.append(
                f"(SELECT term, weight, session_id::text FROM {table} WHERE term = %s "  # noqa: S608
                "ORDER BY weight DESC, session_id LIMIT %s)"
            )
            params += [term, batch]
        else:
            parts.append(
                f"(SELECT term, weight, session_id::text FROM {table} WHERE term = %s "  # noqa: S608
                "AND (weight < %s OR (weight = %s AND session_id > %s::uuid)) "
                "ORDER BY weight DESC, session_id LIMIT %s)"
            )
            params += [term, cursor[0], cursor[0], cursor[1], batch]
    found: dict[int, list[tuple[float, str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for term, weight, sid in cursor.fetchall():
            found.setdefault(int(term), []).append((float(weight), sid))
    return found


def weights(cursor: CursorWrapper, probes: list[tuple[str, int]]) -> dict[str, dict[int, float]]:
    """session -> {term: weight} of the (session, term) ``probes`` that are postings: one lookup
    of the key each, in one round trip. ``OFFSET 0`` keeps it a nested loop of lookups: given the
    lists as a join, PostgreSQL 15 read every posting of the terms instead (19,966 rows for 128
    sessions, 5-7 ms)."""
    found: dict[str, dict[int, float]] = {}
    if not probes:
        return found
    table = SearchPosting._meta.db_table
    cursor.execute(
        f"SELECT s.id::text, s.term, x.weight FROM unnest({IDS}, %s::bigint[]) s(id, term) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT weight FROM {table} p WHERE p.session_id = s.id "
        "AND p.term = s.term OFFSET 0) x",
        [",".join(sid for sid, _ in probes), [term for _, term in probes]],
    )
    for sid, term, weight in cursor.fetchall():
        found.setdefault(sid, {})[int(term)] = float(weight)
    return found


def allowed(
    cursor: CursorWrapper, ids: list[str], filters: Sequence[tuple[str, object]], gone: set[str] | None = None
) -> set[str]:
    """The ``ids`` of live sessions passing the filters. ``gone``: the soft-deleted sessions read
    once beforehand (``soft_deleted``), used instead of asking when there are no filters."""
    sessions = Session._meta.db_table
    if not filters:
        if gone is None:
            cursor.execute(
                f"SELECT id::text FROM {sessions} WHERE id = ANY({IDS}) AND deleted_at IS NOT NULL",  # noqa: S608
                [",".join(ids)],
            )
            gone = {row[0] for row in cursor.fetchall()}
        return set(ids) - gone
    conditions = " AND ".join(condition for condition, _ in filters)
    cursor.execute(
        f"SELECT id::text FROM {sessions} WHERE id = ANY({IDS}) AND deleted_at IS NULL AND {conditions}",  # noqa: S608
        [",".join(ids), *(value for _, value in filters)],
    )
    return {row[0] for row in cursor.fetchall()}


def soft_deleted(cap: int) -> set[str] | None:
    """The ids of the soft-deleted sessions, or None when there are more than ``cap``: with no
    filter, a search checks its candidates against this set instead of asking the sessions
    table each round (at 100,000 sessions ~1,300 lookups by the key, 1.3 ms a two-word search,
    against one scan of the ``deleted_at`` index, which holds few such sessions)."""
    sessions = Session._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id::text FROM {sessions} WHERE deleted_at IS NOT NULL LIMIT %s",  # noqa: S608
            [cap + 1],
        )
        found = {row[0] for row in cursor.fetchall()}
    return found if len(found) <= cap else None


def uuid_int(value: str) -> int:
    """A session id as read (``::text``, the canonical form) as its 128-bit integer: the order
    of ``uuid`` in PostgreSQL. Ids travel as text: psycopg built a ``UUID`` for each of the
    thousands of rows a deep page reads, and quoted each of an array's elements."""
    return int(value.replace("-", ""), 16)


def capped_count(rows_sql: str, params: list[object], cap: int) -> int:
    """How many rows ``rows_sql`` (a ``SELECT 1 ...`` with ``params``) gives, reading at most ``cap``."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({rows_sql} LIMIT %s) c", [*params, cap])  # noqa: S608
        return int(cursor.fetchone()[0])
