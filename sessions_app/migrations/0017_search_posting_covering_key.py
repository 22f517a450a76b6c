"""The postings' key carries the weight, and the planner knows how common each term is (issue #17).

Both on PostgreSQL only; Django's model (``CompositePrimaryKey("session", "term")``) is unchanged.
Measured at 100,000 sessions (18.5 million postings), 100 two-word searches in-process, page of
10 (docs/benchmarks.md, "Two-word search at 100,000: the key carries the weight"):

- ``PRIMARY KEY (session_id, term) INCLUDE (weight)``: the threshold algorithm's ~800
  (session, term) probes a search read the weight from the key alone (an index-only scan), not
  from the table's page as well: probes 9.8 -> 7.3 ms a search. The key grows 714 -> 874 MB;
  building 10,000 sessions from empty ran at 965-1,028/s with it against 978-1,021/s without.
- ``term`` statistics target 1000 (of 100): the most-common-values list held 100 terms, but 122
  terms are held by 90,000 sessions or more, so a search on another was planned for 2,800 postings instead of
  100,000 and its capped count hashed all of them (22 ms) instead of probing 39 (0.5 ms). The
  capped count fell 4.9 -> 2.5 ms a search and the 90th percentile 44 -> 28 ms.

Rebuilding the key at 18.5 million postings took ~10 s, holding the table: hence no timeout.
"""

from django.db import migrations

TABLE = "sessions_app_searchposting"


def _key_name(schema_editor) -> str:  # noqa: ANN001 - Django's migration signature
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [TABLE]
        )
        return cursor.fetchone()[0]


def _set_key(schema_editor, include: str) -> None:  # noqa: ANN001
    name = schema_editor.quote_name(_key_name(schema_editor))
    schema_editor.execute("SET LOCAL statement_timeout = 0")
    schema_editor.execute(
        f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}, "
        f"ADD CONSTRAINT {name} PRIMARY KEY (session_id, term){include}"
    )


def forwards(apps, schema_editor) -> None:  # noqa: ANN001
    if schema_editor.connection.vendor != "postgresql":
        return
    _set_key(schema_editor, " INCLUDE (weight)")
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN term SET STATISTICS 1000")
    schema_editor.execute(f"ANALYZE {TABLE}")


def backwards(apps, schema_editor) -> None:  # noqa: ANN001
    if schema_editor.connection.vendor != "postgresql":
        return
    _set_key(schema_editor, "")
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN term SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0016_search_document_key"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
