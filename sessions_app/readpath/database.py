"""The database layer: outage-aware calls, and one session row by a unique column, compiled once.

``call(query)`` runs any query through the database breaker. Only an outage counts: a
connection refused or reset, a timeout, ``OperationalError`` or ``InterfaceError``. Then the
breaker opens, the broken connection is closed and ``DOWN`` is returned. A data error
(``DataError``, ``IntegrityError``, anything else the database answered with) is raised to
the caller: the database is up, only that one read fails.

``session_by(column, value)``: one session row (with its project) by a unique column.

Private ORM internals, and why they are kept: the compiler's ``select``, ``col_count``,
``klass_info`` and ``get_converters`` (undocumented) tell where each model's columns are and
how to convert them. Measured at the API level (``bench/readpath.py --api``: GET
/api/sessions/<id> through Django's test client, cache off), the compiled, prepared query
buys more than 20% over the plain queryset (figures in docs/benchmarks.md). If a Django
upgrade changes them, ``_part`` raises at the first read; ``ANNORIS_COMPILED_READS = False``
switches to the plain ORM queryset.

The read path's database layer used to run
``Session.objects.select_related("project").filter(pk=sid).first()`` on every read. On a
primary-key lookup that costs more than the query itself (issue #4 benchmark, PostgreSQL):
building and compiling the queryset ~480 µs (``.first()`` also adds an ORDER BY from
``Meta.ordering``), and the ORM iterator ~290 µs, against a ~150 µs query.

Here the ORM still writes the SQL, once per database connection object (so once per thread
and alias): ``query.get_compiler(...).as_sql()`` of the same queryset without the ordering,
which is moot on a unique column. What is kept is the SQL, the one parameter's field (its
``get_db_prep_value`` turns an id into a ``uuid`` on PostgreSQL and 32 hex characters on
SQLite), the converters the compiler would apply (``connection.ops.get_db_converters`` +
the fields' ``from_db_value``: SQLite's char(32) ids and text datetimes), and where each
model's columns are in the row. A read then is one ``connection.cursor()`` execute (Django's
wrapper: errors still become ``DatabaseError``, DEBUG still records the query) and
``Model.from_db`` for the session and its project, exactly as the ORM builds them.

On PostgreSQL the statement is also prepared, by SQL (``PREPARE`` once per server session,
then ``EXECUTE name(%s)`` through the same Django cursor): PostgreSQL otherwise parses and
plans the ~900-character join on every read, ~190 µs of a ~600 µs read (measured: 590 µs
-> 400 µs per query). Why not psycopg's own prepared statements: Django opens connections
with ``prepare_threshold=None`` and client-side binding, and ``server_side_binding`` changes
SQL semantics for every query in the project. A prepared statement lives in the server
session, which a transaction-pooling pgbouncer does not keep from one statement to the next:

* it is only used outside ``atomic`` blocks (in autocommit a failed ``EXECUTE`` spoils no
  transaction, and the read is retried at once with the plain SQL);
* a "prepared statement does not exist / already exists" error switches it off for the
  process, with one warning, and the plain SQL is used from then on;
* "cached plan must not change result type" (a migration changed a column under a running
  process) deallocates it and reads with the plain SQL; the next read prepares it again;
* ``DISABLE_SERVER_SIDE_CURSORS`` on the database (Django's own pgbouncer switch) or the
  setting ``ANNORIS_PREPARED_READS = False`` switch it off from the start.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

from sessions_app.models import Session
from sessions_app.readpath import state as _state

logger = logging.getLogger("annoris.readpath.database")

DOWN: Any = object()  # sentinel: the database layer could not answer
OUTAGES = (OperationalError, InterfaceError)  # what opens the breaker; every other error is data
T = TypeVar("T")


def call(query: Callable[[], T]) -> T:
    """Run ``query`` through the database breaker: DOWN when it is open or the database is out.

    A data error is raised as it is (the database answered, so the breaker closes).
    """
    breaker = _state.STATE.database_breaker
    if not breaker.allow():
        return DOWN
    try:
        result = query()
    except OUTAGES as exc:
        breaker.record_failure(exc)
        _reset_connection()
        return DOWN
    except DatabaseError:
        breaker.record_success()
        raise
    breaker.record_success()
    return result


def available() -> bool:
    """Is the database up as far as this process knows (its breaker closed)? Makes no call."""
    return _state.STATE.database_breaker.state == "closed"


def _reset_connection() -> None:
    """Drop the broken connection so the next try opens a new one (not inside a transaction)."""
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        pass  # it was dead anyway


# A value per lookup column to compile with; it is replaced by the caller's value on each read.
LOOKUPS: dict[str, Any] = {"pk": uuid.UUID(int=0), "github_path": ""}


@dataclass(frozen=True)
class _Part:
    """Where one model's columns are in the row, in ``concrete_fields`` order (for ``from_db``)."""

    model: type[Model]
    start: int
    end: int
    attnames: tuple[str, ...]
    pk_index: int


@dataclass(frozen=True)
class _Compiled:
    sql: str
    field: Field
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]
    session: _Part
    project: _Part | None
    set_project: Callable[[Model, Model | None], None]
    prepare: str | None  # PostgreSQL: "PREPARE name AS ..." and "EXECUTE name(%s)"
    execute: str | None


@dataclass
class _PerConnection:
    """Per Django connection object: compiled lookups, and what is prepared on which session."""

    compiled: dict[str, _Compiled] = field(default_factory=dict)
    server_session: Any = None  # the DB-API connection the statements below were prepared on
    prepared: set[str] = field(default_factory=set)


_LOST_STATEMENT = {"26000", "42P05"}  # invalid_sql_statement_name, duplicate_prepared_statement
_STALE_PLAN = "0A000"  # "cached plan must not change result type"


def session_by(column: str, value: Any, *, using: str = DEFAULT_DB_ALIAS) -> Session | None:
    """The session whose ``column`` (a key of LOOKUPS) equals ``value``, its project loaded; or None.

    Deleted (soft-deleted) rows are returned too: the read path decides what they mean.
    Raises DatabaseError like any query.
    """
    if not settings.ANNORIS_COMPILED_READS:  # the plain ORM (a Django upgrade broke the layout?)
        found = list(Session.objects.using(using).select_related("project").filter(**{column: value})[:1])
        return found[0] if found else None
    connection = connections[using]
    # Keyed by the connection object (one per thread and alias): converters are bound to its ops.
    states = _state.STATE.row_queries
    state = states.get(connection) or states.setdefault(connection, _PerConnection())
    compiled = state.compiled.get(column) or state.compiled.setdefault(column, _compile(connection, column))
    param = compiled.field.get_db_prep_value(value, connection, prepared=False)
    with connection.cursor() as cursor:
        if not (
            _may_prepare(connection, compiled) and _run_prepared(cursor, connection, state, compiled, param)
        ):
            cursor.execute(compiled.sql, (param,))
        row = cursor.fetchone()
    return None if row is None else _build(compiled, row, connection, using)


def _may_prepare(connection: BaseDatabaseWrapper, compiled: _Compiled) -> bool:
    return (
        compiled.prepare is not None
        and not _state.STATE.prepared_reads_broken
        and not connection.in_atomic_block  # a failed EXECUTE would abort the caller's transaction
        and settings.ANNORIS_PREPARED_READS
        and not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    )


def _run_prepared(
    cursor: Any, connection: BaseDatabaseWrapper, state: _PerConnection, compiled: _Compiled, param: Any
) -> bool:
    """EXECUTE the prepared statement (PREPARE it first on a new server session); False: not run."""
    if state.server_session is not connection.connection:  # reconnected: nothing prepared there
        state.server_session, state.prepared = connection.connection, set()
    try:
        if compiled.prepare not in state.prepared:
            _prepare(cursor, compiled)
            state.prepared.add(compiled.prepare)
        cursor.execute(compiled.execute, (param,))
    except DatabaseError as exc:
        sqlstate = getattr(exc.__cause__, "sqlstate", None)
        if sqlstate == _STALE_PLAN:  # a migration changed a column type: prepare again next time
            cursor.execute(f"DEALLOCATE {compiled.prepare.split()[1]}")
            state.prepared.discard(compiled.prepare)
            return False
        if sqlstate not in _LOST_STATEMENT:
            raise  # the database failing: the read path's breaker deals with it
        _state.STATE.prepared_reads_broken = True
        logger.warning(
            "prepared session reads switched off (a pooler between us and PostgreSQL?): %s; "
            "set ANNORIS_PREPARED_READS = False or DISABLE_SERVER_SIDE_CURSORS to skip them",
            exc,
        )
        return False
    return True


def _prepare(cursor: Any, compiled: _Compiled) -> None:
    """PREPARE, unless this server session has it already (prepared before a state reset)."""
    cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [compiled.prepare.split()[1]])
    if cursor.fetchone() is None:
        cursor.execute(compiled.prepare)


def _build(compiled: _Compiled, row: Any, connection: BaseDatabaseWrapper, using: str) -> Session:
    """Model instances from one row, as the ORM's iterator and RelatedPopulator build them."""
    if compiled.converters:
        row = list(row)
        for pos, functions, expression in compiled.converters:
            value = row[pos]
            for convert in functions:
                value = convert(value, expression, connection)
            row[pos] = value
    part = compiled.session
    session = Session.from_db(using, part.attnames, row[part.start : part.end])
    project = None
    if (part := compiled.project) is not None and row[part.start + part.pk_index] is not None:
        project = part.model.from_db(using, part.attnames, row[part.start : part.end])
    compiled.set_project(session, project)  # None too: no lazy query for a session without one
    return session  # type: ignore[return-value]


def _compile(connection: BaseDatabaseWrapper, column: str) -> _Compiled:
    """Let the ORM write the query once; keep its SQL, parameter field, converters and layout."""
    queryset = Session.objects.select_related("project").filter(**{column: LOOKUPS[column]}).order_by()
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    if len(params) != 1:
        raise RuntimeError(f"expected one parameter in the session lookup by {column}, got {params!r}")
    selected = [s[0] for s in compiler.select[: compiler.col_count]]
    converters = tuple((i, tuple(c), e) for i, (c, e) in compiler.get_converters(selected).items())
    klass_info = compiler.klass_info
    related = klass_info["related_klass_infos"]
    fk = Session._meta.get_field("project")
    prepare = execute = None
    if connection.vendor == "postgresql":
        if sql.count("%") != 1:  # exactly the one placeholder becomes $1
            raise RuntimeError(f"cannot prepare the session lookup by {column}: {sql}")
        name = f"annoris_session_by_{column}"
        prepare, execute = f"PREPARE {name} AS {sql.replace('%s', '$1')}", f"EXECUTE {name}(%s)"
    return _Compiled(
        sql=sql,
        field=Session._meta.pk if column == "pk" else Session._meta.get_field(column),
        converters=converters,
        session=_part(Session, klass_info["select_fields"], selected),
        project=_part(related[0]["model"], related[0]["select_fields"], selected) if related else None,
        set_project=fk.set_cached_value,
        prepare=prepare,
        execute=execute,
    )


def _part(model: type[Model], select_fields: list[int], selected: list[Any]) -> _Part:
    attnames = tuple(selected[i].target.attname for i in select_fields)
    expected = tuple(f.attname for f in model._meta.concrete_fields)
    contiguous = list(select_fields) == list(range(select_fields[0], select_fields[-1] + 1))
    if attnames != expected or not contiguous:
        raise RuntimeError(f"unexpected column layout for {model.__name__}: {attnames}")
    return _Part(
        model, select_fields[0], select_fields[-1] + 1, attnames, attnames.index(model._meta.pk.attname)
    )
