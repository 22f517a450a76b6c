"""The database layer's row query, its SQL written once per process from ``_meta``.

It answers as ``Session.objects.select_related("project").filter(...).first()`` (the layer
tests compare them field by field), through ``connection.cursor()`` and the ORM's converters.
Why: the ORM spent ~285 µs a read compiling this join (~950 µs in all, 7x the ~130 µs floor;
target 3x); written once, ~390 µs (docs/benchmarks.md). No compiler internals, no PREPARE."""

from __future__ import annotations

import functools
from typing import Any

from django.db import connections, router

from projects_app.models import Project
from sessions_app.models import Session


def session_by(column: str, value: object) -> Session | None:
    """The session whose ``column`` (``pk`` or ``github_path``) is ``value``, project loaded; or None."""
    alias = router.db_for_read(Session)
    connection = connections[alias]
    sql, field, converters = _query(alias, connection.vendor, column)
    with connection.cursor() as cursor:
        cursor.execute(sql, [field.get_db_prep_value(value, connection, prepared=False)])
        found = cursor.fetchone()
    if found is None:
        return None
    values = list(found)
    for i, col, convert in converters:  # none on PostgreSQL; SQLite's text dates and char(32) ids
        values[i] = functools.reduce(lambda v, one: one(v, col, connection), convert, values[i])
    n = len(Session._meta.concrete_fields)
    return build(alias, values[:n], values[n:] if values[n] is not None else None)


def build(alias: str, values: Any, project_values: Any) -> Session:
    """A Session from its concrete field values, its project from its own (None: left lazy)."""
    row = Session.from_db(alias, attnames()[0], values)
    if row.project_id is None:
        row.project = None  # loaded, as select_related leaves it: no query on access
    elif project_values is not None:
        row.project = Project.from_db(alias, attnames()[1], project_values)
    return row


@functools.cache
def attnames() -> tuple[tuple[str, ...], ...]:
    """(session attnames, project attnames), in concrete field order."""
    return tuple(tuple(f.attname for f in m._meta.concrete_fields) for m in (Session, Project))


@functools.cache
def _query(alias: str, vendor: str, column: str) -> tuple[str, Any, list[tuple[int, Any, list[Any]]]]:
    """(SQL, the filtered field, [(column index, its Col, converters)]) for a connection and column."""
    connection, quote = connections[alias], connections[alias].ops.quote_name
    meta, project_meta = Session._meta, Project._meta
    columns, converters = [], []
    for table, fields in (("s", meta.concrete_fields), ("p", project_meta.concrete_fields)):
        for f in fields:
            col = f.get_col(table)
            if found := connection.ops.get_db_converters(col) + col.get_db_converters(connection):
                converters.append((len(columns), col, found))
            columns.append(f"{table}.{quote(f.column)}")
    field = meta.pk if column == "pk" else meta.get_field(column)
    on = f"p.{quote(project_meta.pk.column)} = s.{quote(meta.get_field('project').column)}"
    tables = f"{quote(meta.db_table)} s LEFT OUTER JOIN {quote(project_meta.db_table)} p ON {on}"
    sql = f"SELECT {', '.join(columns)} FROM {tables} WHERE s.{quote(field.column)} = %s LIMIT 1"  # noqa: S608
    return sql, field, converters
